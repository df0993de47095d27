# U+FEFF (BOM) in a topic is not stripped [MQTT-1.5.3-3]; multibyte UTF-8
# topics match byte-exactly; '+' spans one multibyte level.
from mqttraw import *

s = Conn(); s.connect("bom-sub"); s.subscribe(1, [("bom/+/温度", 0)])
p = Conn(); p.connect("bom-pub")
t = "bom/\ufeffhalle-Ω/温度"
p.send(publish(t, b"21.5"))
m = s.expect(PUBLISH, stmt="MQTT-1.5.3-3").publish()
check(m["topic"] == t, "MQTT-1.5.3-3", "topic with U+FEFF and multibyte characters delivered unchanged")
