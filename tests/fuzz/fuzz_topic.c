/* libFuzzer target for UTF-8, topic name/filter checks and matching.
 * Input: byte 0 = filter length k, then k filter bytes, then the topic.
 * Each function is compared with an independent reference written
 * differently (arithmetic UTF-8 decoding, pre-split levels). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt/packet.h"
#include "mqtt/topic.h"

#define CHECK(cond) do { if (!(cond)) { \
    fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
    abort(); } } while (0)

/* Decodes code points and checks range per length, surrogates, maximum. */
static int ref_utf8(const uint8_t *s, size_t len)
{
    static const uint32_t min[4] = { 0, 0x80, 0x800, 0x10000 };
    size_t i = 0;

    while (i < len) {
        uint8_t b = s[i];
        uint32_t cp;
        size_t n;

        if (b < 0x80) { cp = b; n = 0; }
        else if ((b & 0xE0) == 0xC0) { cp = b & 0x1Fu; n = 1; }
        else if ((b & 0xF0) == 0xE0) { cp = b & 0x0Fu; n = 2; }
        else if ((b & 0xF8) == 0xF0) { cp = b & 0x07u; n = 3; }
        else return -MQTT_E_UTF8;
        if (len - i - 1 < n)
            return -MQTT_E_UTF8;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return -MQTT_E_UTF8;
            cp = cp << 6 | (s[i + k] & 0x3Fu);
        }
        if (cp < min[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return -MQTT_E_UTF8;
        if (cp == 0)
            return -MQTT_E_UTF8_NUL;
        i += n + 1;
    }
    return 0;
}

struct level { const uint8_t *p; size_t n; };

/* Splits s into its levels ("a//b" gives a, "", b); caller frees. */
static struct level *split(const uint8_t *s, size_t len, size_t *count)
{
    struct level *v = calloc(len + 1, sizeof(*v));
    size_t k = 0, start = 0;

    CHECK(v);
    for (size_t i = 0; i <= len; i++)
        if (i == len || s[i] == '/') {
            v[k].p = s + start;
            v[k].n = i - start;
            k++;
            start = i + 1;
        }
    *count = k;
    return v;
}

static bool is(const struct level *l, char c)
{
    return l->n == 1 && l->p[0] == (uint8_t)c;
}

static bool ref_match(const uint8_t *f, size_t fl, const uint8_t *t, size_t tl)
{
    size_t nf, nt, i;
    struct level *F, *T;
    bool m = true;

    if (tl > 0 && t[0] == '$' && fl > 0 && (f[0] == '+' || f[0] == '#'))
        return false;
    F = split(f, fl, &nf);
    T = split(t, tl, &nt);
    for (i = 0; i < nf; i++) {
        if (is(&F[i], '#'))
            break;                       /* rest, including nothing */
        if (i >= nt || (!is(&F[i], '+') &&
                        (F[i].n != T[i].n ||
                         (F[i].n && memcmp(F[i].p, T[i].p, F[i].n) != 0)))) {
            m = false;
            break;
        }
    }
    if (m && i == nf)
        m = nt == nf;
    free(F);
    free(T);
    return m;
}

static bool has_wild(const uint8_t *s, size_t n)
{
    return memchr(s, '+', n) || memchr(s, '#', n);
}

/* Checks one string on its own; returns whether it is a valid name and
 * sets *filter_ok. */
static bool check_string(const uint8_t *s, size_t n, bool *filter_ok)
{
    int u = mqtt_utf8_check(s, n);
    int nm = mqtt_topic_name_check(s, n);
    int fl = mqtt_topic_filter_check(s, n);

    CHECK(u == ref_utf8(s, n));
    if (n == 0) {
        CHECK(nm == -MQTT_E_TOPIC_EMPTY && fl == -MQTT_E_TOPIC_EMPTY);
    } else if (!has_wild(s, n)) {
        CHECK(nm == u && fl == u);       /* only UTF-8 can fail */
    } else {
        CHECK(nm == -MQTT_E_TOPIC_WILDCARD);
        CHECK(fl == 0 || fl == -MQTT_E_FILTER || fl == u);
    }
    CHECK(fl != 0 || u == 0);
    *filter_ok = fl == 0;
    return nm == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t k;
    uint8_t *f, *t;
    size_t fl, tl;
    bool f_filter, f_name, t_filter, t_name;

    if (size < 1)
        return 0;
    k = data[0];
    fl = k < size - 1 ? k : size - 1;
    tl = size - 1 - fl;
    /* Exact-size copies: any over-read is an ASan report. */
    f = malloc(fl ? fl : 1);
    t = malloc(tl ? tl : 1);
    CHECK(f && t);
    memcpy(f, data + 1, fl);
    memcpy(t, data + 1 + fl, tl);

    f_name = check_string(f, fl, &f_filter);
    t_name = check_string(t, tl, &t_filter);

    if (f_filter && t_name) {
        bool m = mqtt_topic_match(f, fl, t, tl);
        CHECK(m == ref_match(f, fl, t, tl));
        if (!has_wild(f, fl))
            CHECK(m == (fl == tl && memcmp(f, t, fl) == 0));
    }
    if (t_name) {
        CHECK(t_filter);                 /* a name is also a filter */
        CHECK(mqtt_topic_match(t, tl, t, tl));
        CHECK(mqtt_topic_match((const uint8_t *)"#", 1, t, tl) == (t[0] != '$'));
    }
    if (f_name)
        CHECK(f_filter);
    free(f);
    free(t);
    return 0;
}
