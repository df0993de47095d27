# mosquitto-deviates: mosquitto 2.0.11 delivers one copy at the QoS of one subscription (QoS 1), not the maximum
# Overlapping subscriptions of one client: the message is delivered
# respecting the highest granted QoS of the matching subscriptions
# [MQTT-3.3.5-1]; moat (issue 2) delivers it exactly once.
import socket
from mqttraw import *

c = Conn(); c.connect("overlap")
codes = c.subscribe(1, [("ov/#", 0), ("ov/+/c", 2), ("ov/b/c", 1)])
check(codes == [0, 2, 1], "MQTT-3.9.3-1", "SUBACK codes in filter order (got %r)" % codes)
p = Conn(); p.connect("overlap-pub")
p.send(publish("ov/b/c", b"x", qos=2, pid=5))
p.expect(PUBREC); p.send(ack(PUBREL, 5)); p.expect(PUBCOMP)
copies = []
while True:
    try:
        k = c.recv(1.0)
    except socket.timeout:
        break
    if k.type == PUBLISH:
        m = k.publish(); copies.append(m["qos"])
        if m["qos"] == 1: c.send(ack(PUBACK, m["pid"]))
        if m["qos"] == 2: c.send(ack(PUBREC, m["pid"]))
    elif k.type == PUBREL:
        c.send(ack(PUBCOMP, k.pid()))
check(2 in copies, "MQTT-3.3.5-1", "delivered at the highest matching QoS 2 (copies at QoS %r)" % copies)
check(len(copies) == 1, "MQTT-3.3.5-1/issue-2", "delivered exactly once (copies at QoS %r)" % copies)
