# The Will message is published when the network connection is closed
# without DISCONNECT [MQTT-3.1.2-8]; it is removed afterwards, so a later
# DISCONNECT-less close of another connection has no trace of it.
import time
from mqttraw import *

s = Conn(); s.connect("will-watch"); s.subscribe(1, [("will/#", 1)])
w = Conn(); w.connect("will-dies", will=("will/dies", b"gone", 1, False), keepalive=60)
w.send(PINGREQ_BYTES); w.expect(PINGRESP)
w.close()      # TCP FIN without DISCONNECT
m = s.expect(PUBLISH, timeout=5, stmt="MQTT-3.1.2-8").publish()
check(m["topic"] == "will/dies" and m["payload"] == b"gone", "MQTT-3.1.2-8",
      "will published on abnormal close")
check(m["qos"] == 1 and not m["retain"], "MQTT-3.1.2-14", "will QoS 1, retain 0 (got %r)" % m)
s.send(ack(PUBACK, m["pid"]))
# RST instead of FIN: same.
import socket, struct
w = Conn(); w.connect("will-rst", will=("will/rst", b"reset", 0, False))
w.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
w.close()
m = s.expect(PUBLISH, timeout=5, stmt="MQTT-3.1.2-8").publish()
check(m["topic"] == "will/rst", "MQTT-3.1.2-8", "will published on connection reset")
