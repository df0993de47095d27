# conf: sys_interval 1
# $SYS topics are the broker's: a client PUBLISH to $SYS/... must not be
# delivered to $SYS subscribers as if from the broker (mosquitto drops them;
# 3.1.1 4.7.2 leaves it to the server, moat drops them too), and the broker
# keeps serving.
import time
from mqttraw import check
from pahoutil import Client

s = Client("sro-watch"); s.subscribe("$SYS/broker/uptime", 0)
s.wait_msgs(1, 4)
p = Client("sro-pub")
p.publish("$SYS/broker/uptime", b"forged", qos=1)
time.sleep(1.5)
forged = [m for m in s.msgs if m.payload == b"forged"]
check(not forged, "4.7.2", "client PUBLISH to $SYS/broker/uptime not delivered")
