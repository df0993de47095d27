# conf: sys_interval 1
# Topics starting with '$' are not matched by filters starting with '#' or
# '+' [MQTT-4.7.2-1]; '$SYS/#' does match them.
import time
from mqttraw import check
from pahoutil import Client

a = Client("sw-hash"); a.subscribe("#", 0)
b = Client("sw-plus"); b.subscribe("+/broker/#", 0)
b.subscribe("+/+/+", 0)
s = Client("sw-sys"); s.subscribe("$SYS/#", 0)
pub = Client("sw-pub")
pub.publish("$app/x/y", b"dollar", qos=1)   # a client-published $ topic
pub.publish("plain/x/y", b"plain", qos=1)
s.wait_msgs(1, 5)                           # $SYS is being published
time.sleep(2.5)
bad_a = [m.topic for m in a.msgs if m.topic.startswith("$")]
bad_b = [m.topic for m in b.msgs if m.topic.startswith("$")]
check(not bad_a, "MQTT-4.7.2-1", "'#' matches no $ topic (got %r)" % bad_a[:5])
check(not bad_b, "MQTT-4.7.2-1", "'+/...' matches no $ topic (got %r)" % bad_b[:5])
check(any(m.topic == "plain/x/y" for m in a.msgs), "MQTT-4.7.1-2", "'#' matches plain topics")
check(all(m.topic.startswith("$SYS/") for m in s.msgs), "MQTT-4.7.2-1", "'$SYS/#' gets only $SYS topics")
