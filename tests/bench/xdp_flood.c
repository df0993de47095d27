/* Bounded, fast IPv4 SYN flood for the XDP benchmarks.
 *   xdp_flood IFNAME DSTMAC SRC DST PORT MAXPKTS MAXSECS
 * Sends bare SYNs from SRC to DST:PORT out of IFNAME (AF_PACKET, qdisc
 * bypassed, sendmmsg batches of 64) as fast as it can, until MAXPKTS
 * (at most 50,000,000) are sent or MAXSECS (at most 30) have passed, or
 * SIGTERM/SIGINT. The frames rotate over 1,024 source ports with valid IP
 * and TCP checksums, so the receiver's stack treats them as real SYNs.
 * Prints "SENT SECONDS" on stdout. Needs CAP_NET_RAW. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NFRAMES 1024
#define BATCH 64
#define FLEN 54               /* 14 Ethernet + 20 IPv4 + 20 TCP */

static volatile sig_atomic_t stop;
static void on_sig(int s) { (void)s; stop = 1; }

static uint16_t fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}
static uint32_t sum16(const uint8_t *b, size_t n, uint32_t sum)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)(b[i] << 8 | b[i + 1]);
    return sum;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
    unsigned m[6];
    if (sscanf(s, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6)
        return -1;
    for (int i = 0; i < 6; i++) {
        if (m[i] > 255)
            return -1;
        mac[i] = (uint8_t)m[i];
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 8) {
        fprintf(stderr, "usage: xdp_flood IFNAME DSTMAC SRC DST PORT MAXPKTS MAXSECS\n");
        return 2;
    }
    uint8_t dmac[6], s4[4], d4[4];
    long port = strtol(argv[5], NULL, 10), maxp = strtol(argv[6], NULL, 10);
    double maxs = strtod(argv[7], NULL);
    unsigned ifindex = if_nametoindex(argv[1]);
    if (ifindex == 0 || parse_mac(argv[2], dmac) != 0 || inet_pton(AF_INET, argv[3], s4) != 1 ||
        inet_pton(AF_INET, argv[4], d4) != 1 || port < 1 || port > 65535 || maxp < 1 ||
        maxp > 50000000 || !(maxs > 0 && maxs <= 30)) {
        fprintf(stderr, "xdp_flood: bad argument (interface '%s', mac '%s', addresses '%s' '%s', "
                "PORT 1-65535, MAXPKTS 1-50000000, MAXSECS 0-30)\n", argv[1], argv[2], argv[3],
                argv[4]);
        return 2;
    }
    int fd = socket(AF_PACKET, SOCK_RAW, 0);     /* protocol 0: send only */
    if (fd < 0) {
        fprintf(stderr, "xdp_flood: AF_PACKET socket: %s\n", strerror(errno));
        return 1;
    }
    int one = 1;
    (void)setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
    struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_ifindex = (int)ifindex,
                              .sll_halen = 6 };
    memcpy(ll.sll_addr, dmac, 6);

    static uint8_t fr[NFRAMES][FLEN];
    for (int i = 0; i < NFRAMES; i++) {
        uint8_t *e = fr[i], *ip = e + 14, *t = ip + 20;
        memcpy(e, dmac, 6);
        memcpy(e + 6, (const uint8_t[]){ 2, 0, 0, 0, 0, 0xf1 }, 6);  /* unchecked on veth */
        e[12] = 0x08; e[13] = 0x00;
        ip[0] = 0x45; ip[2] = 0; ip[3] = 40;
        ip[4] = (uint8_t)(i >> 8); ip[5] = (uint8_t)i;
        ip[6] = 0x40; ip[8] = 64; ip[9] = 6;
        memcpy(ip + 12, s4, 4);
        memcpy(ip + 16, d4, 4);
        uint16_t c = fold(sum16(ip, 20, 0));
        ip[10] = (uint8_t)(c >> 8); ip[11] = (uint8_t)c;
        uint16_t sport = (uint16_t)(30000 + i);
        t[0] = (uint8_t)(sport >> 8); t[1] = (uint8_t)sport;
        t[2] = (uint8_t)(port >> 8);  t[3] = (uint8_t)port;
        t[4] = (uint8_t)(i * 7919 >> 8); t[5] = (uint8_t)(i * 31); t[6] = 0x5a; t[7] = 1;
        t[12] = 5 << 4; t[13] = 0x02; t[14] = 0xff; t[15] = 0xff;
        uint8_t ph[12];
        memcpy(ph, s4, 4);
        memcpy(ph + 4, d4, 4);
        ph[8] = 0; ph[9] = 6; ph[10] = 0; ph[11] = 20;
        c = fold(sum16(t, 20, sum16(ph, 12, 0)));
        t[16] = (uint8_t)(c >> 8); t[17] = (uint8_t)c;
    }
    struct iovec iov[BATCH];
    struct mmsghdr msg[BATCH];
    signal(SIGTERM, on_sig);
    signal(SIGINT, on_sig);
    double start = now_s();
    long sent = 0, k = 0;
    while (!stop && sent < maxp) {
        if (now_s() - start >= maxs)      /* vDSO: cheap next to 64 sends */
            break;
        long want = maxp - sent < BATCH ? maxp - sent : BATCH;
        for (long j = 0; j < want; j++) {
            iov[j] = (struct iovec){ .iov_base = fr[(k + j) % NFRAMES], .iov_len = FLEN };
            msg[j] = (struct mmsghdr){ .msg_hdr = { .msg_name = &ll, .msg_namelen = sizeof(ll),
                                                    .msg_iov = &iov[j], .msg_iovlen = 1 } };
        }
        int n = sendmmsg(fd, msg, (unsigned)want, 0);
        if (n < 0) {
            if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR)
                continue;
            fprintf(stderr, "xdp_flood: sendmmsg on %s: %s\n", argv[1], strerror(errno));
            break;
        }
        sent += n;
        k += n;
    }
    printf("%ld %.3f\n", sent, now_s() - start);
    close(fd);
    return 0;
}
