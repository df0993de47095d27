# A second CONNECT on a connection is a protocol violation: close [MQTT-3.1.0-2].
from mqttraw import *

violation(connect("second-connect"), "MQTT-3.1.0-2", "second CONNECT")
