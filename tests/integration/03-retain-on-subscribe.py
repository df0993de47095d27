# A retained message is stored and sent to new subscribers with retain=1
# [MQTT-3.3.1-5, MQTT-3.3.1-8]; live deliveries to existing subscribers have
# retain=0 [MQTT-3.3.1-9]; delivered QoS is min(retained QoS, granted).
from mqttraw import *

live = Conn(); live.connect("ret-live"); live.subscribe(1, [("ret/#", 1)])
p = Conn(); p.connect("ret-pub")
p.send(publish("ret/a", b"state-a", qos=1, retain=True, pid=1)); p.expect(PUBACK)
p.send(publish("ret/b", b"state-b", qos=0, retain=True))
m = live.expect(PUBLISH, stmt="MQTT-3.3.1-9").publish()
check(m["topic"] == "ret/a" and not m["retain"], "MQTT-3.3.1-9", "live delivery has retain 0")
live.send(ack(PUBACK, m["pid"]))
m = live.expect(PUBLISH, stmt="MQTT-3.3.1-9").publish()
check(m["topic"] == "ret/b" and not m["retain"], "MQTT-3.3.1-9", "live delivery has retain 0 (QoS 0)")
late = Conn(); late.connect("ret-late")
late.send(subscribe(2, [("ret/+", 2)]))
late.expect(SUBACK, stmt="MQTT-3.8.4-4")
got = {}
for _ in range(2):
    m = late.expect(PUBLISH, stmt="MQTT-3.3.1-8").publish()
    got[m["topic"]] = m
    if m["qos"] == 1: late.send(ack(PUBACK, m["pid"]))
check(set(got) == {"ret/a", "ret/b"}, "MQTT-3.3.1-6", "both retained messages sent on subscribe")
check(all(m["retain"] for m in got.values()), "MQTT-3.3.1-8", "retained messages sent with retain 1")
check(got["ret/a"]["payload"] == b"state-a" and got["ret/a"]["qos"] == 1, "MQTT-3.3.1-5",
      "retained QoS 1 message stored and sent at QoS 1")
check(got["ret/b"]["qos"] == 0, "MQTT-3.3.1-5", "retained QoS 0 message sent at QoS 0")
# A subscriber at QoS 0 gets the QoS 1 retained message downgraded.
q0 = Conn(); q0.connect("ret-q0"); q0.subscribe(3, [("ret/a", 0)])
m = q0.expect(PUBLISH, stmt="MQTT-3.8.4-6").publish()
check(m["qos"] == 0 and m["retain"], "MQTT-3.8.4-6", "retained message downgraded to granted QoS 0")
