# mosquitto compatibility (not a spec statement): a client may publish to a
# '$' topic other than '$SYS' (e.g. '$app/state'); subscribers whose filter
# starts with '$app' get it, live and retained, while '#' does not
# [MQTT-4.7.2-1]. mosquitto 2.0 behaves so; a broker that PUBACKs and then
# silently drops such messages breaks gateways that use '$'-prefixed
# application topics.
import socket
from mqttraw import *

s = Conn(); s.connect("da-sub"); s.subscribe(1, [("$app/#", 0)])
h = Conn(); h.connect("da-hash"); h.subscribe(1, [("#", 0)])
p = Conn(); p.connect("da-pub")
p.send(publish("$app/state", b"live", qos=1, pid=1)); p.expect(PUBACK)
m = s.expect(PUBLISH, timeout=2, stmt="compat", what="'$app/state' live to '$app/#'").publish()
check(m["payload"] == b"live", "compat", "'$app/#' subscriber got the live '$app/state'")
p.send(publish("$app/state", b"ret", qos=1, pid=2, retain=True)); p.expect(PUBACK)
s.expect(PUBLISH, timeout=2)
n = Conn(); n.connect("da-new"); n.subscribe(1, [("$app/state", 0)])
m = n.expect(PUBLISH, timeout=2, stmt="compat", what="retained '$app/state'").publish()
check(m["payload"] == b"ret" and m["retain"], "compat", "retained '$app/state' delivered on subscribe")
try:
    k = h.recv(1.0).publish()
    if k["topic"].startswith("$"):
        fail("[MQTT-4.7.2-1] '#' received %r" % k["topic"])
except socket.timeout:
    print("ok [MQTT-4.7.2-1] '#' did not receive '$app/state'")
