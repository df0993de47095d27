# Client ids: valid UTF-8 multibyte and ids longer than 23 bytes are allowed
# (a server MAY accept them [MQTT-3.1.3-5]: moat and mosquitto do); a 65535-byte
# id is handled without harm (accepted or refused with CONNACK 2, never a crash).
from mqttraw import *

c = Conn(); c.connect("sensör-ünit-température-世界-0123456789-long-client-identifier")
check(True, "MQTT-3.1.3-5", "multibyte, 60+ byte client id accepted")
c = Conn(); c.send(connect("L" * 65535))
try:
    p = c.recv(5)
    check(p.type == CONNACK and p.body[1] in (0, 2), "MQTT-3.1.3-5", "65535-byte id: CONNACK %r" % p.body)
except Closed:
    print("ok [MQTT-3.1.3-5] 65535-byte id: connection closed")
broker_alive()
