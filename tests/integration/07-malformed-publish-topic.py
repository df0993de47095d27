# PUBLISH topic names: no wildcards [MQTT-3.3.2-2], at least one character
# [MQTT-4.7.3-1], well-formed UTF-8 without U+0000 [MQTT-1.5.3-1/2].
# A subscriber on '#' must receive none of them.
import socket
from mqttraw import *

watch = Conn(); watch.connect("topic-watch"); watch.subscribe(1, [("#", 0)])
for what, topic in [("'+' wildcard", "a/+/b"), ("'#' wildcard", "a/#"), ("lone '#'", "#"),
                    ("empty topic", ""), ("invalid UTF-8", b"a/\xff"), ("U+0000", b"a\x00b"),
                    ("surrogate", b"a\xed\xbf\xbf")]:
    violation(publish(topic, b"x"), "MQTT-3.3.2-2/4.7.3-1/1.5.3", "PUBLISH topic with " + what)
try:
    m = watch.recv(1.0)
    if m.type == PUBLISH and m.publish()["topic"] == "alive/probe":
        m = watch.recv(1.0)
    while m.type == PUBLISH and m.publish()["topic"] == "alive/probe":
        m = watch.recv(1.0)
    fail("[MQTT-3.3.2-2] an invalid PUBLISH was delivered: %r" % m)
except socket.timeout:
    print("ok [MQTT-3.3.2-2] no invalid PUBLISH reached a subscriber")
