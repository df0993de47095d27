# conf: max_queued_messages 1000
# Ordered topic: QoS 1 messages from one publisher on one topic arrive in
# publish order [MQTT-4.6.0-5, MQTT-4.6.0-6], checked on 3 interleaved
# topics (the spec orders per topic, not across topics).
from mqttraw import check
from pahoutil import Client

N = 300
sub = Client("ord-sub"); sub.subscribe("ord/#", 1)
pub = Client("ord-pub")
infos = [pub.publish("ord/%d" % (i % 3), b"%d" % i, qos=1, wait=False) for i in range(N)]
pub.wait(lambda: all(x.mid in pub.acked for x in infos), 20, "all PUBACKs")
msgs = sub.wait_msgs(N, 20)
for t in range(3):
    seq = [int(m.payload) for m in msgs if m.topic == "ord/%d" % t]
    check(seq == list(range(t, N, 3)), "MQTT-4.6.0-6", "topic ord/%d in order (%d msgs)" % (t, len(seq)))
