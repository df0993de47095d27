# A QoS 1 Will addressed to an offline persistent subscriber is queued and
# delivered when it reconnects [MQTT-3.1.2-8, MQTT-3.1.2-5].
import time
from mqttraw import *

s = Conn(); s.connect("woq-sub", clean=False); s.subscribe(1, [("woq/#", 1)])
s.send(DISCONNECT_BYTES); s.close()
w = Conn(); w.connect("woq-dies", will=("woq/will", b"bye", 1, False))
w.close()
time.sleep(0.5)
s = Conn(); s.connect("woq-sub", clean=False)
m = s.expect(PUBLISH, stmt="MQTT-3.1.2-5").publish()
check(m["topic"] == "woq/will" and m["qos"] == 1, "MQTT-3.1.2-5", "queued QoS 1 will delivered on reconnect")
