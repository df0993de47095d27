# CONNECT payload must match its flags (3.1.3): will flag set but will
# topic/message missing, username flag set but no username, or bytes left
# over after the last field, are malformed: close, no CONNACK 0.
from mqttraw import *


def raw_connect(flags, payload):
    body = s16("MQTT") + bytes([4, flags]) + b"\x00\x3c" + payload
    return packet(CONNECT, 0, body)


cases = [
    ("will flag, no will topic/message", raw_connect(0x06, s16("cp1"))),
    ("will flag, will topic but no message", raw_connect(0x06, s16("cp2") + s16("w/t"))),
    ("username flag, no username", raw_connect(0x82, s16("cp3"))),
    ("username+password flags, no password", raw_connect(0xC2, s16("cp4") + s16("u"))),
    ("trailing bytes after client id", raw_connect(0x02, s16("cp5") + b"\x00")),
    ("client id length past end", raw_connect(0x02, b"\x00\x10abc")),
]
for what, data in cases:
    got = violation(data, "MQTT-3.1.3", "CONNECT " + what, pre_connect=False, allow=(CONNACK,))
    check(all(p.body[1] != 0 for p in got), "MQTT-3.1.3", "no CONNACK 0 for " + what)
