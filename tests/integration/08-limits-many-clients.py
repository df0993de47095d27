# 300 concurrent clients, each subscribed to its own topic and to a shared
# one: a fan-out QoS 1 message reaches all 300, and per-client messages reach
# only their owner (issue 2; checks the engine under many sockets).
import resource
from mqttraw import *

N = 300
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * N)), hard))
cs = []
for i in range(N):
    c = Conn(); c.connect("many-%d" % i)
    c.send(subscribe(1, [("many/all", 1), ("many/one/%d" % i, 0)]))
    cs.append(c)
for c in cs:
    c.expect(SUBACK, stmt="many-clients")
p = Conn(); p.connect("many-pub")
p.send(publish("many/all", b"fanout", qos=1, pid=1)); p.expect(PUBACK)
for i in range(0, N, 7):
    p.send(publish("many/one/%d" % i, b"only-%d" % i))
for i, c in enumerate(cs):
    m = c.expect(PUBLISH, stmt="many-clients", what="fan-out to client %d" % i).publish()
    if m["payload"] != b"fanout":
        fail("client %d got %r before the fan-out" % (i, m))
    c.send(ack(PUBACK, m["pid"]))
    if i % 7 == 0:
        m = c.expect(PUBLISH, stmt="many-clients", what="own message %d" % i).publish()
        check(m["payload"] == b"only-%d" % i, "MQTT-4.7", "client %d got its own topic only" % i)
print("ok [many-clients] QoS 1 fan-out reached all %d clients" % N)
for c in cs:
    c.send(PINGREQ_BYTES)
for c in cs:
    c.expect(PINGRESP, stmt="many-clients", what="nothing else queued")
