# One SUBSCRIBE with 500 filters gets a SUBACK with 500 codes in order
# [MQTT-3.8.4-5]; one UNSUBSCRIBE with all of them removes all
# [MQTT-3.10.4-2]; deep topics (150 levels; mosquitto refuses > 200) and long names (30000 bytes) match.
import socket
from mqttraw import *

c = Conn(); c.connect("mf")
flts = [("mf/%d/+" % i, i % 3) for i in range(500)]
codes = c.subscribe(7, flts)
check(codes == [q for _, q in flts], "MQTT-3.8.4-5", "500 return codes in order")
p = Conn(); p.connect("mf-pub")
p.send(publish("mf/499/x", b"y"))
m = c.expect(PUBLISH, stmt="MQTT-3.8.4-5").publish()
check(m["topic"] == "mf/499/x", "MQTT-4.7.1", "last of 500 filters matches")
c.send(unsubscribe(8, [f for f, _ in flts]))
check(c.expect(UNSUBACK).pid() == 8, "MQTT-3.10.4-4", "UNSUBACK for 500 filters")
p.send(publish("mf/0/x", b"y")); p.send(publish("mf/250/x", b"y"))
try:
    fail("[MQTT-3.10.4-2] delivered after unsubscribe: %r" % c.recv(1.0))
except socket.timeout:
    print("ok [MQTT-3.10.4-2] all 500 removed")
deep = "/".join("l%d" % i for i in range(150))
c.subscribe(9, [("/".join(["+"] * 150), 0), ("l0/#", 0)])
p.send(publish(deep, b"deep"))
m = c.expect(PUBLISH, stmt="MQTT-4.7.1").publish()
check(m["topic"] == deep, "MQTT-4.7.1", "150-level topic matched, delivered once")
try:
    fail("[MQTT-3.3.5-1] deep topic delivered twice: %r" % c.recv(1.0))
except socket.timeout:
    pass
long_t = "long/" + "x" * 30000
c.subscribe(10, [("long/+", 0)])
p.send(publish(long_t, b"L"))
m = c.expect(PUBLISH, stmt="MQTT-4.7.3").publish()
check(m["topic"] == long_t, "MQTT-4.7.3", "30000-byte topic name delivered intact")
