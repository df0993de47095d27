/* Loader: skeleton + pins + XDP attach/detach (see xdp_filter.h). */
#include "util/err.h"
#include "xdp/xdp_filter.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "moat.skel.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

struct xdp_attachment {
    char ifname[IF_NAMESIZE];
    int ifindex;
    enum xdp_mode mode;     /* in force */
};

struct xdp_filter {
    struct moat *skel;
    struct moat_maps maps;
    int prog_fd;
    uint32_t prog_id;
    struct xdp_attachment att[XDP_FILTER_MAX_IFACES];
    size_t n_att;
    struct ring_buffer *rb;
    xdp_event_cb ev_cb;      /* valid during events_poll only */
    void *ev_arg;
    void (*log)(void *, int, const char *);
    void *log_arg;
};


__attribute__((format(printf, 3, 4)))
static void note(struct xdp_filter *f, int level, const char *fmt, ...)
{
    if (!f->log)
        return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    f->log(f->log_arg, level, buf);
}

int xdp_mode_parse(const char *s, enum xdp_mode *mode)
{
    if (!strcmp(s, "auto"))
        *mode = XDP_MODE_AUTO;
    else if (!strcmp(s, "native") || !strcmp(s, "drv"))
        *mode = XDP_MODE_NATIVE;
    else if (!strcmp(s, "generic") || !strcmp(s, "skb"))
        *mode = XDP_MODE_GENERIC;
    else
        return -1;
    return 0;
}

const char *xdp_mode_name(enum xdp_mode mode)
{
    switch (mode) {
    case XDP_MODE_NATIVE: return "native";
    case XDP_MODE_GENERIC: return "generic";
    default: return "auto";
    }
}

int xdp_pin_root_prepare(const char *pin_root, char *err, size_t errlen)
{
    char parent[4096];
    if (!pin_root || !*pin_root || strlen(pin_root) >= sizeof(parent))
        return err_set(err, errlen, "bpf pin path: empty or too long");
    strcpy(parent, pin_root);
    char *slash = strrchr(parent, '/');
    if (!slash || slash == parent)
        return err_set(err, errlen, "bpf pin path %s: must be a directory below a bpffs mount "
                    "(e.g. /sys/fs/bpf/moat)", pin_root);
    *slash = '\0';
    struct statfs sf;
    if (statfs(parent, &sf) != 0)
        return err_set(err, errlen, "bpf pin path %s: %s: %s", pin_root, parent, strerror(errno));
    if ((unsigned long)sf.f_type != BPF_FS_MAGIC) {
        /* Only mount bpffs on a directory that is not bpffs yet; this is
         * what systemd does at boot on most systems anyway. */
        if (mount("bpf", parent, "bpf", 0, "mode=0700") != 0)
            return err_set(err, errlen, "bpf pin path %s: %s is not bpffs and mounting it failed: %s",
                        pin_root, parent, strerror(errno));
    }
    if (mkdir(pin_root, 0700) != 0 && errno != EEXIST)
        return err_set(err, errlen, "bpf pin path %s: mkdir: %s", pin_root, strerror(errno));
    return 0;
}

/* Before load: for each map whose pin exists, make the skeleton's size
 * match the pin so libbpf reuses it; the bucket LRU is re-created instead
 * when the configured size changed. Layout mismatches are left for libbpf
 * to report, then reported by name here. */
static int adjust_to_pins(struct xdp_filter *f, const char *root, char *err, size_t errlen)
{
    struct bpf_map *map;
    bpf_object__for_each_map(map, f->skel->obj) {
        const char *name = bpf_map__name(map);
        if (name[0] == '.')
            continue;                        /* no .rodata/.bss here, but be safe */
        char path[4096];
        if ((size_t)snprintf(path, sizeof(path), "%s/%s", root, name) >= sizeof(path))
            return err_set(err, errlen, "pin path %s/%s: too long", root, name);
        int fd = bpf_obj_get(path);
        if (fd >= 0) {
            struct bpf_map_info info;
            uint32_t len = sizeof(info);
            memset(&info, 0, sizeof(info));
            int rc = bpf_obj_get_info_by_fd(fd, &info, &len);
            close(fd);
            if (rc != 0)
                return err_set(err, errlen, "%s: info: %s", path, strerror(errno));
            if (info.key_size != bpf_map__key_size(map) ||
                info.value_size != bpf_map__value_size(map) ||
                info.type != (uint32_t)bpf_map__type(map))
                return err_set(err, errlen, "%s: pinned map has another layout (key %u, value %u "
                            "bytes; this moat wants %u, %u): remove the pin to start afresh",
                            path, info.key_size, info.value_size, bpf_map__key_size(map),
                            bpf_map__value_size(map));
            if (info.max_entries != bpf_map__max_entries(map)) {
                if (map == f->skel->maps.MOAT_MAP_BUCKETS) {
                    unlink(path);
                    note(f, 1, "%s: size %u -> %u, token buckets reset", path,
                         info.max_entries, bpf_map__max_entries(map));
                } else {
                    note(f, 1, "%s: keeping pinned size %u (configured %u)", path,
                         info.max_entries, bpf_map__max_entries(map));
                    bpf_map__set_max_entries(map, info.max_entries);
                }
            }
        } else if (errno != ENOENT) {
            return err_set(err, errlen, "%s: %s", path, strerror(errno));
        }
        if (bpf_map__set_pin_path(map, path) != 0)
            return err_set(err, errlen, "%s: set pin path failed", path);
    }
    return 0;
}

struct xdp_filter *xdp_filter_open(const struct xdp_filter_opts *opts, char *err, size_t errlen)
{
    struct xdp_filter *f = calloc(1, sizeof(*f));
    if (!f) {
        err_set(err, errlen, "xdp: out of memory");
        return NULL;
    }
    f->log = opts->log;
    f->log_arg = opts->log_arg;
    f->prog_fd = -1;
    moat_maps_init(&f->maps);

    f->skel = moat__open();
    if (!f->skel) {
        err_set(err, errlen, "xdp: opening BPF skeleton: %s", strerror(errno));
        goto fail;
    }
    struct moat *s = f->skel;
    uint32_t be = opts->block_entries ? opts->block_entries : MOAT_BLOCK_ENTRIES_DEFAULT;
    uint32_t ae = opts->allow_entries ? opts->allow_entries : MOAT_ALLOW_ENTRIES_DEFAULT;
    uint32_t ue = opts->bucket_entries ? opts->bucket_entries : MOAT_BUCKET_ENTRIES_DEFAULT;
    uint32_t rb = opts->events_bytes ? opts->events_bytes : MOAT_EVENTS_BYTES_DEFAULT;
    if (rb < 4096 || (rb & (rb - 1)) != 0) {
        err_set(err, errlen, "xdp: events ring size %u: must be a power of 2 >= 4096", rb);
        goto fail;
    }
    bpf_map__set_max_entries(s->maps.MOAT_MAP_BLOCK4, be);
    bpf_map__set_max_entries(s->maps.MOAT_MAP_BLOCK6, be);
    bpf_map__set_max_entries(s->maps.MOAT_MAP_ALLOW4, ae);
    bpf_map__set_max_entries(s->maps.MOAT_MAP_ALLOW6, ae);
    bpf_map__set_max_entries(s->maps.MOAT_MAP_BUCKETS, ue);
    bpf_map__set_max_entries(s->maps.MOAT_MAP_EVENTS, rb);

    if (opts->pin_root) {
        if (xdp_pin_root_prepare(opts->pin_root, err, errlen) < 0)
            goto fail;
        if (adjust_to_pins(f, opts->pin_root, err, errlen) < 0)
            goto fail;
    }
    int rc = moat__load(s);
    if (rc != 0) {
        err_set(err, errlen, "xdp: loading BPF program%s%s: %s (run as root; libbpf's messages "
             "above name the map or verifier step)", opts->pin_root ? " with pins under " : "",
             opts->pin_root ? opts->pin_root : "", strerror(-rc));
        goto fail;
    }
    f->prog_fd = bpf_program__fd(s->progs.MOAT_PROG);
    struct bpf_prog_info pi;
    uint32_t plen = sizeof(pi);
    memset(&pi, 0, sizeof(pi));
    if (bpf_obj_get_info_by_fd(f->prog_fd, &pi, &plen) == 0)
        f->prog_id = pi.id;

    if (opts->pin_root) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", opts->pin_root, MOAT_STR(MOAT_PROG));
        unlink(path);    /* an older program's pin; attachments hold their own ref */
        rc = bpf_program__pin(s->progs.MOAT_PROG, path);
        if (rc != 0) {
            err_set(err, errlen, "xdp: pinning program at %s: %s", path, strerror(-rc));
            goto fail;
        }
    }
    f->maps.block4 = bpf_map__fd(s->maps.MOAT_MAP_BLOCK4);
    f->maps.block6 = bpf_map__fd(s->maps.MOAT_MAP_BLOCK6);
    f->maps.allow4 = bpf_map__fd(s->maps.MOAT_MAP_ALLOW4);
    f->maps.allow6 = bpf_map__fd(s->maps.MOAT_MAP_ALLOW6);
    f->maps.buckets = bpf_map__fd(s->maps.MOAT_MAP_BUCKETS);
    f->maps.stats = bpf_map__fd(s->maps.MOAT_MAP_STATS);
    f->maps.config = bpf_map__fd(s->maps.MOAT_MAP_CONFIG);
    f->maps.events = bpf_map__fd(s->maps.MOAT_MAP_EVENTS);
    f->maps.own_fds = false;   /* the skeleton owns them */
    return f;
fail:
    if (f->skel)
        moat__destroy(f->skel);
    free(f);
    return NULL;
}

static uint32_t mode_flag(enum xdp_mode m)
{
    return m == XDP_MODE_NATIVE ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
}

/* Name of program id, into buf; returns 1 if it is a moat_xdp program. */
static int prog_is_moat(uint32_t id, char *buf, size_t buflen)
{
    snprintf(buf, buflen, "id %u", id);
    int fd = bpf_prog_get_fd_by_id(id);
    if (fd < 0)
        return 0;
    struct bpf_prog_info pi;
    uint32_t len = sizeof(pi);
    memset(&pi, 0, sizeof(pi));
    int ok = bpf_obj_get_info_by_fd(fd, &pi, &len) == 0;
    close(fd);
    if (!ok)
        return 0;
    snprintf(buf, buflen, "id %u name %s", id, pi.name);
    return strcmp(pi.name, MOAT_STR(MOAT_PROG)) == 0;
}

int xdp_query_moat(int ifindex, uint32_t *prog_id, enum xdp_mode *mode,
                   char *err, size_t errlen)
{
    LIBBPF_OPTS(bpf_xdp_query_opts, q);
    if (bpf_xdp_query(ifindex, 0, &q) != 0)
        return err_set(err, errlen, "ifindex %d: querying XDP state: %s", ifindex, strerror(errno));
    char desc[64];
    if (q.drv_prog_id && prog_is_moat(q.drv_prog_id, desc, sizeof(desc))) {
        *prog_id = q.drv_prog_id;
        *mode = XDP_MODE_NATIVE;
        return 0;
    }
    if (q.skb_prog_id && prog_is_moat(q.skb_prog_id, desc, sizeof(desc))) {
        *prog_id = q.skb_prog_id;
        *mode = XDP_MODE_GENERIC;
        return 0;
    }
    if (q.drv_prog_id || q.skb_prog_id || q.hw_prog_id) {
        uint32_t id = q.drv_prog_id ? q.drv_prog_id : q.skb_prog_id ? q.skb_prog_id : q.hw_prog_id;
        prog_is_moat(id, desc, sizeof(desc));
        return err_set(err, errlen, "another XDP program (%s) is attached", desc);
    }
    return err_set(err, errlen, "no XDP program attached");
}

int xdp_detach_moat(const char *ifname, enum xdp_mode *mode_out, char *err, size_t errlen)
{
    int ifindex = (int)if_nametoindex(ifname);
    if (ifindex == 0)
        return err_set(err, errlen, "%s: no such interface", ifname);
    uint32_t id;
    enum xdp_mode m;
    char e[200];
    if (xdp_query_moat(ifindex, &id, &m, e, sizeof(e)) < 0)
        return err_set(err, errlen, "%s: %s; nothing detached", ifname, e);
    int fd = bpf_prog_get_fd_by_id(id);
    if (fd < 0)
        return err_set(err, errlen, "%s: program id %u: %s", ifname, id, strerror(errno));
    /* REPLACE with the expected fd: if another program took its place in
     * the meantime, the kernel refuses instead of removing that one. */
    LIBBPF_OPTS(bpf_xdp_attach_opts, o, .old_prog_fd = fd);
    int rc = bpf_xdp_detach(ifindex, mode_flag(m) | XDP_FLAGS_REPLACE, &o);
    close(fd);
    if (rc != 0)
        return err_set(err, errlen, "%s: detaching moat_xdp (%s mode): %s", ifname,
                    xdp_mode_name(m), strerror(-rc));
    if (mode_out)
        *mode_out = m;
    return 0;
}

static struct xdp_attachment *find_att(struct xdp_filter *f, const char *ifname)
{
    for (size_t i = 0; i < f->n_att; i++)
        if (strcmp(f->att[i].ifname, ifname) == 0)
            return &f->att[i];
    return NULL;
}

/* One attach attempt; old_id != 0 means atomically replace that program. */
static int try_attach(struct xdp_filter *f, int ifindex, enum xdp_mode m, uint32_t old_id)
{
    LIBBPF_OPTS(bpf_xdp_attach_opts, o);
    uint32_t flags = mode_flag(m);
    int old_fd = -1;
    if (old_id) {
        old_fd = bpf_prog_get_fd_by_id(old_id);
        if (old_fd < 0)
            return -errno;
        o.old_prog_fd = old_fd;
        flags |= XDP_FLAGS_REPLACE;
    } else {
        flags |= XDP_FLAGS_UPDATE_IF_NOEXIST;
    }
    int rc = bpf_xdp_attach(ifindex, f->prog_fd, flags, &o);
    if (old_fd >= 0)
        close(old_fd);
    return rc;
}

int xdp_filter_attach(struct xdp_filter *f, const char *ifname, enum xdp_mode mode,
                      enum xdp_mode *in_force, char *err, size_t errlen)
{
    if (strlen(ifname) >= IF_NAMESIZE)
        return err_set(err, errlen, "%s: interface name too long", ifname);
    int ifindex = (int)if_nametoindex(ifname);
    if (ifindex == 0)
        return err_set(err, errlen, "%s: no such interface", ifname);
    struct xdp_attachment *a = find_att(f, ifname);
    if (a && a->ifindex == ifindex) {
        if (in_force)
            *in_force = a->mode;
        return 0;
    }
    if (!a && f->n_att >= XDP_FILTER_MAX_IFACES)
        return err_set(err, errlen, "%s: at most %d interfaces", ifname, XDP_FILTER_MAX_IFACES);

    LIBBPF_OPTS(bpf_xdp_query_opts, q);
    if (bpf_xdp_query(ifindex, 0, &q) != 0)
        return err_set(err, errlen, "%s: querying XDP state: %s", ifname, strerror(errno));
    uint32_t old_drv = q.drv_prog_id, old_skb = q.skb_prog_id;
    if (q.hw_prog_id) {
        char d[64];
        prog_is_moat(q.hw_prog_id, d, sizeof(d));
        return err_set(err, errlen, "%s: an offloaded XDP program (%s) is attached; not touching it",
                    ifname, d);
    }
    char desc[64];
    if (old_drv && !prog_is_moat(old_drv, desc, sizeof(desc)))
        return err_set(err, errlen, "%s: another XDP program (%s, native) is attached; moat never "
                    "replaces it", ifname, desc);
    if (old_skb && !prog_is_moat(old_skb, desc, sizeof(desc)))
        return err_set(err, errlen, "%s: another XDP program (%s, generic) is attached; moat never "
                    "replaces it", ifname, desc);

    int rc;
    enum xdp_mode got;
    if (old_drv || old_skb) {
        /* An earlier moatd kept its program attached: replace it in the
         * mode it runs in, atomically (fails if it changed meanwhile). */
        got = old_drv ? XDP_MODE_NATIVE : XDP_MODE_GENERIC;
        if (mode != XDP_MODE_AUTO && mode != got)
            return err_set(err, errlen, "%s: an older moat_xdp is attached in %s mode; detach it "
                        "(moatctl detach %s) to switch to %s", ifname, xdp_mode_name(got),
                        ifname, xdp_mode_name(mode));
        rc = try_attach(f, ifindex, got, old_drv ? old_drv : old_skb);
        if (rc != 0)
            return err_set(err, errlen, "%s: replacing older moat_xdp (%s mode): %s", ifname,
                        xdp_mode_name(got), strerror(-rc));
        note(f, 2, "%s: replaced older moat_xdp program", ifname);
    } else if (mode == XDP_MODE_AUTO) {
        got = XDP_MODE_NATIVE;
        rc = try_attach(f, ifindex, XDP_MODE_NATIVE, 0);
        if (rc != 0) {
            note(f, 2, "%s: native XDP unavailable (%s), using generic", ifname, strerror(-rc));
            got = XDP_MODE_GENERIC;
            rc = try_attach(f, ifindex, XDP_MODE_GENERIC, 0);
        }
        if (rc != 0)
            return err_set(err, errlen, "%s: attaching XDP (generic): %s", ifname, strerror(-rc));
    } else {
        got = mode;
        rc = try_attach(f, ifindex, mode, 0);
        if (rc != 0)
            return err_set(err, errlen, "%s: attaching XDP in %s mode: %s", ifname,
                        xdp_mode_name(mode), strerror(-rc));
    }
    /* Report what the kernel says is in force, not what was asked. */
    LIBBPF_OPTS(bpf_xdp_query_opts, q2);
    if (bpf_xdp_query(ifindex, 0, &q2) == 0) {
        if (q2.drv_prog_id == f->prog_id)
            got = XDP_MODE_NATIVE;
        else if (q2.skb_prog_id == f->prog_id)
            got = XDP_MODE_GENERIC;
    }
    if (!a)
        a = &f->att[f->n_att++];
    snprintf(a->ifname, sizeof(a->ifname), "%s", ifname);
    a->ifindex = ifindex;
    a->mode = got;
    if (in_force)
        *in_force = got;
    note(f, 2, "%s: XDP attached in %s mode", ifname, xdp_mode_name(got));
    return 0;
}

static void drop_att(struct xdp_filter *f, struct xdp_attachment *a)
{
    size_t i = (size_t)(a - f->att);
    memmove(&f->att[i], &f->att[i + 1], (f->n_att - i - 1) * sizeof(f->att[0]));
    f->n_att--;
}

static int detach_one(struct xdp_filter *f, struct xdp_attachment *a, char *err, size_t errlen)
{
    LIBBPF_OPTS(bpf_xdp_query_opts, q);
    if (bpf_xdp_query(a->ifindex, 0, &q) != 0)
        return err_set(err, errlen, "%s: querying XDP state: %s", a->ifname, strerror(errno));
    uint32_t cur = a->mode == XDP_MODE_NATIVE ? q.drv_prog_id : q.skb_prog_id;
    if (cur != f->prog_id) {
        note(f, 1, "%s: our program is no longer attached (found id %u); left alone",
             a->ifname, cur);
        return 0;
    }
    LIBBPF_OPTS(bpf_xdp_attach_opts, o, .old_prog_fd = f->prog_fd);
    int rc = bpf_xdp_detach(a->ifindex, mode_flag(a->mode) | XDP_FLAGS_REPLACE, &o);
    if (rc != 0)
        return err_set(err, errlen, "%s: detaching XDP: %s", a->ifname, strerror(-rc));
    note(f, 2, "%s: XDP detached", a->ifname);
    return 0;
}

int xdp_filter_detach(struct xdp_filter *f, const char *ifname, char *err, size_t errlen)
{
    struct xdp_attachment *a = find_att(f, ifname);
    if (!a)
        return err_set(err, errlen, "%s: not attached by this filter", ifname);
    int rc = detach_one(f, a, err, errlen);
    drop_att(f, a);
    return rc;
}

void xdp_filter_forget(struct xdp_filter *f, const char *ifname)
{
    struct xdp_attachment *a = find_att(f, ifname);
    if (a)
        drop_att(f, a);
}

size_t xdp_filter_n_attached(const struct xdp_filter *f)
{
    return f->n_att;
}

int xdp_filter_attached(const struct xdp_filter *f, size_t i, const char **ifname,
                        int *ifindex, enum xdp_mode *mode)
{
    if (i >= f->n_att)
        return -1;
    if (ifname)
        *ifname = f->att[i].ifname;
    if (ifindex)
        *ifindex = f->att[i].ifindex;
    if (mode)
        *mode = f->att[i].mode;
    return 0;
}

int xdp_filter_set_ports(struct xdp_filter *f, const uint16_t *ports, size_t n,
                         char *err, size_t errlen)
{
    struct moat_xdp_config cfg;
    if (moat_maps_config_get(&f->maps, &cfg, err, errlen) < 0)
        return -1;
    uint32_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (ports[i] == 0)
            return err_set(err, errlen, "xdp: protected port 0 is not a port");
        int dup = 0;
        for (uint32_t j = 0; j < k; j++)
            dup |= cfg.ports[j] == ports[i];
        if (dup)
            continue;
        if (k >= MOAT_MAX_PORTS)
            return err_set(err, errlen, "xdp: more than %d protected ports", MOAT_MAX_PORTS);
        cfg.ports[k++] = ports[i];
    }
    for (uint32_t j = k; j < MOAT_MAX_PORTS; j++)
        cfg.ports[j] = 0;
    cfg.n_ports = k;
    return moat_maps_config_set(&f->maps, &cfg, err, errlen);
}

int xdp_filter_set_rate(struct xdp_filter *f, uint32_t rate, uint32_t burst,
                        uint32_t ipv6_prefix, enum moat_block_mode mode,
                        char *err, size_t errlen)
{
    struct moat_xdp_config cfg;
    if (moat_maps_config_get(&f->maps, &cfg, err, errlen) < 0)
        return -1;
    cfg.syn_rate = rate;
    cfg.syn_burst = burst;
    cfg.ipv6_prefix = ipv6_prefix;
    cfg.block_mode = (uint32_t)mode;
    return moat_maps_config_set(&f->maps, &cfg, err, errlen);
}

int xdp_filter_block(struct xdp_filter *f, const struct moat_cidr *c, uint64_t ttl_ns,
                     uint32_t reason, char *err, size_t errlen)
{
    return moat_maps_block_add(&f->maps, c, ttl_ns, reason, err, errlen);
}

int xdp_filter_unblock(struct xdp_filter *f, const struct moat_cidr *c, bool *found,
                       char *err, size_t errlen)
{
    return moat_maps_block_del(&f->maps, c, found, err, errlen);
}

int xdp_filter_allow(struct xdp_filter *f, const struct moat_cidr *c, char *err, size_t errlen)
{
    return moat_maps_allow_add(&f->maps, c, err, errlen);
}

int xdp_filter_disallow(struct xdp_filter *f, const struct moat_cidr *c, bool *found,
                        char *err, size_t errlen)
{
    return moat_maps_allow_del(&f->maps, c, found, err, errlen);
}

int xdp_filter_gc(struct xdp_filter *f, size_t *removed, char *err, size_t errlen)
{
    return moat_maps_block_gc(&f->maps, removed, err, errlen);
}

int xdp_filter_stats(struct xdp_filter *f, struct moat_stats *out, char *err, size_t errlen)
{
    return moat_maps_stats_read(&f->maps, out, err, errlen);
}

struct moat_maps *xdp_filter_maps(struct xdp_filter *f)
{
    return &f->maps;
}

int xdp_filter_prog_fd(const struct xdp_filter *f)
{
    return f->prog_fd;
}

static int on_sample(void *ctx, void *data, size_t size)
{
    struct xdp_filter *f = ctx;
    if (size < sizeof(struct moat_event) || !f->ev_cb)
        return 0;                 /* foreign or short record: skip */
    struct moat_event ev;
    memcpy(&ev, data, sizeof(ev));
    f->ev_cb(&ev, f->ev_arg);
    return 0;
}

int xdp_filter_events_fd(struct xdp_filter *f, char *err, size_t errlen)
{
    if (!f->rb) {
        f->rb = ring_buffer__new(f->maps.events, on_sample, f, NULL);
        if (!f->rb)
            return err_set(err, errlen, "xdp: events ring buffer: %s", strerror(errno));
    }
    return ring_buffer__epoll_fd(f->rb);
}

int xdp_filter_events_poll(struct xdp_filter *f, xdp_event_cb cb, void *arg,
                           char *err, size_t errlen)
{
    if (xdp_filter_events_fd(f, err, errlen) < 0)
        return -1;
    f->ev_cb = cb;
    f->ev_arg = arg;
    int n = ring_buffer__consume(f->rb);
    f->ev_cb = NULL;
    f->ev_arg = NULL;
    if (n < 0)
        return err_set(err, errlen, "xdp: consuming events: %s", strerror(-n));
    return n;
}

void xdp_filter_close(struct xdp_filter *f, bool keep_attached)
{
    if (!f)
        return;
    while (f->n_att > 0) {
        struct xdp_attachment *a = &f->att[f->n_att - 1];
        if (!keep_attached) {
            char e[256];
            if (detach_one(f, a, e, sizeof(e)) < 0)
                note(f, 0, "%s", e);
        } else {
            note(f, 2, "%s: XDP left attached (xdp_on_exit keep)", a->ifname);
        }
        f->n_att--;
    }
    if (f->rb)
        ring_buffer__free(f->rb);
    moat__destroy(f->skel);
    free(f);
}
