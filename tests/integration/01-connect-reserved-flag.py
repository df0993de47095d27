# CONNECT flags bit 0 is reserved and must be 0, else disconnect [MQTT-3.1.2-3].
from mqttraw import *

violation(connect("rsv", flags=0x03), "MQTT-3.1.2-3", "CONNECT reserved flag set", pre_connect=False)
# CONNECT fixed-header flags must be 0 [MQTT-2.2.2-2].
bad = bytearray(connect("rsv2")); bad[0] |= 0x01
violation(bytes(bad), "MQTT-2.2.2-2", "CONNECT fixed-header flags 0x1", pre_connect=False)
