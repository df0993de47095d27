/* Subscription tree: matching [MQTT-4.7], add/replace/remove
 * [MQTT-3.8.4-3], memory freed on removal, scale, and a randomized
 * cross-check against a brute-force matcher (topic_oracle.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mqtt/topic_tree.h"
#include "mqtt/tree_stats.h"
#include "topic_oracle.h"

#define SEED 0x0123456789abcdefull

static const uint8_t *U(const char *s) { return (const uint8_t *)s; }

static int add(struct topic_tree *t, const char *f, void *owner, uint8_t qos)
{
    return topic_tree_add(t, U(f), strlen(f), owner, qos);
}

static int rem(struct topic_tree *t, const char *f, void *owner)
{
    return topic_tree_remove(t, U(f), strlen(f), owner);
}

/* Collects every (owner, qos) report of one match. */
#define MAX_HITS 4096
struct hits {
    size_t n;
    void *owner[MAX_HITS];
    uint8_t qos[MAX_HITS];
};

static void collect(void *owner, uint8_t qos, void *arg)
{
    struct hits *h = arg;
    assert_true(h->n < MAX_HITS);
    h->owner[h->n] = owner;
    h->qos[h->n] = qos;
    h->n++;
}

static void match(const struct topic_tree *t, const char *topic, struct hits *h)
{
    h->n = 0;
    topic_tree_match(t, U(topic), strlen(topic), collect, h);
}

static size_t hits_of(const struct hits *h, const void *owner)
{
    size_t k = 0;
    for (size_t i = 0; i < h->n; i++)
        k += h->owner[i] == owner;
    return k;
}

static struct tree_stats stats(const struct topic_tree *t)
{
    struct tree_stats s;
    topic_tree_stats(t, &s);
    return s;
}

/* Match table: section 4.7 examples and edge cases. */
static const struct mcase {
    const char *filter, *topic;
    bool match;
} cases[] = {
    /* 4.7.1.2 multi-level wildcard */
    { "sport/tennis/player1/#", "sport/tennis/player1", true },
    { "sport/tennis/player1/#", "sport/tennis/player1/ranking", true },
    { "sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true },
    { "sport/tennis/player1/#", "sport/tennis/player2", false },
    { "sport/tennis/player1/#", "sport/tennis", false },
    { "sport/#", "sport", true },                       /* '#' matches the parent */
    { "sport/#", "sports", false },
    { "sport/#", "sport/", true },
    { "#", "sport/tennis", true },
    { "#", "/", true },
    { "#", "a", true },
    { "sport/tennis/#", "sport/tennis/player1", true },
    /* 4.7.1.3 single-level wildcard */
    { "sport/tennis/+", "sport/tennis/player1", true },
    { "sport/tennis/+", "sport/tennis/player2", true },
    { "sport/tennis/+", "sport/tennis/player1/ranking", false },
    { "sport/+", "sport", false },
    { "sport/+", "sport/", true },                      /* empty level */
    { "+/+", "/finance", true },
    { "/+", "/finance", true },
    { "+", "/finance", false },
    { "+/tennis/#", "sport/tennis/player1", true },
    { "+/tennis/#", "sport/tennis", true },
    { "+/tennis/#", "sport/golf", false },
    { "+", "a", true },
    { "+/+/+", "a/b", false },
    { "+/+", "a/b/c", false },
    /* 4.7.2 '$' topics [MQTT-4.7.2-1] */
    { "#", "$SYS/monitor/Clients", false },
    { "+/monitor/Clients", "$SYS/monitor/Clients", false },
    { "$SYS/#", "$SYS/monitor/Clients", true },
    { "$SYS/monitor/+", "$SYS/monitor/Clients", true },
    { "$SYS/#", "$SYS", true },
    { "+", "$SYS", false },
    { "+/#", "$SYS/x", false },
    { "#", "$", false },
    { "$", "$", true },
    { "a/+", "a/$b", true },                            /* '$' rule is first level only */
    { "a/#", "a/$b/c", true },
    { "+/$x", "a/$x", true },
    /* 4.7.3 case sensitivity, exact levels */
    { "ACCOUNTS", "Accounts", false },
    { "Accounts", "Accounts", true },
    { "a/b", "a/b", true },
    { "a/b", "a/b/", false },
    { "a/b", "a", false },
    { "a/b", "a/bc", false },
    /* empty levels are real levels */
    { "a//b", "a//b", true },
    { "a//b", "a/b", false },
    { "a/+/b", "a//b", true },
    { "/", "/", true },
    { "+/+", "/", true },
    { "+", "/", false },
    { "/#", "/", true },
    { "/#", "/a/b", true },
    { "//", "//", true },
    { "+/+/+", "//", true },
    { "a/+/#", "a/b", true },
    { "a/+/#", "a", false },
    { "+/#", "a", true },
};
#define NCASES (sizeof cases / sizeof cases[0])

static void test_match_table(void **state)
{
    assert_true(NCASES >= 40);
    for (size_t i = 0; i < NCASES; i++) {
        const struct mcase *c = &cases[i];
        /* the oracle must agree with the table, or the cross-check is void */
        if (oracle_match(c->filter, c->topic) != c->match)
            fail_msg("oracle disagrees: case %zu filter '%s' topic '%s'", i, c->filter, c->topic);
        struct topic_tree *t = topic_tree_new(SEED);
        assert_non_null(t);
        int dummy;
        assert_int_equal(add(t, c->filter, &dummy, 1), 1);
        struct hits h;
        match(t, c->topic, &h);
        if (h.n != (c->match ? 1u : 0u))
            fail_msg("case %zu filter '%s' topic '%s': %zu reports, want %d",
                     i, c->filter, c->topic, h.n, c->match);
        if (h.n)
            assert_int_equal(h.qos[0], 1);
        topic_tree_free(t);
    }
}

/* All table filters in one tree, one owner each: every topic reports
 * exactly the owners whose filter matches, once. */
static void test_match_table_combined(void **state)
{
    struct topic_tree *t = topic_tree_new(SEED);
    for (size_t i = 0; i < NCASES; i++)
        assert_int_equal(add(t, cases[i].filter, (void *)&cases[i], 0), 1);
    assert_int_equal(topic_tree_count(t), NCASES);
    struct hits h;
    for (size_t i = 0; i < NCASES; i++) {
        match(t, cases[i].topic, &h);
        size_t want = 0;
        for (size_t j = 0; j < NCASES; j++) {
            bool m = oracle_match(cases[j].filter, cases[i].topic);
            want += m;
            if (hits_of(&h, &cases[j]) != (m ? 1u : 0u))
                fail_msg("topic '%s' filter '%s': %zu reports, want %d",
                         cases[i].topic, cases[j].filter, hits_of(&h, &cases[j]), m);
        }
        assert_int_equal(h.n, want);
    }
    topic_tree_free(t);
}

/* An owner with overlapping filters is reported once per filter, each with
 * that filter's qos; the broker merges [MQTT-3.3.5-1]. */
static void test_overlap_once_per_filter(void **state)
{
    struct topic_tree *t = topic_tree_new(SEED);
    int x, y;
    assert_int_equal(add(t, "a/b", &x, 0), 1);
    assert_int_equal(add(t, "a/+", &x, 1), 1);
    assert_int_equal(add(t, "a/#", &x, 2), 1);
    assert_int_equal(add(t, "#", &x, 1), 1);
    assert_int_equal(add(t, "+/+", &x, 0), 1);
    assert_int_equal(add(t, "a/b/c", &x, 2), 1);   /* does not match a/b */
    assert_int_equal(add(t, "a/b", &y, 2), 1);
    struct hits h;
    match(t, "a/b", &h);
    assert_int_equal(hits_of(&h, &x), 5);
    assert_int_equal(hits_of(&h, &y), 1);
    unsigned qsum = 0, qmax = 0;
    for (size_t i = 0; i < h.n; i++) {
        if (h.owner[i] != &x)
            continue;
        qsum += h.qos[i];
        qmax = h.qos[i] > qmax ? h.qos[i] : qmax;
    }
    assert_int_equal(qsum, 0 + 1 + 2 + 1 + 0);
    assert_int_equal(qmax, 2);
    topic_tree_free(t);
}

/* Same owner + filter replaces the qos [MQTT-3.8.4-3]; remove semantics. */
static void test_add_replace_remove(void **state)
{
    struct topic_tree *t = topic_tree_new(SEED);
    int a, b;
    struct hits h;
    assert_int_equal(add(t, "x/y", &a, 0), 1);
    assert_int_equal(add(t, "x/y", &a, 2), 0);
    assert_int_equal(topic_tree_count(t), 1);
    match(t, "x/y", &h);
    assert_int_equal(h.n, 1);
    assert_int_equal(h.qos[0], 2);
    assert_int_equal(add(t, "x/y", &a, 1), 0);
    match(t, "x/y", &h);
    assert_int_equal(h.n, 1);
    assert_int_equal(h.qos[0], 1);

    assert_int_equal(add(t, "x/y", &b, 0), 1);
    assert_int_equal(add(t, "x/+", &a, 0), 1);     /* another filter: a new subscription */
    assert_int_equal(topic_tree_count(t), 3);

    assert_int_equal(rem(t, "x/z", &a), 0);        /* no such filter */
    assert_int_equal(rem(t, "x", &a), 0);          /* an inner level, not subscribed */
    assert_int_equal(rem(t, "x/y/z", &a), 0);
    assert_int_equal(rem(t, "x/#", &a), 0);
    int c;
    assert_int_equal(rem(t, "x/y", &c), 0);        /* filter exists, owner not on it */
    assert_int_equal(topic_tree_count(t), 3);

    assert_int_equal(rem(t, "x/y", &a), 1);
    assert_int_equal(rem(t, "x/y", &a), 0);
    match(t, "x/y", &h);
    assert_int_equal(h.n, 2);
    assert_int_equal(hits_of(&h, &b), 1);
    assert_int_equal(hits_of(&h, &a), 1);          /* through x/+ */
    assert_int_equal(topic_tree_count(t), 2);
    topic_tree_free(t);
}

/* Removal frees the now-empty levels, and only those. */
static void test_remove_frees_levels(void **state)
{
    struct topic_tree *t = topic_tree_new(SEED);
    const struct tree_stats base = stats(t);
    assert_int_equal(base.nodes, 0);
    int a, b;
    assert_int_equal(add(t, "a/b/c", &a, 0), 1);
    assert_int_equal(stats(t).nodes, 3);
    assert_int_equal(add(t, "a/b", &a, 0), 1);
    assert_int_equal(stats(t).nodes, 3);
    assert_int_equal(add(t, "a/+/c", &b, 0), 1);
    assert_int_equal(stats(t).nodes, 5);
    assert_int_equal(add(t, "a/#", &b, 0), 1);
    assert_int_equal(add(t, "#", &b, 0), 1);
    assert_int_equal(add(t, "a//", &b, 0), 1);
    assert_int_equal(stats(t).nodes, 9);
    assert_true(stats(t).bytes > base.bytes);

    assert_int_equal(rem(t, "a/b/c", &a), 1);      /* c goes, a/b stays (subscribed) */
    assert_int_equal(stats(t).nodes, 8);
    assert_int_equal(rem(t, "a/b", &a), 1);        /* b goes */
    assert_int_equal(stats(t).nodes, 7);
    assert_int_equal(rem(t, "a/+/c", &b), 1);      /* + and c */
    assert_int_equal(stats(t).nodes, 5);
    assert_int_equal(rem(t, "a//", &b), 1);        /* two empty levels */
    assert_int_equal(stats(t).nodes, 3);
    assert_int_equal(rem(t, "#", &b), 1);
    assert_int_equal(stats(t).nodes, 2);
    assert_int_equal(rem(t, "a/#", &b), 1);
    assert_int_equal(stats(t).nodes, 0);
    assert_int_equal(stats(t).bytes, base.bytes);
    assert_int_equal(topic_tree_count(t), 0);

    struct hits h;
    match(t, "a/b/c", &h);
    assert_int_equal(h.n, 0);
    topic_tree_free(t);
}

/* 100,000 siblings on one level: hashed children, grow and shrink. Not
 * timed; a linear level would make this test crawl. */
static void test_100k_siblings(void **state)
{
    enum { N = 100000 };
    struct topic_tree *t = topic_tree_new(SEED);
    const struct tree_stats base = stats(t);
    char *owners = malloc(N);
    char f[32];
    for (int i = 0; i < N; i++) {
        snprintf(f, sizeof f, "s/%d", i);
        assert_int_equal(add(t, f, owners + i, 1), 1);
    }
    assert_int_equal(topic_tree_count(t), N);
    assert_int_equal(stats(t).nodes, N + 1);
    struct hits h;
    for (int i = 0; i < N; i += 7) {
        snprintf(f, sizeof f, "s/%d", i);
        match(t, f, &h);
        assert_int_equal(h.n, 1);
        assert_ptr_equal(h.owner[0], owners + i);
    }
    match(t, "s/100000", &h);
    assert_int_equal(h.n, 0);
    for (int i = 0; i < N; i += 2) {
        snprintf(f, sizeof f, "s/%d", i);
        assert_int_equal(rem(t, f, owners + i), 1);
    }
    for (int i = 0; i < N; i++) {   /* survivors still found after shrinking */
        snprintf(f, sizeof f, "s/%d", i);
        match(t, f, &h);
        assert_int_equal(h.n, (size_t)(i & 1));
    }
    for (int i = 1; i < N - 20; i += 2) {
        snprintf(f, sizeof f, "s/%d", i);
        assert_int_equal(rem(t, f, owners + i), 1);
    }
    /* 10 left: the level's table has shrunk from 2^18 slots */
    assert_int_equal(stats(t).nodes, 10 + 1);
    assert_true(stats(t).bytes < base.bytes + 4096);
    for (int i = N - 19; i < N; i += 2) {
        snprintf(f, sizeof f, "s/%d", i);
        assert_int_equal(rem(t, f, owners + i), 1);
    }
    assert_int_equal(stats(t).nodes, 0);
    assert_int_equal(stats(t).bytes, base.bytes);
    topic_tree_free(t);
    free(owners);
}

/* 1,000 owners on one filter: each reported once, removal keeps the rest. */
static void test_1000_owners_one_filter(void **state)
{
    enum { N = 1000 };
    struct topic_tree *t = topic_tree_new(SEED);
    char *owners = malloc(N);
    for (int i = 0; i < N; i++)
        assert_int_equal(add(t, "fan/out", owners + i, (uint8_t)(i % 3)), 1);
    assert_int_equal(add(t, "fan/out", owners + 5, 0), 0);
    assert_int_equal(topic_tree_count(t), N);
    struct hits h;
    match(t, "fan/out", &h);
    assert_int_equal(h.n, N);
    for (size_t i = 0; i < h.n; i++) {
        ptrdiff_t k = (char *)h.owner[i] - owners;
        assert_true(k >= 0 && k < N);
        assert_int_equal(hits_of(&h, h.owner[i]), 1);
        assert_int_equal(h.qos[i], k == 5 ? 0 : k % 3);
    }
    for (int i = 0; i < N; i += 2)
        assert_int_equal(rem(t, "fan/out", owners + i), 1);
    match(t, "fan/out", &h);
    assert_int_equal(h.n, N / 2);
    for (int i = 0; i < N; i++)
        assert_int_equal(hits_of(&h, owners + i), (size_t)(i & 1));
    for (int i = 1; i < N; i += 2)
        assert_int_equal(rem(t, "fan/out", owners + i), 1);
    assert_int_equal(stats(t).nodes, 0);
    topic_tree_free(t);
    free(owners);
}

/* Randomized: adds and removes of random (owner, filter) pairs, then random
 * topics; per owner the number of reports must equal the number of its
 * live filters the oracle says match. */
static void test_random_crosscheck(void **state)
{
    enum { NF = 300, NO = 6, ROUNDS = 4, OPS = 1500, TOPICS = 600 };
    static char filt[NF][64];
    static bool live[NO][NF];
    static uint8_t lq[NO][NF];
    char owners[NO];
    unsigned long long rng = 0x9e3779b97f4a7c15ull;
    for (int round = 0; round < ROUNDS; round++) {
        struct topic_tree *t = topic_tree_new(SEED + (uint64_t)round);
        const struct tree_stats base = stats(t);
        int nf = 0;
        while (nf < NF) {   /* distinct filters */
            oracle_rand_name(&rng, true, 5, filt[nf]);
            bool dup = false;
            for (int j = 0; j < nf && !dup; j++)
                dup = strcmp(filt[j], filt[nf]) == 0;
            nf += !dup;
        }
        memset(live, 0, sizeof live);
        size_t nlive = 0;
        for (int op = 0; op < OPS; op++) {
            int o = (int)(oracle_rng_next(&rng) % NO), f = (int)(oracle_rng_next(&rng) % NF);
            if (oracle_rng_next(&rng) % 3) {
                uint8_t q = (uint8_t)(oracle_rng_next(&rng) % 3);
                assert_int_equal(add(t, filt[f], &owners[o], q), live[o][f] ? 0 : 1);
                nlive += !live[o][f];
                live[o][f] = true;
                lq[o][f] = q;
            } else {
                assert_int_equal(rem(t, filt[f], &owners[o]), live[o][f] ? 1 : 0);
                nlive -= live[o][f];
                live[o][f] = false;
            }
        }
        assert_int_equal(topic_tree_count(t), nlive);
        struct hits h;
        char topic[64];
        for (int k = 0; k < TOPICS; k++) {
            oracle_rand_name(&rng, false, 6, topic);
            match(t, topic, &h);
            size_t total = 0;
            for (int o = 0; o < NO; o++) {
                size_t want = 0;
                unsigned qsum = 0, got_qsum = 0;
                for (int f = 0; f < NF; f++) {
                    if (live[o][f] && oracle_match(filt[f], topic)) {
                        want++;
                        qsum += lq[o][f];
                    }
                }
                for (size_t i = 0; i < h.n; i++)
                    if (h.owner[i] == &owners[o])
                        got_qsum += h.qos[i];
                if (hits_of(&h, &owners[o]) != want || got_qsum != qsum)
                    fail_msg("round %d topic '%s' owner %d: %zu reports (qos sum %u), want %zu (%u)",
                             round, topic, o, hits_of(&h, &owners[o]), got_qsum, want, qsum);
                total += want;
            }
            assert_int_equal(h.n, total);
        }
        /* remove everything: the tree must go back to empty */
        for (int o = 0; o < NO; o++)
            for (int f = 0; f < NF; f++)
                if (live[o][f])
                    assert_int_equal(rem(t, filt[f], &owners[o]), 1);
        assert_int_equal(topic_tree_count(t), 0);
        assert_int_equal(stats(t).nodes, 0);
        assert_int_equal(stats(t).bytes, base.bytes);
        topic_tree_free(t);
    }
}

/* Longest possible names: 32,767 levels in 65,533 bytes. Matching and
 * freeing run without recursion, so depth is no risk. */
static void test_deep_levels(void **state)
{
    enum { LV = 32767 };
    size_t len = 2 * LV - 1;
    char *topic = malloc(len + 1), *plus = malloc(len + 1), *mixed = malloc(len + 1);
    for (size_t i = 0; i < len; i++) {
        topic[i] = i & 1 ? '/' : 'a';
        plus[i] = i & 1 ? '/' : '+';
        mixed[i] = i & 1 ? '/' : (i % 4 ? '+' : 'a');
    }
    topic[len] = plus[len] = mixed[len] = '\0';
    struct topic_tree *t = topic_tree_new(SEED);
    int a, b, c, d;
    assert_int_equal(add(t, topic, &a, 0), 1);
    assert_int_equal(add(t, plus, &b, 1), 1);
    assert_int_equal(add(t, mixed, &c, 2), 1);
    assert_int_equal(add(t, "#", &d, 0), 1);
    struct hits h;
    match(t, topic, &h);
    assert_int_equal(h.n, 4);
    assert_int_equal(hits_of(&h, &a) + hits_of(&h, &b) + hits_of(&h, &c) + hits_of(&h, &d), 4);
    topic[len - 1] = 'b';          /* last level differs; mixed ends in "a" too */
    match(t, topic, &h);
    assert_int_equal(h.n, 2);
    assert_int_equal(hits_of(&h, &b), 1);
    assert_int_equal(hits_of(&h, &d), 1);
    topic[len - 1] = 'a';
    assert_int_equal(rem(t, plus, &b), 1);
    match(t, topic, &h);
    assert_int_equal(h.n, 3);
    assert_int_equal(hits_of(&h, &b), 0);
    topic_tree_free(t);            /* a and c chains still there: iterative free */
    free(topic);
    free(plus);
    free(mixed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match_table),
        cmocka_unit_test(test_match_table_combined),
        cmocka_unit_test(test_overlap_once_per_filter),
        cmocka_unit_test(test_add_replace_remove),
        cmocka_unit_test(test_remove_frees_levels),
        cmocka_unit_test(test_100k_siblings),
        cmocka_unit_test(test_1000_owners_one_filter),
        cmocka_unit_test(test_random_crosscheck),
        cmocka_unit_test(test_deep_levels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
