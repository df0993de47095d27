# mosquitto-deviates: mosquitto 2.0.11 (bridge code) accepts SUBACK, UNSUBACK and PINGRESP from clients
# Packets only a server sends, arriving from a client, close the connection
# (issue 2; spec 2.2.1 direction of flow).
from mqttraw import *

for name, data in [("CONNACK", packet(CONNACK, 0, b"\x00\x00")),
                   ("SUBACK", packet(SUBACK, 0, b"\x00\x01\x00")),
                   ("UNSUBACK", packet(UNSUBACK, 0, b"\x00\x01")),
                   ("PINGRESP", packet(PINGRESP, 0, b""))]:
    violation(data, "MQTT-2.2.1", "%s from client" % name)
