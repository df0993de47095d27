# A SUBSCRIBE for an existing filter replaces it: new QoS applies and the
# message is not delivered twice [MQTT-3.8.4-3].
import socket
from mqttraw import *

c = Conn(); c.connect("resub")
check(c.subscribe(1, [("r/t", 2)]) == [2], "MQTT-3.8.4-3", "first SUBSCRIBE granted 2")
check(c.subscribe(2, [("r/t", 0)]) == [0], "MQTT-3.8.4-3", "second SUBSCRIBE granted 0")
p = Conn(); p.connect("resub-pub")
p.send(publish("r/t", b"x", qos=1, pid=3)); p.expect(PUBACK)
m = c.expect(PUBLISH, stmt="MQTT-3.8.4-3").publish()
check(m["qos"] == 0, "MQTT-3.8.4-3", "replaced subscription's QoS 0 applies (got %d)" % m["qos"])
try:
    extra = c.recv(1.0)
    fail("[MQTT-3.8.4-3] message delivered twice after re-subscribe: %r" % extra)
except socket.timeout:
    print("ok [MQTT-3.8.4-3] one subscription after re-subscribe")
