/* Latency histogram: log-linear buckets (exact below 64, then 32 buckets
 * per power of two, so any value is within ~3% of its bucket). Fixed size,
 * no allocation; values are nanoseconds. */
#ifndef MOAT_BENCH_HIST_H
#define MOAT_BENCH_HIST_H

#include <stdint.h>

#define HIST_BUCKETS (64 + 58 * 32)

struct hist {
    uint64_t n, min, max;
    long double sum;
    uint64_t b[HIST_BUCKETS];
};

void hist_init(struct hist *h);
void hist_add(struct hist *h, uint64_t v);
/* Value at quantile q (0..1): the bucket midpoint clamped to [min, max];
 * q <= 0 gives the minimum, q >= 1 the maximum, an empty histogram 0. */
uint64_t hist_quantile(const struct hist *h, double q);
double hist_mean(const struct hist *h);

#endif
