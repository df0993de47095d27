/* SNI: per-listener certificate/key pairs chosen by the server name the
 * client sends, with the listener's pair as the default (or a refusal,
 * when strict). The callback runs on handshake workers; reload swaps the
 * contexts under the listener's lock. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "tls/tls_internal.h"
#include "util/log.h"

#define SNI_NAME_MAX 253   /* a DNS name */

bool tls_sni_match(const char *pattern, const char *name)
{
    if (pattern[0] == '*' && pattern[1] == '.') {
        const char *dot = strchr(name, '.');
        /* one non-empty label, then the rest exactly */
        return dot && dot != name && strcasecmp(dot + 1, pattern + 2) == 0;
    }
    return strcasecmp(pattern, name) == 0;
}

static int on_servername(SSL *ssl, int *alert, void *arg)
{
    struct tls_listener *tl = arg;
    const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (!name || !*name)
        return SSL_TLSEXT_ERR_OK;   /* no SNI: the default pair */
    int r = SSL_TLSEXT_ERR_OK;
    pthread_mutex_lock(&tl->lock);
    size_t i;
    for (i = 0; i < tl->n_sni; i++)
        if (tls_sni_match(tl->sni[i].name, name))
            break;
    if (i < tl->n_sni) {
        if (!SSL_set_SSL_CTX(ssl, tl->sni[i].ctx)) {
            *alert = SSL_AD_INTERNAL_ERROR;
            r = SSL_TLSEXT_ERR_ALERT_FATAL;
        }
    } else if (tl->sni_strict && tl->n_sni) {
        *alert = SSL_AD_UNRECOGNIZED_NAME;
        r = SSL_TLSEXT_ERR_ALERT_FATAL;
    }
    pthread_mutex_unlock(&tl->lock);
    return r;
}

void tls_sni_attach(struct tls_listener *tl, SSL_CTX *ctx)
{
    SSL_CTX_set_tlsext_servername_callback(ctx, on_servername);
    SSL_CTX_set_tlsext_servername_arg(ctx, tl);
}

static bool name_ok(const char *n)
{
    size_t len = strlen(n);
    if (len == 0 || len > SNI_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)n[i];
        bool star = c == '*' && i == 0 && n[1] == '.';
        if (!star && !(c == '.' || c == '-' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                       (c >= 'A' && c <= 'Z')))
            return false;
    }
    return true;
}

int tls_listener_add_sni(struct tls_listener *tl, const char *name, const char *certfile,
                         const char *keyfile, char *err, size_t errlen)
{
    const struct listener_conf *lc = tl->lc;
    const char *f = lc->file ? lc->file : "?";
    if (!name_ok(name)) {
        snprintf(err, errlen, "%s:%d: listener %u: SNI name '%s': not a DNS name or *.wildcard",
                 f, lc->line, lc->port, name);
        return -1;
    }
    if (tl->n_sni >= TLS_SNI_MAX) {
        snprintf(err, errlen, "%s:%d: listener %u: more than %d SNI names", f, lc->line,
                 lc->port, TLS_SNI_MAX);
        return -1;
    }
    SSL_CTX *ctx = tls_ctx_build(lc, tl->ktls, certfile, keyfile, err, errlen);
    if (!ctx)
        return -1;
    tls_tickets_attach(tl, ctx);
    struct tls_sni e = { .name = strdup(name), .certfile = strdup(certfile),
                         .keyfile = strdup(keyfile), .ctx = ctx };
    if (!e.name || !e.certfile || !e.keyfile) {
        free(e.name); free(e.certfile); free(e.keyfile);
        SSL_CTX_free(ctx);
        snprintf(err, errlen, "%s:%d: listener %u: out of memory", f, lc->line, lc->port);
        return -1;
    }
    pthread_mutex_lock(&tl->lock);
    tl->sni[tl->n_sni++] = e;
    pthread_mutex_unlock(&tl->lock);
    return 0;
}

void tls_listener_sni_strict(struct tls_listener *tl, bool strict)
{
    pthread_mutex_lock(&tl->lock);
    tl->sni_strict = strict;
    pthread_mutex_unlock(&tl->lock);
}

int tls_sni_rebuild(struct tls_listener *tl, char *err, size_t errlen)
{
    SSL_CTX *fresh[TLS_SNI_MAX];
    size_t n = tl->n_sni;   /* only the engine thread adds entries */
    for (size_t i = 0; i < n; i++) {
        fresh[i] = tls_ctx_build(tl->lc, tl->ktls, tl->sni[i].certfile, tl->sni[i].keyfile, err,
                                 errlen);
        if (!fresh[i]) {
            while (i--)
                SSL_CTX_free(fresh[i]);
            return -1;
        }
        tls_tickets_attach(tl, fresh[i]);
    }
    pthread_mutex_lock(&tl->lock);
    for (size_t i = 0; i < n; i++) {
        SSL_CTX *old = tl->sni[i].ctx;
        tl->sni[i].ctx = fresh[i];
        fresh[i] = old;
    }
    pthread_mutex_unlock(&tl->lock);
    for (size_t i = 0; i < n; i++)
        SSL_CTX_free(fresh[i]);
    return 0;
}

void tls_sni_free(struct tls_listener *tl)
{
    for (size_t i = 0; i < tl->n_sni; i++) {
        SSL_CTX_free(tl->sni[i].ctx);
        free(tl->sni[i].name);
        free(tl->sni[i].certfile);
        free(tl->sni[i].keyfile);
    }
    tl->n_sni = 0;
}
