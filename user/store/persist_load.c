/* Opening the store at start and restoring its state into the engine:
 * bodies, then sessions (offline, subscriptions back in the tree), their
 * window and queue in stored order, incoming QoS 2 ids, retained
 * messages. Any record that does not open or parse stops the start. */
#include "store/persist.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "broker/engine.h"
#include "broker/msg.h"
#include "broker/session.h"
#include "config.h"
#include "mqtt/retain.h"
#include "mqtt/topic_tree.h"
#include "store/persist_internal.h"
#include "store/store.h"
#include "util/log.h"

#define DEFAULT_FILE "moat.lmdb"

struct loaded_body {
    uint64_t id;
    struct msg *m;
    struct pbody *pb;
};

struct load {
    struct engine *e;
    struct persist *p;
    struct loaded_body *b;
    size_t nb, capb;
    struct pshadow *sh;          /* session whose entries are read */
    struct pent *qpend;          /* queued entries, appended after in-flight ones */
    uint32_t nq, capq;
    uint64_t n_entries, n_sessions, n_retained;
};

static int body_cb(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl,
                   char *err, size_t errlen)
{
    struct load *L = arg;
    struct pcur c = { v, vl, false };
    uint8_t qos = pcur_u8(&c), retain = pcur_u8(&c);
    uint16_t tl = pcur_u16(&c);
    const uint8_t *topic = pcur_bytes(&c, tl);
    if (kl != 8 || c.bad || qos > 2 || retain > 1 || c.n > 0xffffffffu) {
        snprintf(err, errlen, "body record: malformed (%zu bytes)", vl);
        return -1;
    }
    if (L->nb == L->capb) {
        size_t ncap = L->capb ? L->capb * 2 : 64;
        struct loaded_body *nb = realloc(L->b, ncap * sizeof *nb);
        if (!nb)
            goto oom;
        L->b = nb;
        L->capb = ncap;
    }
    struct msg *m = msg_new(topic, tl, c.p, (uint32_t)c.n, qos, retain);
    if (!m)
        goto oom;
    L->b[L->nb++] = (struct loaded_body){ .id = get64(k), .m = m };
    return 0;
oom:
    snprintf(err, errlen, "out of memory loading bodies");
    return -1;
}

static struct loaded_body *find_body(struct load *L, uint64_t id)
{
    size_t lo = 0, hi = L->nb;        /* scanned in key order: sorted */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (L->b[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < L->nb && L->b[lo].id == id ? &L->b[lo] : NULL;
}

static int inf_push(struct session *s, struct msg *m, uint16_t pid, uint8_t qos, uint8_t state, bool retain)
{
    if (s->n_inf == 65535)
        return -1;
    if (s->n_inf == s->cap_inf) {
        uint32_t ncap = s->cap_inf ? (uint32_t)s->cap_inf * 2 : 4;
        if (ncap > 65535)
            ncap = 65535;
        struct inflight *ni = realloc(s->inf, ncap * sizeof *ni);
        if (!ni)
            return -1;
        s->inf = ni;
        s->cap_inf = (uint16_t)ncap;
    }
    s->inf[s->n_inf++] = (struct inflight){ .m = m ? msg_ref(m) : NULL, .pid = pid, .qos = qos,
                                            .state = state, .retain = retain };
    if (pid >= s->next_pid)
        s->next_pid = pid == 65535 ? 1 : (uint16_t)(pid + 1);
    return 0;
}

static int q_push(struct session *s, struct msg *m, uint8_t qos, bool retain)
{
    if (s->q_len == s->q_cap) {
        uint32_t ncap = s->q_cap ? s->q_cap * 2 : 8;
        struct qentry *nq = realloc(s->q, ncap * sizeof *nq);   /* head is 0 while loading */
        if (!nq)
            return -1;
        s->q = nq;
        s->q_cap = ncap;
    }
    s->q[s->q_len++] = (struct qentry){ .m = msg_ref(m), .qos = qos, .retain = retain };
    s->q_bytes += m->payload_len;
    return 0;
}

static int entry_cb(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl,
                    char *err, size_t errlen)
{
    struct load *L = arg;
    struct session *s = L->sh->s;
    struct pcur c = { v, vl, false };
    uint64_t bid = pcur_u64(&c);
    uint8_t qos = pcur_u8(&c), retain = pcur_u8(&c), state = pcur_u8(&c);
    uint16_t pid = pcur_u16(&c);
    if (kl != REC_HASH_LEN + 8 || c.bad || c.n || qos > 2 || retain > 1) {
        snprintf(err, errlen, "entry record of session '%s': malformed", s->client_id);
        return -1;
    }
    uint64_t seq = get64(k + REC_HASH_LEN);
    struct loaded_body *b = bid ? find_body(L, bid) : NULL;
    bool inflight = state != PERSIST_QUEUED;
    if (inflight && (state > INF_WAIT_PUBCOMP || !pid || (state != INF_WAIT_PUBCOMP && !b) ||
                     (state == INF_WAIT_PUBACK) != (qos == 1) || !qos)) {
        snprintf(err, errlen, "entry %llu of session '%s': inconsistent in-flight state %u (qos %u, pid %u, body %llu%s)",
                 (unsigned long long)seq, s->client_id, state, qos, pid, (unsigned long long)bid,
                 bid && !b ? " missing" : "");
        return -1;
    }
    if (!inflight && !b) {
        snprintf(err, errlen, "entry %llu of session '%s': queued message names missing body %llu",
                 (unsigned long long)seq, s->client_id, (unsigned long long)bid);
        return -1;
    }
    if (b && !b->pb && !(b->pb = pbody_add(L->p, b->m, b->id)))
        goto oom;
    struct pent pe = { .seq = seq, .b = state == INF_WAIT_PUBCOMP ? NULL : (b ? b->pb : NULL) };
    if (pe.b)
        pe.b->refs++;
    if (seq >= L->sh->next_seq)
        L->sh->next_seq = seq + 1;
    L->n_entries++;
    if (inflight) {
        if (inf_push(s, state == INF_WAIT_PUBCOMP ? NULL : b->m, pid, qos, state, retain) < 0 ||
            pent_push(L->sh, pe.seq, pe.b) < 0)
            goto oom;
        return 0;
    }
    if (q_push(s, b->m, qos, retain) < 0)
        goto oom;
    if (L->nq == L->capq) {
        uint32_t ncap = L->capq ? L->capq * 2 : 16;
        struct pent *np = realloc(L->qpend, ncap * sizeof *np);
        if (!np)
            goto oom;
        L->qpend = np;
        L->capq = ncap;
    }
    L->qpend[L->nq++] = pe;
    return 0;
oom:
    snprintf(err, errlen, "out of memory loading session '%s'", s->client_id);
    return -1;
}

static int rx2_cb(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl,
                  char *err, size_t errlen)
{
    struct load *L = arg;
    if (kl != REC_HASH_LEN + 2 || vl) {
        snprintf(err, errlen, "rx2 record of session '%s': malformed", L->sh->s->client_id);
        return -1;
    }
    uint16_t pid = (uint16_t)(k[REC_HASH_LEN] << 8 | k[REC_HASH_LEN + 1]);
    if (session_rx2_add(L->sh->s, pid) < 0) {
        snprintf(err, errlen, "out of memory loading session '%s'", L->sh->s->client_id);
        return -1;
    }
    return 0;
}

static int sess_cb(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl,
                   char *err, size_t errlen)
{
    struct load *L = arg;
    struct engine *e = L->e;
    struct pcur c = { v, vl, false };
    uint16_t idl = pcur_u16(&c);
    const uint8_t *id = pcur_bytes(&c, idl);
    uint32_t ns = pcur_u32(&c);
    if (c.bad || !idl || kl != REC_HASH_LEN) {
        snprintf(err, errlen, "session record: malformed");
        return -1;
    }
    uint8_t h[REC_HASH_LEN];
    rec_hash(store_key(L->p->st), id, idl, h);
    if (memcmp(h, k, REC_HASH_LEN)) {
        snprintf(err, errlen, "session record: key does not match its client id");
        return -1;
    }
    if (session_find(e, id, idl)) {
        snprintf(err, errlen, "session '%.*s' stored twice", (int)idl, (const char *)id);
        return -1;
    }
    struct session *s = session_create(e, id, idl, false);
    struct pshadow *sh = s ? pshadow_add(L->p, s) : NULL;
    if (!sh)
        goto oom;
    s->offline_since_ms = ev_now_ms(e->el);
    for (uint32_t i = 0; i < ns; i++) {
        uint16_t fl = pcur_u16(&c);
        uint8_t q = pcur_u8(&c);
        const uint8_t *f = pcur_bytes(&c, fl);
        if (c.bad || q > 2) {
            snprintf(err, errlen, "session '%s': malformed subscription %u", s->client_id, i);
            return -1;
        }
        if (session_sub_add(s, f, fl, q) < 0 || topic_tree_add(e->subs, f, fl, s, q) < 0)
            goto oom;
    }
    if (c.n) {
        snprintf(err, errlen, "session '%s': %zu trailing bytes", s->client_id, c.n);
        return -1;
    }
    L->sh = sh;
    L->nq = 0;
    if (store_scan(L->p->st, SDB_ENTRY, sh->h, sizeof sh->h, entry_cb, L, err, errlen) < 0 ||
        store_scan(L->p->st, SDB_RX2, sh->h, sizeof sh->h, rx2_cb, L, err, errlen) < 0)
        return -1;
    for (uint32_t i = 0; i < L->nq; i++)
        if (pent_push(sh, L->qpend[i].seq, L->qpend[i].b) < 0)
            goto oom;
    L->n_sessions++;
    return 0;
oom:
    snprintf(err, errlen, "out of memory loading sessions");
    return -1;
}

static int retain_cb(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl,
                     char *err, size_t errlen)
{
    struct load *L = arg;
    struct pcur c = { v, vl, false };
    uint8_t qos = pcur_u8(&c);
    uint16_t tl = pcur_u16(&c);
    const uint8_t *topic = pcur_bytes(&c, tl);
    if (c.bad || qos > 2 || !tl || !c.n || c.n > 0xffffffffu || kl != REC_HASH_LEN) {
        snprintf(err, errlen, "retained record: malformed");
        return -1;
    }
    struct msg *m = msg_new(topic, tl, c.p, (uint32_t)c.n, qos, true);
    if (!m) {
        snprintf(err, errlen, "out of memory loading retained messages");
        return -1;
    }
    struct msg *old = retain_set(L->e->retained, topic, tl, m);
    if (old == m) {
        msg_unref(m);
        snprintf(err, errlen, "out of memory loading retained messages");
        return -1;
    }
    msg_unref(old);
    L->n_retained++;
    return 0;
}

static int restore(struct engine *e, struct persist *p, char *err, size_t errlen)
{
    struct load L = { .e = e, .p = p };
    int r = -1;
    if (store_scan(p->st, SDB_BODY, NULL, 0, body_cb, &L, err, errlen) < 0 ||
        store_scan(p->st, SDB_SESS, NULL, 0, sess_cb, &L, err, errlen) < 0 ||
        store_scan(p->st, SDB_RETAIN, NULL, 0, retain_cb, &L, err, errlen) < 0)
        goto out;
    p->next_body = L.nb ? L.b[L.nb - 1].id + 1 : 1;
    /* Bodies no entry names (a unit refused after writing one): delete. */
    uint64_t orphans = 0;
    for (size_t i = 0; i < L.nb; i++)
        if (!L.b[i].pb) {
            uint8_t k[8];
            put64(k, L.b[i].id);
            store_del(p->st, SDB_BODY, k, sizeof k);
            orphans++;
        }
    if (store_dirty(p->st) && store_commit(p->st, err, errlen) < 0)
        goto out;
    log_notice("store %s: restored %llu sessions, %llu queued/in-flight messages (%zu bodies), "
               "%llu retained messages%s", store_path(p->st), (unsigned long long)L.n_sessions,
               (unsigned long long)L.n_entries, L.nb - (size_t)orphans,
               (unsigned long long)L.n_retained, store_key(p->st)->encrypted ? ", encrypted" : "");
    r = 0;
out:
    for (size_t i = 0; i < L.nb; i++)
        msg_unref(L.b[i].m);     /* sessions hold their own references */
    free(L.b);
    free(L.qpend);
    return r;
}

int persist_open(struct engine *e, char *err, size_t errlen)
{
    const struct moat_config *cfg = e->cfg;
    if (!cfg->persistence)
        return 0;
    const char *dir = cfg->persistence_location && *cfg->persistence_location
                      ? cfg->persistence_location : ".";
    const char *file = cfg->persistence_file && *cfg->persistence_file ? cfg->persistence_file : DEFAULT_FILE;
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s%s%s", dir,
                         dir[strlen(dir) - 1] == '/' ? "" : "/", file) >= sizeof path) {
        snprintf(err, errlen, "persistence_location/persistence_file: path too long");
        return -1;
    }
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "persistence_location %s: %s", dir, strerror(errno));
        return -1;
    }
    struct store_opts o = {
        .path = path,
        .key_file = cfg->persistence_key_file && *cfg->persistence_key_file ? cfg->persistence_key_file : NULL,
        .fsync = cfg->moat_persistence_fsync,
        .map_size = cfg->moat_persistence_map_size,
    };
    struct persist *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (store_open(&p->st, &o, err, errlen) < 0) {
        free(p);
        return -1;
    }
    *store_glue(p->st) = p;
    e->store = p->st;
    if (restore(e, p, err, errlen) < 0) {
        persist_close(e);
        return -1;
    }
    if (!o.fsync)
        log_warn("store %s: moat_persistence_fsync false: a crash of the machine may lose "
                 "acknowledged messages", path);
    return 0;
}

void persist_close(struct engine *e)
{
    if (!e->store)
        return;
    struct persist *p = *store_glue(e->store);
    persist_commit(e);
    for (uint32_t i = 0; i < p->sh_cap; i++)
        for (struct pshadow *x = p->sh[i], *nx; x; x = nx) {
            nx = x->next;
            free(x->v);
            free(x);
        }
    for (uint32_t i = 0; i < p->bd_cap; i++)
        for (struct pbody *x = p->bd[i], *nx; x; x = nx) {
            nx = x->next;
            free(x);
        }
    free(p->sh);
    free(p->bd);
    free(p->jr);
    free(p->scratch);
    store_close(p->st);
    free(p);
    e->store = NULL;
}
