# A second client with the same client id disconnects the first [MQTT-3.1.4-2].
from mqttraw import *

a = Conn(); a.connect("takeover-id")
b = Conn(); b.connect("takeover-id")
got = a.wait_closed(5)
check(got is not None, "MQTT-3.1.4-2", "first connection closed when the same id connects again")
# The new connection is the live one.
b.subscribe(1, [("takeover/t", 0)])
b.send(publish("takeover/t", b"still-here"))
m = b.expect(PUBLISH, stmt="MQTT-3.1.4-2", what="second connection works").publish()
check(m["payload"] == b"still-here", "MQTT-3.1.4-2", "second connection serves")
# And again: the third takes over from the second.
c = Conn(); c.connect("takeover-id")
check(b.wait_closed(5) is not None, "MQTT-3.1.4-2", "second connection closed by a third")
