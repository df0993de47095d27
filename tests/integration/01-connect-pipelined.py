# Packet framing: CONNECT + SUBSCRIBE + PUBLISH + PINGREQ in one TCP
# segment are all processed, in order [MQTT-4.6.0]; and the same sequence
# sent one byte at a time also works (the parser handles partial input).
import time
from mqttraw import *

seq = (connect("pipe-1") + subscribe(1, [("pipe/t", 1)]) + publish("pipe/t", b"x", qos=1, pid=9)
       + PINGREQ_BYTES)
c = Conn(); c.send(seq)
types = [c.recv().type for _ in range(5)]
check(types[0] == CONNACK and types[1] == SUBACK, "MQTT-3.2.0-1", "CONNACK then SUBACK first (%r)" % types)
check(sorted(types[2:]) == sorted([PUBLISH, PUBACK, PINGRESP]), "MQTT-4.6.0",
      "PUBLISH echo, PUBACK and PINGRESP all answered (%r)" % types)
d = Conn()
for b in connect("pipe-2") + subscribe(2, [("pipe/u", 0)]):
    d.send(bytes([b])); time.sleep(0.002)
d.expect(CONNACK); d.expect(SUBACK)
for b in publish("pipe/u", b"slow" * 50):
    d.send(bytes([b])); time.sleep(0.001)
m = d.expect(PUBLISH, stmt="framing").publish()
check(m["payload"] == b"slow" * 50, "framing", "byte-at-a-time packets reassembled")
