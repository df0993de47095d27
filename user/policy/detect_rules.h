/* The kinds of abnormal behaviour moatd watches for (the MQTT 3.1.1
 * security chapter's list, section 5.4.8), and what a rule for one says.
 * Shared by the configuration parser (moat_detect) and the detector. */
#ifndef MOAT_POLICY_DETECT_RULES_H
#define MOAT_POLICY_DETECT_RULES_H

#include <stdbool.h>
#include <stdint.h>

enum det_kind {
    DET_CONNECT_FLOOD,    /* connections accepted, per source */
    DET_AUTH_FAILURE,     /* failed authentications, per source (brute force, spraying) */
    DET_AUTH_FAILURE_USER,/* failed authentications, per username */
    DET_ABNORMAL_CLOSE,   /* closed without DISCONNECT, per source */
    DET_PROTOCOL_ERROR,   /* protocol violations, per source */
    DET_TLS_FAILURE,      /* failed TLS handshakes, per source */
    DET_SILENT,           /* no CONNECT in time, or silent past keepalive, per source */
    DET_TOPIC_SCAN,       /* distinct topics published/subscribed, per client */
    DET_ACL_DENIED,       /* ACL denials, per client */
    DET_UNDELIVERABLE,    /* publishes matching no subscriber, per client */
    DET_SYN_FLOOD,        /* XDP "rate exceeded" events, per source */
    DET__COUNT
};

enum det_action {
    DET_ACT_OFF,          /* rule disabled */
    DET_ACT_LOG,
    DET_ACT_DISCONNECT,
    DET_ACT_BLOCK_IP,     /* blocklist the source (XDP map and userspace), escalating TTL */
    DET_ACT_BLOCK_CLIENT, /* refuse the client id at CONNECT for TTL */
    DET_ACT_BLOCK_USER,   /* refuse the username at CONNECT for TTL */
};

struct det_rule {
    uint8_t  action;      /* enum det_action */
    uint32_t threshold;   /* events within window that trigger */
    uint32_t window_s;
    uint32_t ttl_s;       /* first block's TTL; doubles per repeat offence */
};

const char *det_kind_name(int kind);           /* "auth_failure", ... */
int         det_kind_parse(const char *s);     /* -1 if unknown */
const char *det_action_name(int action);
int         det_action_parse(const char *s);   /* -1 if unknown */
/* Whether an action applies to the kind (block_user needs a username). */
bool        det_action_valid(int kind, int action);
/* The defaults every configuration starts from. */
void        det_rules_default(struct det_rule rules[DET__COUNT]);

#endif
