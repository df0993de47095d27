# mosquitto-deviates: mosquitto 2.0.11 accepts PINGREQ with a body and PUBACK with trailing bytes
# Fixed-length packets with the wrong remaining length are malformed and
# close the connection: PINGREQ has no variable header or payload (3.12.2,
# 3.12.3); PUBACK/PUBREL have exactly a 2-byte packet id (3.4.1, 3.6.1).
from mqttraw import *

cases = [
    ("3.12.1", "PINGREQ with 1 byte body", bytes([0xC0, 0x01, 0x00])),
    ("3.4.1", "PUBACK with 1 byte body", packet(PUBACK, 0, b"\x00")),
    ("3.4.1", "PUBACK with 3 byte body", packet(PUBACK, 0, b"\x00\x01\x00")),
    ("3.6.1", "PUBREL with 0 byte body", packet(PUBREL, 2, b"")),
]
for stmt, what, data in cases:
    violation(data, stmt, what)
