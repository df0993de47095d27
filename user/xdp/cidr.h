/* Pure parsers for what operators type: CIDRs, durations, block reasons.
 * No I/O, no global state; safe on untrusted input (fuzzed by
 * tests/fuzz/fuzz_cidr.c). */
#ifndef MOAT_XDP_CIDR_H
#define MOAT_XDP_CIDR_H

#include <stddef.h>
#include <stdint.h>

struct moat_cidr {
    uint8_t family;      /* 4 or 6 */
    uint8_t prefixlen;   /* 0..32 or 0..128 */
    uint8_t addr[16];    /* network byte order; v4 in addr[0..3]; host bits zero */
};

/* Longest accepted CIDR text ("ffff:...:ffff/128" plus slack). */
#define MOAT_CIDR_STRLEN 64

/* Parses "ADDR" or "ADDR/LEN" (IPv4 dotted quad or IPv6 text). A bare
 * address is a /32 or /128. LEN is 1-3 decimal digits, no sign, in range.
 * Host bits set beyond LEN are an error (the message names the network
 * meant). s may be any bytes up to NUL. Returns 0 and fills out, or -1
 * with a message in err (out untouched). */
int moat_cidr_parse(const char *s, struct moat_cidr *out, char *err, size_t errlen);

/* Writes "ADDR/LEN" into buf (at least MOAT_CIDR_STRLEN bytes). Returns buf. */
char *moat_cidr_format(const struct moat_cidr *c, char *buf, size_t buflen);

/* Returns 1 if addr (family 4 or 6, network order) lies inside c. */
int moat_cidr_contains(const struct moat_cidr *c, int family, const uint8_t *addr);

/* Parses a duration: one or more NUMBER UNIT groups, units s, m, h, d
 * ("90s", "10m", "1h30m", "7d"); a bare number is seconds. Zero, overflow
 * past UINT64_MAX ns, empty input, unknown units or junk are errors.
 * Returns 0 and sets *ns, or -1 with a message in err. */
int moat_duration_parse(const char *s, uint64_t *ns, char *err, size_t errlen);

/* Formats ns as "1h2m3s" (largest units first, zero groups omitted; "0s"
 * for less than a second). Returns buf. */
char *moat_duration_format(uint64_t ns, char *buf, size_t buflen);

/* Block reason names: manual, scanner, flood, auth, protocol, other. */
int         moat_reason_parse(const char *s, uint32_t *reason, char *err, size_t errlen);
const char *moat_reason_name(uint32_t reason);   /* "unknown" if out of range */

#endif
