# A client that goes silent past 1.5x its keepalive is disconnected and its
# Will is published [MQTT-3.1.2-8]. (The exact 1.5x deadline is asserted in
# 06-keepalive-expiry.py; here only "not before 1.5x, and it does happen".)
import time
from mqttraw import *

s = Conn(); s.connect("wk-watch", keepalive=60); s.subscribe(1, [("wk/#", 0)])
w = Conn(); w.connect("wk-silent", keepalive=2, will=("wk/silent", b"timeout", 0, False))
t0 = time.monotonic()
m = s.expect(PUBLISH, timeout=15, stmt="MQTT-3.1.2-8").publish()
took = time.monotonic() - t0
check(m["topic"] == "wk/silent", "MQTT-3.1.2-8", "will published on keepalive expiry (%.1f s)" % took)
check(took >= 2.0, "MQTT-3.1.2-24", "not before the keepalive period (%.1f s)" % took)
check(w.wait_closed(2) is not None, "MQTT-3.1.2-24", "silent client's connection closed")
