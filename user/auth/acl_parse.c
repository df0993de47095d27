/* ACL file parsing (mosquitto acl_file syntax plus connect-from and
 * clientid) into the structures of acl_internal.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/err.h"
#include "auth/acl_internal.h"
#include "auth/file.h"
#include "mqtt/topic.h"
#include "util/hash.h"


/* Parser state: the file name for messages, the current line, the block
 * that topic/connect-from/clientid lines go to. */
struct pstate {
    struct acl      *acl;
    const char      *name;
    unsigned         line;
    size_t           cur;          /* SIZE_MAX: anonymous block, else users[cur] */
    char            *err;
    size_t           errlen;
};

__attribute__((format(printf, 2, 3)))
static int perr(struct pstate *ps, const char *fmt, ...)
{
    char why[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    return err_set(ps->err, ps->errlen, "%s:%u: %s", ps->name, ps->line, why);
}

/* Grows *arr (elements of size sz) so one more fits. */
static int grow(void **arr, size_t *cap, size_t n, size_t sz)
{
    if (n < *cap)
        return 0;
    size_t nc = *cap ? *cap * 2 : 4;
    if (nc > SIZE_MAX / sz)
        return -1;
    void *p = realloc(*arr, nc * sz);
    if (!p)
        return -1;
    *arr = p;
    *cap = nc;
    return 0;
}

static struct acl_user *cur_block(struct pstate *ps)
{
    return ps->cur == SIZE_MAX ? &ps->acl->anon : &ps->acl->users[ps->cur];
}

static size_t user_slot(const struct acl *acl, const char *name, size_t n)
{
    return (size_t)moat_hash(acl->seed, name, n) & acl->mask;
}

/* Rebuilds the user index at twice the size when half full. */
static int index_grow(struct acl *acl)
{
    if (acl->slots && 2 * (acl->nusers + 1) <= acl->mask + 1)
        return 0;
    size_t size = acl->slots ? (acl->mask + 1) * 2 : 16;
    uint32_t *slots = calloc(size, sizeof(*slots));
    if (!slots)
        return -1;
    free(acl->slots);
    acl->slots = slots;
    acl->mask = size - 1;
    for (size_t i = 0; i < acl->nusers; i++) {
        size_t s = user_slot(acl, acl->users[i].name, acl->users[i].name_len);
        while (acl->slots[s])
            s = (s + 1) & acl->mask;
        acl->slots[s] = (uint32_t)(i + 1);
    }
    return 0;
}

/* "user NAME": selects NAME's block, creating it; a second block for the
 * same name continues the first, as in mosquitto. */
static int do_user(struct pstate *ps, const char *name, size_t n)
{
    struct acl *acl = ps->acl;
    if (n == 0)
        return perr(ps, "user: missing user name");
    if (n > 65535 || mqtt_utf8_check((const uint8_t *)name, n) != 0)
        return perr(ps, "user: name is not valid UTF-8 of at most 65535 bytes");
    if (acl->slots) {
        for (size_t s = user_slot(acl, name, n);; s = (s + 1) & acl->mask) {
            uint32_t v = acl->slots[s];
            if (v == 0)
                break;
            if (acl->users[v - 1].name_len == n && memcmp(acl->users[v - 1].name, name, n) == 0) {
                ps->cur = v - 1;
                return 0;
            }
        }
    }
    if (index_grow(acl) < 0 ||
        grow((void **)&acl->users, &acl->users_cap, acl->nusers, sizeof(*acl->users)) < 0)
        return perr(ps, "out of memory");
    struct acl_user *nu = &acl->users[acl->nusers];
    memset(nu, 0, sizeof(*nu));
    nu->name = malloc(n + 1);
    if (!nu->name)
        return perr(ps, "out of memory");
    memcpy(nu->name, name, n);
    nu->name[n] = '\0';
    nu->name_len = n;
    size_t s = user_slot(acl, name, n);
    while (acl->slots[s])
        s = (s + 1) & acl->mask;
    acl->slots[s] = (uint32_t)(acl->nusers + 1);
    ps->cur = acl->nusers++;
    return 0;
}

static bool blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Next blank-separated token of [*p, end). */
static bool token(const char **p, const char *end, const char **t, size_t *n)
{
    const char *q = *p;
    while (q < end && blank(*q))
        q++;
    if (q == end)
        return false;
    *t = q;
    while (q < end && !blank(*q))
        q++;
    *n = (size_t)(q - *t);
    *p = q;
    return true;
}

/* The rest of the line without leading blanks (trailing ones are gone). */
static void rest(const char *p, const char *end, const char **t, size_t *n)
{
    while (p < end && blank(*p))
        p++;
    *t = p;
    *n = (size_t)(end - p);
}

static bool word(const char *t, size_t n, const char *w)
{
    return strlen(w) == n && memcmp(t, w, n) == 0;
}

/* "topic|pattern [read|write|readwrite|deny] FILTER". As in mosquitto, a
 * single argument is the filter with readwrite access, and the filter is
 * the rest of the line, so it may contain blanks. */
static int do_rule(struct pstate *ps, bool pattern, const char *p, const char *end)
{
    const char *a, *f;
    size_t an, fn;
    uint8_t access = ACL_READ | ACL_WRITE;
    const char *kw = pattern ? "pattern" : "topic";

    if (!token(&p, end, &a, &an))
        return perr(ps, "%s: missing topic filter", kw);
    rest(p, end, &f, &fn);
    if (fn == 0) {
        f = a;
        fn = an;
    } else if (word(a, an, "read")) {
        access = ACL_READ;
    } else if (word(a, an, "write")) {
        access = ACL_WRITE;
    } else if (word(a, an, "readwrite")) {
        access = ACL_READ | ACL_WRITE;
    } else if (word(a, an, "deny")) {
        access = 0;
    } else {
        return perr(ps, "%s: access '%.*s' is not read, write, readwrite or deny", kw,
                     (int)(an > 32 ? 32 : an), a);
    }
    if (fn > 65535 || mqtt_topic_filter_check((const uint8_t *)f, fn) != 0)
        return perr(ps, "%s: '%.*s' is not a valid topic filter", kw,
                     (int)(fn > 200 ? 200 : fn), f);
    struct acl_rule r = { .flen = fn, .line = ps->line, .access = access,
                          .pattern = pattern };
    if (pattern) {
        for (size_t i = 0; i + 1 < fn; i++) {
            if (f[i] != '%')
                continue;
            if (f[i + 1] == 'u')
                r.uses_u = true;
            else if (f[i + 1] == 'c')
                r.uses_c = true;
            else
                continue;
            i++;
        }
    }
    r.filter = malloc(fn + 1);
    if (!r.filter)
        return perr(ps, "out of memory");
    memcpy(r.filter, f, fn);
    r.filter[fn] = '\0';
    struct acl_rule **arr;
    size_t *n, *cap;
    if (pattern) {
        arr = &ps->acl->patterns;
        n = &ps->acl->npatterns;
        cap = &ps->acl->patterns_cap;
        ps->acl->pat_uses_u |= r.uses_u;
        ps->acl->pat_uses_c |= r.uses_c;
    } else {
        struct acl_user *u = cur_block(ps);
        arr = &u->rules;
        n = &u->nrules;
        cap = &u->rules_cap;
    }
    if (grow((void **)arr, cap, *n, sizeof(**arr)) < 0) {
        free(r.filter);
        return perr(ps, "out of memory");
    }
    (*arr)[(*n)++] = r;
    return 0;
}

/* "connect-from CIDR [CIDR...]": adds to the block's allowed sources. */
static int do_from(struct pstate *ps, const char *p, const char *end)
{
    struct acl_user *u = cur_block(ps);
    const char *t;
    size_t n;
    int count = 0;

    while (token(&p, end, &t, &n)) {
        char txt[MOAT_CIDR_STRLEN], why[160];
        struct moat_cidr c;
        if (n >= sizeof(txt))
            return perr(ps, "connect-from: '%.*s...' is too long for a CIDR", 20, t);
        memcpy(txt, t, n);
        txt[n] = '\0';
        if (moat_cidr_parse(txt, &c, why, sizeof(why)) < 0)
            return perr(ps, "connect-from '%s': %s", txt, why);
        if (grow((void **)&u->from, &u->from_cap, u->nfrom, sizeof(*u->from)) < 0)
            return perr(ps, "out of memory");
        u->from[u->nfrom++] = c;
        count++;
    }
    if (count == 0)
        return perr(ps, "connect-from: expected one or more CIDRs");
    return 0;
}

/* "clientid PATTERN": one more client id the block's user may take. */
static int do_clientid(struct pstate *ps, const char *p, const char *end)
{
    struct acl_user *u = cur_block(ps);
    const char *t;
    size_t n;
    char why[160];
    struct acl_cidpat c;

    rest(p, end, &t, &n);
    if (acl_cidpat_compile(t, n, &c, why, sizeof(why)) < 0)
        return perr(ps, "%s", why);
    c.line = ps->line;
    if (grow((void **)&u->cids, &u->cids_cap, u->ncids, sizeof(*u->cids)) < 0) {
        acl_cidpat_free(&c);
        return perr(ps, "out of memory");
    }
    u->cids[u->ncids++] = c;
    return 0;
}

static int parse_line(struct pstate *ps, const char *s, size_t n)
{
    const char *p = s, *end = s + n, *kw;
    size_t kn;

    if (!token(&p, end, &kw, &kn) || kw[0] == '#')
        return 0;                      /* blank or comment */
    if (memchr(s, '\0', n))
        return perr(ps, "NUL byte in line");
    if (word(kw, kn, "topic"))
        return do_rule(ps, false, p, end);
    if (word(kw, kn, "pattern"))
        return do_rule(ps, true, p, end);
    if (word(kw, kn, "user")) {
        const char *t;
        size_t tn;
        rest(p, end, &t, &tn);
        return do_user(ps, t, tn);
    }
    if (word(kw, kn, "connect-from"))
        return do_from(ps, p, end);
    if (word(kw, kn, "clientid"))
        return do_clientid(ps, p, end);
    return perr(ps, "unknown keyword '%.*s' (expected topic, pattern, user, "
                 "connect-from or clientid)", (int)(kn > 32 ? 32 : kn), kw);
}

/* Stable partition: deny rules first, as mosquitto orders them. */
static int deny_first(struct acl_rule *r, size_t n)
{
    if (n < 2)
        return 0;
    struct acl_rule *tmp = malloc(n * sizeof(*tmp));
    if (!tmp)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (r[i].access == 0)
            tmp[k++] = r[i];
    for (size_t i = 0; i < n; i++)
        if (r[i].access != 0)
            tmp[k++] = r[i];
    memcpy(r, tmp, n * sizeof(*tmp));
    free(tmp);
    return 0;
}

static void user_free(struct acl_user *u)
{
    for (size_t i = 0; i < u->nrules; i++)
        free(u->rules[i].filter);
    free(u->rules);
    free(u->from);
    for (size_t i = 0; i < u->ncids; i++)
        acl_cidpat_free(&u->cids[i]);
    free(u->cids);
    free(u->name);
}

/* Contract in acl.h. */
void acl_free(struct acl *acl)
{
    if (!acl)
        return;
    user_free(&acl->anon);
    for (size_t i = 0; i < acl->nusers; i++)
        user_free(&acl->users[i]);
    free(acl->users);
    free(acl->slots);
    for (size_t i = 0; i < acl->npatterns; i++)
        free(acl->patterns[i].filter);
    free(acl->patterns);
    free(acl);
}

/* Contract in acl.h. */
struct acl *acl_parse(const char *name, const char *buf, size_t len, char *err,
                      size_t errlen)
{
    struct acl *acl;
    struct pstate ps = { .name = name, .cur = SIZE_MAX, .err = err, .errlen = errlen };

    if (len > ACL_FILE_MAX) {
        err_set(err, errlen, "%s: larger than %u bytes", name, ACL_FILE_MAX);
        return NULL;
    }
    acl = calloc(1, sizeof(*acl));
    if (!acl) {
        err_set(err, errlen, "%s: out of memory", name);
        return NULL;
    }
    acl->seed = moat_random_seed();
    ps.acl = acl;
    for (size_t pos = 0; pos < len;) {
        const char *s = buf + pos;
        const char *nl = memchr(s, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - s) : len - pos;
        pos += n + (nl != NULL);
        ps.line++;
        /* mosquitto strips all trailing white space, '\r' included. */
        while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' ||
                         s[n - 1] == '\v' || s[n - 1] == '\f'))
            n--;
        if (parse_line(&ps, s, n) < 0) {
            acl_free(acl);
            return NULL;
        }
    }
    int rc = deny_first(acl->anon.rules, acl->anon.nrules) |
             deny_first(acl->patterns, acl->npatterns);
    for (size_t i = 0; i < acl->nusers; i++)
        rc |= deny_first(acl->users[i].rules, acl->users[i].nrules);
    if (rc != 0) {
        acl_free(acl);
        err_set(err, errlen, "%s: out of memory", name);
        return NULL;
    }
    return acl;
}

/* Contract in acl.h. */
struct acl *acl_load(const char *path, char *err, size_t errlen)
{
    char *buf;
    size_t len;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        err_set(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (auth_read_fd(fd, ACL_FILE_MAX, &buf, &len) < 0) {
        int e = errno;
        close(fd);
        err_set(err, errlen, "%s: %s", path,
             e == EFBIG ? "file too large" : e == EINVAL ? "not a regular file" : strerror(e));
        return NULL;
    }
    close(fd);
    struct acl *acl = acl_parse(path, buf, len, err, errlen);
    free(buf);
    return acl;
}
