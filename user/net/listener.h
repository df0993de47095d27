/* Listening sockets, one per `listener` line (IPv4 or IPv6). */
#ifndef MOAT_NET_LISTENER_H
#define MOAT_NET_LISTENER_H

#include <stddef.h>
#include <stdint.h>

#include "core/evloop.h"

struct listener_conf;
struct engine;
struct tls_listener;
struct auth_ctx;

struct listener {
    struct ev_handler ev;
    const struct listener_conf *conf;
    struct engine *eng;
    uint16_t port;          /* bound port (resolved when conf asks for 0) */
    uint64_t n_conns;       /* live connections, for max_connections */
    struct ev_timer pause;  /* accept paused after EMFILE/ENFILE */
    struct tls_listener *tls; /* NULL: plain TCP */
    struct auth_ctx *auth;    /* password file, ACL, anonymous policy */
};

/* Binds and listens (non-blocking, SO_REUSEADDR, IPV6_V6ONLY for IPv6
 * literals). Returns 0 or -1 with "FILE:LINE: listener ...: reason". */
int  listener_open(struct listener *l, const struct listener_conf *lc, char *err, size_t errlen);
void listener_close(struct listener *l);

#endif
