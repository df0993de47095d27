/* TLS listeners: OpenSSL 3 handshakes on the worker pool, then the
 * connection is handed to the engine on kernel TLS (kTLS) or, where the
 * kernel or cipher cannot, userspace TLS. The engine sees only a
 * transport table. */
#ifndef MOAT_TLS_H
#define MOAT_TLS_H

#include <stddef.h>

struct engine;
struct listener;
struct listener_conf;
struct tls_listener;

/* Builds the TLS context for a listener that has certfile/keyfile.
 * Returns NULL with "FILE:LINE: ..." in err. */
struct tls_listener *tls_listener_new(struct engine *e, const struct listener_conf *lc,
                                      char *err, size_t errlen);
/* Takes ownership of an accepted, non-blocking TCP socket: the handshake
 * runs off the engine thread; on success engine_adopt() receives it. */
void tls_listener_accept(struct tls_listener *tl, int fd, const struct listener *lst);
/* Re-reads certificates, keys, CA and CRLs into a fresh context for new
 * handshakes. Returns 0, or -1 with err (the old context stays). */
int  tls_listener_reload(struct tls_listener *tl, char *err, size_t errlen);
void tls_listener_free(struct tls_listener *tl);

#endif
