# mosquitto-deviates: mosquitto 2.0.11 accepts a QoS 0 PUBLISH with DUP 1
# The DUP flag MUST be 0 for QoS 0 messages [MQTT-3.3.1-2]; issue 2 asks the
# server to be strict on every such MUST: close, and do not deliver.
import socket
from mqttraw import *

watch = Conn(); watch.connect("dup0-watch"); watch.subscribe(1, [("m/#", 0)])
violation(publish("m/dup0", b"x", qos=0, dup=True), "MQTT-3.3.1-2", "QoS 0 PUBLISH with DUP 1")
try:
    m = watch.recv(1.0)
    fail("[MQTT-3.3.1-2] invalid PUBLISH delivered: %r" % m)
except socket.timeout:
    print("ok [MQTT-3.3.1-2] not delivered")
