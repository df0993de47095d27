# SUBACK: one return code per filter, in order [MQTT-3.8.4-5, MQTT-3.9.3-1],
# the granted QoS (a server may grant lower) [MQTT-3.8.4-6]; the SUBACK has
# the SUBSCRIBE's packet id [MQTT-3.8.4-2]. A filter that is malformed is a
# protocol violation (close); 0x80 is a refusal (ACL), tested elsewhere.
from mqttraw import *

c = Conn(); c.connect("suback")
c.send(subscribe(0x1234, [("s/a", 0), ("s/b", 1), ("s/c", 2), ("s/#", 1), ("+", 2)]))
p = c.expect(SUBACK, stmt="MQTT-3.8.4-1")
pid, codes = p.suback()
check(p.flags == 0, "MQTT-2.2.2-1", "SUBACK flags 0")
check(pid == 0x1234, "MQTT-3.8.4-2", "SUBACK packet id matches SUBSCRIBE")
check(codes == [0, 1, 2, 1, 2], "MQTT-3.8.4-5", "return codes per filter in order (got %r)" % codes)
# Requested QoS 3 is malformed [MQTT-3-8.3-4]: close.
violation(subscribe(2, [("s/x", 3)]), "MQTT-3-8.3-4", "SUBSCRIBE requested QoS 3")
# Reserved bits in the requested-QoS byte [MQTT-3-8.3-4].
violation(subscribe(3, [("s/x", 0x04)]), "MQTT-3-8.3-4", "SUBSCRIBE QoS byte reserved bits")
# Invalid filters [MQTT-4.7.1-2, MQTT-4.7.1-3, MQTT-4.7.3-1].
for flt in ("a/#/b", "a#", "a/b#", "a+/b", "+a", ""):
    violation(subscribe(4, [(flt, 0)]), "MQTT-4.7.1", "SUBSCRIBE with invalid filter %r" % flt)
