# A client that sends part of a packet and then closes must not disturb the
# broker: no delivery of the partial PUBLISH, no crash, other clients served.
import socket
from mqttraw import *

watch = Conn(); watch.connect("trunc-watch"); watch.subscribe(1, [("tr/#", 0)])
for cut in (1, 2, 5, 20, 99):
    c = Conn(); c.connect("trunc-%d" % cut)
    full = publish("tr/t", b"x" * 100)
    c.send(full[:cut]); c.close()
c = Conn(); c.send(connect("trunc-connect")[:7]); c.close()
try:
    m = watch.recv(1.0)
    fail("[robustness] truncated PUBLISH delivered: %r" % m)
except socket.timeout:
    print("ok [robustness] no truncated PUBLISH delivered")
broker_alive()
watch.send(PINGREQ_BYTES); watch.expect(PINGRESP, stmt="robustness", what="watcher unaffected")
