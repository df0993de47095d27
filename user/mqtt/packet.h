/* MQTT 3.1.1 control packets: types, decoded views and the codec contract.
 *
 * Decoding is pure: functions take (buffer, length), never allocate and
 * return views into the caller's buffer. A decoded packet is valid only as
 * long as the buffer it came from.
 *
 * Return convention of every parser here:
 *   > 0   bytes consumed (mqtt_fixed_parse: length of the fixed header)
 *   = 0   need more input (only where a partial input is possible)
 *   < 0   -(enum mqtt_err): a violation; mqtt_strerror() names the spec
 *         statement.
 */
#ifndef MOAT_MQTT_PACKET_H
#define MOAT_MQTT_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum mqtt_ptype {
    MQTT_CONNECT = 1, MQTT_CONNACK, MQTT_PUBLISH, MQTT_PUBACK, MQTT_PUBREC,
    MQTT_PUBREL, MQTT_PUBCOMP, MQTT_SUBSCRIBE, MQTT_SUBACK, MQTT_UNSUBSCRIBE,
    MQTT_UNSUBACK, MQTT_PINGREQ, MQTT_PINGRESP, MQTT_DISCONNECT,
};

#define MQTT_MAX_REMAINING 268435455u  /* 4-byte varint maximum [MQTT-2.2.3] */

/* CONNACK return codes [MQTT-3.2.2.3] */
enum mqtt_connack_rc {
    MQTT_CONNACK_ACCEPTED = 0,
    MQTT_CONNACK_BAD_PROTOCOL = 1,
    MQTT_CONNACK_ID_REJECTED = 2,
    MQTT_CONNACK_UNAVAILABLE = 3,
    MQTT_CONNACK_BAD_AUTH = 4,
    MQTT_CONNACK_NOT_AUTHORIZED = 5,
};

#define MQTT_SUBACK_FAILURE 0x80

/* Every way a packet can be malformed. mqtt_strerror() returns a string
 * that starts with the spec statement, e.g. "[MQTT-3.1.2-3] ...". */
enum mqtt_err {
    MQTT_E_NONE = 0,
    MQTT_E_TYPE,            /* reserved packet type 0 or 15 */
    MQTT_E_FLAGS,           /* fixed header flags wrong for type [MQTT-2.2.2-1/2] */
    MQTT_E_QOS3,            /* PUBLISH QoS 3 [MQTT-3.3.1-4] */
    MQTT_E_DUP_QOS0,        /* DUP set on QoS 0 [MQTT-3.3.1-2] */
    MQTT_E_VARINT,          /* remaining length longer than 4 bytes */
    MQTT_E_TOO_LARGE,       /* exceeds the configured maximum packet size */
    MQTT_E_SHORT,           /* body ends before a field */
    MQTT_E_TRAILING,        /* bytes left after the last field */
    MQTT_E_PROTO_NAME,      /* protocol name not MQTT/MQIsdp [MQTT-3.1.2-1] */
    MQTT_E_PROTO_LEVEL,     /* unsupported level [MQTT-3.1.2-2]: CONNACK 1 */
    MQTT_E_CONNECT_RESERVED,/* reserved flag set [MQTT-3.1.2-3] */
    MQTT_E_WILL_FLAGS,      /* will QoS/retain without will flag [MQTT-3.1.2-11/13/15] */
    MQTT_E_WILL_QOS,        /* will QoS 3 [MQTT-3.1.2-14] */
    MQTT_E_PASSWORD_NO_USER,/* password flag without username [MQTT-3.1.2-22] */
    MQTT_E_UTF8,            /* ill-formed UTF-8 or U+D800..DFFF [MQTT-1.5.3-1] */
    MQTT_E_UTF8_NUL,        /* U+0000 in a string [MQTT-1.5.3-2] */
    MQTT_E_TOPIC_EMPTY,     /* zero-length topic [MQTT-4.7.3-1] */
    MQTT_E_TOPIC_WILDCARD,  /* wildcard in a topic name [MQTT-3.3.2-2] */
    MQTT_E_FILTER,          /* malformed topic filter [MQTT-4.7.1-2/3] */
    MQTT_E_PID_ZERO,        /* packet identifier 0 [MQTT-2.3.1-1] */
    MQTT_E_NO_FILTERS,      /* SUBSCRIBE/UNSUBSCRIBE without a filter [MQTT-3.8.3-3/3.10.3-2] */
    MQTT_E_SUB_QOS,         /* requested QoS byte not 0..2 [MQTT-3-8.3-4] */
    MQTT_E_CONNACK_RESERVED,/* CONNACK reserved bits (client-side decode) */
    MQTT_E_CONNACK_RC,      /* CONNACK return code > 5 [MQTT-3.2.2.3] (client-side) */
    MQTT_E_SUBACK_RC,       /* SUBACK code not 0,1,2,0x80 [MQTT-3.9.3-2] (client-side) */
    MQTT_E__COUNT
};

const char *mqtt_strerror(int err);   /* accepts err or -err */
const char *mqtt_ptype_name(int type);

/* A view of bytes inside the caller's buffer. */
struct mqtt_bytes {
    const uint8_t *p;
    uint32_t len;
};

struct mqtt_fixed {
    uint8_t  type;       /* enum mqtt_ptype */
    uint8_t  flags;      /* low nibble of byte 1 */
    uint8_t  hdr_len;    /* 2..5 */
    uint32_t remaining;  /* remaining length */
};

/* Parses the fixed header at buf. Checks the type, the flags for the type
 * and the varint; rejects remaining + hdr_len > max_packet (0: no limit other
 * than the protocol's). Returns hdr_len, 0 for need-more, or -err. */
int mqtt_fixed_parse(const uint8_t *buf, size_t len, uint32_t max_packet,
                     struct mqtt_fixed *fh);

struct mqtt_connect {
    uint8_t  level;           /* 4 (3.1.1) or 3 (3.1, "MQIsdp") */
    bool     clean_session;
    bool     will;
    uint8_t  will_qos;
    bool     will_retain;
    bool     has_username;
    bool     has_password;
    uint16_t keepalive;
    struct mqtt_bytes client_id;   /* may be empty */
    struct mqtt_bytes will_topic;  /* valid topic name when will */
    struct mqtt_bytes will_payload;
    struct mqtt_bytes username;
    struct mqtt_bytes password;    /* binary */
};

struct mqtt_connack {
    bool    session_present;
    uint8_t rc;
};

struct mqtt_publish {
    uint8_t  qos;
    bool     dup;
    bool     retain;
    uint16_t pid;                  /* 0 for QoS 0 */
    struct mqtt_bytes topic;       /* validated topic name */
    struct mqtt_bytes payload;
};

/* SUBSCRIBE / UNSUBSCRIBE: the list is validated by the decoder (every
 * filter well formed, every QoS byte valid); walk it with mqtt_filters_next.
 * SUBACK: rcs points at count return codes. */
struct mqtt_filters {
    uint16_t pid;
    uint32_t count;
    struct mqtt_bytes list;        /* the raw payload */
};

struct mqtt_suback {
    uint16_t pid;
    uint32_t count;
    const uint8_t *rcs;
};

struct mqtt_packet {
    uint8_t type;
    uint8_t flags;
    union {
        struct mqtt_connect  connect;
        struct mqtt_connack  connack;
        struct mqtt_publish  publish;
        struct mqtt_filters  filters;  /* SUBSCRIBE, UNSUBSCRIBE */
        struct mqtt_suback   suback;
        uint16_t             pid;      /* PUBACK PUBREC PUBREL PUBCOMP UNSUBACK */
    } u;
};

/* Decodes the body (exactly fh->remaining bytes at body) of a packet whose
 * fixed header was parsed by mqtt_fixed_parse. Decodes all 14 types; which
 * types a server accepts from a client is the caller's policy.
 * Returns 0 (MQTT_E_NONE) or -err. */
int mqtt_decode(const struct mqtt_fixed *fh, const uint8_t *body, size_t len,
                struct mqtt_packet *pkt);

/* Iterates a validated SUBSCRIBE/UNSUBSCRIBE list. *off starts at 0.
 * qos is set for SUBSCRIBE only (pass NULL for UNSUBSCRIBE).
 * Returns 1 with an entry, 0 at the end. */
int mqtt_filters_next(const struct mqtt_filters *f, bool subscribe,
                      uint32_t *off, struct mqtt_bytes *filter, uint8_t *qos);

/* ---- Encoding. Every encoder writes into out (capacity cap) and returns
 * the bytes written, or 0 if cap is too small or an argument is invalid. */

/* Writes a varint; returns 1..4, or 0 if v > MQTT_MAX_REMAINING. */
size_t mqtt_varint_encode(uint8_t out[4], uint32_t v);

size_t mqtt_encode_connack(uint8_t *out, size_t cap, bool session_present, uint8_t rc);
/* PUBACK PUBREC PUBREL(flags 2) PUBCOMP UNSUBACK */
size_t mqtt_encode_ack(uint8_t *out, size_t cap, uint8_t type, uint16_t pid);
/* PINGREQ PINGRESP DISCONNECT */
size_t mqtt_encode_empty(uint8_t *out, size_t cap, uint8_t type);
size_t mqtt_encode_suback(uint8_t *out, size_t cap, uint16_t pid,
                          const uint8_t *rcs, uint32_t count);
/* PUBLISH without its payload: fixed header (remaining length covering the
 * payload too), topic, packet id when qos > 0. The caller sends payload_len
 * payload bytes right after, so one payload can be shared by every
 * subscriber (writev). */
size_t mqtt_encode_publish_head(uint8_t *out, size_t cap, uint8_t qos, bool dup,
                                bool retain, const uint8_t *topic, uint16_t topic_len,
                                uint16_t pid, uint32_t payload_len);
/* Whole packets (client side, for tests and moat-bench). */
size_t mqtt_encode_connect(uint8_t *out, size_t cap, const struct mqtt_connect *c);
size_t mqtt_encode_publish(uint8_t *out, size_t cap, const struct mqtt_publish *p);
/* filters: count entries; qos NULL for UNSUBSCRIBE */
size_t mqtt_encode_subscribe(uint8_t *out, size_t cap, uint16_t pid,
                             const struct mqtt_bytes *filters, const uint8_t *qos,
                             uint32_t count);
size_t mqtt_encode_unsubscribe(uint8_t *out, size_t cap, uint16_t pid,
                               const struct mqtt_bytes *filters, uint32_t count);

#endif
