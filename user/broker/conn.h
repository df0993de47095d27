/* A client network connection: framing of the input stream into packets,
 * the output queue, timers, close. Knows nothing of the transport beyond
 * its table. */
#ifndef MOAT_BROKER_CONN_H
#define MOAT_BROKER_CONN_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "broker/outq.h"
#include "core/evloop.h"
#include "net/transport.h"

struct engine;
struct session;
struct listener;

enum conn_state {
    CONN_NEW,        /* TCP (or TLS) up, waiting for CONNECT */
    CONN_ACTIVE,     /* CONNACK 0 sent */
    CONN_CLOSED,     /* closed, waiting for the deferred free */
};

/* Peer address kept compact (not a sockaddr_storage): idle connections
 * must stay small. */
struct peer_addr {
    uint8_t  family;      /* AF_INET or AF_INET6 */
    uint16_t port;
    uint8_t  addr[16];
};

struct conn {
    struct ev_handler ev;            /* ev.fd is the socket */
    struct ev_timer   timer;         /* connect timeout, then keepalive */
    const struct transport *t;
    void             *tctx;
    struct engine    *eng;
    struct session   *s;             /* set once CONNECT is accepted */
    const struct listener *lst;
    struct conn      *prev, *next;   /* engine's list of all connections */
    struct conn      *next_dirty;    /* pending-output list */
    uint8_t          *in;            /* partial packet carried between reads */
    uint32_t          in_len, in_cap;
    uint64_t          last_rx_ms;
    struct outq       out;
    struct msg       *will_pending;  /* published after the close, see engine.c */
    struct peer_addr  peer;
    uint16_t          keepalive;     /* seconds, from CONNECT */
    uint8_t           state;         /* enum conn_state */
    bool              dirty;
    bool              want_write;    /* EPOLLOUT registered */
    bool              close_after_flush;
    bool              auth_pending;  /* CONNECT being verified on a worker */
};

/* Takes ownership of fd (non-blocking) and tctx. NULL on failure (fd and
 * tctx are closed). */
struct conn *conn_new(struct engine *e, int fd, const struct transport *t, void *tctx,
                      const struct listener *lst, const struct peer_addr *peer);

/* Closes the network connection now. abnormal: without a DISCONNECT, so
 * the Will is published [MQTT-3.1.2-8]. reason goes into the log line. */
void conn_close(struct conn *c, bool abnormal, const char *reason);

/* Protocol violation: logged with peer and statement, connection closed. */
void conn_violation(struct conn *c, int err);
void conn_violation_str(struct conn *c, const char *stmt);

/* While a CONNECT is verified off-thread: stop reading (what the client
 * pipelined stays in c->in), then resume and process it. */
void conn_pause_input(struct conn *c);
void conn_resume_input(struct conn *c);
/* Frees a closed connection the dead list does not own (auth_pending). */
void conn_free_closed(struct conn *c);

/* Marks c for the once-per-iteration flush. */
void conn_mark_dirty(struct conn *c);
/* Flushes c's output; closes it on a write error. */
void conn_flush(struct conn *c);

/* Queues a small packet (encoded by fn into at most n bytes). */
int conn_send_bytes(struct conn *c, const uint8_t *p, uint32_t n);

/* "198.18.0.1:51234" or "[2001:2::1]:51234" */
const char *peer_str(const struct peer_addr *p, char *buf, size_t len);
/* "client 'id' (198.18.0.1:5123)" for log lines */
const char *conn_name(const struct conn *c, char *buf, size_t len);

#endif
