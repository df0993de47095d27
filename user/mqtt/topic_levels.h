/* Tree of topic levels split on '/', shared by the subscription tree and
 * the retained-message store. Each node keeps its exact children in an
 * open-addressing table keyed by moat_hash() (so a level with 100,000
 * siblings is O(1) per step) and its '+' and '#' children in their own
 * slots. Empty levels ("a//b", a leading '/') are ordinary levels with an
 * empty name. Every node has a parent pointer, which lets the walkers in
 * topic_tree.c and retain.c run depth-first without a stack or recursion. */
#ifndef MOAT_MQTT_TOPIC_LEVELS_H
#define MOAT_MQTT_TOPIC_LEVELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tl_node {
    struct tl_node *parent;   /* NULL only for the root */
    union {                   /* exact children; which member is live follows nchild: */
        struct tl_node *one;  /*   nchild == 1: the child itself (no table for chains) */
        struct tl_node **slot;/*   nchild >= 2: table of mask + 1 slots, NULL = empty */
    } kid;                    /*   nchild == 0: neither */
    struct tl_node *plus;     /* child for a "+" level */
    struct tl_node *hash;     /* child for a "#" level */
    void *data;               /* the user's payload (subscriptions, message) */
    uint32_t nchild;          /* exact children */
    uint32_t mask;            /* table size - 1, when nchild >= 2 */
    uint32_t hv;              /* low bits of the name's hash: regrowth without rehashing */
    uint32_t len;             /* name length */
    uint8_t name[];
};

struct tl_tree {
    struct tl_node *root;     /* the level before the first; has no name */
    uint64_t seed;            /* moat_hash key */
    size_t nodes;             /* excluding the root */
    size_t bytes;             /* nodes and child tables, malloc overhead excluded */
};

/* Sets up an empty tree (allocates the root). Returns 0 or -1 (no memory). */
int tl_init(struct tl_tree *t, uint64_t seed);

/* Frees every node; calls release(data, arg) for each non-NULL payload when
 * release is not NULL. Iterative, no stack: fine for any depth. */
void tl_destroy(struct tl_tree *t, void (*release)(void *data, void *arg), void *arg);

/* Exact child of n named name[0..len) from the hash table only ("+" and "#"
 * get no special meaning). NULL if none. No allocation. */
struct tl_node *tl_exact(const struct tl_tree *t, const struct tl_node *n,
                         const uint8_t *name, size_t len);

/* Node for the whole '/'-separated path s[0..len), where a level "+" or
 * "#" goes to the wildcard slot. With create, missing levels are made;
 * returns NULL when the path does not exist (no create) or memory ran out
 * (create; then nothing new is left behind). */
struct tl_node *tl_path(struct tl_tree *t, const uint8_t *s, size_t len, bool create);

/* Frees n and then each ancestor while it has no payload and no children.
 * Call after clearing a node's data. Never frees the root. */
void tl_prune(struct tl_tree *t, struct tl_node *n);

/* Child iteration in table order, then "+", then "#". tl_next returns the
 * sibling after c (NULL at the end) in expected O(1). The tree must not be
 * changed between calls. */
struct tl_node *tl_first(const struct tl_node *n);
struct tl_node *tl_next(const struct tl_node *c);

/* Level helpers over a '/'-separated string s[0..len). A level position is
 * the offset of a level's first byte, or len + 1 (TL_END) past the last.
 * tl_level_end: offset of the '/' ending the level at pos, or len.
 * tl_level_prev: start of the level just before position pos (pos > 0). */
static inline size_t tl_end_pos(size_t len) { return len + 1; }
size_t tl_level_end(const uint8_t *s, size_t len, size_t pos);
size_t tl_level_prev(const uint8_t *s, size_t pos);

static inline bool tl_is_level(const uint8_t *s, size_t start, size_t end, uint8_t c)
{
    return end - start == 1 && s[start] == c;
}

#endif
