# mosquitto-deviates: mosquitto 2.0.11 loses QoS 1 markers to the reading subscriber (logged as sent, never received) while another subscriber is stuck
# A subscriber that stops reading must neither make the broker's memory grow
# without bound nor stall other subscribers (issue 2: "never unbounded
# memory"). 200 MB of QoS 0 and 20000 QoS 1 messages go past a stuck
# subscriber; a reading subscriber gets a QoS 1 marker after every 10 MB
# (QoS 0 to it may legitimately be dropped under load, the markers may not).
import os, socket, time
from mqttraw import *


stuck = Conn()
stuck.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
stuck.connect("slow-stuck")
stuck.subscribe(1, [("slow/#", 1)])
good = Conn(); good.connect("slow-good"); good.subscribe(1, [("slow/#", 1)])
p = Conn(); p.connect("slow-pub")
measure = not broker_instrumented()     # ASan/valgrind RSS says nothing about moat
base = broker_rss_kb()
chunk = b"z" * 10000
for r in range(20):
    p.send(b"".join(publish("slow/q0", chunk) for _ in range(1000)))   # 10 MB per round
    # The marker may itself be dropped if good's queue is full of QoS 0, so
    # it is re-sent every 2 s; it must get through within 20 s.
    deadline = time.monotonic() + 20
    next_mark = 0
    while True:
        now = time.monotonic()
        if now > deadline:
            fail("[slow-consumer] reading subscriber stalled: no marker %d in 20 s" % r)
        if now >= next_mark:
            p.send(publish("slow/mark", b"%d" % r, qos=1, pid=r + 1)); p.expect(PUBACK, timeout=20)
            next_mark = now + 2
        try:
            m = good.recv(0.5).publish()
        except socket.timeout:
            continue
        if m["qos"]:
            good.send(ack(PUBACK, m["pid"]))
        if m["topic"] == "slow/mark" and m["payload"] == b"%d" % r:
            break
print("ok [slow-consumer] reading subscriber got all 20 markers")
peak = broker_rss_kb()
check(not measure or peak - base < 100 * 1024, "slow-consumer",
      "broker RSS grew %d KiB for 200 MB of QoS 0 past a stuck subscriber (limit 100 MiB)" % (peak - base))
p.send(b"".join(publish("slow/q1", b"x" * 100, qos=1, pid=i % 65535 + 1) for i in range(20000)))
for _ in range(20000):
    p.expect(PUBACK, timeout=20)
peak = broker_rss_kb()
check(not measure or peak - base < 100 * 1024, "slow-consumer", "RSS grew %d KiB after 20000 QoS 1 too (bounded queue)" % (peak - base))
broker_alive()
