/* MQTT 3.1.1 codec: round trips of all 14 packet types, a table of
 * malformed packets with the error each must produce, need-more on every
 * truncation of a fixed header, and a guard-page over-read test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "mqtt/packet.h"

#define B(x) (const uint8_t *)(x), sizeof(x) - 1
#define BYTES(s) ((struct mqtt_bytes){ (const uint8_t *)(s), sizeof(s) - 1 })

/* Parses one whole packet: -err, 0 need more, or 1 with *used bytes. */
static int parse_all(const uint8_t *buf, size_t len, struct mqtt_packet *pkt,
                     size_t *used)
{
    struct mqtt_fixed fh;
    int r = mqtt_fixed_parse(buf, len, 0, &fh);
    int rc;

    if (r <= 0)
        return r;
    if (len - (size_t)r < fh.remaining)
        return 0;
    rc = mqtt_decode(&fh, buf + r, fh.remaining, pkt);
    if (rc < 0)
        return rc;
    if (used)
        *used = (size_t)r + fh.remaining;
    return 1;
}

static bool bytes_is(struct mqtt_bytes b, const void *s, size_t n)
{
    return b.len == n && (n == 0 || memcmp(b.p, s, n) == 0);
}

/* Decodes buf[0..n) and asserts it is one complete, valid packet. */
static void decode_ok(const uint8_t *buf, size_t n, struct mqtt_packet *pkt)
{
    size_t used = 0;
    int rc = parse_all(buf, n, pkt, &used);
    if (rc != 1)
        fail_msg("decode: %d (%s)", rc, mqtt_strerror(rc));
    assert_int_equal(used, n);
}

/* Every encoder fails cleanly one byte short and succeeds exactly. */
typedef size_t (*enc_fn)(uint8_t *out, size_t cap, const void *arg);

/* ---------------------------------------------------------------- varint */

static void test_varint_boundaries(void **state)
{
    (void)state;
    static const struct { uint32_t v; size_t n; uint8_t b[4]; } cases[] = {
        { 0, 1, { 0x00 } },
        { 127, 1, { 0x7f } },
        { 128, 2, { 0x80, 0x01 } },
        { 16383, 2, { 0xff, 0x7f } },
        { 16384, 3, { 0x80, 0x80, 0x01 } },
        { 2097151, 3, { 0xff, 0xff, 0x7f } },
        { 2097152, 4, { 0x80, 0x80, 0x80, 0x01 } },
        { MQTT_MAX_REMAINING, 4, { 0xff, 0xff, 0xff, 0x7f } },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t out[4], hdr[5];
        struct mqtt_fixed fh;
        size_t n = mqtt_varint_encode(out, cases[i].v);
        assert_int_equal(n, cases[i].n);
        assert_memory_equal(out, cases[i].b, n);
        hdr[0] = 0x30;
        memcpy(hdr + 1, out, n);
        assert_int_equal(mqtt_fixed_parse(hdr, 1 + n, 0, &fh), (int)(1 + n));
        assert_int_equal(fh.remaining, cases[i].v);
        assert_int_equal(fh.hdr_len, 1 + n);
        assert_int_equal(fh.type, MQTT_PUBLISH);
    }
    uint8_t out[4];
    assert_int_equal(mqtt_varint_encode(out, MQTT_MAX_REMAINING + 1), 0);
    assert_int_equal(mqtt_varint_encode(out, UINT32_MAX), 0);
}

/* Non-minimal encodings are not forbidden by 3.1.1; they decode. */
static void test_varint_non_minimal(void **state)
{
    (void)state;
    struct mqtt_fixed fh;
    const uint8_t h[] = { 0xc0, 0x80, 0x00 };
    assert_int_equal(mqtt_fixed_parse(h, sizeof(h), 0, &fh), 3);
    assert_int_equal(fh.remaining, 0);
}

/* [MQTT-2.2.3] at most 4 bytes; a 5th is an error, not a need-more. */
static void test_varint_too_long(void **state)
{
    (void)state;
    struct mqtt_fixed fh;
    const uint8_t h[] = { 0x30, 0xff, 0xff, 0xff, 0xff, 0x01 };
    assert_int_equal(mqtt_fixed_parse(h, 5, 0, &fh), -MQTT_E_VARINT);
    assert_int_equal(mqtt_fixed_parse(h, 6, 0, &fh), -MQTT_E_VARINT);
    assert_int_equal(mqtt_fixed_parse(h, 4, 0, &fh), 0);
}

static void test_max_packet(void **state)
{
    (void)state;
    struct mqtt_fixed fh;
    const uint8_t small[] = { 0x30, 0x05 };
    assert_int_equal(mqtt_fixed_parse(small, 2, 6, &fh), -MQTT_E_TOO_LARGE);
    assert_int_equal(mqtt_fixed_parse(small, 2, 7, &fh), 2);
    assert_int_equal(mqtt_fixed_parse(small, 2, 0, &fh), 2);
    /* Largest header: hdr_len + remaining must not wrap. */
    const uint8_t big[] = { 0x30, 0xff, 0xff, 0xff, 0x7f };
    assert_int_equal(mqtt_fixed_parse(big, 5, MQTT_MAX_REMAINING + 4, &fh),
                     -MQTT_E_TOO_LARGE);
    assert_int_equal(mqtt_fixed_parse(big, 5, MQTT_MAX_REMAINING + 5, &fh), 5);
    assert_int_equal(mqtt_fixed_parse(big, 5, UINT32_MAX, &fh), 5);
    assert_int_equal(fh.remaining, MQTT_MAX_REMAINING);
    /* A partial length that already exceeds the limit is refused at
     * once: 0xff alone means >= 127 + a 3-byte header. */
    const uint8_t part[] = { 0x30, 0xff };
    assert_int_equal(mqtt_fixed_parse(part, 2, 129, &fh), -MQTT_E_TOO_LARGE);
    assert_int_equal(mqtt_fixed_parse(part, 2, 130, &fh), 0);
    const uint8_t part2[] = { 0x30, 0x80, 0x80 };   /* non-minimal zero so far */
    assert_int_equal(mqtt_fixed_parse(part2, 3, 4, &fh), 0);
    assert_int_equal(mqtt_fixed_parse(part2, 3, 3, &fh), -MQTT_E_TOO_LARGE);
    /* Type and flags are judged before the length is complete. */
    const uint8_t bad[] = { 0x36 };
    assert_int_equal(mqtt_fixed_parse(bad, 1, 0, &fh), -MQTT_E_QOS3);
}

/* [MQTT-2.2.2-1/2] flags of every type and every nibble. */
static void test_fixed_flags_all(void **state)
{
    (void)state;
    for (int t = 0; t < 16; t++)
        for (int f = 0; f < 16; f++) {
            uint8_t h[2] = { (uint8_t)(t << 4 | f), 0 };
            struct mqtt_fixed fh;
            int want;
            if (t == 0 || t == 15)
                want = -MQTT_E_TYPE;
            else if (t == MQTT_PUBLISH)
                want = ((f >> 1) & 3) == 3 ? -MQTT_E_QOS3 :
                       ((f & 8) && ((f >> 1) & 3) == 0) ? -MQTT_E_DUP_QOS0 : 2;
            else if (t == MQTT_PUBREL || t == MQTT_SUBSCRIBE || t == MQTT_UNSUBSCRIBE)
                want = f == 2 ? 2 : -MQTT_E_FLAGS;
            else
                want = f == 0 ? 2 : -MQTT_E_FLAGS;
            int got = mqtt_fixed_parse(h, 2, 0, &fh);
            if (got != want)
                fail_msg("type %d flags %x: %d want %d", t, f, got, want);
            if (got > 0) {
                assert_int_equal(fh.type, t);
                assert_int_equal(fh.flags, f);
            }
        }
}

/* ------------------------------------------------------------ round trips */

static void connect_round_trip(const struct mqtt_connect *in)
{
    uint8_t buf[512];
    struct mqtt_packet pkt;
    size_t n = mqtt_encode_connect(buf, sizeof(buf), in);
    assert_true(n > 0);
    assert_int_equal(mqtt_encode_connect(buf, n - 1, in), 0);
    assert_int_equal(mqtt_encode_connect(buf, n, in), n);
    decode_ok(buf, n, &pkt);
    assert_int_equal(pkt.type, MQTT_CONNECT);
    const struct mqtt_connect *o = &pkt.u.connect;
    assert_int_equal(o->level, in->level);
    assert_int_equal(o->clean_session, in->clean_session);
    assert_int_equal(o->will, in->will);
    assert_int_equal(o->will_qos, in->will ? in->will_qos : 0);
    assert_int_equal(o->will_retain, in->will ? in->will_retain : false);
    assert_int_equal(o->has_username, in->has_username);
    assert_int_equal(o->has_password, in->has_password);
    assert_int_equal(o->keepalive, in->keepalive);
    assert_true(bytes_is(o->client_id, in->client_id.p, in->client_id.len));
    if (in->will) {
        assert_true(bytes_is(o->will_topic, in->will_topic.p, in->will_topic.len));
        assert_true(bytes_is(o->will_payload, in->will_payload.p, in->will_payload.len));
    }
    if (in->has_username)
        assert_true(bytes_is(o->username, in->username.p, in->username.len));
    if (in->has_password)
        assert_true(bytes_is(o->password, in->password.p, in->password.len));
}

static void test_rt_connect(void **state)
{
    (void)state;
    struct mqtt_connect c = { .level = 4, .clean_session = true, .keepalive = 60,
                              .client_id = BYTES("dev-1") };
    connect_round_trip(&c);

    /* Empty client id is legal on the wire [MQTT-3.1.3-6]. */
    struct mqtt_connect e = { .level = 4, .clean_session = true, .client_id = BYTES("") };
    connect_round_trip(&e);

    struct mqtt_connect full = {
        .level = 4, .clean_session = false, .will = true, .will_qos = 2,
        .will_retain = true, .has_username = true, .has_password = true,
        .keepalive = 65535, .client_id = BYTES("gw/\xc3\xa9"),
        .will_topic = BYTES("plant/line1/status"),
        .will_payload = BYTES("off\0line\xff"),          /* binary */
        .username = BYTES("operator"), .password = BYTES("\0\x01\xfe\xff"),
    };
    connect_round_trip(&full);

    /* MQTT 3.1: "MQIsdp", level 3. */
    struct mqtt_connect v31 = { .level = 3, .clean_session = true, .keepalive = 10,
                                .client_id = BYTES("old"), .has_username = true,
                                .username = BYTES("u") };
    connect_round_trip(&v31);

    /* Empty will payload and will QoS 1 without retain. */
    struct mqtt_connect w = { .level = 4, .will = true, .will_qos = 1,
                              .client_id = BYTES("w"), .will_topic = BYTES("t"),
                              .will_payload = BYTES("") };
    connect_round_trip(&w);
}

static void test_encode_connect_invalid(void **state)
{
    (void)state;
    uint8_t buf[256];
    struct mqtt_connect c = { .level = 5, .client_id = BYTES("x") };
    assert_int_equal(mqtt_encode_connect(buf, sizeof(buf), &c), 0);
    c.level = 4;
    c.has_password = true;                    /* [MQTT-3.1.2-22] */
    c.password = BYTES("p");
    assert_int_equal(mqtt_encode_connect(buf, sizeof(buf), &c), 0);
    c.has_password = false;
    c.will = true;
    c.will_qos = 3;                           /* [MQTT-3.1.2-14] */
    c.will_topic = BYTES("t");
    assert_int_equal(mqtt_encode_connect(buf, sizeof(buf), &c), 0);
    c.will_qos = 0;
    c.client_id.len = 70000;                  /* > 2-byte length */
    assert_int_equal(mqtt_encode_connect(buf, sizeof(buf), &c), 0);
}

static void test_rt_connack(void **state)
{
    (void)state;
    uint8_t buf[8];
    struct mqtt_packet pkt;
    for (uint8_t rc = 0; rc <= 5; rc++)
        for (int sp = 0; sp < 2; sp++) {
            size_t n = mqtt_encode_connack(buf, sizeof(buf), sp, rc);
            assert_int_equal(n, 4);
            assert_int_equal(mqtt_encode_connack(buf, 3, sp, rc), 0);
            decode_ok(buf, n, &pkt);
            assert_int_equal(pkt.type, MQTT_CONNACK);
            assert_int_equal(pkt.u.connack.rc, rc);
            /* [MQTT-3.2.2-4]: session present only with rc 0 */
            assert_int_equal(pkt.u.connack.session_present, sp && rc == 0);
        }
    assert_int_equal(mqtt_encode_connack(buf, sizeof(buf), false, 6), 0);
    const uint8_t want[] = { 0x20, 0x02, 0x01, 0x00 };
    assert_int_equal(mqtt_encode_connack(buf, sizeof(buf), true, 0), 4);
    assert_memory_equal(buf, want, 4);
}

static void publish_round_trip(const struct mqtt_publish *in)
{
    size_t cap = 16 + in->topic.len + in->payload.len;
    uint8_t *buf = malloc(cap), *head = malloc(16 + in->topic.len);
    struct mqtt_packet pkt;
    assert_non_null(buf);
    assert_non_null(head);
    size_t n = mqtt_encode_publish(buf, cap, in);
    assert_true(n > 0);
    assert_int_equal(mqtt_encode_publish(buf, n - 1, in), 0);
    assert_int_equal(mqtt_encode_publish(buf, n, in), n);
    decode_ok(buf, n, &pkt);
    assert_int_equal(pkt.type, MQTT_PUBLISH);
    const struct mqtt_publish *o = &pkt.u.publish;
    assert_int_equal(o->qos, in->qos);
    assert_int_equal(o->dup, in->dup);
    assert_int_equal(o->retain, in->retain);
    assert_int_equal(o->pid, in->qos ? in->pid : 0);
    assert_true(bytes_is(o->topic, in->topic.p, in->topic.len));
    assert_true(bytes_is(o->payload, in->payload.p, in->payload.len));

    /* The head encoder + payload gives the same bytes (writev path). */
    size_t h = mqtt_encode_publish_head(head, 16 + in->topic.len, in->qos, in->dup,
                                        in->retain, in->topic.p, (uint16_t)in->topic.len,
                                        in->pid, in->payload.len);
    assert_int_equal(h + in->payload.len, n);
    assert_memory_equal(head, buf, h);
    assert_int_equal(mqtt_encode_publish_head(head, h - 1, in->qos, in->dup, in->retain,
                                              in->topic.p, (uint16_t)in->topic.len,
                                              in->pid, in->payload.len), 0);
    free(buf);
    free(head);
}

static void test_rt_publish(void **state)
{
    (void)state;
    struct mqtt_publish p = { .qos = 0, .topic = BYTES("a/b"), .payload = BYTES("hi") };
    publish_round_trip(&p);
    p.retain = true;
    p.payload = BYTES("");                    /* empty payload [MQTT-3.3.3] */
    publish_round_trip(&p);
    p = (struct mqtt_publish){ .qos = 1, .dup = true, .pid = 1,
                               .topic = BYTES("$SYS/x"), .payload = BYTES("\0\xff") };
    publish_round_trip(&p);
    p = (struct mqtt_publish){ .qos = 2, .retain = true, .pid = 65535,
                               .topic = BYTES("\xe2\x82\xac//x"), .payload = BYTES("z") };
    publish_round_trip(&p);

    /* A payload needing a 3-byte remaining length. */
    uint8_t *big = malloc(20000);
    assert_non_null(big);
    for (size_t i = 0; i < 20000; i++)
        big[i] = (uint8_t)(i * 7);
    p = (struct mqtt_publish){ .qos = 1, .pid = 7, .topic = BYTES("bulk"),
                               .payload = { big, 20000 } };
    publish_round_trip(&p);
    free(big);
}

static void test_publish_head_layout(void **state)
{
    (void)state;
    uint8_t out[32];
    /* remaining = 2 + 3 + 2 + 1000 = 1007 = 0xEF 0x07 */
    size_t n = mqtt_encode_publish_head(out, sizeof(out), 1, false, true,
                                        (const uint8_t *)"a/b", 3, 0x1234, 1000);
    const uint8_t want[] = { 0x33, 0xef, 0x07, 0x00, 0x03, 'a', '/', 'b', 0x12, 0x34 };
    assert_int_equal(n, sizeof(want));
    assert_memory_equal(out, want, n);

    /* Invalid arguments return 0. */
    const uint8_t *t = (const uint8_t *)"t";
    assert_int_equal(mqtt_encode_publish_head(out, 32, 1, false, false, t, 1, 0, 0), 0);
    assert_int_equal(mqtt_encode_publish_head(out, 32, 2, false, false, t, 1, 0, 0), 0);
    assert_int_equal(mqtt_encode_publish_head(out, 32, 3, false, false, t, 1, 1, 0), 0);
    assert_int_equal(mqtt_encode_publish_head(out, 32, 0, true, false, t, 1, 0, 0), 0);
    assert_int_equal(mqtt_encode_publish_head(out, 32, 0, false, false, t, 0, 0, 0), 0);
    /* remaining over the varint maximum */
    assert_int_equal(mqtt_encode_publish_head(out, 32, 0, false, false, t, 1, 0,
                                              MQTT_MAX_REMAINING - 2), 0);
    assert_int_equal(mqtt_encode_publish_head(out, 32, 0, false, false, t, 1, 0,
                                              MQTT_MAX_REMAINING - 3), 8);
    assert_int_equal(mqtt_encode_publish_head(out, 32, 0, false, false, t, 1, 0,
                                              UINT32_MAX), 0);
    /* QoS 0 writes no packet id even when one is passed. */
    assert_int_equal(mqtt_encode_publish_head(out, 32, 0, false, false, t, 1, 9, 0), 5);
}

static void test_rt_acks(void **state)
{
    (void)state;
    static const uint8_t types[] = { MQTT_PUBACK, MQTT_PUBREC, MQTT_PUBREL,
                                     MQTT_PUBCOMP, MQTT_UNSUBACK };
    static const uint16_t pids[] = { 1, 0x1234, 65535 };
    uint8_t buf[8];
    struct mqtt_packet pkt;
    for (size_t i = 0; i < sizeof(types); i++)
        for (size_t j = 0; j < 3; j++) {
            size_t n = mqtt_encode_ack(buf, sizeof(buf), types[i], pids[j]);
            assert_int_equal(n, 4);
            assert_int_equal(buf[0], types[i] << 4 | (types[i] == MQTT_PUBREL ? 2 : 0));
            assert_int_equal(mqtt_encode_ack(buf, 3, types[i], pids[j]), 0);
            decode_ok(buf, n, &pkt);
            assert_int_equal(pkt.type, types[i]);
            assert_int_equal(pkt.u.pid, pids[j]);
        }
    assert_int_equal(mqtt_encode_ack(buf, sizeof(buf), MQTT_PUBACK, 0), 0);
    assert_int_equal(mqtt_encode_ack(buf, sizeof(buf), MQTT_SUBACK, 1), 0);
    assert_int_equal(mqtt_encode_ack(buf, sizeof(buf), MQTT_CONNECT, 1), 0);
}

static void test_rt_empty(void **state)
{
    (void)state;
    static const uint8_t types[] = { MQTT_PINGREQ, MQTT_PINGRESP, MQTT_DISCONNECT };
    uint8_t buf[4];
    struct mqtt_packet pkt;
    for (size_t i = 0; i < sizeof(types); i++) {
        size_t n = mqtt_encode_empty(buf, sizeof(buf), types[i]);
        assert_int_equal(n, 2);
        assert_int_equal(buf[0], types[i] << 4);
        assert_int_equal(buf[1], 0);
        assert_int_equal(mqtt_encode_empty(buf, 1, types[i]), 0);
        decode_ok(buf, n, &pkt);
        assert_int_equal(pkt.type, types[i]);
    }
    assert_int_equal(mqtt_encode_empty(buf, sizeof(buf), MQTT_PUBACK), 0);
}

static void test_rt_subscribe(void **state)
{
    (void)state;
    const struct mqtt_bytes f[] = { BYTES("sport/tennis/#"), BYTES("+/x/+"),
                                    BYTES("#"), BYTES("a//b") };
    const uint8_t q[] = { 0, 1, 2, 1 };
    uint8_t buf[128];
    struct mqtt_packet pkt;
    size_t n = mqtt_encode_subscribe(buf, sizeof(buf), 42, f, q, 4);
    assert_true(n > 0);
    assert_int_equal(buf[0], 0x82);           /* [MQTT-3.8.1-1] */
    assert_int_equal(mqtt_encode_subscribe(buf, n - 1, 42, f, q, 4), 0);
    decode_ok(buf, n, &pkt);
    assert_int_equal(pkt.type, MQTT_SUBSCRIBE);
    assert_int_equal(pkt.u.filters.pid, 42);
    assert_int_equal(pkt.u.filters.count, 4);
    uint32_t off = 0, i = 0;
    struct mqtt_bytes got;
    uint8_t qos;
    while (mqtt_filters_next(&pkt.u.filters, true, &off, &got, &qos)) {
        assert_true(i < 4);
        assert_true(bytes_is(got, f[i].p, f[i].len));
        assert_int_equal(qos, q[i]);
        i++;
    }
    assert_int_equal(i, 4);
    assert_int_equal(mqtt_filters_next(&pkt.u.filters, true, &off, &got, &qos), 0);

    /* Invalid arguments. */
    const uint8_t q3[] = { 3 };
    assert_int_equal(mqtt_encode_subscribe(buf, sizeof(buf), 0, f, q, 1), 0);
    assert_int_equal(mqtt_encode_subscribe(buf, sizeof(buf), 1, f, q, 0), 0);
    assert_int_equal(mqtt_encode_subscribe(buf, sizeof(buf), 1, f, q3, 1), 0);
    assert_int_equal(mqtt_encode_subscribe(buf, sizeof(buf), 1, f, NULL, 1), 0);
}

static void test_rt_unsubscribe(void **state)
{
    (void)state;
    const struct mqtt_bytes f[] = { BYTES("a/+"), BYTES("$SYS/#") };
    uint8_t buf[64];
    struct mqtt_packet pkt;
    size_t n = mqtt_encode_unsubscribe(buf, sizeof(buf), 65535, f, 2);
    assert_int_equal(n, 2 + 2 + 5 + 8);
    assert_int_equal(buf[0], 0xa2);           /* [MQTT-3.10.1-1] */
    assert_int_equal(mqtt_encode_unsubscribe(buf, n - 1, 65535, f, 2), 0);
    decode_ok(buf, n, &pkt);
    assert_int_equal(pkt.type, MQTT_UNSUBSCRIBE);
    assert_int_equal(pkt.u.filters.pid, 65535);
    assert_int_equal(pkt.u.filters.count, 2);
    uint32_t off = 0, i = 0;
    struct mqtt_bytes got;
    while (mqtt_filters_next(&pkt.u.filters, false, &off, &got, NULL)) {
        assert_true(bytes_is(got, f[i].p, f[i].len));
        i++;
    }
    assert_int_equal(i, 2);
    assert_int_equal(mqtt_encode_unsubscribe(buf, sizeof(buf), 0, f, 2), 0);
    assert_int_equal(mqtt_encode_unsubscribe(buf, sizeof(buf), 1, f, 0), 0);
}

static void test_rt_suback(void **state)
{
    (void)state;
    const uint8_t rcs[] = { 0, 1, 2, MQTT_SUBACK_FAILURE };
    uint8_t buf[16];
    struct mqtt_packet pkt;
    size_t n = mqtt_encode_suback(buf, sizeof(buf), 9, rcs, 4);
    assert_int_equal(n, 8);
    assert_int_equal(mqtt_encode_suback(buf, 7, 9, rcs, 4), 0);
    decode_ok(buf, n, &pkt);
    assert_int_equal(pkt.type, MQTT_SUBACK);
    assert_int_equal(pkt.u.suback.pid, 9);
    assert_int_equal(pkt.u.suback.count, 4);
    assert_memory_equal(pkt.u.suback.rcs, rcs, 4);
    const uint8_t bad[] = { 3 };
    assert_int_equal(mqtt_encode_suback(buf, sizeof(buf), 9, bad, 1), 0);  /* [MQTT-3.9.3-2] */
    assert_int_equal(mqtt_encode_suback(buf, sizeof(buf), 0, rcs, 1), 0);
    assert_int_equal(mqtt_encode_suback(buf, sizeof(buf), 9, rcs, 0), 0);
}

/* Several packets back to back, as read from a socket. */
static void test_stream(void **state)
{
    (void)state;
    uint8_t buf[256];
    size_t n = 0;
    struct mqtt_connect c = { .level = 4, .clean_session = true, .client_id = BYTES("s") };
    struct mqtt_publish p = { .qos = 1, .pid = 3, .topic = BYTES("t"), .payload = BYTES("x") };
    const struct mqtt_bytes f[] = { BYTES("t/#") };
    const uint8_t q[] = { 1 };
    n += mqtt_encode_connect(buf + n, sizeof(buf) - n, &c);
    n += mqtt_encode_subscribe(buf + n, sizeof(buf) - n, 1, f, q, 1);
    n += mqtt_encode_publish(buf + n, sizeof(buf) - n, &p);
    n += mqtt_encode_empty(buf + n, sizeof(buf) - n, MQTT_PINGREQ);
    n += mqtt_encode_empty(buf + n, sizeof(buf) - n, MQTT_DISCONNECT);
    const uint8_t want[] = { MQTT_CONNECT, MQTT_SUBSCRIBE, MQTT_PUBLISH,
                             MQTT_PINGREQ, MQTT_DISCONNECT };
    size_t off = 0, k = 0;
    while (off < n) {
        struct mqtt_packet pkt;
        size_t used = 0;
        assert_int_equal(parse_all(buf + off, n - off, &pkt, &used), 1);
        assert_true(k < sizeof(want));
        assert_int_equal(pkt.type, want[k++]);
        off += used;
    }
    assert_int_equal(k, sizeof(want));
    assert_int_equal(off, n);
}

/* ------------------------------------------------------- malformed table */

struct row {
    const char *name;
    const uint8_t *b;
    size_t len;
    int want;           /* -err, 0 need more, 1 valid */
    const char *spec;
};

#define OK 1
#define NEED 0
#define E(x) (-MQTT_E_##x)

/* A valid 3.1.1 CONNECT header with keepalive 60 is
 * 00 04 'MQTT' 04 <flags> 00 3c (10 bytes); client id "c" adds 3. */
#define CH(flags) "\x00\x04" "MQTT" "\x04" flags "\x00\x3c"

static const struct row rows[] = {
    /* fixed header */
    { "type 0", B("\x00\x00"), E(TYPE), "[MQTT-2.2.1]" },
    { "type 15", B("\xf0\x00"), E(TYPE), "[MQTT-2.2.1]" },
    { "CONNECT flags 1", B("\x11\x00"), E(FLAGS), "[MQTT-2.2.2-1]" },
    { "CONNACK flags 1", B("\x21\x02\x00\x00"), E(FLAGS), "[MQTT-2.2.2-1]" },
    { "PUBACK flags 2", B("\x42\x02\x00\x01"), E(FLAGS), "[MQTT-2.2.2-1]" },
    { "PUBREL flags 0", B("\x60\x02\x00\x01"), E(FLAGS), "[MQTT-3.6.1-1]" },
    { "SUBSCRIBE flags 0", B("\x80\x06\x00\x01\x00\x01" "a" "\x00"), E(FLAGS), "[MQTT-3.8.1-1]" },
    { "SUBSCRIBE flags 3", B("\x83\x06\x00\x01\x00\x01" "a" "\x00"), E(FLAGS), "[MQTT-3.8.1-1]" },
    { "UNSUBSCRIBE flags 0", B("\xa0\x05\x00\x01\x00\x01" "a"), E(FLAGS), "[MQTT-3.10.1-1]" },
    { "PINGREQ flags 1", B("\xc1\x00"), E(FLAGS), "[MQTT-2.2.2-1]" },
    { "DISCONNECT flags 2", B("\xe2\x00"), E(FLAGS), "[MQTT-2.2.2-1]" },
    { "PUBLISH QoS 3", B("\x36\x07\x00\x03" "a/b" "\x00\x01"), E(QOS3), "[MQTT-3.3.1-4]" },
    { "PUBLISH DUP QoS 0", B("\x38\x05\x00\x03" "a/b"), E(DUP_QOS0), "[MQTT-3.3.1-2]" },
    { "varint 5 bytes", B("\x30\xff\xff\xff\xff\x7f"), E(VARINT), "[MQTT-2.2.3]" },
    { "empty input", B(""), NEED, "" },
    { "header only byte 0", B("\x30"), NEED, "" },
    { "varint cut", B("\x30\xff"), NEED, "" },
    { "varint cut at 3", B("\x30\xff\xff\xff"), NEED, "" },
    { "body missing", B("\x30\xff\xff\xff\x7f"), NEED, "" },

    /* CONNECT */
    { "CONNECT 3.1.1", B("\x10\x0d" CH("\x02") "\x00\x01" "c"), OK, "[MQTT-3.1.2-1]" },
    { "CONNECT 3.1 MQIsdp", B("\x10\x0f\x00\x06" "MQIsdp" "\x03\x02\x00\x3c\x00\x01" "c"), OK, "" },
    { "CONNECT empty client id", B("\x10\x0c" CH("\x02") "\x00\x00"), OK, "[MQTT-3.1.3-6]" },
    { "CONNECT name MQTX", B("\x10\x0d\x00\x04" "MQTX" "\x04\x02\x00\x3c\x00\x01" "c"), E(PROTO_NAME), "[MQTT-3.1.2-1]" },
    { "CONNECT name mqtt", B("\x10\x0d\x00\x04" "mqtt" "\x04\x02\x00\x3c\x00\x01" "c"), E(PROTO_NAME), "[MQTT-3.1.2-1]" },
    { "CONNECT name MQT", B("\x10\x0c\x00\x03" "MQT" "\x04\x02\x00\x3c\x00\x01" "c"), E(PROTO_NAME), "[MQTT-3.1.2-1]" },
    { "CONNECT name empty", B("\x10\x09\x00\x00\x04\x02\x00\x3c\x00\x01" "c"), E(PROTO_NAME), "[MQTT-3.1.2-1]" },
    { "CONNECT MQTT level 3", B("\x10\x0d\x00\x04" "MQTT" "\x03\x02\x00\x3c\x00\x01" "c"), E(PROTO_LEVEL), "[MQTT-3.1.2-2]" },
    { "CONNECT MQTT level 5", B("\x10\x0d\x00\x04" "MQTT" "\x05\x02\x00\x3c\x00\x01" "c"), E(PROTO_LEVEL), "[MQTT-3.1.2-2]" },
    { "CONNECT MQIsdp level 4", B("\x10\x0f\x00\x06" "MQIsdp" "\x04\x02\x00\x3c\x00\x01" "c"), E(PROTO_LEVEL), "[MQTT-3.1.2-2]" },
    { "CONNECT reserved flag", B("\x10\x0d" CH("\x03") "\x00\x01" "c"), E(CONNECT_RESERVED), "[MQTT-3.1.2-3]" },
    { "CONNECT will QoS 1 no will", B("\x10\x0d" CH("\x0a") "\x00\x01" "c"), E(WILL_FLAGS), "[MQTT-3.1.2-13]" },
    { "CONNECT will QoS 2 no will", B("\x10\x0d" CH("\x12") "\x00\x01" "c"), E(WILL_FLAGS), "[MQTT-3.1.2-13]" },
    { "CONNECT will retain no will", B("\x10\x0d" CH("\x22") "\x00\x01" "c"), E(WILL_FLAGS), "[MQTT-3.1.2-15]" },
    { "CONNECT will QoS 3", B("\x10\x15" CH("\x1e") "\x00\x01" "c" "\x00\x03" "a/b" "\x00\x01" "p"), E(WILL_QOS), "[MQTT-3.1.2-14]" },
    { "CONNECT password no user", B("\x10\x10" CH("\x42") "\x00\x01" "c" "\x00\x01" "p"), E(PASSWORD_NO_USER), "[MQTT-3.1.2-22]" },
    { "CONNECT trailing byte", B("\x10\x0e" CH("\x02") "\x00\x01" "c" "x"), E(TRAILING), "[MQTT-4.8.0-1]" },
    { "CONNECT empty body", B("\x10\x00"), E(SHORT), "" },
    { "CONNECT cut in name", B("\x10\x03\x00\x04" "M"), E(SHORT), "" },
    { "CONNECT no level", B("\x10\x06\x00\x04" "MQTT"), E(SHORT), "" },
    { "CONNECT no flags", B("\x10\x07\x00\x04" "MQTT" "\x04"), E(SHORT), "" },
    { "CONNECT no keepalive", B("\x10\x09\x00\x04" "MQTT" "\x04\x02\x00"), E(SHORT), "" },
    { "CONNECT no client id", B("\x10\x0a" CH("\x02")), E(SHORT), "[MQTT-3.1.3-3]" },
    { "CONNECT client id cut", B("\x10\x0c" CH("\x02") "\x00\x01"), E(SHORT), "" },
    { "CONNECT id overlong NUL", B("\x10\x0e" CH("\x02") "\x00\x02\xc0\x80"), E(UTF8), "[MQTT-1.5.3-1]" },
    { "CONNECT id surrogate", B("\x10\x0f" CH("\x02") "\x00\x03\xed\xa0\x80"), E(UTF8), "[MQTT-1.5.3-1]" },
    { "CONNECT id U+0000", B("\x10\x0d" CH("\x02") "\x00\x01\x00"), E(UTF8_NUL), "[MQTT-1.5.3-2]" },
    { "CONNECT id > U+10FFFF", B("\x10\x10" CH("\x02") "\x00\x04\xf4\x90\x80\x80"), E(UTF8), "[MQTT-1.5.3-1]" },
    { "CONNECT will ok", B("\x10\x15" CH("\x06") "\x00\x01" "c" "\x00\x03" "a/b" "\x00\x01" "p"), OK, "[MQTT-3.1.2-9]" },
    { "CONNECT will QoS 2 retain", B("\x10\x15" CH("\x36") "\x00\x01" "c" "\x00\x03" "a/b" "\x00\x01" "p"), OK, "" },
    { "CONNECT will empty payload", B("\x10\x14" CH("\x06") "\x00\x01" "c" "\x00\x03" "a/b" "\x00\x00"), OK, "" },
    { "CONNECT will topic wildcard", B("\x10\x15" CH("\x06") "\x00\x01" "c" "\x00\x03" "a/#" "\x00\x01" "p"), E(TOPIC_WILDCARD), "[MQTT-3.3.2-2]" },
    { "CONNECT will topic plus", B("\x10\x15" CH("\x06") "\x00\x01" "c" "\x00\x03" "+/b" "\x00\x01" "p"), E(TOPIC_WILDCARD), "[MQTT-3.3.2-2]" },
    { "CONNECT will topic empty", B("\x10\x12" CH("\x06") "\x00\x01" "c" "\x00\x00" "\x00\x01" "p"), E(TOPIC_EMPTY), "[MQTT-4.7.3-1]" },
    { "CONNECT will topic bad UTF-8", B("\x10\x13" CH("\x06") "\x00\x01" "c" "\x00\x01\xff" "\x00\x01" "p"), E(UTF8), "[MQTT-3.1.3-10]" },
    { "CONNECT will topic cut", B("\x10\x0f" CH("\x06") "\x00\x01" "c" "\x00\x03"), E(SHORT), "" },
    { "CONNECT will payload missing", B("\x10\x12" CH("\x06") "\x00\x01" "c" "\x00\x03" "a/b"), E(SHORT), "" },
    { "CONNECT will payload cut", B("\x10\x15" CH("\x06") "\x00\x01" "c" "\x00\x03" "a/b" "\x00\x02" "p"), E(SHORT), "" },
    { "CONNECT user ok", B("\x10\x10" CH("\x82") "\x00\x01" "c" "\x00\x01" "u"), OK, "[MQTT-3.1.2-19]" },
    { "CONNECT user missing", B("\x10\x0d" CH("\x82") "\x00\x01" "c"), E(SHORT), "[MQTT-3.1.2-19]" },
    { "CONNECT user bad UTF-8", B("\x10\x10" CH("\x82") "\x00\x01" "c" "\x00\x01\xff"), E(UTF8), "[MQTT-3.1.3-11]" },
    { "CONNECT user U+0000", B("\x10\x10" CH("\x82") "\x00\x01" "c" "\x00\x01\x00"), E(UTF8_NUL), "[MQTT-1.5.3-2]" },
    { "CONNECT user+binary password", B("\x10\x14" CH("\xc2") "\x00\x01" "c" "\x00\x01" "u" "\x00\x02\x00\xff"), OK, "[MQTT-3.1.2-21]" },
    { "CONNECT password missing", B("\x10\x10" CH("\xc2") "\x00\x01" "c" "\x00\x01" "u"), E(SHORT), "[MQTT-3.1.2-21]" },
    { "CONNECT password cut", B("\x10\x13" CH("\xc2") "\x00\x01" "c" "\x00\x01" "u" "\x00\x02" "p"), E(SHORT), "" },
    { "CONNECT all + trailing", B("\x10\x1c" CH("\xc6") "\x00\x01" "c" "\x00\x03" "a/b" "\x00\x01" "p" "\x00\x01" "u" "\x00\x01" "p" "x"), E(TRAILING), "" },

    /* CONNACK (client side) */
    { "CONNACK ok", B("\x20\x02\x00\x00"), OK, "" },
    { "CONNACK session present", B("\x20\x02\x01\x00"), OK, "" },
    { "CONNACK rc 5", B("\x20\x02\x00\x05"), OK, "" },
    { "CONNACK reserved bit", B("\x20\x02\x02\x00"), E(CONNACK_RESERVED), "[MQTT-3.2.2.1]" },
    { "CONNACK reserved bit 7", B("\x20\x02\x80\x00"), E(CONNACK_RESERVED), "[MQTT-3.2.2.1]" },
    { "CONNACK rc 6", B("\x20\x02\x00\x06"), E(CONNACK_RC), "[MQTT-3.2.2.3]" },
    { "CONNACK short", B("\x20\x01\x00"), E(SHORT), "" },
    { "CONNACK trailing", B("\x20\x03\x00\x00\x00"), E(TRAILING), "" },

    /* PUBLISH */
    { "PUBLISH QoS 0 empty payload", B("\x30\x05\x00\x03" "a/b"), OK, "[MQTT-3.3.3]" },
    { "PUBLISH QoS 0 payload", B("\x30\x07\x00\x03" "a/b" "hi"), OK, "" },
    { "PUBLISH QoS 1", B("\x32\x07\x00\x03" "a/b" "\x00\x01"), OK, "" },
    { "PUBLISH QoS 2 DUP retain", B("\x3d\x08\x00\x03" "a/b" "\xff\xff" "z"), OK, "" },
    { "PUBLISH $SYS topic", B("\x30\x08\x00\x06" "$SYS/x"), OK, "" },
    { "PUBLISH QoS 1 pid 0", B("\x32\x07\x00\x03" "a/b" "\x00\x00"), E(PID_ZERO), "[MQTT-2.3.1-1]" },
    { "PUBLISH QoS 2 pid 0", B("\x34\x08\x00\x03" "a/b" "\x00\x00" "z"), E(PID_ZERO), "[MQTT-2.3.1-1]" },
    { "PUBLISH QoS 1 no pid", B("\x32\x05\x00\x03" "a/b"), E(SHORT), "" },
    { "PUBLISH QoS 1 half pid", B("\x32\x06\x00\x03" "a/b" "\x00"), E(SHORT), "" },
    { "PUBLISH topic +", B("\x30\x05\x00\x03" "a/+"), E(TOPIC_WILDCARD), "[MQTT-3.3.2-2]" },
    { "PUBLISH topic #", B("\x30\x05\x00\x03" "a/#"), E(TOPIC_WILDCARD), "[MQTT-3.3.2-2]" },
    { "PUBLISH topic empty", B("\x30\x02\x00\x00"), E(TOPIC_EMPTY), "[MQTT-4.7.3-1]" },
    { "PUBLISH topic U+0000", B("\x30\x05\x00\x03" "a\0b"), E(UTF8_NUL), "[MQTT-1.5.3-2]" },
    { "PUBLISH topic surrogate", B("\x30\x05\x00\x03\xed\xa0\x80"), E(UTF8), "[MQTT-1.5.3-1]" },
    { "PUBLISH topic overlong", B("\x30\x04\x00\x02\xc0\xaf"), E(UTF8), "[MQTT-1.5.3-1]" },
    { "PUBLISH topic len > body", B("\x30\x03\x00\x05" "a"), E(SHORT), "" },
    { "PUBLISH 1-byte body", B("\x30\x01\x00"), E(SHORT), "" },
    { "PUBLISH empty body", B("\x30\x00"), E(SHORT), "" },

    /* PUBACK PUBREC PUBREL PUBCOMP UNSUBACK */
    { "PUBACK ok", B("\x40\x02\x00\x01"), OK, "" },
    { "PUBACK pid 0", B("\x40\x02\x00\x00"), E(PID_ZERO), "[MQTT-2.3.1-1]" },
    { "PUBACK short", B("\x40\x01\x00"), E(SHORT), "" },
    { "PUBACK empty", B("\x40\x00"), E(SHORT), "" },
    { "PUBACK trailing", B("\x40\x03\x00\x01\x00"), E(TRAILING), "" },
    { "PUBREC ok", B("\x50\x02\xff\xff"), OK, "" },
    { "PUBREC pid 0", B("\x50\x02\x00\x00"), E(PID_ZERO), "[MQTT-2.3.1-1]" },
    { "PUBREC trailing", B("\x50\x04\x00\x01\x00\x00"), E(TRAILING), "" },
    { "PUBREL ok", B("\x62\x02\x00\x01"), OK, "[MQTT-3.6.1-1]" },
    { "PUBREL pid 0", B("\x62\x02\x00\x00"), E(PID_ZERO), "[MQTT-2.3.1-1]" },
    { "PUBREL short", B("\x62\x01\x01"), E(SHORT), "" },
    { "PUBCOMP ok", B("\x70\x02\x00\x01"), OK, "" },
    { "PUBCOMP pid 0", B("\x70\x02\x00\x00"), E(PID_ZERO), "[MQTT-2.3.1-1]" },
    { "PUBCOMP trailing", B("\x70\x03\x00\x01\x00"), E(TRAILING), "" },
    { "UNSUBACK ok", B("\xb0\x02\x00\x01"), OK, "" },
    { "UNSUBACK pid 0", B("\xb0\x02\x00\x00"), E(PID_ZERO), "[MQTT-2.3.1-1]" },
    { "UNSUBACK short", B("\xb0\x01\x00"), E(SHORT), "" },

    /* SUBSCRIBE */
    { "SUBSCRIBE ok", B("\x82\x06\x00\x01\x00\x01" "a" "\x00"), OK, "" },
    { "SUBSCRIBE two", B("\x82\x0c\x00\x01\x00\x01" "#" "\x02\x00\x03" "+/x" "\x01"), OK, "" },
    { "SUBSCRIBE pid 0", B("\x82\x06\x00\x00\x00\x01" "a" "\x00"), E(PID_ZERO), "[MQTT-2.3.1-1]" },
    { "SUBSCRIBE no filter", B("\x82\x02\x00\x01"), E(NO_FILTERS), "[MQTT-3.8.3-3]" },
    { "SUBSCRIBE half pid", B("\x82\x01\x00"), E(SHORT), "" },
    { "SUBSCRIBE QoS 3", B("\x82\x06\x00\x01\x00\x01" "a" "\x03"), E(SUB_QOS), "[MQTT-3-8.3-4]" },
    { "SUBSCRIBE QoS upper bits", B("\x82\x06\x00\x01\x00\x01" "a" "\x04"), E(SUB_QOS), "[MQTT-3-8.3-4]" },
    { "SUBSCRIBE QoS 0x81", B("\x82\x06\x00\x01\x00\x01" "a" "\x81"), E(SUB_QOS), "[MQTT-3-8.3-4]" },
    { "SUBSCRIBE QoS missing", B("\x82\x05\x00\x01\x00\x01" "a"), E(SHORT), "" },
    { "SUBSCRIBE filter cut", B("\x82\x05\x00\x01\x00\x05" "a"), E(SHORT), "" },
    { "SUBSCRIBE filter len cut", B("\x82\x03\x00\x01\x00"), E(SHORT), "" },
    { "SUBSCRIBE filter a#", B("\x82\x07\x00\x01\x00\x02" "a#" "\x00"), E(FILTER), "[MQTT-4.7.1-2]" },
    { "SUBSCRIBE filter #/a", B("\x82\x08\x00\x01\x00\x03" "#/a" "\x00"), E(FILTER), "[MQTT-4.7.1-2]" },
    { "SUBSCRIBE filter a+", B("\x82\x07\x00\x01\x00\x02" "a+" "\x00"), E(FILTER), "[MQTT-4.7.1-3]" },
    { "SUBSCRIBE filter +a/b", B("\x82\x09\x00\x01\x00\x04" "+a/b" "\x00"), E(FILTER), "[MQTT-4.7.1-3]" },
    { "SUBSCRIBE filter empty", B("\x82\x05\x00\x01\x00\x00\x00"), E(TOPIC_EMPTY), "[MQTT-4.7.3-1]" },
    { "SUBSCRIBE filter UTF-8", B("\x82\x07\x00\x01\x00\x02\xc0\x80\x00"), E(UTF8), "[MQTT-1.5.3-1]" },
    { "SUBSCRIBE filter U+0000", B("\x82\x06\x00\x01\x00\x01\x00\x00"), E(UTF8_NUL), "[MQTT-1.5.3-2]" },
    { "SUBSCRIBE 2nd filter bad", B("\x82\x0b\x00\x01\x00\x01" "a" "\x00\x00\x02" "++" "\x00"), E(FILTER), "[MQTT-4.7.1-3]" },
    { "SUBSCRIBE 2nd QoS bad", B("\x82\x0a\x00\x01\x00\x01" "a" "\x00\x00\x01" "b" "\x03"), E(SUB_QOS), "[MQTT-3-8.3-4]" },
    { "SUBSCRIBE stray byte", B("\x82\x07\x00\x01\x00\x01" "a" "\x00\x00"), E(SHORT), "" },

    /* UNSUBSCRIBE */
    { "UNSUBSCRIBE ok", B("\xa2\x05\x00\x01\x00\x01" "a"), OK, "" },
    { "UNSUBSCRIBE two", B("\xa2\x09\x00\x01\x00\x01" "#" "\x00\x02" "+/"), OK, "" },
    { "UNSUBSCRIBE pid 0", B("\xa2\x05\x00\x00\x00\x01" "a"), E(PID_ZERO), "[MQTT-2.3.1-1]" },
    { "UNSUBSCRIBE no filter", B("\xa2\x02\x00\x01"), E(NO_FILTERS), "[MQTT-3.10.3-2]" },
    { "UNSUBSCRIBE filter a/#/b", B("\xa2\x09\x00\x01\x00\x05" "a/#/b"), E(FILTER), "[MQTT-4.7.1-2]" },
    { "UNSUBSCRIBE filter empty", B("\xa2\x04\x00\x01\x00\x00"), E(TOPIC_EMPTY), "[MQTT-4.7.3-1]" },
    { "UNSUBSCRIBE stray byte", B("\xa2\x06\x00\x01\x00\x01" "a" "\x00"), E(SHORT), "" },

    /* SUBACK (client side) */
    { "SUBACK ok", B("\x90\x03\x00\x01\x00"), OK, "" },
    { "SUBACK all codes", B("\x90\x06\x00\x01\x00\x01\x02\x80"), OK, "[MQTT-3.9.3-2]" },
    { "SUBACK rc 3", B("\x90\x03\x00\x01\x03"), E(SUBACK_RC), "[MQTT-3.9.3-2]" },
    { "SUBACK rc 0x81", B("\x90\x04\x00\x01\x00\x81"), E(SUBACK_RC), "[MQTT-3.9.3-2]" },
    { "SUBACK no codes", B("\x90\x02\x00\x01"), E(SHORT), "" },
    { "SUBACK pid 0", B("\x90\x03\x00\x00\x00"), E(PID_ZERO), "[MQTT-2.3.1-1]" },

    /* PINGREQ PINGRESP DISCONNECT */
    { "PINGREQ", B("\xc0\x00"), OK, "" },
    { "PINGRESP", B("\xd0\x00"), OK, "" },
    { "DISCONNECT", B("\xe0\x00"), OK, "" },
    { "PINGREQ body", B("\xc0\x01\x00"), E(TRAILING), "[MQTT-3.12.1]" },
    { "PINGRESP body", B("\xd0\x01\x00"), E(TRAILING), "[MQTT-3.13.1]" },
    { "DISCONNECT body", B("\xe0\x02\x00\x00"), E(TRAILING), "[MQTT-3.14.1]" },
};

#define NROWS (sizeof(rows) / sizeof(rows[0]))

static void test_table(void **state)
{
    (void)state;
    int bad = 0;

    for (size_t i = 0; i < NROWS; i++) {
        struct mqtt_packet pkt;
        size_t used = 0;
        int got = parse_all(rows[i].b, rows[i].len, &pkt, &used);
        if (got != rows[i].want) {
            print_error("row %zu \"%s\" %s: got %d (%s), want %d (%s)\n", i,
                        rows[i].name, rows[i].spec, got, mqtt_strerror(got),
                        rows[i].want, mqtt_strerror(rows[i].want));
            bad++;
        } else if (got == 1 && used != rows[i].len) {
            print_error("row %zu \"%s\": used %zu of %zu\n", i, rows[i].name,
                        used, rows[i].len);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

/* Every valid row decodes to the expected type and its decoded fields
 * lie inside the input (views, no copies). */
static void test_table_valid_views(void **state)
{
    (void)state;
    for (size_t i = 0; i < NROWS; i++) {
        struct mqtt_packet pkt;
        if (rows[i].want != OK)
            continue;
        assert_int_equal(parse_all(rows[i].b, rows[i].len, &pkt, NULL), 1);
        assert_int_equal(pkt.type, rows[i].b[0] >> 4);
        if (pkt.type == MQTT_PUBLISH) {
            const uint8_t *end = rows[i].b + rows[i].len;
            assert_true(pkt.u.publish.topic.p > rows[i].b);
            assert_true(pkt.u.publish.payload.p + pkt.u.publish.payload.len == end);
        }
    }
}

/* A few decoded field values from the table. */
static void test_decoded_fields(void **state)
{
    (void)state;
    struct mqtt_packet pkt;
    const uint8_t v31[] = "\x10\x0f\x00\x06" "MQIsdp" "\x03\x02\x00\x3c\x00\x01" "c";
    decode_ok(v31, sizeof(v31) - 1, &pkt);
    assert_int_equal(pkt.u.connect.level, 3);
    assert_int_equal(pkt.u.connect.keepalive, 60);
    assert_true(pkt.u.connect.clean_session);
    assert_true(bytes_is(pkt.u.connect.client_id, "c", 1));

    const uint8_t pub[] = "\x3d\x08\x00\x03" "a/b" "\xff\xff" "z";
    decode_ok(pub, sizeof(pub) - 1, &pkt);
    assert_int_equal(pkt.u.publish.qos, 2);
    assert_true(pkt.u.publish.dup);
    assert_true(pkt.u.publish.retain);
    assert_int_equal(pkt.u.publish.pid, 0xffff);
    assert_true(bytes_is(pkt.u.publish.topic, "a/b", 3));
    assert_true(bytes_is(pkt.u.publish.payload, "z", 1));

    const uint8_t pw[] = "\x10\x14" CH("\xc2") "\x00\x01" "c" "\x00\x01" "u" "\x00\x02\x00\xff";
    decode_ok(pw, sizeof(pw) - 1, &pkt);
    assert_true(pkt.u.connect.has_username);
    assert_true(pkt.u.connect.has_password);
    assert_true(bytes_is(pkt.u.connect.username, "u", 1));
    assert_true(bytes_is(pkt.u.connect.password, "\x00\xff", 2));
}

/* mqtt_decode reads only fh->remaining bytes, and refuses a shorter len. */
static void test_decode_len_contract(void **state)
{
    (void)state;
    struct mqtt_fixed fh;
    struct mqtt_packet pkt;
    const uint8_t two[] = { 0x40, 0x02, 0x00, 0x05, 0xc0, 0x00 };
    assert_int_equal(mqtt_fixed_parse(two, sizeof(two), 0, &fh), 2);
    assert_int_equal(mqtt_decode(&fh, two + 2, sizeof(two) - 2, &pkt), 0);
    assert_int_equal(pkt.u.pid, 5);
    assert_int_equal(mqtt_decode(&fh, two + 2, 1, &pkt), -MQTT_E_SHORT);
    /* A hand-built header with bad flags is refused by the decoder too. */
    struct mqtt_fixed bad = { .type = MQTT_PUBREL, .flags = 0, .hdr_len = 2, .remaining = 2 };
    assert_int_equal(mqtt_decode(&bad, two + 2, 2, &pkt), -MQTT_E_FLAGS);
    struct mqtt_fixed t0 = { .type = 0, .flags = 0, .hdr_len = 2, .remaining = 0 };
    assert_int_equal(mqtt_decode(&t0, two, 0, &pkt), -MQTT_E_TYPE);
}

/* ----------------------------------------------------- truncation points */

/* Valid packets of every type, encoded by the encoders. */
static size_t build_samples(uint8_t *buf, size_t cap, size_t *offs, size_t max)
{
    size_t n = 0, k = 0;
    struct mqtt_connect c = {
        .level = 4, .will = true, .will_qos = 1, .has_username = true,
        .has_password = true, .keepalive = 30, .client_id = BYTES("id"),
        .will_topic = BYTES("w/t"), .will_payload = BYTES("bye"),
        .username = BYTES("u"), .password = BYTES("p"),
    };
    struct mqtt_publish p = { .qos = 2, .pid = 77, .topic = BYTES("x/y"),
                              .payload = BYTES("payload") };
    const struct mqtt_bytes f[] = { BYTES("a/+"), BYTES("#") };
    const uint8_t q[] = { 1, 2 }, rcs[] = { 1, 0x80 };
    uint8_t *big = calloc(1, 300);

    assert_non_null(big);
#define ADD(expr) do { offs[k++] = n; size_t w_ = (expr); assert_true(w_ > 0); \
                       n += w_; assert_true(k < max); } while (0)
    ADD(mqtt_encode_connect(buf + n, cap - n, &c));
    ADD(mqtt_encode_connack(buf + n, cap - n, true, 0));
    ADD(mqtt_encode_publish(buf + n, cap - n, &p));
    p = (struct mqtt_publish){ .qos = 0, .topic = BYTES("big"), .payload = { big, 300 } };
    ADD(mqtt_encode_publish(buf + n, cap - n, &p));   /* 2-byte varint */
    ADD(mqtt_encode_ack(buf + n, cap - n, MQTT_PUBACK, 1));
    ADD(mqtt_encode_ack(buf + n, cap - n, MQTT_PUBREC, 2));
    ADD(mqtt_encode_ack(buf + n, cap - n, MQTT_PUBREL, 3));
    ADD(mqtt_encode_ack(buf + n, cap - n, MQTT_PUBCOMP, 4));
    ADD(mqtt_encode_subscribe(buf + n, cap - n, 5, f, q, 2));
    ADD(mqtt_encode_suback(buf + n, cap - n, 5, rcs, 2));
    ADD(mqtt_encode_unsubscribe(buf + n, cap - n, 6, f, 2));
    ADD(mqtt_encode_ack(buf + n, cap - n, MQTT_UNSUBACK, 6));
    ADD(mqtt_encode_empty(buf + n, cap - n, MQTT_PINGREQ));
    ADD(mqtt_encode_empty(buf + n, cap - n, MQTT_PINGRESP));
    ADD(mqtt_encode_empty(buf + n, cap - n, MQTT_DISCONNECT));
#undef ADD
    free(big);
    offs[k] = n;
    return k;
}

/* Every prefix shorter than the fixed header is need-more; a prefix with
 * the header but not the whole body decodes as SHORT. */
static void test_need_more_every_prefix(void **state)
{
    (void)state;
    uint8_t buf[1024];
    size_t offs[32];
    size_t k = build_samples(buf, sizeof(buf), offs, 32);
    bool seen[16] = { false };

    for (size_t i = 0; i < k; i++) {
        const uint8_t *p = buf + offs[i];
        size_t len = offs[i + 1] - offs[i];
        struct mqtt_fixed fh;
        struct mqtt_packet pkt;
        int h = mqtt_fixed_parse(p, len, 0, &fh);
        assert_true(h >= 2);
        seen[fh.type] = true;
        for (size_t cut = 0; cut < (size_t)h; cut++)
            assert_int_equal(mqtt_fixed_parse(p, cut, 0, &fh), 0);
        assert_int_equal(mqtt_fixed_parse(p, len, 0, &fh), h);
        for (size_t cut = (size_t)h; cut < len; cut++)
            assert_int_equal(mqtt_decode(&fh, p + h, cut - (size_t)h, &pkt), -MQTT_E_SHORT);
        assert_int_equal(mqtt_decode(&fh, p + h, len - (size_t)h, &pkt), 0);
    }
    for (int t = MQTT_CONNECT; t <= MQTT_DISCONNECT; t++)
        assert_true(seen[t]);                  /* all 14 types covered */
}

/* ------------------------------------------------------------ guard page */

struct guard {
    uint8_t *base;
    size_t page;
};

static void guard_setup(struct guard *g)
{
    g->page = (size_t)sysconf(_SC_PAGESIZE);
    g->base = mmap(NULL, 2 * g->page, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(g->base != MAP_FAILED);
    assert_int_equal(mprotect(g->base + g->page, g->page, PROT_NONE), 0);
}

/* Copies n bytes so that the last one is the last readable byte. */
static uint8_t *guard_place(struct guard *g, const uint8_t *src, size_t n)
{
    uint8_t *dst = g->base + g->page - n;
    assert_true(n <= g->page);
    if (n > 0)
        memcpy(dst, src, n);
    return dst;
}

/* Runs the parser on every prefix of src placed against the guard page,
 * and the decoder on every truncated body with a matching remaining
 * length; any read past the end faults. Returns the full-input result. */
static int guard_run(struct guard *g, const uint8_t *src, size_t n)
{
    struct mqtt_packet pkt;
    struct mqtt_fixed fh;
    int full = 0;

    for (size_t cut = 0; cut <= n; cut++) {
        uint8_t *p = guard_place(g, src, cut);
        int r = parse_all(p, cut, &pkt, NULL);
        if (cut == n)
            full = r;
        if (r == 1 && pkt.type == MQTT_SUBSCRIBE) {
            uint32_t off = 0;
            struct mqtt_bytes f;
            uint8_t q;
            while (mqtt_filters_next(&pkt.u.filters, true, &off, &f, &q))
                assert_true(f.p + f.len <= g->base + g->page);
        }
    }
    int h = mqtt_fixed_parse(src, n, 0, &fh);
    if (h > 0 && (size_t)h <= n) {
        size_t body = n - (size_t)h;
        if (body > fh.remaining)
            body = fh.remaining;
        for (size_t cut = 0; cut <= body; cut++) {
            struct mqtt_fixed t = fh;
            t.remaining = (uint32_t)cut;
            uint8_t *p = guard_place(g, src + h, cut);
            int rc = mqtt_decode(&t, p, cut, &pkt);
            assert_true(rc <= 0);
        }
    }
    return full;
}

static void test_guard_page(void **state)
{
    (void)state;
    struct guard g;
    uint8_t buf[1024];
    size_t offs[32];

    guard_setup(&g);
    for (size_t i = 0; i < NROWS; i++)
        assert_int_equal(guard_run(&g, rows[i].b, rows[i].len), rows[i].want);
    size_t k = build_samples(buf, sizeof(buf), offs, 32);
    for (size_t i = 0; i < k; i++)
        assert_int_equal(guard_run(&g, buf + offs[i], offs[i + 1] - offs[i]), 1);
    /* UTF-8 sequences cut by the guard page. */
    static const uint8_t seqs[][4] = { { 0xc3, 0xa9 }, { 0xe2, 0x82, 0xac },
                                       { 0xf0, 0x9f, 0x98, 0x80 } };
    for (size_t i = 0; i < 3; i++)
        for (size_t cut = 1; cut <= i + 2; cut++) {
            /* topic "a" + the first cut bytes of a sequence: the body
             * ends in the middle of a character. */
            uint8_t pkt[12] = { 0x30, (uint8_t)(3 + cut), 0x00, (uint8_t)(cut + 1), 'a' };
            memcpy(pkt + 5, seqs[i], cut);
            int want = cut == i + 2 ? 1 : -MQTT_E_UTF8;
            assert_int_equal(guard_run(&g, pkt, 5 + cut), want);
        }
    munmap(g.base, 2 * g.page);
}

/* ---------------------------------------------------------------- strings */

static void test_strerror(void **state)
{
    (void)state;
    assert_string_equal(mqtt_strerror(MQTT_E_CONNECT_RESERVED),
                        "[MQTT-3.1.2-3] CONNECT reserved flag is not 0");
    for (int e = 1; e < MQTT_E__COUNT; e++) {
        const char *s = mqtt_strerror(e);
        assert_non_null(s);
        assert_true(strncmp(s, "[MQTT-", 6) == 0);
        const char *close = strchr(s, ']');
        assert_non_null(close);
        assert_true(close[1] == ' ' && close[2] != '\0');
        assert_ptr_equal(mqtt_strerror(-e), s);
        for (int o = 1; o < e; o++)              /* each code its own text */
            assert_string_not_equal(mqtt_strerror(o), s);
    }
    assert_non_null(mqtt_strerror(MQTT_E__COUNT));
    assert_non_null(mqtt_strerror(-1000));
    assert_non_null(mqtt_strerror(INT32_MIN));
    assert_string_equal(mqtt_strerror(0), "no error");
}

static void test_ptype_name(void **state)
{
    (void)state;
    static const char *const want[] = { NULL, "CONNECT", "CONNACK", "PUBLISH",
        "PUBACK", "PUBREC", "PUBREL", "PUBCOMP", "SUBSCRIBE", "SUBACK",
        "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT" };
    for (int t = 1; t <= 14; t++)
        assert_string_equal(mqtt_ptype_name(t), want[t]);
    assert_non_null(mqtt_ptype_name(0));
    assert_non_null(mqtt_ptype_name(15));
    assert_non_null(mqtt_ptype_name(-1));
    assert_non_null(mqtt_ptype_name(1000));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_varint_boundaries),
        cmocka_unit_test(test_varint_non_minimal),
        cmocka_unit_test(test_varint_too_long),
        cmocka_unit_test(test_max_packet),
        cmocka_unit_test(test_fixed_flags_all),
        cmocka_unit_test(test_rt_connect),
        cmocka_unit_test(test_encode_connect_invalid),
        cmocka_unit_test(test_rt_connack),
        cmocka_unit_test(test_rt_publish),
        cmocka_unit_test(test_publish_head_layout),
        cmocka_unit_test(test_rt_acks),
        cmocka_unit_test(test_rt_empty),
        cmocka_unit_test(test_rt_subscribe),
        cmocka_unit_test(test_rt_unsubscribe),
        cmocka_unit_test(test_rt_suback),
        cmocka_unit_test(test_stream),
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_table_valid_views),
        cmocka_unit_test(test_decoded_fields),
        cmocka_unit_test(test_decode_len_contract),
        cmocka_unit_test(test_need_more_every_prefix),
        cmocka_unit_test(test_guard_page),
        cmocka_unit_test(test_strerror),
        cmocka_unit_test(test_ptype_name),
    };
    return cmocka_run_group_tests_name("mqtt_codec", tests, NULL, NULL);
}
