# A well-formed CONNECT gets CONNACK 0 with session present 0 for a clean session.
from mqttraw import *

c = Conn()
c.send(connect("accept-1", clean=True, keepalive=30))
p = c.expect(CONNACK, stmt="MQTT-3.2.0-1", what="first packet from server is CONNACK")
check(p.flags == 0, "MQTT-2.2.2-1", "CONNACK fixed-header flags are 0")
check(p.body == b"\x00\x00", "MQTT-3.2.2-1",
      "CONNACK is 20 02 00 00 (session present 0 for clean session, rc 0), got %r" % p.body)
c.send(PINGREQ_BYTES)
r = c.expect(PINGRESP, stmt="MQTT-3.12.4-1")
check(r.flags == 0 and r.body == b"", "MQTT-3.13", "PINGRESP is D0 00")
c.send(DISCONNECT_BYTES)
check(c.wait_closed(5) is not None, "MQTT-3.14.4-1", "server closes after DISCONNECT")
