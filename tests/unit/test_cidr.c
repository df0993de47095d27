/* user/xdp/cidr.c: what operators type into moatctl block/allow. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>

#include "moat_abi.h"
#include "xdp/cidr.h"

static void ok_cidr(const char *in, int fam, int plen, const char *addr, const char *fmt)
{
    struct moat_cidr c;
    char err[256] = "", txt[MOAT_CIDR_STRLEN];
    if (moat_cidr_parse(in, &c, err, sizeof(err)) != 0)
        fail_msg("'%s' refused: %s", in, err);
    assert_int_equal(c.family, fam);
    assert_int_equal(c.prefixlen, plen);
    uint8_t want[16] = { 0 };
    assert_int_equal(inet_pton(fam == 4 ? AF_INET : AF_INET6, addr, want), 1);
    assert_memory_equal(c.addr, want, 16);
    assert_string_equal(moat_cidr_format(&c, txt, sizeof(txt)), fmt);
}

static void bad_cidr(const char *in, const char *msg_part)
{
    struct moat_cidr c;
    memset(&c, 0xab, sizeof(c));
    struct moat_cidr before = c;
    char err[256] = "";
    if (moat_cidr_parse(in, &c, err, sizeof(err)) != -1)
        fail_msg("'%s' accepted", in);
    if (!strstr(err, msg_part))
        fail_msg("'%s': message '%s' lacks '%s'", in, err, msg_part);
    assert_memory_equal(&c, &before, sizeof(c));     /* out untouched */
}

static void test_cidr_ipv4(void **s)
{
    ok_cidr("203.0.113.0/24", 4, 24, "203.0.113.0", "203.0.113.0/24");
    ok_cidr("198.18.0.1", 4, 32, "198.18.0.1", "198.18.0.1/32");
    ok_cidr("0.0.0.0/0", 4, 0, "0.0.0.0", "0.0.0.0/0");
    ok_cidr("198.18.0.0/15", 4, 15, "198.18.0.0", "198.18.0.0/15");
}

static void test_cidr_ipv6(void **s)
{
    ok_cidr("2001:2::/48", 6, 48, "2001:2::", "2001:2::/48");
    ok_cidr("2001:2::1", 6, 128, "2001:2::1", "2001:2::1/128");
    ok_cidr("::/0", 6, 0, "::", "::/0");
    ok_cidr("2001:2:0:10::/60", 6, 60, "2001:2:0:10::", "2001:2:0:10::/60");
}

static void test_cidr_errors(void **s)
{
    bad_cidr("", "empty");
    bad_cidr("203.0.113.0/33", "0-32");
    bad_cidr("2001:2::/129", "0-128");
    bad_cidr("203.0.113.0/", "1-3 digits");
    bad_cidr("203.0.113.0/2x", "decimal");
    bad_cidr("203.0.113.0/-1", "decimal");
    bad_cidr("203.0.113.0/+8", "decimal");
    bad_cidr("203.0.113.0/024", "leading zero");
    bad_cidr("203.0.113.0/1234", "1-3 digits");
    bad_cidr("203.0.113.5/24", "did you mean 203.0.113.0/24");
    bad_cidr("2001:2::1/48", "did you mean 2001:2::/48");
    bad_cidr("198.18.0.0/14", "did you mean 198.16.0.0/14");
    bad_cidr("256.1.1.1", "not an IPv4");
    bad_cidr("1.2.3", "not an IPv4");
    bad_cidr("01.2.3.4", "not an IPv4");
    bad_cidr("fe80::1%eth0", "not an IPv6");
    bad_cidr("2001:::1", "not an IPv6");
    bad_cidr("198.18.0.0/24/24", "prefix length");
    bad_cidr("example.com", "not an IPv4");
    char lng[200];
    memset(lng, '1', sizeof(lng) - 1);
    lng[sizeof(lng) - 1] = '\0';
    bad_cidr(lng, "too long");
}

static void test_cidr_contains(void **s)
{
    struct moat_cidr c;
    char err[64];
    assert_int_equal(moat_cidr_parse("198.18.0.0/15", &c, err, sizeof(err)), 0);
    uint8_t a[16] = { 198, 19, 255, 255 }, b[16] = { 198, 20, 0, 0 };
    assert_true(moat_cidr_contains(&c, 4, a));
    assert_false(moat_cidr_contains(&c, 4, b));
    assert_false(moat_cidr_contains(&c, 6, a));
}

static void ok_dur(const char *in, uint64_t sec, const char *fmt)
{
    uint64_t ns = 0;
    char err[256] = "", txt[64];
    if (moat_duration_parse(in, &ns, err, sizeof(err)) != 0)
        fail_msg("'%s' refused: %s", in, err);
    assert_int_equal(ns, sec * 1000000000ull);
    assert_string_equal(moat_duration_format(ns, txt, sizeof(txt)), fmt);
}

static void bad_dur(const char *in, const char *msg_part)
{
    uint64_t ns = 77;
    char err[256] = "";
    if (moat_duration_parse(in, &ns, err, sizeof(err)) != -1)
        fail_msg("'%s' accepted", in);
    if (!strstr(err, msg_part))
        fail_msg("'%s': message '%s' lacks '%s'", in, err, msg_part);
    assert_int_equal(ns, 77);
}

static void test_duration(void **s)
{
    ok_dur("10m", 600, "10m");
    ok_dur("90s", 90, "1m30s");
    ok_dur("1h30m", 5400, "1h30m");
    ok_dur("7d", 7 * 86400, "7d");
    ok_dur("600", 600, "10m");
    ok_dur("1d1s", 86401, "1d1s");
    bad_dur("", "empty");
    bad_dur("0", "more than zero");
    bad_dur("0s", "more than zero");
    bad_dur("10x", "unknown unit");
    bad_dur("10m5", "without unit");
    bad_dur("m", "expected a number");
    bad_dur("-5m", "expected a number");
    bad_dur(" 5m", "expected a number");
    bad_dur("18446744073709551616s", "too large");
    bad_dur("18446744074s", "too large");           /* > 2^64 ns */
    bad_dur("106751991167301d", "too large");
    bad_dur("213503982334d213503982334d", "too large");
    char txt[32];
    assert_string_equal(moat_duration_format(999999999ull, txt, sizeof(txt)), "0s");
}

static void test_reason(void **s)
{
    uint32_t r = 99;
    char err[256];
    assert_int_equal(moat_reason_parse("scanner", &r, err, sizeof(err)), 0);
    assert_int_equal(r, MOAT_REASON_SCANNER);
    assert_string_equal(moat_reason_name(MOAT_REASON_FLOOD), "flood");
    assert_string_equal(moat_reason_name(1000), "unknown");
    assert_int_equal(moat_reason_parse("Scanner", &r, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "'Scanner'"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cidr_ipv4),   cmocka_unit_test(test_cidr_ipv6),
        cmocka_unit_test(test_cidr_errors), cmocka_unit_test(test_cidr_contains),
        cmocka_unit_test(test_duration),    cmocka_unit_test(test_reason),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
