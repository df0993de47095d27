/* The broker engine: one struct holding all state of one event-loop thread
 * (connections, sessions, subscriptions, retained messages, counters),
 * passed to every function. No globals, so engines can later be sharded. */
#ifndef MOAT_BROKER_ENGINE_H
#define MOAT_BROKER_ENGINE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "broker/stats.h"
#include "core/evloop.h"
#include "net/transport.h"

struct engine;
struct moat_config;
struct conn;
struct session;
struct topic_tree;
struct retain_store;
struct peer_addr;
struct listener;
struct msg;
struct workers;
struct detector;
struct denylist;
struct xdp_filter;
struct link_watch;
struct moat_cidr;
struct control;
struct store;

/* Work posted by other threads (handshake and hashing workers), run on
 * the engine thread. */
struct posted {
    void (*fn)(struct engine *e, void *arg);
    void *arg;
    struct posted *next;
};

struct engine {
    const struct moat_config *cfg;
    struct evloop       *el;
    uint64_t             seed;           /* hash key for peer-chosen strings */
    struct listener     *listeners;
    size_t               n_listeners;

    struct conn         *conns;          /* every live connection */
    uint64_t             n_conns;
    struct conn         *dirty;          /* output pending this iteration */
    struct conn         *dead;           /* closed, freed after the flush */

    struct session     **sess_tab;       /* chained hash by client id */
    uint32_t             sess_cap;
    uint32_t             n_sessions;

    struct topic_tree   *subs;
    struct retain_store *retained;
    struct store        *store;          /* persistence (store/persist.h), NULL if off */

    struct session     **matched;        /* fan-out scratch */
    uint32_t             n_matched, cap_matched;
    uint64_t             match_gen;

    struct broker_stats  st;
    uint32_t             auto_id_seq;
    struct ev_timer      tick;           /* 1 s housekeeping and $SYS */
    uint64_t             last_sys_ms;
    uint64_t             last_expiry_ms;
    uint64_t             last_gc_ms;

    struct ev_handler    sig;            /* signalfd */
    struct ev_handler    wake;           /* eventfd for posted work */
    pthread_mutex_t      post_lock;
    struct posted       *posted, *posted_tail;
    struct workers      *workers;        /* TLS handshakes, password hashing */
    struct control      *ctl;            /* control socket, NULL if off */
    struct detector     *det;            /* abnormal-behaviour detection */
    struct denylist     *deny;           /* userspace blocks: sources, client ids, usernames */
    struct xdp_filter   *xdp;            /* the XDP filter, NULL when not loaded */
    struct ev_handler    xdp_ev;         /* its ring buffer */
    struct link_watch   *links;          /* libnl: the filter's interfaces coming and going */
    struct ev_handler    links_ev;
    bool                 stopping;
    uint8_t              rbuf[65536];    /* shared read buffer */
};

/* Builds the engine for cfg: binds every listener (errors name the
 * listener's file:line), installs signal handling. Returns NULL with a
 * message in err. */
struct engine *engine_new(const struct moat_config *cfg, char *err, size_t errlen);
/* Runs the loop until SIGINT/SIGTERM. Returns 0 or -1. */
int  engine_run(struct engine *e);
void engine_free(struct engine *e);

/* Thread-safe: a TLS handshake from the peer of fd failed (call before
 * closing fd); counted by the detector (kind tls_failure). */
void engine_tls_failed(struct engine *e, int fd);
/* The worker pool, created on first use (one thread per core). NULL if
 * threads cannot be created. Engine thread only. */
struct workers *engine_workers(struct engine *e);
/* Thread-safe: runs fn(e, arg) on the engine thread, in posting order.
 * Returns -1 (nothing queued) on out of memory. */
int  engine_post(struct engine *e, void (*fn)(struct engine *e, void *arg), void *arg);
/* Thread-safe: adopts an established connection (fd non-blocking; the
 * transport context tctx is owned by the engine from here on). On failure
 * the connection is closed through t->close. */
int  engine_adopt(struct engine *e, int fd, const struct transport *t, void *tctx,
                  const struct listener *lst);

/* Internal to the engine's files. */
void engine_conn_accepted(struct engine *e, int fd, const struct transport *t, void *tctx,
                          const struct listener *lst, const struct peer_addr *peer);
/* Publishes m (as received from a client or a Will or $SYS): retained
 * store update when m->retain, then fan-out to matching subscribers. */
uint32_t engine_publish(struct engine *e, struct msg *m);   /* sessions matched */
int  engine_listen(struct engine *e, struct listener *l);                     /* accept.c */
void engine_on_wake(struct evloop *el, struct ev_handler *h, uint32_t events); /* accept.c */
void sys_publish(struct engine *e);                                           /* sys_stats.c */
/* SIGHUP and `moatctl reload`: re-reads TLS material (and, later, password
 * and ACL files) for new connections. 0, or -1 with err (old state kept). */
int  engine_reload(struct engine *e, char *err, size_t errlen);
/* Writes a block into the XDP blocklist when the filter is loaded
 * (edge.c); a no-op otherwise. */
void engine_filter_block(struct engine *e, const struct moat_cidr *c, uint32_t ttl_s, uint32_t reason);
/* Loads the XDP filter and attaches it to the configured interfaces
 * (nothing when none is configured). 0, or -1 with err. */
int  engine_filter_open(struct engine *e, char *err, size_t errlen);
void engine_filter_close(struct engine *e);
/* Permanent blocks in moat_block_state_file (block_state.c): loaded at
 * start (0, or -1 with "FILE:LINE: ..."), saved after every change. */
int  block_state_load(struct engine *e, char *err, size_t errlen);
void block_state_save(struct engine *e);
/* Periodic: expired blocks out of the maps. */
void engine_filter_gc(struct engine *e);
/* Is p on the XDP allowlist (operators' hosts)? false without the filter. */
bool engine_filter_allows(const struct engine *e, const struct peer_addr *p);

#endif
