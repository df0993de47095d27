# Changes to a persistent session's subscriptions persist: after UNSUBSCRIBE
# and reconnect nothing is delivered; after a re-SUBSCRIBE at a new QoS the
# new QoS persists [MQTT-3.1.2-4, MQTT-3.8.4-3].
import socket
from mqttraw import *

c = Conn(); c.connect("sup", clean=False)
c.subscribe(1, [("sup/a", 1), ("sup/b", 2)])
c.send(unsubscribe(2, ["sup/a"])); c.expect(UNSUBACK)
c.subscribe(3, [("sup/b", 0)])
c.send(DISCONNECT_BYTES); c.close()
c = Conn(); c.connect("sup", clean=False)
p = Conn(); p.connect("sup-pub")
p.send(publish("sup/a", b"a", qos=1, pid=1)); p.expect(PUBACK)
p.send(publish("sup/b", b"b", qos=2, pid=2)); p.expect(PUBREC); p.send(ack(PUBREL, 2)); p.expect(PUBCOMP)
m = c.expect(PUBLISH, stmt="MQTT-3.1.2-4").publish()
check(m["topic"] == "sup/b" and m["qos"] == 0, "MQTT-3.8.4-3", "persisted re-subscribe at QoS 0 (got %r)" % m)
try:
    fail("[MQTT-3.1.2-4] unsubscribed filter still delivers: %r" % c.recv(1.0))
except socket.timeout:
    print("ok [MQTT-3.1.2-4] UNSUBSCRIBE persisted across reconnect")
