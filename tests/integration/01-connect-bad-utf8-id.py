# Ill-formed UTF-8 [MQTT-1.5.3-1] or U+0000 [MQTT-1.5.3-2] in the client id
# closes the connection (a CONNACK with a refusal code before it is allowed).
from mqttraw import *

cases = [
    ("invalid byte 0xff", b"bad\xffid"),
    ("truncated sequence", b"bad\xc3"),
    ("overlong '/'", b"a\xc0\xafb"),
    ("UTF-16 surrogate U+D800", b"a\xed\xa0\x80b"),
    ("U+0000", b"a\x00b"),
]
for what, cid in cases:
    c = Conn()
    c.send(connect(cid))
    got = expect_closed(c, "MQTT-1.5.3-1/2", "client id with " + what, allow=(CONNACK,))
    if got:
        check(got[0].body[1] != 0, "MQTT-1.5.3-1/2", "no CONNACK 0 for client id with " + what)
    c.close()
broker_alive()
