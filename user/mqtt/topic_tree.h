/* Subscription tree: topic filters -> (owner, qos), levels with hashed
 * children so a level with thousands of siblings stays O(1) per step.
 * Owners are opaque (the broker passes its session). */
#ifndef MOAT_MQTT_TOPIC_TREE_H
#define MOAT_MQTT_TOPIC_TREE_H

#include <stddef.h>
#include <stdint.h>

struct topic_tree;

struct topic_tree *topic_tree_new(uint64_t hash_seed);
void topic_tree_free(struct topic_tree *t);

/* Subscribes owner to filter (already validated) with qos. A second
 * subscription by the same owner to the same filter replaces the qos
 * [MQTT-3.8.4-3]. Returns 1 added, 0 replaced, -1 out of memory. */
int topic_tree_add(struct topic_tree *t, const uint8_t *filter, size_t len,
                   void *owner, uint8_t qos);

/* Returns 1 removed, 0 not subscribed. Empty levels are freed. */
int topic_tree_remove(struct topic_tree *t, const uint8_t *filter, size_t len,
                      void *owner);

/* Calls fn once per matching (filter, owner) pair for a topic name. An owner
 * with overlapping filters is reported once per filter; the caller merges
 * (highest qos wins [MQTT-3.3.5-1]). '$' topics are not matched by
 * leading wildcards [MQTT-4.7.2-1]. fn must not modify the tree. */
typedef void (*topic_match_fn)(void *owner, uint8_t qos, void *arg);
void topic_tree_match(const struct topic_tree *t, const uint8_t *topic, size_t len,
                      topic_match_fn fn, void *arg);

size_t topic_tree_count(const struct topic_tree *t);  /* subscriptions */

#endif
