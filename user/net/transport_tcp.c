/* Plain TCP transport. */
#include "net/transport.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

static ssize_t tcp_read(int fd, void *ctx, void *buf, size_t len)
{
    ssize_t n;
    do
        n = recv(fd, buf, len, 0);
    while (n < 0 && errno == EINTR);
    return n;
}

static ssize_t tcp_writev(int fd, void *ctx, const struct iovec *iov, int iovcnt)
{
    /* sendmsg, not writev: MSG_NOSIGNAL so a peer reset is EPIPE, not SIGPIPE. */
    struct msghdr mh = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt };
    ssize_t n;
    do
        n = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
    while (n < 0 && errno == EINTR);
    return n;
}

static size_t tcp_pending(int fd, void *ctx) { return 0; }

static void tcp_close(int fd, void *ctx) { close(fd); }

const struct transport transport_tcp = {
    .name = "tcp",
    .read = tcp_read,
    .writev = tcp_writev,
    .pending = tcp_pending,
    .close = tcp_close,
};
