# QoS 2 byte-level flow, both directions:
# inbound  PUBLISH -> PUBREC, PUBREL -> PUBCOMP [MQTT-4.3.3-2]; a re-sent
# PUBLISH with DUP before PUBREL must not be delivered twice [MQTT-4.3.3-2];
# outbound PUBLISH(QoS2) -> client PUBREC -> broker PUBREL (flags 0x2)
# [MQTT-3.6.1-1] -> client PUBCOMP.
import socket
from mqttraw import *

sub = Conn(); sub.connect("q2-sub")
sub.subscribe(1, [("q2/t", 2)])
pub = Conn(); pub.connect("q2-pub")
pub.send(publish("q2/t", b"once", qos=2, pid=42))
r = pub.expect(PUBREC, stmt="MQTT-4.3.3-2")
check(r.pid() == 42 and r.flags == 0, "MQTT-4.3.3-2", "PUBREC carries the packet id, flags 0")
# Duplicate PUBLISH (DUP=1) before PUBREL: acknowledged again, not re-delivered.
pub.send(publish("q2/t", b"once", qos=2, pid=42, dup=True))
r = pub.expect(PUBREC, stmt="MQTT-4.3.3-2", what="(for the DUP resend)")
check(r.pid() == 42, "MQTT-4.3.3-2", "DUP resend acknowledged with PUBREC")
pub.send(ack(PUBREL, 42))
c = pub.expect(PUBCOMP, stmt="MQTT-4.3.3-2")
check(c.pid() == 42 and c.flags == 0, "MQTT-4.3.3-2", "PUBCOMP carries the packet id")
m = sub.expect(PUBLISH, stmt="MQTT-4.3.3").publish()
check(m["qos"] == 2 and m["payload"] == b"once" and m["pid"], "MQTT-2.3.1-1",
      "subscriber gets QoS 2 with non-zero packet id")
sub.send(ack(PUBREC, m["pid"]))
rel = sub.expect(PUBREL, stmt="MQTT-4.3.3-1")
check(rel.flags == 2 and rel.pid() == m["pid"], "MQTT-3.6.1-1", "PUBREL from broker has flags 0x2")
sub.send(ack(PUBCOMP, m["pid"]))
try:
    extra = sub.recv(1.0)
    fail("[MQTT-4.3.3] unexpected packet after PUBCOMP: %r" % extra)
except socket.timeout:
    print("ok [MQTT-4.3.3] QoS 2 message delivered once despite the DUP resend")
# PUBREL for an unknown id is still answered with PUBCOMP [MQTT-4.3.3-1 flow].
pub.send(ack(PUBREL, 999))
c = pub.expect(PUBCOMP, stmt="MQTT-4.3.3")
check(c.pid() == 999, "MQTT-4.3.3", "PUBREL for an unknown id answered with PUBCOMP")
