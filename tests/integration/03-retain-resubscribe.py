# Re-subscribing to an existing filter re-sends matching retained messages
# [MQTT-3.8.4-3]; resuming a persistent session does not (retained messages
# are sent when a subscription is made [MQTT-3.3.1-6], not on reconnect).
import socket
from mqttraw import *

p = Conn(); p.connect("rs-pub")
p.send(publish("rs/t", b"state", qos=1, pid=1, retain=True)); p.expect(PUBACK)
c = Conn(); c.connect("rs-sub", clean=False)
c.subscribe(1, [("rs/#", 0)])
m = c.expect(PUBLISH, stmt="MQTT-3.3.1-6").publish()
check(m["retain"] and m["payload"] == b"state", "MQTT-3.3.1-6", "retained on first subscribe")
c.subscribe(2, [("rs/#", 0)])
m = c.expect(PUBLISH, stmt="MQTT-3.8.4-3", what="retained re-sent on re-subscribe").publish()
check(m["retain"] and m["payload"] == b"state", "MQTT-3.8.4-3", "retained re-sent on re-subscribe")
c.send(DISCONNECT_BYTES); c.close()
c = Conn(); sp = c.connect("rs-sub", clean=False)
check(sp == 1, "MQTT-3.2.2-2", "session present")
try:
    fail("[MQTT-3.3.1-6] retained message re-sent on session resume: %r" % c.recv(1.0))
except socket.timeout:
    print("ok [MQTT-3.3.1-6] no retained resend on plain reconnect")
