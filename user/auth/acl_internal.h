/* Shared between the acl_*.c files only. */
#ifndef MOAT_AUTH_ACL_INTERNAL_H
#define MOAT_AUTH_ACL_INTERNAL_H

#include "auth/acl.h"
#include "xdp/cidr.h"

/* One topic or pattern line. */
struct acl_rule {
    char    *filter;       /* NUL-terminated copy, a valid topic filter */
    size_t   flen;
    unsigned line;
    uint8_t  access;       /* ACL_READ | ACL_WRITE; 0 is deny */
    bool     pattern;      /* from a pattern line: %u / %c substituted */
    bool     uses_u, uses_c;
};

/* A compiled clientid pattern: literal runs, '*' and %u. */
enum { CID_LIT, CID_STAR, CID_USER };
struct acl_cid_tok {
    uint8_t  kind;
    uint32_t off, len;     /* CID_LIT: bytes text[off..off+len) */
};
struct acl_cidpat {
    char               *text;   /* unescaped literal bytes */
    struct acl_cid_tok *toks;
    size_t              ntoks;
    bool                uses_u;
    unsigned            line;
};

/* A "user" block, or the anonymous block. Rules are ordered deny first
 * (as mosquitto does), then the allows in file order. */
struct acl_user {
    char              *name;    /* NULL for the anonymous block */
    size_t             name_len;
    struct acl_rule   *rules;
    size_t             nrules, rules_cap;
    struct moat_cidr  *from;
    size_t             nfrom, from_cap;
    struct acl_cidpat *cids;
    size_t             ncids, cids_cap;
};

struct acl {
    struct acl_user  anon;
    struct acl_user *users;
    size_t           nusers, users_cap;
    uint32_t        *slots;     /* user index + 1; 0 empty */
    size_t           mask;
    uint64_t         seed;
    struct acl_rule *patterns;  /* deny first, then allows */
    size_t           npatterns, patterns_cap;
    bool             pat_uses_u, pat_uses_c;
};

/* Does rule r (with %u/%c substituted when r->pattern) cover s[0..len)?
 * For a topic name this is "matches"; for a subscription filter it means
 * every topic the filter matches is matched by r. user may be NULL only
 * if !r->uses_u; neither value may contain '/', '+' or '#'. */
bool acl_rule_covers(const struct acl_rule *r, const char *user, size_t ulen,
                     const char *cid, size_t clen, const uint8_t *s, size_t len);

/* Compiles a clientid pattern; returns 0 or -1 with err. */
int acl_cidpat_compile(const char *s, size_t len, struct acl_cidpat *out, char *err,
                       size_t errlen);
bool acl_cidpat_match(const struct acl_cidpat *p, const char *user, const char *cid,
                      size_t clen);
void acl_cidpat_free(struct acl_cidpat *p);

#endif
