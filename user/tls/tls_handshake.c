/* The TLS handshake, one step per worker job: SSL_accept on the
 * non-blocking socket until it wants to read or write, then the socket
 * goes back to the listener's poller (tls_hs_poller.c) until it is ready
 * again, so a slow or silent client never holds a worker. Once done: the
 * choice of transport (kTLS both ways, kernel TX + userspace RX, or
 * userspace) and the hand-off to the engine thread with engine_adopt(). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/tls.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "broker/engine.h"
#include "config.h"
#include "tls/tls_internal.h"
#include "util/log.h"


void tls_keylog_cb(const SSL *ssl, const char *line)
{
    struct tls_hs *hs = SSL_get_app_data(ssl);
    if (!hs)
        return;
    if (tls_keylog_parse(line, "CLIENT_TRAFFIC_SECRET_0", &hs->crx) < 0)
        hs->crx.len = 0;
    if (tls_keylog_parse(line, "SERVER_TRAFFIC_SECRET_0", &hs->stx) < 0)
        hs->stx.len = 0;
}

static void peer_of(int fd, char *buf, size_t len)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char a[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET) {
            struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
            inet_ntop(AF_INET, &s4->sin_addr, a, sizeof a);
            port = ntohs(s4->sin_port);
            snprintf(buf, len, "%s:%u", a, port);
            return;
        }
        if (ss.ss_family == AF_INET6) {
            struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
            inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof a);
            port = ntohs(s6->sin6_port);
        }
    }
    snprintf(buf, len, "[%s]:%u", a, port);
}

/* Why SSL_accept failed, with the certificate verdict when there is one. */
static void accept_error(SSL *ssl, int e, char *why, size_t whylen)
{
    long vr = SSL_get_verify_result(ssl);
    char ossl[256];
    if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
        snprintf(ossl, sizeof ossl, "%s", errno ? strerror(errno) : "connection closed");
    else
        tls_errstr(ossl, sizeof ossl);
    if (vr != X509_V_OK)
        snprintf(why, whylen, "%s (certificate: %s)", ossl, X509_verify_cert_error_string(vr));
    else
        snprintf(why, whylen, "%s", ossl);
}

/* Picks the transport once the handshake is done; fills tc. */
static const struct transport *choose(struct tls_hs *hs, SSL *ssl, struct tls_conn *tc,
                                      const char **mode)
{
    struct tls_listener *tl = hs->tl;
    bool tx = BIO_get_ktls_send(SSL_get_wbio(ssl));
    bool rx = BIO_get_ktls_recv(SSL_get_rbio(ssl));
    const SSL_CIPHER *c = SSL_get_current_cipher(ssl);
    tc->cipher_id = c ? (uint16_t)SSL_CIPHER_get_protocol_id(c) : 0;
    bool tls13 = SSL_version(ssl) == TLS1_3_VERSION;
    /* OpenSSL 3.0 puts TLS 1.3 TX in the kernel but not RX: install RX
     * from the client traffic secret. Sequence 0 is right only if OpenSSL
     * read no application record; with read-ahead off it has not, which
     * SSL_has_pending confirms. */
    if (tl->ktls && tl->ktls_rx13 && tls13 && tx && !rx && hs->crx.len && !SSL_has_pending(ssl)) {
        if (ktls13_install(hs->fd, TLS_RX, tc->cipher_id, &hs->crx, 0) == 0)
            rx = true;
        else
            log_info("%s: kTLS RX for TLS 1.3 not installed: %s", hs->peer, strerror(errno));
    }
    if (tx && rx && !SSL_has_pending(ssl)) {
        if (tls13) {
            tc->rx = hs->crx;   /* kept for KeyUpdate rekeying */
            tc->tx = hs->stx;
        }
        *mode = "kTLS tx+rx";
        atomic_fetch_add(&tl->st.mode_ktls, 1);
        return &transport_ktls;
    }
    tc->ssl = ssl;
    if (tx) {
        *mode = "kTLS tx, userspace rx";
        atomic_fetch_add(&tl->st.mode_mixed, 1);
    } else {
        *mode = tl->ktls          ? "userspace (not offloaded)"
                : tl->kernel_ktls ? "userspace (kTLS turned off)"
                                  : "userspace (kernel has no kTLS)";
        atomic_fetch_add(&tl->st.mode_user, 1);
    }
    return &transport_tls;
}

void tls_hs_fail(struct tls_hs *hs, const char *why, bool count_failed)
{
    struct tls_listener *tl = hs->tl;
    if (why)
        log_notice("%s: TLS handshake refused: %s", hs->peer, why);
    if (count_failed) {
        atomic_fetch_add(&tl->st.failed, 1);
        engine_tls_failed(tl->eng, hs->fd);   /* the detector counts it per source */
    }
    OPENSSL_cleanse(&hs->crx, sizeof hs->crx);
    OPENSSL_cleanse(&hs->stx, sizeof hs->stx);
    if (hs->ssl)
        SSL_free(hs->ssl);
    close(hs->fd);   /* also leaves the poller's epoll set */
    free(hs);
}

/* The handshake is done: pick the transport, log the mode, hand over. */
static void finish(struct tls_hs *hs)
{
    struct tls_listener *tl = hs->tl;
    SSL *ssl = hs->ssl;
    SSL_set_app_data(ssl, NULL);
    struct tls_conn *tc = calloc(1, sizeof *tc);
    if (!tc) {
        tls_hs_fail(hs, "out of memory", true);
        return;
    }
    tc->st = &tl->st;
    tc->identity = tls_identity_of(ssl, tl->lc);
    tls_conn_keep_peer(tc, ssl, tl->lc);
    const char *mode = "";
    const struct transport *t = choose(hs, ssl, tc, &mode);
    bool resumed = SSL_session_reused(ssl);
    if (resumed)
        atomic_fetch_add(&tl->st.resumed, 1);
    log_info("%s: TLS %s %s%s, %s%s%s", hs->peer, SSL_get_version(ssl),
             SSL_get_cipher_name(ssl), resumed ? " (resumed)" : "", mode,
             tc->identity ? ", certificate identity " : "", tc->identity ? tc->identity : "");
    if (t == &transport_ktls) {
        /* The kernel holds the record state now. Marked shut down, so
         * SSL_free does not evict the session from the cache (which would
         * stop TLS 1.2 session-id resumption of kTLS connections). */
        SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
        SSL_free(ssl);
    }
    OPENSSL_cleanse(&hs->crx, sizeof hs->crx);
    OPENSSL_cleanse(&hs->stx, sizeof hs->stx);
    atomic_fetch_add(&tl->st.handshakes, 1);
    int fd = hs->fd;
    struct engine *e = tl->eng;
    const struct listener *lst = hs->lst;
    free(hs);
    if (atomic_load(&tl->stopping)) {
        t->close(fd, tc);   /* the engine is going away: nothing would adopt it */
        return;
    }
    engine_adopt(e, fd, t, tc, lst);   /* closes through t on failure */
}

void tls_handshake_job(void *arg)
{
    struct tls_hs *hs = arg;
    struct tls_listener *tl = hs->tl;
    char why[512];
    if (atomic_load(&tl->stopping)) {
        tls_hs_forget(tl, hs);
        tls_hs_fail(hs, NULL, false);
        return;
    }
    if (!hs->ssl) {   /* first step */
        pthread_mutex_lock(&tl->lock);
        SSL_CTX *ctx = tl->ctx;
        SSL_CTX_up_ref(ctx);
        pthread_mutex_unlock(&tl->lock);
        hs->ssl = SSL_new(ctx);
        SSL_CTX_free(ctx);   /* the SSL holds its own reference */
        if (!hs->ssl || SSL_set_fd(hs->ssl, hs->fd) != 1) {
            tls_hs_forget(tl, hs);
            tls_hs_fail(hs, "out of memory for the handshake", true);
            return;
        }
        SSL_set_app_data(hs->ssl, hs);
        SSL_set_accept_state(hs->ssl);
    }
    ERR_clear_error();
    errno = 0;
    int r = SSL_accept(hs->ssl);
    if (r == 1) {
        tls_hs_forget(tl, hs);
        finish(hs);
        return;
    }
    int e = SSL_get_error(hs->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        tls_hs_wait(tl, hs, e == SSL_ERROR_WANT_WRITE);   /* back to the poller */
        return;
    }
    accept_error(hs->ssl, e, why, sizeof why);
    tls_hs_forget(tl, hs);
    tls_hs_fail(hs, why, true);
}

struct tls_hs *tls_hs_new(struct tls_listener *tl, int fd, const struct listener *lst)
{
    struct tls_hs *hs = calloc(1, sizeof *hs);
    if (hs) {
        hs->tl = tl;
        hs->fd = fd;
        hs->lst = lst;
        peer_of(fd, hs->peer, sizeof hs->peer);
    }
    return hs;
}
