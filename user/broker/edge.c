/* moatd's side of the XDP filter: load it (reusing pinned maps, so blocks
 * survive a restart), attach it to the configured interfaces, protect the
 * listeners' ports, turn its "rate exceeded" events into escalating
 * blocks (policy/detect.c, kind syn_flood), garbage-collect expired
 * blocks, and detach or keep it at exit (xdp_on_exit). */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>

#include "broker/conn.h"
#include "broker/engine.h"
#include "config.h"
#include "net/listener.h"
#include "policy/detect.h"
#include "util/log.h"
#include "xdp/link_watch.h"
#include "xdp/xdp_filter.h"

static void filter_log(void *arg, int level, const char *msg)
{
    log_notice("xdp: %s", msg);
}

static void on_event(const struct moat_event *ev, void *arg)
{
    struct engine *e = arg;
    struct peer_addr p = { .family = ev->family == 4 ? AF_INET : AF_INET6 };
    memcpy(p.addr, ev->addr, ev->family == 4 ? 4 : 16);
    char ps[64];
    peer_str(&p, ps, sizeof ps);
    if (ev->type == MOAT_EV_RATE_EXCEEDED) {
        log_info("xdp: %s exceeded its SYN rate (%llu dropped) on port %u", ps,
                 (unsigned long long)ev->count, ev->dport);
        detect_event(e, DET_SYN_FLOOD, NULL, &p, NULL, 0);
    } else if (ev->type == MOAT_EV_BLOCKED_SEEN) {
        log_info("xdp: blocked source %s still sending (%llu packets dropped)", ps,
                 (unsigned long long)ev->count);
    }
}

static const struct xdp_iface_conf *iface_conf(const struct engine *e, const char *name)
{
    for (size_t i = 0; i < e->cfg->n_xdp_interfaces; i++)
        if (!strcmp(e->cfg->xdp_interfaces[i].name, name))
            return &e->cfg->xdp_interfaces[i];
    return NULL;
}

static int attach(struct engine *e, const struct xdp_iface_conf *x, char *err, size_t errlen)
{
    enum xdp_mode in_force;
    if (xdp_filter_attach(e->xdp, x->name, (enum xdp_mode)x->mode, &in_force, err, errlen) < 0)
        return -1;
    log_notice("xdp: filter attached to %s in %s mode", x->name, xdp_mode_name(in_force));
    return 0;
}

/* libnl: an interface that goes away is forgotten, one that comes back
 * (new ifindex) gets the filter again. */
static void on_link(const struct link_event *ev, void *arg)
{
    struct engine *e = arg;
    const struct xdp_iface_conf *x = iface_conf(e, ev->ifname);
    if (!x)
        return;
    char err[256];
    switch (ev->kind) {
    case LINK_EV_GONE:
        xdp_filter_forget(e->xdp, ev->ifname);
        log_warn("xdp: interface %s went away; the filter is attached again when it returns",
                 ev->ifname);
        break;
    case LINK_EV_NEW:
        if (attach(e, x, err, sizeof err) < 0)
            log_err("xdp: interface %s is back but attaching failed: %s", ev->ifname, err);
        break;
    default:
        break;
    }
}

static void on_link_fd(struct evloop *el, struct ev_handler *h, uint32_t events)
{
    struct engine *e = h->arg;
    char err[256];
    if (link_watch_poll(e->links, on_link, e, err, sizeof err) < 0)
        log_warn("xdp: link watch: %s", err);
}

static void on_events(struct evloop *el, struct ev_handler *h, uint32_t events)
{
    struct engine *e = h->arg;
    char err[256];
    if (xdp_filter_events_poll(e->xdp, on_event, e, err, sizeof err) < 0)
        log_warn("xdp: events: %s", err);
}

int engine_filter_open(struct engine *e, char *err, size_t errlen)
{
    const struct moat_config *cfg = e->cfg;
    if (!cfg->n_xdp_interfaces)
        return 0;
    struct xdp_filter_opts o = XDP_FILTER_OPTS_DEFAULT;
    o.pin_root = cfg->bpf_pin_path ? cfg->bpf_pin_path : MOAT_PIN_ROOT_DEFAULT;
    o.log = filter_log;
    o.log_arg = e;
    e->xdp = xdp_filter_open(&o, err, errlen);
    if (!e->xdp)
        return -1;
    uint16_t ports[MOAT_MAX_PORTS];
    size_t n = 0;
    for (size_t i = 0; i < e->n_listeners && n < MOAT_MAX_PORTS; i++)
        ports[n++] = e->listeners[i].port;
    if (xdp_filter_set_ports(e->xdp, ports, n, err, errlen) < 0 ||
        xdp_filter_set_rate(e->xdp, cfg->xdp_syn_rate, cfg->xdp_syn_burst, cfg->xdp_ipv6_prefix,
                            cfg->xdp_block_mode == CFG_XDP_BLOCK_ALL ? MOAT_BLOCK_ALL : MOAT_BLOCK_PORTS,
                            err, errlen) < 0)
        return -1;
    if (!(e->links = link_watch_open(err, errlen)))
        return -1;
    for (size_t i = 0; i < cfg->n_xdp_interfaces; i++) {
        const struct xdp_iface_conf *x = &cfg->xdp_interfaces[i];
        int ifindex = 0;
        bool up = false;
        char why[256];
        if (link_watch_add(e->links, x->name, &ifindex, &up, why, sizeof why) < 0) {
            snprintf(err, errlen, "%s:%d: xdp_interface %s: %s", x->file ? x->file : cfg->source,
                     x->line, x->name, why);
            return -1;
        }
        if (!ifindex) {       /* not there yet: attached when it appears */
            log_warn("%s:%d: xdp_interface %s does not exist (yet); waiting for it",
                     x->file ? x->file : cfg->source, x->line, x->name);
            continue;
        }
        if (attach(e, x, why, sizeof why) < 0) {
            snprintf(err, errlen, "%s:%d: xdp_interface %s: %s", x->file ? x->file : cfg->source,
                     x->line, x->name, why);
            return -1;
        }
    }
    e->links_ev = (struct ev_handler){ .fd = link_watch_fd(e->links), .fn = on_link_fd, .arg = e };
    if (ev_add(e->el, &e->links_ev, EPOLLIN) < 0) {
        snprintf(err, errlen, "xdp: link watch fd: epoll failed");
        return -1;
    }
    int fd = xdp_filter_events_fd(e->xdp, err, errlen);
    if (fd < 0)
        return -1;
    e->xdp_ev = (struct ev_handler){ .fd = fd, .fn = on_events, .arg = e };
    if (ev_add(e->el, &e->xdp_ev, EPOLLIN) < 0) {
        snprintf(err, errlen, "xdp: events fd: epoll failed");
        return -1;
    }
    return 0;
}

void engine_filter_close(struct engine *e)
{
    if (e->links) {
        if (e->links_ev.fn)
            ev_del(e->el, &e->links_ev);
        link_watch_close(e->links);
        e->links = NULL;
    }
    if (!e->xdp)
        return;
    if (e->xdp_ev.fn)
        ev_del(e->el, &e->xdp_ev);
    bool keep = e->cfg->xdp_on_exit == CFG_XDP_ON_EXIT_KEEP;
    xdp_filter_close(e->xdp, keep);
    log_notice("xdp: filter %s", keep ? "left attached (xdp_on_exit keep)" : "detached (fail-open)");
    e->xdp = NULL;
}

void engine_filter_block(struct engine *e, const struct moat_cidr *c, uint32_t ttl_s, uint32_t reason)
{
    if (!e->xdp)
        return;
    char err[256];
    if (xdp_filter_block(e->xdp, c, (uint64_t)ttl_s * 1000000000ull, reason, err, sizeof err) < 0)
        log_warn("xdp: block: %s", err);
}

void engine_filter_gc(struct engine *e)
{
    if (!e->xdp)
        return;
    size_t n = 0;
    char err[256];
    if (xdp_filter_gc(e->xdp, &n, err, sizeof err) < 0)
        log_warn("xdp: gc: %s", err);
    else if (n)
        log_info("xdp: %zu expired block(s) removed", n);
}

bool engine_filter_allows(const struct engine *e, const struct peer_addr *p)
{
    if (!e->xdp)
        return false;
    struct moat_maps *m = xdp_filter_maps(e->xdp);
    struct moat_allow_val v;
    if (p->family == AF_INET) {
        struct moat_lpm4_key k = { .prefixlen = 32 };
        memcpy(k.addr, p->addr, 4);
        return bpf_map_lookup_elem(m->allow4, &k, &v) == 0;
    }
    struct moat_lpm6_key k = { .prefixlen = 128 };
    memcpy(k.addr, p->addr, 16);
    return bpf_map_lookup_elem(m->allow6, &k, &v) == 0;
}
