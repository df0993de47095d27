# mosquitto-deviates: mosquitto 2.0.11 does not close a silent keepalive-1 client within 5 s
# Keepalive 1 s: closed after 1.5 s of silence [MQTT-3.1.2-24] (allowed
# 1.4..3.0 s for timer granularity); a client pinging every 0.9 s is kept.
import time
from mqttraw import *

c = Conn(); c.connect("ka1", keepalive=1)
k = Conn(); k.connect("ka1-ping", keepalive=1)
t0 = time.monotonic()
closed = None
while time.monotonic() - t0 < 5:
    k.send(PINGREQ_BYTES); k.expect(PINGRESP, stmt="MQTT-3.1.2-23", what="pinging client")
    if closed is None and c.wait_closed(0.3) is not None:
        closed = time.monotonic() - t0
    time.sleep(0.6 if closed is None else 0.9)
check(closed is not None and 1.4 <= closed <= 3.0, "MQTT-3.1.2-24",
      "keepalive 1: closed after %s s (want ~1.5)" % (closed and "%.1f" % closed))
