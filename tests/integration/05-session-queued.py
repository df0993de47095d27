# QoS 1 and 2 messages for a disconnected persistent session are queued and
# delivered on reconnect [MQTT-3.1.2-5], in order per topic and QoS
# [MQTT-4.6.0-5, MQTT-4.6.0-6] (order across topics is not required); QoS 0 ones
# need not be (not asserted either way). Uses paho for the persistent client.
from mqttraw import check, fail
from pahoutil import Client

c = Client("sq-sub", clean=False); c.subscribe("sq/#", 2); c.disconnect()
p = Client("sq-pub")
for i in range(10):
    p.publish("sq/q%d" % (1 + i % 2), b"%d" % i, qos=1 + i % 2)
c = Client("sq-sub", clean=False)
check(c.session_present() == 1, "MQTT-3.2.2-2", "session present 1")
msgs = c.wait_msgs(10, 10)
msgs = c.settle(1.0)
got = sorted((int(m.payload), m.qos) for m in msgs)
check(got == [(i, 1 + i % 2) for i in range(10)], "MQTT-3.1.2-5",
      "10 queued QoS 1/2 messages delivered once each at their QoS (got %r)" % got)
for q in (1, 2):
    seq = [int(m.payload) for m in msgs if m.topic == "sq/q%d" % q]
    check(seq == list(range(q - 1, 10, 2)), "MQTT-4.6.0-5", "topic sq/q%d in publish order (%r)" % (q, seq))
