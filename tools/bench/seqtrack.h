/* Loss, duplicate and reorder accounting for one (publisher, subscriber)
 * stream from the sequence numbers in the payload. 16 bytes per stream:
 * the next expected number plus a 64-bit window of the numbers just below
 * it, so a message up to 64 behind the newest is classified exactly (late
 * or duplicate); older ones are counted as duplicates (the broker keeps
 * per-topic order [MQTT-4.6.0-5], so they should not happen at all). */
#ifndef MOAT_BENCH_SEQTRACK_H
#define MOAT_BENCH_SEQTRACK_H

#include <stdbool.h>
#include <stdint.h>

struct seqtrack {
    uint64_t next;     /* one past the highest sequence seen */
    uint64_t window;   /* bit i: sequence next-1-i was seen */
};

struct seqcount {
    uint64_t unique;     /* first arrival of a sequence number */
    uint64_t dup;        /* a number seen before */
    uint64_t reordered;  /* first arrival, but after a higher number */
};

/* Classifies sequence seq (0-based) of stream t and updates the counts.
 * Returns true for a first arrival (unique), false for a duplicate. */
bool seqtrack_add(struct seqtrack *t, uint64_t seq, struct seqcount *n);

#endif
