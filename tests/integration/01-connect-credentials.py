# With allow_anonymous true and no password_file, a CONNECT carrying a
# username (and password) is accepted like an anonymous one (mosquitto
# semantics); a username without password is valid [MQTT-3.1.2-22 allows it].
from mqttraw import *

for kw in (dict(username="user"), dict(username="user", password=b"\x00\xffbinary"),
           dict(username="", password="")):
    c = Conn(); c.connect("cred-%d" % len(kw), **kw)
    c.send(PINGREQ_BYTES); c.expect(PINGRESP)
    print("ok [3.1.3.4/3.1.3.5] CONNECT with %r accepted" % sorted(kw))
