/* TLS 1.3 key schedule pieces moat needs itself: OpenSSL 3.0 does not put
 * TLS 1.3 receive keys into the kernel, so moat derives them from the
 * client application traffic secret (HKDF-Expand-Label, RFC 8446 7.1),
 * and re-derives them on a KeyUpdate (RFC 8446 7.2). */
#include <ctype.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>

#include "tls/tls_internal.h"

/* HKDF-Expand-Label(secret, label, "", out_len), with
 * HkdfLabel = uint16 length || uint8 len || "tls13 " label || uint8 0. */
static int expand_label(const char *hash, const uint8_t *secret, size_t secret_len,
                        const char *label, uint8_t *out, size_t out_len)
{
    uint8_t info[2 + 1 + 255 + 1];
    size_t ll = strlen(label);
    if (out_len > 0xffff || 6 + ll > 255 || secret_len == 0)
        return -1;
    info[0] = (uint8_t)(out_len >> 8);
    info[1] = (uint8_t)out_len;
    info[2] = (uint8_t)(6 + ll);
    memcpy(info + 3, "tls13 ", 6);
    memcpy(info + 9, label, ll);
    info[9 + ll] = 0;                      /* empty context */
    size_t info_len = 10 + ll;

    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    EVP_KDF_CTX *kc = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    EVP_KDF_free(kdf);
    if (!kc)
        return -1;
    int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
    OSSL_PARAM p[] = {
        OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)hash, 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, secret_len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, info_len),
        OSSL_PARAM_construct_end(),
    };
    int ok = EVP_KDF_derive(kc, out, out_len, p) == 1;
    EVP_KDF_CTX_free(kc);
    return ok ? 0 : -1;
}

int tls13_traffic_key(const char *hash, const uint8_t *secret, size_t secret_len,
                      uint8_t *key, size_t key_len, uint8_t *iv, size_t iv_len)
{
    if (expand_label(hash, secret, secret_len, "key", key, key_len) < 0 ||
        expand_label(hash, secret, secret_len, "iv", iv, iv_len) < 0) {
        OPENSSL_cleanse(key, key_len);
        return -1;
    }
    return 0;
}

int tls13_next_secret(const char *hash, uint8_t *secret, size_t secret_len)
{
    uint8_t next[TLS_SECRET_MAX];
    if (secret_len > sizeof next ||
        expand_label(hash, secret, secret_len, "traffic upd", next, secret_len) < 0)
        return -1;
    memcpy(secret, next, secret_len);
    OPENSSL_cleanse(next, sizeof next);
    return 0;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int tls_keylog_parse(const char *line, const char *label, struct tls13_secret *out)
{
    size_t ll = strlen(label);
    if (strncmp(line, label, ll) != 0 || line[ll] != ' ')
        return 0;
    const char *p = line + ll + 1;
    /* client random: 32 bytes, 64 hex digits */
    for (int i = 0; i < 64; i++, p++)
        if (hexval((unsigned char)*p) < 0)
            return -1;
    if (*p++ != ' ')
        return -1;
    size_t n = 0;
    while (p[0] && p[1] && n < sizeof out->secret) {
        int hi = hexval((unsigned char)p[0]), lo = hexval((unsigned char)p[1]);
        if (hi < 0 || lo < 0)
            return -1;
        out->secret[n++] = (uint8_t)(hi << 4 | lo);
        p += 2;
    }
    if (*p != '\0' || (n != 32 && n != 48)) {
        OPENSSL_cleanse(out->secret, sizeof out->secret);
        return -1;
    }
    out->len = (uint8_t)n;
    return 1;
}
