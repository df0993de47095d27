#include "policy/detect_rules.h"

#include <string.h>

static const char *const kind_names[DET__COUNT] = {
    [DET_CONNECT_FLOOD] = "connect_flood",
    [DET_AUTH_FAILURE] = "auth_failure",
    [DET_AUTH_FAILURE_USER] = "auth_failure_user",
    [DET_ABNORMAL_CLOSE] = "abnormal_close",
    [DET_PROTOCOL_ERROR] = "protocol_error",
    [DET_TLS_FAILURE] = "tls_failure",
    [DET_SILENT] = "silent",
    [DET_TOPIC_SCAN] = "topic_scan",
    [DET_ACL_DENIED] = "acl_denied",
    [DET_UNDELIVERABLE] = "undeliverable",
    [DET_SYN_FLOOD] = "syn_flood",
};

static const char *const action_names[] = {
    [DET_ACT_OFF] = "off",
    [DET_ACT_LOG] = "log",
    [DET_ACT_DISCONNECT] = "disconnect",
    [DET_ACT_BLOCK_IP] = "block_ip",
    [DET_ACT_BLOCK_CLIENT] = "block_client",
    [DET_ACT_BLOCK_USER] = "block_user",
};

const char *det_kind_name(int kind)
{
    return kind >= 0 && kind < DET__COUNT ? kind_names[kind] : "unknown";
}

int det_kind_parse(const char *s)
{
    for (int i = 0; i < DET__COUNT; i++)
        if (!strcmp(s, kind_names[i]))
            return i;
    return -1;
}

const char *det_action_name(int a)
{
    return a >= 0 && a <= DET_ACT_BLOCK_USER ? action_names[a] : "unknown";
}

int det_action_parse(const char *s)
{
    for (int i = 0; i <= DET_ACT_BLOCK_USER; i++)
        if (!strcmp(s, action_names[i]))
            return i;
    return -1;
}

bool det_action_valid(int kind, int action)
{
    /* Per-username counting has no source or connection to act on. */
    if (kind == DET_AUTH_FAILURE_USER)
        return action == DET_ACT_OFF || action == DET_ACT_LOG || action == DET_ACT_BLOCK_USER;
    if (action == DET_ACT_BLOCK_USER)
        return kind == DET_ACL_DENIED || kind == DET_TOPIC_SCAN || kind == DET_UNDELIVERABLE;
    return true;
}

/* Defaults: generous enough that no well-behaved device trips them,
 * tight enough that a flood or a brute force is stopped within seconds. */
void det_rules_default(struct det_rule r[DET__COUNT])
{
    r[DET_CONNECT_FLOOD]     = (struct det_rule){ DET_ACT_BLOCK_IP, 100, 10, 300 };
    r[DET_AUTH_FAILURE]      = (struct det_rule){ DET_ACT_BLOCK_IP, 10, 60, 900 };
    r[DET_AUTH_FAILURE_USER] = (struct det_rule){ DET_ACT_LOG, 20, 300, 900 };
    r[DET_ABNORMAL_CLOSE]    = (struct det_rule){ DET_ACT_LOG, 50, 60, 300 };
    r[DET_PROTOCOL_ERROR]    = (struct det_rule){ DET_ACT_BLOCK_IP, 10, 60, 600 };
    r[DET_TLS_FAILURE]       = (struct det_rule){ DET_ACT_BLOCK_IP, 20, 60, 600 };
    r[DET_SILENT]            = (struct det_rule){ DET_ACT_BLOCK_IP, 20, 60, 300 };
    r[DET_TOPIC_SCAN]        = (struct det_rule){ DET_ACT_LOG, 1000, 60, 300 };
    r[DET_ACL_DENIED]        = (struct det_rule){ DET_ACT_DISCONNECT, 50, 60, 300 };
    r[DET_UNDELIVERABLE]     = (struct det_rule){ DET_ACT_LOG, 10000, 60, 300 };
    /* The XDP filter reports a source at most once a second while it
     * exceeds its SYN rate: three reports in a minute is a flood. */
    r[DET_SYN_FLOOD]         = (struct det_rule){ DET_ACT_BLOCK_IP, 3, 60, 60 };
}
