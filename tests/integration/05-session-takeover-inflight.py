# Takeover of a persistent session with an unacknowledged QoS 1 delivery:
# the new connection gets it again with DUP 1 and the same packet id
# [MQTT-3.1.4-2, MQTT-4.4.0-1, MQTT-3.3.1-1].
from mqttraw import *

a = Conn(); a.connect("tki", clean=False); a.subscribe(1, [("tki/t", 1)])
p = Conn(); p.connect("tki-pub")
p.send(publish("tki/t", b"pending", qos=1, pid=1)); p.expect(PUBACK)
m1 = a.expect(PUBLISH, stmt="MQTT-4.4.0-1").publish()      # not acknowledged
b = Conn(); sp = b.connect("tki", clean=False)
check(sp == 1, "MQTT-3.2.2-2", "takeover: session present 1")
m2 = b.expect(PUBLISH, stmt="MQTT-4.4.0-1", what="redelivery after takeover").publish()
check(m2["payload"] == b"pending" and m2["pid"] == m1["pid"] and m2["dup"], "MQTT-4.4.0-1",
      "unacknowledged QoS 1 re-sent on the new connection with DUP 1, same id (%r)" % m2)
b.send(ack(PUBACK, m2["pid"]))
b.send(PINGREQ_BYTES); b.expect(PINGRESP, stmt="MQTT-4.4.0-1", what="(sent once only)")
