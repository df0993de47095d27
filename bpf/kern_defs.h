/* The few kernel UAPI constants and the XDP context the BPF program needs.
 * Declared here because <linux/bpf.h> pulls <asm/types.h>, which clang
 * -target bpf cannot find on Debian (multiarch include directory). Values
 * are the kernel's stable UAPI (include/uapi/linux/bpf.h, if_ether.h, in.h). */
#ifndef MOAT_KERN_DEFS_H
#define MOAT_KERN_DEFS_H

enum bpf_map_type_moat {
    BPF_MAP_TYPE_HASH = 1,
    BPF_MAP_TYPE_ARRAY = 2,
    BPF_MAP_TYPE_PERCPU_ARRAY = 6,
    BPF_MAP_TYPE_LRU_HASH = 9,
    BPF_MAP_TYPE_LPM_TRIE = 11,
    BPF_MAP_TYPE_RINGBUF = 27,
};

#define BPF_F_NO_PREALLOC (1U << 0)
#define BPF_ANY     0
#define BPF_NOEXIST 1
#define BPF_EXIST   2

enum xdp_action {
    XDP_ABORTED = 0,
    XDP_DROP,
    XDP_PASS,
    XDP_TX,
    XDP_REDIRECT,
};

struct xdp_md {
    __u32 data;
    __u32 data_end;
    __u32 data_meta;
    __u32 ingress_ifindex;
    __u32 rx_queue_index;
    __u32 egress_ifindex;
};

#define ETH_P_IP      0x0800
#define ETH_P_IPV6    0x86DD
#define ETH_P_8021Q   0x8100
#define ETH_P_8021AD  0x88A8

#define IPPROTO_HOPOPTS   0
#define IPPROTO_TCP       6
#define IPPROTO_ROUTING   43
#define IPPROTO_FRAGMENT  44
#define IPPROTO_AH        51
#define IPPROTO_DSTOPTS   60

#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_ACK 0x10

#endif
