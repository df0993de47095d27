/* CIDR, duration and reason parsing for moatctl and moatd (pure code). */
#include "util/err.h"
#include "xdp/cidr.h"
#include "moat_abi.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>


/* Copies s into buf if it fits; quoting in messages uses this bounded copy. */
static int bounded_copy(char *buf, size_t buflen, const char *s)
{
    size_t n = strnlen(s, buflen);
    if (n >= buflen)
        return -1;
    memcpy(buf, s, n + 1);
    return 0;
}

int moat_cidr_parse(const char *s, struct moat_cidr *out, char *err, size_t errlen)
{
    char buf[MOAT_CIDR_STRLEN];
    if (!s || !*s)
        return err_set(err, errlen, "empty address");
    if (bounded_copy(buf, sizeof(buf), s) < 0)
        return err_set(err, errlen, "address too long (max %d characters)", MOAT_CIDR_STRLEN - 1);

    char *slash = strchr(buf, '/');
    const char *len_txt = NULL;
    if (slash) {
        *slash = '\0';
        len_txt = slash + 1;
    }
    struct moat_cidr c;
    memset(&c, 0, sizeof(c));
    unsigned maxlen;
    if (strchr(buf, ':')) {
        if (inet_pton(AF_INET6, buf, c.addr) != 1)
            return err_set(err, errlen, "'%s': not an IPv6 address", buf);
        c.family = 6;
        maxlen = 128;
    } else {
        if (inet_pton(AF_INET, buf, c.addr) != 1)
            return err_set(err, errlen, "'%s': not an IPv4 address (a.b.c.d)", buf);
        c.family = 4;
        maxlen = 32;
    }
    unsigned len = maxlen;
    if (len_txt) {
        size_t n = strlen(len_txt);
        if (n == 0 || n > 3)
            return err_set(err, errlen, "prefix length '%s': expected 1-3 digits", len_txt);
        len = 0;
        for (size_t i = 0; i < n; i++) {
            if (len_txt[i] < '0' || len_txt[i] > '9')
                return err_set(err, errlen, "prefix length '%s': not a decimal number", len_txt);
            len = len * 10 + (unsigned)(len_txt[i] - '0');
        }
        if (n > 1 && len_txt[0] == '0')
            return err_set(err, errlen, "prefix length '%s': leading zero", len_txt);
        if (len > maxlen)
            return err_set(err, errlen, "prefix length '%s': IPv%d allows 0-%u", len_txt,
                        c.family, maxlen);
    }
    c.prefixlen = (uint8_t)len;
    /* Host bits must be clear: "10.0.0.5/8" is almost always a typo. */
    struct moat_cidr net = c;
    unsigned bytes = maxlen / 8;
    for (unsigned i = 0; i < bytes; i++) {
        unsigned bit = i * 8;
        if (bit >= len)
            net.addr[i] = 0;
        else if (len - bit < 8)
            net.addr[i] &= (uint8_t)(0xffu << (8 - (len - bit)));
    }
    if (memcmp(net.addr, c.addr, sizeof(c.addr)) != 0) {
        char want[MOAT_CIDR_STRLEN];
        moat_cidr_format(&net, want, sizeof(want));
        return err_set(err, errlen, "host bits set; did you mean %s?", want);
    }
    *out = c;
    return 0;
}

char *moat_cidr_format(const struct moat_cidr *c, char *buf, size_t buflen)
{
    char a[INET6_ADDRSTRLEN] = "?";
    inet_ntop(c->family == 6 ? AF_INET6 : AF_INET, c->addr, a, sizeof(a));
    snprintf(buf, buflen, "%s/%u", a, (unsigned)c->prefixlen);
    return buf;
}

int moat_cidr_contains(const struct moat_cidr *c, int family, const uint8_t *addr)
{
    if (family != c->family)
        return 0;
    unsigned len = c->prefixlen;
    for (unsigned i = 0; i * 8 < len; i++) {
        unsigned left = len - i * 8;
        uint8_t mask = left >= 8 ? 0xff : (uint8_t)(0xffu << (8 - left));
        if ((addr[i] & mask) != (c->addr[i] & mask))
            return 0;
    }
    return 1;
}

int moat_duration_parse(const char *s, uint64_t *ns, char *err, size_t errlen)
{
    if (!s || !*s)
        return err_set(err, errlen, "empty duration");
    uint64_t total = 0;
    const char *p = s;
    while (*p) {
        if (*p < '0' || *p > '9')
            return err_set(err, errlen, "duration '%s': expected a number (e.g. 10m, 1h30m, 7d)",
                        s);
        uint64_t v = 0;
        while (*p >= '0' && *p <= '9') {
            uint64_t d = (uint64_t)(*p - '0');
            if (v > (UINT64_MAX - d) / 10)
                return err_set(err, errlen, "duration '%s': too large", s);
            v = v * 10 + d;
            p++;
        }
        uint64_t unit;
        switch (*p) {
        case 's': unit = 1; p++; break;
        case 'm': unit = 60; p++; break;
        case 'h': unit = 3600; p++; break;
        case 'd': unit = 86400; p++; break;
        case '\0':
            if (strspn(s, "0123456789") == strlen(s)) {
                unit = 1;     /* bare number: seconds */
                break;
            }
            return err_set(err, errlen, "duration '%s': number without unit (s, m, h, d)", s);
        default:
            return err_set(err, errlen, "duration '%s': unknown unit (use s, m, h, d)", s);
        }
        const uint64_t sec_ns = 1000000000ull;
        if (v > UINT64_MAX / unit || v * unit > UINT64_MAX / sec_ns)
            return err_set(err, errlen, "duration '%s': too large", s);
        uint64_t add = v * unit * sec_ns;
        if (total > UINT64_MAX - add)
            return err_set(err, errlen, "duration '%s': too large", s);
        total += add;
    }
    if (total == 0)
        return err_set(err, errlen, "duration '%s': must be more than zero "
                    "(omit the TTL for a permanent entry)", s);
    *ns = total;
    return 0;
}

char *moat_duration_format(uint64_t ns, char *buf, size_t buflen)
{
    uint64_t s = ns / 1000000000ull;
    uint64_t d = s / 86400, h = (s / 3600) % 24, m = (s / 60) % 60, sec = s % 60;
    size_t off = 0;
    buf[0] = '\0';
    const uint64_t parts[4] = { d, h, m, sec };
    const char units[4] = { 'd', 'h', 'm', 's' };
    for (int i = 0; i < 4; i++) {
        if (parts[i] == 0 || off >= buflen)
            continue;
        int w = snprintf(buf + off, buflen - off, "%llu%c",
                         (unsigned long long)parts[i], units[i]);
        if (w < 0)
            break;
        off += (size_t)w;
    }
    if (buf[0] == '\0')
        snprintf(buf, buflen, "0s");
    return buf;
}

static const char *const reason_names[MOAT_REASON_MAX] = {
    [MOAT_REASON_MANUAL] = "manual",     [MOAT_REASON_SCANNER] = "scanner",
    [MOAT_REASON_FLOOD] = "flood",       [MOAT_REASON_AUTH] = "auth",
    [MOAT_REASON_PROTOCOL] = "protocol", [MOAT_REASON_OTHER] = "other",
};

int moat_reason_parse(const char *s, uint32_t *reason, char *err, size_t errlen)
{
    for (uint32_t i = 0; s && i < MOAT_REASON_MAX; i++) {
        if (strcmp(s, reason_names[i]) == 0) {
            *reason = i;
            return 0;
        }
    }
    char q[32];
    if (!s || bounded_copy(q, sizeof(q), s) < 0)
        snprintf(q, sizeof(q), "(too long)");
    if (err && errlen)
        snprintf(err, errlen, "reason '%s': use manual, scanner, flood, auth, protocol or other",
                 q);
    return -1;
}

const char *moat_reason_name(uint32_t reason)
{
    return reason < MOAT_REASON_MAX ? reason_names[reason] : "unknown";
}
