/* Re-checking live connections after a reload: a client certificate
 * revoked (new CRL) or expired since its handshake must not keep its
 * connection. The verified certificate and chain are kept per connection
 * (references, not copies) only on listeners that verify clients. */
#include <stdio.h>

#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "config.h"
#include "tls/tls_internal.h"

void tls_conn_keep_peer(struct tls_conn *tc, SSL *ssl, const struct listener_conf *lc)
{
    if (!lc->cafile && !lc->capath)
        return;
    X509 *leaf = SSL_get1_peer_certificate(ssl);
    if (!leaf)
        return;
    if (SSL_get_verify_result(ssl) != X509_V_OK) {
        X509_free(leaf);
        return;
    }
    /* Server side: the chain as sent, without the leaf. */
    STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
    tc->peer = leaf;
    tc->peer_chain = chain ? X509_chain_up_ref(chain) : NULL;
}

int tls_conn_recheck(struct tls_listener *tl, const struct transport *t, void *tctx,
                     char *why, size_t whylen)
{
    if (!tctx || (t != &transport_tls && t != &transport_ktls))
        return -1;
    struct tls_conn *tc = tctx;
    if (!tc->peer)
        return 1;
    pthread_mutex_lock(&tl->lock);
    SSL_CTX *ctx = tl->ctx;
    SSL_CTX_up_ref(ctx);
    pthread_mutex_unlock(&tl->lock);
    int r = 0;
    X509_STORE_CTX *sc = X509_STORE_CTX_new();
    if (sc && X509_STORE_CTX_init(sc, SSL_CTX_get_cert_store(ctx), tc->peer, tc->peer_chain) == 1) {
        X509_STORE_CTX_set_purpose(sc, X509_PURPOSE_SSL_CLIENT);
        if (X509_verify_cert(sc) == 1)
            r = 1;
        else
            snprintf(why, whylen, "client certificate: %s",
                     X509_verify_cert_error_string(X509_STORE_CTX_get_error(sc)));
    } else {
        /* Out of memory: keep the connection rather than drop everyone. */
        r = 1;
    }
    X509_STORE_CTX_free(sc);
    SSL_CTX_free(ctx);
    return r;
}
