/* Blocking on a policy's or an operator's order: a source goes into
 * moatd's userspace denylist (checked at accept, so the block holds where
 * XDP is not attached) and its live connections are closed at once; a
 * client id or username is refused at CONNECT. */
#ifndef MOAT_BROKER_BLOCK_H
#define MOAT_BROKER_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/denylist.h"

struct engine;
struct peer_addr;

/* ttl_s 0 = permanent. reason: enum moat_block_reason. */
void engine_block_peer(struct engine *e, const struct peer_addr *p, uint32_t ttl_s,
                       uint32_t reason, const char *why);
void engine_block_name(struct engine *e, enum deny_name_kind k, const char *name, size_t len,
                       uint32_t ttl_s, const char *why);
/* Checked at accept. */
bool engine_peer_blocked(struct engine *e, const struct peer_addr *p);

#endif
