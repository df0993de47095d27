/* Bounded SYN sender for the XDP datapath tests (IPv4 and IPv6).
 *   synflood SRC DST PORT COUNT PPS
 * Sends COUNT bare SYNs (at most 100000) from SRC (a local address) to
 * DST:PORT at about PPS per second, and stops after 10 s whatever happens.
 * Raw TCP socket: the kernel builds the IP header; the TCP checksum is
 * computed here for IPv4 and by the kernel (IPV6_CHECKSUM) for IPv6. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static uint16_t csum(const void *p, size_t n, uint32_t sum)
{
    const uint8_t *b = p;
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)(b[i] << 8 | b[i + 1]);
    if (n & 1)
        sum += (uint32_t)b[n - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: synflood SRC DST PORT COUNT PPS\n");
        return 2;
    }
    int v6 = strchr(argv[1], ':') != NULL;
    long port = strtol(argv[3], NULL, 10), count = strtol(argv[4], NULL, 10),
         pps = strtol(argv[5], NULL, 10);
    if (port < 1 || port > 65535 || count < 1 || count > 100000 || pps < 1 || pps > 1000000) {
        fprintf(stderr, "synflood: PORT 1-65535, COUNT 1-100000, PPS 1-1000000\n");
        return 2;
    }
    struct sockaddr_storage src = { 0 }, dst = { 0 };
    socklen_t sl;
    uint8_t s_addr[16], d_addr[16];
    if (inet_pton(v6 ? AF_INET6 : AF_INET, argv[1], s_addr) != 1 ||
        inet_pton(v6 ? AF_INET6 : AF_INET, argv[2], d_addr) != 1) {
        fprintf(stderr, "synflood: bad address '%s' or '%s'\n", argv[1], argv[2]);
        return 2;
    }
    if (v6) {
        struct sockaddr_in6 *a = (void *)&src, *b = (void *)&dst;
        a->sin6_family = b->sin6_family = AF_INET6;
        memcpy(&a->sin6_addr, s_addr, 16);
        memcpy(&b->sin6_addr, d_addr, 16);
        sl = sizeof(*a);
    } else {
        struct sockaddr_in *a = (void *)&src, *b = (void *)&dst;
        a->sin_family = b->sin_family = AF_INET;
        memcpy(&a->sin_addr, s_addr, 4);
        memcpy(&b->sin_addr, d_addr, 4);
        sl = sizeof(*a);
    }
    int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_RAW, IPPROTO_TCP);
    if (fd < 0 || bind(fd, (struct sockaddr *)&src, sl) != 0) {
        fprintf(stderr, "synflood: raw socket from %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    if (v6) {
        int off = 16;
        if (setsockopt(fd, IPPROTO_IPV6, IPV6_CHECKSUM, &off, sizeof(off)) != 0) {
            fprintf(stderr, "synflood: IPV6_CHECKSUM: %s\n", strerror(errno));
            return 1;
        }
    }
    double start = now_s(), gap = 1.0 / (double)pps;
    long sent = 0;
    for (long i = 0; i < count && now_s() - start < 10.0; i++) {
        uint8_t t[20] = { 0 };
        uint16_t sport = (uint16_t)(20000 + (i % 40000));
        t[0] = (uint8_t)(sport >> 8); t[1] = (uint8_t)sport;
        t[2] = (uint8_t)(port >> 8);  t[3] = (uint8_t)port;
        t[4] = (uint8_t)(i >> 24); t[5] = (uint8_t)(i >> 16); t[6] = (uint8_t)(i >> 8); t[7] = (uint8_t)i;
        t[12] = 5 << 4;
        t[13] = 0x02;                                  /* SYN */
        t[14] = 0xff; t[15] = 0xff;
        if (!v6) {
            uint8_t ph[12];
            memcpy(ph, s_addr, 4);
            memcpy(ph + 4, d_addr, 4);
            ph[8] = 0; ph[9] = IPPROTO_TCP; ph[10] = 0; ph[11] = 20;
            uint32_t s = 0;
            for (int k = 0; k < 12; k += 2)
                s += (uint32_t)(ph[k] << 8 | ph[k + 1]);
            uint16_t c = csum(t, 20, s);
            t[16] = (uint8_t)(c >> 8); t[17] = (uint8_t)c;
        }
        if (sendto(fd, t, sizeof(t), 0, (struct sockaddr *)&dst, sl) == (ssize_t)sizeof(t))
            sent++;
        double due = start + (double)(i + 1) * gap;
        double wait = due - now_s();
        if (wait > 0) {
            struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)(wait * 1e9) };
            nanosleep(&ts, NULL);
        }
    }
    printf("%ld\n", sent);
    close(fd);
    return 0;
}
