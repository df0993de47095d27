# UNSUBSCRIBE stops delivery [MQTT-3.10.4-2]; UNSUBACK has the packet id
# [MQTT-3.10.4-4] and is sent even when nothing matched [MQTT-3.10.4-5].
import socket
from mqttraw import *

c = Conn(); c.connect("unsub")
c.subscribe(1, [("u/a", 1), ("u/b", 1)])
p = Conn(); p.connect("unsub-pub")
c.send(unsubscribe(0x0102, ["u/a"]))
r = c.expect(UNSUBACK, stmt="MQTT-3.10.4-4")
check(r.pid() == 0x0102 and r.flags == 0 and len(r.body) == 2, "MQTT-3.10.4-4",
      "UNSUBACK with the same packet id")
p.send(publish("u/a", b"gone", qos=0))
p.send(publish("u/b", b"kept", qos=0))
m = c.expect(PUBLISH, stmt="MQTT-3.10.4-2").publish()
check(m["topic"] == "u/b", "MQTT-3.10.4-2", "no delivery on the unsubscribed filter (got %r)" % m["topic"])
c.send(unsubscribe(7, ["never/subscribed", "u/+"]))
r = c.expect(UNSUBACK, stmt="MQTT-3.10.4-5")
check(r.pid() == 7, "MQTT-3.10.4-5", "UNSUBACK even when no subscription matched")
# Unsubscribe matches filters literally: "u/+" did not remove "u/b" [MQTT-3.10.4-1].
p.send(publish("u/b", b"still", qos=0))
m = c.expect(PUBLISH, stmt="MQTT-3.10.4-1").publish()
check(m["payload"] == b"still", "MQTT-3.10.4-1", "UNSUBSCRIBE compares filters character by character")
# UNSUBSCRIBE with bad flags [MQTT-3.10.1-1] and with no filter [MQTT-3.10.3-2].
violation(unsubscribe(8, ["u/b"], flags=0), "MQTT-3.10.1-1", "UNSUBSCRIBE flags 0")
violation(packet(UNSUBSCRIBE, 2, b"\x00\x09"), "MQTT-3.10.3-2", "UNSUBSCRIBE without filters")
