# mosquitto-deviates: mosquitto 2.0.11 closes a silent keepalive-2 client after ~6 s, not 3 s
# Keepalive 2 s, client silent: the server disconnects after 1.5 x 2 = 3 s
# [MQTT-3.1.2-24] (we allow 2.9..4.5 s for timer granularity), and a client
# that keeps sending PINGREQ is kept [MQTT-3.1.2-23].
import time
from mqttraw import *

silent = Conn(); silent.connect("ka-silent", keepalive=2)
busy = Conn(); busy.connect("ka-busy", keepalive=2)
t0 = time.monotonic()
closed_at = None
while time.monotonic() - t0 < 8:
    busy.send(PINGREQ_BYTES)
    busy.expect(PINGRESP, stmt="MQTT-3.12.4-1")
    if closed_at is None and silent.wait_closed(0.5) is not None:
        closed_at = time.monotonic() - t0
    time.sleep(0.5 if closed_at is None else 0.9)
check(closed_at is not None, "MQTT-3.1.2-24", "silent client disconnected")
check(2.9 <= closed_at <= 4.5, "MQTT-3.1.2-24", "after 1.5 x keepalive (%.1f s, want ~3)" % closed_at)
print("ok [MQTT-3.1.2-23] pinging client kept for 8 s (4 x keepalive)")
