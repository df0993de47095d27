# conf: max_queued_messages 1000
# QoS 2 exactly once end to end [MQTT-4.3.3]: 500 sequence-numbered messages
# from a paho publisher to a QoS 2 subscriber, each arrives once, in order
# [MQTT-4.6.0-6].
from mqttraw import check, fail
from pahoutil import Client

N = 500
sub = Client("eo-sub")
pub = Client("eo-pub")
sub.subscribe("eo/seq", 2)
infos = [pub.publish("eo/seq", b"%06d" % i, qos=2, wait=False) for i in range(N)]
pub.wait(lambda: all(i.mid in pub.acked for i in infos), 30, "PUBCOMP for all %d publishes" % N)
sub.wait_msgs(N, 30)
msgs = sub.settle(1.0)
seqs = [int(m.payload) for m in msgs]
dups = len(seqs) - len(set(seqs))
check(len(seqs) == N and dups == 0, "MQTT-4.3.3", "each of %d QoS 2 messages delivered exactly once "
      "(got %d, %d duplicates)" % (N, len(seqs), dups))
check(seqs == list(range(N)), "MQTT-4.6.0-6", "delivered in publish order")
check(all(m.qos == 2 for m in msgs), "MQTT-3.8.4-6", "delivered at QoS 2")
