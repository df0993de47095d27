/* A TLS listener: its SSL_CTX (swapped on reload), whether the kernel
 * offers kTLS, and the hand-off of accepted sockets to the handshake
 * workers. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/engine.h"
#include "config.h"
#include "core/workers.h"
#include "tls/tls_internal.h"
#include "util/log.h"

struct tls_listener *tls_listener_new(struct engine *e, const struct listener_conf *lc,
                                      char *err, size_t errlen)
{
    struct tls_listener *tl = calloc(1, sizeof *tl);
    if (!tl) {
        snprintf(err, errlen, "%s:%d: listener %u: out of memory", lc->file ? lc->file : "?",
                 lc->line, lc->port);
        return NULL;
    }
    tl->eng = e;
    tl->lc = lc;
    tl->handshake_timeout_ms = e->cfg->moat_tls_handshake_timeout
                             ? e->cfg->moat_tls_handshake_timeout * 1000u
                             : TLS_HANDSHAKE_TIMEOUT_MS_DEFAULT;
    tl->hs_epfd = -1;
    atomic_init(&tl->stopping, false);
    pthread_mutex_init(&tl->lock, NULL);
    tls_tickets_init(tl);
    char why[128];
    tl->ktls = tl->kernel_ktls = ktls_probe(why, sizeof why);
    tl->ktls_rx13 = true;
    if (tl->ktls)
        log_notice("listener %u: TLS; kernel offers kTLS (%s)", lc->port, why);
    else
        log_notice("listener %u: TLS; kernel offers no kTLS (%s): userspace TLS", lc->port,
                   why);
    /* moat_tls_ktls: "off" keeps every connection in userspace, "tx"
     * leaves TLS 1.3 receive in userspace (the mixed mode). The
     * environment variable MOAT_TLS_KTLS overrides it, for the VM tests. */
    const char *kmode = getenv("MOAT_TLS_KTLS");
    if (!kmode)
        kmode = e->cfg->moat_tls_ktls == CFG_TLS_KTLS_OFF ? "off"
              : e->cfg->moat_tls_ktls == CFG_TLS_KTLS_TX ? "tx" : NULL;
    if (tl->ktls && kmode && strcmp(kmode, "off") == 0) {
        tl->ktls = false;
        log_notice("listener %u: kTLS off (moat_tls_ktls): userspace TLS only", lc->port);
    } else if (tl->ktls && kmode && strcmp(kmode, "tx") == 0) {
        tl->ktls_rx13 = false;
        log_notice("listener %u: kTLS tx (moat_tls_ktls): TLS 1.3 receive stays in userspace",
                   lc->port);
    }
    tl->ctx = tls_ctx_build(lc, tl->ktls, NULL, NULL, err, errlen);
    if (!tl->ctx) {
        tls_listener_free(tl);
        return NULL;
    }
    for (size_t i = 0; i < lc->n_sni; i++)
        if (tls_listener_add_sni(tl, lc->sni[i].name, lc->sni[i].certfile, lc->sni[i].keyfile,
                                 err, errlen) < 0) {
            tls_listener_free(tl);
            return NULL;
        }
    tls_listener_sni_strict(tl, lc->sni_strict);
    tls_sni_attach(tl, tl->ctx);
    tls_tickets_attach(tl, tl->ctx);
    /* Threads inherit the creator's signal mask; the engine blocks its
     * signals (for signalfd) only later, so a thread created now would
     * take SIGHUP/SIGTERM and die of it. Block all for the creation.
     * The handshake pool is the listener's own (one thread per core), so
     * its lifetime is ours: the poller submits to it until it is joined
     * in tls_listener_free, whatever the engine frees first. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    tl->workers = workers_new(0, 0);
    int pr = tl->workers ? tls_hs_poller_start(tl, err, errlen) : -1;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!tl->workers) {
        snprintf(err, errlen, "%s:%d: listener %u: cannot start handshake workers",
                 lc->file ? lc->file : "?", lc->line, lc->port);
    }
    if (pr < 0) {
        tls_listener_free(tl);
        return NULL;
    }
    return tl;
}

void tls_listener_accept(struct tls_listener *tl, int fd, const struct listener *lst)
{
    struct tls_hs *hs = tls_hs_new(tl, fd, lst);
    if (!hs || tls_hs_start(tl, hs) < 0) {
        /* Too many in flight: refusing is better than queueing without bound. */
        atomic_fetch_add(&tl->st.refused_busy, 1);
        log_warn("listener %u: %s: TLS handshakes in flight at the limit (%d); refused",
                 tl->lc->port, hs ? hs->peer : "?", TLS_HANDSHAKES_MAX);
        free(hs);
        close(fd);
    }
}

int tls_listener_reload(struct tls_listener *tl, char *err, size_t errlen)
{
    SSL_CTX *fresh = tls_ctx_build(tl->lc, tl->ktls, NULL, NULL, err, errlen);
    if (!fresh)
        return -1;   /* the old context stays in use */
    if (tls_sni_rebuild(tl, err, errlen) < 0) {
        SSL_CTX_free(fresh);
        return -1;
    }
    tls_sni_attach(tl, fresh);
    tls_tickets_attach(tl, fresh);
    pthread_mutex_lock(&tl->lock);
    SSL_CTX *old = tl->ctx;
    tl->ctx = fresh;
    pthread_mutex_unlock(&tl->lock);
    SSL_CTX_free(old);   /* live connections keep their own references */
    log_notice("listener %u: TLS certificates, keys, CA and CRLs reloaded", tl->lc->port);
    return 0;
}

void tls_listener_stop(struct tls_listener *tl)
{
    if (tl)
        atomic_store(&tl->stopping, true);
}

void tls_listener_free(struct tls_listener *tl)
{
    if (!tl)
        return;
    /* The poller first (it submits to the pool), then the pool. */
    tls_hs_poller_stop(tl);
    workers_free(tl->workers);
    tls_sni_free(tl);
    SSL_CTX_free(tl->ctx);
    tls_tickets_free(tl);
    pthread_mutex_destroy(&tl->lock);
    free(tl);
}

void tls_listener_stats(const struct tls_listener *tl, struct tls_stats *o)
{
    struct tls_stats_atomic *s = (struct tls_stats_atomic *)&tl->st;
    *o = (struct tls_stats){
        .handshakes = atomic_load(&s->handshakes),
        .resumed = atomic_load(&s->resumed),
        .failed = atomic_load(&s->failed),
        .timeouts = atomic_load(&s->timeouts),
        .refused_busy = atomic_load(&s->refused_busy),
        .mode_ktls = atomic_load(&s->mode_ktls),
        .mode_mixed = atomic_load(&s->mode_mixed),
        .mode_user = atomic_load(&s->mode_user),
        .keyupdate_applied = atomic_load(&s->keyupdate_applied),
        .keyupdate_closed = atomic_load(&s->keyupdate_closed),
    };
}
