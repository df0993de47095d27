/* Retained messages: topic names stored as level paths (topic_levels.h),
 * the message pointer as the last level's payload. */
#include "mqtt/retain.h"

#include <stdbool.h>
#include <stdlib.h>

#include "mqtt/topic_levels.h"
#include "mqtt/tree_stats.h"

struct retain_store {
    struct tl_tree lv;
    size_t count;
};

/* retain_new: an empty store keyed by hash_seed (use moat_random_seed()).
 * NULL on out of memory. */
struct retain_store *retain_new(uint64_t hash_seed)
{
    struct retain_store *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    if (tl_init(&r->lv, hash_seed) < 0) {
        free(r);
        return NULL;
    }
    return r;
}

struct release_ctx {
    void (*release)(void *msg);
};

static void msg_release(void *data, void *arg)
{
    const struct release_ctx *c = arg;
    c->release(data);
}

/* retain_free: frees the store; release (if not NULL) gets every stored
 * message once. NULL store is accepted. */
void retain_free(struct retain_store *r, void (*release)(void *msg))
{
    if (!r)
        return;
    struct release_ctx c = { release };
    tl_destroy(&r->lv, release ? msg_release : NULL, &c);
    free(r);
}

/* retain_set: see retain.h. Storing the pointer already stored returns it
 * as the "replaced" message: the caller must not release it twice. */
void *retain_set(struct retain_store *r, const uint8_t *topic, size_t len, void *msg)
{
    struct tl_node *n = tl_path(&r->lv, topic, len, msg != NULL);
    if (!n)
        return msg;   /* clear of an absent topic: NULL; store failure: msg */
    void *old = n->data;
    n->data = msg;
    if (!old && msg)
        r->count++;
    else if (old && !msg)
        r->count--;
    if (!msg)
        tl_prune(&r->lv, n);
    return old;
}

/* A '$' topic is not matched by a wildcard first level [MQTT-4.7.2-1]:
 * below the root, wildcards skip children whose name starts with '$'. */
static bool skipped(const struct tl_node *c, bool skip_dollar)
{
    return skip_dollar && c->len > 0 && c->name[0] == '$';
}

static const struct tl_node *first_child(const struct tl_node *n, bool skip_dollar)
{
    const struct tl_node *c = tl_first(n);
    while (c && skipped(c, skip_dollar))
        c = tl_next(c);
    return c;
}

static const struct tl_node *next_child(const struct tl_node *c, bool skip_dollar)
{
    do
        c = tl_next(c);
    while (c && skipped(c, skip_dollar));
    return c;
}

/* Every message strictly below top, depth-first with no stack: after a
 * leaf, climb until a node has a next sibling. */
static void visit_subtree(const struct tl_node *top, bool skip_dollar,
                          retain_match_fn fn, void *arg)
{
    const struct tl_node *c = first_child(top, skip_dollar);
    while (c) {
        if (c->data)
            fn(c->data, arg);
        const struct tl_node *d = tl_first(c);
        if (d) {
            c = d;
            continue;
        }
        while (c != top) {
            const struct tl_node *s = next_child(c, skip_dollar && c->parent == top);
            if (s) {
                c = s;
                break;
            }
            c = c->parent;
        }
        if (c == top)
            return;
    }
}

/* retain_match: depth-first over the stored levels the filter selects:
 * an exact level follows one child, '+' every child in turn, '#' the node
 * itself (a parent matches "x/#") and its whole subtree. Like
 * topic_tree_match it runs without recursion or a stack: on the way up the
 * parent pointer gives the node, tl_level_prev() the filter position, and
 * a '+' level there means "continue with the next sibling". Only the
 * subtrees the filter names are visited. fn must not change the store
 * (the walk holds node pointers); collect first if it needs to. */
void retain_match(const struct retain_store *r, const uint8_t *filter, size_t len,
                  retain_match_fn fn, void *arg)
{
    static const uint8_t empty[1];
    if (!filter)
        filter = empty;   /* only with len 0; keeps memchr's argument valid */
    if (len == SIZE_MAX)
        return;           /* tl_end_pos(len) must not wrap; MQTT names are <= 65535 */
    const struct tl_node *root = r->lv.root, *n = root;
    const size_t end = tl_end_pos(len);
    size_t pos = 0;   /* start of the filter level below n, or end */
    for (;;) {
        if (pos == end) {
            if (n->data)
                fn(n->data, arg);
        } else {
            size_t e = tl_level_end(filter, len, pos);
            const struct tl_node *c = NULL;
            if (tl_is_level(filter, pos, e, '#')) {
                if (n->data)
                    fn(n->data, arg);
                visit_subtree(n, n == root, fn, arg);
            } else if (tl_is_level(filter, pos, e, '+')) {
                c = first_child(n, n == root);
            } else {
                c = tl_exact(&r->lv, n, filter + pos, e - pos);
            }
            if (c) {
                n = c;
                pos = e == len ? end : e + 1;
                continue;
            }
        }
        /* n is done: climb; where the level that led to n was '+', go on
         * with n's next sibling at the same filter position. */
        for (;;) {
            if (n == root)
                return;
            const struct tl_node *p = n->parent;
            size_t lvl = tl_level_prev(filter, pos);
            size_t lvl_end = pos == end ? len : pos - 1;
            if (tl_is_level(filter, lvl, lvl_end, '+')) {
                const struct tl_node *s = next_child(n, p == root);
                if (s) {
                    n = s;
                    break;
                }
            }
            n = p;
            pos = lvl;
        }
    }
}

/* retain_count: topics with a stored message. */
size_t retain_count(const struct retain_store *r)
{
    return r->count;
}

/* retain_stats: see tree_stats.h. */
void retain_stats(const struct retain_store *r, struct tree_stats *out)
{
    out->nodes = r->lv.nodes;
    out->bytes = r->lv.bytes;
}
