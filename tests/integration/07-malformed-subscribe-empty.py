# SUBSCRIBE with no topic filter is a protocol violation [MQTT-3.8.3-3];
# so is one with a truncated filter.
from mqttraw import *

violation(packet(SUBSCRIBE, 2, b"\x00\x01"), "MQTT-3.8.3-3", "SUBSCRIBE with no filters")
violation(packet(SUBSCRIBE, 2, b"\x00\x01\x00\x03a/b"), "MQTT-3.8.3-3", "SUBSCRIBE filter without QoS byte")
violation(packet(SUBSCRIBE, 2, b"\x00\x01\x00\x09a/b\x00"), "MQTT-3.8.3-1", "SUBSCRIBE filter length past end")
