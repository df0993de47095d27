# 2000 retained messages are all stored and all delivered (each once, with
# retain 1) to a new '#' subscriber [MQTT-3.3.1-6, MQTT-3.3.1-8].
import socket
from mqttraw import *

N = 2000
p = Conn(); p.connect("rm-pub")
p.send(b"".join(publish("rm/%d/%d" % (i % 37, i), b"%d" % i, qos=1, pid=i + 1, retain=True) for i in range(N)))
for _ in range(N):
    p.expect(PUBACK)
s = Conn(); s.connect("rm-sub")
s.subscribe(1, [("rm/#", 0)])
got = []
while True:
    try:
        got.append(s.recv(1.5).publish())
    except socket.timeout:
        break
vals = sorted(int(m["payload"]) for m in got)
check(vals == list(range(N)), "MQTT-3.3.1-6", "%d retained messages delivered once each (got %d)" % (N, len(vals)))
check(all(m["retain"] for m in got), "MQTT-3.3.1-8", "all with retain 1")
