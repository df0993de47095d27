# Zero-length client id with clean session 0: CONNACK 0x02 then close [MQTT-3.1.3-8].
from mqttraw import *

c = Conn()
c.send(connect("", clean=False))
got = expect_closed(c, "MQTT-3.1.3-8", "empty client id, clean session 0", allow=(CONNACK,))
check(len(got) == 1 and got[0].body == b"\x00\x02", "MQTT-3.1.3-8",
      "CONNACK rc 2 (identifier rejected), got %r" % got)
broker_alive()
