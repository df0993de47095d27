/* The TLS listener's context policy, checked with in-memory handshakes
 * (BIO pairs, no sockets) between tls_ctx_build()'s server context and
 * OpenSSL clients restricted to one version/suite/group: TLS 1.2 and 1.3
 * only, ECDHE+AEAD only, X25519/P-256 only, server preference, operator
 * cipher lists cut to the policy, tls_version as a minimum, and the
 * client certificate -> username mapping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "config.h"
#include "tls/tls_internal.h"

struct fx {
    char dir[64];
    char ca[96], srv_crt[96], srv_key[96], cli_crt[96], cli_key[96], nul_crt[96], nul_key[96];
    char b_crt[96], b_key[96];
    EVP_PKEY *ca_key;
    X509 *ca_cert;
};

static EVP_PKEY *new_key(void) { return EVP_EC_gen("P-256"); }

/* A certificate for name (len bytes, may hold a NUL) signed by issuer
 * (self-signed when issuer is NULL). */
static X509 *make_cert(EVP_PKEY *key, const char *cn, int cnlen, X509 *issuer, EVP_PKEY *ikey,
                       long serial, bool ca)
{
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_NID(n, NID_commonName, MBSTRING_ASC, (const unsigned char *)cn, cnlen,
                               -1, 0);
    X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : n);
    X509V3_CTX v3;
    X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints,
                                              ca ? "critical,CA:TRUE" : "CA:FALSE");
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    if (!ca) {
        ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, "DNS:localhost");
        X509_add_ext(x, ext, -1);
        X509_EXTENSION_free(ext);
    }
    X509_sign(x, ikey ? ikey : key, EVP_sha256());
    return x;
}

static void write_pair(X509 *x, EVP_PKEY *k, const char *crt, const char *key)
{
    FILE *f = fopen(crt, "w");
    assert_non_null(f);
    PEM_write_X509(f, x);
    fclose(f);
    if (key) {
        f = fopen(key, "w");
        assert_non_null(f);
        PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
        fclose(f);
    }
}

static int setup(void **state)
{
    struct fx *fx = calloc(1, sizeof *fx);
    strcpy(fx->dir, "/tmp/moat-tls-unit.XXXXXX");
    if (!mkdtemp(fx->dir))
        return -1;
#define P(f, n) snprintf(fx->f, sizeof fx->f, "%s/" n, fx->dir)
    P(ca, "ca.crt"); P(srv_crt, "srv.crt"); P(srv_key, "srv.key");
    P(cli_crt, "cli.crt"); P(cli_key, "cli.key"); P(nul_crt, "nul.crt"); P(nul_key, "nul.key");
    P(b_crt, "b.crt"); P(b_key, "b.key");
#undef P
    fx->ca_key = new_key();
    fx->ca_cert = make_cert(fx->ca_key, "unit-ca", -1, NULL, NULL, 1, true);
    write_pair(fx->ca_cert, NULL, fx->ca, NULL);
    EVP_PKEY *k = new_key();
    X509 *x = make_cert(k, "localhost", -1, fx->ca_cert, fx->ca_key, 2, false);
    write_pair(x, k, fx->srv_crt, fx->srv_key);
    X509_free(x); EVP_PKEY_free(k);
    k = new_key();
    x = make_cert(k, "alice", -1, fx->ca_cert, fx->ca_key, 3, false);
    write_pair(x, k, fx->cli_crt, fx->cli_key);
    X509_free(x); EVP_PKEY_free(k);
    k = new_key();
    x = make_cert(k, "adm\0in", 6, fx->ca_cert, fx->ca_key, 4, false);
    write_pair(x, k, fx->nul_crt, fx->nul_key);
    X509_free(x); EVP_PKEY_free(k);
    k = new_key();
    x = make_cert(k, "b.example", -1, fx->ca_cert, fx->ca_key, 5, false);
    write_pair(x, k, fx->b_crt, fx->b_key);
    X509_free(x); EVP_PKEY_free(k);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fx *fx = *state;
    const char *files[] = { fx->ca, fx->srv_crt, fx->srv_key, fx->cli_crt, fx->cli_key,
                            fx->nul_crt, fx->nul_key, fx->b_crt, fx->b_key };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        unlink(files[i]);
    rmdir(fx->dir);
    X509_free(fx->ca_cert);
    EVP_PKEY_free(fx->ca_key);
    free(fx);
    return 0;
}

static struct listener_conf base_lc(struct fx *fx)
{
    return (struct listener_conf){ .port = 8883, .certfile = fx->srv_crt, .keyfile = fx->srv_key,
                                   .file = "unit.conf", .line = 7 };
}

struct client {
    int minv, maxv;
    const char *ciphers, *suites, *groups, *cert, *key;
    bool seclevel0;
    const char *sni;      /* server name to send */
    char *cn_out;         /* 64 bytes: the server certificate's CN */
    SSL_SESSION *sess_in;       /* resume this session */
    SSL_SESSION **sess_out;     /* the session (with its ticket) afterwards */
    bool *reused;               /* whether the server resumed */
};

/* Handshakes a client against ctx in memory. Returns 1 on success, with
 * the negotiated suite in out (and the server SSL in *srv_out if given,
 * for the caller to free); 0 when refused. */
static int handshake(SSL_CTX *sctx, const struct client *c, char *out, size_t outlen,
                     SSL **srv_out)
{
    SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
    if (c->seclevel0)
        SSL_CTX_set_security_level(cctx, 0);
    SSL_CTX_set_min_proto_version(cctx, c->minv ? c->minv : TLS1_VERSION);
    SSL_CTX_set_max_proto_version(cctx, c->maxv ? c->maxv : TLS1_3_VERSION);
    if (c->ciphers)
        assert_int_equal(SSL_CTX_set_cipher_list(cctx, c->ciphers), 1);
    if (c->suites)
        assert_int_equal(SSL_CTX_set_ciphersuites(cctx, c->suites), 1);
    if (c->groups)
        assert_int_equal(SSL_CTX_set1_groups_list(cctx, c->groups), 1);
    if (c->cert) {
        assert_int_equal(SSL_CTX_use_certificate_file(cctx, c->cert, SSL_FILETYPE_PEM), 1);
        assert_int_equal(SSL_CTX_use_PrivateKey_file(cctx, c->key, SSL_FILETYPE_PEM), 1);
    }
    SSL *cl = SSL_new(cctx), *sv = SSL_new(sctx);
    BIO *b1, *b2;
    BIO_new_bio_pair(&b1, 0, &b2, 0);
    SSL_set_bio(sv, b1, b1);
    SSL_set_bio(cl, b2, b2);
    SSL_set_connect_state(cl);
    SSL_set_accept_state(sv);
    if (c->sni)
        SSL_set_tlsext_host_name(cl, c->sni);
    if (c->sess_in)
        SSL_set_session(cl, c->sess_in);
    int ok = 0;
    bool cdone = false, sdone = false;
    for (int i = 0; i < 50 && !(cdone && sdone); i++) {
        if (!cdone) {
            int r = SSL_do_handshake(cl);
            int e = SSL_get_error(cl, r);
            if (r == 1)
                cdone = true;
            else if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
                goto out;
        }
        if (!sdone) {
            int r = SSL_do_handshake(sv);
            int e = SSL_get_error(sv, r);
            if (r == 1)
                sdone = true;
            else if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
                goto out;
        }
    }
    ok = cdone && sdone;
    if (ok && c->reused)
        *c->reused = SSL_session_reused(sv);
    if (ok && c->sess_out) {
        char b;
        (void)SSL_read(cl, &b, 1);   /* takes in TLS 1.3 NewSessionTickets */
        *c->sess_out = SSL_get1_session(cl);
    }
    if (ok && c->cn_out) {
        X509 *pc = SSL_get1_peer_certificate(cl);
        c->cn_out[0] = '\0';
        if (pc)
            X509_NAME_get_text_by_NID(X509_get_subject_name(pc), NID_commonName, c->cn_out, 64);
        X509_free(pc);
    }
    if (ok && out)
        snprintf(out, outlen, "%s %s", SSL_get_version(sv), SSL_get_cipher_name(sv));
out:
    ERR_clear_error();
    /* an unshut SSL_free would evict (and spoil) the session */
    if (ok)
        SSL_set_shutdown(cl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_free(cl);
    if (ok && srv_out)
        *srv_out = sv;
    else
        SSL_free(sv);
    SSL_CTX_free(cctx);
    return ok;
}

static SSL_CTX *build(const struct listener_conf *lc)
{
    char err[512] = "";
    SSL_CTX *ctx = tls_ctx_build(lc, false, NULL, NULL, err, sizeof err);
    if (!ctx)
        fail_msg("tls_ctx_build: %s", err);
    return ctx;
}

static void test_versions(void **state)
{
    struct fx *fx = *state;
    struct listener_conf lc = base_lc(fx);
    SSL_CTX *ctx = build(&lc);
    char got[128];
    assert_true(handshake(ctx, &(struct client){ .minv = TLS1_3_VERSION }, got, sizeof got, NULL));
    assert_string_equal(got, "TLSv1.3 TLS_AES_128_GCM_SHA256");
    assert_true(handshake(ctx, &(struct client){ .maxv = TLS1_2_VERSION }, got, sizeof got, NULL));
    assert_string_equal(got, "TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256");
    /* TLS 1.0 / 1.1 refused even from a client that allows weak settings */
    assert_false(handshake(ctx, &(struct client){ .maxv = TLS1_1_VERSION, .seclevel0 = true },
                           NULL, 0, NULL));
    assert_false(handshake(ctx, &(struct client){ .maxv = TLS1_VERSION, .seclevel0 = true },
                           NULL, 0, NULL));
    SSL_CTX_free(ctx);
}

static void test_tls_version_is_a_minimum(void **state)
{
    struct fx *fx = *state;
    struct listener_conf lc = base_lc(fx);
    lc.tls_version = "tlsv1.3";
    SSL_CTX *ctx = build(&lc);
    assert_false(handshake(ctx, &(struct client){ .maxv = TLS1_2_VERSION }, NULL, 0, NULL));
    assert_true(handshake(ctx, &(struct client){ 0 }, NULL, 0, NULL));
    SSL_CTX_free(ctx);
    lc.tls_version = "tlsv1.2";
    ctx = build(&lc);
    assert_true(handshake(ctx, &(struct client){ .maxv = TLS1_2_VERSION }, NULL, 0, NULL));
    assert_true(handshake(ctx, &(struct client){ .minv = TLS1_3_VERSION }, NULL, 0, NULL));
    SSL_CTX_free(ctx);
    /* below 1.2: a configuration error naming file:line */
    char err[512];
    lc.tls_version = "tlsv1.1";
    assert_null(tls_ctx_build(&lc, false, NULL, NULL, err, sizeof err));
    assert_non_null(strstr(err, "unit.conf:7: listener 8883: tls_version 'tlsv1.1'"));
}

static void test_only_aead_suites(void **state)
{
    struct fx *fx = *state;
    struct listener_conf lc = base_lc(fx);
    SSL_CTX *ctx = build(&lc);
    char got[128];
    static const char *const ok12[] = { "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
                                        "ECDHE-ECDSA-CHACHA20-POLY1305" };
    for (size_t i = 0; i < 3; i++) {
        assert_true(handshake(ctx, &(struct client){ .maxv = TLS1_2_VERSION, .ciphers = ok12[i] },
                              got, sizeof got, NULL));
        assert_non_null(strstr(got, ok12[i]));
    }
    static const char *const bad12[] = { "ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA384",
                                         "AES128-GCM-SHA256", "AES128-SHA", "NULL", "aNULL",
                                         "ECDHE-ECDSA-AES128-CCM" };
    for (size_t i = 0; i < sizeof bad12 / sizeof bad12[0]; i++)
        assert_false(handshake(ctx,
                               &(struct client){ .maxv = TLS1_2_VERSION, .seclevel0 = true,
                                                 .ciphers = bad12[i] },
                               NULL, 0, NULL));
    static const char *const ok13[] = { "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                                        "TLS_CHACHA20_POLY1305_SHA256" };
    for (size_t i = 0; i < 3; i++) {
        assert_true(handshake(ctx, &(struct client){ .minv = TLS1_3_VERSION, .suites = ok13[i] },
                              got, sizeof got, NULL));
        assert_non_null(strstr(got, ok13[i]));
    }
    assert_false(handshake(ctx, &(struct client){ .minv = TLS1_3_VERSION,
                                                  .suites = "TLS_AES_128_CCM_SHA256" },
                           NULL, 0, NULL));
    /* every suite the context would offer is AEAD */
    STACK_OF(SSL_CIPHER) *sk = SSL_CTX_get_ciphers(ctx);
    for (int i = 0; i < sk_SSL_CIPHER_num(sk); i++)
        assert_true(SSL_CIPHER_is_aead(sk_SSL_CIPHER_value(sk, i)));
    SSL_CTX_free(ctx);
}

static void test_groups(void **state)
{
    struct fx *fx = *state;
    struct listener_conf lc = base_lc(fx);
    SSL_CTX *ctx = build(&lc);
    assert_true(handshake(ctx, &(struct client){ .groups = "X25519" }, NULL, 0, NULL));
    assert_true(handshake(ctx, &(struct client){ .groups = "P-256" }, NULL, 0, NULL));
    assert_false(handshake(ctx, &(struct client){ .groups = "P-384" }, NULL, 0, NULL));
    assert_false(handshake(ctx, &(struct client){ .groups = "ffdhe2048" }, NULL, 0, NULL));
    SSL_CTX_free(ctx);
}

static void test_server_preference(void **state)
{
    struct fx *fx = *state;
    struct listener_conf lc = base_lc(fx);
    SSL_CTX *ctx = build(&lc);
    char got[128];
    assert_true(handshake(ctx,
                          &(struct client){ .maxv = TLS1_2_VERSION,
                                            .ciphers = "ECDHE-ECDSA-AES256-GCM-SHA384:"
                                                       "ECDHE-ECDSA-AES128-GCM-SHA256" },
                          got, sizeof got, NULL));
    assert_string_equal(got, "TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256");
    assert_true(handshake(ctx,
                          &(struct client){ .minv = TLS1_3_VERSION,
                                            .suites = "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256" },
                          got, sizeof got, NULL));
    assert_string_equal(got, "TLSv1.3 TLS_AES_128_GCM_SHA256");
    SSL_CTX_free(ctx);
}

static void test_operator_lists_cut_to_policy(void **state)
{
    struct fx *fx = *state;
    struct listener_conf lc = base_lc(fx);
    lc.ciphers = "AES128-SHA:ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-GCM-SHA384";
    lc.ciphers_tls13 = "TLS_AES_128_CCM_SHA256:TLS_CHACHA20_POLY1305_SHA256";
    SSL_CTX *ctx = build(&lc);
    STACK_OF(SSL_CIPHER) *sk = SSL_CTX_get_ciphers(ctx);
    int n12 = 0;
    for (int i = 0; i < sk_SSL_CIPHER_num(sk); i++) {
        const SSL_CIPHER *c = sk_SSL_CIPHER_value(sk, i);
        if (strcmp(SSL_CIPHER_get_version(c), "TLSv1.3") == 0)
            assert_string_equal(SSL_CIPHER_get_name(c), "TLS_CHACHA20_POLY1305_SHA256");
        else {
            assert_string_equal(SSL_CIPHER_get_name(c), "ECDHE-ECDSA-AES256-GCM-SHA384");
            n12++;
        }
    }
    assert_int_equal(n12, 1);
    SSL_CTX_free(ctx);

    char err[512];
    lc.ciphers = "AES128-SHA:AES256-SHA";
    assert_null(tls_ctx_build(&lc, false, NULL, NULL, err, sizeof err));
    assert_non_null(strstr(err, "unit.conf:7: listener 8883: ciphers"));
    lc.ciphers = NULL;
    lc.ciphers_tls13 = "TLS_AES_128_CCM_SHA256";
    assert_null(tls_ctx_build(&lc, false, NULL, NULL, err, sizeof err));
    assert_non_null(strstr(err, "ciphers_tls13"));
}

static void test_files_and_verify_config(void **state)
{
    struct fx *fx = *state;
    char err[512];
    struct listener_conf lc = base_lc(fx);
    lc.keyfile = fx->cli_key;   /* not the certificate's key */
    assert_null(tls_ctx_build(&lc, false, NULL, NULL, err, sizeof err));
    assert_non_null(strstr(err, "unit.conf:7: listener 8883: keyfile"));
    lc = base_lc(fx);
    lc.certfile = "/nonexistent/moat.crt";
    assert_null(tls_ctx_build(&lc, false, NULL, NULL, err, sizeof err));
    assert_non_null(strstr(err, "certfile /nonexistent/moat.crt"));
    lc = base_lc(fx);
    lc.require_certificate = true;   /* without a CA */
    assert_null(tls_ctx_build(&lc, false, NULL, NULL, err, sizeof err));
    assert_non_null(strstr(err, "cafile"));
    lc = base_lc(fx);
    lc.cafile = fx->ca;
    lc.crlfile = "/nonexistent/crl.pem";
    assert_null(tls_ctx_build(&lc, false, NULL, NULL, err, sizeof err));
    assert_non_null(strstr(err, "crlfile /nonexistent/crl.pem"));
}

static void test_client_certificates(void **state)
{
    struct fx *fx = *state;
    struct listener_conf lc = base_lc(fx);
    lc.cafile = fx->ca;
    lc.require_certificate = true;
    lc.use_identity_as_username = true;
    SSL_CTX *ctx = build(&lc);
    SSL *sv = NULL;
    /* TLS 1.2, so the server's verdict is part of the handshake */
    assert_false(handshake(ctx, &(struct client){ .maxv = TLS1_2_VERSION }, NULL, 0, NULL));
    assert_true(handshake(ctx, &(struct client){ .maxv = TLS1_2_VERSION, .cert = fx->cli_crt,
                                                 .key = fx->cli_key },
                          NULL, 0, &sv));
    char *id = tls_identity_of(sv, &lc);
    assert_string_equal(id, "alice");
    free(id);
    lc.use_identity_as_username = false;
    lc.use_subject_as_username = true;
    id = tls_identity_of(sv, &lc);
    assert_string_equal(id, "CN=alice");
    free(id);
    lc.use_subject_as_username = false;
    assert_null(tls_identity_of(sv, &lc));   /* no mapping configured */
    SSL_free(sv);

    /* a CN with an embedded NUL maps to no username at all */
    lc.use_identity_as_username = true;
    sv = NULL;
    assert_true(handshake(ctx, &(struct client){ .maxv = TLS1_2_VERSION, .cert = fx->nul_crt,
                                                 .key = fx->nul_key },
                          NULL, 0, &sv));
    assert_null(tls_identity_of(sv, &lc));
    SSL_free(sv);
    SSL_CTX_free(ctx);

    /* optional: cafile without require_certificate accepts no certificate */
    lc.require_certificate = false;
    ctx = build(&lc);
    assert_true(handshake(ctx, &(struct client){ .maxv = TLS1_2_VERSION }, NULL, 0, NULL));
    SSL_CTX_free(ctx);
}

static void test_sni_match(void **state)
{
    assert_true(tls_sni_match("b.example", "b.example"));
    assert_true(tls_sni_match("b.example", "B.Example"));
    assert_false(tls_sni_match("b.example", "a.b.example"));
    assert_true(tls_sni_match("*.w.example", "a.w.example"));
    assert_false(tls_sni_match("*.w.example", "a.b.w.example"));   /* one label only */
    assert_false(tls_sni_match("*.w.example", "w.example"));
    assert_false(tls_sni_match("*.w.example", ".w.example"));
}

/* SNI: a second pair chosen by server name; the default for other or no
 * names; strict mode refuses unknown names. */
static void test_sni_selection(void **state)
{
    struct fx *fx = *state;
    struct listener_conf lc = base_lc(fx);
    struct tls_listener *tl = calloc(1, sizeof *tl);
    pthread_mutex_init(&tl->lock, NULL);
    tl->lc = &lc;
    tl->ctx = build(&lc);
    tls_tickets_init(tl);
    tls_tickets_attach(tl, tl->ctx);
    tls_sni_attach(tl, tl->ctx);
    char err[512], cn[64];
    assert_int_equal(tls_listener_add_sni(tl, "b.example", fx->b_crt, fx->b_key, err, sizeof err), 0);
    assert_int_equal(tls_listener_add_sni(tl, "*.w.example", fx->b_crt, fx->b_key, err, sizeof err), 0);
    assert_int_equal(tls_listener_add_sni(tl, "bad name", fx->b_crt, fx->b_key, err, sizeof err), -1);
    assert_non_null(strstr(err, "unit.conf:7: listener 8883: SNI name 'bad name'"));
    assert_int_equal(tls_listener_add_sni(tl, "c.example", fx->b_crt, fx->srv_key, err, sizeof err), -1);

    assert_true(handshake(tl->ctx, &(struct client){ .sni = "b.example", .cn_out = cn }, NULL, 0, NULL));
    assert_string_equal(cn, "b.example");
    assert_true(handshake(tl->ctx, &(struct client){ .sni = "x.w.example", .cn_out = cn }, NULL, 0, NULL));
    assert_string_equal(cn, "b.example");
    assert_true(handshake(tl->ctx, &(struct client){ .sni = "other.example", .cn_out = cn }, NULL, 0, NULL));
    assert_string_equal(cn, "localhost");
    assert_true(handshake(tl->ctx, &(struct client){ .cn_out = cn }, NULL, 0, NULL));
    assert_string_equal(cn, "localhost");
    /* TLS 1.2 too: the name is chosen before the suite */
    assert_true(handshake(tl->ctx, &(struct client){ .maxv = TLS1_2_VERSION, .sni = "b.example",
                                                     .cn_out = cn }, NULL, 0, NULL));
    assert_string_equal(cn, "b.example");

    tls_listener_sni_strict(tl, true);
    assert_false(handshake(tl->ctx, &(struct client){ .sni = "other.example" }, NULL, 0, NULL));
    assert_true(handshake(tl->ctx, &(struct client){ .sni = "b.example" }, NULL, 0, NULL));
    assert_true(handshake(tl->ctx, &(struct client){ 0 }, NULL, 0, NULL));   /* no SNI: default */

    /* reload rebuilds the SNI contexts, all or nothing */
    assert_int_equal(tls_sni_rebuild(tl, err, sizeof err), 0);
    assert_true(handshake(tl->ctx, &(struct client){ .sni = "b.example", .cn_out = cn }, NULL, 0, NULL));
    assert_string_equal(cn, "b.example");

    tls_sni_free(tl);
    SSL_CTX_free(tl->ctx);
    tls_tickets_free(tl);
    pthread_mutex_destroy(&tl->lock);
    free(tl);
}

/* A CRL from the test CA revoking serial. */
static void write_crl(struct fx *fx, const char *path, long serial)
{
    X509_CRL *crl = X509_CRL_new();
    X509_CRL_set_version(crl, 1);
    X509_CRL_set_issuer_name(crl, X509_get_subject_name(fx->ca_cert));
    ASN1_TIME *t = ASN1_TIME_adj(NULL, time(NULL), 0, -60);
    X509_CRL_set1_lastUpdate(crl, t);
    ASN1_TIME_adj(t, time(NULL), 1, 0);
    X509_CRL_set1_nextUpdate(crl, t);
    X509_REVOKED *rv = X509_REVOKED_new();
    ASN1_INTEGER *sn = ASN1_INTEGER_new();
    ASN1_INTEGER_set(sn, serial);
    X509_REVOKED_set_serialNumber(rv, sn);
    ASN1_TIME_adj(t, time(NULL), 0, -30);
    X509_REVOKED_set_revocationDate(rv, t);
    X509_CRL_add0_revoked(crl, rv);
    X509_CRL_sort(crl);
    X509_CRL_sign(crl, fx->ca_key, EVP_sha256());
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    PEM_write_X509_CRL(f, crl);
    fclose(f);
    ASN1_INTEGER_free(sn);
    ASN1_TIME_free(t);
    X509_CRL_free(crl);
}

/* Reload with a CRL that now revokes a connected client: the re-check
 * says so; a handshake with that certificate is refused too. */
static void test_recheck_after_reload(void **state)
{
    struct fx *fx = *state;
    char crl[128], why[256] = "";
    snprintf(crl, sizeof crl, "%s/crl.pem", fx->dir);
    struct listener_conf lc = base_lc(fx);
    lc.cafile = fx->ca;
    lc.require_certificate = true;
    struct tls_listener *tl = calloc(1, sizeof *tl);
    pthread_mutex_init(&tl->lock, NULL);
    tl->lc = &lc;
    tl->ctx = build(&lc);
    SSL *sv = NULL;
    struct client alice = { .maxv = TLS1_2_VERSION, .cert = fx->cli_crt, .key = fx->cli_key };
    assert_true(handshake(tl->ctx, &alice, NULL, 0, &sv));
    struct tls_conn *tc = calloc(1, sizeof *tc);
    tls_conn_keep_peer(tc, sv, &lc);
    SSL_free(sv);
    assert_non_null(tc->peer);
    assert_int_equal(tls_conn_recheck(tl, &transport_tls, tc, why, sizeof why), 1);
    assert_int_equal(tls_conn_recheck(tl, &transport_tcp, tc, why, sizeof why), -1);

    write_crl(fx, crl, 3);   /* alice's serial */
    lc.crlfile = crl;
    SSL_CTX *fresh = build(&lc);
    SSL_CTX_free(tl->ctx);
    tl->ctx = fresh;
    assert_int_equal(tls_conn_recheck(tl, &transport_ktls, tc, why, sizeof why), 0);
    assert_non_null(strstr(why, "revoked"));
    assert_false(handshake(tl->ctx, &alice, NULL, 0, NULL));
    /* a client the CRL does not name still gets in (whole chain checked) */
    assert_true(handshake(tl->ctx, &(struct client){ .maxv = TLS1_2_VERSION, .cert = fx->nul_crt,
                                                     .key = fx->nul_key }, NULL, 0, NULL));
    tls_conn_free(tc);
    SSL_CTX_free(tl->ctx);
    pthread_mutex_destroy(&tl->lock);
    free(tl);
    unlink(crl);
}

/* Resumption with moat's ticket keys, for TLS 1.2 and 1.3: a ticket works
 * on a fresh context (reload), survives one rotation (renewed), and is
 * refused after two. */
static void resume_case(struct fx *fx, int version)
{
    struct listener_conf lc = base_lc(fx);
    struct tls_listener *tl = calloc(1, sizeof *tl);
    pthread_mutex_init(&tl->lock, NULL);
    tl->lc = &lc;
    tls_tickets_init(tl);
    tl->ctx = build(&lc);
    tls_tickets_attach(tl, tl->ctx);
    SSL_SESSION *s1 = NULL, *s2 = NULL;
    bool reused = true;
    struct client c = { .minv = version, .maxv = version, .sess_out = &s1, .reused = &reused };
    assert_true(handshake(tl->ctx, &c, NULL, 0, NULL));
    assert_false(reused);
    assert_non_null(s1);
    assert_true(SSL_SESSION_has_ticket(s1));
    assert_true(SSL_SESSION_is_resumable(s1));

    /* "reload": a fresh context, same key ring */
    SSL_CTX_free(tl->ctx);
    tl->ctx = build(&lc);
    tls_tickets_attach(tl, tl->ctx);
    c = (struct client){ .minv = version, .maxv = version, .sess_in = s1, .reused = &reused };
    assert_true(handshake(tl->ctx, &c, NULL, 0, NULL));
    assert_true(reused);

    /* one rotation: the old key still decrypts */
    tl->tk[tl->tk_cur].born_ms -= tl->tk_rotate_ms;
    c = (struct client){ .minv = version, .maxv = version, .sess_in = s1, .reused = &reused,
                         .sess_out = &s2 };
    assert_true(handshake(tl->ctx, &c, NULL, 0, NULL));   /* issues under the new key */
    assert_true(reused);
    assert_int_not_equal(tl->tk[0].born_ms, 0);
    assert_int_not_equal(tl->tk[1].born_ms, 0);
    /* two periods later the first key is gone */
    tl->tk[0].born_ms -= 2 * tl->tk_rotate_ms;
    tl->tk[1].born_ms -= 2 * tl->tk_rotate_ms;
    c = (struct client){ .minv = version, .maxv = version, .sess_in = s1, .reused = &reused };
    assert_true(handshake(tl->ctx, &c, NULL, 0, NULL));
    /* s1's key is now the previous one and expired, or replaced: full handshake */
    assert_false(reused);
    SSL_SESSION_free(s1);
    SSL_SESSION_free(s2);
    SSL_CTX_free(tl->ctx);
    tls_tickets_free(tl);
    pthread_mutex_destroy(&tl->lock);
    free(tl);
}

static void test_ticket_resumption(void **state)
{
    resume_case(*state, TLS1_3_VERSION);
    resume_case(*state, TLS1_2_VERSION);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_versions),
        cmocka_unit_test(test_tls_version_is_a_minimum),
        cmocka_unit_test(test_only_aead_suites),
        cmocka_unit_test(test_groups),
        cmocka_unit_test(test_server_preference),
        cmocka_unit_test(test_operator_lists_cut_to_policy),
        cmocka_unit_test(test_files_and_verify_config),
        cmocka_unit_test(test_client_certificates),
        cmocka_unit_test(test_sni_match),
        cmocka_unit_test(test_sni_selection),
        cmocka_unit_test(test_recheck_after_reload),
        cmocka_unit_test(test_ticket_resumption),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
