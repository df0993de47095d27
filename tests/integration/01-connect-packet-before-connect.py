# The first packet from a client must be CONNECT [MQTT-3.1.0-1].
from mqttraw import *

cases = [
    ("PINGREQ", PINGREQ_BYTES),
    ("SUBSCRIBE", subscribe(1, [("a/b", 0)])),
    ("PUBLISH", publish("a/b", b"x")),
    ("DISCONNECT", DISCONNECT_BYTES),
]
for name, data in cases:
    violation(data, "MQTT-3.1.0-1", "%s before CONNECT" % name, pre_connect=False)
