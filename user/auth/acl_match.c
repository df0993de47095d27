/* ACL decisions: topic access, subscriptions, connections. Read-only on
 * the loaded ACL, no allocation. */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "auth/acl_internal.h"
#include "mqtt/topic.h"
#include "util/hash.h"

/* End of the level starting at i: index of the next '/' or len. */
static size_t level_end(const uint8_t *s, size_t i, size_t len)
{
    while (i < len && s[i] != '/')
        i++;
    return i;
}

/* Is one rule level (with %u / %c expanded when pattern) equal to the
 * level s[0..n)? Expansion follows mosquitto: scanning left to right, "%u"
 * and "%c" are replaced, any other '%' is literal. */
static bool level_eq(const char *f, size_t fn, bool pattern, const char *user,
                     size_t ulen, const char *cid, size_t clen, const uint8_t *s, size_t n)
{
    size_t j = 0;

    for (size_t i = 0; i < fn;) {
        if (pattern && f[i] == '%' && i + 1 < fn && (f[i + 1] == 'u' || f[i + 1] == 'c')) {
            const char *v = f[i + 1] == 'u' ? user : cid;
            size_t vl = f[i + 1] == 'u' ? ulen : clen;
            if (n - j < vl || (vl && memcmp(s + j, v, vl) != 0))
                return false;
            j += vl;
            i += 2;
            continue;
        }
        if (j >= n || s[j] != (uint8_t)f[i])
            return false;
        j++;
        i++;
    }
    return j == n;
}

/* Contract in acl_internal.h. Walks both one level at a time like
 * mqtt_topic_match(); a subscription level '#' is covered only by a rule
 * '#', a subscription level '+' only by a rule '+' (or '#'). */
bool acl_rule_covers(const struct acl_rule *r, const char *user, size_t ulen,
                     const char *cid, size_t clen, const uint8_t *s, size_t len)
{
    const uint8_t *f = (const uint8_t *)r->filter;
    size_t flen = r->flen, fi = 0, si = 0;
    bool s_done = false;

    if (len > 0 && s[0] == '$' && flen > 0 && (f[0] == '+' || f[0] == '#'))
        return false;                  /* [MQTT-4.7.2-1] */
    for (;;) {
        size_t fe = level_end(f, fi, flen), n = fe - fi;
        if (n == 1 && f[fi] == '#')
            return true;
        if (s_done)
            return false;
        size_t se = level_end(s, si, len);
        if (se - si == 1 && s[si] == '#')
            return false;
        if (!(n == 1 && f[fi] == '+') &&
            !level_eq((const char *)f + fi, n, r->pattern, user, ulen, cid, clen,
                      s + si, se - si))
            return false;
        if (fe == flen)
            return se == len;
        fi = fe + 1;
        if (se == len)
            s_done = true;
        else
            si = se + 1;
    }
}

/* A value that would change a pattern's level structure if substituted:
 * mosquitto refuses '+' and '#'; moat also refuses '/', so a user "a/b"
 * cannot reach into user "a"'s tree. */
static bool dangerous(const char *v)
{
    return v && strpbrk(v, "+#/") != NULL;
}

/* 1 allow, 0 deny, -1 no rule decided. */
static int walk(const struct acl_rule *rules, size_t n, const char *user, size_t ulen,
                const char *cid, size_t clen, const uint8_t *s, size_t len, int access,
                bool subscribe)
{
    for (size_t i = 0; i < n; i++) {
        const struct acl_rule *r = &rules[i];
        bool hit;
        if (r->uses_u && !user)
            continue;                  /* %u needs a user name */
        if (!subscribe && !r->pattern)
            hit = mqtt_topic_match((const uint8_t *)r->filter, r->flen, s, len);
        else
            hit = acl_rule_covers(r, user, ulen, cid, clen, s, len);
        if (!hit)
            continue;
        if (r->access == 0)
            return 0;
        if (r->access & access)
            return 1;
    }
    return -1;
}

static bool decide(const struct acl *acl, const struct acl_user *u, const char *user,
                   const char *cid, const uint8_t *s, size_t len, int access,
                   bool subscribe)
{
    size_t ulen = user ? strlen(user) : 0, clen = cid ? strlen(cid) : 0;
    int rc;

    if (!acl || !cid)
        return false;
    if (u) {
        rc = walk(u->rules, u->nrules, user, ulen, cid, clen, s, len, access, subscribe);
        if (rc >= 0)
            return rc == 1;
    }
    if (acl->npatterns == 0)
        return false;
    if ((acl->pat_uses_u && dangerous(user)) || (acl->pat_uses_c && dangerous(cid)))
        return false;
    rc = walk(acl->patterns, acl->npatterns, user, ulen, cid, clen, s, len, access,
              subscribe);
    return rc == 1;
}

/* Contract in acl.h. */
const struct acl_user *acl_user_find(const struct acl *acl, const char *username)
{
    if (!acl)
        return NULL;
    if (!username)
        return &acl->anon;
    size_t n = strlen(username);
    if (!acl->slots)
        return NULL;
    for (size_t s = (size_t)moat_hash(acl->seed, username, n) & acl->mask;;
         s = (s + 1) & acl->mask) {
        uint32_t v = acl->slots[s];
        if (v == 0)
            return NULL;
        const struct acl_user *u = &acl->users[v - 1];
        if (u->name_len == n && memcmp(u->name, username, n) == 0)
            return u;
    }
}

bool acl_check_user(const struct acl *acl, const struct acl_user *u, const char *username,
                    const char *clientid, const uint8_t *topic, size_t len, int access)
{
    return decide(acl, u, username, clientid, topic, len, access, false);
}

bool acl_check(const struct acl *acl, const char *username, const char *clientid,
               const uint8_t *topic, size_t len, int access)
{
    return decide(acl, acl_user_find(acl, username), username, clientid, topic, len,
                  access, false);
}

bool acl_check_subscribe_user(const struct acl *acl, const struct acl_user *u,
                              const char *username, const char *clientid,
                              const uint8_t *filter, size_t len)
{
    return decide(acl, u, username, clientid, filter, len, ACL_READ, true);
}

bool acl_check_subscribe(const struct acl *acl, const char *username,
                         const char *clientid, const uint8_t *filter, size_t len)
{
    return decide(acl, acl_user_find(acl, username), username, clientid, filter, len,
                  ACL_READ, true);
}

/* Contract in acl.h. */
enum acl_connect acl_connect_allowed(const struct acl *acl, const char *username,
                                     const char *clientid, int family,
                                     const uint8_t *addr)
{
    static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    const struct acl_user *u = acl_user_find(acl, username);
    int fam;

    if (!u)
        return ACL_CONNECT_OK;
    if (family == AF_INET6 && memcmp(addr, mapped, sizeof(mapped)) == 0) {
        fam = 4;                       /* dual-stack listener, IPv4 peer */
        addr += 12;
    } else {
        fam = family == AF_INET ? 4 : family == AF_INET6 ? 6 : 0;
    }
    if (u->nfrom > 0) {
        bool ok = false;
        for (size_t i = 0; i < u->nfrom && !ok; i++)
            ok = fam != 0 && moat_cidr_contains(&u->from[i], fam, addr);
        if (!ok)
            return ACL_CONNECT_SOURCE;
    }
    if (u->ncids > 0) {
        bool ok = false;
        size_t clen = clientid ? strlen(clientid) : 0;
        for (size_t i = 0; i < u->ncids && !ok; i++)
            ok = clientid && acl_cidpat_match(&u->cids[i], username, clientid, clen);
        if (!ok)
            return ACL_CONNECT_CLIENTID;
    }
    return ACL_CONNECT_OK;
}

size_t acl_user_count(const struct acl *acl)
{
    return acl ? acl->nusers : 0;
}

size_t acl_rule_count(const struct acl *acl)
{
    if (!acl)
        return 0;
    size_t n = acl->anon.nrules + acl->npatterns;
    for (size_t i = 0; i < acl->nusers; i++)
        n += acl->users[i].nrules;
    return n;
}
