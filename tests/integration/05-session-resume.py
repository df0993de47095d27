# Clean session 0: the session (subscriptions) survives a disconnect; on
# reconnect CONNACK has session present 1 [MQTT-3.2.2-2], subscriptions still
# deliver [MQTT-3.1.2-4]. A fresh persistent id gets session present 0
# [MQTT-3.2.2-3].
from mqttraw import *

c = Conn(); sp = c.connect("sess-resume", clean=False)
check(sp == 0, "MQTT-3.2.2-3", "new persistent session: session present 0")
c.subscribe(1, [("sr/t", 1)])
c.send(DISCONNECT_BYTES); c.close()
c = Conn(); sp = c.connect("sess-resume", clean=False)
check(sp == 1, "MQTT-3.2.2-2", "resumed session: session present 1")
p = Conn(); p.connect("sr-pub")
p.send(publish("sr/t", b"after", qos=1, pid=1)); p.expect(PUBACK)
m = c.expect(PUBLISH, stmt="MQTT-3.1.2-4").publish()
check(m["payload"] == b"after", "MQTT-3.1.2-4", "subscription survived the reconnect")
