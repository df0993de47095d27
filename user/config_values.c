/* Value parsers for configuration keys: numbers, booleans, durations, ports,
 * host names, strings. Every one is strict: the whole token must match. */
#include "config_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cfg_error(struct cfg_parser *p, const char *key, const char *fmt, ...)
{
    if (!p->err || !p->errlen)
        return -1;
    int n;
    if (key)
        n = snprintf(p->err, p->errlen, "%s:%d: key '%s': ", p->file ? p->file : "?", p->line, key);
    else
        n = snprintf(p->err, p->errlen, "%s:%d: ", p->file ? p->file : "?", p->line);
    if (n < 0 || (size_t)n >= p->errlen)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

/* Decimal digits only: no sign, no spaces, no 0x (strtoull would take them). */
int cfg_parse_uint(struct cfg_parser *p, const char *key, const char *s,
                   uint64_t min, uint64_t max, uint64_t *out)
{
    size_t len = strlen(s);
    if (len == 0 || len > 20)
        goto bad;
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            goto bad;
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno == ERANGE || !end || *end)
        goto bad;
    if (v < min || v > max)
        return cfg_error(p, key, "value %s out of range %llu..%llu", s,
                         (unsigned long long)min, (unsigned long long)max);
    *out = v;
    return 0;
bad:
    return cfg_error(p, key, "'%s' is not a decimal number", s);
}

/* mosquitto's conf__parse_bool takes true/false and 1/0; so does moat, so
 * that every file mosquitto accepts means the same here. */
int cfg_parse_bool(struct cfg_parser *p, const char *key, const char *s, bool *out)
{
    if (!strcmp(s, "true") || !strcmp(s, "1")) {
        *out = true;
        return 0;
    }
    if (!strcmp(s, "false") || !strcmp(s, "0")) {
        *out = false;
        return 0;
    }
    return cfg_error(p, key, "'%s' is not a boolean (true or false)", s);
}

/* mosquitto duration: N followed by h d w m y (m = 30 days, y = 365 days).
 * A bare number or seconds are refused, as mosquitto does. */
int cfg_parse_duration(struct cfg_parser *p, const char *key, const char *s, uint32_t *out)
{
    size_t len = strlen(s);
    uint64_t mult;
    if (len < 2 || len > 16)
        goto bad;
    switch (s[len - 1]) {
    case 'h': mult = 3600; break;
    case 'd': mult = 86400; break;
    case 'w': mult = 86400ull * 7; break;
    case 'm': mult = 86400ull * 30; break;
    case 'y': mult = 86400ull * 365; break;
    default: goto bad;
    }
    char num[17];
    memcpy(num, s, len - 1);
    num[len - 1] = '\0';
    for (size_t i = 0; i + 1 < len; i++)
        if (num[i] < '0' || num[i] > '9')
            goto bad;
    errno = 0;
    unsigned long long v = strtoull(num, NULL, 10);
    if (errno == ERANGE || v == 0 || v > UINT32_MAX / mult)
        return cfg_error(p, key, "duration '%s' out of range (1 hour .. about 136 years)", s);
    *out = (uint32_t)(v * mult);
    return 0;
bad:
    return cfg_error(p, key, "'%s' is not a duration (a number followed by h, d, w, m or y, e.g. 14d)", s);
}

int cfg_parse_port(struct cfg_parser *p, const char *key, const char *s, uint16_t *out)
{
    uint64_t v;
    if (!strcmp(s, "0"))
        return cfg_error(p, key, "port 0 means a unix socket in mosquitto, which moat does not support");
    if (cfg_parse_uint(p, key, s, 1, 65535, &v))
        return -1;
    *out = (uint16_t)v;
    return 0;
}

/* An IPv4 or IPv6 literal, or a host name (RFC 1123 letters, digits, '-',
 * dots). Names are resolved when the listener starts, not here. */
int cfg_check_host(struct cfg_parser *p, const char *key, const char *s)
{
    unsigned char buf[16];
    if (inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1)
        return 0;
    size_t len = strlen(s), label = 0;
    if (len == 0 || len > 253)
        goto bad;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '.') {
            if (label == 0 || s[i - 1] == '-')
                goto bad;
            label = 0;
            continue;
        }
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  (c == '-' && label > 0);
        if (!ok || ++label > 63)
            goto bad;
    }
    if (s[len - 1] == '-' || s[len - 1] == '.')
        goto bad;
    /* an all-numeric last label is a mistyped address, not a name */
    size_t last = len;
    while (last && s[last - 1] != '.')
        last--;
    if (strspn(s + last, "0123456789") == len - last)
        goto bad;
    return 0;
bad:
    return cfg_error(p, key, "'%s' is not an IPv4/IPv6 address or host name", s);
}

/* Strings must be valid UTF-8 without control characters (mosquitto checks
 * UTF-8 too). " #" inside a value is refused: mosquitto would keep the
 * would-be comment as part of the value. */
int cfg_check_string(struct cfg_parser *p, const char *key, const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, len = strlen(s);
    if (len == 0)
        return cfg_error(p, key, "empty value");
    while (i < len) {
        unsigned char c = u[i];
        size_t n;
        uint32_t cp;
        if (c < 0x80) {
            if (c < 0x20 && c != '\t')
                return cfg_error(p, key, "control character in value");
            if (c == 0x7f)
                return cfg_error(p, key, "control character in value");
            if (c == '#' && i > 0 && (u[i - 1] == ' ' || u[i - 1] == '\t'))
                return cfg_error(p, key, "'#' inside a value: comments must start a line");
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) { n = 1; cp = c & 0x1f; }
        else if (c >= 0xe0 && c <= 0xef) { n = 2; cp = c & 0x0f; }
        else if (c >= 0xf0 && c <= 0xf4) { n = 3; cp = c & 0x07; }
        else goto bad;
        if (len - i <= n)
            goto bad;
        for (size_t j = 1; j <= n; j++) {
            if ((u[i + j] & 0xc0) != 0x80)
                goto bad;
            cp = (cp << 6) | (u[i + j] & 0x3f);
        }
        /* overlong, surrogates, beyond U+10FFFF */
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
            goto bad;
        i += n + 1;
    }
    return 0;
bad:
    return cfg_error(p, key, "malformed UTF-8 in value");
}

int cfg_set_string(struct cfg_parser *p, const char *key, char **field, const char *s)
{
    if (cfg_check_string(p, key, s))
        return -1;
    if (*field)
        return cfg_error(p, key, "given twice (already '%s')", *field);
    *field = strdup(s);
    if (!*field)
        return cfg_error(p, key, "out of memory");
    return 0;
}

void cfg_store_uint(void *field, size_t size, uint64_t v)
{
    switch (size) {
    case 1: { uint8_t x = (uint8_t)v; memcpy(field, &x, 1); break; }
    case 2: { uint16_t x = (uint16_t)v; memcpy(field, &x, 2); break; }
    case 4: { uint32_t x = (uint32_t)v; memcpy(field, &x, 4); break; }
    default: memcpy(field, &v, 8); break;
    }
}
