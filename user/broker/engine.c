/* Engine setup, the once-per-iteration work (deferred Wills, batched
 * flush, deferred frees), housekeeping tick, signals and teardown. */
#include "broker/engine.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "broker/auth.h"
#include "broker/conn.h"
#include "broker/msg.h"
#include "broker/session.h"
#include "config.h"
#include "core/workers.h"
#include "ctl/control.h"
#include "policy/denylist.h"
#include "policy/detect.h"
#include "mqtt/retain.h"
#include "mqtt/topic_tree.h"
#include "net/listener.h"
#include "store/persist.h"
#include "tls/tls.h"
#include "util/hash.h"
#include "util/log.h"

#define TICK_MS 1000
#define EXPIRY_CHECK_MS 60000
#define GC_MS 10000

/* Wills of connections closed during this iteration. Publishing can close
 * more connections (write errors), so repeat until none is left. */
static bool publish_wills(struct engine *e)
{
    bool any = false;
    for (struct conn *c = e->dead; c; c = c->next) {
        struct msg *m = c->will_pending;
        if (!m)
            continue;
        c->will_pending = NULL;
        e->st.wills_published++;
        engine_publish(e, m);
        msg_unref(m);
        any = true;
    }
    return any;
}

static void flush_dirty(struct engine *e)
{
    while (e->dirty) {
        struct conn *list = e->dirty;
        e->dirty = NULL;
        while (list) {
            struct conn *c = list;
            list = c->next_dirty;
            c->dirty = false;
            c->next_dirty = NULL;
            conn_flush(c);
        }
    }
}

/* The iteration's store transaction commits before any output of the
 * iteration is written: no PUBACK/PUBREC for a stored message leaves
 * before it is on disk (docs/persistence.md). A failed commit stops the
 * broker without writing. */
static bool commit_then_flush(struct engine *e)
{
    if (persist_commit(e) < 0) {
        e->stopping = true;
        ev_stop(e->el);
        return false;
    }
    flush_dirty(e);
    return true;
}

static void before_sleep(struct evloop *el, void *arg)
{
    struct engine *e = arg;
    bool ok;
    do
        ok = commit_then_flush(e);
    while (ok && publish_wills(e));
    if (ok)
        commit_then_flush(e);
    while (e->dead) {
        struct conn *c = e->dead;
        e->dead = c->next;
        free(c->in);
        free(c);
    }
}

static void expire_sessions(struct engine *e)
{
    uint32_t exp = e->cfg->persistent_client_expiration;
    if (!exp)
        return;
    uint64_t now = ev_now_ms(e->el), limit = (uint64_t)exp * 1000u;
    for (uint32_t b = 0; b < e->sess_cap; b++)
        for (struct session *s = e->sess_tab[b], *nx; s; s = nx) {
            nx = s->hnext;
            if (!s->conn && now - s->offline_since_ms >= limit) {
                log_notice("session '%s' expired after %u s offline (persistent_client_expiration)",
                           s->client_id, exp);
                session_destroy(e, s);
            }
        }
}

static void on_tick(struct evloop *el, struct ev_timer *t)
{
    struct engine *e = t->arg;
    uint64_t now = ev_now_ms(el);
    if (e->cfg->sys_interval && now - e->last_sys_ms >= (uint64_t)e->cfg->sys_interval * 1000u) {
        e->last_sys_ms = now;
        sys_publish(e);
    }
    if (now - e->last_gc_ms >= GC_MS) {
        e->last_gc_ms = now;
        engine_filter_gc(e);
        denylist_gc(e->deny, now);
        detector_gc(e->det, now);
    }
    if (now - e->last_expiry_ms >= EXPIRY_CHECK_MS) {
        e->last_expiry_ms = now;
        expire_sessions(e);
    }
    ev_timer_arm(el, t, now + TICK_MS);
}

static void on_signal(struct evloop *el, struct ev_handler *h, uint32_t events)
{
    struct engine *e = h->arg;
    struct signalfd_siginfo si;
    while (read(h->fd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM) {
            log_notice("signal %u: shutting down", si.ssi_signo);
            e->stopping = true;
            ev_stop(el);
        } else if (si.ssi_signo == SIGHUP) {
            char err[512];
            if (engine_reload(e, err, sizeof err) < 0)
                log_err("SIGHUP: reload failed, old state kept: %s", err);
            else
                log_notice("SIGHUP: reloaded");
        }
    }
}

struct engine *engine_new(const struct moat_config *cfg, char *err, size_t errlen)
{
    struct engine *e = calloc(1, sizeof *e);
    if (!e) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    e->cfg = cfg;
    e->seed = moat_random_seed();
    e->sig.fd = e->wake.fd = -1;
    pthread_mutex_init(&e->post_lock, NULL);
    e->el = ev_new();
    e->det = detector_new(e->seed ^ 0x7f4a7c15u, 0);
    e->deny = denylist_new(e->seed ^ 0x2545f491u, 0);
    e->subs = topic_tree_new(e->seed);
    e->retained = retain_new(e->seed ^ 0x5bd1e995u);
    e->listeners = calloc(cfg->n_listeners ? cfg->n_listeners : 1, sizeof *e->listeners);
    if (!e->el || !e->subs || !e->retained || !e->listeners || !e->det || !e->deny) {
        snprintf(err, errlen, "out of memory");
        engine_free(e);
        return NULL;
    }
    if (persist_open(e, err, errlen) < 0) {
        engine_free(e);
        return NULL;
    }
    for (size_t i = 0; i < cfg->n_listeners; i++) {
        const struct listener_conf *lc = &cfg->listeners[i];
        bool tls = lc->certfile || lc->keyfile;
        if (listener_open(&e->listeners[i], lc, err, errlen) < 0 ||
            (tls && !(e->listeners[i].tls = tls_listener_new(e, lc, err, errlen))) ||
            engine_listen(e, &e->listeners[i]) < 0) {
            e->n_listeners = i + 1;
            engine_free(e);
            return NULL;
        }
        e->n_listeners = i + 1;
        log_notice("listening on %s port %u", cfg->listeners[i].bind_address
                   ? cfg->listeners[i].bind_address : "all addresses", e->listeners[i].port);
    }

    if (auth_load(e, err, errlen) < 0 || engine_filter_open(e, err, errlen) < 0 ||
        block_state_load(e, err, errlen) < 0) {
        engine_free(e);
        return NULL;
    }

    sigset_t ss;
    sigemptyset(&ss);
    sigaddset(&ss, SIGINT);
    sigaddset(&ss, SIGTERM);
    sigaddset(&ss, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &ss, NULL);
    signal(SIGPIPE, SIG_IGN);
    e->sig.fd = signalfd(-1, &ss, SFD_NONBLOCK | SFD_CLOEXEC);
    e->sig.fn = on_signal;
    e->sig.arg = e;
    e->wake.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    e->wake.fn = engine_on_wake;
    e->wake.arg = e;
    if (e->sig.fd < 0 || e->wake.fd < 0 || ev_add(e->el, &e->sig, EPOLLIN) < 0 ||
        ev_add(e->el, &e->wake, EPOLLIN) < 0) {
        snprintf(err, errlen, "signalfd/eventfd: %s", strerror(errno));
        engine_free(e);
        return NULL;
    }
    if (cfg->control_socket && *cfg->control_socket &&
        !(e->ctl = control_open(e, cfg->control_socket, err, errlen))) {
        /* Another moatd owns it: two daemons would fight over the maps.
         * Anything else (not root, read-only /run) only costs moatctl's
         * daemon verbs. */
        if (errno == EADDRINUSE) {
            engine_free(e);
            return NULL;
        }
        log_warn("%s; moatctl's daemon verbs will not reach this moatd", err);
    }
    err[0] = 0;
    e->st.start_ms = ev_now_ms(e->el);
    e->tick.fn = on_tick;
    e->tick.arg = e;
    ev_timer_arm(e->el, &e->tick, e->st.start_ms + TICK_MS);
    ev_set_before_sleep(e->el, before_sleep, e);
    sys_publish(e);
    e->last_sys_ms = e->st.start_ms;
    return e;
}

int engine_run(struct engine *e)
{
    return ev_run(e->el);
}

int engine_reload(struct engine *e, char *err, size_t errlen)
{
    if (auth_reload(e, err, errlen) < 0)
        return -1;
    for (size_t i = 0; i < e->n_listeners; i++)
        if (e->listeners[i].tls && tls_listener_reload(e->listeners[i].tls, err, errlen) < 0)
            return -1;
    /* Client certificates revoked or expired since their handshake. */
    for (struct conn *c = e->conns, *nx; c; c = nx) {
        nx = c->next;
        char why[256] = "";
        if (c->lst && c->lst->tls && tls_conn_recheck(c->lst->tls, c->t, c->tctx, why, sizeof why) == 0) {
            char msg[320];
            snprintf(msg, sizeof msg, "client certificate no longer valid after reload: %s", why);
            conn_close(c, true, msg);
        }
    }
    return 0;
}

struct workers *engine_workers(struct engine *e)
{
    if (!e->workers)
        e->workers = workers_new(0, 0);
    return e->workers;
}

void engine_free(struct engine *e)
{
    if (!e)
        return;
    /* Handshakes in flight give up at once rather than time out. */
    for (size_t i = 0; i < e->n_listeners; i++)
        tls_listener_stop(e->listeners[i].tls);
    /* Workers first: their last results are posted, and run here, before
     * the connections they create are closed below. */
    workers_free(e->workers);
    e->workers = NULL;
    if (e->wake.fd >= 0)
        engine_on_wake(e->el, &e->wake, 0);
    control_close(e->ctl);
    e->ctl = NULL;
    engine_filter_close(e);
    while (e->conns)
        conn_close(e->conns, false, "broker shutting down");
    for (struct conn *c = e->dead; c; c = c->next) {
        msg_unref(c->will_pending);   /* not published at shutdown */
        c->will_pending = NULL;
    }
    if (e->el)
        before_sleep(e->el, e);
    persist_close(e);      /* sessions below are freed, not deleted from the store */
    for (uint32_t b = 0; b < e->sess_cap; b++)
        while (e->sess_tab[b])
            session_destroy(e, e->sess_tab[b]);
    free(e->sess_tab);
    auth_free(e);
    for (size_t i = 0; i < e->n_listeners; i++) {
        tls_listener_free(e->listeners[i].tls);
        listener_close(&e->listeners[i]);
    }
    free(e->listeners);
    topic_tree_free(e->subs);
    retain_free(e->retained, msg_unref_void);
    free(e->matched);
    detector_free(e->det);
    denylist_free(e->deny);
    if (e->sig.fd >= 0)
        close(e->sig.fd);
    if (e->wake.fd >= 0)
        close(e->wake.fd);
    ev_free(e->el);
    pthread_mutex_destroy(&e->post_lock);
    free(e);
}
