/* Connection scenarios.
 *  conn: N connections, at most --concurrency in flight; each does TCP
 *        connect, CONNECT, waits for CONNACK (latency measured from connect()),
 *        sends DISCONNECT and closes. Reports connections/s and CONNACK latency.
 *  idle: the same handshakes, but every connection is kept; once all are up
 *        the ready file is written and they are held for --hold seconds, so
 *        the broker's memory can be read from outside. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench.h"
#include "conn.h"
#include "hist.h"
#include "report.h"

struct cr {
    struct bench_ctx *bc;
    const struct bench_opts *o;
    bool keep;                 /* idle: keep connections open */
    int ep;
    struct bconn *c;           /* one slot per connection (idle) or per concurrent attempt (conn) */
    uint32_t nslots;
    uint32_t opened, done, failed, dropped, live, resumed;
    struct hist lat;
    uint64_t t_all_up;
    char first_err[256];
};

static int on_packet(void *arg, struct bconn *c, const struct mqtt_packet *pk)
{
    struct cr *s = arg;
    uint64_t now = bench_now_ns();

    (void)c;
    if (pk->type == MQTT_PINGRESP)
        return 0;
    if (pk->type != MQTT_CONNACK || pk->u.connack.rc != MQTT_CONNACK_ACCEPTED) {
        if (!s->first_err[0])
            snprintf(s->first_err, sizeof(s->first_err), "%s (rc %u) instead of an accepting CONNACK",
                     mqtt_ptype_name(pk->type), pk->type == MQTT_CONNACK ? pk->u.connack.rc : 0);
        return -1;
    }
    hist_add(&s->lat, now - c->t_open_ns);
    s->resumed += c->resumed;
    /* t_open_ns = 0 marks "CONNACK seen" for the caller. */
    c->t_open_ns = 0;
    return 0;
}

static int queue_connect(struct cr *s, struct bconn *c, uint32_t n)
{
    struct mqtt_connect cn;
    char id[48];
    size_t len;

    snprintf(id, sizeof(id), "mb%ld-c%" PRIu32, (long)getpid(), n);
    memset(&cn, 0, sizeof(cn));
    cn.level = 4;
    cn.clean_session = true;
    cn.keepalive = (uint16_t)s->o->keepalive;
    cn.client_id.p = (const uint8_t *)id;
    cn.client_id.len = (uint32_t)strlen(id);
    len = mqtt_encode_connect(bconn_out_tail(c), bconn_out_space(c), &cn);
    if (len == 0)
        return bench_fail(s->bc, "codec refused to encode CONNECT");
    bconn_out_commit(c, len);
    return 0;
}

static void record_failure(struct cr *s, struct bconn *c, const char *why)
{
    if (!s->first_err[0])
        snprintf(s->first_err, sizeof(s->first_err), "connection %" PRIu32 ": %s", c->idx, why);
    s->failed++;
    bconn_close(c);
}

/* Starts connection number n in slot c. EMFILE is fatal: it is a limit of
 * this process, not a property of the broker. */
static int start(struct cr *s, struct bconn *c, uint32_t n)
{
    char err[160];

    c->idx = n;
    if (bconn_open(c, s->ep, &s->bc->addr, s->bc->tls, err, sizeof(err)) < 0) {
        if (errno == EMFILE || errno == ENFILE) {
            struct rlimit rl;
            getrlimit(RLIMIT_NOFILE, &rl);
            return bench_fail(s->bc, "connection %" PRIu32 ": %s (RLIMIT_NOFILE soft %llu hard %llu;"
                              " spread --conns over several processes)", n, err,
                              (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
        }
        record_failure(s, c, err);
        s->opened++;
        return 0;
    }
    s->opened++;
    return queue_connect(s, c, n);
}

static int handle_events(struct cr *s, int timeout_ms)
{
    struct epoll_event ev[256];
    char err[160];
    int i, n = epoll_wait(s->ep, ev, 256, timeout_ms);

    if (n < 0)
        return errno == EINTR ? 0 : bench_fail(s->bc, "epoll_wait: %s", strerror(errno));
    for (i = 0; i < n; i++) {
        struct bconn *c = ev[i].data.ptr;
        bool was_up = c->t_open_ns == 0;
        int rc;

        if (c->fd < 0)
            continue;
        if (bconn_on_event(c, ev[i].events, err, sizeof(err)) < 0) {
            record_failure(s, c, err);
            continue;
        }
        rc = bconn_read(c, on_packet, s, err, sizeof(err));
        if (rc != 0) {
            if (was_up) {
                s->dropped++;   /* an established (idle) connection was closed */
                s->live--;
                bconn_close(c);
            } else {
                record_failure(s, c, rc == 1 ? "broker closed the connection before CONNACK" : err);
            }
            continue;
        }
        if (!was_up && c->t_open_ns == 0) {
            s->done++;
            if (s->keep) {
                s->live++;
            } else {
                size_t len = mqtt_encode_empty(bconn_out_tail(c), bconn_out_space(c), MQTT_DISCONNECT);
                bconn_out_commit(c, len);
                (void)bconn_flush(c, err, sizeof(err));
                bconn_close(c);
                continue;
            }
        }
        if (bconn_flush(c, err, sizeof(err)) < 0)
            record_failure(s, c, err);
    }
    return 0;
}

static int cr_init(struct cr *s, struct bench_ctx *bc, bool keep)
{
    uint32_t i;

    memset(s, 0, sizeof(*s));
    s->ep = -1;
    s->bc = bc;
    s->o = bc->o;
    s->keep = keep;
    hist_init(&s->lat);
    s->nslots = keep ? s->o->conns : s->o->concurrency;
    s->ep = epoll_create1(EPOLL_CLOEXEC);
    if (s->ep < 0)
        return bench_fail(bc, "epoll_create1: %s", strerror(errno));
    s->c = calloc(s->nslots, sizeof(*s->c));
    if (!s->c)
        return bench_fail(bc, "out of memory for %" PRIu32 " connections", s->nslots);
    for (i = 0; i < s->nslots; i++)
        s->c[i].fd = -1;   /* not opened: cleanup must not close fd 0 */
    for (i = 0; i < s->nslots; i++)
        if (bconn_init(&s->c[i], i, 256, 256) < 0)
            return bench_fail(bc, "out of memory for connection buffers");
    return 0;
}

static void cr_free(struct cr *s)
{
    uint32_t i;

    for (i = 0; s->c && i < s->nslots; i++)
        bconn_free(&s->c[i]);
    free(s->c);
    if (s->ep >= 0)
        close(s->ep);
}

/* Runs the handshakes until every one of --conns has succeeded or failed. */
static int connect_all(struct cr *s)
{
    const struct bench_opts *o = s->o;

    while (s->done + s->failed < o->conns) {
        uint32_t i, pending = s->opened - s->done - s->failed;

        if (bench_past_deadline(s->bc)) {
            s->t_all_up = bench_now_ns();   /* the rate so far is still reported */
            return bench_fail(s->bc, "--deadline %.3gs reached after %" PRIu32 " of %" PRIu32
                              " connections", o->deadline, s->done, o->conns);
        }
        for (i = 0; i < s->nslots && s->opened < o->conns && pending < o->concurrency; i++) {
            struct bconn *c = s->keep ? &s->c[s->opened] : &s->c[i];

            if (!s->keep && c->fd >= 0)
                continue;
            if (start(s, c, s->opened) < 0)
                return -1;
            pending++;
        }
        if (handle_events(s, 10) < 0)
            return -1;
        bench_progress(s->bc, false, "%s %" PRIu32 "/%" PRIu32 " connected, %" PRIu32 " failed",
                       o->scenario, s->done, o->conns, s->failed);
    }
    s->t_all_up = bench_now_ns();
    return 0;
}

static void write_ready(struct cr *s)
{
    FILE *f;
    char tmp[4096];

    if (!s->o->ready_file)
        return;
    /* Written under a temporary name and renamed, so a watcher never reads
     * a half-written file. */
    snprintf(tmp, sizeof(tmp), "%s.tmp", s->o->ready_file);
    f = fopen(tmp, "w");
    if (!f) {
        bench_fail(s->bc, "--ready-file %s: %s", s->o->ready_file, strerror(errno));
        return;
    }
    fprintf(f, "connected=%" PRIu32 " failed=%" PRIu32 " pid=%ld\n", s->live, s->failed, (long)getpid());
    fclose(f);
    if (rename(tmp, s->o->ready_file) < 0)
        bench_fail(s->bc, "--ready-file %s: %s", s->o->ready_file, strerror(errno));
}

static void ping_all(struct cr *s)
{
    char err[160];
    uint32_t i;

    for (i = 0; i < s->nslots; i++) {
        struct bconn *c = &s->c[i];
        size_t len;

        if (c->fd < 0 || c->t_open_ns != 0 || bconn_out_space(c) < 2)
            continue;
        len = mqtt_encode_empty(bconn_out_tail(c), bconn_out_space(c), MQTT_PINGREQ);
        bconn_out_commit(c, len);
        (void)bconn_flush(c, err, sizeof(err));
    }
}

static void fill_report(struct cr *s, struct bench_report *r, uint64_t t0)
{
    double up_s = s->t_all_up > t0 ? (double)(s->t_all_up - t0) / 1e9 : 0;

    report_str(r, "scenario", s->o->scenario);
    report_str(r, "transport", s->o->tls_resume ? "tls-resume" : s->o->tls ? "tls" : "tcp");
    if (s->o->tls) {
        report_str(r, "tls_max", s->o->tls_max ? s->o->tls_max : "default");
        report_u64(r, "tls_resumed", s->resumed);
    }
    report_u64(r, "conns", s->o->conns);
    report_u64(r, "concurrency", s->o->concurrency);
    report_u64(r, "ok", s->done);
    report_u64(r, "failed", s->failed);
    if (s->keep) {
        report_u64(r, "held", s->live);
        report_u64(r, "dropped", s->dropped);
        report_dbl(r, "hold_s", s->o->hold);
    }
    report_dbl(r, "connect_s", up_s);
    report_dbl(r, "conn_rate", up_s > 0 ? (double)s->done / up_s : 0);
    report_dbl(r, "connack_p50_us", (double)hist_quantile(&s->lat, 0.50) / 1e3);
    report_dbl(r, "connack_p99_us", (double)hist_quantile(&s->lat, 0.99) / 1e3);
    report_dbl(r, "connack_p999_us", (double)hist_quantile(&s->lat, 0.999) / 1e3);
    report_dbl(r, "connack_max_us", (double)(s->lat.n ? s->lat.max : 0) / 1e3);
    if (s->first_err[0])
        report_str(r, "first_error", s->first_err);
}

static int run(struct bench_ctx *bc, struct bench_report *rep, bool keep)
{
    struct cr s;
    uint64_t t0 = bench_now_ns();
    int rc = -1;

    if (cr_init(&s, bc, keep) < 0 || connect_all(&s) < 0)
        goto out;
    if (keep) {
        uint64_t until = bench_now_ns() + (uint64_t)(bc->o->hold * 1e9), t_ping = bench_now_ns();

        write_ready(&s);
        while (!bc->err[0] && bench_now_ns() < until) {
            if (bench_past_deadline(bc)) {
                bench_fail(bc, "--deadline %.3gs reached while holding", bc->o->deadline);
                goto out;
            }
            if (handle_events(&s, 100) < 0)
                goto out;
            if (bc->o->keepalive && bench_now_ns() - t_ping > bc->o->keepalive * 500000000ull) {
                ping_all(&s);
                t_ping = bench_now_ns();
            }
            bench_progress(bc, false, "idle holding %" PRIu32 " connections, %.0fs left",
                           s.live, (double)(until - bench_now_ns()) / 1e9);
        }
    }
    if (!bc->err[0] && s.failed > 0)
        bench_fail(bc, "%" PRIu32 " of %" PRIu32 " connections failed; first: %s", s.failed,
                   bc->o->conns, s.first_err);
    rc = bc->err[0] ? -1 : 0;
out:
    bench_progress_clear(bc);
    fill_report(&s, rep, t0);
    cr_free(&s);
    return rc;
}

/* Contract in bench.h. */
int bench_connrate(struct bench_ctx *bc, struct bench_report *rep)
{
    return run(bc, rep, false);
}

/* Contract in bench.h. */
int bench_idle(struct bench_ctx *bc, struct bench_report *rep)
{
    return run(bc, rep, true);
}
