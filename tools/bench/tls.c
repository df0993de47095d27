/* OpenSSL client side of moat-bench; see tls.h. */
#include "tls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

/* Sessions to offer. A TLS 1.3 ticket is single-use on an OpenSSL server
 * (anti-replay), so each saved session is offered once: a stack of the
 * newest ones, bounded. */
#define SESS_MAX 256

struct bench_tls {
    SSL_CTX *ctx;
    bool resume;
    unsigned nsess;
    SSL_SESSION *sess[SESS_MAX];
};

static void ssl_errstr(const char *what, int code, char *err, size_t errlen)
{
    unsigned long e = ERR_get_error();
    char buf[160];

    if (e) {
        ERR_error_string_n(e, buf, sizeof(buf));
    } else if (code == SSL_ERROR_SYSCALL) {
        snprintf(buf, sizeof(buf), "%s", errno ? strerror(errno) : "unexpected EOF");
    } else {
        snprintf(buf, sizeof(buf), "SSL error %d", code);
    }
    snprintf(err, errlen, "%s: %s", what, buf);
    ERR_clear_error();
}

struct bench_tls *btls_new(bool resume, const char *max_version, char *err, size_t errlen)
{
    struct bench_tls *t = calloc(1, sizeof(*t));

    if (!t) {
        snprintf(err, errlen, "TLS: out of memory");
        return NULL;
    }
    t->resume = resume;
    t->ctx = SSL_CTX_new(TLS_client_method());
    if (!t->ctx) {
        ssl_errstr("SSL_CTX_new", 0, err, errlen);
        free(t);
        return NULL;
    }
    SSL_CTX_set_verify(t->ctx, SSL_VERIFY_NONE, NULL);
    if (max_version && !SSL_CTX_set_max_proto_version(t->ctx, strcmp(max_version, "1.2") == 0
                                                                  ? TLS1_2_VERSION : TLS1_3_VERSION)) {
        ssl_errstr("SSL_CTX_set_max_proto_version", 0, err, errlen);
        SSL_CTX_free(t->ctx);
        free(t);
        return NULL;
    }
    /* Partial writes and a buffer that moves between retries: conn.c
     * compacts its output buffer. */
    SSL_CTX_set_mode(t->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_session_cache_mode(t->ctx, resume ? SSL_SESS_CACHE_CLIENT : SSL_SESS_CACHE_OFF);
    if (!resume)
        SSL_CTX_set_options(t->ctx, SSL_OP_NO_TICKET);
    return t;
}

void btls_free(struct bench_tls *t)
{
    if (!t)
        return;
    while (t->nsess > 0)
        SSL_SESSION_free(t->sess[--t->nsess]);
    SSL_CTX_free(t->ctx);
    free(t);
}

void *btls_conn_new(struct bench_tls *t, int fd, char *err, size_t errlen)
{
    SSL *s = SSL_new(t->ctx);

    if (!s || !SSL_set_fd(s, fd)) {
        ssl_errstr("SSL_new", 0, err, errlen);
        SSL_free(s);
        return NULL;
    }
    SSL_set_connect_state(s);
    if (t->resume && t->nsess > 0) {
        SSL_SESSION *o = t->sess[--t->nsess];

        SSL_set_session(s, o);   /* takes its own reference */
        SSL_SESSION_free(o);
    }
    return s;
}

void btls_conn_free(struct bench_tls *t, void *ssl)
{
    SSL *s = ssl;

    if (!s)
        return;
    /* close_notify: a server removes a session from its cache when the
     * connection ends without one, which would defeat resumption. One call
     * queues it; moat-bench does not wait for the peer's. */
    if (SSL_is_init_finished(s))
        (void)SSL_shutdown(s);
    ERR_clear_error();
    if (t->resume) {
        /* TLS 1.3 tickets arrive after the handshake, so the session is
         * taken at close, once the connection has read them. */
        SSL_SESSION *ns = SSL_get1_session(s);

        if (ns && SSL_SESSION_is_resumable(ns) && t->nsess < SESS_MAX) {
            t->sess[t->nsess++] = ns;
        } else if (ns) {
            SSL_SESSION_free(ns);
        }
    }
    SSL_free(s);
}

int btls_handshake(void *ssl, char *err, size_t errlen)
{
    int rc = SSL_do_handshake(ssl), e;

    if (rc == 1)
        return 1;
    e = SSL_get_error(ssl, rc);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        return 0;
    ssl_errstr("TLS handshake", e, err, errlen);
    return -1;
}

bool btls_resumed(void *ssl)
{
    return SSL_session_reused(ssl) == 1;
}

ssize_t btls_write(void *ssl, const void *buf, size_t len, bool *again, char *err, size_t errlen)
{
    int n = SSL_write(ssl, buf, len > (size_t)1 << 30 ? 1 << 30 : (int)len), e;

    *again = false;
    if (n > 0)
        return n;
    e = SSL_get_error(ssl, n);
    if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
        *again = true;
        return -1;
    }
    ssl_errstr("SSL_write", e, err, errlen);
    return -1;
}

ssize_t btls_read(void *ssl, void *buf, size_t len, bool *again, char *err, size_t errlen)
{
    int n = SSL_read(ssl, buf, len > (size_t)1 << 30 ? 1 << 30 : (int)len), e;

    *again = false;
    if (n > 0)
        return n;
    e = SSL_get_error(ssl, n);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        *again = true;
        return -1;
    }
    if (e == SSL_ERROR_ZERO_RETURN)
        return 0;
    if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
        return 0;   /* EOF without close_notify: the broker closed */
    }
    ssl_errstr("SSL_read", e, err, errlen);
    return -1;
}
