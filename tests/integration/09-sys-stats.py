# conf: sys_interval 1
# $SYS/broker statistics are published every sys_interval seconds (issue 2):
# version, uptime, clients/connected, messages/received, bytes; values
# change with activity. Topics as in mosquitto's $SYS tree.
import time
from mqttraw import check, fail
from pahoutil import Client

s = Client("sys-watch"); s.subscribe("$SYS/broker/#", 0)


def latest(topic, timeout=4.0, after=0):
    """Newest payload on topic received after message index `after`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with s.cv:
            vals = [m.payload for m in s.msgs[after:] if m.topic == topic]
        if vals:
            return vals[-1].decode()
        time.sleep(0.1)
    with s.cv:
        seen = sorted({m.topic for m in s.msgs})
    fail("[issue-2 $SYS] no %s within %.0f s; seen: %r" % (topic, timeout, seen[:40]))


ver = latest("$SYS/broker/version")
check(len(ver) > 0, "issue-2 $SYS", "$SYS/broker/version = %r" % ver)
up1 = latest("$SYS/broker/uptime")
n0 = len(s.msgs)
time.sleep(2.2)
up2 = latest("$SYS/broker/uptime", after=n0)
num = lambda v: int(v.split()[0])
check(num(up2) > num(up1), "issue-2 $SYS", "uptime advances (%r -> %r), published each interval" % (up1, up2))
c1 = num(latest("$SYS/broker/clients/connected"))
extra = [Client("sys-extra-%d" % i) for i in range(3)]
n0 = len(s.msgs)
time.sleep(1.5)
c2 = num(latest("$SYS/broker/clients/connected", after=n0))
check(c2 == c1 + 3, "issue-2 $SYS", "clients/connected counts 3 new clients (%d -> %d)" % (c1, c2))
r1 = num(latest("$SYS/broker/messages/received"))
for i in range(20):
    extra[0].publish("sys/load", b"x", qos=1)
n0 = len(s.msgs)
time.sleep(1.5)
r2 = num(latest("$SYS/broker/messages/received", after=n0))
check(r2 >= r1 + 20, "issue-2 $SYS", "messages/received grows by >= 20 (%d -> %d)" % (r1, r2))
b = num(latest("$SYS/broker/bytes/received"))
check(b > 0, "issue-2 $SYS", "bytes/received = %d" % b)
num(latest("$SYS/broker/messages/sent"))
num(latest("$SYS/broker/bytes/sent"))
print("ok [issue-2 $SYS] messages/sent and bytes/sent present")
for e in extra:
    e.disconnect()
