# conf: max_queued_messages 10
# An offline persistent session queues at most max_queued_messages; the
# excess is dropped (issue 2: bounded, counted), the broker stays up, and
# what is delivered is in order with no duplicates.
from mqttraw import check, fail
from pahoutil import Client
import mqttraw

BOUND = 10
c = Client("qb-sub", clean=False); c.subscribe("qb/t", 1); c.disconnect()
p = Client("qb-pub")
for i in range(150):
    p.publish("qb/t", b"%d" % i, qos=1)
c = Client("qb-sub", clean=False)
msgs = c.settle(2.0)
seq = [int(m.payload) for m in msgs]
check(len(seq) == len(set(seq)) and seq == sorted(seq), "MQTT-4.6.0-6", "delivered in order, no duplicates")
check(len(seq) == BOUND, "issue-2 queue bound", "exactly max_queued_messages=%d delivered (got %d: %r)"
      % (BOUND, len(seq), seq[:20]))
# Live traffic flows normally afterwards.
p.publish("qb/t", b"live", qos=1)
m = c.wait_msgs(len(msgs) + 1)[-1]
check(m.payload == b"live", "issue-2 queue bound", "session works after overflow")
mqttraw.broker_alive()
