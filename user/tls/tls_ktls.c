/* Kernel TLS plumbing: does the kernel have the tls ULP, and installing a
 * TLS 1.3 direction from a traffic secret (what OpenSSL 3.0 does not do
 * for TLS 1.3 receive). */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/tls.h>
#include <openssl/crypto.h>

#include "tls/tls_internal.h"

#ifndef SOL_TLS
#define SOL_TLS 282
#endif

/* IANA TLS 1.3 suite ids (RFC 8446 B.4). */
#define SUITE_AES_128_GCM_SHA256       0x1301
#define SUITE_AES_256_GCM_SHA384       0x1302
#define SUITE_CHACHA20_POLY1305_SHA256 0x1303

const char *ktls13_hash(uint16_t cipher_id)
{
    switch (cipher_id) {
    case SUITE_AES_128_GCM_SHA256:       return "SHA256";
    case SUITE_AES_256_GCM_SHA384:       return "SHA384";
    case SUITE_CHACHA20_POLY1305_SHA256: return "SHA256";
    default:                             return NULL;
    }
}

int ktls13_install(int fd, int dir, uint16_t cipher_id, const struct tls13_secret *s,
                   uint64_t seq)
{
    const char *hash = ktls13_hash(cipher_id);
    if (!hash || !s->len) {
        errno = EINVAL;
        return -1;
    }
    uint8_t key[32], iv[12], rec_seq[8];
    for (int i = 0; i < 8; i++)
        rec_seq[i] = (uint8_t)(seq >> (56 - 8 * i));
    union {
        struct tls12_crypto_info_aes_gcm_128 g128;
        struct tls12_crypto_info_aes_gcm_256 g256;
        struct tls12_crypto_info_chacha20_poly1305 cc;
    } ci;
    memset(&ci, 0, sizeof ci);
    socklen_t cilen;
    size_t klen = cipher_id == SUITE_AES_128_GCM_SHA256 ? 16 : 32;
    if (tls13_traffic_key(hash, s->secret, s->len, key, klen, iv, sizeof iv) < 0) {
        errno = EINVAL;
        return -1;
    }
    /* The kernel splits the 12-byte TLS 1.3 IV into a 4-byte salt and an
     * 8-byte "iv" for GCM; ChaCha20-Poly1305 takes all 12 as iv. */
    switch (cipher_id) {
    case SUITE_AES_128_GCM_SHA256:
        ci.g128.info.version = TLS_1_3_VERSION;
        ci.g128.info.cipher_type = TLS_CIPHER_AES_GCM_128;
        memcpy(ci.g128.salt, iv, 4);
        memcpy(ci.g128.iv, iv + 4, 8);
        memcpy(ci.g128.key, key, 16);
        memcpy(ci.g128.rec_seq, rec_seq, 8);
        cilen = sizeof ci.g128;
        break;
    case SUITE_AES_256_GCM_SHA384:
        ci.g256.info.version = TLS_1_3_VERSION;
        ci.g256.info.cipher_type = TLS_CIPHER_AES_GCM_256;
        memcpy(ci.g256.salt, iv, 4);
        memcpy(ci.g256.iv, iv + 4, 8);
        memcpy(ci.g256.key, key, 32);
        memcpy(ci.g256.rec_seq, rec_seq, 8);
        cilen = sizeof ci.g256;
        break;
    default:
        ci.cc.info.version = TLS_1_3_VERSION;
        ci.cc.info.cipher_type = TLS_CIPHER_CHACHA20_POLY1305;
        memcpy(ci.cc.iv, iv, 12);
        memcpy(ci.cc.key, key, 32);
        memcpy(ci.cc.rec_seq, rec_seq, 8);
        cilen = sizeof ci.cc;
        break;
    }
    int r = setsockopt(fd, SOL_TLS, dir, &ci, cilen);
    int saved = errno;
    OPENSSL_cleanse(&ci, sizeof ci);
    OPENSSL_cleanse(key, sizeof key);
    OPENSSL_cleanse(iv, sizeof iv);
    errno = saved;
    return r;
}

bool ktls_probe(char *why, size_t whylen)
{
    /* The ULP can only be set on a connected TCP socket, so make a
     * loopback pair; nothing is sent. */
    int l = -1, c = -1, a = -1;
    bool ok = false;
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t sl = sizeof sa;
    l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (l < 0 || c < 0 || bind(l, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(l, 1) < 0 ||
        getsockname(l, (struct sockaddr *)&sa, &sl) < 0 ||
        connect(c, (struct sockaddr *)&sa, sizeof sa) < 0 ||
        (a = accept4(l, NULL, NULL, SOCK_CLOEXEC)) < 0) {
        snprintf(why, whylen, "probe socket: %s", strerror(errno));
        goto out;
    }
    if (setsockopt(a, IPPROTO_TCP, TCP_ULP, "tls", sizeof "tls") < 0) {
        snprintf(why, whylen, "TCP_ULP \"tls\": %s", strerror(errno));
        goto out;
    }
    ok = true;
    snprintf(why, whylen, "tls ULP available");
out:
    if (a >= 0)
        close(a);
    if (c >= 0)
        close(c);
    if (l >= 0)
        close(l);
    return ok;
}
