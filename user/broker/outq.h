/* Per-connection output queue. Small packets (headers, acks) are encoded
 * into one byte buffer; payloads are referenced from their shared message,
 * never copied. Flushed with one writev per loop iteration. Empty queues
 * hold no memory, so idle connections stay small. */
#ifndef MOAT_BROKER_OUTQ_H
#define MOAT_BROKER_OUTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/transport.h"

struct msg;

struct oseg {
    struct msg *ref;   /* NULL: bytes in the header buffer at off */
    uint32_t off;      /* offset into hdr, or into the payload */
    uint32_t len;
};

struct outq {
    struct oseg *seg;
    uint32_t head, tail, cap;   /* segments [head, tail) pending */
    uint8_t *hdr;
    uint32_t hlen, hcap;
    uint64_t bytes;             /* unsent bytes */
};

/* Returns a pointer where up to n bytes may be written, or NULL on out of
 * memory; outq_commit(q, used) then queues the bytes written. */
uint8_t *outq_reserve(struct outq *q, uint32_t n);
int      outq_commit(struct outq *q, uint32_t used);
/* Queues the payload of m (takes a reference). -1 on out of memory. */
int      outq_push_payload(struct outq *q, struct msg *m);

/* Writes as much as the transport takes. Returns 1 if everything was
 * written, 0 if data is left (wait for EPOLLOUT), -1 on a write error
 * (errno set). *written gets the bytes written. */
int  outq_flush(struct outq *q, const struct transport *t, int fd, void *tctx,
                uint64_t *written);
void outq_clear(struct outq *q);
static inline bool outq_empty(const struct outq *q) { return q->head == q->tail; }

#endif
