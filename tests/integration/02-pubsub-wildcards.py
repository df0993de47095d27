# Topic filter matching: '+' one level, '#' any number including parent
# [MQTT-4.7.1-2, MQTT-4.7.1-3], empty levels, case sensitivity [MQTT-4.7.3-4].
from mqttraw import check
from pahoutil import Client

cases = {
    # filter: topics that must match (others from TOPICS must not)
    "sport/tennis/#": {"sport/tennis", "sport/tennis/player1", "sport/tennis/player1/ranking"},
    "sport/+": {"sport/", "sport/tennis"},
    "sport/+/player1": {"sport/tennis/player1"},
    "+/+": {"sport/", "sport/tennis", "/finance", "Sport/Tennis", "a/b"},
    "/+": {"/finance"},
    "+": {"sport"},
    "#": None,     # all non-$ topics
    "Sport/Tennis": {"Sport/Tennis"},
    "a//b": {"a//b"},
    "a/+/b": {"a//b"},
}
TOPICS = ["sport", "sport/", "sport/tennis", "sport/tennis/player1", "sport/tennis/player1/ranking",
          "/finance", "Sport/Tennis", "a//b", "a/b"]
subs = {}
for i, f in enumerate(cases):
    subs[f] = Client("wc-%d" % i)
    subs[f].subscribe(f, 1)
pub = Client("wc-pub")
for t in TOPICS:
    pub.publish(t, t.encode(), qos=1)
for f, want in cases.items():
    if want is None:
        want = set(TOPICS)
    subs[f].wait_msgs(len(want), 5)
    got = [m.topic for m in subs[f].settle(0.3)]
    check(sorted(got) == sorted(want), "MQTT-4.7.1", "filter %r matched %r" % (f, sorted(got)))
