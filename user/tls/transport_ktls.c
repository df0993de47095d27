/* Kernel TLS transport: both record directions are in the kernel, so the
 * engine reads and writes plaintext on the socket. Every read is a
 * recvmsg with room for the record-type cmsg, because the kernel hands
 * non-data records (alerts, TLS 1.3 KeyUpdate) to the application. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/tls.h>

#include "tls/tls_internal.h"
#include "util/log.h"

#ifndef SOL_TLS
#define SOL_TLS 282
#endif

#define REC_ALERT      21
#define REC_HANDSHAKE  22
#define REC_APPDATA    23
#define HS_KEY_UPDATE  24

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* One record of type `type` through the kernel's TX path. */
static int send_record(int fd, uint8_t type, const void *data, size_t len)
{
    char cbuf[CMSG_SPACE(sizeof(uint8_t))];
    memset(cbuf, 0, sizeof cbuf);
    struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                         .msg_controllen = sizeof cbuf };
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    cm->cmsg_level = SOL_TLS;
    cm->cmsg_type = TLS_SET_RECORD_TYPE;
    cm->cmsg_len = CMSG_LEN(sizeof(uint8_t));
    memcpy(CMSG_DATA(cm), &type, 1);
    ssize_t n = sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
    return n == (ssize_t)len ? 0 : -1;
}

/* A KeyUpdate from the peer (RFC 8446 4.6.3). Kernels with TLS 1.3 rekey
 * (6.14+) pause RX at the KeyUpdate until a new key is set; older ones
 * refuse a second TLS_RX, and the connection is closed. 0 to continue,
 * -1 to close (logged and counted). */
static int on_key_update(int fd, struct tls_conn *tc, const uint8_t *m, size_t len)
{
    uint64_t now = mono_ms();
    if (len != 5 || m[0] != HS_KEY_UPDATE || m[1] || m[2] || m[3] != 1 || m[4] > 1) {
        log_notice("kTLS fd %d: unexpected handshake message (type %u, %zu bytes); closing",
                   fd, len ? m[0] : 0, len);
        return -1;
    }
    const char *hash = ktls13_hash(tc->cipher_id);
    if (!hash || !tc->rx.len) {
        log_notice("kTLS fd %d: KeyUpdate on a connection without TLS 1.3 secrets; closing", fd);
        goto closed;
    }
    if (tc->keyupdates >= TLS_KEYUPDATE_MAX ||
        (tc->last_keyupdate_ms && now - tc->last_keyupdate_ms < TLS_KEYUPDATE_MIN_INTERVAL_MS)) {
        log_notice("kTLS fd %d: KeyUpdate rate limit (%u so far, at most one per %d ms); closing",
                   fd, tc->keyupdates, TLS_KEYUPDATE_MIN_INTERVAL_MS);
        goto closed;
    }
    tc->keyupdates++;
    tc->last_keyupdate_ms = now;
    if (tls13_next_secret(hash, tc->rx.secret, tc->rx.len) < 0 ||
        ktls13_install(fd, TLS_RX, tc->cipher_id, &tc->rx, 0) < 0) {
        log_notice("kTLS fd %d: KeyUpdate: kernel cannot rekey RX (%s; needs Linux 6.14+); "
                   "closing", fd, strerror(errno));
        goto closed;
    }
    if (m[4] == 1) {   /* update_requested: answer with our own, then rekey TX */
        static const uint8_t ku[5] = { HS_KEY_UPDATE, 0, 0, 1, 0 };
        if (!tc->tx.len || send_record(fd, REC_HANDSHAKE, ku, sizeof ku) < 0 ||
            tls13_next_secret(hash, tc->tx.secret, tc->tx.len) < 0 ||
            ktls13_install(fd, TLS_TX, tc->cipher_id, &tc->tx, 0) < 0) {
            log_notice("kTLS fd %d: KeyUpdate: cannot rekey TX (%s); closing", fd,
                       strerror(errno));
            goto closed;
        }
    }
    atomic_fetch_add(&tc->st->keyupdate_applied, 1);
    log_info("kTLS fd %d: TLS 1.3 KeyUpdate applied (%s)", fd,
             m[4] ? "RX and TX rekeyed" : "RX rekeyed");
    return 0;
closed:
    atomic_fetch_add(&tc->st->keyupdate_closed, 1);
    return -1;
}

/* recvmsg one chunk; *type gets the record type. */
static ssize_t recv_rec(int fd, void *buf, size_t len, uint8_t *type)
{
    char cbuf[CMSG_SPACE(sizeof(uint8_t))];
    struct iovec iov = { .iov_base = buf, .iov_len = len };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                         .msg_controllen = sizeof cbuf };
    ssize_t n;
    do
        n = recvmsg(fd, &mh, 0);
    while (n < 0 && errno == EINTR);
    *type = REC_APPDATA;
    if (n < 0)
        return n;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
        if (cm->cmsg_level == SOL_TLS && cm->cmsg_type == TLS_GET_RECORD_TYPE)
            memcpy(type, CMSG_DATA(cm), 1);
    return n;
}

static ssize_t ktls_read(int fd, void *ctx, void *buf, size_t len)
{
    struct tls_conn *tc = ctx;
    if (tc->carry_len) {
        size_t n = tc->carry_len < len ? tc->carry_len : len;
        memcpy(buf, tc->carry + tc->carry_off, n);
        tc->carry_off += (uint8_t)n;
        tc->carry_len -= (uint8_t)n;
        return (ssize_t)n;
    }
    /* Control records are a few bytes; a smaller buffer than this gets a
     * bounce so none is ever split. */
    for (;;) {
        bool bounce = len < sizeof tc->carry;
        uint8_t *dst = bounce ? tc->carry : buf;
        uint8_t type;
        ssize_t n = recv_rec(fd, dst, bounce ? sizeof tc->carry : len, &type);
        if (n <= 0) {
            /* EBADMSG: a record failed to decrypt; the kernel's TLS state
             * is broken, so no close_notify goes out afterwards. */
            if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
                tc->fatal = true;
            return n;
        }
        if (type == REC_APPDATA) {
            if (!bounce)
                return n;
            size_t give = (size_t)n < len ? (size_t)n : len;
            memmove(buf, tc->carry, give);
            tc->carry_off = (uint8_t)give;
            tc->carry_len = (uint8_t)((size_t)n - give);
            return (ssize_t)give;
        }
        if (type == REC_ALERT) {
            if (n >= 2 && dst[1] == 0)
                return 0;   /* close_notify */
            log_notice("kTLS fd %d: alert %u/%u from peer; closing", fd, dst[0],
                       n >= 2 ? dst[1] : 0);
            tc->fatal = true;
            errno = ECONNRESET;
            return -1;
        }
        if (type == REC_HANDSHAKE) {
            if (on_key_update(fd, tc, dst, (size_t)n) < 0) {
                errno = ECONNRESET;
                return -1;
            }
            continue;   /* data under the new key may already be queued */
        }
        log_notice("kTLS fd %d: record type %u; closing", fd, type);
        errno = EPROTO;
        return -1;
    }
}

static ssize_t ktls_writev(int fd, void *ctx, const struct iovec *iov, int iovcnt)
{
    struct msghdr mh = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt };
    ssize_t n;
    do
        n = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    return n;
}

static size_t ktls_pending(int fd, void *ctx)
{
    return ((struct tls_conn *)ctx)->carry_len;
}

static void ktls_close(int fd, void *ctx)
{
    struct tls_conn *tc = ctx;
    static const uint8_t close_notify[2] = { 1, 0 };   /* warning, close_notify */
    if (tc && !tc->fatal)
        (void)send_record(fd, REC_ALERT, close_notify, sizeof close_notify);
    tls_conn_free(tc);
    close(fd);
}

const struct transport transport_ktls = {
    .name = "ktls",
    .read = ktls_read,
    .writev = ktls_writev,
    .pending = ktls_pending,
    .close = ktls_close,
};
