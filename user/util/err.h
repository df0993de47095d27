/* Error messages into a caller's buffer: every layer reports "what failed"
 * the same way (char *err, size_t errlen) and returns -1. */
#ifndef MOAT_UTIL_ERR_H
#define MOAT_UTIL_ERR_H

#include <stddef.h>

/* Formats into err (when err and errlen are set); always returns -1. */
__attribute__((format(printf, 3, 4)))
int err_set(char *err, size_t errlen, const char *fmt, ...);

#endif
