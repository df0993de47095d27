# The DUP flag of an incoming PUBLISH is not propagated to subscribers
# [MQTT-3.3.1-3]; the retain flag of a live message is 0 [MQTT-3.3.1-9].
from mqttraw import *

s = Conn(); s.connect("dnp-sub"); s.subscribe(1, [("dnp/#", 1)])
p = Conn(); p.connect("dnp-pub")
p.send(publish("dnp/t", b"d", qos=1, pid=4, dup=True)); p.expect(PUBACK)
m = s.expect(PUBLISH, stmt="MQTT-3.3.1-3").publish()
check(not m["dup"], "MQTT-3.3.1-3", "first delivery of a DUP=1 PUBLISH has DUP 0")
