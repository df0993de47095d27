# Retained messages on '$' topics are not sent to '#' or '+/...' subscribers
# [MQTT-4.7.2-1] (the retained-lookup path, distinct from live matching);
# A retained parent 'rd' matches 'rd/#' [MQTT-4.7.1-2]. (Whether '$app/#'
# then gets '$app/state' is not a spec matter: see 02-pubsub-dollar-app-topic.py.)
import socket
from mqttraw import *

p = Conn(); p.connect("rd-pub")
for t in ("$app/state", "rd", "rd/a"):
    p.send(publish(t, t.encode(), qos=1, retain=True, pid=1)); p.expect(PUBACK)


def retained(flt, wait=1.0):
    c = Conn(); c.connect("rd-%d" % abs(hash(flt)))
    c.subscribe(1, [(flt, 0)])
    got = []
    while True:
        try:
            m = c.recv(wait).publish()
        except socket.timeout:
            c.close()
            return sorted(m["topic"] for m in got)
        if not m["topic"].startswith("$SYS"):
            got.append(m)


check(retained("#") == ["rd", "rd/a"], "MQTT-4.7.2-1", "'#' gets no retained $ topic")
check(retained("+/state") == [], "MQTT-4.7.2-1", "'+/state' gets no retained $ topic")
check(retained("rd/#") == ["rd", "rd/a"], "MQTT-4.7.1-2", "'rd/#' gets retained parent 'rd' too")
