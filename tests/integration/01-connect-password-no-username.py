# Password flag set with username flag 0 is a violation [MQTT-3.1.2-22].
from mqttraw import *

violation(connect("pw-only", password="secret"), "MQTT-3.1.2-22",
          "password flag without username flag", pre_connect=False, allow=(CONNACK,))
