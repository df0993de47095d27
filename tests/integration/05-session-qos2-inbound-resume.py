# QoS 2 from a persistent publisher across a reconnect is still exactly once
# [MQTT-4.3.3-2, MQTT-4.4.0-1]:
#  a) PUBREC received, then connection lost: after reconnect the client sends
#     PUBREL; the broker answers PUBCOMP.
#  b) PUBREC not seen by the client: it re-sends the PUBLISH with DUP 1 and
#     the same id; the broker must not deliver it a second time.
# The subscriber gets each message exactly once.
import socket
from mqttraw import *

s = Conn(); s.connect("q2r-sub"); s.subscribe(1, [("q2r/#", 2)])
p = Conn(); p.connect("q2r-pub", clean=False)
p.send(publish("q2r/a", b"A", qos=2, pid=11)); p.expect(PUBREC)
p.send(publish("q2r/b", b"B", qos=2, pid=12)); p.expect(PUBREC)
p.close()
p = Conn(); sp = p.connect("q2r-pub", clean=False)
check(sp == 1, "MQTT-3.2.2-2", "publisher session present 1")
p.send(ack(PUBREL, 11))
c = p.expect(PUBCOMP, stmt="MQTT-4.4.0-1", what="(PUBREL after reconnect)")
check(c.pid() == 11, "MQTT-4.4.0-1", "PUBCOMP for the PUBREL re-sent after reconnect")
p.send(publish("q2r/b", b"B", qos=2, pid=12, dup=True))
r = p.expect(PUBREC, stmt="MQTT-4.3.3-2", what="(for the re-sent PUBLISH)")
check(r.pid() == 12, "MQTT-4.3.3-2", "re-sent PUBLISH acknowledged with PUBREC")
p.send(ack(PUBREL, 12)); p.expect(PUBCOMP)
got = []
while True:
    try:
        k = s.recv(1.5)
    except socket.timeout:
        break
    if k.type == PUBLISH:
        m = k.publish(); got.append(m["payload"])
        s.send(ack(PUBREC, m["pid"]))
    elif k.type == PUBREL:
        s.send(ack(PUBCOMP, k.pid()))
check(sorted(got) == [b"A", b"B"], "MQTT-4.3.3-2", "each QoS 2 message delivered exactly once (got %r)" % got)
