/* Retained-message store [MQTT-3.3.1-5..11]: set/replace/clear, matching
 * filters against stored topic names [MQTT-4.7], memory freed on clear,
 * 100k topics, and a randomized cross-check against topic_oracle.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mqtt/retain.h"
#include "mqtt/tree_stats.h"
#include "topic_oracle.h"

#define SEED 0xfeedface12345678ull

static const uint8_t *U(const char *s) { return (const uint8_t *)s; }

static void *set(struct retain_store *r, const char *topic, void *msg)
{
    return retain_set(r, U(topic), strlen(topic), msg);
}

#define MAX_HITS 4096
struct hits {
    size_t n;
    void *msg[MAX_HITS];
};

static void collect(void *msg, void *arg)
{
    struct hits *h = arg;
    assert_true(h->n < MAX_HITS);
    h->msg[h->n++] = msg;
}

static void count_only(void *msg, void *arg)
{
    (void)msg;
    (*(size_t *)arg)++;
}

static size_t match_count(const struct retain_store *r, const char *filter)
{
    size_t n = 0;
    retain_match(r, U(filter), strlen(filter), count_only, &n);
    return n;
}

static void match(const struct retain_store *r, const char *filter, struct hits *h)
{
    h->n = 0;
    retain_match(r, U(filter), strlen(filter), collect, h);
}

static size_t hits_of(const struct hits *h, const void *msg)
{
    size_t k = 0;
    for (size_t i = 0; i < h->n; i++)
        k += h->msg[i] == msg;
    return k;
}

static struct tree_stats stats(const struct retain_store *r)
{
    struct tree_stats s;
    retain_stats(r, &s);
    return s;
}

/* One message per topic: a new one replaces and is returned
 * [MQTT-3.3.1-5]; NULL clears [MQTT-3.3.1-10]. */
static void test_set_replace_clear(void **state)
{
    struct retain_store *r = retain_new(SEED);
    assert_non_null(r);
    int m1, m2, m3;
    assert_null(set(r, "a/b", &m1));
    assert_int_equal(retain_count(r), 1);
    assert_ptr_equal(set(r, "a/b", &m2), &m1);
    assert_int_equal(retain_count(r), 1);
    assert_null(set(r, "a", &m3));                 /* inner level gets its own message */
    assert_int_equal(retain_count(r), 2);
    assert_int_equal(stats(r).nodes, 2);

    struct hits h;
    match(r, "a/b", &h);
    assert_int_equal(h.n, 1);
    assert_ptr_equal(h.msg[0], &m2);

    assert_null(set(r, "a/c", NULL));              /* clearing an absent topic */
    assert_null(set(r, "a/b/c", NULL));
    assert_int_equal(retain_count(r), 2);
    assert_int_equal(stats(r).nodes, 2);

    assert_ptr_equal(set(r, "a/b", NULL), &m2);
    assert_int_equal(retain_count(r), 1);
    assert_int_equal(stats(r).nodes, 1);           /* b freed, a keeps its message */
    assert_null(set(r, "a/b", NULL));
    assert_ptr_equal(set(r, "a", NULL), &m3);
    assert_int_equal(retain_count(r), 0);
    assert_int_equal(stats(r).nodes, 0);
    match(r, "#", &h);
    assert_int_equal(h.n, 0);
    retain_free(r, NULL);
}

/* Clearing frees exactly the levels nothing else uses. */
static void test_clear_frees_levels(void **state)
{
    struct retain_store *r = retain_new(SEED);
    const struct tree_stats base = stats(r);
    int m;
    assert_null(set(r, "x/y/z", &m));
    assert_null(set(r, "x/y/w", &m));
    assert_null(set(r, "x//", &m));
    assert_null(set(r, "/", &m));
    assert_int_equal(stats(r).nodes, 3 + 1 + 2 + 2);
    assert_ptr_equal(set(r, "x/y/z", NULL), &m);
    assert_int_equal(stats(r).nodes, 7);
    assert_ptr_equal(set(r, "x/y/w", NULL), &m);   /* w and y */
    assert_int_equal(stats(r).nodes, 5);
    assert_ptr_equal(set(r, "x//", NULL), &m);     /* two empty levels and x */
    assert_int_equal(stats(r).nodes, 2);
    assert_ptr_equal(set(r, "/", NULL), &m);
    assert_int_equal(stats(r).nodes, 0);
    assert_int_equal(stats(r).bytes, base.bytes);
    retain_free(r, NULL);
}

/* A fixed set of stored topics against a table of filters; the expected
 * set comes from the oracle, and some rows pin the expected count so the
 * oracle itself is checked. */
static const char *stored[] = {
    "sport", "sport/tennis", "sport/tennis/player1", "sport/tennis/player1/ranking",
    "sport/tennis/player1/score/wimbledon", "sport/tennis/player2", "sport/golf",
    "sport/", "sports", "/finance", "/", "//", "a//b", "a/b", "a/$b", "$SYS",
    "$SYS/monitor/Clients", "$SYS/broker/load", "$", "Accounts", "ACCOUNTS",
};
#define NSTORED (sizeof stored / sizeof stored[0])

static const struct fcase {
    const char *filter;
    int want;   /* expected match count, -1: only cross-checked with the oracle */
} fcases[] = {
    { "#", 17 },                          /* all but the four '$' topics [MQTT-4.7.2-1] */
    { "sport/#", 8 },                     /* sport itself, its subtree, "sport/" */
    { "sport/tennis/player1/#", 3 },
    { "sport/tennis/+", 2 },
    { "sport/+", 3 },                     /* tennis, golf, and the empty level */
    { "sport", 1 },
    { "+", 4 },                           /* sport, sports, Accounts, ACCOUNTS */
    { "+/+", -1 },
    { "/+", 2 },                          /* /finance and / */
    { "+/tennis/#", 5 },
    { "$SYS/#", 3 },
    { "$SYS/monitor/+", 1 },
    { "+/monitor/Clients", 0 },
    { "+/#", 17 },
    { "$", 1 },
    { "a/+", 2 },                         /* a/b and a/$b: '$' only matters first */
    { "a/#", 3 },
    { "a/+/b", 1 },
    { "+/+/+", -1 },
    { "//", 1 },
    { "/#", 3 },
    { "ACCOUNTS", 1 },
    { "nothing/#", 0 },
    { "sport/tennis/player1/score/wimbledon/#", 1 },
    { "sport/tennis/player1/score/wimbledon/+", 0 },
    { "+/+/+/+/+", 1 },
};
#define NFCASES (sizeof fcases / sizeof fcases[0])

static void test_match_table(void **state)
{
    struct retain_store *r = retain_new(SEED);
    for (size_t i = 0; i < NSTORED; i++)
        assert_null(set(r, stored[i], (void *)&stored[i]));
    assert_int_equal(retain_count(r), NSTORED);
    struct hits h;
    for (size_t k = 0; k < NFCASES; k++) {
        const char *f = fcases[k].filter;
        match(r, f, &h);
        size_t want = 0;
        for (size_t i = 0; i < NSTORED; i++) {
            bool m = oracle_match(f, stored[i]);
            want += m;
            if (hits_of(&h, &stored[i]) != (m ? 1u : 0u))
                fail_msg("filter '%s' topic '%s': %zu visits, want %d",
                         f, stored[i], hits_of(&h, &stored[i]), m);
        }
        assert_int_equal(h.n, want);
        if (fcases[k].want >= 0 && (size_t)fcases[k].want != want)
            fail_msg("filter '%s': oracle says %zu, table %d", f, want, fcases[k].want);
    }
    retain_free(r, NULL);
}

/* '$' topics are not matched by a leading wildcard, at any depth of the
 * rest of the filter [MQTT-4.7.2-1]. */
static void test_dollar_rule(void **state)
{
    struct retain_store *r = retain_new(SEED);
    int m1, m2, m3;
    assert_null(set(r, "$SYS/a", &m1));
    assert_null(set(r, "$x", &m2));
    assert_null(set(r, "x/$y", &m3));
    assert_int_equal(match_count(r, "#"), 1);
    assert_int_equal(match_count(r, "+"), 0);
    assert_int_equal(match_count(r, "+/a"), 0);
    assert_int_equal(match_count(r, "+/#"), 1);     /* x/$y */
    assert_int_equal(match_count(r, "$SYS/#"), 1);
    assert_int_equal(match_count(r, "$SYS/+"), 1);
    assert_int_equal(match_count(r, "$x"), 1);
    assert_int_equal(match_count(r, "$x/#"), 1);   /* '#' matches the parent */
    assert_int_equal(match_count(r, "x/+"), 1);
    retain_free(r, NULL);
}

/* Randomized: random set/clear operations, then random filters; the
 * visited messages must equal the oracle's selection, each once. */
static void test_random_crosscheck(void **state)
{
    enum { NT = 400, ROUNDS = 4, OPS = 1500, FILTERS = 600 };
    static char top[NT][64];
    static bool live[NT];
    unsigned long long rng = 0x2545f4914f6cdd1dull;
    for (int round = 0; round < ROUNDS; round++) {
        struct retain_store *r = retain_new(SEED ^ (uint64_t)round);
        int nt = 0;
        while (nt < NT) {
            oracle_rand_name(&rng, false, 5, top[nt]);
            bool dup = false;
            for (int j = 0; j < nt && !dup; j++)
                dup = strcmp(top[j], top[nt]) == 0;
            nt += !dup;
        }
        memset(live, 0, sizeof live);
        size_t nlive = 0;
        for (int op = 0; op < OPS; op++) {
            int k = (int)(oracle_rng_next(&rng) % NT);
            if (oracle_rng_next(&rng) % 3) {
                void *old = set(r, top[k], &top[k]);
                assert_ptr_equal(old, live[k] ? (void *)&top[k] : NULL);
                nlive += !live[k];
                live[k] = true;
            } else {
                void *old = set(r, top[k], NULL);
                assert_ptr_equal(old, live[k] ? (void *)&top[k] : NULL);
                nlive -= live[k];
                live[k] = false;
            }
        }
        assert_int_equal(retain_count(r), nlive);
        struct hits h;
        char f[64];
        for (int q = 0; q < FILTERS; q++) {
            oracle_rand_name(&rng, true, 6, f);
            match(r, f, &h);
            size_t want = 0;
            for (int k = 0; k < NT; k++) {
                bool m = live[k] && oracle_match(f, top[k]);
                want += m;
                if (hits_of(&h, &top[k]) != (m ? 1u : 0u))
                    fail_msg("round %d filter '%s' topic '%s': %zu visits, want %d",
                             round, f, top[k], hits_of(&h, &top[k]), m);
            }
            assert_int_equal(h.n, want);
        }
        for (int k = 0; k < NT; k++)
            if (live[k])
                assert_ptr_equal(set(r, top[k], NULL), &top[k]);
        assert_int_equal(retain_count(r), 0);
        assert_int_equal(stats(r).nodes, 0);
        retain_free(r, NULL);
    }
}

/* 100,000 retained topics: exact and narrow filters only visit their own
 * subtrees (100k exact lookups would be 10^10 steps otherwise), wide ones
 * see everything. Not timed. */
static void test_100k_topics(void **state)
{
    enum { N = 100000 };
    struct retain_store *r = retain_new(SEED);
    const struct tree_stats base = stats(r);
    char *msgs = malloc(N);
    char t[48];
    for (int i = 0; i < N; i++) {
        snprintf(t, sizeof t, "big/%d/v", i);
        assert_null(set(r, t, msgs + i));
    }
    int other;
    assert_null(set(r, "other/x", &other));
    assert_int_equal(retain_count(r), N + 1);
    struct hits h;
    for (int i = 0; i < N; i++) {
        snprintf(t, sizeof t, i & 1 ? "big/%d/v" : "big/%d/#", i);
        match(r, t, &h);
        assert_int_equal(h.n, 1);
        assert_ptr_equal(h.msg[0], msgs + i);
    }
    assert_int_equal(match_count(r, "big/+/v"), N);
    assert_int_equal(match_count(r, "+/+/v"), N);
    assert_int_equal(match_count(r, "#"), N + 1);
    assert_int_equal(match_count(r, "other/#"), 1);
    assert_int_equal(match_count(r, "big/+"), 0);
    for (int i = 0; i < N; i++) {
        snprintf(t, sizeof t, "big/%d/v", i);
        assert_ptr_equal(set(r, t, NULL), msgs + i);
    }
    assert_int_equal(match_count(r, "#"), 1);
    assert_ptr_equal(set(r, "other/x", NULL), &other);
    assert_int_equal(stats(r).nodes, 0);
    assert_int_equal(stats(r).bytes, base.bytes);
    retain_free(r, NULL);
    free(msgs);
}

static size_t count_fn_calls;

static void release_count(void *msg)
{
    (void)msg;
    count_fn_calls++;
}

/* retain_free hands every stored message to release, once. */
static void test_free_releases(void **state)
{
    struct retain_store *r = retain_new(SEED);
    int m[10];
    char t[16];
    for (int i = 0; i < 10; i++) {
        snprintf(t, sizeof t, "r/%d/%s", i % 3, i & 1 ? "x" : "y/z");
        (void)set(r, t, &m[i]);   /* some topics repeat: those replace */
    }
    size_t stored_n = retain_count(r);
    assert_true(stored_n > 0 && stored_n < 10);
    count_fn_calls = 0;
    retain_free(r, release_count);
    assert_int_equal(count_fn_calls, stored_n);
}

/* 32,767 levels: match and clear without recursion. */
static void test_deep_topic(void **state)
{
    enum { LV = 32767 };
    size_t len = 2 * LV - 1;
    char *topic = malloc(len + 1), *plus = malloc(len + 1);
    for (size_t i = 0; i < len; i++) {
        topic[i] = i & 1 ? '/' : 'a';
        plus[i] = i & 1 ? '/' : '+';
    }
    topic[len] = plus[len] = '\0';
    struct retain_store *r = retain_new(SEED);
    int m1, m2;
    assert_null(set(r, topic, &m1));
    assert_null(set(r, "a", &m2));
    assert_int_equal(match_count(r, "#"), 2);
    assert_int_equal(match_count(r, "a/#"), 2);
    assert_int_equal(match_count(r, topic), 1);
    assert_int_equal(match_count(r, plus), 1);
    plus[len - 1] = '#';           /* "+/+/.../#": the parent level matches too */
    assert_int_equal(match_count(r, plus), 1);
    retain_free(r, NULL);          /* iterative free of the long chain */
    r = retain_new(SEED);
    assert_null(set(r, topic, &m1));
    assert_ptr_equal(set(r, topic, NULL), &m1);
    assert_int_equal(stats(r).nodes, 0);
    retain_free(r, NULL);
    free(topic);
    free(plus);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_replace_clear),
        cmocka_unit_test(test_clear_frees_levels),
        cmocka_unit_test(test_match_table),
        cmocka_unit_test(test_dollar_rule),
        cmocka_unit_test(test_random_crosscheck),
        cmocka_unit_test(test_100k_topics),
        cmocka_unit_test(test_free_releases),
        cmocka_unit_test(test_deep_topic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
