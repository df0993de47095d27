# A PUBLISH with both QoS bits set (QoS 3) is malformed: close [MQTT-3.3.1-4].
from mqttraw import *

bad = bytearray(publish("m/q3", b"x", qos=1, pid=1)); bad[0] |= 0x06
violation(bytes(bad), "MQTT-3.3.1-4", "PUBLISH QoS 3")
