# The server acknowledges in order: PUBACKs in the order the QoS 1 PUBLISHes
# were received, PUBRECs likewise for QoS 2 [MQTT-4.6.0-2, MQTT-4.6.0-3],
# PUBCOMPs in PUBREL order [MQTT-4.6.0-4]. 100 of each, pipelined.
from mqttraw import *

c = Conn(); c.connect("ack-order")
ids = [(i * 7919) % 65535 + 1 for i in range(100)]       # scattered, non-zero
c.send(b"".join(publish("ao/1", b"x", qos=1, pid=i) for i in ids))
got = [c.expect(PUBACK).pid() for _ in ids]
check(got == ids, "MQTT-4.6.0-2", "PUBACKs in PUBLISH order")
c.send(b"".join(publish("ao/2", b"x", qos=2, pid=i) for i in ids))
got = [c.expect(PUBREC).pid() for _ in ids]
check(got == ids, "MQTT-4.6.0-3", "PUBRECs in PUBLISH order")
c.send(b"".join(ack(PUBREL, i) for i in reversed(ids)))
got = [c.expect(PUBCOMP).pid() for _ in ids]
check(got == list(reversed(ids)), "MQTT-4.6.0-4", "PUBCOMPs in PUBREL order")
