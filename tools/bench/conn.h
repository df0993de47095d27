/* A client connection of moat-bench: non-blocking TCP socket registered
 * edge-triggered with epoll, bounded input and output buffers, MQTT framing
 * through the codec (user/mqtt/packet.h). No MQTT logic beyond framing. */
#ifndef MOAT_BENCH_CONN_H
#define MOAT_BENCH_CONN_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mqtt/packet.h"

struct bconn;

/* Called for every complete, decoded packet. Returns 0, or -1 to close the
 * connection (the callback has recorded why). */
typedef int (*bconn_pkt_fn)(void *arg, struct bconn *c, const struct mqtt_packet *p);

struct bench_tls;

struct bconn {
    int fd;
    bool tcp_up;         /* TCP handshake done */
    bool connected;      /* ready for MQTT bytes (TCP, and TLS if used) */
    bool writable;       /* last write did not hit EAGAIN */
    uint32_t idx;        /* index in the owner's array */
    uint64_t t_open_ns;  /* when connect() was issued */
    uint8_t *in;
    size_t in_len, in_cap;
    uint8_t *out;
    size_t out_off, out_len, out_cap;  /* unsent bytes: out[out_off .. out_len) */
    uint64_t bytes_in, bytes_out;
    struct bench_tls *tls;   /* NULL: plain TCP */
    void *ssl;               /* the TLS connection once TCP is up */
    bool resumed;            /* TLS session was resumed */
};

/* Allocates the buffers (in_cap, out_cap bytes). fd = -1 until opened.
 * Returns 0 or -1 (out of memory). */
int  bconn_init(struct bconn *c, uint32_t idx, size_t in_cap, size_t out_cap);
void bconn_free(struct bconn *c);

/* Starts a non-blocking connect to addr and registers the socket with epfd
 * (data.ptr = c); with tls non-NULL a TLS handshake follows the TCP one.
 * Output queued meanwhile is sent once connected. Returns 0, or -1 with a
 * message in err naming the call. */
int  bconn_open(struct bconn *c, int epfd, const struct sockaddr_in *addr,
                struct bench_tls *tls, char *err, size_t errlen);
/* Closes the socket (epoll drops it); keeps the buffers for reuse. */
void bconn_close(struct bconn *c);

/* Space left at the end of the output buffer; compacts first if useful. */
size_t bconn_out_space(struct bconn *c);
static inline uint8_t *bconn_out_tail(struct bconn *c) { return c->out + c->out_len; }
static inline void bconn_out_commit(struct bconn *c, size_t n) { c->out_len += n; }
static inline bool bconn_out_pending(const struct bconn *c) { return c->out_len > c->out_off; }

/* Handles an epoll event mask: completes the TCP connect on the first
 * EPOLLOUT (SO_ERROR), advances the TLS handshake, marks the socket
 * writable. Returns 1 when the caller should bconn_read (input may be
 * waiting, also inside TLS buffers after a handshake), 0 when not, -1 (err). */
int  bconn_on_event(struct bconn *c, uint32_t events, char *err, size_t errlen);
/* Writes pending output until done or EAGAIN. Returns 0 or -1 (err). */
int  bconn_flush(struct bconn *c, char *err, size_t errlen);
/* Reads until EAGAIN (nothing before connected), decoding every complete
 * packet and passing it to fn.
 * Returns 0, 1 when the peer closed the connection, or -1 (err): socket
 * error, malformed packet, packet larger than the input buffer, or fn. */
int  bconn_read(struct bconn *c, bconn_pkt_fn fn, void *arg, char *err, size_t errlen);

#endif
