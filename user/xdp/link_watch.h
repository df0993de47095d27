/* Link watcher for moatd's XDP attachments: resolves interface names and
 * reports, for the names it was asked to watch, when one appears with a new
 * ifindex, goes up or down, or disappears (NETLINK_ROUTE, RTNLGRP_LINK,
 * through libnl-route-3). moatd re-attaches the filter on NEW and forgets
 * the attachment on GONE (xdp_filter_forget).
 *
 * Usage: w = link_watch_open(); link_watch_add(w, "eth0"); put
 * link_watch_fd(w) into the event loop; on EPOLLIN call link_watch_poll().
 * Bounded: at most LINK_WATCH_MAX names. One thread. Functions with err
 * return 0 or -1 with a message naming the interface or the netlink step. */
#ifndef MOAT_XDP_LINK_WATCH_H
#define MOAT_XDP_LINK_WATCH_H

#include <stdbool.h>
#include <stddef.h>

#define LINK_WATCH_MAX 16

enum link_event_kind {
    LINK_EV_NEW,    /* the name now has an ifindex it did not have (created, renamed to it) */
    LINK_EV_UP,     /* IFF_UP set */
    LINK_EV_DOWN,   /* IFF_UP cleared */
    LINK_EV_GONE,   /* deleted or renamed away; ifindex is the old one */
};

struct link_event {
    const char *ifname;          /* the watched name; valid during the callback */
    int ifindex;
    enum link_event_kind kind;
    bool up;                     /* IFF_UP after the event */
};

typedef void (*link_watch_cb)(const struct link_event *ev, void *arg);

struct link_watch;

/* Opens and subscribes the netlink socket (non-blocking). NULL + err. */
struct link_watch *link_watch_open(char *err, size_t errlen);

/* Watches ifname and returns its current state: *ifindex 0 if it does not
 * exist now (not an error: it may appear later). Re-adding a name is a
 * no-op that refreshes the state. */
int link_watch_add(struct link_watch *w, const char *ifname, int *ifindex, bool *up,
                   char *err, size_t errlen);
void link_watch_remove(struct link_watch *w, const char *ifname);

/* The fd to watch for readability. */
int link_watch_fd(const struct link_watch *w);

/* Reads every pending netlink message; calls cb once per change of a
 * watched name, in kernel order. Returns the number of events or -1. If the
 * socket overflowed (ENOBUFS), the state of every watched name is re-read
 * and differences are reported, so nothing is lost silently. */
int link_watch_poll(struct link_watch *w, link_watch_cb cb, void *arg, char *err, size_t errlen);

void link_watch_close(struct link_watch *w);

#endif
