/* libFuzzer target for user/xdp/cidr.c: arbitrary bytes as CIDR, duration
 * and reason text. Invariants: no crash or over-read (ASan), and whatever
 * parses survives format -> parse unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xdp/cidr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char s[128];
    if (size >= sizeof(s))
        size = sizeof(s) - 1;
    memcpy(s, data, size);
    s[size] = '\0';
    char err[256];

    struct moat_cidr c, back;
    if (moat_cidr_parse(s, &c, err, sizeof(err)) == 0) {
        char txt[MOAT_CIDR_STRLEN];
        moat_cidr_format(&c, txt, sizeof(txt));
        if (moat_cidr_parse(txt, &back, err, sizeof(err)) != 0 ||
            memcmp(&c, &back, sizeof(c)) != 0)
            abort();
        if (!moat_cidr_contains(&c, c.family, c.addr))
            abort();
    } else if (err[0] == '\0') {
        abort();                      /* every failure explains itself */
    }

    uint64_t ns, ns2;
    if (moat_duration_parse(s, &ns, err, sizeof(err)) == 0) {
        char txt[64];
        moat_duration_format(ns, txt, sizeof(txt));
        if (moat_duration_parse(txt, &ns2, err, sizeof(err)) != 0 || ns2 != ns)
            abort();
    }
    uint32_t r;
    if (moat_reason_parse(s, &r, err, sizeof(err)) == 0 &&
        strcmp(moat_reason_name(r), s) != 0)
        abort();
    return 0;
}
