/* The server SSL_CTX of a TLS listener and moat's TLS policy: TLS 1.2 and
 * 1.3 only, ECDHE with AEAD suites only (AES-GCM, ChaCha20-Poly1305),
 * server preference, groups X25519 and P-256, no renegotiation, no
 * compression. Operator cipher lists are intersected with that policy,
 * so a mosquitto.conf `ciphers` line can never enable a weak suite. */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509_vfy.h>

#include "config.h"
#include "tls/tls_internal.h"
#include "util/log.h"

#define TLS12_DEFAULT_CIPHERS \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define TLS13_DEFAULT_SUITES \
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
#define TLS_GROUPS "X25519:P-256"
#define LIST_MAX 1024

void tls_errstr(char *buf, size_t len)
{
    size_t used = 0;
    unsigned long e;
    buf[0] = '\0';
    while ((e = ERR_get_error()) != 0) {
        char one[256];
        ERR_error_string_n(e, one, sizeof one);
        /* "error:0A000086:SSL routines::certificate verify failed": keep
         * the reason, the last field. */
        const char *r = strrchr(one, ':');
        r = r ? r + 1 : one;
        int n = snprintf(buf + used, len - used, "%s%s", used ? "; " : "", r);
        if (n < 0 || (size_t)n >= len - used)
            break;
        used += (size_t)n;
    }
    if (!used)
        snprintf(buf, len, "unknown OpenSSL error");
}

#define FAIL(...) do {                                                           \
        char m_[384];                                                            \
        snprintf(m_, sizeof m_, __VA_ARGS__);                                    \
        snprintf(err, errlen, "%s:%d: listener %u: %s", lc->file ? lc->file : "?", \
                 lc->line, lc->port, m_);                                        \
        goto fail;                                                               \
    } while (0)

/* TLS 1.2 suites we accept: ECDHE key exchange, authenticated, AEAD. */
static bool tls12_suite_ok(const SSL_CIPHER *c)
{
    int cn = SSL_CIPHER_get_cipher_nid(c);
    return SSL_CIPHER_is_aead(c) && SSL_CIPHER_get_kx_nid(c) == NID_kx_ecdhe &&
           SSL_CIPHER_get_auth_nid(c) != NID_auth_null &&
           (cn == NID_aes_128_gcm || cn == NID_aes_256_gcm || cn == NID_chacha20_poly1305);
}

/* Intersects the operator's TLS 1.2 list with the policy. 0 or -1. */
static int set_tls12_ciphers(SSL_CTX *ctx, const struct listener_conf *lc, char *err,
                             size_t errlen)
{
    if (!lc->ciphers) {
        if (SSL_CTX_set_cipher_list(ctx, TLS12_DEFAULT_CIPHERS) != 1)
            FAIL("this OpenSSL lacks the TLS 1.2 suites %s", TLS12_DEFAULT_CIPHERS);
        return 0;
    }
    if (SSL_CTX_set_cipher_list(ctx, lc->ciphers) != 1)
        FAIL("ciphers '%s': no cipher OpenSSL knows", lc->ciphers);
    char keep[LIST_MAX] = "", drop[LIST_MAX] = "";
    STACK_OF(SSL_CIPHER) *sk = SSL_CTX_get_ciphers(ctx);
    for (int i = 0; i < sk_SSL_CIPHER_num(sk); i++) {
        const SSL_CIPHER *c = sk_SSL_CIPHER_value(sk, i);
        if (strcmp(SSL_CIPHER_get_version(c), "TLSv1.3") == 0)
            continue;   /* TLS 1.3 suites are set by ciphers_tls13 */
        char *dst = tls12_suite_ok(c) ? keep : drop;
        size_t dl = strlen(dst);
        snprintf(dst + dl, LIST_MAX - dl, "%s%s", dl ? ":" : "", SSL_CIPHER_get_name(c));
    }
    if (!keep[0])
        FAIL("ciphers '%s': no ECDHE AEAD suite (AES-GCM, CHACHA20-POLY1305) left; "
             "moat accepts no other", lc->ciphers);
    if (drop[0])
        log_notice("%s:%d: listener %u: ciphers: not offered (not ECDHE+AEAD): %s",
                   lc->file ? lc->file : "?", lc->line, lc->port, drop);
    if (SSL_CTX_set_cipher_list(ctx, keep) != 1)
        FAIL("ciphers: cannot set the AEAD subset");
    return 0;
fail:
    return -1;
}

static int set_tls13_suites(SSL_CTX *ctx, const struct listener_conf *lc, char *err,
                            size_t errlen)
{
    if (!lc->ciphers_tls13) {
        if (SSL_CTX_set_ciphersuites(ctx, TLS13_DEFAULT_SUITES) != 1)
            FAIL("this OpenSSL lacks the TLS 1.3 suites %s", TLS13_DEFAULT_SUITES);
        return 0;
    }
    static const char *const allowed[] = { "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                                           "TLS_CHACHA20_POLY1305_SHA256" };
    char keep[LIST_MAX] = "";
    const char *p = lc->ciphers_tls13;
    while (*p) {
        size_t n = strcspn(p, ":");
        bool ok = false;
        for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
            if (strlen(allowed[i]) == n && strncmp(p, allowed[i], n) == 0)
                ok = true;
        if (ok) {
            size_t kl = strlen(keep);
            snprintf(keep + kl, sizeof keep - kl, "%s%.*s", kl ? ":" : "", (int)n, p);
        } else {
            log_notice("%s:%d: listener %u: ciphers_tls13: %.*s not offered (moat allows "
                       "AES-GCM and CHACHA20-POLY1305 only)",
                       lc->file ? lc->file : "?", lc->line, lc->port, (int)n, p);
        }
        p += n;
        if (*p == ':')
            p++;
    }
    if (!keep[0])
        FAIL("ciphers_tls13 '%s': none of %s", lc->ciphers_tls13, TLS13_DEFAULT_SUITES);
    if (SSL_CTX_set_ciphersuites(ctx, keep) != 1)
        FAIL("ciphers_tls13: cannot set the allowed subset");
    return 0;
fail:
    return -1;
}

static int min_version(const struct listener_conf *lc)
{
    if (!lc->tls_version || strcmp(lc->tls_version, "tlsv1.2") == 0)
        return TLS1_2_VERSION;
    if (strcmp(lc->tls_version, "tlsv1.3") == 0)
        return TLS1_3_VERSION;
    return -1;
}

/* Client certificates: verification locations, CRLs, verify mode. */
static int setup_verify(SSL_CTX *ctx, const struct listener_conf *lc, char *err, size_t errlen)
{
    char why[256];
    bool have_ca = lc->cafile || lc->capath;
    if (!have_ca) {
        if (lc->require_certificate)
            FAIL("require_certificate true needs cafile or capath");
        if (lc->use_identity_as_username || lc->use_subject_as_username)
            FAIL("use_identity_as_username/use_subject_as_username need cafile or capath");
        if (lc->crlfile)
            FAIL("crlfile needs cafile or capath");
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
        return 0;
    }
    if (SSL_CTX_load_verify_locations(ctx, lc->cafile, lc->capath) != 1) {
        tls_errstr(why, sizeof why);
        FAIL("cafile %s / capath %s: %s", lc->cafile ? lc->cafile : "-",
             lc->capath ? lc->capath : "-", why);
    }
    if (lc->cafile) {
        /* Tell clients which CAs we accept, so they pick the right cert. */
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(lc->cafile);
        if (names)
            SSL_CTX_set_client_CA_list(ctx, names);
        ERR_clear_error();
    }
    if (lc->crlfile) {
        X509_STORE *st = SSL_CTX_get_cert_store(ctx);
        X509_LOOKUP *lk = X509_STORE_add_lookup(st, X509_LOOKUP_file());
        if (!lk || X509_load_crl_file(lk, lc->crlfile, X509_FILETYPE_PEM) <= 0) {
            tls_errstr(why, sizeof why);
            FAIL("crlfile %s: %s", lc->crlfile, why);
        }
        /* Every certificate of the chain is checked, not only the leaf. */
        X509_STORE_set_flags(st, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
    }
    /* cafile without require_certificate: a certificate is asked for and,
     * if sent, must verify; a client without one is still accepted. */
    int mode = SSL_VERIFY_PEER | (lc->require_certificate ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0);
    SSL_CTX_set_verify(ctx, mode, NULL);
    return 0;
fail:
    return -1;
}

SSL_CTX *tls_ctx_build(const struct listener_conf *lc, bool ktls, const char *certfile,
                       const char *keyfile, char *err, size_t errlen)
{
    char why[256];
    certfile = certfile ? certfile : lc->certfile;
    keyfile = keyfile ? keyfile : lc->keyfile;
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        tls_errstr(why, sizeof why);
        FAIL("SSL_CTX_new: %s", why);
    }
    if (!certfile || !keyfile)
        FAIL("a TLS listener needs both certfile and keyfile");
    int minv = min_version(lc);
    if (minv < 0)
        FAIL("tls_version '%s': moat supports tlsv1.2 and tlsv1.3 (a minimum) only",
             lc->tls_version);
    if (SSL_CTX_set_min_proto_version(ctx, minv) != 1 ||
        SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1)
        FAIL("cannot set protocol versions");
    if (set_tls12_ciphers(ctx, lc, err, errlen) < 0 || set_tls13_suites(ctx, lc, err, errlen) < 0)
        goto fail_keep;
    if (SSL_CTX_set1_groups_list(ctx, TLS_GROUPS) != 1)
        FAIL("groups %s: not supported by this OpenSSL", TLS_GROUPS);
    uint64_t opts = SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_PRIORITIZE_CHACHA |
                    SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION;
    if (ktls)
        opts |= SSL_OP_ENABLE_KTLS;
    SSL_CTX_set_options(ctx, opts);
    /* Read-ahead stays off: OpenSSL must not pull records beyond the
     * handshake out of the socket, or the kernel could not take over RX. */
    SSL_CTX_set_read_ahead(ctx, 0);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_ENABLE_PARTIAL_WRITE);
    static const unsigned char sid_ctx[] = "moat";
    SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof sid_ctx - 1);

    if (SSL_CTX_use_certificate_chain_file(ctx, certfile) != 1) {
        tls_errstr(why, sizeof why);
        FAIL("certfile %s: %s", certfile, why);
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, keyfile, SSL_FILETYPE_PEM) != 1) {
        tls_errstr(why, sizeof why);
        FAIL("keyfile %s: %s", keyfile, why);
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        tls_errstr(why, sizeof why);
        FAIL("keyfile %s does not match certfile %s: %s", keyfile, certfile, why);
    }
    if (setup_verify(ctx, lc, err, errlen) < 0)
        goto fail_keep;
    SSL_CTX_set_keylog_callback(ctx, ktls ? tls_keylog_cb : NULL);
    return ctx;
fail:
fail_keep:
    SSL_CTX_free(ctx);
    ERR_clear_error();
    return NULL;
}
