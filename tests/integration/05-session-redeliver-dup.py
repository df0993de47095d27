# An unacknowledged QoS 1 PUBLISH, and a QoS 2 PUBLISH without PUBREC, are
# re-sent with DUP=1 and the same packet id when the persistent session
# reconnects [MQTT-4.4.0-1, MQTT-3.3.1-1]; a QoS 2 message that got PUBREC
# is continued with PUBREL, not re-sent [MQTT-4.4.0-1].
from mqttraw import *

c = Conn(); c.connect("sd-sub", clean=False)
c.subscribe(1, [("sd/#", 2)])
p = Conn(); p.connect("sd-pub")
p.send(publish("sd/q1", b"one", qos=1, pid=1)); p.expect(PUBACK)
p.send(publish("sd/q2", b"two", qos=2, pid=2)); p.expect(PUBREC); p.send(ack(PUBREL, 2)); p.expect(PUBCOMP)
p.send(publish("sd/q2b", b"three", qos=2, pid=3)); p.expect(PUBREC); p.send(ack(PUBREL, 3)); p.expect(PUBCOMP)
first = {}
for _ in range(3):
    m = c.expect(PUBLISH, stmt="MQTT-4.4.0-1").publish()
    first[m["topic"]] = m
check(not any(m["dup"] for m in first.values()), "MQTT-3.3.1-3", "first delivery has DUP 0")
c.send(ack(PUBREC, first["sd/q2b"]["pid"]))      # acknowledge only the third, half-way
c.expect(PUBREL, stmt="MQTT-4.3.3")
c.close()                                         # no PUBACK / PUBREC / PUBCOMP
c = Conn(); sp = c.connect("sd-sub", clean=False)
check(sp == 1, "MQTT-3.2.2-2", "session present 1")
seen = {}
rel = None
for _ in range(3):
    k = c.recv(5)
    if k.type == PUBLISH:
        m = k.publish(); seen[m["topic"]] = m
    elif k.type == PUBREL:
        rel = k
    else:
        fail("unexpected packet %r" % k)
check(set(seen) == {"sd/q1", "sd/q2"}, "MQTT-4.4.0-1", "unacknowledged QoS 1 and 2 re-sent (got %r)" % list(seen))
for t in ("sd/q1", "sd/q2"):
    check(seen[t]["dup"], "MQTT-3.3.1-1", "%s re-sent with DUP 1" % t)
    check(seen[t]["pid"] == first[t]["pid"] and seen[t]["payload"] == first[t]["payload"],
          "MQTT-4.4.0-1", "%s re-sent with the same packet id and payload" % t)
check(rel is not None and rel.pid() == first["sd/q2b"]["pid"] and rel.flags == 2, "MQTT-4.4.0-1",
      "PUBREL re-sent for the QoS 2 message that had PUBREC")
c.send(ack(PUBACK, seen["sd/q1"]["pid"]))
c.send(ack(PUBREC, seen["sd/q2"]["pid"]))
r = c.expect(PUBREL, stmt="MQTT-4.3.3")
c.send(ack(PUBCOMP, r.pid())); c.send(ack(PUBCOMP, rel.pid()))
c.send(PINGREQ_BYTES); c.expect(PINGRESP, stmt="MQTT-4.4.0-1", what="nothing else re-sent")
