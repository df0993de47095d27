/* moat's XDP filter, as moatd uses it: load the program (reusing pinned
 * maps so blocks survive a restart), attach it to interfaces, drive its
 * config, blocklist and allowlist, read its counters and consume its events.
 *
 * Typical moatd use:
 *   struct xdp_filter_opts o = XDP_FILTER_OPTS_DEFAULT;
 *   struct xdp_filter *f = xdp_filter_open(&o, err, sizeof err);
 *   xdp_filter_set_ports(f, ports, n, err, sizeof err);
 *   xdp_filter_set_rate(f, rate, burst, v6prefix, MOAT_BLOCK_ALL, err, sizeof err);
 *   xdp_filter_attach(f, "eth0", XDP_MODE_AUTO, err, sizeof err);
 *   evloop_add(xdp_filter_events_fd(f), ...) -> xdp_filter_events_poll(f, cb, arg);
 *   timer -> xdp_filter_gc(f, ...);
 *   xdp_filter_close(f, keep_attached);
 *
 * Functions taking err/errlen return 0 on success or -1 with a one-line
 * message naming the interface, map or path concerned. Not thread-safe:
 * one filter is used from one thread (moatd's event loop). */
#ifndef MOAT_XDP_FILTER_H
#define MOAT_XDP_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "moat_abi.h"
#include "xdp/cidr.h"
#include "xdp/maps.h"

enum xdp_mode {
    XDP_MODE_AUTO = 0,    /* native if the driver supports it, else generic */
    XDP_MODE_NATIVE = 1,  /* driver mode only; fail if unsupported */
    XDP_MODE_GENERIC = 2, /* skb mode: works everywhere, slower */
};

/* Parses "auto", "native", "generic" (also "drv", "skb"). -1 if unknown. */
int         xdp_mode_parse(const char *s, enum xdp_mode *mode);
const char *xdp_mode_name(enum xdp_mode mode);

#define XDP_FILTER_MAX_IFACES 16

struct xdp_filter_opts {
    /* Pin root. NULL: load without pinning anything (tests, one-shot use).
     * Else maps are reused from / pinned to PIN_ROOT/<map>, the program to
     * PIN_ROOT/moat_xdp; bpffs is mounted on the parent if missing. */
    const char *pin_root;
    uint32_t block_entries;   /* per family; 0 = MOAT_BLOCK_ENTRIES_DEFAULT */
    uint32_t allow_entries;   /* per family; 0 = MOAT_ALLOW_ENTRIES_DEFAULT */
    uint32_t bucket_entries;  /* LRU size; 0 = MOAT_BUCKET_ENTRIES_DEFAULT */
    uint32_t events_bytes;    /* ring size, power of 2 >= 4096; 0 = default */
    /* Log sink for notices (mode in force, reused pins); NULL = silent. */
    void (*log)(void *arg, int level, const char *msg);
    void *log_arg;
};
#define XDP_FILTER_OPTS_DEFAULT { .pin_root = MOAT_PIN_ROOT_DEFAULT }

struct xdp_filter;

/* Loads the program. With a pin root: existing pins whose type, key and
 * value sizes match are reused (their max_entries win over opts, except the
 * token-bucket LRU, which is soft state and re-created when its size
 * changed); missing ones are created and pinned; the program is pinned as
 * moat_xdp (replacing an older pin). A pin with an incompatible layout is
 * an error naming it (remove it by hand: its contents cannot be kept).
 * Returns NULL with err set on failure. Does not attach anything. */
struct xdp_filter *xdp_filter_open(const struct xdp_filter_opts *opts, char *err, size_t errlen);

/* Attaches to ifname (resolved now). Auto tries native, then generic. If
 * the interface already runs an XDP program: a moat_xdp program (an older
 * moatd that kept it attached) is replaced atomically; anything else is
 * left alone and this fails. On success *in_force (may be NULL) gets the
 * mode the kernel reports and a notice "IFNAME: XDP attached in MODE mode"
 * is logged. Attaching the same ifindex twice is a no-op. */
int xdp_filter_attach(struct xdp_filter *f, const char *ifname, enum xdp_mode mode,
                      enum xdp_mode *in_force, char *err, size_t errlen);

/* Detaches from ifname, only if the program there is still ours (same
 * program id); someone else's program is never removed. Forgets the
 * interface either way. Detaching a name not attached is an error. */
int xdp_filter_detach(struct xdp_filter *f, const char *ifname, char *err, size_t errlen);

/* Forgets an attachment whose interface vanished (link watcher said
 * "gone"), without talking to the kernel. No-op if unknown. */
void xdp_filter_forget(struct xdp_filter *f, const char *ifname);

/* Interfaces currently attached: count, and name/ifindex/mode of entry i. */
size_t xdp_filter_n_attached(const struct xdp_filter *f);
int    xdp_filter_attached(const struct xdp_filter *f, size_t i, const char **ifname,
                           int *ifindex, enum xdp_mode *mode);

/* Protected ports (the MQTT listeners): at most MOAT_MAX_PORTS, duplicates
 * are folded, 0 is an error. Takes effect on the next packet. */
int xdp_filter_set_ports(struct xdp_filter *f, const uint16_t *ports, size_t n,
                         char *err, size_t errlen);

/* SYN rate per source (per second, 0 = off), burst (0 = rate), IPv6
 * aggregation prefix (1..128, 0 = 64) and block mode. Takes effect on the
 * next packet; existing buckets are clamped to the new burst. */
int xdp_filter_set_rate(struct xdp_filter *f, uint32_t rate, uint32_t burst,
                        uint32_t ipv6_prefix, enum moat_block_mode mode,
                        char *err, size_t errlen);

/* Blocklist / allowlist; ttl_ns 0 = permanent. See maps.h for semantics. */
int xdp_filter_block(struct xdp_filter *f, const struct moat_cidr *c, uint64_t ttl_ns,
                     uint32_t reason, char *err, size_t errlen);
int xdp_filter_unblock(struct xdp_filter *f, const struct moat_cidr *c, bool *found,
                       char *err, size_t errlen);
int xdp_filter_allow(struct xdp_filter *f, const struct moat_cidr *c, char *err, size_t errlen);
int xdp_filter_disallow(struct xdp_filter *f, const struct moat_cidr *c, bool *found,
                        char *err, size_t errlen);

/* Deletes expired block entries; *removed (may be NULL) gets the count.
 * Call it periodically (e.g. every 10 s): the program ignores expired
 * entries already, GC only frees the slots. */
int xdp_filter_gc(struct xdp_filter *f, size_t *removed, char *err, size_t errlen);

/* Counters summed over CPUs. */
int xdp_filter_stats(struct xdp_filter *f, struct moat_stats *out, char *err, size_t errlen);

/* The raw maps, for anything not wrapped here (fds owned by the filter). */
struct moat_maps *xdp_filter_maps(struct xdp_filter *f);
/* The loaded program's fd (e.g. for BPF_PROG_TEST_RUN). */
int xdp_filter_prog_fd(const struct xdp_filter *f);

/* Events. xdp_filter_events_fd: an fd to watch for EPOLLIN (created on
 * first call; -1 with err on failure). When it is readable, call
 * xdp_filter_events_poll: it consumes every queued event, calls cb once per
 * event (in order), and returns the number handled or -1. cb's event is
 * valid only during the call. */
typedef void (*xdp_event_cb)(const struct moat_event *ev, void *arg);
int xdp_filter_events_fd(struct xdp_filter *f, char *err, size_t errlen);
int xdp_filter_events_poll(struct xdp_filter *f, xdp_event_cb cb, void *arg,
                           char *err, size_t errlen);

/* Frees the filter. keep_attached false: detaches every interface it
 * attached (fail-open: traffic flows unfiltered while moatd is down).
 * true: leaves the program attached and enforcing with its pinned maps
 * (xdp_on_exit keep). Pins are never removed here. NULL is a no-op. */
void xdp_filter_close(struct xdp_filter *f, bool keep_attached);

/* Without a loaded filter (moatctl detach, or cleaning up after a moatd
 * that kept its program attached): removes a moat_xdp program from ifname
 * in whichever mode it runs. Any other program is left alone (error).
 * *mode_out (may be NULL) gets the mode it ran in. */
int xdp_detach_moat(const char *ifname, enum xdp_mode *mode_out, char *err, size_t errlen);

/* Which moat_xdp program runs on ifindex: 0 with *prog_id and *mode set, or -1
 * (none, or not moat's; err says which). */
int xdp_query_moat(int ifindex, uint32_t *prog_id, enum xdp_mode *mode,
                   char *err, size_t errlen);

/* Mounts bpffs on dirname(pin_root) if that is not bpffs yet, then creates
 * pin_root (mode 0700). Used by xdp_filter_open; exposed for moatctl. */
int xdp_pin_root_prepare(const char *pin_root, char *err, size_t errlen);

#endif
