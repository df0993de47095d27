# mosquitto-deviates: mosquitto 2.0.11 sends 5 more after one PUBACK (9 unacknowledged > max_inflight_messages 5)
# conf: max_inflight_messages 5
# The broker keeps at most max_inflight_messages unacknowledged QoS 1
# PUBLISHes outstanding to a client; the rest wait and flow as acks arrive,
# one new message per ack (issue 2: in-flight window per client); nothing is
# lost and order is kept [MQTT-4.6.0-6].
import socket
from mqttraw import *

WIN, N = 5, 30


def drain(c, secs):
    got = []
    while True:
        try:
            got.append(c.recv(secs).publish())
        except socket.timeout:
            return got


s = Conn(); s.connect("inf-sub"); s.subscribe(1, [("inf/t", 1)])
p = Conn(); p.connect("inf-pub")
for i in range(N):
    p.send(publish("inf/t", b"%d" % i, qos=1, pid=i + 1))
for i in range(N):
    p.expect(PUBACK)
got = drain(s, 1.0)
check(len(got) == WIN, "max_inflight_messages", "exactly %d unacked QoS 1 in flight (got %d)" % (WIN, len(got)))
s.send(ack(PUBACK, got[0]["pid"]))
more = drain(s, 0.7)
check(len(more) == 1, "max_inflight_messages", "one PUBACK opens room for exactly one more (got %d)" % len(more))
got += more
for m in got[1:]:
    s.send(ack(PUBACK, m["pid"]))
while len(got) < N:
    m = s.expect(PUBLISH, stmt="max_inflight_messages", what="after acks (%d so far)" % len(got)).publish()
    got.append(m)
    s.send(ack(PUBACK, m["pid"]))
seq = [int(m["payload"]) for m in got]
check(seq == list(range(N)), "MQTT-4.6.0-6", "all %d delivered in order through the window" % N)
