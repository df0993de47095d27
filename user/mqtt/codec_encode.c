/* MQTT 3.1.1 encoders. Each checks capacity before writing anything and
 * returns 0 on a short buffer or an argument that would produce a packet
 * the protocol forbids (pid 0 with QoS > 0, QoS 3, oversized lengths).
 * String contents are not validated, so tests can build packets that a
 * decoder must reject. */
#include <string.h>

#include "mqtt/packet.h"

/* Write cursor; ok turns false on the first overflow and stays false. */
struct wcur {
    uint8_t *p;
    size_t left;
    bool ok;
};

static void put(struct wcur *w, const void *src, size_t n)
{
    if (!w->ok || n > w->left) {
        w->ok = false;
        return;
    }
    if (n > 0)
        memcpy(w->p, src, n);
    w->p += n;
    w->left -= n;
}

static void put_u8(struct wcur *w, uint8_t v)
{
    put(w, &v, 1);
}

static void put_u16(struct wcur *w, uint16_t v)
{
    uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };
    put(w, b, 2);
}

/* 2-byte length prefix then the bytes; the caller checked len <= 65535. */
static void put_lenbytes(struct wcur *w, const uint8_t *p, uint32_t len)
{
    put_u16(w, (uint16_t)len);
    put(w, p, len);
}

/* Fixed header. remaining is computed in 64 bits by callers so any sum of
 * field lengths is representable; too large for a varint fails here. */
static void put_fixed(struct wcur *w, uint8_t byte0, uint64_t remaining)
{
    uint8_t v[4];
    size_t n;

    if (remaining > MQTT_MAX_REMAINING) {
        w->ok = false;
        return;
    }
    n = mqtt_varint_encode(v, (uint32_t)remaining);
    put_u8(w, byte0);
    put(w, v, n);
}

static size_t done(const struct wcur *w, const uint8_t *out)
{
    return w->ok ? (size_t)(w->p - out) : 0;
}

/* Capacity is checked for the whole packet up front so a failed call
 * leaves no partial packet that looks complete. */
static bool fits(size_t cap, uint64_t remaining)
{
    uint8_t v[4];

    if (remaining > MQTT_MAX_REMAINING)
        return false;
    return 1 + mqtt_varint_encode(v, (uint32_t)remaining) + remaining <= cap;
}

/* Session present is written only with rc 0 [MQTT-3.2.2-4]; rc 6..255
 * are reserved [MQTT-3.2.2.3]. */
size_t mqtt_encode_connack(uint8_t *out, size_t cap, bool session_present, uint8_t rc)
{
    struct wcur w = { out, cap, true };

    if (rc > MQTT_CONNACK_NOT_AUTHORIZED || !fits(cap, 2))
        return 0;
    put_fixed(&w, MQTT_CONNACK << 4, 2);
    put_u8(&w, (session_present && rc == 0) ? 1 : 0);
    put_u8(&w, rc);
    return done(&w, out);
}

/* PUBACK PUBREC PUBREL PUBCOMP UNSUBACK; PUBREL carries flags 0b0010
 * [MQTT-3.6.1-1]. pid must be non-zero [MQTT-2.3.1-1]. */
size_t mqtt_encode_ack(uint8_t *out, size_t cap, uint8_t type, uint16_t pid)
{
    struct wcur w = { out, cap, true };
    uint8_t flags = 0;

    switch (type) {
    case MQTT_PUBREL:
        flags = 0x2;
        break;
    case MQTT_PUBACK: case MQTT_PUBREC: case MQTT_PUBCOMP: case MQTT_UNSUBACK:
        break;
    default:
        return 0;
    }
    if (pid == 0 || !fits(cap, 2))
        return 0;
    put_fixed(&w, (uint8_t)(type << 4 | flags), 2);
    put_u16(&w, pid);
    return done(&w, out);
}

/* PINGREQ PINGRESP DISCONNECT: two bytes. */
size_t mqtt_encode_empty(uint8_t *out, size_t cap, uint8_t type)
{
    struct wcur w = { out, cap, true };

    if (type != MQTT_PINGREQ && type != MQTT_PINGRESP && type != MQTT_DISCONNECT)
        return 0;
    if (!fits(cap, 0))
        return 0;
    put_fixed(&w, (uint8_t)(type << 4), 0);
    return done(&w, out);
}

/* One return code per filter, each 0, 1, 2 or 0x80 [MQTT-3.9.3-2]. */
size_t mqtt_encode_suback(uint8_t *out, size_t cap, uint16_t pid,
                          const uint8_t *rcs, uint32_t count)
{
    struct wcur w = { out, cap, true };
    uint64_t rem = 2 + (uint64_t)count;

    if (pid == 0 || count == 0 || rcs == NULL || !fits(cap, rem))
        return 0;
    for (uint32_t i = 0; i < count; i++)
        if (rcs[i] > 2 && rcs[i] != MQTT_SUBACK_FAILURE)
            return 0;
    put_fixed(&w, MQTT_SUBACK << 4, rem);
    put_u16(&w, pid);
    put(&w, rcs, count);
    return done(&w, out);
}

/* Shared by the head-only and the whole-packet PUBLISH encoders; checks
 * the arguments and returns the remaining length, or -1 when invalid. */
static int64_t publish_remaining(uint8_t qos, bool dup, const uint8_t *topic,
                                 uint32_t topic_len, uint16_t pid, uint32_t payload_len)
{
    uint64_t rem;

    if (qos > 2 || (dup && qos == 0))    /* [MQTT-3.3.1-4], [MQTT-3.3.1-2] */
        return -1;
    if (qos > 0 && pid == 0)             /* [MQTT-2.3.1-1] */
        return -1;
    if (topic_len == 0 || topic_len > 0xFFFF || topic == NULL)
        return -1;                       /* [MQTT-4.7.3-1] */
    rem = 2 + (uint64_t)topic_len + (qos ? 2 : 0) + payload_len;
    if (rem > MQTT_MAX_REMAINING)
        return -1;
    return (int64_t)rem;
}

static void put_publish_head(struct wcur *w, uint8_t qos, bool dup, bool retain,
                             const uint8_t *topic, uint32_t topic_len,
                             uint16_t pid, uint64_t rem)
{
    uint8_t b0 = (uint8_t)(MQTT_PUBLISH << 4 | (dup ? 0x8 : 0) | qos << 1 |
                           (retain ? 1 : 0));

    put_fixed(w, b0, rem);
    put_lenbytes(w, topic, topic_len);
    if (qos > 0)
        put_u16(w, pid);
}

/* Contract in packet.h: cap needs to hold the head only. */
size_t mqtt_encode_publish_head(uint8_t *out, size_t cap, uint8_t qos, bool dup,
                                bool retain, const uint8_t *topic, uint16_t topic_len,
                                uint16_t pid, uint32_t payload_len)
{
    struct wcur w = { out, cap, true };
    int64_t rem = publish_remaining(qos, dup, topic, topic_len, pid, payload_len);

    if (rem < 0)
        return 0;
    put_publish_head(&w, qos, dup, retain, topic, topic_len, pid, (uint64_t)rem);
    return done(&w, out);
}

/* Contract in packet.h: head and payload in one buffer. */
size_t mqtt_encode_publish(uint8_t *out, size_t cap, const struct mqtt_publish *p)
{
    struct wcur w = { out, cap, true };
    int64_t rem = publish_remaining(p->qos, p->dup, p->topic.p, p->topic.len,
                                    p->pid, p->payload.len);

    if (rem < 0 || !fits(cap, (uint64_t)rem))
        return 0;
    if (p->payload.len > 0 && p->payload.p == NULL)
        return 0;
    put_publish_head(&w, p->qos, p->dup, p->retain, p->topic.p, p->topic.len,
                     p->pid, (uint64_t)rem);
    put(&w, p->payload.p, p->payload.len);
    return done(&w, out);
}

static bool field_ok(const struct mqtt_bytes *b)
{
    return b->len <= 0xFFFF && (b->len == 0 || b->p != NULL);
}

/* Contract in packet.h. Level 4 writes "MQTT", level 3 "MQIsdp"; will
 * QoS and retain are written only with the will flag [MQTT-3.1.2-13/15];
 * a password needs a user name [MQTT-3.1.2-22]. */
size_t mqtt_encode_connect(uint8_t *out, size_t cap, const struct mqtt_connect *c)
{
    struct wcur w = { out, cap, true };
    const char *name;
    uint8_t flags = 0;
    uint64_t rem;

    if (c->level == 4)
        name = "MQTT";
    else if (c->level == 3)
        name = "MQIsdp";
    else
        return 0;
    if (c->has_password && !c->has_username)
        return 0;
    if (c->will && c->will_qos > 2)
        return 0;
    if (!field_ok(&c->client_id) ||
        (c->will && (!field_ok(&c->will_topic) || !field_ok(&c->will_payload))) ||
        (c->has_username && !field_ok(&c->username)) ||
        (c->has_password && !field_ok(&c->password)))
        return 0;
    rem = 2 + strlen(name) + 1 + 1 + 2 + 2 + (uint64_t)c->client_id.len;
    if (c->will)
        rem += 4 + (uint64_t)c->will_topic.len + c->will_payload.len;
    if (c->has_username)
        rem += 2 + (uint64_t)c->username.len;
    if (c->has_password)
        rem += 2 + (uint64_t)c->password.len;
    if (!fits(cap, rem))
        return 0;
    if (c->clean_session)
        flags |= 0x02;
    if (c->will)
        flags |= (uint8_t)(0x04 | c->will_qos << 3 | (c->will_retain ? 0x20 : 0));
    if (c->has_password)
        flags |= 0x40;
    if (c->has_username)
        flags |= 0x80;
    put_fixed(&w, MQTT_CONNECT << 4, rem);
    put_lenbytes(&w, (const uint8_t *)name, (uint32_t)strlen(name));
    put_u8(&w, c->level);
    put_u8(&w, flags);
    put_u16(&w, c->keepalive);
    put_lenbytes(&w, c->client_id.p, c->client_id.len);
    if (c->will) {
        put_lenbytes(&w, c->will_topic.p, c->will_topic.len);
        put_lenbytes(&w, c->will_payload.p, c->will_payload.len);
    }
    if (c->has_username)
        put_lenbytes(&w, c->username.p, c->username.len);
    if (c->has_password)
        put_lenbytes(&w, c->password.p, c->password.len);
    return done(&w, out);
}

/* SUBSCRIBE and UNSUBSCRIBE share the layout; qos NULL means UNSUBSCRIBE.
 * Flags 0b0010 [MQTT-3.8.1-1, 3.10.1-1]; at least one filter. */
static size_t encode_filters(uint8_t *out, size_t cap, uint8_t type, uint16_t pid,
                             const struct mqtt_bytes *filters, const uint8_t *qos,
                             uint32_t count)
{
    struct wcur w = { out, cap, true };
    uint64_t rem = 2;

    if (pid == 0 || count == 0 || filters == NULL)
        return 0;
    for (uint32_t i = 0; i < count; i++) {
        if (!field_ok(&filters[i]) || (qos && qos[i] > 2))
            return 0;
        rem += 2 + (uint64_t)filters[i].len + (qos ? 1 : 0);
        if (rem > MQTT_MAX_REMAINING)
            return 0;
    }
    if (!fits(cap, rem))
        return 0;
    put_fixed(&w, (uint8_t)(type << 4 | 0x2), rem);
    put_u16(&w, pid);
    for (uint32_t i = 0; i < count; i++) {
        put_lenbytes(&w, filters[i].p, filters[i].len);
        if (qos)
            put_u8(&w, qos[i]);
    }
    return done(&w, out);
}

size_t mqtt_encode_subscribe(uint8_t *out, size_t cap, uint16_t pid,
                             const struct mqtt_bytes *filters, const uint8_t *qos,
                             uint32_t count)
{
    if (qos == NULL)
        return 0;
    return encode_filters(out, cap, MQTT_SUBSCRIBE, pid, filters, qos, count);
}

size_t mqtt_encode_unsubscribe(uint8_t *out, size_t cap, uint16_t pid,
                               const struct mqtt_bytes *filters, uint32_t count)
{
    return encode_filters(out, cap, MQTT_UNSUBSCRIBE, pid, filters, NULL, count);
}
