/* Control socket server: accepting, line framing, replies. The commands
 * themselves are in control_cmds.c. */
#include "ctl/control.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "broker/engine.h"
#include "core/evloop.h"
#include "util/log.h"

#define CTL_LINE_MAX 1024
#define CTL_TIMEOUT_MS 5000

struct ctl_conn;

struct control {
    struct ev_handler ev;
    struct engine *e;
    char *path;
    struct ctl_conn *conns;    /* open control connections, freed at close */
};

struct ctl_conn {
    struct ctl_conn *next;
    struct ev_handler ev;
    struct ev_timer timer;
    struct control *ctl;
    char in[CTL_LINE_MAX + 1];
    size_t in_len;
    char *out;
    size_t out_len, out_off;
};

static void cc_free(struct ctl_conn *cc)
{
    struct ctl_conn **pp = &cc->ctl->conns;
    while (*pp && *pp != cc)
        pp = &(*pp)->next;
    if (*pp)
        *pp = cc->next;
    ev_del(cc->ctl->e->el, &cc->ev);
    ev_timer_cancel(cc->ctl->e->el, &cc->timer);
    close(cc->ev.fd);
    free(cc->out);
    free(cc);
}

static void cc_timeout(struct evloop *el, struct ev_timer *t)
{
    cc_free(t->arg);
}

static void cc_write(struct ctl_conn *cc)
{
    while (cc->out_off < cc->out_len) {
        ssize_t n = send(cc->ev.fd, cc->out + cc->out_off, cc->out_len - cc->out_off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) {
                ev_mod(cc->ctl->e->el, &cc->ev, EPOLLOUT);
                return;
            }
            break;
        }
        cc->out_off += (size_t)n;
    }
    cc_free(cc);
}

static void cc_event(struct evloop *el, struct ev_handler *h, uint32_t events)
{
    struct ctl_conn *cc = h->arg;
    if (cc->out) {
        cc_write(cc);
        return;
    }
    ssize_t n = recv(h->fd, cc->in + cc->in_len, CTL_LINE_MAX - cc->in_len, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        cc_free(cc);
        return;
    }
    cc->in_len += (size_t)n;
    cc->in[cc->in_len] = 0;
    char *nl = strchr(cc->in, '\n');
    if (!nl && cc->in_len < CTL_LINE_MAX)
        return;
    char *reply;
    if (!nl) {
        reply = strdup("error command line longer than 1024 bytes");
    } else {
        *nl = 0;
        if (nl > cc->in && nl[-1] == '\r')
            nl[-1] = 0;
        reply = control_exec(cc->ctl->e, cc->in);
    }
    if (!reply) {
        cc_free(cc);
        return;
    }
    size_t len = strlen(reply);
    char *out = realloc(reply, len + 2);
    if (!out) {
        free(reply);
        cc_free(cc);
        return;
    }
    out[len] = '\n';
    out[len + 1] = 0;
    cc->out = out;
    cc->out_len = len + 1;
    cc_write(cc);
}

static void ctl_accept(struct evloop *el, struct ev_handler *h, uint32_t events)
{
    struct control *ctl = h->arg;
    for (int i = 0; i < 16; i++) {
        int fd = accept4(h->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        struct ctl_conn *cc = calloc(1, sizeof *cc);
        if (!cc) {
            close(fd);
            return;
        }
        cc->ctl = ctl;
        cc->ev = (struct ev_handler){ .fd = fd, .fn = cc_event, .arg = cc };
        cc->timer.fn = cc_timeout;
        cc->timer.arg = cc;
        if (ev_add(el, &cc->ev, EPOLLIN) < 0) {
            close(fd);
            free(cc);
            continue;
        }
        ev_timer_arm(el, &cc->timer, ev_now_ms(el) + CTL_TIMEOUT_MS);
        cc->next = ctl->conns;
        ctl->conns = cc;
    }
}

static int make_parent(const char *path, char *err, size_t errlen)
{
    char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return 0;
    *slash = 0;
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "control_socket %s: cannot create %s: %s", path, dir, strerror(errno));
        return -1;
    }
    return 0;
}

struct control *control_open(struct engine *e, const char *path, char *err, size_t errlen)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof sa.sun_path) {
        snprintf(err, errlen, "control_socket %s: path longer than %zu bytes", path,
                 sizeof sa.sun_path - 1);
        return NULL;
    }
    if (make_parent(path, err, errlen) < 0)
        return NULL;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "control_socket %s: %s", path, strerror(errno));
        return NULL;
    }
    /* A socket file nobody answers on is stale; a live one means another
     * moatd owns it. */
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
        close(fd);
        snprintf(err, errlen, "control_socket %s: another moatd is running there", path);
        errno = EADDRINUSE;
        return NULL;
    }
    close(fd);
    unlink(path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    mode_t old = umask(0177);           /* owner-only from the first instant */
    int r = fd < 0 ? -1 : bind(fd, (struct sockaddr *)&sa, sizeof sa);
    umask(old);
    if (r < 0 || chmod(path, 0600) < 0 || listen(fd, 16) < 0) {
        snprintf(err, errlen, "control_socket %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    struct control *ctl = calloc(1, sizeof *ctl);
    if (!ctl || !(ctl->path = strdup(path))) {
        free(ctl);
        close(fd);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    ctl->e = e;
    ctl->ev = (struct ev_handler){ .fd = fd, .fn = ctl_accept, .arg = ctl };
    if (ev_add(e->el, &ctl->ev, EPOLLIN) < 0) {
        snprintf(err, errlen, "control_socket %s: epoll: %s", path, strerror(errno));
        control_close(ctl);
        return NULL;
    }
    log_notice("control socket %s", path);
    return ctl;
}

void control_close(struct control *ctl)
{
    if (!ctl)
        return;
    while (ctl->conns)
        cc_free(ctl->conns);
    ev_del(ctl->e->el, &ctl->ev);
    close(ctl->ev.fd);
    unlink(ctl->path);
    free(ctl->path);
    free(ctl);
}
