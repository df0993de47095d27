// SPDX-License-Identifier: GPL-2.0
/* moat XDP edge filter: allowlist, CIDR blocklist and a per-source token
 * bucket for TCP SYNs toward the protected (MQTT) ports. Layouts and the
 * decision table are in include/moat_abi.h and docs/xdp.md.
 *
 * Order of decisions for an IP packet:
 *   1. parse L2 (Ethernet + up to two VLAN tags) and the fixed L3 header;
 *   2. allowlisted source: pass, nothing else applies;
 *   3. blocklisted source (unexpired): drop now in mode "all";
 *   4. walk IPv6 extension headers / IPv4 fragment fields, parse TCP;
 *   5. mode "ports": drop blocked sources' packets toward protected ports
 *      and those whose port cannot be known (fragments, long chains);
 *   6. SYN without ACK toward a protected port: token bucket.
 * A packet that cannot be attributed to a source (L2 truncated, non-IP)
 * passes; one with a known source but broken L3/L4 headers is dropped,
 * as the stack would drop it anyway. */
#include "moat_abi.h"
#include "kern_defs.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __uint(max_entries, MOAT_BLOCK_ENTRIES_DEFAULT);
    __type(key, struct moat_lpm4_key);
    __type(value, struct moat_block_val);
} MOAT_MAP_BLOCK4 SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __uint(max_entries, MOAT_BLOCK_ENTRIES_DEFAULT);
    __type(key, struct moat_lpm6_key);
    __type(value, struct moat_block_val);
} MOAT_MAP_BLOCK6 SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __uint(max_entries, MOAT_ALLOW_ENTRIES_DEFAULT);
    __type(key, struct moat_lpm4_key);
    __type(value, struct moat_allow_val);
} MOAT_MAP_ALLOW4 SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __uint(max_entries, MOAT_ALLOW_ENTRIES_DEFAULT);
    __type(key, struct moat_lpm6_key);
    __type(value, struct moat_allow_val);
} MOAT_MAP_ALLOW6 SEC(".maps");

/* Soft state: an LRU map is right here (and only here) because losing a
 * bucket merely gives a source a fresh burst. */
struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, MOAT_BUCKET_ENTRIES_DEFAULT);
    __type(key, struct moat_src_key);
    __type(value, struct moat_bucket);
} MOAT_MAP_BUCKETS SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct moat_stats);
} MOAT_MAP_STATS SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct moat_xdp_config);
} MOAT_MAP_CONFIG SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, MOAT_EVENTS_BYTES_DEFAULT);
} MOAT_MAP_EVENTS SEC(".maps");

/* What step 4 found beyond the L3 header. */
enum l4_kind {
    L4_TCP,        /* TCP header present and complete */
    L4_OTHER,      /* another protocol (or ESP / no next header) */
    L4_FRAGMENT,   /* non-first fragment of TCP: ports unknown */
    L4_UNKNOWN,    /* IPv6 chain too long: treated as a possible SYN */
    L4_MALFORMED,  /* truncated/invalid extension or TCP header */
    L4_TINY_FRAG,  /* TCP fragment that could rewrite the TCP header */
};

struct pkt {
    struct moat_src_key src;     /* full source (v6 not yet masked) */
    __u16 dport;
    __u8  tcp_flags;
    __u8  l4;                    /* enum l4_kind */
};

static __always_inline void count(struct moat_stats *st, int idx)
{
    if (st && idx >= 0 && idx < MOAT_STAT_COUNT)
        ((__u64 *)st)[idx] += 1;   /* per-CPU: no atomics needed */
}

static __always_inline int verdict(struct moat_stats *st, int idx, int act)
{
    count(st, idx);
    count(st, act == XDP_DROP ? MOAT_STAT_xdp_drop : MOAT_STAT_xdp_pass);
    return act;
}

static __always_inline __u16 load_be16(const __u8 *p)
{
    return (__u16)((p[0] << 8) | p[1]);
}

static __always_inline int port_protected(const struct moat_xdp_config *cfg, __u16 port)
{
    __u32 n = cfg->n_ports;
    for (__u32 i = 0; i < MOAT_MAX_PORTS; i++) {
        if (i >= n)
            break;
        if (cfg->ports[i] == port)
            return 1;
    }
    return 0;
}

/* Parses a TCP header at off. Needs the 20-byte fixed header (flags are at
 * byte 13) and a data offset that fits inside the frame. */
static __always_inline int parse_tcp(void *data, void *end, __u32 off, struct pkt *p)
{
    if (off > 4096)
        return L4_MALFORMED;
    __u8 *t = (__u8 *)data + off;
    if ((void *)(t + 20) > end)
        return L4_MALFORMED;
    __u32 doff = (__u32)(t[12] >> 4) * 4;
    if (doff < 20 || (void *)(t + doff) > end)
        return L4_MALFORMED;
    p->dport = load_be16(t + 2);
    p->tcp_flags = t[13];
    return L4_TCP;
}

static __always_inline int parse_ipv4(void *data, void *end, __u32 off, struct pkt *p)
{
    __u8 *ip = (__u8 *)data + off;
    if ((void *)(ip + 20) > end)
        return -1;
    if ((ip[0] >> 4) != 4)
        return -1;
    __u32 ihl = (__u32)(ip[0] & 0x0f) * 4;
    if (ihl < 20 || (void *)(ip + ihl) > end)
        return -1;
    __u16 tot = load_be16(ip + 2);
    if (tot != 0 && tot < ihl)       /* 0: BIG TCP / TSO, length elsewhere */
        return -1;
    p->src.family = 4;
    __builtin_memcpy(p->src.addr, ip + 12, 4);

    __u16 frag = load_be16(ip + 6);
    __u16 foff = frag & 0x1fff;
    __u8 proto = ip[9];
    if (proto != IPPROTO_TCP) {
        p->l4 = L4_OTHER;
        return 0;
    }
    if (foff != 0) {
        /* Offsets 1 and 2 (8..23 bytes) overlap the TCP header a first
         * fragment must carry whole: RFC 1858 overlap attack. */
        p->l4 = foff < 3 ? L4_TINY_FRAG : L4_FRAGMENT;
        return 0;
    }
    int r = parse_tcp(data, end, off + ihl, p);
    if (r == L4_MALFORMED && (frag & 0x2000))   /* MF: tiny first fragment */
        r = L4_TINY_FRAG;
    p->l4 = r;
    return 0;
}

/* IPv6: fixed header, then at most MOAT_IPV6_MAX_EXT extension headers. */
static __always_inline int parse_ipv6(void *data, void *end, __u32 off, struct pkt *p)
{
    __u8 *ip = (__u8 *)data + off;
    if ((void *)(ip + 40) > end)
        return -1;
    if ((ip[0] >> 4) != 6)
        return -1;
    p->src.family = 6;
    __builtin_memcpy(p->src.addr, ip + 8, 16);

    __u8 nh = ip[6];
    __u32 cur = off + 40;
    int first_frag_mf = 0;
    for (int i = 0; i < MOAT_IPV6_MAX_EXT; i++) {
        if (cur > 2048) {               /* keeps the verifier's range bounded */
            p->l4 = L4_MALFORMED;
            return 0;
        }
        __u8 *h = (__u8 *)data + cur;
        switch (nh) {
        case IPPROTO_TCP: {
            int r = parse_tcp(data, end, cur, p);
            if (r == L4_MALFORMED && first_frag_mf)
                r = L4_TINY_FRAG;
            p->l4 = r;
            return 0;
        }
        case IPPROTO_HOPOPTS:
        case IPPROTO_ROUTING:
        case IPPROTO_DSTOPTS:
            if ((void *)(h + 8) > end) {
                p->l4 = L4_MALFORMED;
                return 0;
            }
            nh = h[0];
            cur += ((__u32)h[1] + 1) * 8;
            break;
        case IPPROTO_AH:
            if ((void *)(h + 8) > end) {
                p->l4 = L4_MALFORMED;
                return 0;
            }
            nh = h[0];
            cur += ((__u32)h[1] + 2) * 4;
            break;
        case IPPROTO_FRAGMENT: {
            if ((void *)(h + 8) > end) {
                p->l4 = L4_MALFORMED;
                return 0;
            }
            nh = h[0];
            __u16 fo = load_be16(h + 2);
            __u16 foff = fo >> 3;
            if (foff != 0) {
                /* Payload of a later fragment: no more headers here. */
                if (nh != IPPROTO_TCP)
                    p->l4 = L4_OTHER;
                else
                    p->l4 = foff < 3 ? L4_TINY_FRAG : L4_FRAGMENT;
                return 0;
            }
            first_frag_mf = fo & 1;
            cur += 8;
            break;
        }
        default:
            p->l4 = L4_OTHER;           /* UDP, ICMPv6, ESP, no-next... */
            return 0;
        }
    }
    /* Still inside the chain after the bound. The one legitimate way to
     * reach TCP this deep is rare; the cheap way around a filter is common:
     * treat it as a possible SYN toward a protected port. */
    if (nh == IPPROTO_TCP && cur <= 2048) {
        int r = parse_tcp(data, end, cur, p);
        if (r == L4_TCP) {
            p->l4 = r;
            return 0;
        }
    }
    p->l4 = L4_UNKNOWN;
    return 0;
}

static __always_inline __u64 get_now(const struct moat_xdp_config *cfg)
{
    return cfg->now_override ? cfg->now_override : bpf_ktime_get_ns();
}

static __always_inline void emit(struct moat_stats *st, __u32 type, const struct pkt *p,
                                 __u64 now, __u64 cnt, __u32 reason, __u32 plen,
                                 __u32 ifindex)
{
    struct moat_event *e = bpf_ringbuf_reserve(&MOAT_MAP_EVENTS, sizeof(*e), 0);
    if (!e) {
        count(st, MOAT_STAT_events_lost);
        return;
    }
    __builtin_memset(e, 0, sizeof(*e));
    e->ts_ns = now;
    e->count = cnt;
    e->type = type;
    e->ifindex = ifindex;
    e->family = p->src.family;
    e->dport = p->dport;
    e->reason = reason;
    e->prefixlen = plen;
    __builtin_memcpy(e->addr, p->src.addr, 16);
    bpf_ringbuf_submit(e, 0);
    count(st, MOAT_STAT_events_sent);
}

static __always_inline __u64 interval(const struct moat_xdp_config *cfg)
{
    return cfg->event_interval_ns ? cfg->event_interval_ns : MOAT_EVENT_INTERVAL_DEFAULT_NS;
}

/* Returns 1 if the SYN may pass. Token arithmetic stays in 64 bits: rate is
 * clamped to MOAT_MAX_RATE and elapsed to MOAT_MAX_ELAPSED_NS. */
static __always_inline int take_token(const struct moat_xdp_config *cfg, struct moat_stats *st,
                                      const struct pkt *p, __u64 now, __u32 ifindex)
{
    __u64 rate = cfg->syn_rate;
    if (rate == 0)
        return 1;
    if (rate > MOAT_MAX_RATE)
        rate = MOAT_MAX_RATE;
    __u64 burst = cfg->syn_burst ? cfg->syn_burst : rate;
    if (burst > MOAT_MAX_RATE)
        burst = MOAT_MAX_RATE;
    __u64 cap = burst * MOAT_TOKEN_SCALE;

    struct moat_src_key k = p->src;
    __u32 plen = 32;
    k.prefixlen = 32;
    if (k.family == 6) {
        plen = cfg->ipv6_prefix;
        if (plen == 0 || plen > 128)
            plen = 64;
        k.prefixlen = (__u8)plen;
        for (int i = 0; i < 16; i++) {
            __u32 bit = (__u32)i * 8;
            __u32 keep = plen > bit ? plen - bit : 0;
            keep = keep > 8 ? 8 : keep;
            k.addr[i] &= (__u8)(0xff00 >> keep);
        }
    }

    struct moat_bucket *b = bpf_map_lookup_elem(&MOAT_MAP_BUCKETS, &k);
    if (!b) {
        struct moat_bucket nb = { .tokens = cap - MOAT_TOKEN_SCALE, .last_ns = now };
        bpf_map_update_elem(&MOAT_MAP_BUCKETS, &k, &nb, BPF_NOEXIST);
        count(st, MOAT_STAT_bucket_new);
        return 1;
    }
    /* Concurrent CPUs may race on one bucket; the error is a few tokens
     * either way, never a bypass (docs/xdp.md). */
    __u64 tokens = b->tokens;
    if (now > b->last_ns) {
        __u64 el = now - b->last_ns;
        if (el > MOAT_MAX_ELAPSED_NS)
            el = MOAT_MAX_ELAPSED_NS;
        __u64 add = el * rate / (1000000000ull / MOAT_TOKEN_SCALE);
        tokens = tokens + add > cap ? cap : tokens + add;
        b->last_ns = now;
    }
    if (tokens > cap)
        tokens = cap;              /* burst lowered at run time */
    if (tokens >= MOAT_TOKEN_SCALE) {
        b->tokens = tokens - MOAT_TOKEN_SCALE;
        return 1;
    }
    b->tokens = tokens;
    __sync_fetch_and_add(&b->drops, 1);
    if (b->last_event_ns == 0 || now - b->last_event_ns >= interval(cfg)) {
        b->last_event_ns = now;
        __u64 n = b->drops;
        b->drops = 0;
        struct pkt ep = *p;           /* report the aggregated source */
        __builtin_memcpy(ep.src.addr, k.addr, 16);
        emit(st, MOAT_EV_RATE_EXCEEDED, &ep, now, n, MOAT_REASON_FLOOD, plen, ifindex);
    }
    return 0;
}

static __always_inline void *lookup_src(void *m4, void *m6, const struct pkt *p)
{
    if (p->src.family == 4) {
        struct moat_lpm4_key k = { .prefixlen = 32 };
        __builtin_memcpy(k.addr, p->src.addr, 4);
        return bpf_map_lookup_elem(m4, &k);
    }
    struct moat_lpm6_key k = { .prefixlen = 128 };
    __builtin_memcpy(k.addr, p->src.addr, 16);
    return bpf_map_lookup_elem(m6, &k);
}

SEC("xdp")
int MOAT_PROG(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *end = (void *)(long)ctx->data_end;
    __u32 zero = 0;
    struct moat_stats *st = bpf_map_lookup_elem(&MOAT_MAP_STATS, &zero);
    struct moat_xdp_config *cfg = bpf_map_lookup_elem(&MOAT_MAP_CONFIG, &zero);
    if (!cfg)
        return XDP_PASS;            /* cannot happen for an array map */

    /* L2: Ethernet, then up to two 802.1Q / 802.1ad tags. */
    __u8 *eth = data;
    if ((void *)(eth + 14) > end)
        return verdict(st, MOAT_STAT_pass_short_l2, XDP_PASS);
    __u16 proto = load_be16(eth + 12);
    __u32 off = 14;
    for (int i = 0; i < 2; i++) {
        if (proto != ETH_P_8021Q && proto != ETH_P_8021AD)
            break;
        __u8 *tag = (__u8 *)data + off;
        if ((void *)(tag + 4) > end)
            return verdict(st, MOAT_STAT_pass_short_l2, XDP_PASS);
        proto = load_be16(tag + 2);
        off += 4;
    }
    if (proto == ETH_P_8021Q || proto == ETH_P_8021AD)
        return verdict(st, MOAT_STAT_drop_vlan_depth, XDP_DROP);

    struct pkt p = {};
    int r;
    if (proto == ETH_P_IP)
        r = parse_ipv4(data, end, off, &p);
    else if (proto == ETH_P_IPV6)
        r = parse_ipv6(data, end, off, &p);
    else
        return verdict(st, MOAT_STAT_pass_non_ip, XDP_PASS);
    if (r < 0)
        return verdict(st, MOAT_STAT_drop_malformed, XDP_DROP);

    /* 2. Allowlist first: never blocked, never limited. */
    struct moat_allow_val *av = lookup_src(&MOAT_MAP_ALLOW4, &MOAT_MAP_ALLOW6, &p);
    if (av) {
        __sync_fetch_and_add(&av->hits, 1);
        return verdict(st, MOAT_STAT_pass_allow, XDP_PASS);
    }

    __u64 now = get_now(cfg);
    __u32 ifindex = ctx->ingress_ifindex;

    /* 3./5. Blocklist. */
    struct moat_block_val *bv = lookup_src(&MOAT_MAP_BLOCK4, &MOAT_MAP_BLOCK6, &p);
    if (bv && bv->expires_ns != 0 && now >= bv->expires_ns) {
        count(st, MOAT_STAT_block_expired);
        bv = 0;                        /* userspace GC deletes it later */
    }
    if (bv) {
        int drop = cfg->block_mode != MOAT_BLOCK_PORTS;
        if (!drop) {
            drop = p.l4 == L4_FRAGMENT || p.l4 == L4_UNKNOWN || p.l4 == L4_TINY_FRAG ||
                   p.l4 == L4_MALFORMED ||
                   (p.l4 == L4_TCP && port_protected(cfg, p.dport));
        }
        if (drop) {
            __sync_fetch_and_add(&bv->hits, 1);
            if (bv->last_event_ns == 0 || now - bv->last_event_ns >= interval(cfg)) {
                bv->last_event_ns = now;
                emit(st, MOAT_EV_BLOCKED_SEEN, &p, now, bv->hits, bv->reason,
                     bv->prefixlen, ifindex);
            }
            return verdict(st, MOAT_STAT_drop_blocked, XDP_DROP);
        }
    }

    switch (p.l4) {
    case L4_OTHER:
        return verdict(st, MOAT_STAT_pass_non_tcp, XDP_PASS);
    case L4_MALFORMED:
        return verdict(st, MOAT_STAT_drop_malformed, XDP_DROP);
    case L4_TINY_FRAG:
        return verdict(st, MOAT_STAT_drop_tiny_frag, XDP_DROP);
    case L4_FRAGMENT:
        /* The first fragment carried the SYN decision; without it the
         * stack cannot reassemble, so later fragments are not charged. */
        return verdict(st, MOAT_STAT_pass_fragment, XDP_PASS);
    case L4_UNKNOWN:
        count(st, MOAT_STAT_ext_limit);
        if (!take_token(cfg, st, &p, now, ifindex))
            return verdict(st, MOAT_STAT_drop_rate, XDP_DROP);
        return verdict(st, MOAT_STAT_pass_syn, XDP_PASS);
    default:
        break;
    }
    /* 6. SYN without ACK toward a protected port. */
    if ((p.tcp_flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) != TCP_FLAG_SYN ||
        !port_protected(cfg, p.dport))
        return verdict(st, MOAT_STAT_pass_tcp, XDP_PASS);
    if (!take_token(cfg, st, &p, now, ifindex))
        return verdict(st, MOAT_STAT_drop_rate, XDP_DROP);
    return verdict(st, MOAT_STAT_pass_syn, XDP_PASS);
}
