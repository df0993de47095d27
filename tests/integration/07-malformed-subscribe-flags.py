# SUBSCRIBE fixed-header flags must be 0010 [MQTT-3.8.1-1]; UNSUBSCRIBE too
# [MQTT-3.10.1-1].
from mqttraw import *

for f in (0x0, 0x3, 0xa):
    violation(subscribe(1, [("a/b", 0)], flags=f), "MQTT-3.8.1-1", "SUBSCRIBE flags %#x" % f)
violation(unsubscribe(1, ["a/b"], flags=0x0), "MQTT-3.10.1-1", "UNSUBSCRIBE flags 0x0")
