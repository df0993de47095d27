/* moatctl's client of moatd's control socket (docs/control-socket.md):
 * one line out, one reply line back, whatever its length. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "moatctl.h"

#define REPLY_MAX (64u << 20)
#define REPLY_TIMEOUT_MS 5000

int daemon_call(const struct cli *c, const char *line, char **reply)
{
    *reply = NULL;
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(c->sock) >= sizeof sa.sun_path) {
        fprintf(stderr, "moatctl: control socket path too long: %s\n", c->sock);
        return -1;
    }
    memcpy(sa.sun_path, c->sock, strlen(c->sock) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        fprintf(stderr, "moatctl: moatd not reachable at %s: %s (is it running? -s PATH)\n",
                c->sock, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    size_t n = strlen(line);
    if (send(fd, line, n, MSG_NOSIGNAL) != (ssize_t)n || send(fd, "\n", 1, MSG_NOSIGNAL) != 1) {
        fprintf(stderr, "moatctl: moatd at %s: write: %s\n", c->sock, strerror(errno));
        close(fd);
        return -1;
    }
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    struct pollfd p = { .fd = fd, .events = POLLIN };
    while (buf && poll(&p, 1, REPLY_TIMEOUT_MS) == 1) {
        if (len + 1 >= cap) {
            if (cap >= REPLY_MAX)
                break;
            char *nb = realloc(buf, cap * 2);
            if (!nb)
                break;
            buf = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + len, cap - 1 - len);
        if (r <= 0)
            break;
        len += (size_t)r;
        if (memchr(buf + len - (size_t)r, '\n', (size_t)r))
            break;
    }
    close(fd);
    if (!buf || !len || !memchr(buf, '\n', len)) {
        fprintf(stderr, "moatctl: moatd at %s: no complete reply within %d s\n", c->sock,
                REPLY_TIMEOUT_MS / 1000);
        free(buf);
        return -1;
    }
    buf[len] = 0;
    *strchr(buf, '\n') = 0;
    *reply = buf;
    if (!strncmp(buf, "ok", 2) && (buf[2] == 0 || buf[2] == ' '))
        return 0;
    fprintf(stderr, "moatctl: moatd: %s\n", buf);
    return 1;
}
