/* Broker counters, published under $SYS/broker/ and shown by moatctl. */
#ifndef MOAT_BROKER_STATS_H
#define MOAT_BROKER_STATS_H

#include <stdint.h>

struct broker_stats {
    uint64_t start_ms;
    uint64_t conns_accepted;
    uint64_t conns_refused_limit;     /* max_connections */
    uint64_t conns_refused_blocked;   /* source on moatd's denylist */
    uint64_t clients_connected;       /* current, CONNACK 0 sent */
    uint64_t clients_maximum;
    uint64_t msgs_received, msgs_sent;
    uint64_t pub_msgs_received, pub_msgs_sent;
    uint64_t bytes_received, bytes_sent;
    uint64_t pub_dropped;             /* QoS 0 over output limit, offline, queue full */
    uint64_t queue_overflow;          /* max_queued_messages reached */
    uint64_t protocol_errors;
    uint64_t acl_denied;              /* PUBLISH/SUBSCRIBE refused by the ACL */
    uint64_t connect_timeouts;
    uint64_t keepalive_timeouts;
    uint64_t takeovers;
    uint64_t wills_published;
    uint64_t oom;                     /* allocation failures handled */
};

#endif
