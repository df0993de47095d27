/* Password file parsing into an immutable, reference-counted table. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/file.h"
#include "auth/passwd_internal.h"
#include "util/hash.h"

__attribute__((format(printf, 3, 4)))
static void *fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return NULL;
}

static void table_free(struct passwd_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++)
        free(t->entries[i].user);
    if (t->entries)
        OPENSSL_cleanse(t->entries, t->n * sizeof(*t->entries));
    free(t->entries);
    free(t->slots);
    OPENSSL_cleanse(&t->dummy, sizeof(t->dummy));
    free(t);
}

static size_t slot_of(const struct passwd_table *t, const char *user, size_t len)
{
    return (size_t)moat_hash(t->seed, user, len) & t->mask;
}

/* Finds user; returns the entry index or SIZE_MAX. */
static size_t find(const struct passwd_table *t, const char *user, size_t len)
{
    if (!t->slots)
        return SIZE_MAX;
    for (size_t s = slot_of(t, user, len);; s = (s + 1) & t->mask) {
        uint32_t v = t->slots[s];
        if (v == 0)
            return SIZE_MAX;
        const struct passwd_entry *e = &t->entries[v - 1];
        if (e->user_len == len && memcmp(e->user, user, len) == 0)
            return v - 1;
    }
}

/* Builds the index; the load factor stays at or below one half, so
 * probing always ends at an empty slot. */
static int index_build(struct passwd_table *t)
{
    size_t size = 16;
    while (size < 2 * t->n)
        size *= 2;
    t->slots = calloc(size, sizeof(*t->slots));
    if (!t->slots)
        return -1;
    t->mask = size - 1;
    for (size_t i = 0; i < t->n; i++) {
        size_t s = slot_of(t, t->entries[i].user, t->entries[i].user_len);
        while (t->slots[s])
            s = (s + 1) & t->mask;
        t->slots[s] = (uint32_t)(i + 1);
    }
    return 0;
}

static bool same_cost(const struct passwd_hash *a, const struct passwd_hash *b)
{
    return a->scheme == b->scheme && a->iterations == b->iterations &&
           a->m_kib == b->m_kib && a->t_cost == b->t_cost && a->lanes == b->lanes &&
           a->salt_len == b->salt_len && a->hash_len == b->hash_len;
}

/* The dummy copies the cost of the most common hash kind in the file (the
 * argon2id default for an empty file) with random salt and hash, so a
 * probe for an unknown user costs what a typical real user costs. O(n^2)
 * in the number of distinct kinds only: kinds are few. */
static int dummy_build(struct passwd_table *t)
{
    struct passwd_hash *h = &t->dummy.h;
    size_t best = 0, best_i = SIZE_MAX;

    for (size_t i = 0; i < t->n; i++) {
        size_t k, count = 0;
        for (k = 0; k < i; k++)
            if (same_cost(&t->entries[k].h, &t->entries[i].h))
                break;
        if (k < i)
            continue;                  /* kind already counted */
        for (k = i; k < t->n; k++)
            count += same_cost(&t->entries[k].h, &t->entries[i].h);
        if (count > best) {
            best = count;
            best_i = i;
        }
    }
    if (best_i != SIZE_MAX) {
        *h = t->entries[best_i].h;
    } else {
        memset(h, 0, sizeof(*h));
        h->scheme = PASSWD_ARGON2ID;
        h->m_kib = PASSWD_ARGON2_M_KIB;
        h->t_cost = PASSWD_ARGON2_T;
        h->lanes = PASSWD_ARGON2_P;
        h->salt_len = PASSWD_ARGON2_SALT_LEN;
        h->hash_len = PASSWD_ARGON2_HASH_LEN;
    }
    if (RAND_bytes(h->salt, (int)h->salt_len) != 1 ||
        RAND_bytes(h->hash, (int)h->hash_len) != 1)
        return -1;
    t->dummy.user = NULL;
    t->dummy.known = false;
    return 0;
}

/* One line, already stripped of its line ending and trailing blanks. */
static int parse_line(struct passwd_table *t, const char *name, unsigned line,
                      const char *s, size_t n, char *err, size_t errlen)
{
    char why[160];
    const char *colon = memchr(s, ':', n);

    if (!colon) {
        fail(err, errlen, "%s:%u: expected USER:HASH (no ':')", name, line);
        return -1;
    }
    size_t ulen = (size_t)(colon - s);
    if (passwd_username_check(s, ulen, why, sizeof(why)) < 0) {
        fail(err, errlen, "%s:%u: %s", name, line, why);
        return -1;
    }
    size_t dup = find(t, s, ulen);
    if (dup != SIZE_MAX) {
        fail(err, errlen, "%s:%u: duplicate user '%.*s' (first on line %u)", name, line,
             (int)(ulen > 64 ? 64 : ulen), s, t->entries[dup].line);
        return -1;
    }
    struct passwd_entry *e = &t->entries[t->n];
    memset(e, 0, sizeof(*e));
    if (passwd_hash_parse(colon + 1, n - ulen - 1, &e->h, why, sizeof(why)) < 0) {
        fail(err, errlen, "%s:%u: user '%.*s': %s", name, line,
             (int)(ulen > 64 ? 64 : ulen), s, why);
        return -1;
    }
    e->user = malloc(ulen + 1);
    if (!e->user) {
        fail(err, errlen, "%s:%u: out of memory", name, line);
        return -1;
    }
    memcpy(e->user, s, ulen);
    e->user[ulen] = '\0';
    e->user_len = ulen;
    e->line = line;
    e->known = true;
    /* Insert now so later duplicates are found. */
    size_t slot = slot_of(t, e->user, ulen);
    while (t->slots[slot])
        slot = (slot + 1) & t->mask;
    t->slots[slot] = (uint32_t)(t->n + 1);
    t->n++;
    return 0;
}

/* Contract in passwd_internal.h. Two passes: count lines to size the
 * arrays (bounded by the file size), then parse. */
struct passwd_table *passwd_parse_ex(const char *name, const char *buf, size_t len,
                                     bool want_dummy, char *err, size_t errlen)
{
    struct passwd_table *t;
    size_t lines = 1;

    if (len > PASSWD_FILE_MAX)
        return fail(err, errlen, "%s: larger than %u bytes", name, PASSWD_FILE_MAX);
    for (size_t i = 0; i < len; i++)
        lines += buf[i] == '\n';
    /* Every valid USER:HASH line is longer than 48 bytes, so this bounds
     * memory by the file's size, not by its count of short lines. */
    if (lines > len / 48 + 1)
        lines = len / 48 + 1;
    t = calloc(1, sizeof(*t));
    if (!t)
        return fail(err, errlen, "%s: out of memory", name);
    atomic_init(&t->refs, 1);
    t->seed = moat_random_seed();
    t->entries = calloc(lines, sizeof(*t->entries));
    size_t size = 16;
    while (size < 2 * lines)
        size *= 2;
    t->slots = calloc(size, sizeof(*t->slots));
    t->mask = size - 1;
    if (!t->entries || !t->slots) {
        table_free(t);
        return fail(err, errlen, "%s: out of memory", name);
    }
    unsigned line = 0;
    for (size_t pos = 0; pos < len;) {
        const char *s = buf + pos;
        const char *nl = memchr(s, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - s) : len - pos;
        pos += n + (nl != NULL);
        line++;
        while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
            n--;
        size_t lead = 0;
        while (lead < n && (s[lead] == ' ' || s[lead] == '\t'))
            lead++;
        if (lead == n || s[lead] == '#')
            continue;                  /* blank or comment */
        if (memchr(s, '\0', n)) {
            table_free(t);
            return fail(err, errlen, "%s:%u: NUL byte in line", name, line);
        }
        if (t->n == lines) {
            table_free(t);
            return fail(err, errlen, "%s:%u: line too short to hold a hash", name, line);
        }
        if (parse_line(t, name, line, s, n, err, errlen) < 0) {
            table_free(t);
            return NULL;
        }
    }
    if (want_dummy && dummy_build(t) < 0) {
        table_free(t);
        return fail(err, errlen, "%s: no random bytes for the dummy entry", name);
    }
    /* Shrink the index to the users actually present. */
    free(t->slots);
    t->slots = NULL;
    if (index_build(t) < 0) {
        table_free(t);
        return fail(err, errlen, "%s: out of memory", name);
    }
    return t;
}

/* Contract in passwd.h. */
struct passwd_table *passwd_parse(const char *name, const char *buf, size_t len,
                                  char *err, size_t errlen)
{
    return passwd_parse_ex(name, buf, len, true, err, errlen);
}

/* Contract in passwd.h. */
struct passwd_table *passwd_load(const char *path, char *err, size_t errlen)
{
    char *buf;
    size_t len;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return fail(err, errlen, "%s: %s", path, strerror(errno));
    if (auth_read_fd(fd, PASSWD_FILE_MAX, &buf, &len) < 0) {
        int e = errno;
        close(fd);
        return fail(err, errlen, "%s: %s", path,
                    e == EFBIG ? "file too large" : e == EINVAL ? "not a regular file"
                                                                : strerror(e));
    }
    close(fd);
    struct passwd_table *t = passwd_parse(path, buf, len, err, errlen);
    OPENSSL_cleanse(buf, len);
    free(buf);
    return t;
}

struct passwd_table *passwd_table_ref(struct passwd_table *t)
{
    if (t)
        atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed);
    return t;
}

void passwd_table_unref(struct passwd_table *t)
{
    if (t && atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) == 1)
        table_free(t);
}

size_t passwd_table_count(const struct passwd_table *t)
{
    return t ? t->n : 0;
}

/* Contract in passwd.h. */
const struct passwd_entry *passwd_lookup(const struct passwd_table *t, const char *user,
                                         size_t len)
{
    if (!t)
        return NULL;
    size_t i = user ? find(t, user, len) : SIZE_MAX;
    return i == SIZE_MAX ? &t->dummy : &t->entries[i];
}
