#include "broker/block.h"

#include <netinet/in.h>
#include <string.h>

#include "broker/conn.h"
#include "broker/engine.h"
#include "broker/kick.h"
#include "broker/session.h"
#include "config.h"
#include "util/log.h"
#include "xdp/cidr.h"

static uint64_t expiry(struct engine *e, uint32_t ttl_s)
{
    return ttl_s ? ev_now_ms(e->el) + (uint64_t)ttl_s * 1000u : 0;
}

void engine_block_peer(struct engine *e, const struct peer_addr *p, uint32_t ttl_s,
                       uint32_t reason, const char *why)
{
    struct moat_cidr c = { .family = p->family == AF_INET ? 4 : 6 };
    c.prefixlen = c.family == 4 ? 32 : (e->cfg->xdp_ipv6_prefix ? e->cfg->xdp_ipv6_prefix : 64);
    memcpy(c.addr, p->addr, c.family == 4 ? 4 : 16);
    char cs[MOAT_CIDR_STRLEN];
    moat_cidr_format(&c, cs, sizeof cs);
    if (denylist_add_ip(e->deny, c.family, c.addr, c.prefixlen, expiry(e, ttl_s), reason) < 0)
        log_warn("block %s: denylist full or out of memory; only its connections are closed", cs);
    engine_filter_block(e, &c, ttl_s, reason);
    size_t n = kick_cidr(e, &c, why);
    log_notice("blocked %s for %u s (%s); %zu connection(s) closed", cs, ttl_s, why, n);
}

void engine_block_name(struct engine *e, enum deny_name_kind k, const char *name, size_t len,
                       uint32_t ttl_s, const char *why)
{
    if (denylist_add_name(e->deny, k, name, len, expiry(e, ttl_s)) < 0)
        log_warn("block %s '%.*s': denylist full or out of memory",
                 k == DENY_CLIENT_ID ? "client id" : "username", (int)len, name);
    size_t n = 0;
    if (k == DENY_CLIENT_ID) {
        n = kick_client_id(e, name, len, why);
    } else {
        n = kick_username(e, name, len, why);
    }
    log_notice("blocked %s '%.*s' for %u s (%s); %zu connection(s) closed",
               k == DENY_CLIENT_ID ? "client id" : "username", (int)len, name, ttl_s, why, n);
}

bool engine_peer_blocked(struct engine *e, const struct peer_addr *p)
{
    uint8_t fam = p->family == AF_INET ? 4 : p->family == AF_INET6 ? 6 : 0;
    return fam && e->deny && denylist_ip_blocked(e->deny, fam, p->addr, ev_now_ms(e->el));
}
