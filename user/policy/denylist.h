/* moatd's own blocklist, checked in userspace: source CIDRs at accept
 * (so blocks hold where XDP is not attached), client ids and usernames at
 * CONNECT. Entries expire; 0 = permanent. */
#ifndef MOAT_POLICY_DENYLIST_H
#define MOAT_POLICY_DENYLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct denylist;

enum deny_name_kind { DENY_CLIENT_ID, DENY_USERNAME };

struct denylist *denylist_new(uint64_t seed, size_t max_entries);
void denylist_free(struct denylist *d);

/* family 4 or 6, addr in network order, host bits ignored. Re-adding
 * replaces the expiry. Returns 0, -1 when full or out of memory. */
int  denylist_add_ip(struct denylist *d, uint8_t family, const uint8_t *addr, uint8_t prefixlen,
                     uint64_t expires_ms, uint32_t reason);
bool denylist_del_ip(struct denylist *d, uint8_t family, const uint8_t *addr, uint8_t prefixlen);
bool denylist_ip_blocked(const struct denylist *d, uint8_t family, const uint8_t *addr,
                         uint64_t now_ms);

int  denylist_add_name(struct denylist *d, enum deny_name_kind k, const char *name, size_t len,
                       uint64_t expires_ms);
bool denylist_del_name(struct denylist *d, enum deny_name_kind k, const char *name, size_t len);
bool denylist_name_blocked(const struct denylist *d, enum deny_name_kind k, const char *name,
                           size_t len, uint64_t now_ms);

/* Removes every IP entry; returns how many. */
size_t denylist_flush_ip(struct denylist *d);
/* Drops expired entries; returns how many. */
size_t denylist_gc(struct denylist *d, uint64_t now_ms);

/* Iteration for listings: calls fn for every live entry. name is NULL for
 * IP entries (then family/addr/prefixlen are set). */
typedef void (*denylist_fn)(void *arg, int kind /* -1 ip, else deny_name_kind */,
                            const char *name, size_t len, uint8_t family, const uint8_t *addr,
                            uint8_t prefixlen, uint64_t expires_ms, uint32_t reason);
void denylist_each(const struct denylist *d, uint64_t now_ms, denylist_fn fn, void *arg);

#endif
