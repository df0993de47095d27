/* Closing live connections on an operator's or a policy's order: by
 * client id, by source CIDR. */
#ifndef MOAT_BROKER_KICK_H
#define MOAT_BROKER_KICK_H

#include <stddef.h>
#include <stdint.h>

struct engine;
struct moat_cidr;

/* Returns the number of connections closed. reason goes into the log. */
size_t kick_client_id(struct engine *e, const char *id, size_t len, const char *reason);
size_t kick_cidr(struct engine *e, const struct moat_cidr *c, const char *reason);
size_t kick_username(struct engine *e, const char *user, size_t len, const char *reason);

#endif
