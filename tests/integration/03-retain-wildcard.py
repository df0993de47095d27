# Retained messages are matched by wildcard filters on subscribe, but '$'
# retained topics are not matched by '#' [MQTT-4.7.2-1]. Uses mosquitto_pub -r
# and paho.
import subprocess
from mqttraw import check, HOST, PORT
from pahoutil import Client

for t in ("rw/a", "rw/b/c", "rw/b/d", "other/x"):
    subprocess.run(["mosquitto_pub", "-h", HOST, "-p", str(PORT), "-t", t, "-m", t, "-r", "-q", "1"],
                   check=True, timeout=10)
s = Client("rw-sub"); s.subscribe("rw/b/+", 0)
got = sorted(m.topic for m in s.settle(1.0))
check(got == ["rw/b/c", "rw/b/d"], "MQTT-3.3.1-6", "retained matched by 'rw/b/+' (got %r)" % got)
h = Client("rw-hash"); h.subscribe("#", 0)
got = sorted(m.topic for m in h.settle(1.0))
check(got == ["other/x", "rw/a", "rw/b/c", "rw/b/d"], "MQTT-4.7.2-1",
      "'#' gets every retained non-$ topic and no $SYS (got %r)" % got)
check(all(m.retain for m in h.msgs), "MQTT-3.3.1-8", "retain flag 1 on all")
