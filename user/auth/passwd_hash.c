/* Password hash strings: parsing, computing, verifying, and the argon2id
 * encoding moat writes. */
#include <argon2.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/err.h"
#include "auth/b64.h"
#include "auth/passwd_internal.h"
#include "mqtt/topic.h"


/* Cursor over the hash text: every read is bounded by end. */
struct cur {
    const char *p, *end;
};

static bool take(struct cur *c, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, lit, n) != 0)
        return false;
    c->p += n;
    return true;
}

/* Field up to the next '$' (or end); the '$' is consumed. */
static void field(struct cur *c, const char **s, size_t *n)
{
    const char *q = c->p;
    while (q < c->end && *q != '$')
        q++;
    *s = c->p;
    *n = (size_t)(q - c->p);
    c->p = q < c->end ? q + 1 : q;
}

/* Decimal 1..max in s[0..n), no sign, no leading zero. */
static bool number(const char *s, size_t n, uint32_t max, uint32_t *out)
{
    uint64_t v = 0;
    if (n == 0 || n > 10 || (s[0] == '0'))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > max)
        return false;
    *out = (uint32_t)v;
    return true;
}

static int salt_and_hash(const char *salt, size_t sn, const char *hash, size_t hn,
                         size_t hash_min, struct passwd_hash *h, char *err, size_t errlen)
{
    long n = auth_b64_decode(salt, sn, h->salt, sizeof(h->salt));
    if (n < 8)
        return err_set(err, errlen, "salt is not base64 of 8 to %u bytes", PASSWD_SALT_MAX);
    h->salt_len = (uint8_t)n;
    n = auth_b64_decode(hash, hn, h->hash, sizeof(h->hash));
    if (n < (long)hash_min)
        return err_set(err, errlen, "hash is not base64 of %zu to %u bytes", hash_min,
                    PASSWD_HASH_MAX);
    h->hash_len = (uint8_t)n;
    return 0;
}

/* "m=M,t=T,p=P" */
static int argon2_params(const char *s, size_t n, struct passwd_hash *h, char *err,
                         size_t errlen)
{
    static const char *const keys[3] = { "m=", "t=", "p=" };
    static const uint32_t max[3] = { PASSWD_ARGON2_M_MAX, PASSWD_ARGON2_T_MAX,
                                     PASSWD_ARGON2_P_MAX };
    uint32_t v[3];
    struct cur c = { s, s + n };

    for (int i = 0; i < 3; i++) {
        if (i > 0 && !take(&c, ","))
            return err_set(err, errlen, "argon2id parameters: expected m=M,t=T,p=P");
        if (!take(&c, keys[i]))
            return err_set(err, errlen, "argon2id parameters: expected m=M,t=T,p=P");
        const char *q = c.p;
        while (q < c.end && *q != ',')
            q++;
        if (!number(c.p, (size_t)(q - c.p), max[i], &v[i]))
            return err_set(err, errlen, "argon2id parameter %.1s: not a number in 1..%u",
                        keys[i], max[i]);
        c.p = q;
    }
    if (c.p != c.end)
        return err_set(err, errlen, "argon2id parameters: junk after p=");
    if (v[0] < 8 * v[2])
        return err_set(err, errlen, "argon2id parameters: m must be at least 8*p KiB");
    h->m_kib = v[0];
    h->t_cost = v[1];
    h->lanes = v[2];
    return 0;
}

/* Contract in passwd_internal.h. */
int passwd_hash_parse(const char *s, size_t len, struct passwd_hash *h, char *err,
                      size_t errlen)
{
    struct cur c = { s, s + len };
    const char *a, *b, *x;
    size_t an, bn, xn;

    memset(h, 0, sizeof(*h));
    if (len > PASSWD_HASH_TEXT_MAX)
        return err_set(err, errlen, "hash longer than %u characters", PASSWD_HASH_TEXT_MAX);
    if (take(&c, "$7$")) {
        h->scheme = PASSWD_PBKDF2_SHA512;
        field(&c, &x, &xn);
        if (!number(x, xn, PASSWD_PBKDF2_ITER_MAX, &h->iterations))
            return err_set(err, errlen, "$7$ iteration count not a number in 1..%u",
                        PASSWD_PBKDF2_ITER_MAX);
    } else if (take(&c, "$6$")) {
        h->scheme = PASSWD_SHA512;
    } else if (take(&c, "$argon2id$")) {
        h->scheme = PASSWD_ARGON2ID;
        if (!take(&c, "v=19$"))
            return err_set(err, errlen, "argon2id: only version v=19 is supported");
        field(&c, &x, &xn);
        if (argon2_params(x, xn, h, err, errlen) < 0)
            return -1;
    } else if (len > 0 && s[0] == '$') {
        return err_set(err, errlen, "unsupported hash type (moat reads $6$, $7$, $argon2id$)");
    } else {
        return err_set(err, errlen, "not a hash (plain-text password? set it with moatctl "
                    "passwd or mosquitto_passwd -U)");
    }
    a = c.p;
    x = memchr(a, '$', (size_t)(c.end - a));
    if (!x)
        return err_set(err, errlen, "expected $SALT$HASH");
    an = (size_t)(x - a);
    b = x + 1;
    bn = (size_t)(c.end - b);
    if (memchr(b, '$', bn))
        return err_set(err, errlen, "junk after the hash");
    /* mosquitto's schemes always carry a 64-byte SHA-512 output. */
    if (h->scheme == PASSWD_ARGON2ID)
        return salt_and_hash(a, an, b, bn, 16, h, err, errlen);
    if (salt_and_hash(a, an, b, bn, 64, h, err, errlen) < 0)
        return -1;
    return 0;
}

/* Contract in passwd_internal.h. */
int passwd_hash_compute(const struct passwd_hash *h, const void *password, size_t len,
                        uint8_t *out)
{
    if (len > PASSWD_PASSWORD_MAX)
        return -1;
    switch (h->scheme) {
    case PASSWD_SHA512: {
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        unsigned n = 0;
        int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha512(), NULL) == 1 &&
                 EVP_DigestUpdate(ctx, password, len) == 1 &&
                 EVP_DigestUpdate(ctx, h->salt, h->salt_len) == 1 &&
                 EVP_DigestFinal_ex(ctx, out, &n) == 1 && n == h->hash_len;
        EVP_MD_CTX_free(ctx);
        return ok ? 0 : -1;
    }
    case PASSWD_PBKDF2_SHA512:
        return PKCS5_PBKDF2_HMAC(password, (int)len, h->salt, h->salt_len,
                                 (int)h->iterations, EVP_sha512(), h->hash_len, out) == 1
                   ? 0 : -1;
    case PASSWD_ARGON2ID: {
        /* argon2_ctx rather than argon2id_hash_raw: threads = 1 keeps the
         * whole computation on the calling worker (no thread spawning),
         * the lanes are still p as the hash demands. */
        argon2_context ctx = {
            .out = out, .outlen = h->hash_len,
            .pwd = (uint8_t *)(uintptr_t)password, .pwdlen = (uint32_t)len,
            .salt = (uint8_t *)(uintptr_t)h->salt, .saltlen = h->salt_len,
            .t_cost = h->t_cost, .m_cost = h->m_kib, .lanes = h->lanes, .threads = 1,
            .version = ARGON2_VERSION_13, .flags = ARGON2_DEFAULT_FLAGS,
        };
        return argon2_ctx(&ctx, Argon2_id) == ARGON2_OK ? 0 : -1;
    }
    default:
        return -1;
    }
}

/* Contract in passwd.h. */
bool passwd_verify(const struct passwd_entry *e, const void *password, size_t len)
{
    uint8_t out[PASSWD_HASH_MAX];
    bool ok;

    if (!e || (!password && len))
        return false;
    if (len > PASSWD_PASSWORD_MAX)
        return false;           /* MQTT cannot carry it; never a stored one */
    ok = passwd_hash_compute(&e->h, password ? password : "", len, out) == 0 &&
         CRYPTO_memcmp(out, e->h.hash, e->h.hash_len) == 0;
    OPENSSL_cleanse(out, sizeof(out));
    /* known is tested last so the dummy costs exactly as much. */
    return ok & e->known;
}

bool passwd_entry_known(const struct passwd_entry *e)
{
    return e && e->known;
}

/* Contract in passwd.h. Plain memcmp is fine: both sides come from the
 * broker's own files, no peer input is compared. */
bool passwd_entry_equal(const struct passwd_entry *a, const struct passwd_entry *b)
{
    const struct passwd_hash *x = &a->h, *y = &b->h;
    return a->known && b->known && x->scheme == y->scheme &&
           x->iterations == y->iterations && x->m_kib == y->m_kib &&
           x->t_cost == y->t_cost && x->lanes == y->lanes && x->salt_len == y->salt_len &&
           x->hash_len == y->hash_len && memcmp(x->salt, y->salt, x->salt_len) == 0 &&
           memcmp(x->hash, y->hash, x->hash_len) == 0;
}

enum passwd_scheme passwd_entry_scheme(const struct passwd_entry *e)
{
    return (enum passwd_scheme)e->h.scheme;
}

/* Contract in passwd.h. */
int passwd_hash_argon2id(const void *password, size_t len, char *out, size_t outlen,
                         char *err, size_t errlen)
{
    struct passwd_hash h = {
        .scheme = PASSWD_ARGON2ID, .m_kib = PASSWD_ARGON2_M_KIB,
        .t_cost = PASSWD_ARGON2_T, .lanes = PASSWD_ARGON2_P,
        .salt_len = PASSWD_ARGON2_SALT_LEN, .hash_len = PASSWD_ARGON2_HASH_LEN,
    };
    char salt[PASSWD_SALT_MAX * 2], hash[PASSWD_HASH_MAX * 2];
    int rc = -1;

    if (len == 0)
        return err_set(err, errlen, "empty password");
    if (len > PASSWD_PASSWORD_MAX)
        return err_set(err, errlen, "password longer than %u bytes", PASSWD_PASSWORD_MAX);
    if (RAND_bytes(h.salt, (int)h.salt_len) != 1)
        return err_set(err, errlen, "no random bytes for the salt");
    if (passwd_hash_compute(&h, password, len, h.hash) < 0) {
        err_set(err, errlen, "argon2id failed (out of memory?)");
        goto out;
    }
    auth_b64_encode(h.salt, h.salt_len, 0, salt, sizeof(salt));
    auth_b64_encode(h.hash, h.hash_len, 0, hash, sizeof(hash));
    int n = snprintf(out, outlen, "$argon2id$v=19$m=%u,t=%u,p=%u$%s$%s", h.m_kib,
                     h.t_cost, h.lanes, salt, hash);
    if (n < 0 || (size_t)n >= outlen) {
        err_set(err, errlen, "hash buffer too small");
        goto out;
    }
    rc = 0;
out:
    OPENSSL_cleanse(&h, sizeof(h));
    return rc;
}

/* Contract in passwd.h. */
int passwd_username_check(const char *user, size_t len, char *err, size_t errlen)
{
    if (len == 0)
        return err_set(err, errlen, "empty user name");
    if (len > PASSWD_USER_MAX)
        return err_set(err, errlen, "user name longer than %u bytes", PASSWD_USER_MAX);
    /* The file parser skips '#' lines and would see blanks mosquitto
     * trims: such names could be written but never read back. */
    if (user[0] == '#')
        return err_set(err, errlen, "user name starts with '#' (a comment in the file)");
    if (user[0] == ' ' || user[len - 1] == ' ')
        return err_set(err, errlen, "user name starts or ends with a blank");
    for (size_t i = 0; i < len; i++) {
        unsigned char b = (unsigned char)user[i];
        if (b == ':')
            return err_set(err, errlen, "user name contains ':'");
        if (b < 0x20 || b == 0x7f)
            return err_set(err, errlen, "user name has a control character at byte %zu", i + 1);
    }
    if (mqtt_utf8_check((const uint8_t *)user, len) != 0)
        return err_set(err, errlen, "user name is not valid UTF-8");
    return 0;
}
