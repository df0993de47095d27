#include "mqtt/topic_levels.h"

#include <stdlib.h>
#include <string.h>

#include "util/hash.h"

/* A table exists from 2 exact children on and keeps its load in
 * (1/8, 3/4]: a lookup miss always meets an empty slot, and the table
 * shrinks as children go; back at one child the child moves inline. */
#define TL_MIN_SLOTS 4u
#define TL_MAX_SLOTS (1u << 31)

static size_t table_bytes(uint32_t mask)
{
    return ((size_t)mask + 1) * sizeof(struct tl_node *);
}

static struct tl_node *node_new(struct tl_tree *t, struct tl_node *parent,
                                const uint8_t *name, uint32_t len, uint32_t hv)
{
    struct tl_node *n = calloc(1, sizeof *n + len);
    if (!n)
        return NULL;
    n->parent = parent;
    n->hv = hv;
    n->len = len;
    if (len)
        memcpy(n->name, name, len);
    t->bytes += sizeof *n + len;
    return n;
}

static void node_free(struct tl_tree *t, struct tl_node *n)
{
    if (n->nchild >= 2) {
        t->bytes -= table_bytes(n->mask);
        free(n->kid.slot);
    }
    t->bytes -= sizeof *n + n->len;
    free(n);
}

int tl_init(struct tl_tree *t, uint64_t seed)
{
    t->seed = seed;
    t->nodes = 0;
    t->bytes = 0;
    t->root = node_new(t, NULL, NULL, 0, 0);
    return t->root ? 0 : -1;
}

/* Frees by turning the tree into a work list threaded through the parent
 * pointers: each node pushes its children, then goes. No recursion. */
void tl_destroy(struct tl_tree *t, void (*release)(void *data, void *arg), void *arg)
{
    struct tl_node *todo = t->root;
    if (todo)
        todo->parent = NULL;
    while (todo) {
        struct tl_node *n = todo;
        todo = n->parent;
        struct tl_node *c = tl_first(n);
        while (c) {
            struct tl_node *next = tl_next(c);   /* reads c->parent: relink after */
            c->parent = todo;
            todo = c;
            c = next;
        }
        if (n->data && release)
            release(n->data, arg);
        node_free(t, n);
    }
    t->root = NULL;
    t->nodes = 0;
}

static uint32_t name_hash(const struct tl_tree *t, const uint8_t *name, size_t len)
{
    return (uint32_t)moat_hash(t->seed, name, len);
}

static bool same(const struct tl_node *c, const uint8_t *name, size_t len, uint32_t hv)
{
    return c->hv == hv && c->len == len && (len == 0 || memcmp(c->name, name, len) == 0);
}

static struct tl_node *lookup(const struct tl_node *n, const uint8_t *name,
                              size_t len, uint32_t hv)
{
    if (n->nchild == 1)
        return same(n->kid.one, name, len, hv) ? n->kid.one : NULL;
    for (uint32_t i = hv & n->mask;; i = (i + 1) & n->mask) {
        struct tl_node *c = n->kid.slot[i];
        if (!c)
            return NULL;
        if (same(c, name, len, hv))
            return c;
    }
}

struct tl_node *tl_exact(const struct tl_tree *t, const struct tl_node *n,
                         const uint8_t *name, size_t len)
{
    if (n->nchild == 0 || len > UINT32_MAX)
        return NULL;
    return lookup(n, name, len, name_hash(t, name, len));
}

static void table_put(struct tl_node **s, uint32_t mask, struct tl_node *c)
{
    uint32_t j = c->hv & mask;
    while (s[j])
        j = (j + 1) & mask;
    s[j] = c;
}

/* Moves n's exact children (nchild >= 1) into a new table of nslots, a
 * power of two > nchild. -1 on out of memory, n unchanged. */
static int table_resize(struct tl_tree *t, struct tl_node *n, uint32_t nslots)
{
    if (nslots <= n->nchild)
        return -1;   /* linear probing needs a free slot */
    struct tl_node **s = calloc(nslots, sizeof *s);
    if (!s)
        return -1;
    uint32_t mask = nslots - 1;
    if (n->nchild == 1) {
        table_put(s, mask, n->kid.one);
    } else {
        for (uint32_t i = 0; i <= n->mask; i++)
            if (n->kid.slot[i])
                table_put(s, mask, n->kid.slot[i]);
        t->bytes -= table_bytes(n->mask);
        free(n->kid.slot);
    }
    t->bytes += table_bytes(mask);
    n->kid.slot = s;
    n->mask = mask;
    return 0;
}

/* Exact child, made if missing. NULL on out of memory, n unchanged. */
static struct tl_node *exact_add(struct tl_tree *t, struct tl_node *n,
                                 const uint8_t *name, size_t len)
{
    if (len > UINT32_MAX)
        return NULL;
    uint32_t hv = name_hash(t, name, len);
    struct tl_node *c = n->nchild ? lookup(n, name, len, hv) : NULL;
    if (c)
        return c;
    c = node_new(t, n, name, (uint32_t)len, hv);
    if (!c)
        return NULL;
    if (n->nchild == 1 || (n->nchild >= 2 &&
                           ((uint64_t)n->nchild + 1) * 4 > ((uint64_t)n->mask + 1) * 3)) {
        uint64_t want = n->nchild == 1 ? TL_MIN_SLOTS : ((uint64_t)n->mask + 1) * 2;
        if (want > TL_MAX_SLOTS || table_resize(t, n, (uint32_t)want) < 0) {
            node_free(t, c);
            return NULL;
        }
    }
    if (n->nchild == 0)
        n->kid.one = c;
    else
        table_put(n->kid.slot, n->mask, c);
    n->nchild++;
    t->nodes++;
    return c;
}

static uint32_t slot_of(const struct tl_node *p, const struct tl_node *c)
{
    uint32_t i = c->hv & p->mask;
    while (p->kid.slot[i] != c)
        i = (i + 1) & p->mask;
    return i;
}

/* Removes exact child c from p: backward-shift deletion (no tombstones),
 * then shrink the table, or drop it when one child is left. */
static void exact_unlink(struct tl_tree *t, struct tl_node *p, struct tl_node *c)
{
    if (p->nchild == 1) {
        p->kid.one = NULL;
        p->nchild = 0;
        return;
    }
    uint32_t mask = p->mask, hole = slot_of(p, c);
    struct tl_node **s = p->kid.slot;
    s[hole] = NULL;
    for (uint32_t j = (hole + 1) & mask; s[j]; j = (j + 1) & mask) {
        uint32_t home = s[j]->hv & mask;
        /* Entry j may fill the hole unless its home lies cyclically in (hole, j]. */
        bool stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (!stays) {
            s[hole] = s[j];
            s[j] = NULL;
            hole = j;
        }
    }
    p->nchild--;
    if (p->nchild == 1) {
        struct tl_node *last = NULL;
        for (uint32_t i = 0; i <= mask && !last; i++)
            last = s[i];
        t->bytes -= table_bytes(mask);
        free(s);
        p->kid.one = last;
        p->mask = 0;
    } else if (mask + 1 > TL_MIN_SLOTS && (uint64_t)p->nchild * 8 < (uint64_t)mask + 1) {
        (void)table_resize(t, p, (mask + 1) / 2);  /* on failure the big table stays valid */
    }
}

size_t tl_level_end(const uint8_t *s, size_t len, size_t pos)
{
    if (pos >= len)
        return len;
    const uint8_t *e = memchr(s + pos, '/', len - pos);
    return e ? (size_t)(e - s) : len;
}

size_t tl_level_prev(const uint8_t *s, size_t pos)
{
    if (pos <= 1)
        return 0;
    const uint8_t *e = memrchr(s, '/', pos - 1);
    return e ? (size_t)(e - s) + 1 : 0;
}

static struct tl_node **wild_slot(struct tl_node *n, const uint8_t *s, size_t a, size_t b)
{
    if (tl_is_level(s, a, b, '+'))
        return &n->plus;
    if (tl_is_level(s, a, b, '#'))
        return &n->hash;
    return NULL;
}

struct tl_node *tl_path(struct tl_tree *t, const uint8_t *s, size_t len, bool create)
{
    static const uint8_t empty[1];
    if (!s)
        s = empty;   /* only with len 0 */
    struct tl_node *n = t->root;
    size_t pos = 0;
    for (;;) {
        size_t e = tl_level_end(s, len, pos);
        struct tl_node **w = wild_slot(n, s, pos, e), *c;
        if (w) {
            c = *w;
            if (!c && create) {
                c = node_new(t, n, s + pos, 1, 0);
                if (c) {
                    *w = c;
                    t->nodes++;
                }
            }
        } else {
            c = create ? exact_add(t, n, s + pos, e - pos) : tl_exact(t, n, s + pos, e - pos);
        }
        if (!c) {
            if (create)
                tl_prune(t, n);   /* drop the levels made for this path so far */
            return NULL;
        }
        n = c;
        if (e == len)
            return n;
        pos = e + 1;
    }
}

static bool node_empty(const struct tl_node *n)
{
    return !n->data && n->nchild == 0 && !n->plus && !n->hash;
}

void tl_prune(struct tl_tree *t, struct tl_node *n)
{
    while (n->parent && node_empty(n)) {
        struct tl_node *p = n->parent;
        if (p->plus == n)
            p->plus = NULL;
        else if (p->hash == n)
            p->hash = NULL;
        else
            exact_unlink(t, p, n);
        node_free(t, n);
        t->nodes--;
        n = p;
    }
}

/* First exact child at table index >= i, else the wildcard children. */
static struct tl_node *scan_from(const struct tl_node *p, uint32_t i)
{
    if (p->nchild == 1 && i == 0)
        return p->kid.one;
    if (p->nchild >= 2) {
        for (; i <= p->mask; i++)
            if (p->kid.slot[i])
                return p->kid.slot[i];
    }
    return p->plus ? p->plus : p->hash;
}

struct tl_node *tl_first(const struct tl_node *n)
{
    return scan_from(n, 0);
}

struct tl_node *tl_next(const struct tl_node *c)
{
    const struct tl_node *p = c->parent;
    if (!p || c == p->hash)
        return NULL;
    if (c == p->plus)
        return p->hash;
    if (p->nchild == 1)
        return scan_from(p, 1);
    return scan_from(p, slot_of(p, c) + 1);   /* mask + 1 at most: no wrap */
}
