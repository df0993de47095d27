#include "broker/kick.h"

#include <netinet/in.h>
#include <string.h>

#include "broker/conn.h"
#include "broker/engine.h"
#include "broker/session.h"
#include "xdp/cidr.h"

size_t kick_client_id(struct engine *e, const char *id, size_t len, const char *reason)
{
    if (len > UINT16_MAX)
        return 0;
    struct session *s = session_find(e, (const uint8_t *)id, (uint16_t)len);
    if (!s || !s->conn)
        return 0;
    conn_close(s->conn, true, reason);
    return 1;
}

size_t kick_cidr(struct engine *e, const struct moat_cidr *c, const char *reason)
{
    size_t n = 0;
    for (struct conn *x = e->conns, *nx; x; x = nx) {
        nx = x->next;       /* conn_close unlinks x, never nx */
        int fam = x->peer.family == AF_INET ? 4 : x->peer.family == AF_INET6 ? 6 : 0;
        if (fam && moat_cidr_contains(c, fam, x->peer.addr)) {
            conn_close(x, true, reason);
            n++;
        }
    }
    return n;
}

size_t kick_username(struct engine *e, const char *user, size_t len, const char *reason)
{
    size_t n = 0;
    for (struct conn *x = e->conns, *nx; x; x = nx) {
        nx = x->next;
        if (x->s && x->s->username && strlen(x->s->username) == len &&
            !memcmp(x->s->username, user, len)) {
            conn_close(x, true, reason);
            n++;
        }
    }
    return n;
}
