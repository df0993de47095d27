/* A throwaway development CA and server certificate, for listeners with
 * moat_dev_certificate true and no certfile (the embedded default's TLS
 * listener): `make run` gets TLS without any certificate configured. Made
 * once under STATE_DIR/dev-tls and reused; clients trust its ca.crt. */
#include "tls/tls.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "config.h"
#include "util/err.h"
#include "util/log.h"

#define DEV_DAYS 365

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ext)
        return -1;
    int r = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return r == 1 ? 0 : -1;
}

/* issuer NULL: self-signed CA. */
static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key)
{
    X509 *x = X509_new();
    BIGNUM *bn = BN_new();
    if (!x || !bn || !X509_set_version(x, 2) || !BN_rand(bn, 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
        !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) ||
        !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
        !X509_gmtime_adj(X509_getm_notAfter(x), (long)DEV_DAYS * 86400) ||
        !X509_set_pubkey(x, key) ||
        !X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                                    (const unsigned char *)cn, -1, -1, 0) ||
        !X509_set_issuer_name(x, X509_get_subject_name(issuer ? issuer : x)))
        goto fail;
    if (!issuer) {
        if (add_ext(x, NULL, NID_basic_constraints, "critical,CA:TRUE") < 0 ||
            add_ext(x, NULL, NID_key_usage, "critical,keyCertSign,cRLSign") < 0 ||
            add_ext(x, NULL, NID_subject_key_identifier, "hash") < 0)
            goto fail;
    } else if (add_ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
               add_ext(x, issuer, NID_key_usage, "critical,digitalSignature") < 0 ||
               add_ext(x, issuer, NID_ext_key_usage, "serverAuth") < 0 ||
               add_ext(x, issuer, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1") < 0 ||
               add_ext(x, issuer, NID_authority_key_identifier, "keyid") < 0) {
        goto fail;
    }
    if (!X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()))
        goto fail;
    BN_free(bn);
    return x;
fail:
    BN_free(bn);
    X509_free(x);
    return NULL;
}

static int write_pem(const char *path, mode_t mode, X509 *cert, EVP_PKEY *key)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int ok = cert ? PEM_write_X509(f, cert) : PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
    return fclose(f) == 0 && ok ? 0 : -1;
}

static int generate(const char *dir, char *err, size_t errlen)
{
    EVP_PKEY *cak = EVP_EC_gen("P-256"), *srvk = EVP_EC_gen("P-256");
    X509 *ca = cak ? make_cert(cak, "moat development CA (throwaway)", NULL, NULL) : NULL;
    X509 *srv = ca && srvk ? make_cert(srvk, "localhost", ca, cak) : NULL;
    char p[4400];
    int r = -1;
    if (!srv) {
        err_set(err, errlen, "cannot generate the development certificate (OpenSSL)");
        goto out;
    }
#define PATH(name) (snprintf(p, sizeof p, "%s/%s", dir, name), p)
    if (write_pem(PATH("ca.key"), 0600, NULL, cak) < 0 || write_pem(PATH("ca.crt"), 0644, ca, NULL) < 0 ||
        write_pem(PATH("server.key"), 0600, NULL, srvk) < 0 ||
        write_pem(PATH("server.crt"), 0644, srv, NULL) < 0) {
        err_set(err, errlen, "%s: %s", p, strerror(errno));
        goto out;
    }
#undef PATH
    r = 0;
out:
    X509_free(srv);
    X509_free(ca);
    EVP_PKEY_free(srvk);
    EVP_PKEY_free(cak);
    return r;
}

/* state_dir, or ~/.local/state/moat when it cannot be created (not root). */
static int pick_dir(const char *state_dir, char *dir, size_t len)
{
    snprintf(dir, len, "%s", state_dir);
    if (mkdir(dir, 0700) == 0 || errno == EEXIST) {
        if (access(dir, W_OK) == 0)
            return 0;
    }
    const char *home = getenv("HOME");
    if (!home)
        return -1;
    char d1[4096];
    snprintf(d1, sizeof d1, "%s/.local", home);
    mkdir(d1, 0700);
    snprintf(d1, sizeof d1, "%s/.local/state", home);
    mkdir(d1, 0700);
    snprintf(dir, len, "%s/.local/state/moat", home);
    return mkdir(dir, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

int tls_devcert_prepare(struct moat_config *cfg, char *err, size_t errlen)
{
    for (size_t i = 0; i < cfg->n_listeners; i++) {
        struct listener_conf *l = &cfg->listeners[i];
        if (!l->dev_certificate || l->certfile || l->keyfile)
            continue;
        char dir[4096], sub[4200], crt[4300], key[4300], ca[4300];
        if (pick_dir(cfg->moat_state_dir ? cfg->moat_state_dir : "/var/lib/moat", dir, sizeof dir) < 0)
            return err_set(err, errlen, "%s:%d: listener %u: moat_dev_certificate: no writable state directory",
                           l->file ? l->file : cfg->source, l->line, l->port);
        snprintf(sub, sizeof sub, "%s/dev-tls", dir);
        if (mkdir(sub, 0700) < 0 && errno != EEXIST)
            return err_set(err, errlen, "%s: %s", sub, strerror(errno));
        snprintf(crt, sizeof crt, "%s/server.crt", sub);
        snprintf(key, sizeof key, "%s/server.key", sub);
        snprintf(ca, sizeof ca, "%s/ca.crt", sub);
        if (access(crt, R_OK) != 0 || access(key, R_OK) != 0 || access(ca, R_OK) != 0) {
            if (generate(sub, err, errlen) < 0)
                return -1;
            log_notice("listener %u: generated a throwaway development CA and certificate in %s",
                       l->port, sub);
        }
        if (!(l->certfile = strdup(crt)) || !(l->keyfile = strdup(key)))
            return err_set(err, errlen, "out of memory");
        l->tls = true;
        log_notice("listener %u: TLS with the development certificate; clients trust %s "
                   "(e.g. mosquitto_sub -h localhost -p %u --cafile %s -t '#')",
                   l->port, ca, l->port, ca);
    }
    return 0;
}
