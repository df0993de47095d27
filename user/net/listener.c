#include "net/listener.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"

static int bind_one(const struct addrinfo *ai, bool dual)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0)
        return -1;
    int one = 1, v6only = dual ? 0 : 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ai->ai_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 4096) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

int listener_open(struct listener *l, const struct listener_conf *lc, char *err, size_t errlen)
{
    memset(l, 0, sizeof *l);
    l->conf = lc;
    l->ev.fd = -1;
    char port[8];
    snprintf(port, sizeof port, "%u", lc->port);
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
    hints.ai_family = lc->socket_domain == 4 ? AF_INET : lc->socket_domain == 6 ? AF_INET6 : AF_UNSPEC;
    const char *host = lc->bind_address;
    bool dual = false;
    if (!host && hints.ai_family != AF_INET) {
        host = "::";          /* all addresses: one dual-stack socket */
        hints.ai_family = AF_INET6;
        hints.ai_flags |= AI_NUMERICHOST;
        dual = lc->socket_domain == 0;
    }
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(host, port, &hints, &res);
    if (gai) {
        snprintf(err, errlen, "%s:%d: listener %u %s: %s", lc->file ? lc->file : "?", lc->line,
                 lc->port, host ? host : "", gai_strerror(gai));
        return -1;
    }
    int fd = -1, e = 0;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = bind_one(ai, dual);
        if (fd < 0)
            e = errno;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        snprintf(err, errlen, "%s:%d: listener %u %s: %s", lc->file ? lc->file : "?", lc->line,
                 lc->port, host ? host : "", strerror(e));
        return -1;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        l->port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
                                                : ((struct sockaddr_in6 *)&ss)->sin6_port);
    l->ev.fd = fd;
    return 0;
}

void listener_close(struct listener *l)
{
    if (l->ev.fd >= 0)
        close(l->ev.fd);
    l->ev.fd = -1;
}
