/* Log-linear latency histogram; see hist.h. */
#include "hist.h"

#include <string.h>

void hist_init(struct hist *h)
{
    memset(h, 0, sizeof(*h));
    h->min = UINT64_MAX;
}

/* v < 64: bucket v. Otherwise e = floor(log2 v) >= 6 and the top 6 bits
 * m (32..63) pick one of 32 buckets inside [2^e, 2^(e+1)). */
static unsigned bucket_of(uint64_t v)
{
    unsigned e, m;

    if (v < 64)
        return (unsigned)v;
    e = 63u - (unsigned)__builtin_clzll(v);
    m = (unsigned)(v >> (e - 5));
    return 64u + (e - 6u) * 32u + (m - 32u);
}

static uint64_t bucket_mid(unsigned i)
{
    unsigned e, m;

    if (i < 64)
        return i;
    e = (i - 64u) / 32u + 6u;
    m = (i - 64u) % 32u + 32u;
    return ((uint64_t)m << (e - 5)) + ((uint64_t)1 << (e - 5)) / 2;
}

void hist_add(struct hist *h, uint64_t v)
{
    h->b[bucket_of(v)]++;
    h->n++;
    h->sum += v;
    if (v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
}

uint64_t hist_quantile(const struct hist *h, double q)
{
    uint64_t rank, seen = 0;
    unsigned i;

    if (h->n == 0)
        return 0;
    if (q <= 0)
        return h->min;
    if (q >= 1)
        return h->max;
    rank = (uint64_t)(q * (double)h->n);
    if ((double)rank < q * (double)h->n)
        rank++;
    if (rank < 1)
        rank = 1;
    for (i = 0; i < HIST_BUCKETS; i++) {
        seen += h->b[i];
        if (seen >= rank) {
            uint64_t v = bucket_mid(i);
            return v < h->min ? h->min : v > h->max ? h->max : v;
        }
    }
    return h->max;
}

double hist_mean(const struct hist *h)
{
    return h->n ? (double)(h->sum / h->n) : 0.0;
}
