/* Pub/sub scenario: P publishers and S subscribers in one process.
 * Topics "pair": publisher i -> topic PREFIX/i <- subscriber i (P == S).
 * Topics "shared": every publisher -> PREFIX/all <- every subscriber (fan-out).
 * Measures delivered messages per second, end-to-end latency from the send
 * timestamp in the payload, and loss/duplicates/reordering from sequence
 * numbers. Phases: connect -> subscribe -> publish -> drain -> disconnect. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "bench.h"
#include "conn.h"
#include "hist.h"
#include "report.h"
#include "seqtrack.h"

enum role { ROLE_PUB, ROLE_SUB };
enum phase { PH_CONNECT, PH_RUN, PH_DRAIN, PH_DONE };

#define PID_BITS 65536u
#define OUT_CAP  (64u * 1024u)
#define ACK_ROOM 64u     /* output space kept free for acks and PUBREL */

struct peer {
    struct bconn c;           /* first: epoll data.ptr points here */
    enum role role;
    bool opened, connacked, subacked;
    char topic[128];
    uint16_t tlen;
    /* publisher */
    uint64_t sent;
    uint64_t delivered;       /* unique receptions of this publisher's messages, all subscribers */
    uint64_t min_got;         /* fan-out: receptions by its slowest subscriber (cached) */
    uint32_t inflight;
    uint16_t next_pid;
    uint64_t *await_ack;      /* QoS 1: PUBACK; QoS 2: PUBREC (bitmaps by pid) */
    uint64_t *await_comp;     /* QoS 2: PUBCOMP */
    /* subscriber */
    struct seqtrack *streams; /* fan-out: one per publisher; pair: one */
    uint64_t *got;            /* fan-out: unique receptions per publisher */
};

struct ps {
    struct bench_ctx *bc;
    const struct bench_opts *o;
    int ep;
    struct peer *peers;       /* publishers [0, P), subscribers [P, P+S) */
    uint32_t P, S, n;
    bool fanout;
    enum phase phase;
    uint32_t next_open, n_pending, n_ready;
    size_t msg_len;
    uint64_t sent, acked, received, bad_payload, foreign, unexpected_acks;
    uint64_t session_present; /* subscribers whose CONNACK said a stored session was resumed */
    struct seqcount sc;
    struct hist lat;
    uint64_t t_ready, t_first_send, t_last_send, t_last_recv, t_drain, t_ping;
    uint32_t rr;              /* round-robin start among publishers */
    bool deadline_cut;        /* the drain was ended by --deadline */
};

static inline bool bit_get(const uint64_t *m, uint16_t i) { return (m[i >> 6] >> (i & 63)) & 1; }
static inline void bit_set(uint64_t *m, uint16_t i) { m[i >> 6] |= (uint64_t)1 << (i & 63); }
static inline void bit_clr(uint64_t *m, uint16_t i) { m[i >> 6] &= ~((uint64_t)1 << (i & 63)); }

static void put_be(uint8_t *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t get_be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

static const char *peer_name(const struct ps *s, const struct peer *p, char *b, size_t n)
{
    snprintf(b, n, "%s %" PRIu32, p->role == ROLE_PUB ? "publisher" : "subscriber",
             p->role == ROLE_PUB ? p->c.idx : p->c.idx - s->P);
    return b;
}

static int peer_fail(struct ps *s, const struct peer *p, const char *what)
{
    char nb[32];
    return bench_fail(s->bc, "%s (%s:%u): %s", peer_name(s, p, nb, sizeof(nb)),
                      s->o->host, (unsigned)s->o->port, what);
}

/* Queues a 2-byte-header packet (ack or empty); flushes first if short of
 * room. Returns 0 or -1 (broker not reading: output buffer full). */
static int queue_small(struct ps *s, struct peer *p, uint8_t type, uint16_t pid, bool empty)
{
    char err[160];
    size_t n;

    if (bconn_out_space(&p->c) < 8) {
        if (bconn_flush(&p->c, err, sizeof(err)) < 0)
            return peer_fail(s, p, err);
        if (bconn_out_space(&p->c) < 8)
            return peer_fail(s, p, "output buffer full: broker is not reading");
    }
    n = empty ? mqtt_encode_empty(bconn_out_tail(&p->c), 8, type)
              : mqtt_encode_ack(bconn_out_tail(&p->c), 8, type, pid);
    if (n == 0)
        return peer_fail(s, p, "codec refused to encode an ack");
    bconn_out_commit(&p->c, n);
    return 0;
}

/* With --client-prefix the id depends only on the role and index, so a
 * clean-session-0 subscriber finds its stored session again in the next
 * run; without it the id is unique per process. */
static void client_id(const struct ps *s, const struct peer *p, char *b, size_t n)
{
    char role = p->role == ROLE_PUB ? 'p' : 's';
    uint32_t k = p->role == ROLE_PUB ? p->c.idx : p->c.idx - s->P;

    if (s->o->client_prefix)
        snprintf(b, n, "%s-%c%" PRIu32, s->o->client_prefix, role, k);
    else
        snprintf(b, n, "mb%ld-%c%" PRIu32, (long)getpid(), role, p->c.idx);
}

static int queue_connect(struct ps *s, struct peer *p)
{
    struct mqtt_connect cn;
    char id[128];
    size_t n;

    client_id(s, p, id, sizeof(id));
    memset(&cn, 0, sizeof(cn));
    cn.level = 4;
    /* Only subscribers keep a session: a persistent subscriber is what
     * makes a broker store (and, durable, sync) every QoS 1/2 message. */
    cn.clean_session = p->role == ROLE_PUB || s->o->clean_session != 0;
    cn.keepalive = (uint16_t)s->o->keepalive;
    cn.client_id.p = (const uint8_t *)id;
    cn.client_id.len = (uint32_t)strlen(id);
    n = mqtt_encode_connect(bconn_out_tail(&p->c), bconn_out_space(&p->c), &cn);
    if (n == 0)
        return peer_fail(s, p, "codec refused to encode CONNECT");
    bconn_out_commit(&p->c, n);
    return 0;
}

static int queue_subscribe(struct ps *s, struct peer *p)
{
    struct mqtt_bytes f = { (const uint8_t *)p->topic, p->tlen };
    uint8_t q = (uint8_t)s->o->qos;
    size_t n = mqtt_encode_subscribe(bconn_out_tail(&p->c), bconn_out_space(&p->c), 1, &f, &q, 1);

    if (n == 0)
        return peer_fail(s, p, "codec refused to encode SUBSCRIBE");
    bconn_out_commit(&p->c, n);
    return 0;
}

static void mark_ready(struct ps *s)
{
    if (++s->n_ready == s->n) {
        s->phase = PH_RUN;
        s->t_ready = bench_now_ns();
    }
}

/* ---- packets from the broker ---- */

static int on_publish(struct ps *s, struct peer *p, const struct mqtt_publish *m)
{
    const uint8_t *b = m->payload.p;
    uint64_t now = bench_now_ns(), pub, seq, ts;
    struct seqtrack *st;

    if (m->qos == 1 && queue_small(s, p, MQTT_PUBACK, m->pid, false) < 0)
        return -1;
    if (m->qos == 2 && queue_small(s, p, MQTT_PUBREC, m->pid, false) < 0)
        return -1;
    s->received++;
    s->t_last_recv = now;
    if (m->payload.len < BENCH_PAYLOAD_HDR || get_be(b, 4) != BENCH_MAGIC) {
        s->bad_payload++;
        return 0;
    }
    if (get_be(b + 4, 4) != s->bc->run_id) {
        s->foreign++;       /* another run's message */
        return 0;
    }
    pub = get_be(b + 8, 4);
    seq = get_be(b + 16, 8);
    ts = get_be(b + 24, 8);
    if (pub >= s->P || (!s->fanout && pub != p->c.idx - s->P)) {
        s->bad_payload++;   /* a message for another subscriber's topic */
        return 0;
    }
    st = s->fanout ? &p->streams[pub] : &p->streams[0];
    if (seqtrack_add(st, seq, &s->sc)) {
        s->peers[pub].delivered++;
        if (s->fanout)
            p->got[pub]++;
    }
    hist_add(&s->lat, now >= ts ? now - ts : 0);
    return 0;
}

static int on_pub_ack(struct ps *s, struct peer *p, uint8_t type, uint16_t pid)
{
    if (type == MQTT_PUBACK && s->o->qos == 1 && bit_get(p->await_ack, pid)) {
        bit_clr(p->await_ack, pid);
    } else if (type == MQTT_PUBREC && s->o->qos == 2 && bit_get(p->await_ack, pid)) {
        bit_clr(p->await_ack, pid);
        bit_set(p->await_comp, pid);
        return queue_small(s, p, MQTT_PUBREL, pid, false);
    } else if (type == MQTT_PUBREC && s->o->qos == 2 && bit_get(p->await_comp, pid)) {
        /* A repeated PUBREC: answer again [MQTT-4.3.3-1], count it. */
        s->unexpected_acks++;
        return queue_small(s, p, MQTT_PUBREL, pid, false);
    } else if (type == MQTT_PUBCOMP && s->o->qos == 2 && bit_get(p->await_comp, pid)) {
        bit_clr(p->await_comp, pid);
    } else {
        s->unexpected_acks++;
        return 0;
    }
    p->inflight--;
    s->acked++;
    return 0;
}

static int on_packet(void *arg, struct bconn *c, const struct mqtt_packet *pk)
{
    struct ps *s = arg;
    struct peer *p = (struct peer *)c;
    char why[96];

    switch (pk->type) {
    case MQTT_CONNACK:
        if (p->connacked)
            return peer_fail(s, p, "second CONNACK");
        if (pk->u.connack.rc != MQTT_CONNACK_ACCEPTED) {
            snprintf(why, sizeof(why), "CONNACK refused, return code %u", pk->u.connack.rc);
            return peer_fail(s, p, why);
        }
        p->connacked = true;
        s->n_pending--;
        if (p->role == ROLE_SUB && pk->u.connack.session_present)
            s->session_present++;
        if (p->role == ROLE_SUB)
            return queue_subscribe(s, p);
        mark_ready(s);
        return 0;
    case MQTT_SUBACK:
        if (p->role != ROLE_SUB || p->subacked || pk->u.suback.count != 1)
            return peer_fail(s, p, "unexpected SUBACK");
        if (pk->u.suback.rcs[0] == MQTT_SUBACK_FAILURE)
            return peer_fail(s, p, "SUBSCRIBE refused (SUBACK 0x80)");
        if (pk->u.suback.rcs[0] != s->o->qos) {
            snprintf(why, sizeof(why), "SUBACK granted QoS %u, asked %u",
                     pk->u.suback.rcs[0], (unsigned)s->o->qos);
            return peer_fail(s, p, why);
        }
        p->subacked = true;
        mark_ready(s);
        return 0;
    case MQTT_PUBLISH:
        if (p->role != ROLE_SUB)
            return peer_fail(s, p, "PUBLISH to a publisher");
        return on_publish(s, p, &pk->u.publish);
    case MQTT_PUBREL:
        if (p->role != ROLE_SUB)
            return peer_fail(s, p, "PUBREL to a publisher");
        return queue_small(s, p, MQTT_PUBCOMP, pk->u.pid, false);
    case MQTT_PUBACK:
    case MQTT_PUBREC:
    case MQTT_PUBCOMP:
        if (p->role != ROLE_PUB)
            return peer_fail(s, p, "publisher ack to a subscriber");
        return on_pub_ack(s, p, pk->type, pk->u.pid);
    case MQTT_PINGRESP:
        return 0;
    default:
        snprintf(why, sizeof(why), "unexpected %s from broker", mqtt_ptype_name(pk->type));
        return peer_fail(s, p, why);
    }
}

/* ---- publishing ---- */

/* The QoS 1/2 ack window and the end-to-end window (--window) both allow
 * one more message from p. */
static bool window_open(const struct ps *s, struct peer *p)
{
    if (s->o->qos > 0 && p->inflight >= s->o->inflight)
        return false;
    if (s->o->window == 0)
        return true;
    if (!s->fanout)
        return p->sent - p->delivered < (uint64_t)s->o->window;
    /* Fan-out: at most --window ahead of the slowest subscriber, so no
     * subscriber's broker queue holds more than that. The minimum is
     * recomputed only when the cached one says the window is closed. */
    if (p->sent - p->min_got < (uint64_t)s->o->window)
        return true;
    uint32_t idx = (uint32_t)(p - s->peers);
    uint64_t m = UINT64_MAX;
    for (uint32_t i = s->P; i < s->n; i++)
        if (s->peers[i].got && s->peers[i].got[idx] < m)
            m = s->peers[i].got[idx];
    p->min_got = m == UINT64_MAX ? 0 : m;
    return p->sent - p->min_got < (uint64_t)s->o->window;
}


/* Encodes one PUBLISH with the bench payload header. Returns 0, 1 when
 * there is no room (or window), -1 on error. */
static int encode_one(struct ps *s, struct peer *p, uint64_t now)
{
    uint8_t qos = (uint8_t)s->o->qos;
    uint16_t pid = 0;
    size_t n;
    uint8_t *t;

    if (bconn_out_space(&p->c) < s->msg_len + ACK_ROOM || !window_open(s, p))
        return 1;
    if (qos > 0) {
        do {
            p->next_pid = (uint16_t)(p->next_pid == 65535 ? 1 : p->next_pid + 1);
        } while (bit_get(p->await_ack, p->next_pid) || bit_get(p->await_comp, p->next_pid));
        pid = p->next_pid;
    }
    t = bconn_out_tail(&p->c);
    n = mqtt_encode_publish_head(t, bconn_out_space(&p->c), qos, false, false,
                                 (const uint8_t *)p->topic, p->tlen, pid, s->o->size);
    if (n == 0 || n + s->o->size > bconn_out_space(&p->c))
        return peer_fail(s, p, "codec refused to encode PUBLISH");
    t += n;
    put_be(t, BENCH_MAGIC, 4);
    put_be(t + 4, s->bc->run_id, 4);
    put_be(t + 8, p->c.idx, 4);
    put_be(t + 12, 0, 4);
    put_be(t + 16, p->sent, 8);
    put_be(t + 24, now, 8);
    memset(t + BENCH_PAYLOAD_HDR, 'x', s->o->size - BENCH_PAYLOAD_HDR);
    bconn_out_commit(&p->c, n + s->o->size);
    if (qos > 0) {
        bit_set(p->await_ack, pid);
        p->inflight++;
    }
    p->sent++;
    s->sent++;
    if (s->t_first_send == 0)
        s->t_first_send = now;
    s->t_last_send = now;
    return 0;
}

static bool pub_done(const struct ps *s, const struct peer *p)
{
    return s->o->count && p->sent >= s->o->count;
}

/* Publishes what the rate and windows allow, round-robin over publishers.
 * Returns 0, or -1 on error; *busy set when more could be sent right now. */
static int pump(struct ps *s, bool *busy)
{
    uint64_t now = bench_now_ns(), budget = UINT64_MAX;
    uint32_t i, left = 0;
    char err[160];

    *busy = false;
    if (s->phase != PH_RUN)
        return 0;
    if (s->o->duration > 0 && now - s->t_ready >= (uint64_t)(s->o->duration * 1e9))
        goto drain;
    if (s->o->rate > 0) {
        double allowed = s->o->rate * (double)(now - s->t_ready) / 1e9 + 1;
        budget = allowed > (double)s->sent ? (uint64_t)(allowed - (double)s->sent) : 0;
    }
    for (i = 0; i < s->P; i++) {
        struct peer *p = &s->peers[(s->rr + i) % s->P];
        unsigned rounds = 0;

        if (pub_done(s, p))
            continue;
        left++;
        /* Fill, flush, repeat while the socket takes it (bounded so that
         * subscribers are read in between). */
        while (budget > 0 && p->c.writable && !pub_done(s, p) && rounds++ < 4) {
            int rc = 0;

            while (budget > 0 && !pub_done(s, p) && (rc = encode_one(s, p, now)) == 0)
                budget--;
            if (rc < 0)
                return -1;
            if (bconn_flush(&p->c, err, sizeof(err)) < 0)
                return peer_fail(s, p, err);
            if (rc == 1 && !window_open(s, p))
                break;
        }
        if (budget > 0 && p->c.writable && !pub_done(s, p) && window_open(s, p))
            *busy = true;
    }
    s->rr++;
    if (left > 0)
        return 0;
drain:
    s->phase = PH_DRAIN;
    s->t_drain = now;
    return 0;
}

/* ---- setup and main loop ---- */

static int ps_init(struct ps *s, struct bench_ctx *bc)
{
    const struct bench_opts *o = bc->o;
    uint32_t i;
    size_t in_cap = (size_t)o->size + 4096 > 65536 ? (size_t)o->size + 4096 : 65536;

    memset(s, 0, sizeof(*s));
    s->ep = -1;
    s->bc = bc;
    s->o = o;
    s->P = o->pubs;
    s->S = o->subs;
    s->n = s->P + s->S;
    s->fanout = strcmp(o->topics, "shared") == 0;
    hist_init(&s->lat);
    s->ep = epoll_create1(EPOLL_CLOEXEC);
    if (s->ep < 0)
        return bench_fail(bc, "epoll_create1: %s", strerror(errno));
    s->peers = calloc(s->n, sizeof(*s->peers));
    if (!s->peers)
        return bench_fail(bc, "out of memory for %" PRIu32 " connections", s->n);
    for (i = 0; i < s->n; i++)
        s->peers[i].c.fd = -1;   /* not opened: cleanup must not close fd 0 */
    for (i = 0; i < s->n; i++) {
        struct peer *p = &s->peers[i];
        bool pub = i < s->P;
        uint32_t k = pub ? i : i - s->P;

        p->role = pub ? ROLE_PUB : ROLE_SUB;
        if (bconn_init(&p->c, i, pub ? 4096 : in_cap, pub ? OUT_CAP + o->size : OUT_CAP) < 0)
            return bench_fail(bc, "out of memory for connection buffers");
        if (s->fanout)
            snprintf(p->topic, sizeof(p->topic), "%s/all", o->topic_prefix);
        else
            snprintf(p->topic, sizeof(p->topic), "%s/%" PRIu32, o->topic_prefix, k);
        p->tlen = (uint16_t)strlen(p->topic);
        if (pub && o->qos > 0) {
            p->await_ack = calloc(PID_BITS / 64, sizeof(uint64_t));
            p->await_comp = calloc(PID_BITS / 64, sizeof(uint64_t));
            if (!p->await_ack || !p->await_comp)
                return bench_fail(bc, "out of memory for packet-id maps");
        }
        if (!pub) {
            p->streams = calloc(s->fanout ? s->P : 1, sizeof(struct seqtrack));
            p->got = calloc(s->fanout ? s->P : 1, sizeof(uint64_t));
            if (!p->streams || !p->got)
                return bench_fail(bc, "out of memory for sequence trackers");
        }
    }
    /* Fixed header <= 5 bytes, topic length 2, packet id 2. */
    s->msg_len = 5 + 2 + 128 + 2 + o->size;
    return 0;
}

static void ps_free(struct ps *s)
{
    uint32_t i;

    for (i = 0; s->peers && i < s->n; i++) {
        bconn_free(&s->peers[i].c);
        free(s->peers[i].await_ack);
        free(s->peers[i].await_comp);
        free(s->peers[i].streams);
        free(s->peers[i].got);
    }
    free(s->peers);
    if (s->ep >= 0)
        close(s->ep);
}

/* Opens connections while fewer than --concurrency handshakes are pending. */
static int open_more(struct ps *s)
{
    char err[160];

    while (s->next_open < s->n && s->n_pending < s->o->concurrency) {
        struct peer *p = &s->peers[s->next_open++];

        if (bconn_open(&p->c, s->ep, &s->bc->addr, s->bc->tls, err, sizeof(err)) < 0)
            return peer_fail(s, p, err);
        p->opened = true;
        s->n_pending++;
        if (queue_connect(s, p) < 0)
            return -1;
    }
    return 0;
}

static uint64_t expected(const struct ps *s)
{
    return s->fanout ? s->sent * s->S : s->sent;
}

static bool drained(const struct ps *s)
{
    uint32_t i;

    if (s->sc.unique < expected(s))
        return false;
    for (i = 0; i < s->P; i++)
        if (s->peers[i].inflight)
            return false;
    return true;
}

static int handle_events(struct ps *s, int timeout_ms)
{
    struct epoll_event ev[256];
    char err[160];
    int i, n = epoll_wait(s->ep, ev, 256, timeout_ms);

    if (n < 0) {
        if (errno == EINTR)
            return 0;
        return bench_fail(s->bc, "epoll_wait: %s", strerror(errno));
    }
    for (i = 0; i < n; i++) {
        struct peer *p = ev[i].data.ptr;
        int rc;

        rc = bconn_on_event(&p->c, ev[i].events, err, sizeof(err));
        if (rc < 0)
            return peer_fail(s, p, err);
        if (rc == 1) {
            rc = bconn_read(&p->c, on_packet, s, err, sizeof(err));
            if (rc < 0)
                return peer_fail(s, p, err);
            if (rc == 1)
                return peer_fail(s, p, "broker closed the connection");
        }
        if (bconn_flush(&p->c, err, sizeof(err)) < 0)
            return peer_fail(s, p, err);
    }
    return 0;
}

static void ping_all(struct ps *s)
{
    uint64_t now = bench_now_ns();
    uint32_t i;

    if (s->o->keepalive == 0 || now - s->t_ping < (uint64_t)s->o->keepalive * 500000000ull)
        return;
    s->t_ping = now;
    for (i = 0; i < s->n; i++)
        if (s->peers[i].connacked)
            (void)queue_small(s, &s->peers[i], MQTT_PINGREQ, 0, true);
}

static void progress(struct ps *s, bool force)
{
    double t = (double)(bench_now_ns() - s->bc->t_start_ns) / 1e9;
    static const char *names[] = { "connect", "run", "drain", "done" };

    bench_progress(s->bc, force, "pubsub %-7s %6.1fs ready=%" PRIu32 "/%" PRIu32
                   " sent=%" PRIu64 " recv=%" PRIu64 " lost=%" PRIu64,
                   names[s->phase], t, s->n_ready, s->n, s->sent, s->received,
                   expected(s) > s->sc.unique ? expected(s) - s->sc.unique : 0);
}

static void disconnect_all(struct ps *s)
{
    char err[160];
    uint32_t i;

    for (i = 0; i < s->n; i++) {
        struct peer *p = &s->peers[i];

        if (p->c.fd < 0)
            continue;
        if (p->connacked && queue_small(s, p, MQTT_DISCONNECT, 0, true) == 0)
            (void)bconn_flush(&p->c, err, sizeof(err));
        bconn_close(&p->c);
    }
}

static void fill_report(struct ps *s, struct bench_report *r)
{
    const struct bench_opts *o = s->o;
    uint64_t exp = expected(s);
    double setup = s->t_ready ? (double)(s->t_ready - s->bc->t_start_ns) / 1e9 : 0;
    double pub_s = (double)(s->t_last_send - s->t_first_send) / 1e9;
    double recv_s = s->t_last_recv > s->t_first_send
                        ? (double)(s->t_last_recv - s->t_first_send) / 1e9 : 0;

    report_str(r, "scenario", "pubsub");
    report_str(r, "transport", o->tls ? "tls" : "tcp");
    report_u64(r, "pubs", s->P);
    report_u64(r, "subs", s->S);
    report_str(r, "topics", o->topics);
    report_u64(r, "qos", o->qos);
    report_u64(r, "size", o->size);
    report_dbl(r, "rate_target", o->rate);
    report_u64(r, "inflight", o->inflight);
    report_u64(r, "window", o->window);
    report_u64(r, "clean_session", o->clean_session);
    report_u64(r, "session_present", s->session_present);
    report_dbl(r, "setup_s", setup);
    report_u64(r, "sent", s->sent);
    report_u64(r, "acked", o->qos ? s->acked : 0);
    report_u64(r, "expected", exp);
    report_u64(r, "received", s->received);
    report_u64(r, "unique", s->sc.unique);
    report_u64(r, "lost", exp > s->sc.unique ? exp - s->sc.unique : 0);
    report_u64(r, "dup", s->sc.dup);
    report_u64(r, "reordered", s->sc.reordered);
    report_u64(r, "bad_payload", s->bad_payload);
    report_u64(r, "foreign", s->foreign);
    report_u64(r, "unexpected_acks", s->unexpected_acks);
    report_u64(r, "deadline_cut", s->deadline_cut);
    report_dbl(r, "pub_s", pub_s);
    report_dbl(r, "recv_s", recv_s);
    report_dbl(r, "send_rate", pub_s > 0 ? (double)s->sent / pub_s : 0);
    report_dbl(r, "recv_rate", recv_s > 0 ? (double)s->sc.unique / recv_s : 0);
    report_dbl(r, "lat_p50_us", (double)hist_quantile(&s->lat, 0.50) / 1e3);
    report_dbl(r, "lat_p99_us", (double)hist_quantile(&s->lat, 0.99) / 1e3);
    report_dbl(r, "lat_p999_us", (double)hist_quantile(&s->lat, 0.999) / 1e3);
    report_dbl(r, "lat_max_us", (double)(s->lat.n ? s->lat.max : 0) / 1e3);
    report_dbl(r, "lat_mean_us", hist_mean(&s->lat) / 1e3);
}

/* Contract in bench.h. */
int bench_pubsub(struct bench_ctx *bc, struct bench_report *rep)
{
    struct ps s;
    int rc = -1;

    if (ps_init(&s, bc) < 0)
        goto out;
    while (s.phase != PH_DONE) {
        bool busy = false;
        int timeout = 10;

        if (bench_past_deadline(bc)) {
            if (s.phase == PH_DRAIN) {
                /* Publishing is over; what has not arrived by now is loss. */
                s.deadline_cut = true;
                break;
            }
            bench_fail(bc, "--deadline %.3gs reached in phase %s", bc->o->deadline,
                       s.phase == PH_CONNECT ? "connect" : "run");
            goto out;
        }
        if (s.phase == PH_CONNECT && open_more(&s) < 0)
            goto out;
        if (pump(&s, &busy) < 0)
            goto out;
        if (s.phase == PH_RUN && (busy || bc->o->rate > 0))
            timeout = busy ? 0 : 1;
        if (handle_events(&s, timeout) < 0)
            goto out;
        ping_all(&s);
        /* Drain until everything arrived, or nothing arrived for --drain
         * seconds (a backlog still flowing is waited for, up to --deadline). */
        if (s.phase == PH_DRAIN &&
            (drained(&s) || bench_now_ns() - (s.t_last_recv > s.t_drain ? s.t_last_recv : s.t_drain)
                                >= (uint64_t)(bc->o->drain * 1e9)))
            s.phase = PH_DONE;
        progress(&s, false);
    }
    progress(&s, true);
    rc = 0;
out:
    bench_progress_clear(bc);
    fill_report(&s, rep);
    disconnect_all(&s);
    ps_free(&s);
    return rc;
}
