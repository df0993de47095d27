#include "broker/outq.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "broker/msg.h"

#define OUTQ_IOV 256

static int seg_room(struct outq *q)
{
    if (q->tail < q->cap)
        return 0;
    if (q->head > 0) {          /* slide pending segments to the front */
        memmove(q->seg, q->seg + q->head, (q->tail - q->head) * sizeof *q->seg);
        q->tail -= q->head;
        q->head = 0;
        if (q->tail < q->cap)
            return 0;
    }
    uint32_t ncap = q->cap ? q->cap * 2 : 8;
    struct oseg *ns = realloc(q->seg, ncap * sizeof *ns);
    if (!ns)
        return -1;
    q->seg = ns;
    q->cap = ncap;
    return 0;
}

uint8_t *outq_reserve(struct outq *q, uint32_t n)
{
    if (q->hlen + (uint64_t)n > q->hcap) {
        uint64_t ncap = q->hcap ? q->hcap : 256;
        while (ncap < q->hlen + (uint64_t)n)
            ncap *= 2;
        if (ncap > UINT32_MAX)
            return NULL;
        uint8_t *nh = realloc(q->hdr, ncap);
        if (!nh)
            return NULL;
        q->hdr = nh;
        q->hcap = (uint32_t)ncap;
    }
    return q->hdr + q->hlen;
}

int outq_commit(struct outq *q, uint32_t used)
{
    if (!used)
        return 0;
    struct oseg *last = q->tail > q->head ? &q->seg[q->tail - 1] : NULL;
    if (last && !last->ref && last->off + last->len == q->hlen) {
        last->len += used;        /* contiguous with the previous header bytes */
    } else {
        if (seg_room(q) < 0)
            return -1;
        q->seg[q->tail++] = (struct oseg){ .ref = NULL, .off = q->hlen, .len = used };
    }
    q->hlen += used;
    q->bytes += used;
    return 0;
}

int outq_push_payload(struct outq *q, struct msg *m)
{
    if (!m->payload_len)
        return 0;
    if (seg_room(q) < 0)
        return -1;
    q->seg[q->tail++] = (struct oseg){ .ref = msg_ref(m), .off = 0, .len = m->payload_len };
    q->bytes += m->payload_len;
    return 0;
}

void outq_clear(struct outq *q)
{
    for (uint32_t i = q->head; i < q->tail; i++)
        msg_unref(q->seg[i].ref);
    free(q->seg);
    free(q->hdr);
    memset(q, 0, sizeof *q);
}

/* Moves header bytes still pending to the front once the consumed prefix
 * is at least half the buffer, so a never-empty queue cannot grow forever. */
static void compact_hdr(struct outq *q)
{
    uint32_t lo = q->hlen;
    for (uint32_t i = q->head; i < q->tail; i++)
        if (!q->seg[i].ref) {
            lo = q->seg[i].off;
            break;
        }
    if (lo < q->hcap / 2)
        return;
    memmove(q->hdr, q->hdr + lo, q->hlen - lo);
    q->hlen -= lo;
    for (uint32_t i = q->head; i < q->tail; i++)
        if (!q->seg[i].ref)
            q->seg[i].off -= lo;
}

int outq_flush(struct outq *q, const struct transport *t, int fd, void *tctx,
               uint64_t *written)
{
    *written = 0;
    while (q->head < q->tail) {
        struct iovec iov[OUTQ_IOV];
        int n = 0;
        size_t want = 0;
        for (uint32_t i = q->head; i < q->tail && n < OUTQ_IOV; i++, n++) {
            struct oseg *s = &q->seg[i];
            const uint8_t *base = s->ref ? msg_payload(s->ref) : q->hdr;
            iov[n].iov_base = (void *)(base + s->off);
            iov[n].iov_len = s->len;
            want += s->len;
        }
        ssize_t w = t->writev(fd, tctx, iov, n);
        if (w < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                compact_hdr(q);
                return 0;
            }
            return -1;
        }
        *written += (uint64_t)w;
        q->bytes -= (uint64_t)w;
        size_t left = (size_t)w;
        while (left && q->head < q->tail) {
            struct oseg *s = &q->seg[q->head];
            if (left < s->len) {
                s->off += (uint32_t)left;
                s->len -= (uint32_t)left;
                left = 0;
                break;
            }
            left -= s->len;
            msg_unref(s->ref);
            q->head++;
        }
        if ((size_t)w < want) {   /* socket buffer full: wait for EPOLLOUT */
            compact_hdr(q);
            return 0;
        }
    }
    /* Drained: give the memory back (idle connections cost nothing here). */
    free(q->seg);
    free(q->hdr);
    memset(q, 0, sizeof *q);
    return 1;
}
