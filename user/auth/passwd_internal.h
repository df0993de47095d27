/* Shared between the passwd_*.c files only. */
#ifndef MOAT_AUTH_PASSWD_INTERNAL_H
#define MOAT_AUTH_PASSWD_INTERNAL_H

#include <stdatomic.h>

#include "auth/passwd.h"

#define PASSWD_SALT_MAX 64u
#define PASSWD_HASH_MAX 64u

/* One line's hash, decoded. */
struct passwd_hash {
    uint8_t  scheme;                 /* enum passwd_scheme */
    uint32_t iterations;             /* $7$ */
    uint32_t m_kib, t_cost, lanes;   /* argon2id */
    uint8_t  salt_len, hash_len;
    uint8_t  salt[PASSWD_SALT_MAX];
    uint8_t  hash[PASSWD_HASH_MAX];
};

struct passwd_entry {
    char              *user;         /* NUL-terminated copy */
    size_t             user_len;
    unsigned           line;
    bool               known;        /* false only for the dummy */
    struct passwd_hash h;
};

struct passwd_table {
    atomic_uint          refs;
    struct passwd_entry *entries;
    size_t               n;
    uint32_t            *slots;      /* open addressing; entry index + 1, 0 empty */
    size_t               mask;       /* slots - 1 (power of two) */
    uint64_t             seed;
    struct passwd_entry  dummy;
};

/* Parses the hash text after "USER:" (s[0..len)). Returns 0, or -1 with a
 * reason (no file/line prefix) in err. */
int passwd_hash_parse(const char *s, size_t len, struct passwd_hash *h,
                      char *err, size_t errlen);

/* Runs the entry's KDF over password into out (h->hash_len bytes).
 * Returns 0 or -1 (argon2 out of memory, OpenSSL failure). */
int passwd_hash_compute(const struct passwd_hash *h, const void *password,
                        size_t len, uint8_t *out);

/* Parses buf. With want_dummy false, no dummy entry is made (validation
 * only, no randomness needed). Line numbers start at 1. */
struct passwd_table *passwd_parse_ex(const char *name, const char *buf, size_t len,
                                     bool want_dummy, char *err, size_t errlen);

#endif
