/* Size of the subscription tree and the retained store, for moatctl stats,
 * memory limits and the unit tests (which check that removal frees).
 * Kept apart from topic_tree.h / retain.h so those stay as agreed. */
#ifndef MOAT_MQTT_TREE_STATS_H
#define MOAT_MQTT_TREE_STATS_H

#include <stddef.h>

struct topic_tree;
struct retain_store;

struct tree_stats {
    size_t nodes;   /* level nodes, excluding the root */
    size_t bytes;   /* nodes, child tables and payload arrays (malloc overhead excluded) */
};

void topic_tree_stats(const struct topic_tree *t, struct tree_stats *out);
void retain_stats(const struct retain_store *r, struct tree_stats *out);

#endif
