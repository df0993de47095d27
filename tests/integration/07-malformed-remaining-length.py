# Remaining Length is at most 4 bytes (2.2.3): a 5th continuation byte is
# malformed and closes the connection; a 4-byte non-minimal encoding whose
# value exceeds the data is just incomplete. Checked before and after CONNECT.
from mqttraw import *

five = bytes([0x30, 0xff, 0xff, 0xff, 0xff, 0x01])
violation(five, "MQTT-2.2.3", "PUBLISH with 5-byte remaining length")
violation(bytes([0x10, 0x80, 0x80, 0x80, 0x80, 0x01]), "MQTT-2.2.3",
          "CONNECT with 5-byte remaining length", pre_connect=False)
# Remaining length shorter than the content it announces: topic length 10 in
# a 4-byte body.
violation(bytes([0x30, 0x04, 0x00, 0x0a, 0x61, 0x62]), "MQTT-2.2.3",
          "PUBLISH topic length beyond remaining length")
# CONNECT whose body ends inside the client id.
bad = bytearray(connect("truncated-id")); bad[1] -= 3
violation(bytes(bad[:-3]), "MQTT-3.1.3", "CONNECT with client id past the end", pre_connect=False)
