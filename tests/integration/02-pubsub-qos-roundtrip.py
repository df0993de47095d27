# QoS 0, 1 and 2 round trips between two paho clients; delivered QoS is
# min(publish QoS, subscription QoS) [MQTT-3.8.4-6].
from mqttraw import check, fail
from pahoutil import Client

sub = Client("rt-sub")
pub = Client("rt-pub")
granted = sub.subscribe("rt/+", 2)
check(granted == (2,), "MQTT-3.9.3-1", "SUBACK grants QoS 2 (got %r)" % (granted,))
for q in (0, 1, 2):
    pub.publish("rt/q%d" % q, b"payload-%d" % q, qos=q)
msgs = sub.wait_msgs(3)
got = sorted((m.topic, m.payload, m.qos) for m in msgs)
want = [("rt/q0", b"payload-0", 0), ("rt/q1", b"payload-1", 1), ("rt/q2", b"payload-2", 2)]
check(got == want, "MQTT-3.8.4-6", "QoS 0/1/2 delivered at publish QoS: %r" % got)
check(all(not m.retain for m in msgs), "MQTT-3.3.1-9", "live messages have retain 0")
check(len(sub.settle(0.5)) == 3, "MQTT-4.3.3", "no duplicates after settle")
# Binary payload with all byte values and an empty payload survive unchanged.
blob = bytes(range(256)) * 40
pub.publish("rt/bin", blob, qos=1)
pub.publish("rt/empty", b"", qos=1)
msgs = sub.wait_msgs(5)
check(msgs[3].payload == blob, "MQTT-3.3.3", "10 KiB binary payload delivered intact")
check(msgs[4].payload == b"", "MQTT-3.3.3", "empty payload delivered")
