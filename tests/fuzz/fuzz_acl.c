/* libFuzzer target for user/auth/acl_*.c: arbitrary bytes as an ACL file.
 * Invariants: no crash, leak or over-read (ASan/UBSan); refusals name
 * "NAME:LINE"; checks on the parsed ACL terminate; the subscription
 * walker agrees with mqtt_topic_match() for plain rules on topic names;
 * a subscription allowed for a topic name implies publish-side read
 * access to it. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "auth/acl_internal.h"
#include "mqtt/topic.h"

static const char *const users[] = { NULL, "alice", "u", "a/b", "x+", "" };
static const char *const cids[] = { "c1", "alice-1", "c/1", "#" };
static const char *const topics[] = { "a", "a/b", "a/b/c", "$SYS/x", "/", "alice/x",
                                      "devices/u/x", "c1", "public/x" };

static void check_rules(const struct acl_rule *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (r[i].pattern)
            continue;
        for (size_t t = 0; t < sizeof(topics) / sizeof(topics[0]); t++) {
            const uint8_t *tp = (const uint8_t *)topics[t];
            size_t tl = strlen(topics[t]);
            if (acl_rule_covers(&r[i], NULL, 0, "", 0, tp, tl) !=
                mqtt_topic_match((const uint8_t *)r[i].filter, r[i].flen, tp, tl))
                abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512] = "";
    struct acl *a = acl_parse("f", (const char *)data, size, err, sizeof(err));

    if (!a) {
        if (strncmp(err, "f:", 2) != 0)
            abort();
        return 0;
    }
    check_rules(a->anon.rules, a->anon.nrules);
    for (size_t i = 0; i < a->nusers; i++) {
        check_rules(a->users[i].rules, a->users[i].nrules);
        if (acl_user_find(a, a->users[i].name) != &a->users[i])
            abort();
    }
    /* The first line of the input, if it is a topic name, is checked too. */
    const uint8_t *nl = memchr(data, '\n', size);
    size_t first = nl ? (size_t)(nl - data) : size;
    bool first_ok = mqtt_topic_name_check(data, first) == 0;
    uint8_t v4[4] = { 198, 18, 0, 1 }, v6[16] = { 0x20, 0x01, 0, 2 };
    for (size_t u = 0; u < sizeof(users) / sizeof(users[0]); u++) {
        for (size_t c = 0; c < sizeof(cids) / sizeof(cids[0]); c++) {
            for (size_t t = 0; t <= sizeof(topics) / sizeof(topics[0]); t++) {
                const uint8_t *tp = t < sizeof(topics) / sizeof(topics[0])
                                        ? (const uint8_t *)topics[t] : data;
                size_t tl = t < sizeof(topics) / sizeof(topics[0]) ? strlen(topics[t]) : first;
                if (tp == data && !first_ok)
                    continue;
                bool rd = acl_check(a, users[u], cids[c], tp, tl, ACL_READ);
                (void)acl_check(a, users[u], cids[c], tp, tl, ACL_WRITE);
                if (acl_check_subscribe(a, users[u], cids[c], tp, tl) && !rd)
                    abort();
            }
            (void)acl_connect_allowed(a, users[u], cids[c], AF_INET, v4);
            (void)acl_connect_allowed(a, users[u], cids[c], AF_INET6, v6);
        }
    }
    acl_free(a);
    return 0;
}
