/* Connection lifecycle and input framing. Reads go into the engine's
 * shared buffer; only a packet split across reads is copied into a
 * per-connection buffer sized to that packet, so idle connections hold no
 * input memory. */
#include "broker/conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "broker/dispatch.h"
#include "broker/engine.h"
#include "broker/msg.h"
#include "broker/session.h"
#include "config.h"
#include "mqtt/packet.h"
#include "net/listener.h"
#include "policy/detect.h"
#include "store/persist.h"
#include "util/log.h"

#define READ_ROUNDS 4        /* reads per readiness event, for fairness */

const char *peer_str(const struct peer_addr *p, char *buf, size_t len)
{
    char a[INET6_ADDRSTRLEN] = "?";
    if (p->family == AF_INET || p->family == AF_INET6)
        inet_ntop(p->family, p->addr, a, sizeof a);
    snprintf(buf, len, p->family == AF_INET6 ? "[%s]:%u" : "%s:%u", a, p->port);
    return buf;
}

/* Client ids come from peers: print them escaped, bounded. */
const char *conn_name(const struct conn *c, char *buf, size_t len)
{
    char peer[64], id[72];
    peer_str(&c->peer, peer, sizeof peer);
    if (!c->s) {
        snprintf(buf, len, "%s", peer);
        return buf;
    }
    size_t o = 0;
    for (uint16_t i = 0; i < c->s->id_len && o + 5 < sizeof id; i++) {
        unsigned char ch = (unsigned char)c->s->client_id[i];
        if (ch >= 0x20 && ch < 0x7f && ch != '\'' && ch != '\\')
            id[o++] = (char)ch;
        else
            o += (size_t)snprintf(id + o, sizeof id - o, "\\x%02x", ch);
    }
    id[o] = 0;
    snprintf(buf, len, "client '%s' (%s)", id, peer);
    return buf;
}

static void conn_on_event(struct evloop *el, struct ev_handler *h, uint32_t events);

struct conn *conn_new(struct engine *e, int fd, const struct transport *t, void *tctx,
                      const struct listener *lst, const struct peer_addr *peer)
{
    struct conn *c = calloc(1, sizeof *c);
    if (!c) {
        t->close(fd, tctx);
        return NULL;
    }
    c->ev.fd = fd;
    c->ev.fn = conn_on_event;
    c->ev.arg = c;
    c->t = t;
    c->tctx = tctx;
    c->eng = e;
    c->lst = lst;
    c->peer = *peer;
    c->state = CONN_NEW;
    c->last_rx_ms = ev_now_ms(e->el);
    if (ev_add(e->el, &c->ev, EPOLLIN | EPOLLRDHUP) < 0) {
        t->close(fd, tctx);
        free(c);
        return NULL;
    }
    c->next = e->conns;
    if (e->conns)
        e->conns->prev = c;
    e->conns = c;
    e->n_conns++;
    return c;
}

void conn_mark_dirty(struct conn *c)
{
    if (c->dirty || c->want_write || c->state == CONN_CLOSED)
        return;
    c->dirty = true;
    c->next_dirty = c->eng->dirty;
    c->eng->dirty = c;
}

int conn_send_bytes(struct conn *c, const uint8_t *p, uint32_t n)
{
    uint8_t *w = outq_reserve(&c->out, n);
    if (!w)
        return -1;
    memcpy(w, p, n);
    if (outq_commit(&c->out, n) < 0)
        return -1;
    conn_mark_dirty(c);
    return 0;
}

void conn_flush(struct conn *c)
{
    if (c->state == CONN_CLOSED)
        return;
    uint64_t w = 0;
    int r = outq_flush(&c->out, c->t, c->ev.fd, c->tctx, &w);
    c->eng->st.bytes_sent += w;
    if (r < 0) {
        char why[96];
        snprintf(why, sizeof why, "write error: %s", strerror(errno));
        conn_close(c, true, why);
        return;
    }
    if (r == 1 && c->close_after_flush) {
        conn_close(c, false, "closed after final packet");
        return;
    }
    bool want = r == 0;
    if (want != c->want_write) {
        c->want_write = want;
        ev_mod(c->eng->el, &c->ev, EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0));
    }
}

void conn_close(struct conn *c, bool abnormal, const char *reason)
{
    if (c->state == CONN_CLOSED)
        return;
    struct engine *e = c->eng;
    char name[160];
    if (e->cfg->connection_messages || c->state != CONN_ACTIVE)
        log_info("%s disconnected: %s", conn_name(c, name, sizeof name), reason);

    /* Best effort for a final CONNACK/error packet; never blocks. Not
     * while the store has uncommitted changes: the queue may hold an ack
     * of a message not yet on disk. */
    if (!outq_empty(&c->out) && !persist_pending(e)) {
        uint64_t w = 0;
        outq_flush(&c->out, c->t, c->ev.fd, c->tctx, &w);
        e->st.bytes_sent += w;
    }
    ev_del(e->el, &c->ev);
    ev_timer_cancel(e->el, &c->timer);
    c->t->close(c->ev.fd, c->tctx);
    c->ev.fd = -1;
    c->tctx = NULL;

    if (c->prev)
        c->prev->next = c->next;
    else
        e->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    e->n_conns--;
    if (c->lst)
        ((struct listener *)c->lst)->n_conns--;
    if (c->state == CONN_ACTIVE)
        e->st.clients_connected--;
    c->state = CONN_CLOSED;
    outq_clear(&c->out);

    struct session *s = c->s;
    if (s) {
        s->conn = NULL;
        struct msg *will = s->will;
        s->will = NULL;
        /* [MQTT-3.1.2-8]. Published from the loop, not here: a close can
         * happen in the middle of a fan-out. */
        if (will && abnormal)
            c->will_pending = will;
        else
            msg_unref(will);
        c->s = NULL;                   /* callers up the stack must not reach it */
        if (s->clean)
            session_destroy(e, s);     /* [MQTT-3.1.2-6] */
        else
            s->offline_since_ms = ev_now_ms(e->el);
    }
    /* Freed after this iteration: callers up the stack may still hold c.
     * A connection whose password is being verified is freed when the
     * worker's answer arrives instead. */
    if (c->auth_pending)
        return;
    c->next = e->dead;
    e->dead = c;
}

void conn_free_closed(struct conn *c)
{
    msg_unref(c->will_pending);
    free(c->in);
    free(c);
}

void conn_pause_input(struct conn *c)
{
    ev_del(c->eng->el, &c->ev);
}

void conn_violation_str(struct conn *c, const char *stmt)
{
    c->eng->st.protocol_errors++;
    detect_event(c->eng, DET_PROTOCOL_ERROR, c, NULL, NULL, 0);
    char why[192];
    snprintf(why, sizeof why, "protocol violation %s", stmt);
    conn_close(c, true, why);
}

void conn_violation(struct conn *c, int err)
{
    conn_violation_str(c, mqtt_strerror(err));
}

/* Parses and dispatches every complete packet in buf. Returns the bytes
 * consumed; stops early when the connection closes. */
static size_t process(struct conn *c, const uint8_t *buf, size_t len)
{
    size_t off = 0;
    uint32_t maxp = c->eng->cfg->max_packet_size;
    while (off < len && c->state != CONN_CLOSED) {
        struct mqtt_fixed fh;
        int r = mqtt_fixed_parse(buf + off, len - off, maxp, &fh);
        if (r == 0)
            break;
        if (r < 0) {
            conn_violation(c, r);
            break;
        }
        size_t total = (size_t)fh.hdr_len + fh.remaining;
        if (len - off < total)
            break;
        c->last_rx_ms = ev_now_ms(c->eng->el);
        c->eng->st.msgs_received++;
        /* One packet, one store unit: if its state cannot be stored (map
         * full), nothing it caused is acknowledged. */
        persist_unit_begin(c->eng);
        dispatch_packet(c, &fh, buf + off + fh.hdr_len);
        if (persist_unit_end(c->eng) < 0) {
            outq_clear(&c->out);    /* its acks must not leave */
            conn_close(c, true, "store full or failing: packet not stored, not acknowledged");
            break;
        }
        off += total;
        if (c->auth_pending)
            break;          /* the rest waits for the CONNECT verdict */
    }
    return off;
}

/* Keeps the unconsumed tail of buf in c->in. */
static int keep_partial(struct conn *c, const uint8_t *p, size_t n)
{
    if (n > c->in_cap) {
        size_t cap = n < 256 ? 256 : n;
        uint8_t *nb = realloc(c->in, cap);
        if (!nb)
            return -1;
        c->in = nb;
        c->in_cap = (uint32_t)cap;
    }
    memmove(c->in, p, n);
    c->in_len = (uint32_t)n;
    return 0;
}

/* Room for the packet being assembled in c->in: up to its full size when
 * the header is known, growing geometrically so memory follows the bytes
 * that actually arrived. */
static int grow_partial(struct conn *c)
{
    struct mqtt_fixed fh;
    size_t need = (size_t)c->in_len + 5;
    if (mqtt_fixed_parse(c->in, c->in_len, c->eng->cfg->max_packet_size, &fh) > 0)
        need = (size_t)fh.hdr_len + fh.remaining;
    if (need <= c->in_cap) {
        if (c->in_len < c->in_cap)
            return 0;
        need = (size_t)c->in_cap + 4096;   /* header still incomplete */
    }
    size_t cap = (size_t)c->in_cap * 2;
    if (cap < 4096)
        cap = 4096;
    if (cap > need)
        cap = need;
    uint8_t *nb = realloc(c->in, cap);
    if (!nb)
        return -1;
    c->in = nb;
    c->in_cap = (uint32_t)cap;
    return 0;
}

/* Processes what c->in holds and keeps the unconsumed tail. -1 if the
 * connection closed. */
static int consume_partial(struct conn *c)
{
    size_t used = process(c, c->in, c->in_len);
    if (c->state == CONN_CLOSED)
        return -1;
    if (used == c->in_len) {
        free(c->in);
        c->in = NULL;
        c->in_len = c->in_cap = 0;
    } else if (used) {
        memmove(c->in, c->in + used, c->in_len - used);
        c->in_len -= (uint32_t)used;
    }
    return 0;
}

void conn_resume_input(struct conn *c)
{
    if (c->state == CONN_CLOSED)
        return;
    if (ev_add(c->eng->el, &c->ev, EPOLLIN | EPOLLRDHUP | (c->want_write ? EPOLLOUT : 0)) < 0) {
        conn_close(c, true, "epoll: cannot resume input");
        return;
    }
    if (c->in_len)
        consume_partial(c);
}

static void conn_read(struct conn *c)
{
    struct engine *e = c->eng;
    int extra = 0;
    for (int round = 0; round < READ_ROUNDS && c->state != CONN_CLOSED; round++) {
        uint8_t *dst;
        size_t room;
        if (c->in_len) {
            if (grow_partial(c) < 0) {
                e->st.oom++;
                conn_close(c, true, "out of memory for input");
                return;
            }
            dst = c->in + c->in_len;
            room = c->in_cap - c->in_len;
        } else {
            dst = e->rbuf;
            room = sizeof e->rbuf;
        }
        ssize_t n = c->t->read(c->ev.fd, c->tctx, dst, room);
        if (n == 0) {
            detect_event(e, DET_ABNORMAL_CLOSE, c, NULL, NULL, 0);
            conn_close(c, true, "connection closed by peer");
            return;
        }
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            char why[96];
            snprintf(why, sizeof why, "read error: %s", strerror(errno));
            detect_event(e, DET_ABNORMAL_CLOSE, c, NULL, NULL, 0);
            conn_close(c, true, why);
            return;
        }
        e->st.bytes_received += (uint64_t)n;
        if (c->in_len) {
            c->in_len += (uint32_t)n;
            if (consume_partial(c) < 0)
                return;
        } else {
            size_t used = process(c, dst, (size_t)n);
            if (c->state == CONN_CLOSED)
                return;
            if (used < (size_t)n && keep_partial(c, dst + used, (size_t)n - used) < 0) {
                e->st.oom++;
                conn_close(c, true, "out of memory for input");
                return;
            }
        }
        if (c->auth_pending)
            return;
        /* A short read drained the socket; data a userspace TLS layer
         * still buffers is invisible to epoll, so keep reading it. */
        if ((size_t)n < room && !c->t->pending(c->ev.fd, c->tctx))
            return;
        if (c->t->pending(c->ev.fd, c->tctx) && extra++ < 64)
            round--;    /* a TLS buffer holds at most one record */
    }
}

static void conn_on_event(struct evloop *el, struct ev_handler *h, uint32_t events)
{
    struct conn *c = h->arg;
    if (c->state == CONN_CLOSED || c->auth_pending)
        return;
    if (events & EPOLLOUT) {
        if (persist_pending(c->eng) && !c->dirty) {
            /* Written by before_sleep after the commit (conn_mark_dirty
             * skips connections waiting for EPOLLOUT). */
            c->dirty = true;
            c->next_dirty = c->eng->dirty;
            c->eng->dirty = c;
        } else if (!persist_pending(c->eng)) {
            conn_flush(c);
        }
    }
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP))
        conn_read(c);
}
