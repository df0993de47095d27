/* libFuzzer target for the MQTT codec. The input is a byte stream as read
 * from a socket: packets are parsed one after another. Every body is
 * copied into an allocation of exactly its size so ASan sees any read past
 * it. A decoded packet is re-encoded; the encoder must accept it, the body
 * it writes must equal the original body (3.1.1 bodies are canonical) and
 * decoding it again must give the same fields. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt/packet.h"
#include "mqtt/topic.h"

#define CHECK(cond) do { if (!(cond)) { \
    fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
    abort(); } } while (0)

static bool same(struct mqtt_bytes a, struct mqtt_bytes b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

/* Decodes out[0..n) as one whole packet whose body must equal body. */
static void redecode(const uint8_t *out, size_t n, const uint8_t *body,
                     uint32_t blen, struct mqtt_packet *again)
{
    struct mqtt_fixed fh;
    int h = mqtt_fixed_parse(out, n, 0, &fh);

    CHECK(h > 0);
    CHECK((size_t)h + fh.remaining == n);
    CHECK(fh.remaining == blen);
    CHECK(blen == 0 || memcmp(out + h, body, blen) == 0);
    CHECK(mqtt_decode(&fh, out + h, fh.remaining, again) == 0);
}

static void check_connect(const struct mqtt_connect *a, const struct mqtt_connect *b)
{
    CHECK(a->level == b->level && a->clean_session == b->clean_session);
    CHECK(a->will == b->will && a->will_qos == b->will_qos);
    CHECK(a->will_retain == b->will_retain && a->keepalive == b->keepalive);
    CHECK(a->has_username == b->has_username && a->has_password == b->has_password);
    CHECK(same(a->client_id, b->client_id));
    CHECK(same(a->will_topic, b->will_topic) && same(a->will_payload, b->will_payload));
    CHECK(same(a->username, b->username) && same(a->password, b->password));
    CHECK(mqtt_utf8_check(a->client_id.p, a->client_id.len) == 0);
    if (a->will)
        CHECK(mqtt_topic_name_check(a->will_topic.p, a->will_topic.len) == 0);
}

static void check_publish(const struct mqtt_publish *a, const struct mqtt_publish *b)
{
    CHECK(a->qos == b->qos && a->dup == b->dup && a->retain == b->retain);
    CHECK(a->pid == b->pid);
    CHECK(same(a->topic, b->topic) && same(a->payload, b->payload));
    CHECK(mqtt_topic_name_check(a->topic.p, a->topic.len) == 0);
}

/* SUBSCRIBE / UNSUBSCRIBE: walk the list, validate each entry again and
 * rebuild the packet from the entries. */
static void check_filters(const struct mqtt_packet *pkt, const uint8_t *body,
                          uint32_t blen, uint8_t *out, size_t cap)
{
    bool sub = pkt->type == MQTT_SUBSCRIBE;
    const struct mqtt_filters *f = &pkt->u.filters;
    struct mqtt_bytes *list = calloc(f->count, sizeof(*list));
    uint8_t *qos = calloc(f->count, 1);
    struct mqtt_bytes flt;
    uint32_t off = 0, n = 0;
    uint8_t q;
    size_t w;

    CHECK(list && qos && f->count > 0 && f->pid != 0);
    while (mqtt_filters_next(f, sub, &off, &flt, sub ? &q : NULL)) {
        CHECK(n < f->count);
        CHECK(mqtt_topic_filter_check(flt.p, flt.len) == 0);
        CHECK(flt.p >= body && flt.p + flt.len <= body + blen);
        list[n] = flt;
        if (sub) {
            CHECK(q <= 2);
            qos[n] = q;
        }
        n++;
    }
    CHECK(n == f->count);
    CHECK(off == f->list.len);
    w = sub ? mqtt_encode_subscribe(out, cap, f->pid, list, qos, n)
            : mqtt_encode_unsubscribe(out, cap, f->pid, list, n);
    CHECK(w > 0);
    {
        struct mqtt_packet again;
        redecode(out, w, body, blen, &again);
        CHECK(again.u.filters.count == f->count && again.u.filters.pid == f->pid);
    }
    free(list);
    free(qos);
}

/* Re-encodes a decoded packet and checks the round trip. */
static void round_trip(const struct mqtt_packet *pkt, const uint8_t *body, uint32_t blen)
{
    size_t cap = (size_t)blen + 16, w = 0;
    uint8_t *out = malloc(cap);
    struct mqtt_packet again;

    CHECK(out);
    switch (pkt->type) {
    case MQTT_CONNECT:
        w = mqtt_encode_connect(out, cap, &pkt->u.connect);
        CHECK(w > 0);
        redecode(out, w, body, blen, &again);
        check_connect(&pkt->u.connect, &again.u.connect);
        break;
    case MQTT_PUBLISH: {
        const struct mqtt_publish *p = &pkt->u.publish;
        uint8_t head[16 + 65535];
        size_t h;

        w = mqtt_encode_publish(out, cap, p);
        CHECK(w > 0);
        redecode(out, w, body, blen, &again);
        check_publish(p, &again.u.publish);
        h = mqtt_encode_publish_head(head, sizeof(head), p->qos, p->dup, p->retain,
                                     p->topic.p, (uint16_t)p->topic.len, p->pid,
                                     p->payload.len);
        CHECK(h > 0 && h + p->payload.len == w && memcmp(head, out, h) == 0);
        break;
    }
    case MQTT_CONNACK:
        w = mqtt_encode_connack(out, cap, pkt->u.connack.session_present,
                                pkt->u.connack.rc);
        CHECK(w == 4);
        /* The encoder drops session present with rc != 0 [MQTT-3.2.2-4]. */
        if (!pkt->u.connack.session_present || pkt->u.connack.rc == 0)
            redecode(out, w, body, blen, &again);
        break;
    case MQTT_PUBACK: case MQTT_PUBREC: case MQTT_PUBREL: case MQTT_PUBCOMP:
    case MQTT_UNSUBACK:
        w = mqtt_encode_ack(out, cap, pkt->type, pkt->u.pid);
        CHECK(w == 4);
        redecode(out, w, body, blen, &again);
        CHECK(again.u.pid == pkt->u.pid);
        break;
    case MQTT_SUBSCRIBE: case MQTT_UNSUBSCRIBE:
        check_filters(pkt, body, blen, out, cap);
        break;
    case MQTT_SUBACK:
        w = mqtt_encode_suback(out, cap, pkt->u.suback.pid, pkt->u.suback.rcs,
                               pkt->u.suback.count);
        CHECK(w > 0);
        redecode(out, w, body, blen, &again);
        break;
    default:
        w = mqtt_encode_empty(out, cap, pkt->type);
        CHECK(w == 2);
        redecode(out, w, body, blen, &again);
        break;
    }
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t off = 0;

    while (off < size) {
        struct mqtt_fixed fh, fh2;
        struct mqtt_packet pkt;
        size_t left = size - off;
        int h = mqtt_fixed_parse(data + off, left, 0, &fh);
        uint8_t *body;
        int rc;

        if (h < 0) {
            const char *s = mqtt_strerror(h);
            CHECK(s[0] == '[');
            break;
        }
        if (h == 0 || left - (size_t)h < fh.remaining)
            break;               /* need more: the stream ends here */
        CHECK(fh.hdr_len == h && h >= 2 && h <= 5);
        /* With a limit equal to the packet size the result is the same;
         * one byte less and it is too large. */
        CHECK(mqtt_fixed_parse(data + off, left, (uint32_t)h + fh.remaining, &fh2) == h);
        CHECK(mqtt_fixed_parse(data + off, left, (uint32_t)h + fh.remaining - 1, &fh2)
              == -MQTT_E_TOO_LARGE);

        body = malloc(fh.remaining ? fh.remaining : 1);
        CHECK(body);
        memcpy(body, data + off + h, fh.remaining);
        rc = mqtt_decode(&fh, body, fh.remaining, &pkt);
        if (rc == 0) {
            CHECK(pkt.type == fh.type && pkt.flags == fh.flags);
            round_trip(&pkt, body, fh.remaining);
        } else {
            CHECK(rc < 0 && -rc < MQTT_E__COUNT && mqtt_strerror(rc)[0] == '[');
        }
        free(body);
        off += (size_t)h + fh.remaining;
    }
    return 0;
}
