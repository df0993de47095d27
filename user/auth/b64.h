/* Strict base64 (RFC 4648 standard alphabet) for password hashes: padded as
 * mosquitto_passwd writes it, or unpadded as PHC strings (argon2) use it.
 * Pure code, no allocation. */
#ifndef MOAT_AUTH_B64_H
#define MOAT_AUTH_B64_H

#include <stddef.h>
#include <stdint.h>

/* Decodes s[0..len) into out (capacity cap). Accepts canonical input only:
 * alphabet A-Z a-z 0-9 + /, '=' padding either complete (len % 4 == 0) or
 * absent, unused trailing bits zero, no whitespace. Returns the number of
 * bytes written, or -1 if the input is malformed or does not fit in cap. */
long auth_b64_decode(const char *s, size_t len, uint8_t *out, size_t cap);

/* Encodes in[0..len) into out (capacity cap, NUL-terminated), with or
 * without '=' padding. Returns the text length, or -1 if cap is too small. */
long auth_b64_encode(const uint8_t *in, size_t len, int pad, char *out, size_t cap);

#endif
