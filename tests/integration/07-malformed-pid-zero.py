# Packet identifier 0 is invalid in SUBSCRIBE, UNSUBSCRIBE and QoS>0 PUBLISH
# [MQTT-2.3.1-1].
from mqttraw import *

violation(publish("pz/t", b"x", qos=1, pid=0), "MQTT-2.3.1-1", "QoS 1 PUBLISH with packet id 0")
violation(publish("pz/t", b"x", qos=2, pid=0), "MQTT-2.3.1-1", "QoS 2 PUBLISH with packet id 0")
violation(subscribe(0, [("pz/t", 0)]), "MQTT-2.3.1-1", "SUBSCRIBE with packet id 0")
violation(unsubscribe(0, ["pz/t"]), "MQTT-2.3.1-1", "UNSUBSCRIBE with packet id 0")
