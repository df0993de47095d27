# mosquitto-deviates: mosquitto 2.0.11 does not publish the Will when it closes a connection for a second CONNECT
# The Will is published when the server closes the connection because of a
# protocol error [MQTT-3.1.2-8] (here: a QoS 3 PUBLISH, and a second CONNECT).
from mqttraw import *

s = Conn(); s.connect("wpe-watch"); s.subscribe(1, [("wpe/#", 0)])
bad = bytearray(publish("wpe/x", b"x", qos=1, pid=1)); bad[0] |= 0x06
for i, (what, data) in enumerate([("QoS 3 PUBLISH", bytes(bad)), ("second CONNECT", connect("again"))]):
    c = Conn(); c.connect("wpe-%d" % i, will=("wpe/will%d" % i, b"err", 0, False))
    c.send(data)
    expect_closed(c, "MQTT-3.1.2-8", what)
    m = s.expect(PUBLISH, timeout=3, stmt="MQTT-3.1.2-8", what="will after " + what).publish()
    check(m["topic"] == "wpe/will%d" % i, "MQTT-3.1.2-8", "will published after " + what)
