# Takeover of a persistent session keeps the session: the new connection
# gets session present 1 and the subscriptions [MQTT-3.1.4-2, MQTT-3.2.2-2];
# a clean-session takeover discards it [MQTT-3.1.2-6].
from mqttraw import *

a = Conn(); a.connect("tks", clean=False); a.subscribe(1, [("tks/t", 1)])
b = Conn(); sp = b.connect("tks", clean=False)
check(a.wait_closed(5) is not None, "MQTT-3.1.4-2", "old connection closed")
check(sp == 1, "MQTT-3.2.2-2", "takeover of a persistent session: session present 1")
p = Conn(); p.connect("tks-pub")
p.send(publish("tks/t", b"v", qos=1, pid=1)); p.expect(PUBACK)
m = b.expect(PUBLISH, stmt="MQTT-3.1.4-2").publish()
check(m["payload"] == b"v", "MQTT-3.1.4-2", "subscription carried over to the new connection")
b.send(ack(PUBACK, m["pid"]))
c = Conn(); sp = c.connect("tks", clean=True)
check(b.wait_closed(5) is not None and sp == 0, "MQTT-3.1.2-6", "clean takeover: old closed, session present 0")
