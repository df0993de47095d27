# Empty topic levels: '/' has two empty levels, so '+/+' and '#' match it and
# '+' does not; '+/#' matches '/' and 'a' ('#' includes the parent)
# [MQTT-4.7.1-2, MQTT-4.7.1-3, 4.7.3 "topic levels can be zero length"].
from mqttraw import check
from pahoutil import Client

cases = {"+/+": {"/", "a/"}, "+": {"a"}, "#": {"/", "a", "a/", "//"}, "+/#": {"/", "a", "a/", "//"},
         "/#": {"/", "//"}, "+/+/+": {"//"}}
TOPICS = ["/", "a", "a/", "//"]
subs = {}
for i, f in enumerate(cases):
    subs[f] = Client("we-%d" % i)
    subs[f].subscribe(f, 1)
pub = Client("we-pub")
for t in TOPICS:
    pub.publish(t, t.encode(), qos=1)
for f, want in cases.items():
    subs[f].wait_msgs(len(want), 5)
    got = sorted(m.topic for m in subs[f].settle(0.3))
    check(got == sorted(want), "MQTT-4.7.1", "filter %r matched %r" % (f, got))
