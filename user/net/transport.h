/* The transport table: how the engine reads and writes a connection,
 * whatever carries it (plain TCP, kernel TLS, userspace TLS). Packet
 * handlers never see which one. */
#ifndef MOAT_NET_TRANSPORT_H
#define MOAT_NET_TRANSPORT_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

struct transport {
    const char *name;   /* "tcp", "ktls", "tls" */
    /* Both return bytes (> 0), 0 on orderly EOF (read only), or -1 with
     * errno (EAGAIN: try again when the fd is ready). */
    ssize_t (*read)(int fd, void *ctx, void *buf, size_t len);
    ssize_t (*writev)(int fd, void *ctx, const struct iovec *iov, int iovcnt);
    /* Bytes the transport holds that epoll cannot see (userspace TLS
     * buffers); 0 for sockets. */
    size_t  (*pending)(int fd, void *ctx);
    /* Sends what a clean shutdown needs (close_notify), frees ctx and
     * closes fd. */
    void    (*close)(int fd, void *ctx);
};

extern const struct transport transport_tcp;

#endif
