/* ns per packet of moat_xdp's hot paths under BPF_PROG_TEST_RUN.
 *   xdp_prog_bench REPEAT ROUNDS
 * Loads the program without pins (a live /sys/fs/bpf/moat is never
 * touched), fills the blocklists with 1,000 entries per family, protects
 * port 1883 with a 1 SYN/s bucket, then runs each frame REPEAT times per
 * round (the kernel's repeat count) for ROUNDS rounds. Prints one line per
 * path: "NAME<TAB>median-ns<TAB>min-ns<TAB>max-ns<TAB>verdict". Exits 1,
 * naming the path, if a verdict is not the one expected: a number is only
 * printed for the path it claims to measure. Also measures an empty
 * "return XDP_PASS" program: the test-run harness's own cost per packet.
 * Needs root. Links against BUILD_DIR/libmoat.a (xdp_filter). */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "moat_abi.h"
#include "xdp/xdp_filter.h"

#define PORT 1883
#define MAX_ROUNDS 15
#define BLOCK_N 1000

struct frame {
    uint8_t b[128];
    size_t n;
};

static void put(struct frame *f, const void *p, size_t n)
{
    if (f->n + n > sizeof(f->b)) {
        fprintf(stderr, "xdp_prog_bench: frame overflow\n");
        exit(1);
    }
    memcpy(f->b + f->n, p, n);
    f->n += n;
}
static void put8(struct frame *f, uint8_t v) { put(f, &v, 1); }
static void put16(struct frame *f, uint16_t v) { uint16_t be = htons(v); put(f, &be, 2); }

/* 20-byte TCP header to PORT; checksums are not looked at by the filter. */
static void tcp(struct frame *f, uint8_t flags)
{
    put16(f, 40000);
    put16(f, PORT);
    for (int i = 0; i < 8; i++)
        put8(f, 1);                 /* seq, ack */
    put8(f, 5 << 4);
    put8(f, flags);
    put16(f, 65535);
    put16(f, 0);
    put16(f, 0);
}

static struct frame frame(const char *src, uint8_t flags)
{
    static const uint8_t mac[12] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1 };
    struct frame f = { .n = 0 };
    uint8_t a[16], d[16];
    int v6 = strchr(src, ':') != NULL;
    put(&f, mac, 12);
    if (!v6) {
        if (inet_pton(AF_INET, src, a) != 1 || inet_pton(AF_INET, "198.18.0.2", d) != 1)
            exit(2);
        put16(&f, 0x0800);
        put8(&f, 0x45);
        put8(&f, 0);
        put16(&f, 40);
        put16(&f, 1);
        put16(&f, 0x4000);          /* DF, not a fragment */
        put8(&f, 64);
        put8(&f, 6);
        put16(&f, 0);
        put(&f, a, 4);
        put(&f, d, 4);
    } else {
        if (inet_pton(AF_INET6, src, a) != 1 || inet_pton(AF_INET6, "2001:2::2", d) != 1)
            exit(2);
        put16(&f, 0x86dd);
        put8(&f, 0x60);
        put8(&f, 0);
        put16(&f, 0);
        put16(&f, 20);
        put8(&f, 6);
        put8(&f, 64);
        put(&f, a, 16);
        put(&f, d, 16);
    }
    tcp(&f, flags);
    return f;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Runs f ROUNDS times REPEAT each on prog_fd; prints the line or fails. */
static int bench(int prog_fd, const char *name, const struct frame *f, uint32_t want,
                 uint32_t repeat, int rounds)
{
    uint32_t ns[MAX_ROUNDS];
    uint8_t out[256];
    for (int r = 0; r < rounds; r++) {
        LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f->b, .data_size_in = (uint32_t)f->n,
                    .data_out = out, .data_size_out = sizeof(out), .repeat = repeat);
        if (bpf_prog_test_run_opts(prog_fd, &o) != 0) {
            fprintf(stderr, "xdp_prog_bench: %s: BPF_PROG_TEST_RUN failed\n", name);
            return -1;
        }
        if (o.retval != want) {
            fprintf(stderr, "xdp_prog_bench: %s: verdict %u, expected %u\n", name,
                    o.retval, want);
            return -1;
        }
        ns[r] = o.duration;
    }
    qsort(ns, (size_t)rounds, sizeof(ns[0]), cmp_u32);
    printf("%s\t%u\t%u\t%u\t%s\n", name, ns[rounds / 2], ns[0], ns[rounds - 1],
           want == XDP_PASS ? "pass" : "drop");
    return 0;
}

/* "r0 = XDP_PASS; exit": the harness's floor. */
static int empty_prog(void)
{
    struct bpf_insn insns[] = {
        { .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS },
        { .code = BPF_JMP | BPF_EXIT },
    };
    return bpf_prog_load(BPF_PROG_TYPE_XDP, "bench_empty", "GPL", insns, 2, NULL);
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
    return level == LIBBPF_WARN ? vfprintf(stderr, fmt, ap) : 0;
}

static int block(struct xdp_filter *flt, const char *cidr)
{
    char err[512];
    struct moat_cidr c;
    if (moat_cidr_parse(cidr, &c, err, sizeof(err)) != 0 ||
        xdp_filter_block(flt, &c, 0, MOAT_REASON_MANUAL, err, sizeof(err)) != 0) {
        fprintf(stderr, "xdp_prog_bench: block %s: %s\n", cidr, err);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: xdp_prog_bench REPEAT ROUNDS\n");
        return 2;
    }
    long repeat = strtol(argv[1], NULL, 10), rounds = strtol(argv[2], NULL, 10);
    if (repeat < 1 || repeat > 100000000 || rounds < 1 || rounds > MAX_ROUNDS) {
        fprintf(stderr, "xdp_prog_bench: REPEAT 1-100000000, ROUNDS 1-%d\n", MAX_ROUNDS);
        return 2;
    }
    libbpf_set_print(quiet);
    char err[512];
    struct xdp_filter_opts o = { .pin_root = NULL };
    struct xdp_filter *flt = xdp_filter_open(&o, err, sizeof(err));
    if (!flt) {
        fprintf(stderr, "xdp_prog_bench: load: %s\n", err);
        return 1;
    }
    uint16_t port = PORT;
    if (xdp_filter_set_ports(flt, &port, 1, err, sizeof(err)) != 0 ||
        xdp_filter_set_rate(flt, 1, 1, 64, MOAT_BLOCK_ALL, err, sizeof(err)) != 0) {
        fprintf(stderr, "xdp_prog_bench: config: %s\n", err);
        return 1;
    }
    /* 1,000 entries per family, disjoint from the measured pass/rate sources:
     * v4 /28s across 198.19.0.0/16, v6 /64s under 2001:2:0::/48. */
    for (int i = 0; i < BLOCK_N; i++) {
        char c4[40], c6[64];
        snprintf(c4, sizeof(c4), "198.19.%d.%d/28", i >> 4, (i & 15) << 4);
        snprintf(c6, sizeof(c6), "2001:2:0:%x::/64", i + 1);
        if (block(flt, c4) != 0 || block(flt, c6) != 0)
            return 1;
    }
    int fd = xdp_filter_prog_fd(flt);
    uint32_t rep = (uint32_t)repeat;
    int n = (int)rounds;
    struct frame ack4 = frame("198.18.1.1", 0x10), syn4 = frame("198.18.1.2", 0x02),
                 blk4 = frame("198.19.31.37", 0x02);          /* in 198.19.31.32/28 */
    struct frame ack6 = frame("2001:2:9::1", 0x10), syn6 = frame("2001:2:9::2", 0x02),
                 blk6 = frame("2001:2:0:1f4::5", 0x02);       /* in 2001:2:0:1f4::/64 */
    int efd = empty_prog();
    if (efd < 0) {
        fprintf(stderr, "xdp_prog_bench: empty program load failed\n");
        return 1;
    }
    int rc = 0;
    rc |= bench(efd, "empty program (harness floor)", &ack4, XDP_PASS, rep, n);
    rc |= bench(fd, "IPv4 pass (TCP ACK)", &ack4, XDP_PASS, rep, n);
    rc |= bench(fd, "IPv4 SYN over rate (bucket empty)", &syn4, XDP_DROP, rep, n);
    rc |= bench(fd, "IPv4 blocked source (1,000 LPM entries)", &blk4, XDP_DROP, rep, n);
    rc |= bench(fd, "IPv6 pass (TCP ACK)", &ack6, XDP_PASS, rep, n);
    rc |= bench(fd, "IPv6 SYN over rate (bucket empty)", &syn6, XDP_DROP, rep, n);
    rc |= bench(fd, "IPv6 blocked source (1,000 LPM entries)", &blk6, XDP_DROP, rep, n);
    close(efd);
    xdp_filter_close(flt, false);
    return rc ? 1 : 0;
}
