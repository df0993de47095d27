# Delivered QoS is the minimum of publish QoS and granted QoS [MQTT-3.8.4-6].
from mqttraw import check
from pahoutil import Client

s0 = Client("dg-s0"); s0.subscribe("dg/t", 0)
s1 = Client("dg-s1"); s1.subscribe("dg/t", 1)
pub = Client("dg-pub")
pub.publish("dg/t", b"q2", qos=2)
pub.publish("dg/t", b"q1", qos=1)
pub.publish("dg/t", b"q0", qos=0)
m0 = s0.wait_msgs(3); m1 = s1.wait_msgs(3)
check([m.qos for m in m0] == [0, 0, 0], "MQTT-3.8.4-6", "QoS 0 subscriber gets QoS 0 (got %r)" % [m.qos for m in m0])
check([m.qos for m in m1] == [1, 1, 0], "MQTT-3.8.4-6", "QoS 1 subscriber gets 1,1,0 (got %r)" % [m.qos for m in m1])
