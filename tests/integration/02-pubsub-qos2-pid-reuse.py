# After a QoS 2 exchange completes (PUBCOMP), the client may reuse the packet
# id for a new message [MQTT-2.3.1-3 / 4.3.3]: the new message must be
# delivered, not discarded as a duplicate. 50 messages all on packet id 5.
from mqttraw import *

s = Conn(); s.connect("pr-sub"); s.subscribe(1, [("pr/t", 0)])
p = Conn(); p.connect("pr-pub")
for i in range(50):
    p.send(publish("pr/t", b"%d" % i, qos=2, pid=5))
    p.expect(PUBREC); p.send(ack(PUBREL, 5)); p.expect(PUBCOMP)
got = [int(s.expect(PUBLISH, stmt="MQTT-4.3.3", what="message %d" % i).publish()["payload"]) for i in range(50)]
check(got == list(range(50)), "MQTT-4.3.3", "50 QoS 2 messages reusing packet id 5 all delivered")
# Same for QoS 1 reusing an id, and a QoS 1 and a QoS 2 in flight with different ids.
p.send(publish("pr/t", b"q1", qos=1, pid=5)); p.expect(PUBACK)
check(s.expect(PUBLISH).publish()["payload"] == b"q1", "MQTT-2.3.1-3", "QoS 1 reusing id 5 delivered")
