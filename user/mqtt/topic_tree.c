/* Subscription tree: filters stored as level paths (topic_levels.h), each
 * filter's subscribers as one flat array at its last level. */
#include "mqtt/topic_tree.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt/topic_levels.h"
#include "mqtt/tree_stats.h"

/* Subscribers of one filter: owner[cap] followed by qos[cap] in the same
 * block, 9 bytes per subscription and a flat walk for fan-out. Order is
 * not kept (removal moves the last entry into the hole). */
struct sub_set {
    uint32_t n, cap;
    void *owner[];
};

struct topic_tree {
    struct tl_tree lv;
    size_t count;        /* subscriptions */
    size_t set_bytes;    /* bytes in sub_set blocks */
};

static size_t set_size(uint32_t cap)
{
    return sizeof(struct sub_set) + (size_t)cap * (sizeof(void *) + 1);
}

static uint8_t *set_qos(struct sub_set *s)
{
    return (uint8_t *)(s->owner + s->cap);
}

static const uint8_t *set_qos_c(const struct sub_set *s)
{
    return (const uint8_t *)(s->owner + s->cap);
}

/* New block of cap entries holding s's entries (cap >= s->n); frees s.
 * NULL on out of memory, s untouched. */
static struct sub_set *set_resize(struct topic_tree *t, struct sub_set *s, uint32_t cap)
{
    struct sub_set *ns = malloc(set_size(cap));
    if (!ns)
        return NULL;
    ns->n = s ? s->n : 0;
    ns->cap = cap;
    if (s) {
        memcpy(ns->owner, s->owner, (size_t)s->n * sizeof(void *));
        memcpy(set_qos(ns), set_qos(s), s->n);
        t->set_bytes -= set_size(s->cap);
        free(s);
    }
    t->set_bytes += set_size(cap);
    return ns;
}

/* topic_tree_new: an empty tree whose level tables are keyed by hash_seed
 * (use moat_random_seed()). NULL on out of memory. */
struct topic_tree *topic_tree_new(uint64_t hash_seed)
{
    struct topic_tree *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    if (tl_init(&t->lv, hash_seed) < 0) {
        free(t);
        return NULL;
    }
    return t;
}

static void set_release(void *data, void *arg)
{
    (void)arg;
    free(data);
}

/* topic_tree_free: frees every node and subscription array; owners are not
 * touched. NULL is accepted. */
void topic_tree_free(struct topic_tree *t)
{
    if (!t)
        return;
    tl_destroy(&t->lv, set_release, NULL);
    free(t);
}

/* topic_tree_add: see topic_tree.h. Finding an existing owner is a walk of
 * the filter's array, so subscribing is O(subscribers of that filter). On
 * failure the tree is as before. */
int topic_tree_add(struct topic_tree *t, const uint8_t *filter, size_t len,
                   void *owner, uint8_t qos)
{
    struct tl_node *n = tl_path(&t->lv, filter, len, true);
    if (!n)
        return -1;
    struct sub_set *s = n->data;
    if (s) {
        for (uint32_t i = 0; i < s->n; i++) {
            if (s->owner[i] == owner) {
                set_qos(s)[i] = qos;   /* [MQTT-3.8.4-3] */
                return 0;
            }
        }
    }
    if (!s || s->n == s->cap) {
        if (s && s->cap > UINT32_MAX / 2)
            return -1;
        struct sub_set *ns = set_resize(t, s, s ? s->cap * 2 : 1);
        if (!ns) {
            if (!s)
                tl_prune(&t->lv, n);
            return -1;
        }
        n->data = s = ns;
    }
    s->owner[s->n] = owner;
    set_qos(s)[s->n] = qos;
    s->n++;
    t->count++;
    return 1;
}

/* topic_tree_remove: see topic_tree.h. The array shrinks at 1/4 use; the
 * filter's levels are freed once nothing else uses them. */
int topic_tree_remove(struct topic_tree *t, const uint8_t *filter, size_t len,
                      void *owner)
{
    struct tl_node *n = tl_path(&t->lv, filter, len, false);
    struct sub_set *s = n ? n->data : NULL;
    if (!s)
        return 0;
    uint32_t i = 0;
    while (i < s->n && s->owner[i] != owner)
        i++;
    if (i == s->n)
        return 0;
    s->n--;
    s->owner[i] = s->owner[s->n];
    set_qos(s)[i] = set_qos(s)[s->n];
    t->count--;
    if (s->n == 0) {
        t->set_bytes -= set_size(s->cap);
        free(s);
        n->data = NULL;
        tl_prune(&t->lv, n);
    } else if (s->cap > 1 && s->n <= s->cap / 4) {
        struct sub_set *ns = set_resize(t, s, s->cap / 2);
        if (ns)
            n->data = ns;   /* on failure the larger array stays valid */
    }
    return 1;
}

static void report(const struct tl_node *n, topic_match_fn fn, void *arg)
{
    const struct sub_set *s = n->data;
    if (!s)
        return;
    const uint8_t *q = set_qos_c(s);
    for (uint32_t i = 0; i < s->n; i++)
        fn(s->owner[i], q[i], arg);
}

/* topic_tree_match: depth-first over the filter levels that can match,
 * without recursion or a stack: at each node the exact child is tried
 * first, then the '+' child; on the way back up the parent pointer gives
 * the node and tl_level_prev() the topic position, and "came from the
 * exact child" is "is not the parent's '+' child". So any number of levels
 * works in O(1) memory, and the work is bounded by the nodes visited (each
 * at most once per match). A '#' child is reported on arrival at its
 * parent: it covers the remaining levels, or none ("sport/#" matches
 * "sport"). At the root a '$' topic skips both wildcards [MQTT-4.7.2-1]. */
void topic_tree_match(const struct topic_tree *t, const uint8_t *topic, size_t len,
                      topic_match_fn fn, void *arg)
{
    static const uint8_t empty[1];
    if (!topic)
        topic = empty;   /* only with len 0; keeps memchr's argument valid */
    if (len == SIZE_MAX)
        return;          /* tl_end_pos(len) must not wrap; MQTT names are <= 65535 */
    const struct tl_node *root = t->lv.root, *n = root;
    const size_t end = tl_end_pos(len);
    const bool dollar = len > 0 && topic[0] == '$';
    size_t pos = 0;   /* start of the level below n, or end */
    for (;;) {
        bool wild_ok = !(n == root && dollar);
        if (pos == end) {
            report(n, fn, arg);
            if (n->hash)
                report(n->hash, fn, arg);
        } else {
            if (n->hash && wild_ok)
                report(n->hash, fn, arg);
            size_t e = tl_level_end(topic, len, pos);
            const struct tl_node *c = tl_exact(&t->lv, n, topic + pos, e - pos);
            if (!c && wild_ok)
                c = n->plus;
            if (c) {
                n = c;
                pos = e == len ? end : e + 1;
                continue;
            }
        }
        /* n and its subtree are done: climb to a parent whose '+' child is
         * still to try; the '+' sibling consumes the same level as n. */
        for (;;) {
            if (n == root)
                return;
            const struct tl_node *p = n->parent;
            if (n != p->plus && p->plus && !(p == root && dollar)) {
                n = p->plus;
                break;
            }
            pos = tl_level_prev(topic, pos);
            n = p;
        }
    }
}

/* topic_tree_count: live (owner, filter) subscriptions. */
size_t topic_tree_count(const struct topic_tree *t)
{
    return t->count;
}

/* topic_tree_stats: see tree_stats.h. */
void topic_tree_stats(const struct topic_tree *t, struct tree_stats *out)
{
    out->nodes = t->lv.nodes;
    out->bytes = t->lv.bytes + t->set_bytes;
}
