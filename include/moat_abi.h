/* moat XDP ABI: the one header shared by bpf/moat.bpf.c and userspace
 * (user/xdp/, tools/moatctl.c). Map names, key/value layouts, verdict and
 * reason enums, the ring-buffer event and the config record live here and
 * nowhere else. Every struct has fixed-width fields, explicit padding and
 * a size checked at compile time, so BPF and userspace cannot disagree.
 *
 * Changing a layout changes the pinned maps' value size: libbpf then refuses
 * to reuse the old pins (see docs/xdp.md, "Upgrading"). */
#ifndef MOAT_ABI_H
#define MOAT_ABI_H

#if defined(__bpf__)
/* The BPF build has no <asm/types.h> (Debian keeps it in the multiarch
 * directory, which clang -target bpf does not search), so the kernel's
 * fixed-width names are declared here for the BPF side only. */
typedef unsigned char      __u8;
typedef unsigned short     __u16;
typedef unsigned int       __u32;
typedef unsigned long long __u64;
typedef signed char        __s8;
typedef short              __s16;
typedef int                __s32;
typedef long long          __s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
#else
#include <linux/types.h>
#endif

/* Default pin root; moatd's bpf_pin_path and moatctl --pin-path override. */
#define MOAT_PIN_ROOT_DEFAULT "/sys/fs/bpf/moat"

/* Map and program names: identifiers in the BPF source, file names under
 * the pin root, names shown by bpftool (at most 15 characters). */
#define MOAT_MAP_BLOCK4  block4
#define MOAT_MAP_BLOCK6  block6
#define MOAT_MAP_ALLOW4  allow4
#define MOAT_MAP_ALLOW6  allow6
#define MOAT_MAP_BUCKETS buckets
#define MOAT_MAP_STATS   stats
#define MOAT_MAP_CONFIG  config
#define MOAT_MAP_EVENTS  events
#define MOAT_PROG        moat_xdp
#define MOAT_STR_(x) #x
#define MOAT_STR(x)  MOAT_STR_(x)

/* Default map sizes (userspace may change them before load). */
#define MOAT_BLOCK_ENTRIES_DEFAULT   65536u
#define MOAT_ALLOW_ENTRIES_DEFAULT   1024u
#define MOAT_BUCKET_ENTRIES_DEFAULT  65536u
#define MOAT_EVENTS_BYTES_DEFAULT    (256u * 1024u)

/* Protected ports held in the config record (MQTT listeners). */
#define MOAT_MAX_PORTS 16
/* IPv6 extension headers walked before the packet is called suspicious. */
#define MOAT_IPV6_MAX_EXT 6
/* Rate limits above this are clamped by userspace (keeps the BPF token
 * arithmetic inside 64 bits: elapsed is capped at MOAT_MAX_ELAPSED_NS). */
#define MOAT_MAX_RATE        1000000u
#define MOAT_MAX_ELAPSED_NS  (3600ull * 1000000000ull)
/* Token amounts are kept in thousandths of a token. */
#define MOAT_TOKEN_SCALE 1000ull
#define MOAT_EVENT_INTERVAL_DEFAULT_NS 1000000000ull

/* LPM trie keys: prefixlen first (the kernel's bpf_lpm_trie_key layout),
 * address in network byte order. */
struct moat_lpm4_key {
    __u32 prefixlen;
    __u8  addr[4];
};
struct moat_lpm6_key {
    __u32 prefixlen;
    __u8  addr[16];
};

/* Why a CIDR is blocked (chosen by whoever adds it; shown by moatctl). */
enum moat_block_reason {
    MOAT_REASON_MANUAL   = 0,   /* operator, no reason given */
    MOAT_REASON_SCANNER  = 1,
    MOAT_REASON_FLOOD    = 2,   /* escalated from rate-limit events */
    MOAT_REASON_AUTH     = 3,   /* repeated authentication failures */
    MOAT_REASON_PROTOCOL = 4,   /* MQTT protocol abuse */
    MOAT_REASON_OTHER    = 5,
    MOAT_REASON_MAX
};

/* Blocklist value (block4/block6). */
struct moat_block_val {
    __u64 expires_ns;     /* CLOCK_MONOTONIC ns (bpf_ktime_get_ns); 0 = permanent */
    __u64 added_ns;       /* CLOCK_MONOTONIC ns when added */
    __u64 hits;           /* packets dropped by this entry (atomic add in BPF) */
    __u64 last_event_ns;  /* last "blocked source seen" event for this entry */
    __u32 reason;         /* enum moat_block_reason */
    __u32 prefixlen;      /* copy of the key's prefix, for events */
};

/* Allowlist value (allow4/allow6). */
struct moat_allow_val {
    __u64 hits;           /* packets passed because of this entry */
    __u64 added_ns;
};

/* Token-bucket key: a source, IPv4 /32 or IPv6 masked to the configured
 * prefix. family is 4 or 6; unused address bytes are zero; prefixlen is
 * part of the key so a prefix change at run time starts fresh buckets. */
struct moat_src_key {
    __u8  family;
    __u8  prefixlen;
    __u8  pad[2];
    __u8  addr[16];
};

/* Token-bucket state per source (LRU hash "buckets"). */
struct moat_bucket {
    __u64 tokens;         /* thousandths of a token (MOAT_TOKEN_SCALE) */
    __u64 last_ns;        /* time of the last refill */
    __u64 last_event_ns;  /* last "rate exceeded" event for this source */
    __u64 drops;          /* SYNs dropped for this source since last event */
};

/* Blocklist matching mode. */
enum moat_block_mode {
    MOAT_BLOCK_ALL   = 0, /* every packet of a blocked source is dropped */
    MOAT_BLOCK_PORTS = 1, /* only TCP toward the protected ports (and what
                             cannot be told apart from it: non-first
                             fragments, over-long IPv6 header chains) */
};

/* Config record: array map "config", one entry (key 0). Read per packet,
 * so changes apply at once. All-zero = no ports protected, no rate limit,
 * block mode "all", IPv6 prefix 64, event interval 1 s. */
struct moat_xdp_config {
    __u32 syn_rate;          /* SYNs per second per source; 0 = no limit */
    __u32 syn_burst;         /* bucket depth in SYNs; 0 = same as syn_rate */
    __u32 ipv6_prefix;       /* 1..128 bits a v6 source is aggregated to; 0 = 64 */
    __u32 block_mode;        /* enum moat_block_mode */
    __u64 event_interval_ns; /* min gap between events per source; 0 = 1 s */
    __u64 now_override;      /* TEST ONLY: non-zero replaces bpf_ktime_get_ns() */
    __u32 n_ports;           /* entries used in ports[] */
    __u16 ports[MOAT_MAX_PORTS]; /* protected TCP ports, host byte order */
    __u32 pad;
};

/* Per-CPU counters: one X entry per verdict and reason. The struct (named
 * fields for bpftool) and the index enum come from the same list. */
#define MOAT_STATS_FIELDS(X) \
    X(xdp_pass)          /* verdict totals */                              \
    X(xdp_drop)                                                            \
    X(pass_non_ip)       /* not IPv4/IPv6 after up to two VLAN tags */     \
    X(pass_short_l2)     /* frame ends inside Ethernet/VLAN header */      \
    X(pass_allow)        /* source on the allowlist */                     \
    X(pass_non_tcp)      /* UDP, ICMP, ESP... (source not blocked) */      \
    X(pass_tcp)          /* TCP not subject to the limit (ACK set, other port) */ \
    X(pass_syn)          /* SYN to a protected port within the rate */     \
    X(pass_fragment)     /* non-first fragment of an unblocked source */   \
    X(drop_blocked)      /* source on the blocklist */                     \
    X(drop_rate)         /* SYN beyond the source's token bucket */        \
    X(drop_malformed)    /* IP/IPv6-ext/TCP header truncated or invalid */ \
    X(drop_tiny_frag)    /* TCP fragment too small or overlapping header */\
    X(drop_vlan_depth)   /* more than two VLAN tags */                     \
    X(ext_limit)         /* IPv6 chain longer than MOAT_IPV6_MAX_EXT */    \
    X(block_expired)     /* matched an expired block entry (ignored) */    \
    X(events_sent)                                                         \
    X(events_lost)       /* ring buffer full */                            \
    X(bucket_new)        /* token bucket created */

#define MOAT_STAT_ENUM_(n) MOAT_STAT_##n,
enum moat_stat_index { MOAT_STATS_FIELDS(MOAT_STAT_ENUM_) MOAT_STAT_COUNT };
#undef MOAT_STAT_ENUM_

#define MOAT_STAT_FIELD_(n) __u64 n;
struct moat_stats { MOAT_STATS_FIELDS(MOAT_STAT_FIELD_) };
#undef MOAT_STAT_FIELD_

/* Ring-buffer events ("events"). */
enum moat_event_type {
    MOAT_EV_RATE_EXCEEDED = 1, /* source's SYN bucket ran dry */
    MOAT_EV_BLOCKED_SEEN  = 2, /* packet from a blocked source dropped */
};

struct moat_event {
    __u64 ts_ns;        /* time the program used (now_override or ktime) */
    __u64 count;        /* RATE: drops since the last event; BLOCKED: entry hits */
    __u32 type;         /* enum moat_event_type */
    __u32 ifindex;      /* ingress interface */
    __u8  family;       /* 4 or 6 */
    __u8  pad[1];
    __u16 dport;        /* TCP destination port (host order), 0 if unknown */
    __u32 reason;       /* BLOCKED: entry's reason; RATE: MOAT_REASON_FLOOD */
    __u32 prefixlen;    /* BLOCKED: matched entry's prefix; RATE: bucket prefix */
    __u8  addr[16];     /* packet's source address (v4 in the first 4 bytes) */
    __u32 pad2;
};

/* Layout checks, evaluated by both compilers. */
_Static_assert(sizeof(struct moat_lpm4_key) == 8, "lpm4 key");
_Static_assert(sizeof(struct moat_lpm6_key) == 20, "lpm6 key");
_Static_assert(sizeof(struct moat_block_val) == 40, "block val");
_Static_assert(sizeof(struct moat_allow_val) == 16, "allow val");
_Static_assert(sizeof(struct moat_src_key) == 20, "src key");
_Static_assert(sizeof(struct moat_bucket) == 32, "bucket");
_Static_assert(sizeof(struct moat_xdp_config) == 72, "config");
_Static_assert(sizeof(struct moat_stats) == MOAT_STAT_COUNT * 8, "stats");
_Static_assert(sizeof(struct moat_event) == 56, "event");

#endif
