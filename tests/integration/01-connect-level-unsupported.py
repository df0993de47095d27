# Unsupported protocol levels: CONNACK 0x01 then close [MQTT-3.1.2-2].
from mqttraw import *

for level in (2, 6, 0x7f, 0xff):
    c = Conn()
    c.send(connect("lvl-%d" % level, level=level))
    got = expect_closed(c, "MQTT-3.1.2-2", "protocol level %d" % level, allow=(CONNACK,))
    check(len(got) == 1 and got[0].body == b"\x00\x01", "MQTT-3.1.2-2",
          "protocol level %d answered with CONNACK rc 1 (got %r)" % (level, got))
    c.close()
broker_alive()
