/* Sessions by client id: a chained hash table keyed with the engine's
 * random seed (client ids are peer-chosen). */
#include <stdlib.h>
#include <string.h>

#include "broker/engine.h"
#include "broker/session.h"
#include "util/hash.h"

static int table_grow(struct engine *e)
{
    uint32_t ncap = e->sess_cap ? e->sess_cap * 2 : 256;
    struct session **nt = calloc(ncap, sizeof *nt);
    if (!nt)
        return -1;
    for (uint32_t i = 0; i < e->sess_cap; i++)
        for (struct session *s = e->sess_tab[i], *nx; s; s = nx) {
            nx = s->hnext;
            s->hnext = nt[s->hash & (ncap - 1)];
            nt[s->hash & (ncap - 1)] = s;
        }
    free(e->sess_tab);
    e->sess_tab = nt;
    e->sess_cap = ncap;
    return 0;
}

struct session *session_find(struct engine *e, const uint8_t *id, uint16_t len)
{
    if (!e->sess_cap)
        return NULL;
    uint64_t h = moat_hash(e->seed, id, len);
    for (struct session *s = e->sess_tab[h & (e->sess_cap - 1)]; s; s = s->hnext)
        if (s->hash == h && s->id_len == len && !memcmp(s->client_id, id, len))
            return s;
    return NULL;
}

struct session *session_create(struct engine *e, const uint8_t *id, uint16_t len, bool clean)
{
    if (e->n_sessions >= e->sess_cap && table_grow(e) < 0)
        return NULL;
    struct session *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->client_id = malloc((size_t)len + 1);
    if (!s->client_id) {
        free(s);
        return NULL;
    }
    memcpy(s->client_id, id, len);
    s->client_id[len] = 0;
    s->id_len = len;
    s->clean = clean;
    s->next_pid = 1;
    s->hash = moat_hash(e->seed, id, len);
    uint32_t b = (uint32_t)(s->hash & (e->sess_cap - 1));
    s->hnext = e->sess_tab[b];
    e->sess_tab[b] = s;
    e->n_sessions++;
    return s;
}

void session_unlink(struct engine *e, struct session *s)
{
    struct session **pp = &e->sess_tab[s->hash & (e->sess_cap - 1)];
    while (*pp && *pp != s)
        pp = &(*pp)->hnext;
    if (*pp) {
        *pp = s->hnext;
        e->n_sessions--;
    }
}
