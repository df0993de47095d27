/* The physical reference: loopback TCP message rate with a trivial sink.
 * A sink thread accepts --pubs connections on 127.0.0.1 and only counts
 * bytes; the main thread writes QoS 0 PUBLISH packets of the same size a
 * publisher would send, through the same buffered write path. No broker is
 * involved, so the result is the ceiling a broker's ingress could reach on
 * this machine with this client (one hop, no fan-out). */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"
#include "conn.h"
#include "report.h"

struct sink {
    int lfd;
    uint32_t expect_conns;
    uint64_t deadline_ns;
    atomic_bool stop;
    /* Written by the sink thread, read after pthread_join. */
    uint64_t bytes, t_first, t_last;
    char err[160];
};

static void *sink_main(void *arg)
{
    struct sink *k = arg;
    struct epoll_event ev[64];
    static const size_t bufsz = 256 * 1024;
    uint8_t *buf = malloc(bufsz);
    uint32_t accepted = 0, closed = 0;
    int ep = epoll_create1(EPOLL_CLOEXEC);

    if (!buf || ep < 0) {
        snprintf(k->err, sizeof(k->err), "sink: out of memory or epoll_create1 failed");
        goto out;
    }
    memset(ev, 0, sizeof(ev));
    ev[0].events = EPOLLIN;
    ev[0].data.fd = k->lfd;
    epoll_ctl(ep, EPOLL_CTL_ADD, k->lfd, &ev[0]);
    while (!atomic_load(&k->stop) && (accepted < k->expect_conns || closed < accepted)) {
        int i, n = epoll_wait(ep, ev, 64, 50);

        if (bench_now_ns() > k->deadline_ns)
            break;
        for (i = 0; i < n; i++) {
            int fd = ev[i].data.fd;

            if (fd == k->lfd) {
                int c = accept4(k->lfd, NULL, NULL, SOCK_CLOEXEC);
                struct epoll_event e = { .events = EPOLLIN, .data.fd = c };

                if (c >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, c, &e) == 0)
                    accepted++;
                else if (c >= 0)
                    close(c);
                continue;
            }
            for (;;) {
                ssize_t r = recv(fd, buf, bufsz, MSG_DONTWAIT);

                if (r > 0) {
                    uint64_t now = bench_now_ns();
                    if (k->bytes == 0)
                        k->t_first = now;
                    k->t_last = now;
                    k->bytes += (uint64_t)r;
                    continue;
                }
                if (r < 0 && (errno == EAGAIN || errno == EINTR))
                    break;
                close(fd);   /* EOF or error: epoll drops it */
                closed++;
                break;
            }
        }
    }
out:
    free(buf);
    if (ep >= 0)
        close(ep);
    return NULL;
}

static int listen_loopback(struct bench_ctx *bc, struct sockaddr_in *a)
{
    socklen_t al = sizeof(*a);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    memset(a, 0, sizeof(*a));
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)a, sizeof(*a)) < 0 || listen(fd, 1024) < 0 ||
        getsockname(fd, (struct sockaddr *)a, &al) < 0) {
        bench_fail(bc, "sink: listen on 127.0.0.1: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* Fills c's buffer with whole PUBLISH packets (up to the count) and flushes
 * once. Returns packets added, or -1 on a write error. */
static int64_t feed(struct bench_ctx *bc, struct bconn *c, const uint8_t *msg, size_t mlen,
                    uint64_t *left)
{
    char err[160];
    int64_t n = 0;

    while (*left > 0 && bconn_out_space(c) >= mlen) {
        memcpy(bconn_out_tail(c), msg, mlen);
        bconn_out_commit(c, mlen);
        (*left)--;
        n++;
    }
    if (bconn_flush(c, err, sizeof(err)) < 0)
        return bench_fail(bc, "sink source %" PRIu32 ": %s", c->idx, err);
    return n;
}

/* Contract in bench.h. */
int bench_sink(struct bench_ctx *bc, struct bench_report *rep)
{
    const struct bench_opts *o = bc->o;
    struct sink k;
    struct sockaddr_in a;
    pthread_t th;
    struct bconn *c = NULL;
    uint64_t *left = NULL, sent = 0, t0, t_end, per = o->count ? o->count : UINT64_MAX;
    uint8_t *msg = NULL;
    size_t mlen = 0;
    uint32_t i;
    int ep = -1, rc = -1;
    bool started = false;
    static const char topic[] = "bench/sink";

    memset(&k, 0, sizeof(k));
    k.lfd = listen_loopback(bc, &a);
    if (k.lfd < 0)
        return -1;
    k.expect_conns = o->pubs;
    k.deadline_ns = bc->t_deadline_ns;
    msg = malloc((size_t)o->size + 16 + sizeof(topic));
    c = calloc(o->pubs, sizeof(*c));
    left = calloc(o->pubs, sizeof(*left));
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (!msg || !c || !left || ep < 0) {
        bench_fail(bc, "sink: out of memory or epoll_create1 failed");
        goto out;
    }
    for (i = 0; i < o->pubs; i++)
        c[i].fd = -1;   /* not opened: cleanup must not close fd 0 */
    mlen = mqtt_encode_publish_head(msg, 16 + sizeof(topic), 0, false, false,
                                    (const uint8_t *)topic, sizeof(topic) - 1, 0, o->size);
    if (mlen == 0) {
        bench_fail(bc, "codec refused to encode PUBLISH");
        goto out;
    }
    memset(msg + mlen, 'x', o->size);
    mlen += o->size;
    if (pthread_create(&th, NULL, sink_main, &k) != 0) {
        bench_fail(bc, "sink: pthread_create failed");
        goto out;
    }
    started = true;
    for (i = 0; i < o->pubs; i++) {
        char err[160];

        left[i] = per;
        if (bconn_init(&c[i], i, 64, 64 * 1024 + mlen) < 0 ||
            bconn_open(&c[i], ep, &a, NULL, err, sizeof(err)) < 0) {
            bench_fail(bc, "sink source %" PRIu32 ": %s", i, c[i].out ? err : "out of memory");
            goto out;
        }
    }
    t0 = bench_now_ns();
    t_end = t0 + (uint64_t)(o->duration * 1e9);
    for (;;) {
        struct epoll_event ev[64];
        uint32_t busy = 0, active = 0;
        int n;

        if (bench_past_deadline(bc)) {
            bench_fail(bc, "--deadline %.3gs reached", o->deadline);
            goto out;
        }
        if (o->duration > 0 && bench_now_ns() >= t_end)
            break;
        for (i = 0; i < o->pubs; i++) {
            int64_t m;

            if (left[i] == 0)
                continue;
            active++;
            if (!c[i].writable)
                continue;
            if ((m = feed(bc, &c[i], msg, mlen, &left[i])) < 0)
                goto out;
            sent += (uint64_t)m;
            busy += c[i].writable;
        }
        if (active == 0)
            break;
        n = epoll_wait(ep, ev, 64, busy ? 0 : 10);
        for (int j = 0; j < n; j++) {
            char err[160];
            if (bconn_on_event(ev[j].data.ptr, ev[j].events, err, sizeof(err)) < 0) {
                bench_fail(bc, "sink source: %s", err);
                goto out;
            }
        }
        bench_progress(bc, false, "sink %.1fs sent=%" PRIu64, (double)(bench_now_ns() - t0) / 1e9, sent);
    }
    /* Push out what is buffered, then close so the sink sees EOF. */
    for (i = 0; i < o->pubs; i++) {
        uint64_t none = 0;
        while (bconn_out_pending(&c[i]) && !bench_past_deadline(bc)) {
            c[i].writable = true;
            if (feed(bc, &c[i], msg, mlen, &none) < 0)
                goto out;
            if (bconn_out_pending(&c[i]))
                usleep(100);
        }
        bconn_close(&c[i]);
    }
    rc = 0;
out:
    if (started) {
        if (rc < 0)
            atomic_store(&k.stop, true);
        for (i = 0; i < o->pubs; i++)
            bconn_close(&c[i]);
        pthread_join(th, NULL);
    }
    bench_progress_clear(bc);
    if (rc == 0 && k.err[0])
        rc = bench_fail(bc, "%s", k.err);
    {
        double s = k.t_last > k.t_first ? (double)(k.t_last - k.t_first) / 1e9 : 0;
        uint64_t msgs = mlen ? k.bytes / mlen : 0;

        report_str(rep, "scenario", "sink");
        report_u64(rep, "conns", o->pubs);
        report_u64(rep, "size", o->size);
        report_u64(rep, "msg_bytes", mlen);
        report_u64(rep, "sent", sent);
        report_u64(rep, "received", msgs);
        report_dbl(rep, "recv_s", s);
        report_dbl(rep, "recv_rate", s > 0 ? (double)msgs / s : 0);
        report_dbl(rep, "bytes_per_s", s > 0 ? (double)k.bytes / s : 0);
    }
    for (i = 0; c && i < o->pubs; i++)
        bconn_free(&c[i]);
    free(c);
    free(left);
    free(msg);
    if (ep >= 0)
        close(ep);
    close(k.lfd);
    return rc;
}
