/* user/auth/acl*.c: mosquitto acl_file semantics plus connect-from and
 * clientid. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth/acl.h"
#include "auth/acl_internal.h"
#include "mqtt/topic.h"

static const char acl_text[] =
    "# Anonymous clients: the lines before the first user line.\n"
    "topic read public/#\n"
    "topic deny public/secret\n"
    "connect-from 198.18.0.0/15\n"
    "\n"
    "user alice\n"
    "topic readwrite alice/#\n"
    "topic read shared/+/status\n"
    "topic deny alice/private/#\n"
    "topic write cmd/alice\n"
    "connect-from 198.18.1.0/24 2001:2::/48\n"
    "clientid alice-*\n"
    "clientid %u.backup\n"
    "\r\n"
    "user bob\n"
    "topic bob/#\r\n"
    "topic  read   with space/x  \n"
    "clientid \\*literal\\*\n"
    "\n"
    "user sys\n"
    "topic read $SYS/#\n"
    "topic read #\n"
    "\n"
    "user all\n"
    "topic read #\n"
    "\n"
    "user bob smith\n"
    "topic read\n"
    "\n"
    "pattern readwrite devices/%u/#\n"
    "pattern write clients/%c/state\n"
    "pattern deny devices/%u/locked\n"
    "pattern read shared/%c/%u\n"
    "pattern deny %u/blocked\n"
    "pattern read fw/%c-%u/x\n"
    "\n"
    "# A second block for alice continues the first, as in mosquitto.\n"
    "user alice\n"
    "topic read extra/alice\n";

static struct acl *load_fixture(void)
{
    char err[512] = "";
    struct acl *a = acl_parse("acl", acl_text, strlen(acl_text), err, sizeof(err));
    if (!a)
        fail_msg("fixture refused: %s", err);
    return a;
}

enum { R = ACL_READ, W = ACL_WRITE };

struct check_case {
    const char *user;      /* NULL: anonymous */
    const char *cid;
    const char *topic;
    int access;
    bool allow;
    const char *why;
};

static const struct check_case check_cases[] = {
    /* anonymous block */
    { NULL, "c1", "public/x", R, true, "anonymous topic read" },
    { NULL, "c1", "public", R, true, "'#' includes the parent level [MQTT-4.7.1-2]" },
    { NULL, "c1", "public/x", W, false, "read-only rule" },
    { NULL, "c1", "public/secret", R, false, "deny before allow" },
    { NULL, "c1", "public/secret/x", R, true, "deny is exact, no wildcard" },
    { NULL, "c1", "clients/c1/state", W, true, "%c pattern applies to anonymous" },
    { NULL, "c1", "clients/c2/state", W, false, "other client id" },
    { NULL, "c1", "devices//x", R, false, "%u pattern never matches anonymous" },
    { NULL, "c1", "alice/x", R, false, "user rules are not anonymous rules" },
    /* alice's block */
    { "alice", "alice-1", "alice/a", R, true, "readwrite" },
    { "alice", "alice-1", "alice/a/b", W, true, "readwrite, '#'" },
    { "alice", "alice-1", "alice", W, true, "'#' includes parent" },
    { "alice", "alice-1", "alice/private", R, false, "deny alice/private/# covers parent" },
    { "alice", "alice-1", "alice/private/k", W, false, "deny first" },
    { "alice", "alice-1", "shared/x/status", R, true, "'+'" },
    { "alice", "alice-1", "shared/x/y/status", R, false, "'+' is one level" },
    { "alice", "alice-1", "shared/x/status", W, false, "read only" },
    { "alice", "alice-1", "cmd/alice", W, true, "write only" },
    { "alice", "alice-1", "cmd/alice", R, false, "write only" },
    { "alice", "alice-1", "extra/alice", R, true, "second user alice block" },
    { "alice", "alice-1", "public/x", R, false, "anonymous rules are not alice's" },
    { "alice", "alice-1", "devices/alice/t", W, true, "pattern %u" },
    { "alice", "alice-1", "devices/alice/locked", R, false, "pattern deny first" },
    { "alice", "alice-1", "devices/bob/t", R, false, "someone else's %u" },
    { "alice", "alice-1", "shared/alice-1/alice", R, true, "%c and %u together" },
    { "alice", "alice-1", "shared/alice/alice-1", R, false, "order matters" },
    { "alice", "alice-1", "fw/alice-1-alice/x", R, true, "substitution inside a level" },
    { "alice", "alice-1", "alice/blocked", R, true,
      "user rules are checked before patterns, even pattern denies (mosquitto)" },
    { "alice", "alice-1", "$SYS/broker/uptime", R, false, "not granted" },
    /* $SYS and '#' [MQTT-4.7.2-1] */
    { "sys", "s", "$SYS/broker/uptime", R, true, "explicit $SYS rule" },
    { "sys", "s", "any/topic", R, true, "'#'" },
    { "all", "a", "any/topic", R, true, "'#'" },
    { "all", "a", "$SYS/broker/uptime", R, false, "'#' does not match $ topics" },
    { "all", "a", "any/topic", W, false, "read only" },
    /* bob: rule without access word; blanks inside a filter */
    { "bob", "b", "bob/x", W, true, "no access word means readwrite" },
    { "bob", "b", "bob/x", R, true, "no access word means readwrite" },
    { "bob", "b", "with space/x", R, true, "filter is the rest of the line" },
    { "bob", "b", "bob/blocked", R, true, "user rule before pattern deny" },
    { "bob smith", "b", "read", R, true, "'topic read' is topic 'read' (mosquitto)" },
    { "bob smith", "b", "read", W, true, "... with readwrite" },
    /* users without a block: patterns only */
    { "eve", "e1", "devices/eve/x", W, true, "pattern for a user without block" },
    { "eve", "e1", "eve/blocked", R, false, "pattern deny" },
    { "eve", "e1", "public/x", R, false, "default deny" },
    { "", "e1", "devices//x", R, true, "empty user name substitutes empty" },
    /* dangerous names: '+', '#', '/' in a substituted value */
    { "a/b", "x", "devices/a/b/x", R, false, "'/' in user name" },
    { "x+", "x", "devices/x+/y", R, false, "'+' in user name" },
    { "x#", "x", "devices/x#/y", R, false, "'#' in user name" },
    { NULL, "c/1", "clients/c/1/state", W, false, "'/' in client id" },
    { NULL, "c+", "clients/c+/state", W, false, "'+' in client id" },
    { "alice", "bad/cid", "alice/a", R, true, "user rules still apply" },
    { "alice", "bad/cid", "devices/alice/t", R, false, "patterns refused" },
};

static void test_check_table(void **state)
{
    struct acl *a = load_fixture();
    for (size_t i = 0; i < sizeof(check_cases) / sizeof(check_cases[0]); i++) {
        const struct check_case *c = &check_cases[i];
        bool got = acl_check(a, c->user, c->cid, (const uint8_t *)c->topic,
                             strlen(c->topic), c->access);
        if (got != c->allow)
            fail_msg("case %zu (%s): user %s cid %s %s %s: got %s", i, c->why,
                     c->user ? c->user : "(anon)", c->cid, c->access == R ? "read" : "write",
                     c->topic, got ? "allow" : "deny");
        /* The cached-block path decides the same. */
        const struct acl_user *u = acl_user_find(a, c->user);
        assert_int_equal(acl_check_user(a, u, c->user, c->cid, (const uint8_t *)c->topic,
                                        strlen(c->topic), c->access), got);
    }
    assert_int_equal(acl_user_count(a), 5);
    assert_int_equal(acl_rule_count(a), 19);   /* 2 anon, 5+2+2+1+1 users, 6 patterns */
    acl_free(a);
}

struct sub_case {
    const char *user, *cid, *filter;
    bool allow;
    const char *why;
};

static const struct sub_case sub_cases[] = {
    { "alice", "alice-1", "alice/#", true, "covered by alice/#" },
    { "alice", "alice-1", "alice/+/x", true, "covered by alice/#" },
    { "alice", "alice-1", "alice/private/#", false, "covered by a deny" },
    { "alice", "alice-1", "alice/private", false, "covered by a deny (parent)" },
    { "alice", "alice-1", "shared/+/status", true, "same filter" },
    { "alice", "alice-1", "shared/x/status", true, "narrower" },
    { "alice", "alice-1", "shared/#", false, "wider than shared/+/status" },
    { "alice", "alice-1", "shared/+/+", false, "wider" },
    { "alice", "alice-1", "cmd/alice", false, "write-only rule does not grant read" },
    { "alice", "alice-1", "#", false, "wider than anything alice has" },
    { "alice", "alice-1", "devices/alice/#", true, "pattern readwrite devices/%u/#" },
    { "alice", "alice-1", "devices/alice/locked", false, "pattern deny" },
    { "alice", "alice-1", "devices/+/t", false, "'+' is wider than %u" },
    { "alice", "alice-1", "shared/alice-1/alice", true, "pattern read %c/%u" },
    { "sys", "s", "#", true, "covered by '#'" },
    { "sys", "s", "$SYS/#", true, "covered by $SYS/#" },
    { "all", "a", "#", true, "covered by '#'" },
    { "all", "a", "+/x", true, "covered by '#'" },
    { "all", "a", "$SYS/#", false, "'#' does not cover $SYS [MQTT-4.7.2-1]" },
    { "all", "a", "$SYS/broker/uptime", false, "'#' does not cover $SYS [MQTT-4.7.2-1]" },
    { NULL, "c1", "public/#", true, "anonymous read" },
    { NULL, "c1", "public/secret", false, "anonymous deny" },
    { NULL, "c1", "public/+", true, "deny public/secret does not cover public/+" },
    { "eve", "e1", "devices/eve/+", true, "pattern" },
    { "a/b", "x", "devices/a/b/#", false, "dangerous user name" },
};

static void test_subscribe_table(void **state)
{
    struct acl *a = load_fixture();
    for (size_t i = 0; i < sizeof(sub_cases) / sizeof(sub_cases[0]); i++) {
        const struct sub_case *c = &sub_cases[i];
        bool got = acl_check_subscribe(a, c->user, c->cid, (const uint8_t *)c->filter,
                                       strlen(c->filter));
        if (got != c->allow)
            fail_msg("case %zu (%s): user %s subscribe %s: got %s", i, c->why,
                     c->user ? c->user : "(anon)", c->filter, got ? "allow" : "deny");
    }
    acl_free(a);
}

static enum acl_connect conn(const struct acl *a, const char *user, const char *cid,
                             const char *ip)
{
    uint8_t addr[16];
    int fam = strchr(ip, ':') ? AF_INET6 : AF_INET;
    assert_int_equal(inet_pton(fam, ip, addr), 1);
    return acl_connect_allowed(a, user, cid, fam, addr);
}

static void test_connect(void **state)
{
    struct acl *a = load_fixture();
    /* connect-from, IPv4 and IPv6 */
    assert_int_equal(conn(a, "alice", "alice-1", "198.18.1.5"), ACL_CONNECT_OK);
    assert_int_equal(conn(a, "alice", "alice-1", "198.18.1.255"), ACL_CONNECT_OK);
    assert_int_equal(conn(a, "alice", "alice-1", "198.18.2.5"), ACL_CONNECT_SOURCE);
    assert_int_equal(conn(a, "alice", "alice-1", "2001:2::1"), ACL_CONNECT_OK);
    assert_int_equal(conn(a, "alice", "alice-1", "2001:2:0:ffff::1"), ACL_CONNECT_OK);
    assert_int_equal(conn(a, "alice", "alice-1", "2001:3::1"), ACL_CONNECT_SOURCE);
    assert_int_equal(conn(a, "alice", "alice-1", "::ffff:198.18.1.5"), ACL_CONNECT_OK);
    assert_int_equal(conn(a, "alice", "alice-1", "::ffff:198.18.9.5"), ACL_CONNECT_SOURCE);
    assert_int_equal(conn(a, "alice", "alice-1", "::1"), ACL_CONNECT_SOURCE);
    /* clientid patterns */
    assert_int_equal(conn(a, "alice", "alice-", "198.18.1.5"), ACL_CONNECT_OK);
    assert_int_equal(conn(a, "alice", "alice-x-y", "198.18.1.5"), ACL_CONNECT_OK);
    assert_int_equal(conn(a, "alice", "alice.backup", "198.18.1.5"), ACL_CONNECT_OK);
    assert_int_equal(conn(a, "alice", "alice.backupx", "198.18.1.5"), ACL_CONNECT_CLIENTID);
    assert_int_equal(conn(a, "alice", "alice", "198.18.1.5"), ACL_CONNECT_CLIENTID);
    assert_int_equal(conn(a, "alice", "bob", "198.18.1.5"), ACL_CONNECT_CLIENTID);
    /* source is checked first */
    assert_int_equal(conn(a, "alice", "bob", "10.0.0.1"), ACL_CONNECT_SOURCE);
    /* escaped stars are literal */
    assert_int_equal(conn(a, "bob", "*literal*", "10.0.0.1"), ACL_CONNECT_OK);
    assert_int_equal(conn(a, "bob", "xliteralx", "10.0.0.1"), ACL_CONNECT_CLIENTID);
    /* anonymous block's connect-from */
    assert_int_equal(conn(a, NULL, "c1", "198.19.255.1"), ACL_CONNECT_OK);
    assert_int_equal(conn(a, NULL, "c1", "198.20.0.1"), ACL_CONNECT_SOURCE);
    /* no block, or a block without restrictions */
    assert_int_equal(conn(a, "eve", "anything", "10.0.0.1"), ACL_CONNECT_OK);
    assert_int_equal(conn(a, "sys", "anything", "2001:db8::1"), ACL_CONNECT_OK);
    acl_free(a);
}

static bool cid_match(const char *pat, const char *user, const char *cid)
{
    struct acl_cidpat p;
    char err[128];
    if (acl_cidpat_compile(pat, strlen(pat), &p, err, sizeof(err)) < 0)
        fail_msg("'%s': %s", pat, err);
    bool m = acl_cidpat_match(&p, user, cid, strlen(cid));
    acl_cidpat_free(&p);
    return m;
}

static void test_clientid_patterns(void **state)
{
    assert_true(cid_match("abc", "u", "abc"));
    assert_false(cid_match("abc", "u", "abcd"));
    assert_false(cid_match("abc", "u", "ab"));
    assert_true(cid_match("*", "u", ""));
    assert_true(cid_match("*", "u", "anything"));
    assert_true(cid_match("a*c", "u", "ac"));
    assert_true(cid_match("a*c", "u", "abbbc"));
    assert_false(cid_match("a*c", "u", "abbbcd"));
    assert_true(cid_match("*a*a*", "u", "xaxxa"));
    assert_false(cid_match("*a*a*", "u", "xaxx"));
    assert_true(cid_match("%u-*", "plc7", "plc7-1"));
    assert_false(cid_match("%u-*", "plc7", "plc8-1"));
    assert_true(cid_match("*-%u", "ab", "x-ab-ab"));
    assert_false(cid_match("%u", NULL, ""));          /* %u never matches anonymous */
    assert_true(cid_match("\\%u", NULL, "%u"));       /* escaped */
    assert_true(cid_match("100%", NULL, "100%"));      /* lone % is literal */
    assert_true(cid_match("a\\\\b", NULL, "a\\b"));
    assert_true(cid_match("**x", NULL, "x"));
    char err[128];
    struct acl_cidpat p;
    assert_int_equal(acl_cidpat_compile("a\\b", 3, &p, err, sizeof(err)), -1);
    assert_int_equal(acl_cidpat_compile("a\\", 2, &p, err, sizeof(err)), -1);
    assert_int_equal(acl_cidpat_compile("", 0, &p, err, sizeof(err)), -1);
    assert_int_equal(acl_cidpat_compile("a\x01", 2, &p, err, sizeof(err)), -1);
    assert_int_equal(acl_cidpat_compile("\xff", 1, &p, err, sizeof(err)), -1);
}

struct bad_case {
    const char *line;
    const char *msg;
};

static const struct bad_case bad_cases[] = {
    { "topic", "topic: missing topic filter" },
    { "pattern   ", "pattern: missing topic filter" },
    { "topic foo bar", "access 'foo' is not read, write, readwrite or deny" },
    { "topic READ a", "access 'READ'" },
    { "topic read a/#/b", "'a/#/b' is not a valid topic filter" },
    { "topic read a+", "not a valid topic filter" },
    { "pattern write x/%u+", "not a valid topic filter" },
    { "topic read a/\xc0\xaf", "not a valid topic filter" },
    { "user", "user: missing user name" },
    { "user   ", "user: missing user name" },
    { "user \xff", "not valid UTF-8" },
    { "bogus x", "unknown keyword 'bogus'" },
    { "Topic read a", "unknown keyword 'Topic'" },
    { "connect-from", "connect-from: expected one or more CIDRs" },
    { "connect-from 10.0.0.1/8", "connect-from '10.0.0.1/8': host bits set" },
    { "connect-from 198.18.0.0/15 300.1.1.1", "connect-from '300.1.1.1'" },
    { "connect-from 2001:2::/129", "connect-from '2001:2::/129'" },
    { "clientid", "clientid: empty pattern" },
    { "clientid a\\b", "must precede" },
};

static void test_parse_errors(void **state)
{
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        char text[256], err[512] = "";
        /* Two good lines first, so the line number is checked. */
        snprintf(text, sizeof(text), "# comment\nuser x\n%s\ntopic ok\n", bad_cases[i].line);
        struct acl *a = acl_parse("f.acl", text, strlen(text), err, sizeof(err));
        if (a)
            fail_msg("case %zu accepted: %s", i, bad_cases[i].line);
        if (strncmp(err, "f.acl:3: ", 9) != 0 || !strstr(err, bad_cases[i].msg))
            fail_msg("case %zu: '%s' lacks 'f.acl:3: ...%s'", i, err, bad_cases[i].msg);
    }
    /* a NUL byte */
    char err[256];
    static const char nul[] = "topic a\0b\n";
    assert_null(acl_parse("f.acl", nul, sizeof(nul) - 1, err, sizeof(err)));
    assert_non_null(strstr(err, "f.acl:1: NUL"));
}

static void test_empty_and_default_deny(void **state)
{
    char err[256];
    struct acl *a = acl_parse("e", "", 0, err, sizeof(err));
    assert_non_null(a);
    assert_false(acl_check(a, NULL, "c", (const uint8_t *)"a", 1, R));
    assert_false(acl_check(a, "u", "c", (const uint8_t *)"a", 1, W));
    assert_false(acl_check_subscribe(a, "u", "c", (const uint8_t *)"#", 1));
    assert_int_equal(acl_connect_allowed(a, "u", "c", AF_INET, (const uint8_t *)"\x0a\0\0\1"),
                     ACL_CONNECT_OK);
    acl_free(a);
    /* comments only; tabs as separators */
    static const char t2[] = "#x\n   # indented\n\ttopic\tread\tt/1\n";
    a = acl_parse("e", t2, strlen(t2), err, sizeof(err));
    if (!a)
        fail_msg("%s", err);
    assert_true(acl_check(a, NULL, "c", (const uint8_t *)"t/1", 3, R));
    assert_false(acl_check(a, NULL, "c", (const uint8_t *)"t/1", 3, W));
    acl_free(a);
}

static void test_load_file(void **state)
{
    char path[] = "/tmp/moat-acl-XXXXXX", err[256];
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, acl_text, strlen(acl_text)), (ssize_t)strlen(acl_text));
    close(fd);
    struct acl *a = acl_load(path, err, sizeof(err));
    if (!a)
        fail_msg("%s", err);
    assert_true(acl_check(a, "alice", "alice-1", (const uint8_t *)"alice/a", 7, W));
    acl_free(a);
    fd = open(path, O_WRONLY | O_TRUNC);
    assert_int_equal(write(fd, "user a\ntopic read x\nwat\n", 24), 24);
    close(fd);
    assert_null(acl_load(path, err, sizeof(err)));
    char want[64];
    snprintf(want, sizeof(want), "%s:3: unknown keyword 'wat'", path);
    assert_int_equal(strncmp(err, want, strlen(want)), 0);
    unlink(path);
    assert_null(acl_load(path, err, sizeof(err)));
    assert_non_null(strstr(err, "No such file"));
}

/* The subscription walker agrees with mqtt_topic_match() on topic names,
 * for plain (non-pattern) rules. */
static void test_covers_matches_topic_match(void **state)
{
    static const char *filters[] = { "#", "+", "a", "a/#", "a/+", "+/b", "a/b", "a/+/c",
                                     "+/+", "$SYS/#", "$SYS/+", "/#", "+/", "a//b", "" };
    static const char *topics[] = { "a", "a/b", "a/b/c", "b", "/", "//", "a//b", "$SYS",
                                    "$SYS/x", "$x/a", "a/", "/a" };
    for (size_t f = 0; filters[f][0]; f++) {
        struct acl_rule r = { .filter = (char *)filters[f], .flen = strlen(filters[f]) };
        for (size_t t = 0; t < sizeof(topics) / sizeof(topics[0]); t++) {
            const uint8_t *tp = (const uint8_t *)topics[t];
            bool want = mqtt_topic_match((const uint8_t *)r.filter, r.flen, tp,
                                         strlen(topics[t]));
            bool got = acl_rule_covers(&r, NULL, 0, "", 0, tp, strlen(topics[t]));
            if (got != want)
                fail_msg("filter %s topic %s: covers %d, match %d", r.filter, topics[t],
                         got, want);
        }
    }
}

/* Rule covers subscription filter: the subscription-side wildcards. */
static void test_covers_filters(void **state)
{
    static const struct { const char *rule, *sub; bool covers; } cases[] = {
        { "a/+", "a/+", true },   { "a/+", "a/#", false }, { "+", "#", false },
        { "+", "+", true },       { "#", "#", true },      { "#", "+/+/#", true },
        { "a/#", "a/+/#", true }, { "a/#", "a", true },    { "a/#", "#", false },
        { "a/b", "a/+", false },  { "+/b", "+/b", true },  { "+/b", "+/#", false },
        { "a/+/c", "a/+/c", true }, { "a/+/c", "a/b/+", false },
        { "$SYS/#", "$SYS/+", true }, { "+/x", "$SYS/x", false },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct acl_rule r = { .filter = (char *)cases[i].rule, .flen = strlen(cases[i].rule) };
        bool got = acl_rule_covers(&r, NULL, 0, "", 0, (const uint8_t *)cases[i].sub,
                                   strlen(cases[i].sub));
        if (got != cases[i].covers)
            fail_msg("rule %s sub %s: got %d", cases[i].rule, cases[i].sub, got);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_table),
        cmocka_unit_test(test_subscribe_table),
        cmocka_unit_test(test_connect),
        cmocka_unit_test(test_clientid_patterns),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_empty_and_default_deny),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_covers_matches_topic_match),
        cmocka_unit_test(test_covers_filters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
