# The connect timeout counts from accept, not from the last byte: a client
# dripping a CONNECT one byte every 0.4 s is still closed after ~2 s
# (issue 2: "a TCP connection that sends no CONNECT in N seconds is closed").
import time
from mqttraw import *

if BROKER != "moatd":
    print("moat_connect_timeout is a moat key; skipped for mosquitto")
    raise SystemExit(77)
data = connect("drip-" + "x" * 40)
c = Conn()
t0 = time.monotonic()
closed = None
for i in range(len(data) - 1):
    try:
        c.send(data[i:i + 1])
    except OSError:
        closed = time.monotonic() - t0
        break
    if c.wait_closed(0.4) is not None:
        closed = time.monotonic() - t0
        break
check(closed is not None, "connect-timeout", "dripping CONNECT closed before it completes")
check(closed <= 4.5, "connect-timeout", "closed within timeout + slack (%.1f s)" % closed)
broker_alive()
