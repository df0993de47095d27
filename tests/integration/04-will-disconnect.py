# No Will after a clean DISCONNECT [MQTT-3.1.2-10]; paho client disconnect().
import socket
from mqttraw import *
from pahoutil import Client

s = Conn(); s.connect("wd-watch"); s.subscribe(1, [("wd/#", 0)])
w = Conn(); w.connect("wd-raw", will=("wd/raw", b"x", 0, False))
w.send(DISCONNECT_BYTES); w.close()
k = Client("wd-paho", will=("wd/paho", b"y", 1, False))
k.disconnect()
try:
    extra = s.recv(1.5)
    fail("[MQTT-3.1.2-10] will published after DISCONNECT: %r" % extra)
except socket.timeout:
    print("ok [MQTT-3.1.2-10] no will after DISCONNECT (raw and paho)")
