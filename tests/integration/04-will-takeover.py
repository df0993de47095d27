# Session takeover closes the old connection without DISCONNECT, so the old
# connection's Will is published [MQTT-3.1.4-2, MQTT-3.1.2-8].
from mqttraw import *

s = Conn(); s.connect("wt-watch"); s.subscribe(1, [("wt/#", 0)])
a = Conn(); a.connect("wt-id", will=("wt/old", b"old-will", 0, False))
b = Conn(); b.connect("wt-id")
check(a.wait_closed(5) is not None, "MQTT-3.1.4-2", "old connection closed by takeover")
m = s.expect(PUBLISH, timeout=5, stmt="MQTT-3.1.2-8").publish()
check(m["topic"] == "wt/old", "MQTT-3.1.2-8", "old connection's will published on takeover")
