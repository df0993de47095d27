# conf: max_connections 5
# With max_connections 5 the 6th concurrent connection is refused (closed,
# no CONNACK 0), the first 5 keep working, and a slot freed by a disconnect
# can be reused (issue 2 limits; mosquitto.conf max_connections).
import socket, time
from mqttraw import *

conns = []
for i in range(5):
    c = Conn(); c.connect("mc-%d" % i); conns.append(c)
extra = Conn()
try:
    extra.send(connect("mc-extra"))
except OSError:
    pass
got = extra.wait_closed(5)
check(got is not None and not any(p.type == CONNACK and p.body[1] == 0 for p in got),
      "max_connections", "6th connection refused (got %r)" % got)
for c in conns:
    c.send(PINGREQ_BYTES); c.expect(PINGRESP, stmt="max_connections", what="existing clients unaffected")
print("ok [max_connections] the 5 admitted connections still work")
conns[0].send(DISCONNECT_BYTES); conns[0].close()
time.sleep(0.5)
c = Conn(); c.connect("mc-again")
print("ok [max_connections] freed slot reusable")
