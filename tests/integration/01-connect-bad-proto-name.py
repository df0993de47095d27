# Protocol name other than "MQTT" (level 4): close without CONNACK [MQTT-3.1.2-1].
from mqttraw import *

for name in ("MQTX", "mqtt", "MQTT\x00"):
    c = Conn()
    c.send(connect("pn", proto_name=name, level=4))
    expect_closed(c, "MQTT-3.1.2-1", "protocol name %r level 4" % name)
    c.close()
# "MQIsdp" names MQTT 3.1, which is level 3: with level 4 the broker may
# answer CONNACK 1 (unacceptable protocol version) before closing.
c = Conn()
c.send(connect("pn", proto_name="MQIsdp", level=4))
got = expect_closed(c, "MQTT-3.1.2-1", "protocol name 'MQIsdp' level 4", allow=(CONNACK,))
check(all(p.body[1] == 1 for p in got), "MQTT-3.1.2-2", "only CONNACK rc 1 allowed (got %r)" % got)
broker_alive()
