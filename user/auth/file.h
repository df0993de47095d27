/* Whole-file reads for the password and ACL loaders. */
#ifndef MOAT_AUTH_FILE_H
#define MOAT_AUTH_FILE_H

#include <stddef.h>

/* Reads a whole regular file of at most max bytes from fd into a new
 * malloc'd buffer (*out, *outlen; NUL-terminated). Returns 0, or -1 with
 * errno (EINVAL: not a regular file, EFBIG: larger than max). */
int auth_read_fd(int fd, size_t max, char **out, size_t *outlen);

#endif
