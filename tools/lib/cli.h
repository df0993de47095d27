/* Small helpers shared by moat's CLI tools: strict number parsing and JSON
 * string output. No global state. */
#ifndef MOAT_TOOLS_CLI_H
#define MOAT_TOOLS_CLI_H

#include <stdint.h>
#include <stdio.h>

/* Parses a decimal unsigned number in [0, max]: digits only, no sign, no
 * blanks. Returns 0, or -1 (out untouched). */
int cli_parse_u32(const char *s, uint32_t max, uint32_t *out);

/* Writes s as a JSON string literal (quotes included, control characters
 * and non-ASCII bytes escaped as \u00XX). */
void cli_json_str(FILE *f, const char *s);

#endif
