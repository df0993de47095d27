/* Strict base64 codec for password hash fields. */
#include "auth/b64.h"

static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Contract in b64.h. */
long auth_b64_decode(const char *s, size_t len, uint8_t *out, size_t cap)
{
    size_t pad = 0, n = 0;
    uint32_t acc = 0;
    unsigned bits = 0;

    if (len >= 1 && s[len - 1] == '=')
        pad++;
    if (len >= 2 && s[len - 2] == '=')
        pad++;
    if (pad && len % 4 != 0)
        return -1;               /* padding only completes a quantum */
    len -= pad;
    if (len % 4 == 1)
        return -1;               /* 6 bits cannot end a byte */
    for (size_t i = 0; i < len; i++) {
        int v = value(s[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n >= cap)
                return -1;
            out[n++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0)
        return -1;               /* non-canonical: leftover bits set */
    return (long)n;
}

/* Contract in b64.h. */
long auth_b64_encode(const uint8_t *in, size_t len, int pad, char *out, size_t cap)
{
    size_t n = 0;
    size_t i = 0;

    if (len > (SIZE_MAX / 4) - 4)
        return -1;
    size_t need = (len / 3) * 4 + (len % 3 ? (pad ? 4 : len % 3 + 1) : 0) + 1;
    if (need > cap)
        return -1;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[n++] = alphabet[v >> 18];
        out[n++] = alphabet[(v >> 12) & 63];
        out[n++] = alphabet[(v >> 6) & 63];
        out[n++] = alphabet[v & 63];
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[n++] = alphabet[v >> 18];
        out[n++] = alphabet[(v >> 12) & 63];
        if (pad) {
            out[n++] = '=';
            out[n++] = '=';
        }
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[n++] = alphabet[v >> 18];
        out[n++] = alphabet[(v >> 12) & 63];
        out[n++] = alphabet[(v >> 6) & 63];
        if (pad)
            out[n++] = '=';
    }
    out[n] = '\0';
    return (long)n;
}
