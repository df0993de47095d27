#include "policy/denylist.h"

#include <stdlib.h>
#include <string.h>

#include "util/hash.h"

struct ip_entry {
    uint8_t  family, prefixlen;
    uint8_t  addr[16];
    uint32_t reason;
    uint64_t expires_ms;
};

struct name_entry {
    struct name_entry *next;
    uint64_t hash, expires_ms;
    uint8_t  kind;
    uint16_t len;
    char     name[];
};

#define NAME_BUCKETS 1024u

struct denylist {
    uint64_t seed;
    size_t max;
    /* IP blocks are few (XDP holds the bulk); a flat array keeps the
     * accept-time check a short linear scan with no pointer chasing. */
    struct ip_entry *ip;
    size_t n_ip, cap_ip;
    struct name_entry *names[NAME_BUCKETS];
    size_t n_names;
};

struct denylist *denylist_new(uint64_t seed, size_t max_entries)
{
    struct denylist *d = calloc(1, sizeof *d);
    if (d) {
        d->seed = seed;
        d->max = max_entries ? max_entries : 65536;
    }
    return d;
}

void denylist_free(struct denylist *d)
{
    if (!d)
        return;
    for (size_t b = 0; b < NAME_BUCKETS; b++)
        for (struct name_entry *n = d->names[b], *nx; n; n = nx) {
            nx = n->next;
            free(n);
        }
    free(d->ip);
    free(d);
}

static void mask(uint8_t family, const uint8_t *addr, uint8_t prefixlen, uint8_t out[16])
{
    size_t bytes = family == 4 ? 4 : 16;
    memset(out, 0, 16);
    for (size_t i = 0; i < bytes; i++) {
        int left = (int)prefixlen - (int)(i * 8);
        uint8_t m = left >= 8 ? 0xff : left <= 0 ? 0 : (uint8_t)(0xffu << (8 - left));
        out[i] = addr[i] & m;
    }
}

static bool ip_match(const struct ip_entry *e, uint8_t family, const uint8_t *addr)
{
    if (e->family != family)
        return false;
    uint8_t m[16];
    mask(family, addr, e->prefixlen, m);
    return !memcmp(m, e->addr, family == 4 ? 4 : 16);
}

static long find_ip(const struct denylist *d, uint8_t family, const uint8_t *net, uint8_t prefixlen)
{
    for (size_t i = 0; i < d->n_ip; i++)
        if (d->ip[i].family == family && d->ip[i].prefixlen == prefixlen &&
            !memcmp(d->ip[i].addr, net, 16))
            return (long)i;
    return -1;
}

int denylist_add_ip(struct denylist *d, uint8_t family, const uint8_t *addr, uint8_t prefixlen,
                    uint64_t expires_ms, uint32_t reason)
{
    if ((family != 4 && family != 6) || prefixlen > (family == 4 ? 32 : 128))
        return -1;
    uint8_t net[16];
    mask(family, addr, prefixlen, net);
    long i = find_ip(d, family, net, prefixlen);
    if (i >= 0) {
        d->ip[i].expires_ms = expires_ms;
        d->ip[i].reason = reason;
        return 0;
    }
    if (d->n_ip + d->n_names >= d->max)
        return -1;
    if (d->n_ip == d->cap_ip) {
        size_t ncap = d->cap_ip ? d->cap_ip * 2 : 16;
        struct ip_entry *n = realloc(d->ip, ncap * sizeof *n);
        if (!n)
            return -1;
        d->ip = n;
        d->cap_ip = ncap;
    }
    struct ip_entry *e = &d->ip[d->n_ip++];
    e->family = family;
    e->prefixlen = prefixlen;
    memcpy(e->addr, net, 16);
    e->expires_ms = expires_ms;
    e->reason = reason;
    return 0;
}

bool denylist_del_ip(struct denylist *d, uint8_t family, const uint8_t *addr, uint8_t prefixlen)
{
    uint8_t net[16];
    mask(family, addr, prefixlen, net);
    long i = find_ip(d, family, net, prefixlen);
    if (i < 0)
        return false;
    d->ip[i] = d->ip[--d->n_ip];
    return true;
}

static bool live(uint64_t expires_ms, uint64_t now_ms)
{
    return expires_ms == 0 || expires_ms > now_ms;
}

bool denylist_ip_blocked(const struct denylist *d, uint8_t family, const uint8_t *addr,
                         uint64_t now_ms)
{
    for (size_t i = 0; i < d->n_ip; i++)
        if (live(d->ip[i].expires_ms, now_ms) && ip_match(&d->ip[i], family, addr))
            return true;
    return false;
}

static struct name_entry **find_name(const struct denylist *d, enum deny_name_kind k,
                                     const char *name, size_t len, uint64_t *hash)
{
    uint64_t h = moat_hash(d->seed ^ (uint64_t)k, name, len);
    *hash = h;
    struct name_entry **pp = (struct name_entry **)&d->names[h % NAME_BUCKETS];
    while (*pp && !((*pp)->hash == h && (*pp)->kind == k && (*pp)->len == len &&
                    !memcmp((*pp)->name, name, len)))
        pp = &(*pp)->next;
    return pp;
}

int denylist_add_name(struct denylist *d, enum deny_name_kind k, const char *name, size_t len,
                      uint64_t expires_ms)
{
    if (len > UINT16_MAX)
        return -1;
    uint64_t h;
    struct name_entry **pp = find_name(d, k, name, len, &h);
    if (*pp) {
        (*pp)->expires_ms = expires_ms;
        return 0;
    }
    if (d->n_ip + d->n_names >= d->max)
        return -1;
    struct name_entry *n = malloc(sizeof *n + len);
    if (!n)
        return -1;
    n->next = NULL;
    n->hash = h;
    n->expires_ms = expires_ms;
    n->kind = (uint8_t)k;
    n->len = (uint16_t)len;
    memcpy(n->name, name, len);
    *pp = n;
    d->n_names++;
    return 0;
}

bool denylist_del_name(struct denylist *d, enum deny_name_kind k, const char *name, size_t len)
{
    uint64_t h;
    struct name_entry **pp = find_name(d, k, name, len, &h);
    if (!*pp)
        return false;
    struct name_entry *n = *pp;
    *pp = n->next;
    free(n);
    d->n_names--;
    return true;
}

bool denylist_name_blocked(const struct denylist *d, enum deny_name_kind k, const char *name,
                           size_t len, uint64_t now_ms)
{
    if (!d->n_names)
        return false;
    uint64_t h;
    struct name_entry **pp = find_name(d, k, name, len, &h);
    return *pp && live((*pp)->expires_ms, now_ms);
}

size_t denylist_flush_ip(struct denylist *d)
{
    size_t n = d->n_ip;
    d->n_ip = 0;
    return n;
}

size_t denylist_gc(struct denylist *d, uint64_t now_ms)
{
    size_t n = 0;
    for (size_t i = 0; i < d->n_ip;)
        if (!live(d->ip[i].expires_ms, now_ms)) {
            d->ip[i] = d->ip[--d->n_ip];
            n++;
        } else {
            i++;
        }
    for (size_t b = 0; b < NAME_BUCKETS; b++)
        for (struct name_entry **pp = &d->names[b]; *pp;) {
            if (!live((*pp)->expires_ms, now_ms)) {
                struct name_entry *x = *pp;
                *pp = x->next;
                free(x);
                d->n_names--;
                n++;
            } else {
                pp = &(*pp)->next;
            }
        }
    return n;
}

void denylist_each(const struct denylist *d, uint64_t now_ms, denylist_fn fn, void *arg)
{
    for (size_t i = 0; i < d->n_ip; i++)
        if (live(d->ip[i].expires_ms, now_ms))
            fn(arg, -1, NULL, 0, d->ip[i].family, d->ip[i].addr, d->ip[i].prefixlen,
               d->ip[i].expires_ms, d->ip[i].reason);
    for (size_t b = 0; b < NAME_BUCKETS; b++)
        for (const struct name_entry *n = d->names[b]; n; n = n->next)
            if (live(n->expires_ms, now_ms))
                fn(arg, n->kind, n->name, n->len, 0, NULL, 0, n->expires_ms, 0);
}
