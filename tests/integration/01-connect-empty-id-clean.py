# Zero-length client id with clean session 1 is accepted and gets a unique
# id [MQTT-3.1.3-6]; two such clients coexist (no takeover between them).
from mqttraw import *

a = Conn(); sp = a.connect("", clean=True)
check(sp == 0, "MQTT-3.1.3-6", "empty client id with clean session accepted")
b = Conn(); b.connect("", clean=True)
a.subscribe(1, [("empty/id", 0)])
b.send(publish("empty/id", b"hello"))
m = a.expect(PUBLISH, stmt="MQTT-3.1.3-6", what="first anonymous client still connected").publish()
check(m["payload"] == b"hello", "MQTT-3.1.3-6", "two empty-id clients are distinct sessions")
