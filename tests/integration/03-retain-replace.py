# A new retained message replaces the old one on the topic [MQTT-3.3.1-5],
# including with QoS 0 [MQTT-3.3.1-7]; a non-retained publish does not touch
# the retained message [MQTT-3.3.1-12].
import socket
from mqttraw import *

p = Conn(); p.connect("rr-pub")
p.send(publish("rr/t", b"v1", qos=1, retain=True, pid=1)); p.expect(PUBACK)
p.send(publish("rr/t", b"v2", qos=0, retain=True))
p.send(publish("rr/t", b"not-retained", qos=0, retain=False))
p.send(PINGREQ_BYTES); p.expect(PINGRESP)     # the publishes above are processed
s = Conn(); s.connect("rr-sub"); s.subscribe(1, [("rr/t", 1)])
m = s.expect(PUBLISH, stmt="MQTT-3.3.1-7").publish()
check(m["payload"] == b"v2" and m["qos"] == 0 and m["retain"], "MQTT-3.3.1-7",
      "QoS 0 retained message replaced the QoS 1 one (got %r)" % m)
try:
    extra = s.recv(1.0)
    fail("[MQTT-3.3.1-5] more than one retained message for the topic: %r" % extra)
except socket.timeout:
    print("ok [MQTT-3.3.1-12] exactly one retained message, non-retained publish did not replace it")
