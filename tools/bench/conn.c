/* moat-bench client connection: socket, buffers, framing; see conn.h. */
#include "conn.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"
#include "tls.h"

int bconn_init(struct bconn *c, uint32_t idx, size_t in_cap, size_t out_cap)
{
    memset(c, 0, sizeof(*c));
    c->fd = -1;
    c->idx = idx;
    c->in = malloc(in_cap);
    c->out = malloc(out_cap);
    if (!c->in || !c->out) {
        bconn_free(c);
        return -1;
    }
    c->in_cap = in_cap;
    c->out_cap = out_cap;
    return 0;
}

void bconn_free(struct bconn *c)
{
    bconn_close(c);
    free(c->in);
    free(c->out);
    c->in = c->out = NULL;
}

int bconn_open(struct bconn *c, int epfd, const struct sockaddr_in *addr,
               struct bench_tls *tls, char *err, size_t errlen)
{
    struct epoll_event ev;
    int one = 1;

    c->in_len = c->out_off = c->out_len = 0;
    c->tcp_up = c->connected = c->writable = c->resumed = false;
    c->tls = tls;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
    if (c->fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    /* Small messages are batched by moat-bench itself; Nagle would only
     * add delay to the latency scenario. */
    (void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->t_open_ns = bench_now_ns();
    if (connect(c->fd, (const struct sockaddr *)addr, sizeof(*addr)) < 0 &&
        errno != EINPROGRESS) {
        snprintf(err, errlen, "connect: %s", strerror(errno));
        bconn_close(c);
        return -1;
    }
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = c;
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
        snprintf(err, errlen, "epoll_ctl: %s", strerror(errno));
        bconn_close(c);
        return -1;
    }
    return 0;
}

void bconn_close(struct bconn *c)
{
    if (c->ssl) {
        btls_conn_free(c->tls, c->ssl);
        c->ssl = NULL;
    }
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->tcp_up = c->connected = c->writable = false;
}

size_t bconn_out_space(struct bconn *c)
{
    if (c->out_off == c->out_len) {
        c->out_off = c->out_len = 0;
    } else if (c->out_off > c->out_cap / 2) {
        memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
        c->out_len -= c->out_off;
        c->out_off = 0;
    }
    return c->out_cap - c->out_len;
}

int bconn_on_event(struct bconn *c, uint32_t events, char *err, size_t errlen)
{
    bool just_up = false;

    if (!c->tcp_up && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
        int soerr = 0;
        socklen_t sl = sizeof(soerr);

        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
            soerr = errno;
        if (soerr) {
            snprintf(err, errlen, "connect: %s", strerror(soerr));
            return -1;
        }
        c->tcp_up = true;
        if (!c->tls) {
            c->connected = true;
        } else if (!(c->ssl = btls_conn_new(c->tls, c->fd, err, errlen))) {
            return -1;
        }
    }
    if (c->tcp_up && !c->connected) {
        int rc = btls_handshake(c->ssl, err, errlen);

        if (rc < 0)
            return -1;
        if (rc == 0)
            return 0;
        c->connected = just_up = true;
        c->resumed = btls_resumed(c->ssl);
        c->writable = true;   /* the handshake's last write went through */
    }
    if (events & EPOLLOUT)
        c->writable = true;
    return just_up || (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) ? 1 : 0;
}

/* One send or TLS write: > 0 bytes, -1 with *again on would-block. */
static ssize_t tx(struct bconn *c, const uint8_t *p, size_t n, bool *again, char *err, size_t errlen)
{
    ssize_t r;

    if (c->ssl)
        return btls_write(c->ssl, p, n, again, err, errlen);
    *again = false;
    do {
        r = send(c->fd, p, n, MSG_NOSIGNAL);
    } while (r < 0 && errno == EINTR);
    if (r >= 0)
        return r;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        *again = true;
    else
        snprintf(err, errlen, "send: %s", strerror(errno));
    return -1;
}

/* One recv or TLS read: > 0 bytes, 0 peer closed, -1 with *again on would-block. */
static ssize_t rx(struct bconn *c, uint8_t *p, size_t n, bool *again, char *err, size_t errlen)
{
    ssize_t r;

    if (c->ssl)
        return btls_read(c->ssl, p, n, again, err, errlen);
    *again = false;
    do {
        r = recv(c->fd, p, n, 0);
    } while (r < 0 && errno == EINTR);
    if (r >= 0)
        return r;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        *again = true;
    else
        snprintf(err, errlen, "recv: %s", strerror(errno));
    return -1;
}

int bconn_flush(struct bconn *c, char *err, size_t errlen)
{
    while (c->connected && c->writable && c->out_off < c->out_len) {
        bool again;
        ssize_t n = tx(c, c->out + c->out_off, c->out_len - c->out_off, &again, err, errlen);

        if (n < 0) {
            if (again) {
                c->writable = false;
                break;
            }
            return -1;
        }
        c->out_off += (size_t)n;
        c->bytes_out += (uint64_t)n;
    }
    if (c->out_off == c->out_len)
        c->out_off = c->out_len = 0;
    return 0;
}

/* Decodes every complete packet in c->in and moves the rest to the front. */
static int parse_input(struct bconn *c, bconn_pkt_fn fn, void *arg, char *err, size_t errlen)
{
    size_t off = 0;
    int rc = 0;

    while (off < c->in_len) {
        struct mqtt_fixed fh;
        struct mqtt_packet pkt;
        size_t avail = c->in_len - off, total;
        int h = mqtt_fixed_parse(c->in + off, avail, (uint32_t)c->in_cap, &fh);

        if (h == 0)
            break;
        if (h < 0) {
            snprintf(err, errlen, "received packet: %s", mqtt_strerror(h));
            return -1;
        }
        total = (size_t)fh.hdr_len + fh.remaining;
        if (total > avail)
            break;
        h = mqtt_decode(&fh, c->in + off + fh.hdr_len, fh.remaining, &pkt);
        if (h < 0) {
            snprintf(err, errlen, "received %s: %s", mqtt_ptype_name(fh.type), mqtt_strerror(h));
            return -1;
        }
        off += total;
        if (fn(arg, c, &pkt) < 0) {
            rc = -1;
            snprintf(err, errlen, "handler rejected %s", mqtt_ptype_name(fh.type));
            break;
        }
    }
    if (off > 0) {
        memmove(c->in, c->in + off, c->in_len - off);
        c->in_len -= off;
    }
    return rc;
}

int bconn_read(struct bconn *c, bconn_pkt_fn fn, void *arg, char *err, size_t errlen)
{
    if (!c->connected)
        return 0;
    for (;;) {
        bool again;
        ssize_t n;

        if (c->in_len == c->in_cap) {
            /* mqtt_fixed_parse was given in_cap as the maximum, so a full
             * buffer without a complete packet cannot happen; be safe. */
            snprintf(err, errlen, "input buffer full (%zu bytes) without a complete packet", c->in_cap);
            return -1;
        }
        n = rx(c, c->in + c->in_len, c->in_cap - c->in_len, &again, err, errlen);
        if (n < 0)
            return again ? 0 : -1;
        if (n == 0)
            return 1;
        c->in_len += (size_t)n;
        c->bytes_in += (uint64_t)n;
        if (parse_input(c, fn, arg, err, errlen) < 0)
            return -1;
    }
}
