/* TLS listeners: OpenSSL 3 handshakes on the worker pool, then the
 * connection is handed to the engine on kernel TLS (kTLS) or, where the
 * kernel or cipher cannot, userspace TLS. The engine sees only a
 * transport table. */
#ifndef MOAT_TLS_H
#define MOAT_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/transport.h"

struct engine;
struct listener;
struct listener_conf;
struct tls_listener;

/* Builds the TLS context for a listener that has certfile/keyfile, and
 * starts its handshake poller and worker pool. Logs whether the kernel
 * offers kTLS. Returns NULL with "FILE:LINE: ..." in err. */
struct tls_listener *tls_listener_new(struct engine *e, const struct listener_conf *lc,
                                      char *err, size_t errlen);
/* Takes ownership of an accepted, non-blocking TCP socket: the handshake
 * runs off the engine thread (the listener's poller and worker pool); on
 * success engine_adopt() receives it, on failure it is closed and logged.
 * Engine thread. */
void tls_listener_accept(struct tls_listener *tl, int fd, const struct listener *lst);
/* Re-reads certificates, keys, CA and CRLs into a fresh context for new
 * handshakes. Returns 0, or -1 with err (the old context stays). */
int  tls_listener_reload(struct tls_listener *tl, char *err, size_t errlen);
/* SNI: clients asking for server name `name` ("host.example", or
 * "*.example" for one label) get certfile/keyfile instead of the
 * listener's default pair, under the same policy. strict: a client
 * naming a server no entry matches is refused (unrecognized_name)
 * instead of getting the default. Engine thread, before traffic or
 * between connections. Returns 0, or -1 with "FILE:LINE: ..." in err. */
int  tls_listener_add_sni(struct tls_listener *tl, const char *name, const char *certfile,
                          const char *keyfile, char *err, size_t errlen);
void tls_listener_sni_strict(struct tls_listener *tl, bool strict);

/* Makes handshakes in flight give up (closed, not counted as failures),
 * so a shutdown does not wait out handshake timeouts; new ones are
 * refused. Optional before tls_listener_free, which stops them too and
 * joins the listener's threads. */
void tls_listener_stop(struct tls_listener *tl);
void tls_listener_free(struct tls_listener *tl);

/* Counters of one TLS listener, for $SYS and moatctl. Thread-safe. */
struct tls_stats {
    uint64_t handshakes;        /* completed */
    uint64_t resumed;           /* of which resumed a session (ticket or id) */
    uint64_t failed;            /* refused or broken handshakes (incl. timeouts) */
    uint64_t timeouts;
    uint64_t refused_busy;      /* handshake pool backlog full */
    uint64_t mode_ktls;         /* connections with both directions in the kernel */
    uint64_t mode_mixed;        /* kernel TX, userspace RX */
    uint64_t mode_user;         /* userspace TLS */
    uint64_t keyupdate_applied; /* TLS 1.3 KeyUpdates rekeyed in the kernel */
    uint64_t keyupdate_closed;  /* connections closed on a KeyUpdate */
};
void tls_listener_stats(const struct tls_listener *tl, struct tls_stats *out);

/* For a connection on a TLS transport (t is what engine_adopt got): the
 * MQTT username its verified client certificate maps to under
 * use_identity_as_username / use_subject_as_username, or NULL (no such
 * option, no certificate, or t is not a TLS transport). Engine thread. */
const char *tls_conn_identity(const struct transport *t, void *tctx);
/* After a reload: whether the connection's client certificate still
 * verifies against the listener's current CA bundle and CRLs (revoked or
 * expired since the handshake: no). 1 still valid or no client
 * certificate, 0 no longer valid (reason in why), -1 t is not a TLS
 * transport. Engine thread; the engine closes the 0s. */
int  tls_conn_recheck(struct tls_listener *tl, const struct transport *t, void *tctx,
                      char *why, size_t whylen);
/* "ktls", "ktls-tx" (kernel TX, userspace RX) or "userspace"; NULL when
 * t is not a TLS transport. */
const char *tls_conn_mode(const struct transport *t, void *tctx);

/* For listeners with moat_dev_certificate and no certfile: creates (once)
 * a throwaway CA and server certificate under moat_state_dir/dev-tls and
 * points certfile/keyfile at them. Before the engine starts. 0 or -1/err. */
struct moat_config;
int tls_devcert_prepare(struct moat_config *cfg, char *err, size_t errlen);

#endif
