# Topic filters in SUBSCRIBE/UNSUBSCRIBE must be valid UTF-8 without U+0000
# [MQTT-1.5.3-1, MQTT-1.5.3-2] and non-empty [MQTT-4.7.3-1]; an UNSUBSCRIBE
# with an invalid filter is malformed too.
from mqttraw import *

for what, flt in [("invalid UTF-8", b"a/\xfe"), ("U+0000", b"a/\x00"), ("surrogate", b"\xed\xa0\x80")]:
    violation(subscribe(1, [(flt, 0)]), "MQTT-1.5.3-1/2", "SUBSCRIBE filter with " + what)
    violation(unsubscribe(1, [flt]), "MQTT-1.5.3-1/2", "UNSUBSCRIBE filter with " + what)
violation(unsubscribe(1, [""]), "MQTT-4.7.3-1", "UNSUBSCRIBE with empty filter")
violation(unsubscribe(1, ["a/#/b"]), "MQTT-4.7.1-2", "UNSUBSCRIBE with '#' not last")
