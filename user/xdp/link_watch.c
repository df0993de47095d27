/* NETLINK_ROUTE link watcher on libnl-route-3 (see link_watch.h). */
#include "util/err.h"
#include "xdp/link_watch.h"

#include <errno.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct watched {
    char name[IF_NAMESIZE];
    int ifindex;        /* 0: does not exist */
    bool up;
};

struct link_watch {
    struct nl_sock *sk;
    struct watched w[LINK_WATCH_MAX];
    size_t n;
    /* Set during poll only. */
    link_watch_cb cb;
    void *arg;
    int events;
};


static void emit(struct link_watch *lw, struct watched *x, enum link_event_kind k, int ifindex)
{
    lw->events++;
    if (!lw->cb)
        return;
    struct link_event ev = { .ifname = x->name, .ifindex = ifindex, .kind = k, .up = x->up };
    lw->cb(&ev, lw->arg);
}

/* Applies one link's new state (exists, ifindex, up) to watched entry x. */
static void apply(struct link_watch *lw, struct watched *x, int ifindex, bool up)
{
    if (ifindex == 0) {
        if (x->ifindex) {
            int old = x->ifindex;
            x->ifindex = 0;
            x->up = false;
            emit(lw, x, LINK_EV_GONE, old);
        }
        return;
    }
    if (x->ifindex != ifindex) {
        if (x->ifindex) {
            int old = x->ifindex;
            x->ifindex = 0;
            emit(lw, x, LINK_EV_GONE, old);
        }
        x->ifindex = ifindex;
        x->up = up;
        emit(lw, x, LINK_EV_NEW, ifindex);
        return;
    }
    if (x->up != up) {
        x->up = up;
        emit(lw, x, up ? LINK_EV_UP : LINK_EV_DOWN, ifindex);
    }
}

static void on_obj(struct nl_object *obj, void *arg)
{
    struct link_watch *lw = arg;
    struct rtnl_link *l = (struct rtnl_link *)obj;
    const char *name = rtnl_link_get_name(l);
    int ifindex = rtnl_link_get_ifindex(l);
    bool del = nl_object_get_msgtype(obj) == RTM_DELLINK;
    bool up = (rtnl_link_get_flags(l) & IFF_UP) != 0;
    for (size_t i = 0; i < lw->n; i++) {
        struct watched *x = &lw->w[i];
        bool same_name = name && strcmp(name, x->name) == 0;
        if (same_name)
            apply(lw, x, del ? 0 : ifindex, up);
        else if (x->ifindex && x->ifindex == ifindex)
            apply(lw, x, 0, false);           /* renamed away from the watched name */
    }
}

static int on_msg(struct nl_msg *msg, void *arg)
{
    int t = nlmsg_hdr(msg)->nlmsg_type;
    if (t == RTM_NEWLINK || t == RTM_DELLINK)
        nl_msg_parse(msg, on_obj, arg);
    return NL_OK;
}

struct link_watch *link_watch_open(char *err, size_t errlen)
{
    struct link_watch *lw = calloc(1, sizeof(*lw));
    if (!lw) {
        err_set(err, errlen, "link watch: out of memory");
        return NULL;
    }
    int rc;
    lw->sk = nl_socket_alloc();
    if (!lw->sk) {
        err_set(err, errlen, "link watch: nl_socket_alloc failed");
        goto fail;
    }
    nl_socket_disable_seq_check(lw->sk);
    nl_socket_modify_cb(lw->sk, NL_CB_VALID, NL_CB_CUSTOM, on_msg, lw);
    if ((rc = nl_connect(lw->sk, NETLINK_ROUTE)) < 0) {
        err_set(err, errlen, "link watch: netlink connect: %s", nl_geterror(rc));
        goto fail;
    }
    if ((rc = nl_socket_add_membership(lw->sk, RTNLGRP_LINK)) < 0) {
        err_set(err, errlen, "link watch: join RTNLGRP_LINK: %s", nl_geterror(rc));
        goto fail;
    }
    if ((rc = nl_socket_set_nonblocking(lw->sk)) < 0) {
        err_set(err, errlen, "link watch: non-blocking: %s", nl_geterror(rc));
        goto fail;
    }
    return lw;
fail:
    if (lw->sk)
        nl_socket_free(lw->sk);
    free(lw);
    return NULL;
}

/* Current state of ifname via a separate request socket (the watch socket
 * carries only multicast). ifindex 0 if absent. */
static int query(const char *ifname, int *ifindex, bool *up, char *err, size_t errlen)
{
    *ifindex = 0;
    *up = false;
    struct nl_sock *s = nl_socket_alloc();
    if (!s)
        return err_set(err, errlen, "%s: nl_socket_alloc failed", ifname);
    int rc = nl_connect(s, NETLINK_ROUTE);
    if (rc < 0) {
        nl_socket_free(s);
        return err_set(err, errlen, "%s: netlink connect: %s", ifname, nl_geterror(rc));
    }
    struct rtnl_link *l = NULL;
    rc = rtnl_link_get_kernel(s, 0, ifname, &l);
    nl_socket_free(s);
    if (rc == -NLE_NODEV || rc == -NLE_OBJ_NOTFOUND)
        return 0;
    if (rc < 0)
        return err_set(err, errlen, "%s: reading link: %s", ifname, nl_geterror(rc));
    *ifindex = rtnl_link_get_ifindex(l);
    *up = (rtnl_link_get_flags(l) & IFF_UP) != 0;
    rtnl_link_put(l);
    return 0;
}

static struct watched *find(struct link_watch *lw, const char *ifname)
{
    for (size_t i = 0; i < lw->n; i++)
        if (strcmp(lw->w[i].name, ifname) == 0)
            return &lw->w[i];
    return NULL;
}

int link_watch_add(struct link_watch *lw, const char *ifname, int *ifindex, bool *up,
                   char *err, size_t errlen)
{
    if (!ifname[0] || strlen(ifname) >= IF_NAMESIZE)
        return err_set(err, errlen, "'%s': not an interface name", ifname);
    struct watched *x = find(lw, ifname);
    if (!x) {
        if (lw->n >= LINK_WATCH_MAX)
            return err_set(err, errlen, "%s: at most %d watched interfaces", ifname,
                        LINK_WATCH_MAX);
        x = &lw->w[lw->n++];
        memset(x, 0, sizeof(*x));
        snprintf(x->name, sizeof(x->name), "%s", ifname);
    }
    int idx;
    bool u;
    if (query(ifname, &idx, &u, err, errlen) < 0)
        return -1;
    x->ifindex = idx;
    x->up = u;
    if (ifindex)
        *ifindex = idx;
    if (up)
        *up = u;
    return 0;
}

void link_watch_remove(struct link_watch *lw, const char *ifname)
{
    struct watched *x = find(lw, ifname);
    if (!x)
        return;
    size_t i = (size_t)(x - lw->w);
    memmove(&lw->w[i], &lw->w[i + 1], (lw->n - i - 1) * sizeof(lw->w[0]));
    lw->n--;
}

int link_watch_fd(const struct link_watch *lw)
{
    return nl_socket_get_fd(lw->sk);
}

int link_watch_poll(struct link_watch *lw, link_watch_cb cb, void *arg, char *err, size_t errlen)
{
    lw->cb = cb;
    lw->arg = arg;
    lw->events = 0;
    int rc = 0;
    for (;;) {
        int r = nl_recvmsgs_default(lw->sk);
        if (r >= 0)
            continue;
        if (r == -NLE_AGAIN)
            break;
        if (r == -NLE_NOMEM || r == -NLE_MSG_OVERFLOW) {
            /* Overrun: messages were lost; resynchronise from the kernel. */
            for (size_t i = 0; i < lw->n; i++) {
                int idx;
                bool up;
                if (query(lw->w[i].name, &idx, &up, err, errlen) < 0) {
                    rc = -1;
                    break;
                }
                apply(lw, &lw->w[i], idx, up);
            }
            if (rc < 0)
                break;
            continue;
        }
        rc = err_set(err, errlen, "link watch: receiving: %s", nl_geterror(r));
        break;
    }
    int n = lw->events;
    lw->cb = NULL;
    lw->arg = NULL;
    return rc < 0 ? -1 : n;
}

void link_watch_close(struct link_watch *lw)
{
    if (!lw)
        return;
    nl_socket_free(lw->sk);
    free(lw);
}
