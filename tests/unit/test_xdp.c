/* moat XDP program under BPF_PROG_TEST_RUN: crafted frames in, verdicts,
 * per-CPU counters and map contents checked. Needs root and a kernel with
 * BPF; skips (cmocka skip()) only when the kernel cannot load XDP at all.
 * Programs are loaded without pins, so a live /sys/fs/bpf/moat is never
 * touched; the pin test uses /sys/fs/bpf/moat-test-PID and removes it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "moat_abi.h"
#include "xdp/xdp_filter.h"

#define SEC_NS 1000000000ull
#define T0 (1000 * SEC_NS)        /* controlled clock start */
#define PORT 1883

static int bpf_usable = -1;

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
    if (level == LIBBPF_WARN && getenv("MOAT_TEST_VERBOSE"))
        return vfprintf(stderr, fmt, ap);
    return 0;
}

/* ---- frame builder ---------------------------------------------------- */

struct frame {
    uint8_t b[512];
    size_t n;
    size_t l3;         /* offset of the IP header */
    size_t ipv6_plen;  /* offset of the IPv6 payload-length field or 0 */
};

static void put(struct frame *f, const void *p, size_t n)
{
    assert_true(f->n + n <= sizeof(f->b));
    memcpy(f->b + f->n, p, n);
    f->n += n;
}
static void put8(struct frame *f, uint8_t v) { put(f, &v, 1); }
static void put16(struct frame *f, uint16_t v) { uint16_t be = htons(v); put(f, &be, 2); }
static void put32(struct frame *f, uint32_t v) { uint32_t be = htonl(v); put(f, &be, 4); }

/* Ethernet with optional VLAN tags: tpids[0..ntags-1], then ethertype. */
static void eth(struct frame *f, const uint16_t *tpids, int ntags, uint16_t type)
{
    static const uint8_t mac[12] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2 };
    f->n = 0;
    put(f, mac, 12);
    for (int i = 0; i < ntags; i++) {
        put16(f, tpids[i]);
        put16(f, (uint16_t)(100 + i));       /* TCI: VLAN id */
    }
    put16(f, type);
    f->l3 = f->n;
}

/* IPv4 header with optlen bytes of options (multiple of 4). */
static void ipv4(struct frame *f, const char *src, uint8_t proto, int optlen, uint16_t frag)
{
    uint8_t a[4], d[4];
    inet_pton(AF_INET, src, a);
    inet_pton(AF_INET, "198.18.0.2", d);
    put8(f, (uint8_t)(0x40 | (5 + optlen / 4)));
    put8(f, 0);
    put16(f, (uint16_t)(20 + optlen + 20));
    put16(f, 1);
    put16(f, frag);
    put8(f, 64);
    put8(f, proto);
    put16(f, 0);
    put(f, a, 4);
    put(f, d, 4);
    for (int i = 0; i < optlen; i++)
        put8(f, 1);                            /* NOP options */
}

static void ipv6(struct frame *f, const char *src, uint8_t nh)
{
    uint8_t a[16], d[16];
    inet_pton(AF_INET6, src, a);
    inet_pton(AF_INET6, "2001:2::2", d);
    put32(f, 0x60000000);
    f->ipv6_plen = f->n;
    put16(f, 0);
    put8(f, nh);
    put8(f, 64);
    put(f, a, 16);
    put(f, d, 16);
}

/* Generic 8-byte-unit extension header (hop-by-hop, routing, dstopts). */
static void ext(struct frame *f, uint8_t nh, uint8_t units)
{
    put8(f, nh);
    put8(f, units);
    for (int i = 0; i < 6 + units * 8; i++)
        put8(f, 0);
}
static void ext_ah(struct frame *f, uint8_t nh)
{
    put8(f, nh);
    put8(f, 4);                 /* (4+2)*4 = 24 bytes */
    for (int i = 0; i < 22; i++)
        put8(f, 0);
}
static void ext_frag(struct frame *f, uint8_t nh, uint16_t off8, int mf)
{
    put8(f, nh);
    put8(f, 0);
    put16(f, (uint16_t)((off8 << 3) | (mf ? 1 : 0)));
    put32(f, 0x1234);
}

#define F_SYN 0x02
#define F_ACK 0x10
static void tcp(struct frame *f, uint16_t dport, uint8_t flags)
{
    put16(f, 40000);
    put16(f, dport);
    put32(f, 1);
    put32(f, 0);
    put8(f, 5 << 4);
    put8(f, flags);
    put16(f, 65535);
    put16(f, 0);
    put16(f, 0);
}
static void udp(struct frame *f)
{
    put16(f, 5000);
    put16(f, PORT);
    put16(f, 8);
    put16(f, 0);
}

static struct frame syn4(const char *src, uint16_t dport, uint8_t flags)
{
    struct frame f;
    eth(&f, NULL, 0, 0x0800);
    ipv4(&f, src, 6, 0, 0);
    tcp(&f, dport, flags);
    return f;
}
static struct frame syn6(const char *src, uint16_t dport, uint8_t flags)
{
    struct frame f;
    eth(&f, NULL, 0, 0x86DD);
    ipv6(&f, src, 6);
    tcp(&f, dport, flags);
    return f;
}

/* ---- harness ---------------------------------------------------------- */

struct ctx {
    struct xdp_filter *f;
    struct moat_stats before;
};

static int setup(void **state)
{
    if (bpf_usable == 0) {
        *state = NULL;
        return 0;
    }
    char err[512];
    struct xdp_filter_opts o = { .pin_root = NULL, .bucket_entries = 1024,
                                 .block_entries = 1024, .allow_entries = 64 };
    struct ctx *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    c->f = xdp_filter_open(&o, err, sizeof(err));
    if (!c->f)
        fail_msg("xdp_filter_open: %s", err);
    uint16_t ports[] = { PORT, 8883 };
    assert_int_equal(xdp_filter_set_ports(c->f, ports, 2, err, sizeof(err)), 0);
    struct moat_xdp_config cfg;
    assert_int_equal(moat_maps_config_get(xdp_filter_maps(c->f), &cfg, err, sizeof(err)), 0);
    cfg.now_override = T0;
    assert_int_equal(moat_maps_config_set(xdp_filter_maps(c->f), &cfg, err, sizeof(err)), 0);
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    struct ctx *c = *state;
    if (c) {
        xdp_filter_close(c->f, false);
        free(c);
    }
    return 0;
}

#define NEED_BPF(c) do { if (!(c)) { skip(); return; } } while (0)

static struct moat_maps *M(struct ctx *c) { return xdp_filter_maps(c->f); }

static void cfg_update(struct ctx *c, void (*fn)(struct moat_xdp_config *, uint64_t), uint64_t v)
{
    char err[256];
    struct moat_xdp_config cfg;
    assert_int_equal(moat_maps_config_get(M(c), &cfg, err, sizeof(err)), 0);
    fn(&cfg, v);
    assert_int_equal(moat_maps_config_set(M(c), &cfg, err, sizeof(err)), 0);
}
static void set_now_fn(struct moat_xdp_config *cfg, uint64_t v) { cfg->now_override = v; }
static void set_mode_fn(struct moat_xdp_config *cfg, uint64_t v) { cfg->block_mode = (uint32_t)v; }
static void set_prefix_fn(struct moat_xdp_config *cfg, uint64_t v) { cfg->ipv6_prefix = (uint32_t)v; }
static void set_now(struct ctx *c, uint64_t ns) { cfg_update(c, set_now_fn, ns); }

static void set_rate(struct ctx *c, uint32_t rate, uint32_t burst)
{
    char err[256];
    struct moat_xdp_config cfg;
    assert_int_equal(moat_maps_config_get(M(c), &cfg, err, sizeof(err)), 0);
    assert_int_equal(xdp_filter_set_rate(c->f, rate, burst, cfg.ipv6_prefix,
                                         (enum moat_block_mode)cfg.block_mode, err, sizeof(err)),
                     0);
}

static struct moat_stats stats(struct ctx *c)
{
    char err[256];
    struct moat_stats s;
    assert_int_equal(xdp_filter_stats(c->f, &s, err, sizeof(err)), 0);
    return s;
}

/* Runs one frame (first len bytes) and returns the XDP verdict. */
static int run_len(struct ctx *c, const struct frame *fr, size_t len)
{
    uint8_t out[600];
    LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = fr->b, .data_size_in = (uint32_t)len,
                .data_out = out, .data_size_out = sizeof(out), .repeat = 1);
    int rc = bpf_prog_test_run_opts(xdp_filter_prog_fd(c->f), &o);
    assert_int_equal(rc, 0);
    return (int)o.retval;
}
static int run(struct ctx *c, const struct frame *fr) { return run_len(c, fr, fr->n); }

/* Asserts that exactly `reason` (and the verdict total) moved by one. */
static void expect(struct ctx *c, const struct frame *fr, size_t len, int verdict,
                   enum moat_stat_index reason, const char *what)
{
    struct moat_stats a = stats(c);
    int v = run_len(c, fr, len);
    struct moat_stats b = stats(c);
    const uint64_t *pa = (const uint64_t *)&a, *pb = (const uint64_t *)&b;
    if (v != verdict)
        fail_msg("%s (len %zu): verdict %d, expected %d", what, len, v, verdict);
    if (pb[reason] != pa[reason] + 1)
        fail_msg("%s (len %zu): counter %s moved %llu, expected 1", what, len,
                 moat_stat_name(reason), (unsigned long long)(pb[reason] - pa[reason]));
    unsigned tot = verdict == XDP_DROP ? MOAT_STAT_xdp_drop : MOAT_STAT_xdp_pass;
    assert_int_equal(pb[tot], pa[tot] + 1);
}

static void block(struct ctx *c, const char *cidr, uint64_t ttl)
{
    char err[256];
    struct moat_cidr k;
    assert_int_equal(moat_cidr_parse(cidr, &k, err, sizeof(err)), 0);
    assert_int_equal(xdp_filter_block(c->f, &k, ttl, MOAT_REASON_SCANNER, err, sizeof(err)), 0);
}
static void allow(struct ctx *c, const char *cidr)
{
    char err[256];
    struct moat_cidr k;
    assert_int_equal(moat_cidr_parse(cidr, &k, err, sizeof(err)), 0);
    assert_int_equal(xdp_filter_allow(c->f, &k, err, sizeof(err)), 0);
}

static struct moat_block_val block_val(struct ctx *c, const char *cidr)
{
    char err[256];
    struct moat_cidr k;
    assert_int_equal(moat_cidr_parse(cidr, &k, err, sizeof(err)), 0);
    struct moat_block_val v;
    memset(&v, 0, sizeof(v));
    if (k.family == 4) {
        struct moat_lpm4_key key = { .prefixlen = k.prefixlen };
        memcpy(key.addr, k.addr, 4);
        assert_int_equal(bpf_map_lookup_elem(M(c)->block4, &key, &v), 0);
    } else {
        struct moat_lpm6_key key = { .prefixlen = k.prefixlen };
        memcpy(key.addr, k.addr, 16);
        assert_int_equal(bpf_map_lookup_elem(M(c)->block6, &key, &v), 0);
    }
    return v;
}

/* ---- tests ------------------------------------------------------------ */

static void test_non_ip_pass(void **state)
{
    struct ctx *c = *state;
    NEED_BPF(c);
    struct frame f;
    eth(&f, NULL, 0, 0x0806);         /* ARP */
    for (int i = 0; i < 28; i++)
        put8(&f, 0);
    expect(c, &f, f.n, XDP_PASS, MOAT_STAT_pass_non_ip, "arp");
    /* Frames shorter than 14 bytes cannot be fed to BPF_PROG_TEST_RUN
     * (EINVAL); the cut-inside-VLAN case below covers pass_short_l2. */
    f.b[12] = 0x88;
    f.b[13] = 0xcc;                    /* LLDP */
    expect(c, &f, f.n, XDP_PASS, MOAT_STAT_pass_non_ip, "lldp");
}

static void test_ipv4_syn_ack_ports(void **state)
{
    struct ctx *c = *state;
    NEED_BPF(c);
    set_rate(c, 1, 1);
    struct frame s = syn4("198.18.1.1", PORT, F_SYN);
    expect(c, &s, s.n, XDP_PASS, MOAT_STAT_pass_syn, "first SYN");
    expect(c, &s, s.n, XDP_DROP, MOAT_STAT_drop_rate, "second SYN beyond burst 1");
    struct frame a = syn4("198.18.1.1", PORT, F_ACK);
    expect(c, &a, a.n, XDP_PASS, MOAT_STAT_pass_tcp, "ACK of an established flow");
    struct frame sa = syn4("198.18.1.1", PORT, F_SYN | F_ACK);
    expect(c, &sa, sa.n, XDP_PASS, MOAT_STAT_pass_tcp, "SYN+ACK");
    struct frame o = syn4("198.18.1.1", 22, F_SYN);
    expect(c, &o, o.n, XDP_PASS, MOAT_STAT_pass_tcp, "SYN to unprotected port");
    struct frame p2 = syn4("198.18.1.1", 8883, F_SYN);
    expect(c, &p2, p2.n, XDP_DROP, MOAT_STAT_drop_rate, "SYN to second protected port");
    struct frame other = syn4("198.18.1.2", PORT, F_SYN);
    expect(c, &other, other.n, XDP_PASS, MOAT_STAT_pass_syn, "other source own bucket");
    /* The bucket exists with the source's /32 as key. */
    struct moat_src_key k = { .family = 4, .prefixlen = 32 };
    inet_pton(AF_INET, "198.18.1.1", k.addr);
    struct moat_bucket b;
    assert_int_equal(bpf_map_lookup_elem(M(c)->buckets, &k, &b), 0);
    assert_true(b.tokens < MOAT_TOKEN_SCALE);
}

static void test_non_tcp_pass(void **state)
{
    struct ctx *c = *state;
    NEED_BPF(c);
    struct frame f;
    eth(&f, NULL, 0, 0x0800);
    ipv4(&f, "198.18.1.1", 17, 0, 0);
    udp(&f);
    expect(c, &f, f.n, XDP_PASS, MOAT_STAT_pass_non_tcp, "udp");
    eth(&f, NULL, 0, 0x86DD);
    ipv6(&f, "2001:2::9", 58);
    put32(&f, 0x80000000);
    expect(c, &f, f.n, XDP_PASS, MOAT_STAT_pass_non_tcp, "icmpv6");
}

static void test_vlan_tags(void **state)
{
    struct ctx *c = *state;
    NEED_BPF(c);
    set_rate(c, 1, 1);
    block(c, "198.18.7.0/24", 0);
    const uint16_t tp[][3] = { { 0x8100 }, { 0x88A8, 0x8100 }, { 0x8100, 0x8100 },
                               { 0x88A8, 0x88A8 } };
    const int nt[] = { 1, 2, 2, 2 };
    for (int i = 0; i < 4; i++) {
        struct frame f;
        eth(&f, tp[i], nt[i], 0x0800);
        ipv4(&f, "198.18.7.9", 6, 0, 0);
        tcp(&f, PORT, F_SYN);
        expect(c, &f, f.n, XDP_DROP, MOAT_STAT_drop_blocked, "blocked behind VLAN tags");
        eth(&f, tp[i], nt[i], 0x86DD);
        char src[32];
        snprintf(src, sizeof(src), "2001:2:0:%d::1", i + 1);
        ipv6(&f, src, 6);
        tcp(&f, PORT, F_SYN);
        expect(c, &f, f.n, XDP_PASS, MOAT_STAT_pass_syn, "v6 SYN behind VLAN tags");
        expect(c, &f, f.n, XDP_DROP, MOAT_STAT_drop_rate, "v6 SYN behind tags limited");
        /* Truncated inside the tags: cannot be IP, passes. */
        for (size_t len = 14; len < f.l3; len++)
            expect(c, &f, len, XDP_PASS, MOAT_STAT_pass_short_l2, "cut inside VLAN tag");
    }
    const uint16_t three[] = { 0x88A8, 0x8100, 0x8100 };
    struct frame f;
    eth(&f, three, 3, 0x0800);
    ipv4(&f, "198.18.1.1", 6, 0, 0);
    tcp(&f, PORT, F_SYN);
    expect(c, &f, f.n, XDP_DROP, MOAT_STAT_drop_vlan_depth, "three VLAN tags");
}

/* Every cut of an IPv4 SYN: L2 pass, L3/L4 drop as malformed, full parse. */
static void test_ipv4_truncation_every_boundary(void **state)
{
    struct ctx *c = *state;
    NEED_BPF(c);
    for (int opt = 0; opt <= 40; opt += 20) {
        struct frame f;
        eth(&f, NULL, 0, 0x0800);
        ipv4(&f, "198.18.1.1", 6, opt, 0);
        tcp(&f, PORT, F_SYN);
        for (size_t len = 14; len < f.n; len++)
            expect(c, &f, len, XDP_DROP, MOAT_STAT_drop_malformed, "cut IPv4/TCP");
        expect(c, &f, f.n, XDP_PASS, MOAT_STAT_pass_syn, "complete IPv4 with options");
    }
    /* Bad version, ihl < 5, ihl beyond the frame, tot_len < ihl, TCP doff<5. */
    struct frame f = syn4("198.18.1.1", PORT, F_SYN);
    f.b[14] = 0x55;
    expect(c, &f, f.n, XDP_DROP, MOAT_STAT_drop_malformed, "IPv4 version 5");
    f.b[14] = 0x44;
    expect(c, &f, f.n, XDP_DROP, MOAT_STAT_drop_malformed, "ihl 4");
    f.b[14] = 0x4f;
    expect(c, &f, f.n, XDP_DROP, MOAT_STAT_drop_malformed, "ihl 15 beyond frame");
    f = syn4("198.18.1.1", PORT, F_SYN);
    f.b[16] = 0;
    f.b[17] = 19;
    expect(c, &f, f.n, XDP_DROP, MOAT_STAT_drop_malformed, "tot_len < ihl");
    f = syn4("198.18.1.1", PORT, F_SYN);
    f.b[34 + 12] = 4 << 4;
    expect(c, &f, f.n, XDP_DROP, MOAT_STAT_drop_malformed, "doff 4");
    f.b[34 + 12] = 6 << 4;
    expect(c, &f, f.n, XDP_DROP, MOAT_STAT_drop_malformed, "doff beyond frame");
}

/* IPv6 with every extension header kind before TCP, cut everywhere. */
static void test_ipv6_ext_chain_and_truncation(void **state)
{
    struct ctx *c = *state;
    NEED_BPF(c);
    set_rate(c, 1, 1);
    struct frame f;
    eth(&f, NULL, 0, 0x86DD);
    ipv6(&f, "2001:2:1::1", 0);
    ext(&f, 43, 0);            /* hop-by-hop -> routing */
    ext(&f, 60, 1);            /* routing -> dstopts (16 bytes) */
    ext(&f, 51, 0);            /* dstopts -> AH */
    ext_ah(&f, 44);            /* AH -> fragment */
    ext_frag(&f, 6, 0, 0);     /* atomic fragment -> TCP */
    tcp(&f, PORT, F_SYN);
    for (size_t len = 14; len < f.n; len++)
        expect(c, &f, len, XDP_DROP, MOAT_STAT_drop_malformed, "cut IPv6 chain");
    expect(c, &f, f.n, XDP_PASS, MOAT_STAT_pass_syn, "SYN after five extension headers");
    expect(c, &f, f.n, XDP_DROP, MOAT_STAT_drop_rate, "chain does not bypass the limit");
    struct frame a = f;
    a.b[a.n - 20 + 13] = F_ACK;
    expect(c, &a, a.n, XDP_PASS, MOAT_STAT_pass_tcp, "ACK after the chain");
}

/* More headers than MOAT_IPV6_MAX_EXT: charged as a possible SYN and
 * blocked sources dropped even in "ports" mode. */
static void test_ipv6_ext_beyond_bound(void **state)
{
    struct ctx *c = *state;
    NEED_BPF(c);
    set_rate(c, 1, 1);
    struct frame f;
    eth(&f, NULL, 0, 0x86DD);
    ipv6(&f, "2001:2:2::1", 60);
    for (int i = 0; i < MOAT_IPV6_MAX_EXT + 2; i++)
        ext(&f, i == MOAT_IPV6_MAX_EXT + 1 ? 6 : 60, 0);
    tcp(&f, 22, F_ACK);        /* what it "really" is does not matter */
    struct moat_stats a = stats(c);
    expect(c, &f, f.n, XDP_PASS, MOAT_STAT_pass_syn, "long chain charged, first passes");
    expect(c, &f, f.n, XDP_DROP, MOAT_STAT_drop_rate, "long chain charged, second dropped");
    struct moat_stats b = stats(c);
    assert_int_equal(b.ext_limit - a.ext_limit, 2);
    cfg_update(c, set_mode_fn, MOAT_BLOCK_PORTS);
    block(c, "2001:2:2::/48", 0);
    expect(c, &f, f.n, XDP_DROP, MOAT_STAT_drop_blocked, "long chain, blocked, ports mode");
}

static void test_ipv4_fragments(void **state)
{
    struct ctx *c = *state;
    NEED_BPF(c);
    set_rate(c, 1, 1);
    struct frame f;
    /* Non-first fragment: no TCP header, not charged. */
    eth(&f, NULL, 0, 0x0800);
    ipv4(&f, "198.18.3.1", 6, 0, 185);           /* offset 1480 bytes */
    for (int i = 0; i < 20; i++)
        put8(&f, 0);
    for (int i = 0; i < 3; i++)
        expect(c, &f, f.n, XDP_PASS, MOAT_STAT_pass_fragment, "non-first fragment");
    /* Offset 1 and 2 overlap the TCP header (RFC 1858). */
    struct frame t = f;
    t.b[14 + 6] = 0;
    t.b[14 + 7] = 1;
    expect(c, &t, t.n, XDP_DROP, MOAT_STAT_drop_tiny_frag, "offset 1 overlap");
    t.b[14 + 7] = 2;
    expect(c, &t, t.n, XDP_DROP, MOAT_STAT_drop_tiny_frag, "offset 2 overlap");
    /* First fragment (MF) with the TCP header cut short. */
    struct frame ff;
    eth(&ff, NULL, 0, 0x0800);
    ipv4(&ff, "198.18.3.1", 6, 0, 0x2000);
    tcp(&ff, PORT, F_SYN);
    expect(c, &ff, ff.n - 8, XDP_DROP, MOAT_STAT_drop_tiny_frag, "tiny first fragment");
    expect(c, &ff, ff.n, XDP_PASS, MOAT_STAT_pass_syn, "full first fragment is a SYN");
    expect(c, &ff, ff.n, XDP_DROP, MOAT_STAT_drop_rate, "first fragments are charged");
    /* Blocked source in "ports" mode: fragments cannot show a port: drop. */
    cfg_update(c, set_mode_fn, MOAT_BLOCK_PORTS);
    block(c, "198.18.3.0/24", 0);
    expect(c, &f, f.n, XDP_DROP, MOAT_STAT_drop_blocked, "fragment of blocked source");
    struct frame u;
    eth(&u, NULL, 0, 0x0800);
    ipv4(&u, "198.18.3.1", 17, 0, 185);
    put32(&u, 0);
    expect(c, &u, u.n, XDP_PASS, MOAT_STAT_pass_non_tcp, "UDP fragment, ports mode");
}

static void test_ipv6_fragments(void **state)
{
    struct ctx *c = *state;
    NEED_BPF(c);
    set_rate(c, 1, 1);
    struct frame f;
    eth(&f, NULL, 0, 0x86DD);
    ipv6(&f, "2001:2:3::1", 44);
    ext_frag(&f, 6, 100, 1);
    for (int i = 0; i < 16; i++)
        put8(&f, 0);
    expect(c, &f, f.n, XDP_PASS, MOAT_STAT_pass_fragment, "v6 non-first fragment");
    struct frame t = f;
    t.b[54 + 2] = 0;
    t.b[54 + 3] = (uint8_t)(2 << 3);
    expect(c, &t, t.n, XDP_DROP, MOAT_STAT_drop_tiny_frag, "v6 offset 2 overlap");
    struct frame ff;
    eth(&ff, NULL, 0, 0x86DD);
    ipv6(&ff, "2001:2:3::1", 44);
    ext_frag(&ff, 6, 0, 1);
    tcp(&ff, PORT, F_SYN);
    expect(c, &ff, ff.n - 1, XDP_DROP, MOAT_STAT_drop_tiny_frag, "v6 tiny first fragment");
    expect(c, &ff, ff.n, XDP_PASS, MOAT_STAT_pass_syn, "v6 first fragment SYN");
    expect(c, &ff, ff.n, XDP_DROP, MOAT_STAT_drop_rate, "v6 first fragment charged");
    block(c, "2001:2:3::/64", 0);
    expect(c, &f, f.n, XDP_DROP, MOAT_STAT_drop_blocked, "v6 fragment of blocked source");
}

static void test_allowlist_precedence(void **state)
{
    struct ctx *c = *state;
    NEED_BPF(c);
    set_rate(c, 1, 1);
    block(c, "198.18.0.0/16", 0);
    allow(c, "198.18.5.5/32");
    allow(c, "2001:2:0:5::/64");
    block(c, "2001:2::/48", 0);
    struct frame f = syn4("198.18.5.5", PORT, F_SYN);
    for (int i = 0; i < 5; i++)
        expect(c, &f, f.n, XDP_PASS, MOAT_STAT_pass_allow, "allowlisted despite block+rate");
    struct frame g = syn4("198.18.5.6", PORT, F_SYN);
    expect(c, &g, g.n, XDP_DROP, MOAT_STAT_drop_blocked, "neighbour not allowlisted");
    struct frame h = syn6("2001:2:0:5::77", PORT, F_SYN);
    expect(c, &h, h.n, XDP_PASS, MOAT_STAT_pass_allow, "v6 allowlisted");
    struct frame i6 = syn6("2001:2:0:6::77", PORT, F_SYN);
    expect(c, &i6, i6.n, XDP_DROP, MOAT_STAT_drop_blocked, "v6 blocked /48");
    /* Hit counters in the allowlist map. */
    struct moat_lpm4_key k = { .prefixlen = 32 };
    inet_pton(AF_INET, "198.18.5.5", k.addr);
    struct moat_allow_val v;
    assert_int_equal(bpf_map_lookup_elem(M(c)->allow4, &k, &v), 0);
    assert_int_equal(v.hits, 5);
    assert_int_equal(block_val(c, "198.18.0.0/16").hits, 1);
}

static void test_block_modes(void **state)
{
    struct ctx *c = *state;
    NEED_BPF(c);
    block(c, "198.18.9.0/24", 0);
    struct frame u;
    eth(&u, NULL, 0, 0x0800);
    ipv4(&u, "198.18.9.1", 17, 0, 0);
    udp(&u);
    struct frame ssh = syn4("198.18.9.1", 22, F_ACK);
    struct frame mq = syn4("198.18.9.1", PORT, F_ACK);
    expect(c, &u, u.n, XDP_DROP, MOAT_STAT_drop_blocked, "all mode: UDP dropped");
    expect(c, &ssh, ssh.n, XDP_DROP, MOAT_STAT_drop_blocked, "all mode: other port dropped");
    cfg_update(c, set_mode_fn, MOAT_BLOCK_PORTS);
    expect(c, &u, u.n, XDP_PASS, MOAT_STAT_pass_non_tcp, "ports mode: UDP passes");
    expect(c, &ssh, ssh.n, XDP_PASS, MOAT_STAT_pass_tcp, "ports mode: port 22 passes");
    expect(c, &mq, mq.n, XDP_DROP, MOAT_STAT_drop_blocked, "ports mode: MQTT ACK dropped");
    struct frame cut = syn4("198.18.9.1", PORT, F_SYN);
    expect(c, &cut, cut.n - 1, XDP_DROP, MOAT_STAT_drop_blocked, "ports mode: cut TCP");
}

static void test_block_expiry_controlled_time(void **state)
{
    struct ctx *c = *state;
    NEED_BPF(c);
    block(c, "198.18.4.0/24", 10 * SEC_NS);
    block(c, "2001:2:4::/64", 0);
    struct moat_block_val v = block_val(c, "198.18.4.0/24");
    assert_int_equal(v.expires_ns, T0 + 10 * SEC_NS);
    assert_int_equal(v.reason, MOAT_REASON_SCANNER);
    assert_int_equal(v.prefixlen, 24);
    struct frame f = syn4("198.18.4.200", PORT, F_ACK);
    expect(c, &f, f.n, XDP_DROP, MOAT_STAT_drop_blocked, "blocked before expiry");
    set_now(c, T0 + 10 * SEC_NS - 1);
    expect(c, &f, f.n, XDP_DROP, MOAT_STAT_drop_blocked, "1 ns before expiry");
    assert_int_equal(block_val(c, "198.18.4.0/24").hits, 2);
    set_now(c, T0 + 10 * SEC_NS);
    struct moat_stats a = stats(c);
    expect(c, &f, f.n, XDP_PASS, MOAT_STAT_pass_tcp, "at expiry: passes");
    assert_int_equal(stats(c).block_expired - a.block_expired, 1);
    /* GC deletes the expired entry, keeps the permanent one. */
    char err[256];
    size_t n = 99;
    assert_int_equal(xdp_filter_gc(c->f, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 1);
    struct moat_lpm4_key k = { .prefixlen = 24 };
    inet_pton(AF_INET, "198.18.4.0", k.addr);
    struct moat_block_val tmp;
    assert_int_not_equal(bpf_map_lookup_elem(M(c)->block4, &k, &tmp), 0);
    set_now(c, T0 + 1000000 * SEC_NS);
    struct frame p = syn6("2001:2:4::1", 22, F_SYN);
    expect(c, &p, p.n, XDP_DROP, MOAT_STAT_drop_blocked, "permanent block never expires");
}

static void test_token_bucket_refill(void **state)
{
    struct ctx *c = *state;
    NEED_BPF(c);
    set_rate(c, 10, 3);                       /* 10/s, burst 3 */
    struct frame f = syn4("198.18.2.1", PORT, F_SYN);
    for (int i = 0; i < 3; i++)
        expect(c, &f, f.n, XDP_PASS, MOAT_STAT_pass_syn, "within burst");
    expect(c, &f, f.n, XDP_DROP, MOAT_STAT_drop_rate, "burst exhausted");
    set_now(c, T0 + 99 * 1000000ull);         /* 99 ms: 0.99 token */
    expect(c, &f, f.n, XDP_DROP, MOAT_STAT_drop_rate, "not yet a whole token");
    set_now(c, T0 + 100 * 1000000ull);        /* 100 ms: 1 token */
    expect(c, &f, f.n, XDP_PASS, MOAT_STAT_pass_syn, "refilled one token");
    expect(c, &f, f.n, XDP_DROP, MOAT_STAT_drop_rate, "and only one");
    set_now(c, T0 + 3600 * SEC_NS);           /* long idle: capped at burst */
    for (int i = 0; i < 3; i++)
        expect(c, &f, f.n, XDP_PASS, MOAT_STAT_pass_syn, "refilled to burst");
    expect(c, &f, f.n, XDP_DROP, MOAT_STAT_drop_rate, "never beyond burst");
    /* Rate 0 disables the limit at run time. */
    set_rate(c, 0, 0);
    for (int i = 0; i < 10; i++)
        expect(c, &f, f.n, XDP_PASS, MOAT_STAT_pass_syn, "limit off");
}

static void test_ipv6_prefix_aggregation(void **state)
{
    struct ctx *c = *state;
    NEED_BPF(c);
    set_rate(c, 1, 1);
    struct frame a = syn6("2001:2:8::1", PORT, F_SYN);
    struct frame b = syn6("2001:2:8::ffff:2", PORT, F_SYN);
    struct frame d = syn6("2001:2:8:1::1", PORT, F_SYN);
    expect(c, &a, a.n, XDP_PASS, MOAT_STAT_pass_syn, "first in /64");
    expect(c, &b, b.n, XDP_DROP, MOAT_STAT_drop_rate, "same /64 shares the bucket");
    expect(c, &d, d.n, XDP_PASS, MOAT_STAT_pass_syn, "next /64 has its own");
    struct moat_src_key k = { .family = 6, .prefixlen = 64 };
    inet_pton(AF_INET6, "2001:2:8::", k.addr);
    struct moat_bucket bk;
    assert_int_equal(bpf_map_lookup_elem(M(c)->buckets, &k, &bk), 0);
    cfg_update(c, set_prefix_fn, 128);
    expect(c, &b, b.n, XDP_PASS, MOAT_STAT_pass_syn, "/128: own bucket");
    /* /60 splits a byte; the prefix is part of the key, so /64 buckets
     * of the same network are not reused. */
    cfg_update(c, set_prefix_fn, 60);
    expect(c, &a, a.n, XDP_PASS, MOAT_STAT_pass_syn, "/60: new bucket after prefix change");
    struct frame e = syn6("2001:2:9:f::1", PORT, F_SYN);
    struct frame e2 = syn6("2001:2:9:1::1", PORT, F_SYN);
    struct frame g = syn6("2001:2:9:10::1", PORT, F_SYN);
    expect(c, &e, e.n, XDP_PASS, MOAT_STAT_pass_syn, "/60 first");
    expect(c, &e2, e2.n, XDP_DROP, MOAT_STAT_drop_rate, "/60 same bucket (non-byte prefix)");
    expect(c, &g, g.n, XDP_PASS, MOAT_STAT_pass_syn, "/60 next bucket");
}

struct ev_log { int n; struct moat_event last[8]; };
static void on_ev(const struct moat_event *ev, void *arg)
{
    struct ev_log *l = arg;
    if (l->n < 8)
        l->last[l->n] = *ev;
    l->n++;
}

static void test_events_one_per_interval(void **state)
{
    struct ctx *c = *state;
    NEED_BPF(c);
    char err[256];
    assert_true(xdp_filter_events_fd(c->f, err, sizeof(err)) >= 0);
    set_rate(c, 1, 1);
    struct frame f = syn4("198.18.6.1", PORT, F_SYN);
    for (int i = 0; i < 50; i++)
        run(c, &f);
    struct ev_log l = { 0 };
    assert_int_equal(xdp_filter_events_poll(c->f, on_ev, &l, err, sizeof(err)), 1);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.last[0].type, MOAT_EV_RATE_EXCEEDED);
    assert_int_equal(l.last[0].family, 4);
    assert_int_equal(l.last[0].dport, PORT);
    assert_int_equal(l.last[0].count, 1);
    uint8_t want[4];
    inet_pton(AF_INET, "198.18.6.1", want);
    assert_memory_equal(l.last[0].addr, want, 4);
    /* Next interval: one more event carrying the drops since the last. */
    set_now(c, T0 + SEC_NS);
    for (int i = 0; i < 10; i++)
        run(c, &f);          /* 1 token refilled: 1 pass, 9 drops */
    l.n = 0;
    assert_int_equal(xdp_filter_events_poll(c->f, on_ev, &l, err, sizeof(err)), 1);
    assert_int_equal(l.last[0].count, 48 + 1);   /* 48 left over + this one */
    /* Blocked source: one event per entry per interval. */
    block(c, "198.18.6.0/24", 0);
    for (int i = 0; i < 20; i++)
        run(c, &f);
    l.n = 0;
    assert_int_equal(xdp_filter_events_poll(c->f, on_ev, &l, err, sizeof(err)), 1);
    assert_int_equal(l.last[0].type, MOAT_EV_BLOCKED_SEEN);
    assert_int_equal(l.last[0].reason, MOAT_REASON_SCANNER);
    assert_int_equal(l.last[0].prefixlen, 24);
    assert_int_equal(stats(c).events_sent, 3);
}

static int count_block(const struct moat_cidr *cd, const struct moat_block_val *v, void *arg)
{
    (*(int *)arg)++;
    return 0;
}

static void test_maps_api(void **state)
{
    struct ctx *c = *state;
    NEED_BPF(c);
    char err[256];
    block(c, "198.18.0.0/24", 0);
    block(c, "198.18.1.0/24", SEC_NS);
    block(c, "2001:2::/48", 0);
    int n = 0;
    assert_int_equal(moat_maps_block_list(M(c), count_block, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 3);
    struct moat_cidr k;
    bool found = false;
    moat_cidr_parse("198.18.0.0/24", &k, err, sizeof(err));
    assert_int_equal(xdp_filter_unblock(c->f, &k, &found, err, sizeof(err)), 0);
    assert_true(found);
    assert_int_equal(xdp_filter_unblock(c->f, &k, &found, err, sizeof(err)), 0);
    assert_false(found);
    size_t fl = 0;
    assert_int_equal(moat_maps_block_flush(M(c), &fl, err, sizeof(err)), 0);
    assert_int_equal(fl, 2);
    n = 0;
    assert_int_equal(moat_maps_block_list(M(c), count_block, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 0);
    /* Config validation refuses nonsense and leaves the record alone. */
    struct moat_xdp_config cfg, back;
    assert_int_equal(moat_maps_config_get(M(c), &cfg, err, sizeof(err)), 0);
    struct moat_xdp_config bad = cfg;
    bad.ipv6_prefix = 129;
    assert_int_equal(moat_maps_config_set(M(c), &bad, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "prefix"));
    uint16_t zero = 0;
    assert_int_equal(xdp_filter_set_ports(c->f, &zero, 1, err, sizeof(err)), -1);
    assert_int_equal(moat_maps_config_get(M(c), &back, err, sizeof(err)), 0);
    assert_memory_equal(&cfg, &back, sizeof(cfg));
    uint16_t dup[] = { 1883, 1883, 8883 };
    assert_int_equal(xdp_filter_set_ports(c->f, dup, 3, err, sizeof(err)), 0);
    assert_int_equal(moat_maps_config_get(M(c), &back, err, sizeof(err)), 0);
    assert_int_equal(back.n_ports, 2);
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(p);
}

/* Pinned maps are reused by a second load: blocks survive a restart. */
static void test_pins_survive_reload(void **state)
{
    struct ctx *c = *state;
    NEED_BPF(c);
    char root[128], err[512];
    snprintf(root, sizeof(root), "/sys/fs/bpf/moat-test-%d", (int)getpid());
    struct xdp_filter_opts o = { .pin_root = root, .bucket_entries = 128 };
    struct xdp_filter *a = xdp_filter_open(&o, err, sizeof(err));
    if (!a)
        fail_msg("pinned open: %s", err);
    struct moat_cidr k;
    moat_cidr_parse("198.18.10.0/24", &k, err, sizeof(err));
    assert_int_equal(xdp_filter_block(a, &k, 0, MOAT_REASON_AUTH, err, sizeof(err)), 0);
    xdp_filter_close(a, false);
    o.bucket_entries = 256;                    /* size change: buckets re-created */
    struct xdp_filter *b = xdp_filter_open(&o, err, sizeof(err));
    if (!b)
        fail_msg("pinned reopen: %s", err);
    int n = 0;
    assert_int_equal(moat_maps_block_list(xdp_filter_maps(b), count_block, &n, err,
                                          sizeof(err)), 0);
    assert_int_equal(n, 1);
    xdp_filter_close(b, false);
    /* moatctl's path: the pins alone. */
    struct moat_maps m;
    assert_int_equal(moat_maps_open_pinned(&m, root, err, sizeof(err)), 0);
    n = 0;
    assert_int_equal(moat_maps_block_list(&m, count_block, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 1);
    moat_maps_close(&m);
    nftw(root, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
    assert_int_equal(moat_maps_open_pinned(&m, root, err, sizeof(err)), -1);
    assert_non_null(strstr(err, root));
}

/* Not a pass/fail check: ns per packet on the three hot paths, printed for
 * docs/xdp.md (BPF_PROG_TEST_RUN with a repeat count). */
static void bench_one(struct ctx *c, const char *name, const struct frame *f, int want)
{
    uint8_t out[600];      /* data_out given so valgrind's bpf() model is happy */
    LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f->b, .data_size_in = (uint32_t)f->n,
                .data_out = out, .data_size_out = sizeof(out), .repeat = 1000000);
    assert_int_equal(bpf_prog_test_run_opts(xdp_filter_prog_fd(c->f), &o), 0);
    assert_int_equal((int)o.retval, want);
    print_message("bench: %-22s %4u ns/packet (repeat %u)\n", name, o.duration, o.repeat);
}

static void test_bench_paths(void **state)
{
    struct ctx *c = *state;
    NEED_BPF(c);
    set_rate(c, 1, 1);
    for (int i = 0; i < 200; i++) {        /* realistic trie and LRU occupancy */
        char cidr[32];
        snprintf(cidr, sizeof(cidr), "198.19.%d.0/24", i);
        block(c, cidr, 0);
    }
    struct frame ack = syn4("198.18.1.1", PORT, F_ACK);
    bench_one(c, "pass (v4 ACK)", &ack, XDP_PASS);
    struct frame syn = syn4("198.18.1.2", PORT, F_SYN);
    run(c, &syn);
    bench_one(c, "rate-limit drop (v4)", &syn, XDP_DROP);
    struct frame bl = syn4("198.19.77.1", PORT, F_SYN);
    bench_one(c, "blocklist drop (v4)", &bl, XDP_DROP);
    struct frame s6 = syn6("2001:2:9::1", PORT, F_SYN);
    run(c, &s6);
    bench_one(c, "rate-limit drop (v6)", &s6, XDP_DROP);
}

int main(void)
{
    libbpf_set_print(libbpf_quiet);
    int p = libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_XDP, NULL);
    bpf_usable = p == 1;
    if (!bpf_usable)
        fprintf(stderr, "test_xdp: BPF XDP programs unavailable here (%s): skipping\n",
                p < 0 ? strerror(-p) : "not supported");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_non_ip_pass, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ipv4_syn_ack_ports, setup, teardown),
        cmocka_unit_test_setup_teardown(test_non_tcp_pass, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vlan_tags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ipv4_truncation_every_boundary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ipv6_ext_chain_and_truncation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ipv6_ext_beyond_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ipv4_fragments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ipv6_fragments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_allowlist_precedence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_block_modes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_block_expiry_controlled_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_bucket_refill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ipv6_prefix_aggregation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_events_one_per_interval, setup, teardown),
        cmocka_unit_test_setup_teardown(test_maps_api, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pins_survive_reload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bench_paths, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
