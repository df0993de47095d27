/* Session tickets (TLS 1.2 and 1.3 resumption) under moat's own key
 * ring rather than OpenSSL's per-context key: every worker and every
 * context of the listener (default, SNI, the fresh ones after a reload)
 * uses the same keys, so a reload does not invalidate tickets, and the
 * key rotates: tickets from the previous key are still accepted (and
 * renewed) for one more period, older ones mean a full handshake. */
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "tls/tls_internal.h"

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int new_key(struct tls_ticket_key *k, uint64_t now)
{
    if (RAND_bytes(k->name, sizeof k->name) != 1 || RAND_bytes(k->aes, sizeof k->aes) != 1 ||
        RAND_bytes(k->hmac, sizeof k->hmac) != 1)
        return -1;
    k->born_ms = now ? now : 1;
    return 0;
}

static int set_hmac(EVP_MAC_CTX *hctx, const uint8_t *key)
{
    OSSL_PARAM p[] = {
        OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, (void *)key, 32),
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 0),
        OSSL_PARAM_construct_end(),
    };
    return EVP_MAC_CTX_set_params(hctx, p);
}

/* OpenSSL's ticket key callback: 1 use this key, 2 (decrypt) valid but
 * renew, 0 no ticket / unknown ticket, -1 error. */
static int ticket_cb(SSL *ssl, unsigned char name[16], unsigned char *iv, EVP_CIPHER_CTX *cctx,
                     EVP_MAC_CTX *hctx, int enc)
{
    struct tls_listener *tl = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
    if (!tl)
        return 0;
    uint64_t now = mono_ms();
    int r = 0;
    pthread_mutex_lock(&tl->tk_lock);
    struct tls_ticket_key *cur = &tl->tk[tl->tk_cur];
    /* Rotation on use, encrypting or decrypting: a ticket under the
     * now-previous key is then renewed (return 2). */
    if (!cur->born_ms || now - cur->born_ms >= tl->tk_rotate_ms) {
        struct tls_ticket_key *next = &tl->tk[1 - tl->tk_cur];
        if (new_key(next, now) == 0) {
            tl->tk_cur = 1 - tl->tk_cur;
            cur = next;
        }
    }
    if (enc) {
        if (cur->born_ms && RAND_bytes(iv, 16) == 1 &&
            EVP_EncryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, cur->aes, iv) == 1 &&
            set_hmac(hctx, cur->hmac) == 1) {
            memcpy(name, cur->name, 16);
            r = 1;
        }
    } else {
        for (int i = 0; i < 2; i++) {
            struct tls_ticket_key *k = &tl->tk[(tl->tk_cur + i) % 2];
            /* the previous key only within one more rotation period */
            if (!k->born_ms || memcmp(k->name, name, 16) != 0 ||
                (i == 1 && now - k->born_ms >= 2ull * tl->tk_rotate_ms))
                continue;
            if (set_hmac(hctx, k->hmac) == 1 &&
                EVP_DecryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, k->aes, iv) == 1)
                r = i == 0 ? 1 : 2;
            else
                r = -1;
            break;
        }
    }
    pthread_mutex_unlock(&tl->tk_lock);
    return r;
}

void tls_tickets_init(struct tls_listener *tl)
{
    pthread_mutex_init(&tl->tk_lock, NULL);
    tl->tk_rotate_ms = TLS_TICKET_ROTATE_S * 1000u;
}

void tls_tickets_attach(struct tls_listener *tl, SSL_CTX *ctx)
{
    SSL_CTX_set_app_data(ctx, tl);
    SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_cb);
    /* A ticket is worth at most two rotation periods. */
    SSL_CTX_set_timeout(ctx, (long)(2u * tl->tk_rotate_ms / 1000u));
}

void tls_tickets_free(struct tls_listener *tl)
{
    OPENSSL_cleanse(tl->tk, sizeof tl->tk);
    pthread_mutex_destroy(&tl->tk_lock);
}
