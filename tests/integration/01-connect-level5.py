# mosquitto-deviates: mosquitto 2.0 implements MQTT 5 and parses a level-5 CONNECT as MQTT 5
# A 3.1.1 server answers protocol level 5 with CONNACK 0x01 and closes [MQTT-3.1.2-2].
from mqttraw import *

c = Conn()
c.send(connect("lvl-5", level=5))
got = expect_closed(c, "MQTT-3.1.2-2", "protocol level 5", allow=(CONNACK,))
check(len(got) == 1 and got[0].body == b"\x00\x01", "MQTT-3.1.2-2",
      "protocol level 5 answered with CONNACK rc 1 (got %r)" % got)
broker_alive()
