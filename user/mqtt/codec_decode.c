/* MQTT 3.1.1 packet bodies [MQTT-3]: strict decoding of all 14 types.
 * Every read goes through struct mqtt_cur, bounded by the body length. */
#include <string.h>

#include "mqtt/codec_internal.h"
#include "mqtt/packet.h"
#include "mqtt/topic.h"

/* A UTF-8 string field [MQTT-1.5.3]. */
static int read_utf8(struct mqtt_cur *c, struct mqtt_bytes *b)
{
    if (!mqtt_cur_lenbytes(c, b))
        return -MQTT_E_SHORT;
    return mqtt_utf8_check(b->p, b->len);
}

/* CONNECT variable header [MQTT-3.1.2] and payload [MQTT-3.1.3]. */
static int decode_connect(struct mqtt_cur *c, struct mqtt_connect *k)
{
    struct mqtt_bytes name;
    uint8_t flags, want;
    int rc;

    memset(k, 0, sizeof(*k));
    if (!mqtt_cur_lenbytes(c, &name))
        return -MQTT_E_SHORT;
    if (name.len == 4 && memcmp(name.p, "MQTT", 4) == 0)
        want = 4;
    else if (name.len == 6 && memcmp(name.p, "MQIsdp", 6) == 0)
        want = 3;                        /* MQTT 3.1 */
    else
        return -MQTT_E_PROTO_NAME;       /* [MQTT-3.1.2-1] */
    if (!mqtt_cur_u8(c, &k->level))
        return -MQTT_E_SHORT;
    if (k->level != want)
        return -MQTT_E_PROTO_LEVEL;      /* [MQTT-3.1.2-2]: CONNACK 1 */
    if (!mqtt_cur_u8(c, &flags))
        return -MQTT_E_SHORT;
    if (flags & 0x01)
        return -MQTT_E_CONNECT_RESERVED; /* [MQTT-3.1.2-3] */
    k->clean_session = flags & 0x02;
    k->will = flags & 0x04;
    k->will_qos = (uint8_t)((flags >> 3) & 3);
    k->will_retain = flags & 0x20;
    k->has_password = flags & 0x40;
    k->has_username = flags & 0x80;
    if (!k->will && (k->will_qos != 0 || k->will_retain))
        return -MQTT_E_WILL_FLAGS;       /* [MQTT-3.1.2-11/13/15] */
    if (k->will_qos == 3)
        return -MQTT_E_WILL_QOS;         /* [MQTT-3.1.2-14] */
    if (k->has_password && !k->has_username)
        return -MQTT_E_PASSWORD_NO_USER; /* [MQTT-3.1.2-22] */
    if (!mqtt_cur_u16(c, &k->keepalive))
        return -MQTT_E_SHORT;

    /* Payload order is fixed: client id, will topic, will message,
     * user name, password [MQTT-3.1.3-1]. */
    if ((rc = read_utf8(c, &k->client_id)) < 0)
        return rc;
    if (k->will) {
        if (!mqtt_cur_lenbytes(c, &k->will_topic))
            return -MQTT_E_SHORT;
        if ((rc = mqtt_topic_name_check(k->will_topic.p, k->will_topic.len)) < 0)
            return rc;                   /* [MQTT-3.1.3-10] */
        if (!mqtt_cur_lenbytes(c, &k->will_payload))
            return -MQTT_E_SHORT;
    }
    if (k->has_username && (rc = read_utf8(c, &k->username)) < 0)
        return rc;                       /* [MQTT-3.1.3-11] */
    if (k->has_password && !mqtt_cur_lenbytes(c, &k->password))
        return -MQTT_E_SHORT;
    return 0;
}

static int decode_connack(struct mqtt_cur *c, struct mqtt_connack *a)
{
    uint8_t ack, rc;

    if (!mqtt_cur_u8(c, &ack) || !mqtt_cur_u8(c, &rc))
        return -MQTT_E_SHORT;
    if (ack & 0xFE)
        return -MQTT_E_CONNACK_RESERVED; /* [MQTT-3.2.2.1] bits 7-1 */
    if (rc > MQTT_CONNACK_NOT_AUTHORIZED)
        return -MQTT_E_CONNACK_RC;       /* [MQTT-3.2.2.3] reserved codes */
    a->session_present = ack & 1;
    a->rc = rc;
    return 0;
}

/* The topic is validated here so the broker never routes a bad name. */
static int decode_publish(struct mqtt_cur *c, uint8_t flags, struct mqtt_publish *p)
{
    int rc;

    memset(p, 0, sizeof(*p));
    p->dup = flags & 0x8;
    p->qos = (uint8_t)((flags >> 1) & 3);
    p->retain = flags & 0x1;
    if (!mqtt_cur_lenbytes(c, &p->topic))
        return -MQTT_E_SHORT;
    if ((rc = mqtt_topic_name_check(p->topic.p, p->topic.len)) < 0)
        return rc;                       /* [MQTT-3.3.2-1/2] */
    if (p->qos > 0) {
        if (!mqtt_cur_u16(c, &p->pid))
            return -MQTT_E_SHORT;
        if (p->pid == 0)
            return -MQTT_E_PID_ZERO;     /* [MQTT-2.3.1-1] */
    }
    /* The payload is whatever remains, possibly nothing [MQTT-3.3.3]. */
    p->payload.p = c->p;
    p->payload.len = (uint32_t)c->left;  /* left <= remaining < 2^28 */
    c->p += c->left;
    c->left = 0;
    return 0;
}

/* PUBACK PUBREC PUBREL PUBCOMP UNSUBACK: remaining length 2, a packet id. */
static int decode_pid_only(struct mqtt_cur *c, uint16_t *pid)
{
    if (!mqtt_cur_u16(c, pid))
        return -MQTT_E_SHORT;
    if (*pid == 0)
        return -MQTT_E_PID_ZERO;         /* [MQTT-2.3.1-1] */
    return 0;
}

/* SUBSCRIBE [MQTT-3.8.3] / UNSUBSCRIBE [MQTT-3.10.3]: validates the whole
 * list once so that mqtt_filters_next can walk it without checks. */
static int decode_filters(struct mqtt_cur *c, bool subscribe, struct mqtt_filters *f)
{
    int rc;

    memset(f, 0, sizeof(*f));
    if (!mqtt_cur_u16(c, &f->pid))
        return -MQTT_E_SHORT;
    if (f->pid == 0)
        return -MQTT_E_PID_ZERO;         /* [MQTT-2.3.1-1] */
    f->list.p = c->p;
    f->list.len = (uint32_t)c->left;
    while (c->left > 0) {
        struct mqtt_bytes flt;

        if (!mqtt_cur_lenbytes(c, &flt))
            return -MQTT_E_SHORT;
        if ((rc = mqtt_topic_filter_check(flt.p, flt.len)) < 0)
            return rc;                   /* [MQTT-4.7.1-2/3], [MQTT-4.7.3-1] */
        if (subscribe) {
            uint8_t q;

            if (!mqtt_cur_u8(c, &q))
                return -MQTT_E_SHORT;
            if (q > 2)                   /* upper 6 bits set, or QoS 3 */
                return -MQTT_E_SUB_QOS;  /* [MQTT-3-8.3-4] */
        }
        f->count++;                      /* <= remaining / 3: no overflow */
    }
    if (f->count == 0)
        return -MQTT_E_NO_FILTERS;       /* [MQTT-3.8.3-3], [MQTT-3.10.3-2] */
    return 0;
}

static int decode_suback(struct mqtt_cur *c, struct mqtt_suback *s)
{
    if (!mqtt_cur_u16(c, &s->pid))
        return -MQTT_E_SHORT;
    if (s->pid == 0)
        return -MQTT_E_PID_ZERO;
    if (c->left == 0)
        return -MQTT_E_SHORT;            /* one code per filter, >= 1 */
    for (size_t i = 0; i < c->left; i++) {
        uint8_t v = c->p[i];
        if (v > 2 && v != MQTT_SUBACK_FAILURE)
            return -MQTT_E_SUBACK_RC;    /* [MQTT-3.9.3-2] */
    }
    s->rcs = c->p;
    s->count = (uint32_t)c->left;
    c->p += c->left;
    c->left = 0;
    return 0;
}

/* Contract in packet.h. Only fh->remaining bytes of body are read; len
 * may be larger (the next packet of a stream may follow) but not smaller.
 * The flags are checked again so a hand-made fh cannot bypass them. */
int mqtt_decode(const struct mqtt_fixed *fh, const uint8_t *body, size_t len,
                struct mqtt_packet *pkt)
{
    struct mqtt_cur c = { body, fh->remaining };
    int rc;

    if ((rc = mqtt_fixed_flags_check(fh->type, fh->flags)) < 0)
        return rc;
    if (len < fh->remaining)
        return -MQTT_E_SHORT;
    memset(pkt, 0, sizeof(*pkt));
    pkt->type = fh->type;
    pkt->flags = fh->flags;
    switch (fh->type) {
    case MQTT_CONNECT:
        rc = decode_connect(&c, &pkt->u.connect);
        break;
    case MQTT_CONNACK:
        rc = decode_connack(&c, &pkt->u.connack);
        break;
    case MQTT_PUBLISH:
        rc = decode_publish(&c, fh->flags, &pkt->u.publish);
        break;
    case MQTT_PUBACK:
    case MQTT_PUBREC:
    case MQTT_PUBREL:
    case MQTT_PUBCOMP:
    case MQTT_UNSUBACK:
        rc = decode_pid_only(&c, &pkt->u.pid);
        break;
    case MQTT_SUBSCRIBE:
        rc = decode_filters(&c, true, &pkt->u.filters);
        break;
    case MQTT_UNSUBSCRIBE:
        rc = decode_filters(&c, false, &pkt->u.filters);
        break;
    case MQTT_SUBACK:
        rc = decode_suback(&c, &pkt->u.suback);
        break;
    default:                             /* PINGREQ PINGRESP DISCONNECT */
        rc = 0;
        break;
    }
    if (rc < 0)
        return rc;
    if (c.left != 0)
        return -MQTT_E_TRAILING;         /* e.g. [MQTT-3.12.1], [MQTT-3.4.1] */
    return 0;
}

/* Contract in packet.h. The list was validated by mqtt_decode; bounds are
 * still checked so a corrupt struct ends the walk instead of over-reading. */
int mqtt_filters_next(const struct mqtt_filters *f, bool subscribe,
                      uint32_t *off, struct mqtt_bytes *filter, uint8_t *qos)
{
    struct mqtt_cur c;
    uint8_t q = 0;

    if (*off >= f->list.len)
        return 0;
    c.p = f->list.p + *off;
    c.left = f->list.len - *off;
    if (!mqtt_cur_lenbytes(&c, filter))
        return 0;
    if (subscribe && !mqtt_cur_u8(&c, &q))
        return 0;
    if (qos)
        *qos = q;
    *off = f->list.len - (uint32_t)c.left;
    return 1;
}
