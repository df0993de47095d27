# mosquitto-deviates: mosquitto 2.0.11 reorders QoS 1 messages of one publisher on one topic under this load (received in order, delivered out of order)
# conf: max_queued_messages 5000
# Fan-in and fan-out at once: 10 publishers x 200 messages at QoS 1 and 2,
# 5 subscribers at QoS 2 on a wildcard: every subscriber gets every message,
# QoS 2 ones exactly once [MQTT-4.3.3], per-publisher order kept [MQTT-4.6.0-5].
import threading
from mqttraw import check, fail
from pahoutil import Client

P, N, S = 10, 200, 5
subs = [Client("fio-sub-%d" % i) for i in range(S)]
for s in subs:
    s.subscribe("fio/#", 2)
pubs = [Client("fio-pub-%d" % i) for i in range(P)]


def run(i):
    infos = [pubs[i].publish("fio/p%d" % i, b"%d" % k, qos=1 + k % 2, wait=False) for k in range(N)]
    pubs[i].wait(lambda: all(x.mid in pubs[i].acked for x in infos), 30, "acks for publisher %d" % i)


ts = [threading.Thread(target=run, args=(i,)) for i in range(P)]
for t in ts: t.start()
for t in ts: t.join()
for j, s in enumerate(subs):
    s.wait_msgs(P * N, 30)
    msgs = s.settle(0.5)
    for i in range(P):
        seq = [int(m.payload) for m in msgs if m.topic == "fio/p%d" % i]
        q2 = [k for k in seq if k % 2]
        if sorted(q2) != list(range(1, N, 2)) or len(q2) != len(set(q2)):
            fail("[MQTT-4.3.3] subscriber %d, publisher %d: QoS 2 not exactly once" % (j, i))
        if sorted(set(seq)) != list(range(N)):
            fail("[MQTT-4.3.2] subscriber %d, publisher %d: messages missing" % (j, i))
        for q in (1, 2):
            got = []        # first arrivals: a QoS 1 duplicate is allowed [MQTT-4.3.2]
            for k in seq:
                if k % 2 == q - 1 and k not in got:
                    got.append(k)
            if got != sorted(got):
                fail("[MQTT-4.6.0-5] subscriber %d, publisher %d QoS %d out of order" % (j, i, q))
check(True, "MQTT-4.3.3", "%d subscribers x %d messages from %d publishers, exactly once and in order" % (S, P * N, P))
