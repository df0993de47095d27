/* libFuzzer target for user/auth/passwd_table.c, passwd_hash.c, b64.c:
 * arbitrary bytes as a password file. Invariants: no crash, leak or
 * over-read (ASan/UBSan); a refusal always explains itself as
 * "NAME:LINE: ..." or "NAME: ..."; every accepted entry can be looked up
 * and, when cheap, verified; base64 decode/encode round-trips. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/b64.h"
#include "auth/passwd_internal.h"

static bool cheap(const struct passwd_hash *h)
{
    switch (h->scheme) {
    case PASSWD_SHA512:
        return true;
    case PASSWD_PBKDF2_SHA512:
        return h->iterations <= 16;
    case PASSWD_ARGON2ID:
        return h->m_kib <= 64 && h->t_cost <= 2;
    default:
        return false;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512] = "";
    struct passwd_table *t = passwd_parse("f", (const char *)data, size, err, sizeof(err));

    if (!t) {
        if (strncmp(err, "f:", 2) != 0)
            abort();
    } else {
        for (size_t i = 0; i < t->n; i++) {
            const struct passwd_entry *e = &t->entries[i];
            if (passwd_lookup(t, e->user, e->user_len) != e || !passwd_entry_known(e))
                abort();
            if (cheap(&e->h))
                (void)passwd_verify(e, data, size > 64 ? 64 : size);
        }
        if (passwd_entry_known(passwd_lookup(t, "\x01", 1)))
            abort();                   /* control chars never load */
        passwd_table_unref(t);
    }

    uint8_t bin[256];
    char txt[512];
    long n = auth_b64_decode((const char *)data, size, bin, sizeof(bin));
    if (n >= 0) {
        /* Canonical input re-encodes to itself, with '=' iff it had it. */
        int pad = size > 0 && data[size - 1] == '=';
        long m = auth_b64_encode(bin, (size_t)n, pad, txt, sizeof(txt));
        if (m < 0 || (size_t)m != size || memcmp(txt, data, size) != 0)
            abort();
    }
    return 0;
}
