/* Test oracle for topic filter matching [MQTT-4.7]: a deliberately plain
 * matcher (split both into level arrays, compare level by level) used to
 * cross-check the subscription tree and the retained store. Test-only; it
 * does not share code with user/mqtt/topic.c. */
#ifndef MOAT_TEST_TOPIC_ORACLE_H
#define MOAT_TEST_TOPIC_ORACLE_H

#include <stdbool.h>
#include <string.h>

#define ORACLE_MAX_LEVELS 64

struct oracle_level {
    const char *p;
    size_t n;
};

/* Splits s on '/' into at most ORACLE_MAX_LEVELS levels; returns the count
 * or -1 if there are more. */
static int oracle_split(const char *s, struct oracle_level *lv)
{
    int k = 0;
    for (;;) {
        if (k == ORACLE_MAX_LEVELS)
            return -1;
        size_t n = strcspn(s, "/");
        lv[k].p = s;
        lv[k].n = n;
        k++;
        if (s[n] == '\0')
            return k;
        s += n + 1;
    }
}

static bool oracle_is(const struct oracle_level *l, const char *w)
{
    return l->n == strlen(w) && memcmp(l->p, w, l->n) == 0;
}

/* Does filter match topic (both valid, NUL-terminated)? */
static bool oracle_match(const char *filter, const char *topic)
{
    struct oracle_level f[ORACLE_MAX_LEVELS], t[ORACLE_MAX_LEVELS];
    int nf = oracle_split(filter, f), nt = oracle_split(topic, t);
    if (nf < 0 || nt < 0)
        return false;
    /* [MQTT-4.7.2-1] a wildcard first level never matches a '$' topic */
    if (topic[0] == '$' && (oracle_is(&f[0], "+") || oracle_is(&f[0], "#")))
        return false;
    for (int i = 0;; i++) {
        if (i == nf)
            return i == nt;
        if (oracle_is(&f[i], "#"))
            return true;   /* the rest, including none: "a/#" matches "a" */
        if (i == nt)
            return false;
        if (oracle_is(&f[i], "+"))
            continue;
        if (f[i].n != t[i].n || memcmp(f[i].p, t[i].p, f[i].n) != 0)
            return false;
    }
}

/* Small deterministic PRNG so a failing random case can be replayed. */
static unsigned long long oracle_rng_next(unsigned long long *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Random level from a small alphabet with an empty level and a '$' level,
 * so collisions, empty levels and the '$' rule all occur often. */
static const char *oracle_rand_level(unsigned long long *s)
{
    static const char *alpha[] = { "a", "b", "", "$s", "c", "ab" };
    return alpha[oracle_rng_next(s) % (sizeof alpha / sizeof alpha[0])];
}

/* Random topic name (wild = false) or filter (wild = true) of 1..maxlv
 * levels into buf (size >= 8 * maxlv). */
static void oracle_rand_name(unsigned long long *s, bool wild, int maxlv, char *buf)
{
    int n = 1 + (int)(oracle_rng_next(s) % (unsigned)maxlv);
    buf[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (i)
            strcat(buf, "/");
        unsigned r = (unsigned)(oracle_rng_next(s) % 10);
        if (wild && i == n - 1 && r < 2) {
            strcat(buf, "#");
            break;
        }
        strcat(buf, wild && r < 5 ? "+" : oracle_rand_level(s));
    }
}

#endif
