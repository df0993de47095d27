# conf: max_queued_messages 1000
# Outgoing packet identifiers: 70000 QoS 1 messages to one subscriber wrap
# the 16-bit space; an id is never 0 [MQTT-2.3.1-1] and never reused while
# the earlier message with that id is unacknowledged [MQTT-2.3.1-2].
from mqttraw import *

N = 70000
s = Conn(timeout=20); s.connect("wrap-sub"); s.subscribe(1, [("wrap/t", 1)])
p = Conn(timeout=20); p.connect("wrap-pub")
inflight = set()
received = 0
sent = 0
BATCH = 200           # at most 600 outstanding: below inflight 20 + queue 1000, so none dropped
while received < N:
    if sent < N and sent - received < 400:
        p.send(b"".join(publish("wrap/t", b"", qos=1, pid=(sent + k) % 65535 + 1)
                        for k in range(min(BATCH, N - sent))))
        sent = min(N, sent + BATCH)
    k = s.recv(10)
    if k.type != PUBLISH:
        fail("unexpected %r" % k)
    pid = k.publish()["pid"]
    if pid == 0:
        fail("[MQTT-2.3.1-1] packet id 0 sent by the broker")
    if pid in inflight:
        fail("[MQTT-2.3.1-2] packet id %d reused while unacknowledged" % pid)
    inflight.add(pid)
    received += 1
    if len(inflight) >= 10:            # ack in batches so some stay in flight
        s.send(b"".join(ack(PUBACK, x) for x in inflight))
        inflight.clear()
print("ok [MQTT-2.3.1-1] [MQTT-2.3.1-2] %d QoS 1 deliveries, ids wrapped, none 0 or reused" % N)
