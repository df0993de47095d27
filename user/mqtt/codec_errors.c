/* Names for codec errors and packet types, for logs and tests. Each error
 * string starts with the OASIS MQTT 3.1.1 statement (or section) it
 * enforces, so a log line says which rule a peer broke. */
#include "mqtt/packet.h"

static const char *const err_str[MQTT_E__COUNT] = {
    [MQTT_E_NONE] = "no error",
    [MQTT_E_TYPE] = "[MQTT-2.2.1] reserved packet type 0 or 15",
    [MQTT_E_FLAGS] = "[MQTT-2.2.2-1] fixed header flags invalid for the packet type",
    [MQTT_E_QOS3] = "[MQTT-3.3.1-4] PUBLISH with QoS 3",
    [MQTT_E_DUP_QOS0] = "[MQTT-3.3.1-2] PUBLISH DUP flag set with QoS 0",
    [MQTT_E_VARINT] = "[MQTT-2.2.3] remaining length longer than 4 bytes",
    [MQTT_E_TOO_LARGE] = "[MQTT-2.2.3] packet exceeds the configured maximum size",
    [MQTT_E_SHORT] = "[MQTT-4.8.0-1] packet ends before a field is complete",
    [MQTT_E_TRAILING] = "[MQTT-4.8.0-1] bytes left after the last field",
    [MQTT_E_PROTO_NAME] = "[MQTT-3.1.2-1] CONNECT protocol name is not MQTT or MQIsdp",
    [MQTT_E_PROTO_LEVEL] = "[MQTT-3.1.2-2] CONNECT protocol level not supported",
    [MQTT_E_CONNECT_RESERVED] = "[MQTT-3.1.2-3] CONNECT reserved flag is not 0",
    [MQTT_E_WILL_FLAGS] = "[MQTT-3.1.2-11] CONNECT will QoS or will retain set without will flag",
    [MQTT_E_WILL_QOS] = "[MQTT-3.1.2-14] CONNECT will QoS 3",
    [MQTT_E_PASSWORD_NO_USER] = "[MQTT-3.1.2-22] CONNECT password flag without user name flag",
    [MQTT_E_UTF8] = "[MQTT-1.5.3-1] ill-formed UTF-8 string (overlong, surrogate or > U+10FFFF)",
    [MQTT_E_UTF8_NUL] = "[MQTT-1.5.3-2] UTF-8 string contains U+0000",
    [MQTT_E_TOPIC_EMPTY] = "[MQTT-4.7.3-1] topic name or filter is empty",
    [MQTT_E_TOPIC_WILDCARD] = "[MQTT-3.3.2-2] wildcard in a topic name",
    [MQTT_E_FILTER] = "[MQTT-4.7.1-2] topic filter wildcard not a whole level ('#' last only)",
    [MQTT_E_PID_ZERO] = "[MQTT-2.3.1-1] packet identifier is 0",
    [MQTT_E_NO_FILTERS] = "[MQTT-3.8.3-3] SUBSCRIBE/UNSUBSCRIBE without a topic filter",
    [MQTT_E_SUB_QOS] = "[MQTT-3-8.3-4] SUBSCRIBE requested QoS byte not 0, 1 or 2",
    [MQTT_E_CONNACK_RESERVED] = "[MQTT-3.2.2.1] CONNACK reserved acknowledge flag bits not 0",
    [MQTT_E_CONNACK_RC] = "[MQTT-3.2.2.3] CONNACK return code reserved (> 5)",
    [MQTT_E_SUBACK_RC] = "[MQTT-3.9.3-2] SUBACK return code not 0x00, 0x01, 0x02 or 0x80",
};

/* Contract in packet.h: err or -err; never NULL. */
const char *mqtt_strerror(int err)
{
    long e = err < 0 ? -(long)err : err;   /* -INT_MIN safe */

    if (e >= MQTT_E__COUNT || err_str[e] == NULL)
        return "unknown MQTT codec error";
    return err_str[e];
}

static const char *const type_str[16] = {
    "RESERVED0", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL",
    "PUBCOMP", "SUBSCRIBE", "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ",
    "PINGRESP", "DISCONNECT", "RESERVED15",
};

/* Returns the packet type's name as in the spec; never NULL. */
const char *mqtt_ptype_name(int type)
{
    if (type < 0 || type > 15)
        return "INVALID";
    return type_str[type];
}
