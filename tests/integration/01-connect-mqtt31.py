# MQTT 3.1 clients: protocol name "MQIsdp" with level 3 is accepted (issue 2).
from mqttraw import *
import pahoutil, paho.mqtt.client as mqtt

c = Conn()
c.send(connect("v31-raw", proto_name="MQIsdp", level=3))
p = c.expect(CONNACK, stmt="MQTT-3.1", what="MQIsdp/3")
check(p.body[1] == 0, "MQTT-3.1", "MQIsdp level 3 gets CONNACK 0 (got %r)" % p.body)
c.subscribe(1, [("v31/t", 1)])
c.send(publish("v31/t", b"x", qos=1, pid=7))
got = {c.recv().type, c.recv().type}
check(got == {PUBACK, PUBLISH}, "MQTT-3.1", "3.1 client can publish and receive")
# paho speaking 3.1
k = mqtt.Client(client_id="v31-paho", protocol=mqtt.MQTTv31)
ok = []
k.on_connect = lambda cl, u, f, rc: ok.append(rc)
k.connect(HOST, PORT, 30); k.loop_start()
import time
for _ in range(50):
    if ok: break
    time.sleep(0.1)
k.loop_stop()
check(ok == [0], "MQTT-3.1", "paho MQTTv31 client connects (got %r)" % ok)
