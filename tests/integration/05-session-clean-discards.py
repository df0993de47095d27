# Clean session 1 discards any previous session [MQTT-3.1.2-6]: session
# present 0 [MQTT-3.2.2-1], no old subscriptions, no queued messages; and its
# state is not kept after it disconnects either [MQTT-3.1.2-6].
import socket
from mqttraw import *

c = Conn(); c.connect("sess-clean", clean=False)
c.subscribe(1, [("sc/t", 1)])
c.close()
p = Conn(); p.connect("sc-pub")
p.send(publish("sc/t", b"queued", qos=1, pid=1)); p.expect(PUBACK)
c = Conn(); sp = c.connect("sess-clean", clean=True)
check(sp == 0, "MQTT-3.2.2-1", "clean session: session present 0")
try:
    extra = c.recv(1.0)
    fail("[MQTT-3.1.2-6] old session's message delivered to clean session: %r" % extra)
except socket.timeout:
    pass
p.send(publish("sc/t", b"live", qos=1, pid=2)); p.expect(PUBACK)
try:
    extra = c.recv(1.0)
    fail("[MQTT-3.1.2-6] old subscription still active: %r" % extra)
except socket.timeout:
    print("ok [MQTT-3.1.2-6] previous session discarded")
c.send(DISCONNECT_BYTES); c.close()
c = Conn(); sp = c.connect("sess-clean", clean=False)
check(sp == 0, "MQTT-3.1.2-6", "clean session state not kept after disconnect (session present 0)")
