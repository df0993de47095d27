/* TLS 1.3 key derivation moat does itself for kernel TLS receive: checked
 * against the RFC 8448 section 3 trace (simple 1-RTT handshake,
 * TLS_AES_128_GCM_SHA256), plus the keylog line parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tls/tls_internal.h"

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = 0;
    while (s[0] && s[1] && n < cap) {
        unsigned v;
        sscanf(s, "%2x", &v);
        out[n++] = (uint8_t)v;
        s += 2;
    }
    return n;
}

static void expect_hex(const uint8_t *got, size_t n, const char *want)
{
    uint8_t w[64];
    assert_int_equal(unhex(want, w, sizeof w), n);
    assert_memory_equal(got, w, n);
}

/* RFC 8448 3: {server} derive write traffic keys for handshake data. */
static void test_rfc8448_server_handshake_key(void **state)
{
    uint8_t s[32], key[16], iv[12];
    unhex("b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38", s, sizeof s);
    assert_int_equal(tls13_traffic_key("SHA256", s, 32, key, 16, iv, 12), 0);
    expect_hex(key, 16, "3fce516009c21727d0f2e4e86ee403bc");
    expect_hex(iv, 12, "5d313eb2671276ee13000b30");
}

/* RFC 8448 3: {client} derive write traffic keys for application data:
 * exactly what moat installs as the kernel's TLS_RX key. */
static void test_rfc8448_client_application_key(void **state)
{
    uint8_t s[32], key[16], iv[12];
    unhex("9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5", s, sizeof s);
    assert_int_equal(tls13_traffic_key("SHA256", s, 32, key, 16, iv, 12), 0);
    expect_hex(key, 16, "17422dda596ed5d9acd890e3c63f5051");
    expect_hex(iv, 12, "5b78923dee08579033e523d9");
}

/* RFC 8448 3: {server} application data keys. */
static void test_rfc8448_server_application_key(void **state)
{
    uint8_t s[32], key[16], iv[12];
    unhex("a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643", s, sizeof s);
    assert_int_equal(tls13_traffic_key("SHA256", s, 32, key, 16, iv, 12), 0);
    expect_hex(key, 16, "9f02283b6c9c07efc26bb9f2ac92e356");
    expect_hex(iv, 12, "cf782b88dd83549aadf1e984");
}

/* RFC 8446 7.2: the next secret is HKDF-Expand-Label(s, "traffic upd"):
 * it changes, is deterministic, and keeps the length. */
static void test_next_secret(void **state)
{
    uint8_t a[32], b[32], orig[32];
    unhex("9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5", a, sizeof a);
    memcpy(b, a, 32);
    memcpy(orig, a, 32);
    assert_int_equal(tls13_next_secret("SHA256", a, 32), 0);
    assert_int_equal(tls13_next_secret("SHA256", b, 32), 0);
    assert_memory_equal(a, b, 32);
    assert_memory_not_equal(a, orig, 32);
    /* an unknown digest fails rather than producing a key */
    assert_int_equal(tls13_next_secret("NOSUCHHASH", a, 32), -1);
}

static void test_keylog_parse(void **state)
{
    struct tls13_secret s = { 0 };
    const char *ok = "CLIENT_TRAFFIC_SECRET_0 "
                     "0000000000000000000000000000000000000000000000000000000000000000 "
                     "9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5";
    assert_int_equal(tls_keylog_parse(ok, "CLIENT_TRAFFIC_SECRET_0", &s), 1);
    assert_int_equal(s.len, 32);
    expect_hex(s.secret, 32, "9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5");
    /* other label: ignored */
    assert_int_equal(tls_keylog_parse(ok, "SERVER_TRAFFIC_SECRET_0", &s), 0);
    /* prefix of another label must not match */
    assert_int_equal(tls_keylog_parse(ok, "CLIENT_TRAFFIC_SECRET", &s), 0);
    /* short random, odd or over-long secret, non-hex: malformed */
    assert_int_equal(tls_keylog_parse("CLIENT_TRAFFIC_SECRET_0 00 11", "CLIENT_TRAFFIC_SECRET_0", &s), -1);
    char bad[256];
    snprintf(bad, sizeof bad, "%s0", ok);
    assert_int_equal(tls_keylog_parse(bad, "CLIENT_TRAFFIC_SECRET_0", &s), -1);
    snprintf(bad, sizeof bad, "%.*sZZ", (int)strlen(ok) - 2, ok);
    assert_int_equal(tls_keylog_parse(bad, "CLIENT_TRAFFIC_SECRET_0", &s), -1);
    char longer[400];
    snprintf(longer, sizeof longer, "%s%s", ok, "00112233445566778899aabbccddeeff0011223344");
    assert_int_equal(tls_keylog_parse(longer, "CLIENT_TRAFFIC_SECRET_0", &s), -1);
}

static void test_suite_hash(void **state)
{
    assert_string_equal(ktls13_hash(0x1301), "SHA256");
    assert_string_equal(ktls13_hash(0x1302), "SHA384");
    assert_string_equal(ktls13_hash(0x1303), "SHA256");
    assert_null(ktls13_hash(0x1304));   /* AES-CCM: not offloaded by moat */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc8448_server_handshake_key),
        cmocka_unit_test(test_rfc8448_client_application_key),
        cmocka_unit_test(test_rfc8448_server_application_key),
        cmocka_unit_test(test_next_secret),
        cmocka_unit_test(test_keylog_parse),
        cmocka_unit_test(test_suite_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
