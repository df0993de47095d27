# Control packet types 0 and 15 are reserved/forbidden (2.2.1): close.
from mqttraw import *

violation(bytes([0x00, 0x00]), "MQTT-2.2.1", "packet type 0")
violation(bytes([0xF0, 0x00]), "MQTT-2.2.1", "packet type 15")
violation(bytes([0x00, 0x00]), "MQTT-2.2.1", "packet type 0 before CONNECT", pre_connect=False)
