/* Accepting TCP connections on the engine thread, and adopting those
 * other threads hand over (TLS handshake workers). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "broker/conn.h"
#include "broker/engine.h"
#include "broker/keepalive.h"
#include "broker/block.h"
#include "config.h"
#include "policy/detect.h"
#include "net/listener.h"
#include "tls/tls.h"
#include "util/log.h"

#define ACCEPT_BATCH 64
#define ACCEPT_PAUSE_MS 100

static void to_peer(const struct sockaddr_storage *ss, struct peer_addr *p)
{
    memset(p, 0, sizeof *p);
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        p->family = AF_INET;
        p->port = ntohs(a->sin_port);
        memcpy(p->addr, &a->sin_addr, 4);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        p->port = ntohs(a->sin6_port);
        if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) {   /* dual-stack socket */
            p->family = AF_INET;
            memcpy(p->addr, a->sin6_addr.s6_addr + 12, 4);
        } else {
            p->family = AF_INET6;
            memcpy(p->addr, &a->sin6_addr, 16);
        }
    }
}

void engine_conn_accepted(struct engine *e, int fd, const struct transport *t, void *tctx,
                          const struct listener *lst, const struct peer_addr *peer)
{
    struct listener *l = (struct listener *)lst;
    if (engine_peer_blocked(e, peer)) {
        char ps[64];
        e->st.conns_refused_blocked++;
        log_info("%s refused: source is blocked", peer_str(peer, ps, sizeof ps));
        t->close(fd, tctx);
        return;
    }
    detect_event(e, DET_CONNECT_FLOOD, NULL, peer, NULL, 0);
    int maxc = l && l->conf ? l->conf->max_connections : -1;
    if (maxc >= 0 && l->n_conns >= (uint64_t)maxc) {
        char ps[64];
        e->st.conns_refused_limit++;
        log_notice("%s refused: listener %u at max_connections %d", peer_str(peer, ps, sizeof ps),
                   l->port, maxc);
        t->close(fd, tctx);
        return;
    }
    struct conn *c = conn_new(e, fd, t, tctx, lst, peer);
    if (!c) {
        e->st.oom++;
        return;
    }
    if (l)
        l->n_conns++;
    e->st.conns_accepted++;
    connect_timeout_start(c);
}

static void resume_accept(struct evloop *el, struct ev_timer *t)
{
    struct listener *l = t->arg;
    ev_mod(el, &l->ev, EPOLLIN);
}

static void on_accept(struct evloop *el, struct ev_handler *h, uint32_t events)
{
    struct listener *l = h->arg;
    struct engine *e = l->eng;
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(h->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* Level-triggered: without a pause this would spin. */
                log_warn("listener %u: accept: %s; pausing accepts for %d ms", l->port,
                         strerror(errno), ACCEPT_PAUSE_MS);
                ev_mod(el, h, 0);
                l->pause.fn = resume_accept;
                l->pause.arg = l;
                ev_timer_arm(el, &l->pause, ev_now_ms(el) + ACCEPT_PAUSE_MS);
            }
            return;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (l->tls) {
            tls_listener_accept(l->tls, fd, l);   /* handshake off this thread */
            continue;
        }
        struct peer_addr p;
        to_peer(&ss, &p);
        engine_conn_accepted(e, fd, &transport_tcp, NULL, l, &p);
    }
}

int engine_listen(struct engine *e, struct listener *l)
{
    l->eng = e;
    l->ev.fn = on_accept;
    l->ev.arg = l;
    return ev_add(e->el, &l->ev, EPOLLIN);
}

struct adoption {
    int fd;
    const struct transport *t;
    void *tctx;
    const struct listener *lst;
};

static void adopt_now(struct engine *e, void *arg)
{
    struct adoption *a = arg;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    struct peer_addr p = { 0 };
    if (getpeername(a->fd, (struct sockaddr *)&ss, &sl) == 0)
        to_peer(&ss, &p);
    engine_conn_accepted(e, a->fd, a->t, a->tctx, a->lst, &p);
    free(a);
}

int engine_adopt(struct engine *e, int fd, const struct transport *t, void *tctx,
                 const struct listener *lst)
{
    struct adoption *a = malloc(sizeof *a);
    if (a) {
        *a = (struct adoption){ .fd = fd, .t = t, .tctx = tctx, .lst = lst };
        if (engine_post(e, adopt_now, a) == 0)
            return 0;
        free(a);
    }
    t->close(fd, tctx);
    return -1;
}

static void tls_failed_now(struct engine *e, void *arg)
{
    struct peer_addr *p = arg;
    detect_event(e, DET_TLS_FAILURE, NULL, p, NULL, 0);
    free(p);
}

void engine_tls_failed(struct engine *e, int fd)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    struct peer_addr *p = malloc(sizeof *p);
    if (!p)
        return;
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) < 0 ||
        (to_peer(&ss, p), engine_post(e, tls_failed_now, p) < 0))
        free(p);
}

int engine_post(struct engine *e, void (*fn)(struct engine *e, void *arg), void *arg)
{
    struct posted *p = malloc(sizeof *p);
    if (!p)
        return -1;
    *p = (struct posted){ .fn = fn, .arg = arg };
    pthread_mutex_lock(&e->post_lock);
    if (e->posted_tail)
        e->posted_tail->next = p;
    else
        e->posted = p;
    e->posted_tail = p;
    pthread_mutex_unlock(&e->post_lock);
    uint64_t one = 1;
    /* EAGAIN: the counter is saturated, so a wakeup is pending anyway. */
    if (write(e->wake.fd, &one, sizeof one) < 0 && errno != EAGAIN)
        log_warn("eventfd write: %s", strerror(errno));
    return 0;
}

void engine_on_wake(struct evloop *el, struct ev_handler *h, uint32_t events)
{
    struct engine *e = h->arg;
    uint64_t v;
    if (read(h->fd, &v, sizeof v) < 0 && errno != EAGAIN)
        log_warn("eventfd read: %s", strerror(errno));
    pthread_mutex_lock(&e->post_lock);
    struct posted *list = e->posted;
    e->posted = e->posted_tail = NULL;
    pthread_mutex_unlock(&e->post_lock);
    while (list) {
        struct posted *n = list->next;
        list->fn(e, list->arg);
        free(list);
        list = n;
    }
}
