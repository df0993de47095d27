/* Map operations over raw fds (see maps.h). */
#include "util/err.h"
#include "xdp/maps.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


void moat_maps_init(struct moat_maps *m)
{
    m->block4 = m->block6 = m->allow4 = m->allow6 = -1;
    m->buckets = m->stats = m->config = m->events = -1;
    m->own_fds = false;
}

void moat_maps_close(struct moat_maps *m)
{
    if (m->own_fds) {
        int *fds[] = { &m->block4, &m->block6, &m->allow4, &m->allow6,
                       &m->buckets, &m->stats, &m->config, &m->events };
        for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
            if (*fds[i] >= 0)
                close(*fds[i]);
    }
    moat_maps_init(m);
}

int moat_maps_open_pinned(struct moat_maps *m, const char *root, char *err, size_t errlen)
{
    struct { int *fd; const char *name; } t[] = {
        { &m->block4, MOAT_STR(MOAT_MAP_BLOCK4) },   { &m->block6, MOAT_STR(MOAT_MAP_BLOCK6) },
        { &m->allow4, MOAT_STR(MOAT_MAP_ALLOW4) },   { &m->allow6, MOAT_STR(MOAT_MAP_ALLOW6) },
        { &m->buckets, MOAT_STR(MOAT_MAP_BUCKETS) }, { &m->stats, MOAT_STR(MOAT_MAP_STATS) },
        { &m->config, MOAT_STR(MOAT_MAP_CONFIG) },   { &m->events, MOAT_STR(MOAT_MAP_EVENTS) },
    };
    moat_maps_init(m);
    m->own_fds = true;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        char path[4096];
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", root, t[i].name) >= sizeof(path)) {
            moat_maps_close(m);
            return err_set(err, errlen, "pin path %s: too long", root);
        }
        *t[i].fd = bpf_obj_get(path);
        if (*t[i].fd < 0) {
            int e = errno;
            moat_maps_close(m);
            return err_set(err, errlen, "%s: %s%s", path, strerror(e),
                        e == ENOENT ? " (is moatd's XDP filter loaded? see --pin-path)" : "");
        }
    }
    return 0;
}

uint64_t moat_maps_now(const struct moat_maps *m)
{
    struct moat_xdp_config cfg;
    uint32_t k = 0;
    if (m->config >= 0 && bpf_map_lookup_elem(m->config, &k, &cfg) == 0 && cfg.now_override)
        return cfg.now_override;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Key buffers big enough for either family. */
union lpm_key {
    struct moat_lpm4_key k4;
    struct moat_lpm6_key k6;
};

static int make_key(const struct moat_cidr *c, union lpm_key *k)
{
    memset(k, 0, sizeof(*k));
    if (c->family == 4 && c->prefixlen <= 32) {
        k->k4.prefixlen = c->prefixlen;
        memcpy(k->k4.addr, c->addr, 4);
        return 4;
    }
    if (c->family == 6 && c->prefixlen <= 128) {
        k->k6.prefixlen = c->prefixlen;
        memcpy(k->k6.addr, c->addr, 16);
        return 6;
    }
    return -1;
}

static void key_to_cidr(int family, const void *key, struct moat_cidr *c)
{
    memset(c, 0, sizeof(*c));
    c->family = (uint8_t)family;
    if (family == 4) {
        const struct moat_lpm4_key *k = key;
        c->prefixlen = (uint8_t)(k->prefixlen > 32 ? 32 : k->prefixlen);
        memcpy(c->addr, k->addr, 4);
    } else {
        const struct moat_lpm6_key *k = key;
        c->prefixlen = (uint8_t)(k->prefixlen > 128 ? 128 : k->prefixlen);
        memcpy(c->addr, k->addr, 16);
    }
}

int moat_maps_block_add(struct moat_maps *m, const struct moat_cidr *c, uint64_t ttl_ns,
                        uint32_t reason, char *err, size_t errlen)
{
    union lpm_key k;
    int fam = make_key(c, &k);
    if (fam < 0)
        return err_set(err, errlen, "block: invalid CIDR (family %u, /%u)", c->family, c->prefixlen);
    if (reason >= MOAT_REASON_MAX)
        return err_set(err, errlen, "block: reason %u out of range", reason);
    uint64_t now = moat_maps_now(m);
    struct moat_block_val v = {
        .expires_ns = 0, .added_ns = now, .reason = reason, .prefixlen = c->prefixlen,
    };
    if (ttl_ns) {
        if (ttl_ns > UINT64_MAX - now)
            return err_set(err, errlen, "block: ttl too large");
        v.expires_ns = now + ttl_ns;
    }
    int fd = fam == 4 ? m->block4 : m->block6;
    if (bpf_map_update_elem(fd, &k, &v, BPF_ANY) != 0) {
        int e = errno;
        return err_set(err, errlen, "block%d map: update: %s%s", fam, strerror(e),
                    e == ENOSPC || e == E2BIG ? " (blocklist full)" : "");
    }
    return 0;
}

static int lpm_del(int fd, const struct moat_cidr *c, bool *found, const char *what,
                   char *err, size_t errlen)
{
    union lpm_key k;
    if (make_key(c, &k) < 0)
        return err_set(err, errlen, "%s: invalid CIDR", what);
    if (found)
        *found = false;
    if (bpf_map_delete_elem(fd, &k) == 0) {
        if (found)
            *found = true;
        return 0;
    }
    if (errno == ENOENT)
        return 0;
    return err_set(err, errlen, "%s map: delete: %s", what, strerror(errno));
}

int moat_maps_block_del(struct moat_maps *m, const struct moat_cidr *c, bool *found,
                        char *err, size_t errlen)
{
    return lpm_del(c->family == 4 ? m->block4 : m->block6, c, found, "block", err, errlen);
}

int moat_maps_allow_del(struct moat_maps *m, const struct moat_cidr *c, bool *found,
                        char *err, size_t errlen)
{
    return lpm_del(c->family == 4 ? m->allow4 : m->allow6, c, found, "allow", err, errlen);
}

/* Collects every key of an LPM map first, because deleting while walking a
 * trie with get_next_key can restart the walk. Bounded by max_entries. */
static int collect_keys(int fd, size_t ksz, void **keys, size_t *n, char *err, size_t errlen)
{
    struct bpf_map_info info;
    uint32_t len = sizeof(info);
    memset(&info, 0, sizeof(info));
    if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0)
        return err_set(err, errlen, "map fd %d: info: %s", fd, strerror(errno));
    if (info.key_size != ksz)
        return err_set(err, errlen, "map %s: key size %u, expected %zu (ABI mismatch)",
                    info.name, info.key_size, ksz);
    size_t cap = info.max_entries ? info.max_entries : 1;
    uint8_t *buf = calloc(cap + 1, ksz);
    if (!buf)
        return err_set(err, errlen, "map %s: out of memory for %zu keys", info.name, cap);
    size_t cnt = 0;
    void *prev = NULL;
    while (cnt < cap && bpf_map_get_next_key(fd, prev, buf + cnt * ksz) == 0) {
        prev = buf + cnt * ksz;
        cnt++;
    }
    *keys = buf;
    *n = cnt;
    return 0;
}

static int lpm_walk(int fd, int family, size_t vsz,
                    int (*cb)(const struct moat_cidr *, const void *, void *), void *arg,
                    char *err, size_t errlen)
{
    uint8_t val[64];
    if (vsz > sizeof(val))
        return err_set(err, errlen, "map fd %d: value size %zu unexpected", fd, vsz);
    size_t ksz = family == 4 ? sizeof(struct moat_lpm4_key) : sizeof(struct moat_lpm6_key);
    void *keys;
    size_t n;
    if (collect_keys(fd, ksz, &keys, &n, err, errlen) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const void *k = (const uint8_t *)keys + i * ksz;
        if (bpf_map_lookup_elem(fd, k, val) != 0)
            continue;                 /* deleted meanwhile */
        struct moat_cidr c;
        key_to_cidr(family, k, &c);
        if (cb(&c, val, arg) != 0)
            break;
    }
    free(keys);
    return 0;
}

struct block_adapter { moat_block_cb cb; void *arg; };
static int block_adapt(const struct moat_cidr *c, const void *v, void *arg)
{
    struct block_adapter *a = arg;
    return a->cb(c, v, a->arg);
}

int moat_maps_block_list(struct moat_maps *m, moat_block_cb cb, void *arg,
                         char *err, size_t errlen)
{
    struct block_adapter a = { cb, arg };
    if (lpm_walk(m->block4, 4, sizeof(struct moat_block_val), block_adapt, &a, err, errlen) < 0)
        return -1;
    return lpm_walk(m->block6, 6, sizeof(struct moat_block_val), block_adapt, &a, err, errlen);
}

struct allow_adapter { moat_allow_cb cb; void *arg; };
static int allow_adapt(const struct moat_cidr *c, const void *v, void *arg)
{
    struct allow_adapter *a = arg;
    return a->cb(c, v, a->arg);
}

int moat_maps_allow_list(struct moat_maps *m, moat_allow_cb cb, void *arg,
                         char *err, size_t errlen)
{
    struct allow_adapter a = { cb, arg };
    if (lpm_walk(m->allow4, 4, sizeof(struct moat_allow_val), allow_adapt, &a, err, errlen) < 0)
        return -1;
    return lpm_walk(m->allow6, 6, sizeof(struct moat_allow_val), allow_adapt, &a, err, errlen);
}

/* Deletes entries of one block map; all of them, or only the expired. */
static int block_sweep(int fd, int family, bool expired_only, uint64_t now, size_t *n,
                       char *err, size_t errlen)
{
    size_t ksz = family == 4 ? sizeof(struct moat_lpm4_key) : sizeof(struct moat_lpm6_key);
    void *keys;
    size_t cnt;
    if (collect_keys(fd, ksz, &keys, &cnt, err, errlen) < 0)
        return -1;
    for (size_t i = 0; i < cnt; i++) {
        const void *k = (const uint8_t *)keys + i * ksz;
        if (expired_only) {
            struct moat_block_val v;
            if (bpf_map_lookup_elem(fd, k, &v) != 0)
                continue;
            if (v.expires_ns == 0 || v.expires_ns > now)
                continue;
        }
        if (bpf_map_delete_elem(fd, k) == 0)
            (*n)++;
    }
    free(keys);
    return 0;
}

int moat_maps_block_flush(struct moat_maps *m, size_t *n, char *err, size_t errlen)
{
    size_t cnt = 0;
    int rc = block_sweep(m->block4, 4, false, 0, &cnt, err, errlen);
    if (rc == 0)
        rc = block_sweep(m->block6, 6, false, 0, &cnt, err, errlen);
    if (n)
        *n = cnt;
    return rc;
}

int moat_maps_block_gc(struct moat_maps *m, size_t *n, char *err, size_t errlen)
{
    size_t cnt = 0;
    uint64_t now = moat_maps_now(m);
    int rc = block_sweep(m->block4, 4, true, now, &cnt, err, errlen);
    if (rc == 0)
        rc = block_sweep(m->block6, 6, true, now, &cnt, err, errlen);
    if (n)
        *n = cnt;
    return rc;
}

int moat_maps_allow_add(struct moat_maps *m, const struct moat_cidr *c, char *err, size_t errlen)
{
    union lpm_key k;
    int fam = make_key(c, &k);
    if (fam < 0)
        return err_set(err, errlen, "allow: invalid CIDR");
    struct moat_allow_val v = { .hits = 0, .added_ns = moat_maps_now(m) };
    int fd = fam == 4 ? m->allow4 : m->allow6;
    if (bpf_map_update_elem(fd, &k, &v, BPF_ANY) != 0)
        return err_set(err, errlen, "allow%d map: update: %s", fam, strerror(errno));
    return 0;
}

int moat_maps_config_get(struct moat_maps *m, struct moat_xdp_config *cfg, char *err, size_t errlen)
{
    uint32_t k = 0;
    if (bpf_map_lookup_elem(m->config, &k, cfg) != 0)
        return err_set(err, errlen, "config map: lookup: %s", strerror(errno));
    return 0;
}

int moat_maps_config_set(struct moat_maps *m, const struct moat_xdp_config *cfg,
                         char *err, size_t errlen)
{
    if (cfg->n_ports > MOAT_MAX_PORTS)
        return err_set(err, errlen, "config: %u ports, at most %d", cfg->n_ports, MOAT_MAX_PORTS);
    if (cfg->ipv6_prefix > 128)
        return err_set(err, errlen, "config: ipv6 prefix /%u, at most /128", cfg->ipv6_prefix);
    if (cfg->block_mode > MOAT_BLOCK_PORTS)
        return err_set(err, errlen, "config: block mode %u unknown", cfg->block_mode);
    if (cfg->syn_rate > MOAT_MAX_RATE || cfg->syn_burst > MOAT_MAX_RATE)
        return err_set(err, errlen, "config: rate/burst above %u", MOAT_MAX_RATE);
    uint32_t k = 0;
    if (bpf_map_update_elem(m->config, &k, cfg, BPF_ANY) != 0)
        return err_set(err, errlen, "config map: update: %s", strerror(errno));
    return 0;
}

int moat_maps_stats_read(struct moat_maps *m, struct moat_stats *out, char *err, size_t errlen)
{
    int ncpu = libbpf_num_possible_cpus();
    if (ncpu <= 0)
        return err_set(err, errlen, "stats: cannot count possible CPUs: %s", strerror(-ncpu));
    struct moat_stats *per = calloc((size_t)ncpu, sizeof(*per));
    if (!per)
        return err_set(err, errlen, "stats: out of memory");
    uint32_t k = 0;
    if (bpf_map_lookup_elem(m->stats, &k, per) != 0) {
        int e = errno;
        free(per);
        return err_set(err, errlen, "stats map: lookup: %s", strerror(e));
    }
    memset(out, 0, sizeof(*out));
    uint64_t *o = (uint64_t *)out;
    for (int c = 0; c < ncpu; c++) {
        const uint64_t *p = (const uint64_t *)&per[c];
        for (unsigned i = 0; i < MOAT_STAT_COUNT; i++)
            o[i] += p[i];
    }
    free(per);
    return 0;
}

const char *moat_stat_name(unsigned i)
{
#define NAME_(n) #n,
    static const char *const names[] = { MOAT_STATS_FIELDS(NAME_) };
#undef NAME_
    return i < MOAT_STAT_COUNT ? names[i] : NULL;
}

int moat_maps_fill(int fd, uint32_t *used, uint32_t *max, char *err, size_t errlen)
{
    struct bpf_map_info info;
    uint32_t len = sizeof(info);
    memset(&info, 0, sizeof(info));
    if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0)
        return err_set(err, errlen, "map fd %d: info: %s", fd, strerror(errno));
    *max = info.max_entries;
    *used = 0;
    if (info.type == BPF_MAP_TYPE_ARRAY || info.type == BPF_MAP_TYPE_PERCPU_ARRAY ||
        info.type == BPF_MAP_TYPE_RINGBUF) {
        *used = info.max_entries;
        return 0;
    }
    uint8_t a[64], b[64];
    if (info.key_size > sizeof(a))
        return err_set(err, errlen, "map %s: key size %u unexpected", info.name, info.key_size);
    void *prev = NULL, *cur = a;
    while (*used < info.max_entries && bpf_map_get_next_key(fd, prev, cur) == 0) {
        (*used)++;
        prev = cur;
        cur = cur == a ? b : a;
    }
    return 0;
}
