/* clientid patterns: '*' matches any run of bytes, %u the user name,
 * backslash escapes '*', '%' and '\'; everything else is literal. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "auth/acl_internal.h"
#include "mqtt/topic.h"


/* Contract in acl_internal.h. Tokens never outnumber input bytes, and
 * literal bytes never outnumber them either, so both arrays are sized by
 * len up front. Consecutive stars collapse into one. */
int acl_cidpat_compile(const char *s, size_t len, struct acl_cidpat *out, char *err,
                       size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (len == 0)
        return err_set(err, errlen, "clientid: empty pattern");
    if (len > 65535)
        return err_set(err, errlen, "clientid: pattern longer than 65535 bytes");
    if (mqtt_utf8_check((const uint8_t *)s, len) != 0)
        return err_set(err, errlen, "clientid: pattern is not valid UTF-8");
    out->text = malloc(len);
    out->toks = malloc(len * sizeof(*out->toks));
    if (!out->text || !out->toks) {
        acl_cidpat_free(out);
        return err_set(err, errlen, "out of memory");
    }
    size_t t = 0;
    uint32_t tl = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f) {
            acl_cidpat_free(out);
            return err_set(err, errlen, "clientid: control character at byte %zu", i + 1);
        }
        if (c == '*' || (c == '%' && i + 1 < len && s[i + 1] == 'u')) {
            uint8_t kind = c == '*' ? CID_STAR : CID_USER;
            if (kind == CID_USER) {
                i++;
                out->uses_u = true;
            }
            if (kind == CID_STAR && t > 0 && out->toks[t - 1].kind == CID_STAR)
                continue;
            out->toks[t++] = (struct acl_cid_tok){ .kind = kind };
            continue;
        }
        if (c == '\\') {
            if (i + 1 == len || (s[i + 1] != '*' && s[i + 1] != '%' && s[i + 1] != '\\')) {
                acl_cidpat_free(out);
                return err_set(err, errlen,
                            "clientid: '\\' at byte %zu must precede '*', '%%' or '\\'",
                            i + 1);
            }
            c = (unsigned char)s[++i];
        }
        if (t > 0 && out->toks[t - 1].kind == CID_LIT) {
            out->toks[t - 1].len++;
        } else {
            out->toks[t++] = (struct acl_cid_tok){ .kind = CID_LIT, .off = tl, .len = 1 };
        }
        out->text[tl++] = (char)c;
    }
    out->ntoks = t;
    return 0;
}

/* Contract in acl_internal.h. Glob matching with backtracking to the last
 * star only: every other token matches a fixed string (a literal or the
 * user name), for which that is complete. O(tokens * clen). */
bool acl_cidpat_match(const struct acl_cidpat *p, const char *user, const char *cid,
                      size_t clen)
{
    size_t ulen = user ? strlen(user) : 0;
    size_t ti = 0, ci = 0, star_t = SIZE_MAX, star_c = 0;

    if (p->uses_u && !user)
        return false;
    for (;;) {
        if (ti < p->ntoks && p->toks[ti].kind == CID_STAR) {
            star_t = ti++;
            star_c = ci;
            continue;
        }
        if (ti < p->ntoks) {
            const struct acl_cid_tok *k = &p->toks[ti];
            const char *v = k->kind == CID_LIT ? p->text + k->off : user;
            size_t vl = k->kind == CID_LIT ? k->len : ulen;
            if (clen - ci >= vl && (vl == 0 || memcmp(cid + ci, v, vl) == 0)) {
                ci += vl;
                ti++;
                continue;
            }
        } else if (ci == clen) {
            return true;
        }
        if (star_t == SIZE_MAX || star_c >= clen)
            return false;
        ci = ++star_c;
        ti = star_t + 1;
    }
}

void acl_cidpat_free(struct acl_cidpat *p)
{
    free(p->text);
    free(p->toks);
    p->text = NULL;
    p->toks = NULL;
}
