/* moatd's control socket: a UNIX stream socket (owner-only) where moatctl
 * sends one command line and reads one reply line ("ok [...]" or
 * "error ..."). The protocol is in docs/moatctl.md. */
#ifndef MOAT_CTL_CONTROL_H
#define MOAT_CTL_CONTROL_H

#include <stddef.h>

struct engine;
struct control;

/* Binds path (its directory is created 0700 if missing; a stale socket is
 * replaced, a live one is an error). NULL with err on failure; errno is
 * EADDRINUSE when another moatd answers there. */
struct control *control_open(struct engine *e, const char *path, char *err, size_t errlen);
void control_close(struct control *ctl);

/* Executes one command line; writes the reply (without newline) into a
 * heap buffer the caller frees. Pure dispatch, for tests. */
char *control_exec(struct engine *e, const char *line);

#endif
