# Will retain 1: the will is published as a retained message [MQTT-3.1.2-17];
# a later subscriber receives it with retain 1. Will QoS 2 honoured
# [MQTT-3.1.2-14].
from mqttraw import *

w = Conn(); w.connect("wr-dies", will=("wr/status", b"offline", 2, True))
w.close()
import time
time.sleep(1.0)
s = Conn(); s.connect("wr-late"); s.subscribe(1, [("wr/status", 2)])
m = s.expect(PUBLISH, stmt="MQTT-3.1.2-17").publish()
check(m["payload"] == b"offline" and m["retain"], "MQTT-3.1.2-17", "will stored as retained message")
check(m["qos"] == 2, "MQTT-3.1.2-14", "will QoS 2 kept (got %d)" % m["qos"])
