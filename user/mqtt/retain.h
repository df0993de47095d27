/* Retained messages by topic name [MQTT-3.3.1-5..11]. Messages are opaque
 * pointers owned by the caller; the store keeps one per topic. */
#ifndef MOAT_MQTT_RETAIN_H
#define MOAT_MQTT_RETAIN_H

#include <stddef.h>
#include <stdint.h>

struct retain_store;

struct retain_store *retain_new(uint64_t hash_seed);
/* release is called on every stored message (may be NULL). */
void retain_free(struct retain_store *r, void (*release)(void *msg));

/* Stores msg as the retained message of topic (a valid topic name), or
 * clears it when msg is NULL. Returns the message it replaced (or NULL);
 * the caller releases it. On out of memory returns msg itself unchanged
 * and stores nothing (so the caller can count and release it). */
void *retain_set(struct retain_store *r, const uint8_t *topic, size_t len, void *msg);

/* Calls fn for every retained message whose topic matches filter (valid),
 * with the same '$' rule as subscriptions [MQTT-4.7.2-1]. */
typedef void (*retain_match_fn)(void *msg, void *arg);
void retain_match(const struct retain_store *r, const uint8_t *filter, size_t len,
                  retain_match_fn fn, void *arg);

size_t retain_count(const struct retain_store *r);

#endif
