# A Will with retain 1 and an empty payload is published like any retained
# PUBLISH: it clears the retained message on its topic [MQTT-3.3.1-10].
import socket, time
from mqttraw import *

p = Conn(); p.connect("wcr-pub")
p.send(publish("wcr/status", b"online", qos=1, pid=1, retain=True)); p.expect(PUBACK)
w = Conn(); w.connect("wcr-dies", will=("wcr/status", b"", 1, True))
w.close()
time.sleep(1.0)
s = Conn(); s.connect("wcr-late"); s.subscribe(1, [("wcr/#", 0)])
try:
    fail("[MQTT-3.3.1-10] retained message not cleared by an empty retained will: %r" % s.recv(1.0).publish())
except socket.timeout:
    print("ok [MQTT-3.3.1-10] empty retained will cleared the retained message")
