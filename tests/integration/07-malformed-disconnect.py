# A malformed DISCONNECT (reserved flags [MQTT-2.2.2-2] or a body) is a
# protocol error, not a DISCONNECT: the connection is closed and the Will
# IS published [MQTT-3.1.2-8] (which a valid DISCONNECT would discard
# [MQTT-3.14.4-3]).
from mqttraw import *

watch = Conn(); watch.connect("dis-watch"); watch.subscribe(1, [("dis/#", 0)])
for i, (what, data) in enumerate([("DISCONNECT flags 0x2", bytes([0xE2, 0x00])),
                                   ("DISCONNECT with a 1-byte body", bytes([0xE0, 0x01, 0x00]))]):
    c = Conn(); c.connect("dis-%d" % i, will=("dis/will%d" % i, b"w", 0, False))
    c.send(data)
    expect_closed(c, "MQTT-2.2.2-2", what)
    m = watch.expect(PUBLISH, timeout=3, stmt="MQTT-3.1.2-8", what="will after " + what).publish()
    check(m["topic"] == "dis/will%d" % i, "MQTT-3.1.2-8", "will published after " + what)
broker_alive()
