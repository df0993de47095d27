/* Topic names, filters, matching [MQTT-4.7] and UTF-8 strings [MQTT-1.5.3]. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "mqtt/packet.h"
#include "mqtt/topic.h"

struct match_case {
    const char *filter;
    const char *topic;
    bool match;
    const char *why;   /* spec statement or example */
};

static const struct match_case match_cases[] = {
    /* Section 4.7.1.2 examples for '#' */
    { "sport/tennis/player1/#", "sport/tennis/player1", true, "4.7.1.2 parent level" },
    { "sport/tennis/player1/#", "sport/tennis/player1/ranking", true, "4.7.1.2" },
    { "sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true, "4.7.1.2" },
    { "sport/tennis/player1/#", "sport/tennis/player2", false, "4.7.1.2" },
    { "sport/tennis/player1/#", "sport/tennis", false, "4.7.1.2" },
    { "sport/#", "sport", true, "4.7.1.2 '#' includes the parent" },
    { "sport/#", "sport/", true, "4.7.1.2 empty child level" },
    { "sport/#", "sports", false, "level boundary" },
    { "#", "sport/tennis", true, "4.7.1.2 '#' alone matches everything" },
    { "#", "/", true, "'#' matches empty levels" },
    { "#", "a", true, "single level" },
    /* Section 4.7.1.3 examples for '+' */
    { "sport/tennis/+", "sport/tennis/player1", true, "4.7.1.3" },
    { "sport/tennis/+", "sport/tennis/player2", true, "4.7.1.3" },
    { "sport/tennis/+", "sport/tennis/player1/ranking", false, "4.7.1.3 one level only" },
    { "sport/+", "sport", false, "4.7.1.3 '+' needs a level" },
    { "sport/+", "sport/", true, "4.7.1.3 '+' matches an empty level" },
    { "+/+", "/finance", true, "4.7.1.3" },
    { "/+", "/finance", true, "4.7.1.3" },
    { "+", "/finance", false, "4.7.1.3 two levels" },
    { "+", "finance", true, "single level" },
    { "+", "$", false, "[MQTT-4.7.2-1] bare $" },
    { "+/tennis/#", "sport/tennis/player1", true, "4.7.1.3 combination" },
    { "sport/+/player1", "sport/tennis/player1", true, "4.7.1.3 middle" },
    { "sport/+/player1", "sport/tennis/player2", false, "middle mismatch" },
    /* Section 4.7.2: '$' topics [MQTT-4.7.2-1] */
    { "#", "$SYS/x", false, "[MQTT-4.7.2-1]" },
    { "#", "$SYS", false, "[MQTT-4.7.2-1]" },
    { "+/monitor/Clients", "$SYS/monitor/Clients", false, "[MQTT-4.7.2-1]" },
    { "+", "$SYS", false, "[MQTT-4.7.2-1]" },
    { "$SYS/#", "$SYS/x", true, "4.7.2" },
    { "$SYS/#", "$SYS", true, "4.7.2 parent" },
    { "$SYS/monitor/+", "$SYS/monitor/Clients", true, "4.7.2" },
    { "$SYS/+", "$SYSTEM/x", false, "level boundary" },
    { "a/$b", "a/$b", true, "'$' only special at the start" },
    { "a/+", "a/$b", true, "'$' not first: wildcard matches" },
    { "a/#", "a/$b/c", true, "'$' not first: wildcard matches" },
    /* Empty levels are significant */
    { "a//b", "a//b", true, "empty level" },
    { "a//b", "a/b", false, "empty level" },
    { "a/b", "a//b", false, "empty level" },
    { "a/+/b", "a//b", true, "'+' matches the empty level" },
    { "/", "/", true, "two empty levels" },
    { "/", "", false, "one vs two levels" },
    { "+/+", "/", true, "two empty levels" },
    { "a/", "a", false, "trailing empty level" },
    { "a", "a/", false, "trailing empty level" },
    { "a/#", "a//", true, "'#' eats empty children" },
    /* Case, prefixes and plain literals */
    { "ACCOUNTS", "Accounts", false, "4.7.3 case sensitive" },
    { "Accounts payable", "Accounts payable", true, "4.7.3 spaces allowed" },
    { "a/b/c", "a/b/c", true, "literal" },
    { "a/b/c", "a/b", false, "filter longer" },
    { "a/b", "a/b/c", false, "topic longer" },
    { "a/b", "a/bc", false, "prefix" },
    { "ab", "a", false, "prefix" },
    { "+/+/+", "a/b/c", true, "all plus" },
    { "+/+/+", "a/b", false, "too few levels" },
    { "+/#", "a", true, "'+' then parent '#'" },
    { "+/#", "$a", false, "[MQTT-4.7.2-1]" },
    { "\xc3\xa9/+", "\xc3\xa9/x", true, "UTF-8 level" },
};

static void test_match_table(void **state)
{
    (void)state;
    size_t n = sizeof(match_cases) / sizeof(match_cases[0]);
    int bad = 0;

    assert_true(n >= 40);
    for (size_t i = 0; i < n; i++) {
        const struct match_case *c = &match_cases[i];
        bool got = mqtt_topic_match((const uint8_t *)c->filter, strlen(c->filter),
                                    (const uint8_t *)c->topic, strlen(c->topic));
        if (got != c->match) {
            print_error("match(\"%s\", \"%s\") = %d, want %d (%s)\n",
                        c->filter, c->topic, got, c->match, c->why);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

/* A topic that is a valid name matches itself used as a filter. */
static void test_match_self(void **state)
{
    (void)state;
    const char *t[] = { "a", "a/b", "/", "//", "a//b", "$SYS/x", " ", "\xe2\x82\xac" };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        assert_true(mqtt_topic_match((const uint8_t *)t[i], strlen(t[i]),
                                     (const uint8_t *)t[i], strlen(t[i])));
}

struct check_case {
    const char *s;
    size_t len;        /* 0: strlen */
    int name_rc;       /* mqtt_topic_name_check */
    int filter_rc;     /* mqtt_topic_filter_check */
};

#define S(x) x, sizeof(x) - 1

static const struct check_case check_cases[] = {
    { S("a"), 0, 0 },
    { S("a/b/c"), 0, 0 },
    { S("/"), 0, 0 },
    { S("a//b"), 0, 0 },
    { S("$SYS/broker"), 0, 0 },
    { S(" "), 0, 0 },
    { "", 0, -MQTT_E_TOPIC_EMPTY, -MQTT_E_TOPIC_EMPTY },         /* [MQTT-4.7.3-1] */
    { S("#"), -MQTT_E_TOPIC_WILDCARD, 0 },                    /* [MQTT-3.3.2-2] */
    { S("+"), -MQTT_E_TOPIC_WILDCARD, 0 },
    { S("a/#"), -MQTT_E_TOPIC_WILDCARD, 0 },
    { S("a/+/b"), -MQTT_E_TOPIC_WILDCARD, 0 },
    { S("+/+"), -MQTT_E_TOPIC_WILDCARD, 0 },
    { S("/+"), -MQTT_E_TOPIC_WILDCARD, 0 },
    { S("+/"), -MQTT_E_TOPIC_WILDCARD, 0 },
    { S("/#"), -MQTT_E_TOPIC_WILDCARD, 0 },
    { S("+/#"), -MQTT_E_TOPIC_WILDCARD, 0 },
    { S("a#"), -MQTT_E_TOPIC_WILDCARD, -MQTT_E_FILTER },       /* [MQTT-4.7.1-2] */
    { S("#/a"), -MQTT_E_TOPIC_WILDCARD, -MQTT_E_FILTER },      /* [MQTT-4.7.1-2] */
    { S("a/#/b"), -MQTT_E_TOPIC_WILDCARD, -MQTT_E_FILTER },
    { S("a/##"), -MQTT_E_TOPIC_WILDCARD, -MQTT_E_FILTER },
    { S("sport/tennis#"), -MQTT_E_TOPIC_WILDCARD, -MQTT_E_FILTER },
    { S("a+"), -MQTT_E_TOPIC_WILDCARD, -MQTT_E_FILTER },       /* [MQTT-4.7.1-3] */
    { S("+a"), -MQTT_E_TOPIC_WILDCARD, -MQTT_E_FILTER },
    { S("a/b+/c"), -MQTT_E_TOPIC_WILDCARD, -MQTT_E_FILTER },
    { S("sport+"), -MQTT_E_TOPIC_WILDCARD, -MQTT_E_FILTER },
    { S("++"), -MQTT_E_TOPIC_WILDCARD, -MQTT_E_FILTER },
    { S("+#"), -MQTT_E_TOPIC_WILDCARD, -MQTT_E_FILTER },
    { S("a\0b"), -MQTT_E_UTF8_NUL, -MQTT_E_UTF8_NUL },         /* [MQTT-1.5.3-2] */
    { S("a/\xed\xa0\x80"), -MQTT_E_UTF8, -MQTT_E_UTF8 },       /* [MQTT-1.5.3-1] */
    { S("+/\xc0\x80"), -MQTT_E_TOPIC_WILDCARD, -MQTT_E_UTF8 },
};

static void test_name_filter_checks(void **state)
{
    (void)state;
    int bad = 0;

    for (size_t i = 0; i < sizeof(check_cases) / sizeof(check_cases[0]); i++) {
        const struct check_case *c = &check_cases[i];
        const uint8_t *p = (const uint8_t *)c->s;
        int n = mqtt_topic_name_check(p, c->len);
        int f = mqtt_topic_filter_check(p, c->len);
        if (n != c->name_rc || f != c->filter_rc) {
            print_error("row %zu: name %d (want %d) filter %d (want %d)\n",
                        i, n, c->name_rc, f, c->filter_rc);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

struct utf8_case {
    const char *s;
    size_t len;
    int rc;
    const char *why;
};

static const struct utf8_case utf8_cases[] = {
    { S("hello"), 0, "ASCII" },
    { "", 0, 0, "empty" },
    { S("\x01\x1f\x7f"), 0, "controls are allowed (SHOULD NOT only) [MQTT-1.5.3-3]" },
    { S("\xc2\x80"), 0, "U+0080 smallest 2-byte" },
    { S("\xdf\xbf"), 0, "U+07FF largest 2-byte" },
    { S("\xe0\xa0\x80"), 0, "U+0800 smallest 3-byte" },
    { S("\xed\x9f\xbf"), 0, "U+D7FF just below surrogates" },
    { S("\xee\x80\x80"), 0, "U+E000 just above surrogates" },
    { S("\xef\xbb\xbf"), 0, "U+FEFF BOM is kept [MQTT-1.5.3-3]" },
    { S("\xef\xbf\xbf"), 0, "U+FFFF" },
    { S("\xf0\x90\x80\x80"), 0, "U+10000 smallest 4-byte" },
    { S("\xf4\x8f\xbf\xbf"), 0, "U+10FFFF largest valid" },
    { S("\xe2\x82\xac/\xf0\x9f\x98\x80"), 0, "mixed" },
    { S("\0"), -MQTT_E_UTF8_NUL, "U+0000 [MQTT-1.5.3-2]" },
    { S("ab\0"), -MQTT_E_UTF8_NUL, "U+0000 at end [MQTT-1.5.3-2]" },
    { S("\xc0\x80"), -MQTT_E_UTF8, "overlong U+0000 [MQTT-1.5.3-1]" },
    { S("\xc1\xbf"), -MQTT_E_UTF8, "overlong U+007F" },
    { S("\xe0\x80\x80"), -MQTT_E_UTF8, "overlong 3-byte" },
    { S("\xe0\x9f\xbf"), -MQTT_E_UTF8, "overlong U+07FF" },
    { S("\xf0\x80\x80\x80"), -MQTT_E_UTF8, "overlong 4-byte" },
    { S("\xf0\x8f\xbf\xbf"), -MQTT_E_UTF8, "overlong U+FFFF" },
    { S("\xed\xa0\x80"), -MQTT_E_UTF8, "U+D800 surrogate [MQTT-1.5.3-1]" },
    { S("\xed\xbf\xbf"), -MQTT_E_UTF8, "U+DFFF surrogate [MQTT-1.5.3-1]" },
    { S("\xed\xa0\xbd\xed\xb8\x80"), -MQTT_E_UTF8, "CESU-8 surrogate pair" },
    { S("\xf4\x90\x80\x80"), -MQTT_E_UTF8, "U+110000 above max" },
    { S("\xf5\x80\x80\x80"), -MQTT_E_UTF8, "F5 lead" },
    { S("\xff"), -MQTT_E_UTF8, "FF" },
    { S("\xfe"), -MQTT_E_UTF8, "FE" },
    { S("\x80"), -MQTT_E_UTF8, "lone continuation" },
    { S("a\xbf"), -MQTT_E_UTF8, "lone continuation after ASCII" },
    { S("\xc3"), -MQTT_E_UTF8, "truncated 2-byte" },
    { S("\xe2\x82"), -MQTT_E_UTF8, "truncated 3-byte" },
    { S("\xf0\x9f\x98"), -MQTT_E_UTF8, "truncated 4-byte" },
    { S("\xc3\x28"), -MQTT_E_UTF8, "bad continuation" },
    { S("\xe2\x28\xa1"), -MQTT_E_UTF8, "bad 2nd of 3" },
    { S("\xe2\x82\x28"), -MQTT_E_UTF8, "bad 3rd of 3" },
    { S("\xf0\x9f\x28\x80"), -MQTT_E_UTF8, "bad 3rd of 4" },
    { S("\xf0\x9f\x98\x28"), -MQTT_E_UTF8, "bad 4th of 4" },
};

static void test_utf8_table(void **state)
{
    (void)state;
    int bad = 0;

    for (size_t i = 0; i < sizeof(utf8_cases) / sizeof(utf8_cases[0]); i++) {
        const struct utf8_case *c = &utf8_cases[i];
        int rc = mqtt_utf8_check((const uint8_t *)c->s, c->len);
        if (rc != c->rc) {
            print_error("utf8 row %zu (%s): %d, want %d\n", i, c->why, rc, c->rc);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

/* The checker must not read past len: a valid lead byte whose continuation
 * lies just beyond len is a truncation, whatever follows in memory. */
static void test_utf8_respects_len(void **state)
{
    (void)state;
    const uint8_t s[] = { 'a', 0xc3, 0xa9 };
    assert_int_equal(mqtt_utf8_check(s, 2), -MQTT_E_UTF8);
    assert_int_equal(mqtt_utf8_check(s, 3), 0);
    assert_int_equal(mqtt_utf8_check(s, 1), 0);
    const uint8_t z[] = { 'a', 0 };
    assert_int_equal(mqtt_utf8_check(z, 1), 0);
}

/* Every 1..3-byte sequence classified against the Unicode definition:
 * decode arithmetically, then demand the code point be in range for its
 * length, not a surrogate, and not above U+10FFFF. */
static int utf8_reference(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        size_t n;
        uint8_t b = s[i];
        if (b < 0x80) { cp = b; n = 0; }
        else if ((b & 0xE0) == 0xC0) { cp = b & 0x1F; n = 1; }
        else if ((b & 0xF0) == 0xE0) { cp = b & 0x0F; n = 2; }
        else if ((b & 0xF8) == 0xF0) { cp = b & 0x07; n = 3; }
        else return -MQTT_E_UTF8;
        if (len - i - 1 < n)
            return -MQTT_E_UTF8;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return -MQTT_E_UTF8;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        static const uint32_t min[4] = { 0, 0x80, 0x800, 0x10000 };
        if (cp < min[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return -MQTT_E_UTF8;
        if (cp == 0)
            return -MQTT_E_UTF8_NUL;
        i += n + 1;
    }
    return 0;
}

static void test_utf8_exhaustive_3byte(void **state)
{
    (void)state;
    uint8_t s[3];
    for (unsigned a = 0; a < 256; a++)
        for (unsigned b = 0; b < 256; b++)
            for (unsigned c = 0; c < 256; c++) {
                s[0] = (uint8_t)a; s[1] = (uint8_t)b; s[2] = (uint8_t)c;
                int want = utf8_reference(s, 3), got = mqtt_utf8_check(s, 3);
                if (want != got)
                    fail_msg("%02x %02x %02x: got %d want %d", a, b, c, got, want);
            }
}

/* 4-byte sequences: every lead F0..F7 with every 2nd byte and sample tails. */
static void test_utf8_4byte_leads(void **state)
{
    (void)state;
    uint8_t s[4];
    static const uint8_t tails[] = { 0x00, 0x41, 0x7f, 0x80, 0xbf, 0xc0, 0xff };
    for (unsigned a = 0xF0; a < 0x100; a++)
        for (unsigned b = 0; b < 256; b++)
            for (size_t c = 0; c < sizeof(tails); c++)
                for (size_t d = 0; d < sizeof(tails); d++) {
                    s[0] = (uint8_t)a; s[1] = (uint8_t)b;
                    s[2] = tails[c]; s[3] = tails[d];
                    int want = utf8_reference(s, 4), got = mqtt_utf8_check(s, 4);
                    if (want != got)
                        fail_msg("%02x %02x %02x %02x: got %d want %d",
                                 s[0], s[1], s[2], s[3], got, want);
                }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match_table),
        cmocka_unit_test(test_match_self),
        cmocka_unit_test(test_name_filter_checks),
        cmocka_unit_test(test_utf8_table),
        cmocka_unit_test(test_utf8_respects_len),
        cmocka_unit_test(test_utf8_exhaustive_3byte),
        cmocka_unit_test(test_utf8_4byte_leads),
    };
    return cmocka_run_group_tests_name("mqtt_topic", tests, NULL, NULL);
}
