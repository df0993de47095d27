/* Userspace TLS transport: SSL_read/SSL_write on the engine thread over a
 * non-blocking socket. Also carries "mixed" connections (kernel TX set up
 * by OpenSSL, userspace RX): OpenSSL's SSL_write then hands plaintext to
 * the kernel itself. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>

#include "tls/tls_internal.h"
#include "util/log.h"

#define TLS_RECORD_MAX 16384   /* plaintext bytes per record */

void tls_conn_free(struct tls_conn *tc)
{
    if (!tc)
        return;
    if (tc->ssl)
        SSL_free(tc->ssl);
    free(tc->identity);
    X509_free(tc->peer);
    sk_X509_pop_free(tc->peer_chain, X509_free);
    OPENSSL_cleanse(&tc->rx, sizeof tc->rx);
    OPENSSL_cleanse(&tc->tx, sizeof tc->tx);
    free(tc);
}

/* Maps a failed SSL_read/SSL_write to the transport contract. */
static ssize_t ssl_fail(struct tls_conn *tc, int r, const char *op)
{
    int e = SSL_get_error(tc->ssl, r);
    switch (e) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_ZERO_RETURN:      /* close_notify */
        return 0;
    case SSL_ERROR_SYSCALL:
        tc->fatal = true;
        if (errno == 0)
            return 0;                /* EOF without close_notify */
        return -1;
    default: {
        tc->fatal = true;
        unsigned long code = ERR_peek_error();
        if (ERR_GET_LIB(code) == ERR_LIB_SSL &&
            ERR_GET_REASON(code) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
            ERR_clear_error();
            return 0;
        }
        char why[256];
        tls_errstr(why, sizeof why);
        log_info("TLS %s on fd %d: %s", op, SSL_get_fd(tc->ssl), why);
        errno = EPROTO;
        return -1;
    }
    }
}

static ssize_t tls_read(int fd, void *ctx, void *buf, size_t len)
{
    struct tls_conn *tc = ctx;
    if (len > INT_MAX)
        len = INT_MAX;
    ERR_clear_error();
    errno = 0;
    int n = SSL_read(tc->ssl, buf, (int)len);
    if (n > 0)
        return n;
    return ssl_fail(tc, n, "read");
}

/* Copies exactly len bytes starting at (*i, *off) of iov into dst, or
 * returns a pointer into iov when they are contiguous there. */
static const void *gather(const struct iovec *iov, int iovcnt, int i, size_t off, size_t len,
                          uint8_t *dst)
{
    if (iov[i].iov_len - off >= len)
        return (const uint8_t *)iov[i].iov_base + off;
    size_t got = 0;
    while (got < len && i < iovcnt) {
        size_t n = iov[i].iov_len - off;
        if (n > len - got)
            n = len - got;
        memcpy(dst + got, (const uint8_t *)iov[i].iov_base + off, n);
        got += n;
        off = 0;
        i++;
    }
    return dst;
}

/* Gathers the iovec into records. After EAGAIN the engine's next call
 * starts with the same bytes (its output queue only advances by what was
 * written), which is what OpenSSL's retry rule needs: the record of a
 * WANT_WRITE is repeated with the same length (stuck_len). */
static ssize_t tls_writev(int fd, void *ctx, const struct iovec *iov, int iovcnt)
{
    struct tls_conn *tc = ctx;
    uint8_t buf[TLS_RECORD_MAX];
    size_t avail = 0;
    for (int k = 0; k < iovcnt; k++)
        avail += iov[k].iov_len;
    if (tc->stuck_len > avail) {
        errno = EPROTO;   /* the caller broke the retry contract */
        return -1;
    }
    size_t total = 0;
    int i = 0;
    size_t off = 0;
    while (total < avail) {
        while (i < iovcnt && off == iov[i].iov_len) {
            i++;
            off = 0;
        }
        if (i == iovcnt)
            break;
        size_t len = tc->stuck_len ? tc->stuck_len
                                   : (avail - total > TLS_RECORD_MAX ? TLS_RECORD_MAX
                                                                     : avail - total);
        const void *p = gather(iov, iovcnt, i, off, len, buf);
        ERR_clear_error();
        errno = 0;
        int n = SSL_write(tc->ssl, p, (int)len);
        if (n <= 0) {
            ssize_t r = ssl_fail(tc, n, "write");
            if (r < 0 && errno == EAGAIN)
                tc->stuck_len = (uint32_t)len;
            if (total)
                return (ssize_t)total;
            if (r == 0) {         /* peer closed while we write */
                errno = EPIPE;
                return -1;
            }
            return r;
        }
        tc->stuck_len = 0;
        total += (size_t)n;
        /* advance (i, off) by n */
        size_t adv = (size_t)n;
        while (adv) {
            size_t room = iov[i].iov_len - off;
            if (adv < room) {
                off += adv;
                adv = 0;
            } else {
                adv -= room;
                i++;
                off = 0;
            }
        }
    }
    return (ssize_t)total;
}

static size_t tls_pending(int fd, void *ctx)
{
    struct tls_conn *tc = ctx;
    return (size_t)SSL_pending(tc->ssl);
}

static void tls_close(int fd, void *ctx)
{
    struct tls_conn *tc = ctx;
    if (tc && tc->ssl && !tc->fatal) {
        /* One non-blocking try: close_notify goes out if the socket takes
         * it; we never wait for the peer's. */
        ERR_clear_error();
        if (SSL_shutdown(tc->ssl) < 0)
            ERR_clear_error();
    }
    tls_conn_free(tc);
    close(fd);
}

const struct transport transport_tls = {
    .name = "tls",
    .read = tls_read,
    .writev = tls_writev,
    .pending = tls_pending,
    .close = tls_close,
};

const char *tls_conn_identity(const struct transport *t, void *tctx)
{
    if (!tctx || (t != &transport_tls && t != &transport_ktls))
        return NULL;
    return ((struct tls_conn *)tctx)->identity;
}

const char *tls_conn_mode(const struct transport *t, void *tctx)
{
    if (t == &transport_ktls)
        return "ktls";
    if (t != &transport_tls || !tctx)
        return NULL;
    struct tls_conn *tc = tctx;
    return BIO_get_ktls_send(SSL_get_wbio(tc->ssl)) ? "ktls-tx" : "userspace";
}
