/* Keyed hash for tables whose keys come from peers (topics, client ids):
 * SipHash-1-3 with a per-process random key, so a client cannot choose
 * colliding keys. */
#ifndef MOAT_HASH_H
#define MOAT_HASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t moat_hash(uint64_t seed, const void *data, size_t len);
uint64_t moat_random_seed(void);   /* from getrandom() */

#endif
