/* Internal to user/tls/: the listener state, the per-connection context
 * both TLS transports share, and the helpers the files call each other
 * with. Nothing here is seen by the engine (it has tls.h and the
 * transport tables only). */
#ifndef MOAT_TLS_INTERNAL_H
#define MOAT_TLS_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "net/transport.h"
#include "tls/tls.h"

#define TLS_SECRET_MAX 48          /* SHA-384 */
#define TLS_HANDSHAKE_TIMEOUT_MS_DEFAULT 10000
#define TLS_HANDSHAKES_MAX 4096    /* in flight per listener; more are refused */
/* KeyUpdates a peer may send per connection before it is closed: a
 * legitimate client rekeys rarely (after ~2^24 records at most). */
#define TLS_KEYUPDATE_MAX 8
#define TLS_KEYUPDATE_MIN_INTERVAL_MS 1000

extern const struct transport transport_tls;    /* userspace (or mixed) */
extern const struct transport transport_ktls;   /* both directions in the kernel */

/* A TLS 1.3 traffic secret and the suite it belongs to, as needed to
 * derive record keys (tls_kdf.c). */
struct tls13_secret {
    uint8_t  secret[TLS_SECRET_MAX];
    uint8_t  len;                   /* 32 (SHA-256) or 48 (SHA-384); 0: none */
};

/* One established TLS connection, owned by the engine from adoption on.
 * In kTLS mode ssl is NULL: the kernel holds the record state and only
 * what KeyUpdate handling needs is kept. */
struct tls_conn {
    SSL      *ssl;                  /* NULL on transport_ktls */
    char     *identity;             /* certificate-derived username, or NULL */
    struct tls_stats_atomic *st;    /* the listener's counters */
    uint32_t  stuck_len;            /* SSL_write to repeat (WANT_WRITE), or 0 */
    uint16_t  cipher_id;            /* IANA suite id, for KeyUpdate rekeying */
    uint8_t   keyupdates;
    uint8_t   carry_off, carry_len;  /* kTLS: data read past a tiny buffer */
    uint8_t   carry[16];
    bool      fatal;                /* no close_notify after a fatal error */
    uint64_t  last_keyupdate_ms;
    struct tls13_secret rx, tx;     /* kTLS TLS 1.3 only: current secrets */
    X509     *peer;                 /* verified client certificate, kept for */
    STACK_OF(X509) *peer_chain;     /* the re-check after a reload; or NULL */
};

struct tls_stats_atomic {
    atomic_uint_fast64_t handshakes, resumed, failed, timeouts, refused_busy;
    atomic_uint_fast64_t mode_ktls, mode_mixed, mode_user;
    atomic_uint_fast64_t keyupdate_applied, keyupdate_closed;
};

/* One SNI entry: a server name ("host.example" or "*.example") with
 * its own certificate/key and context (same policy as the default). */
#define TLS_SNI_MAX 64
struct tls_sni {
    char    *name, *certfile, *keyfile;
    SSL_CTX *ctx;
};

/* Session ticket keys: a current and a previous key, shared by every
 * worker (and kept across reloads), rotated every TLS_TICKET_ROTATE_S. */
#define TLS_TICKET_ROTATE_S 3600
struct tls_ticket_key {
    uint8_t  name[16], aes[32], hmac[32];
    uint64_t born_ms;               /* 0: slot empty */
};

struct tls_listener {
    struct engine *eng;
    const struct listener_conf *lc;
    struct workers *workers;
    pthread_mutex_t lock;           /* guards ctx and sni[].ctx (reload swaps them) */
    SSL_CTX *ctx;
    struct tls_sni sni[TLS_SNI_MAX];
    size_t   n_sni;
    bool     sni_strict;            /* unknown server name: refuse, not default */
    pthread_mutex_t tk_lock;        /* guards tk, tk_cur */
    struct tls_ticket_key tk[2];
    int      tk_cur;
    uint32_t tk_rotate_ms;
    bool     kernel_ktls;           /* the kernel offers the tls ULP */
    bool     ktls;                  /* kTLS in use: kernel offers it, not turned off */
    bool     ktls_rx13;             /* moat installs TLS 1.3 RX itself (else mixed) */
    int      handshake_timeout_ms;
    atomic_bool stopping;
    struct tls_stats_atomic st;
    /* handshakes in flight (tls_hs_poller.c) */
    pthread_mutex_t hs_lock;
    struct tls_hs *hs_list;
    size_t   n_hs, max_hs;
    int      hs_epfd;
    pthread_t poller;
    bool     poller_running;
};

/* tls_ctx.c: a server SSL_CTX with moat's policy for lc, certificates
 * from certfile/keyfile (or the given pair when non-NULL, for SNI).
 * NULL with "FILE:LINE: listener PORT: reason" in err. */
SSL_CTX *tls_ctx_build(const struct listener_conf *lc, bool ktls, const char *certfile,
                       const char *keyfile, char *err, size_t errlen);
/* Appends OpenSSL's error queue (oldest first) to buf, clearing it. */
void tls_errstr(char *buf, size_t len);

/* tls_tickets.c: makes ctx issue and accept tickets under tl's key ring. */
void tls_tickets_attach(struct tls_listener *tl, SSL_CTX *ctx);
void tls_tickets_init(struct tls_listener *tl);
void tls_tickets_free(struct tls_listener *tl);

/* tls_sni.c: installs the server-name callback on a default context. */
void tls_sni_attach(struct tls_listener *tl, SSL_CTX *ctx);
/* Rebuilds every SNI context (reload). All or nothing: 0, or -1 with err
 * and the old ones kept. Caller holds no lock. */
int  tls_sni_rebuild(struct tls_listener *tl, char *err, size_t errlen);
void tls_sni_free(struct tls_listener *tl);
/* Whether name matches pattern (exact, case-insensitive; "*.x" matches
 * exactly one label before x). */
bool tls_sni_match(const char *pattern, const char *name);

/* tls_kdf.c: record key and IV from a TLS 1.3 traffic secret (RFC 8446
 * 7.3). hash is "SHA256" or "SHA384". 0 or -1. */
int tls13_traffic_key(const char *hash, const uint8_t *secret, size_t secret_len,
                      uint8_t *key, size_t key_len, uint8_t *iv, size_t iv_len);
/* The next application traffic secret (RFC 8446 7.2), in place. */
int tls13_next_secret(const char *hash, uint8_t *secret, size_t secret_len);
/* Parses a keylog line "LABEL <hex random> <hex secret>" when LABEL
 * matches: 1 with the secret in out, 0 other label, -1 malformed. */
int tls_keylog_parse(const char *line, const char *label, struct tls13_secret *out);

/* tls_ktls.c */
/* Whether the kernel accepts the tls ULP on a TCP socket (a loopback
 * pair is set up to ask). why gets the reason when it does not. */
bool ktls_probe(char *why, size_t whylen);
/* Installs one direction (TLS_RX or TLS_TX) of a TLS 1.3 connection on
 * fd from a traffic secret; the tls ULP must be set (OpenSSL did it for
 * TX). seq is the next record sequence number. 0 or -1 with errno. */
int ktls13_install(int fd, int dir, uint16_t cipher_id, const struct tls13_secret *s,
                   uint64_t seq);
/* The hash name for a TLS 1.3 suite id, NULL if kTLS cannot carry it. */
const char *ktls13_hash(uint16_t cipher_id);

/* tls_identity.c: the MQTT username the client certificate maps to, per
 * use_identity_as_username (CN) / use_subject_as_username (RFC 2253
 * subject). NULL when neither applies or no verified certificate. */
char *tls_identity_of(SSL *ssl, const struct listener_conf *lc);

/* A handshake in progress: owned by the poller while waiting for its
 * socket, by one worker while a step runs. */
enum tls_hs_state { HS_WAITING, HS_RUNNING };
struct tls_hs {
    struct tls_listener *tl;
    const struct listener *lst;
    int fd;
    SSL *ssl;                       /* created by the first step */
    uint64_t deadline_ms;           /* CLOCK_MONOTONIC */
    enum tls_hs_state state;        /* under tl->hs_lock */
    struct tls_hs *prev, *next;     /* tl's in-flight list */
    struct tls13_secret crx, stx;   /* from the keylog callback (kTLS only) */
    char peer[64];
};

/* tls_handshake.c: one handshake step (a worker job), and the keylog
 * callback that keeps the TLS 1.3 application traffic secrets. */
void tls_keylog_cb(const SSL *ssl, const char *line);
void tls_handshake_job(void *arg);
struct tls_hs *tls_hs_new(struct tls_listener *tl, int fd, const struct listener *lst);
/* Logs (why non-NULL) and counts a refused handshake, frees hs, closes. */
void tls_hs_fail(struct tls_hs *hs, const char *why, bool count_failed);

/* tls_hs_poller.c: the thread that holds waiting handshakes in an epoll
 * set, submits ready ones to the workers and expires them. */
int  tls_hs_poller_start(struct tls_listener *tl, char *err, size_t errlen);
void tls_hs_poller_stop(struct tls_listener *tl);   /* joins; fails the waiting */
/* Registers a new handshake (engine thread). -1: refused (caller closes). */
int  tls_hs_start(struct tls_listener *tl, struct tls_hs *hs);
/* A step wants to read (or write): back into the epoll set. */
void tls_hs_wait(struct tls_listener *tl, struct tls_hs *hs, bool want_write);
/* Takes hs out of the in-flight list and the epoll set (it finished). */
void tls_hs_forget(struct tls_listener *tl, struct tls_hs *hs);

/* tls_recheck.c: keeps the verified client certificate and chain of a
 * finished handshake in tc (only when a CA is configured). */
void tls_conn_keep_peer(struct tls_conn *tc, SSL *ssl, const struct listener_conf *lc);

/* Frees a connection context (not the fd). */
void tls_conn_free(struct tls_conn *tc);

#endif
