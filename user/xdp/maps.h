/* Operations on moat's BPF maps, given their fds: blocklist, allowlist,
 * config, stats. Used by xdp_filter.c (fds from the loaded skeleton) and by
 * moatctl (fds from the pins, so it works while moatd is down).
 * All functions return 0 or -1 with a message naming the map in err. */
#ifndef MOAT_XDP_MAPS_H
#define MOAT_XDP_MAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "moat_abi.h"
#include "xdp/cidr.h"

struct moat_maps {
    int block4, block6, allow4, allow6, buckets, stats, config, events;
    bool own_fds;   /* close() closes them (opened from pins) */
};

/* Opens every pinned map under root (e.g. /sys/fs/bpf/moat). All-or-nothing:
 * on error nothing stays open. */
int  moat_maps_open_pinned(struct moat_maps *m, const char *root, char *err, size_t errlen);
/* Closes the fds if own_fds; safe on a zeroed or already-closed struct. */
void moat_maps_close(struct moat_maps *m);
/* Sets every fd to -1 (nothing open). */
void moat_maps_init(struct moat_maps *m);

/* The clock the program uses: config's now_override if non-zero, else
 * CLOCK_MONOTONIC (same clock as bpf_ktime_get_ns). */
uint64_t moat_maps_now(const struct moat_maps *m);

/* Adds or replaces a block. ttl_ns 0 = permanent; expiry is now + ttl. */
int moat_maps_block_add(struct moat_maps *m, const struct moat_cidr *c, uint64_t ttl_ns,
                        uint32_t reason, char *err, size_t errlen);
/* Deletes one exact entry; *found says whether it existed (may be NULL). */
int moat_maps_block_del(struct moat_maps *m, const struct moat_cidr *c, bool *found,
                        char *err, size_t errlen);
/* Calls cb for every entry (both families). cb returning non-zero stops. */
typedef int (*moat_block_cb)(const struct moat_cidr *c, const struct moat_block_val *v,
                             void *arg);
int moat_maps_block_list(struct moat_maps *m, moat_block_cb cb, void *arg,
                         char *err, size_t errlen);
/* Deletes every entry; *n (may be NULL) gets the count. */
int moat_maps_block_flush(struct moat_maps *m, size_t *n, char *err, size_t errlen);
/* Deletes entries whose expiry is at or before now; *n gets the count. */
int moat_maps_block_gc(struct moat_maps *m, size_t *n, char *err, size_t errlen);

int moat_maps_allow_add(struct moat_maps *m, const struct moat_cidr *c, char *err, size_t errlen);
int moat_maps_allow_del(struct moat_maps *m, const struct moat_cidr *c, bool *found,
                        char *err, size_t errlen);
typedef int (*moat_allow_cb)(const struct moat_cidr *c, const struct moat_allow_val *v,
                             void *arg);
int moat_maps_allow_list(struct moat_maps *m, moat_allow_cb cb, void *arg,
                         char *err, size_t errlen);

int moat_maps_config_get(struct moat_maps *m, struct moat_xdp_config *cfg, char *err, size_t errlen);
/* Writes the record as is (the program reads it per packet). Validates:
 * n_ports <= MOAT_MAX_PORTS, ipv6_prefix <= 128, block_mode known,
 * rate/burst <= MOAT_MAX_RATE. */
int moat_maps_config_set(struct moat_maps *m, const struct moat_xdp_config *cfg,
                         char *err, size_t errlen);

/* Sums the per-CPU counters into *out. */
int moat_maps_stats_read(struct moat_maps *m, struct moat_stats *out, char *err, size_t errlen);
/* Name of counter i (MOAT_STATS_FIELDS order), NULL if out of range. */
const char *moat_stat_name(unsigned i);

/* Entry count and capacity of a map fd (walks the keys). */
int moat_maps_fill(int fd, uint32_t *used, uint32_t *max, char *err, size_t errlen);

#endif
