# A retained PUBLISH with an empty payload removes the retained message
# [MQTT-3.3.1-10] and is delivered to current subscribers as normal
# [MQTT-3.3.1-10]; it is never stored itself [MQTT-3.3.1-11].
import socket
from mqttraw import *

p = Conn(); p.connect("rc-pub")
p.send(publish("rc/t", b"old", qos=1, retain=True, pid=1)); p.expect(PUBACK)
live = Conn(); live.connect("rc-live"); live.subscribe(1, [("rc/t", 0)])
m = live.expect(PUBLISH).publish()
check(m["payload"] == b"old" and m["retain"], "MQTT-3.3.1-8", "retained message present")
p.send(publish("rc/t", b"", qos=1, retain=True, pid=2)); p.expect(PUBACK)
m = live.expect(PUBLISH, stmt="MQTT-3.3.1-10").publish()
check(m["payload"] == b"" and not m["retain"], "MQTT-3.3.1-10",
      "empty retained publish delivered to existing subscriber (retain 0)")
late = Conn(); late.connect("rc-late"); late.subscribe(2, [("rc/#", 0)])
try:
    extra = late.recv(1.0)
    fail("[MQTT-3.3.1-10/11] retained message not cleared: %r" % extra)
except socket.timeout:
    print("ok [MQTT-3.3.1-10] [MQTT-3.3.1-11] empty payload cleared it and was not stored")
