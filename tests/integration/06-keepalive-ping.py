# PINGREQ -> PINGRESP (D0 00) [MQTT-3.12.4-1]; keepalive 0 turns the
# keep alive mechanism off (3.1.2.10, unnumbered); any control packet, not
# only PINGREQ, counts as activity [MQTT-3.1.2-23].
import time
from mqttraw import *

c = Conn(); c.connect("ping", keepalive=2)
for _ in range(3):
    c.send(PINGREQ_BYTES)
    r = c.expect(PINGRESP, stmt="MQTT-3.12.4-1")
    check(r.flags == 0 and r.body == b"", "MQTT-3.12.4-1", "PINGRESP is D0 00")
# Keepalive 0: silent for 4 s and still connected.
z = Conn(); z.connect("ka-zero", keepalive=0)
# Keepalive 2 with PUBLISH traffic only.
t = Conn(); t.connect("ka-traffic", keepalive=2)
for i in range(8):
    t.send(publish("ka/t", b"%d" % i))
    time.sleep(0.5)
check(z.wait_closed(0.1) is None, "3.1.2.10", "keepalive 0: still connected after 4 s")
t.send(PINGREQ_BYTES)
t.expect(PINGRESP, stmt="MQTT-3.1.2-23", what="PUBLISH traffic kept the connection alive")
print("ok [MQTT-3.1.2-23] client sending PUBLISH every 0.5 s kept for 4 s")
