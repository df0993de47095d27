# mosquitto-deviates: mosquitto 2.0.11 accepts PINGREQ/PUBACK/PUBREC/PUBCOMP with non-zero reserved flags
# Reserved fixed-header flags must be as in table 2.2; otherwise the receiver
# MUST close the connection [MQTT-2.2.2-2]. PUBREL must have flags 0010
# [MQTT-3.6.1-1]. (DISCONNECT: see 07-malformed-disconnect.py.)
from mqttraw import *

cases = [
    ("PINGREQ flags 0x1", bytes([0xC1, 0x00])),
    ("PUBACK flags 0x2", packet(PUBACK, 2, b"\x00\x01")),
    ("PUBREC flags 0x1", packet(PUBREC, 1, b"\x00\x01")),
    ("PUBREL flags 0x0", packet(PUBREL, 0, b"\x00\x01")),
    ("PUBCOMP flags 0x8", packet(PUBCOMP, 8, b"\x00\x01")),
]
for what, data in cases:
    violation(data, "MQTT-2.2.2-2", what)
