/* Placeholder until the TLS listener lands: refuses TLS listeners with a
 * clear error so a configuration asking for TLS never runs in plaintext. */
#include "tls/tls.h"

#include <stdio.h>

#include "config.h"

struct tls_listener *tls_listener_new(struct engine *e, const struct listener_conf *lc,
                                      char *err, size_t errlen)
{
    snprintf(err, errlen, "%s:%d: listener %u: TLS is not available in this build yet",
             lc->file ? lc->file : "?", lc->line, lc->port);
    return NULL;
}

void tls_listener_accept(struct tls_listener *tl, int fd, const struct listener *lst) {}
int  tls_listener_reload(struct tls_listener *tl, char *err, size_t errlen) { return 0; }
void tls_listener_free(struct tls_listener *tl) {}
