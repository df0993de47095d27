# Will flag consistency rules in CONNECT.
from mqttraw import *

# Will flag 0 but Will QoS non-zero [MQTT-3.1.2-13].
violation(connect("wf1", flags=0x02 | 0x08), "MQTT-3.1.2-13", "will QoS 1 without will flag",
          pre_connect=False, allow=(CONNACK,))
# Will QoS 3 [MQTT-3.1.2-14].
violation(connect("wf2", will=("w/t", b"x", 3, False)), "MQTT-3.1.2-14", "will QoS 3",
          pre_connect=False, allow=(CONNACK,))
# Will retain without will flag [MQTT-3.1.2-15].
violation(connect("wf3", flags=0x02 | 0x20), "MQTT-3.1.2-15", "will retain without will flag",
          pre_connect=False, allow=(CONNACK,))
# Will topic with a wildcard is not a valid topic name [MQTT-3.1.2-9, MQTT-3.3.2-2].
violation(connect("wf4", will=("w/#", b"x", 0, False)), "MQTT-3.3.2-2", "will topic with wildcard",
          pre_connect=False, allow=(CONNACK,))
