/* Runtime mirroring of broker state into the store (see persist.h). A
 * message delivered to N persistent sessions is stored once as a body
 * with N small entries naming it; the body goes when its last entry goes
 * (the reference count lives in memory and is recounted at load). */
#include "store/persist.h"

#include <stdlib.h>
#include <string.h>

#include "broker/engine.h"
#include "broker/msg.h"
#include "broker/session.h"
#include "store/persist_internal.h"
#include "store/store.h"
#include "util/log.h"

/* ---- small helpers ---- */

void put64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

void pkey_entry(uint8_t k[REC_HASH_LEN + 8], const uint8_t h[REC_HASH_LEN], uint64_t seq)
{
    memcpy(k, h, REC_HASH_LEN);
    put64(k + REC_HASH_LEN, seq);
}

void pkey_rx2(uint8_t k[REC_HASH_LEN + 2], const uint8_t h[REC_HASH_LEN], uint16_t pid)
{
    memcpy(k, h, REC_HASH_LEN);
    k[REC_HASH_LEN] = (uint8_t)(pid >> 8);
    k[REC_HASH_LEN + 1] = (uint8_t)pid;
}

const uint8_t *pcur_bytes(struct pcur *c, size_t n)
{
    if (c->bad || c->n < n) {
        c->bad = true;
        return NULL;
    }
    const uint8_t *r = c->p;
    c->p += n;
    c->n -= n;
    return r;
}

uint8_t pcur_u8(struct pcur *c)
{
    const uint8_t *b = pcur_bytes(c, 1);
    return b ? b[0] : 0;
}

uint16_t pcur_u16(struct pcur *c)
{
    const uint8_t *b = pcur_bytes(c, 2);
    return b ? (uint16_t)(b[0] << 8 | b[1]) : 0;
}

uint32_t pcur_u32(struct pcur *c)
{
    const uint8_t *b = pcur_bytes(c, 4);
    return b ? (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3] : 0;
}

uint64_t pcur_u64(struct pcur *c)
{
    const uint8_t *b = pcur_bytes(c, 8);
    return b ? get64(b) : 0;
}

static struct persist *P(const struct engine *e)
{
    return e->store ? *store_glue(e->store) : NULL;
}

static uint32_t ptr_hash(const void *ptr, uint32_t cap)
{
    uint64_t x = (uint64_t)(uintptr_t)ptr;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return (uint32_t)x & (cap - 1);
}

static int rehash(void ***tab, uint32_t *cap, size_t next_off, const void *(*keyof)(void *))
{
    uint32_t ncap = *cap ? *cap * 2 : 64;
    void **nt = calloc(ncap, sizeof *nt);
    if (!nt)
        return -1;
    for (uint32_t i = 0; i < *cap; i++)
        for (void *x = (*tab)[i], *nx; x; x = nx) {
            void **link = (void **)((char *)x + next_off);
            nx = *link;
            uint32_t b = ptr_hash(keyof(x), ncap);
            *link = nt[b];
            nt[b] = x;
        }
    free(*tab);
    *tab = nt;
    *cap = ncap;
    return 0;
}

static const void *sh_key(void *x) { return ((struct pshadow *)x)->s; }
static const void *bd_key(void *x) { return ((struct pbody *)x)->m; }

struct pshadow *pshadow_get(struct persist *p, const struct session *s)
{
    if (!p || !p->sh_cap)
        return NULL;
    for (struct pshadow *x = p->sh[ptr_hash(s, p->sh_cap)]; x; x = x->next)
        if (x->s == s)
            return x;
    return NULL;
}

struct pshadow *pshadow_add(struct persist *p, struct session *s)
{
    if (p->n_sh >= p->sh_cap &&
        rehash((void ***)&p->sh, &p->sh_cap, offsetof(struct pshadow, next), sh_key) < 0)
        return NULL;
    struct pshadow *x = calloc(1, sizeof *x);
    if (!x)
        return NULL;
    x->s = s;
    x->next_seq = 1;
    rec_hash(store_key(p->st), s->client_id, s->id_len, x->h);
    uint32_t b = ptr_hash(s, p->sh_cap);
    x->next = p->sh[b];
    p->sh[b] = x;
    p->n_sh++;
    return x;
}

static void pshadow_del(struct persist *p, struct pshadow *x)
{
    struct pshadow **pp = &p->sh[ptr_hash(x->s, p->sh_cap)];
    while (*pp != x)
        pp = &(*pp)->next;
    *pp = x->next;
    p->n_sh--;
    free(x->v);
    free(x);
}

int pent_push(struct pshadow *sh, uint64_t seq, struct pbody *b)
{
    if (sh->n == sh->cap) {
        uint32_t ncap = sh->cap ? sh->cap * 2 : 8;
        struct pent *nv = realloc(sh->v, ncap * sizeof *nv);
        if (!nv)
            return -1;
        sh->v = nv;
        sh->cap = ncap;
    }
    sh->v[sh->n++] = (struct pent){ .seq = seq, .b = b };
    return 0;
}

struct pbody *pbody_find(struct persist *p, const struct msg *m)
{
    if (!p->bd_cap)
        return NULL;
    for (struct pbody *x = p->bd[ptr_hash(m, p->bd_cap)]; x; x = x->next)
        if (x->m == m)
            return x;
    return NULL;
}

struct pbody *pbody_add(struct persist *p, const struct msg *m, uint64_t id)
{
    if (p->n_bd >= p->bd_cap &&
        rehash((void ***)&p->bd, &p->bd_cap, offsetof(struct pbody, next), bd_key) < 0)
        return NULL;
    struct pbody *x = calloc(1, sizeof *x);
    if (!x)
        return NULL;
    x->m = m;
    x->id = id;
    uint32_t b = ptr_hash(m, p->bd_cap);
    x->next = p->bd[b];
    p->bd[b] = x;
    p->n_bd++;
    return x;
}

static void pbody_unlink(struct persist *p, struct pbody *x)
{
    struct pbody **pp = &p->bd[ptr_hash(x->m, p->bd_cap)];
    while (*pp != x)
        pp = &(*pp)->next;
    *pp = x->next;
    p->n_bd--;
    free(x);
}

/* One stored entry less names the body; the last one deletes it. */
static void body_release(struct persist *p, struct pbody *b)
{
    if (!b || --b->refs)
        return;
    uint8_t k[8];
    put64(k, b->id);
    store_del(p->st, SDB_BODY, k, sizeof k);
    pbody_unlink(p, b);
}

static int grow_scratch(struct persist *p, size_t n)
{
    if (n <= p->scratch_cap)
        return 0;
    uint8_t *nb = realloc(p->scratch, n);
    if (!nb)
        return -1;
    p->scratch = nb;
    p->scratch_cap = n;
    return 0;
}

/* The stored body of m, written on first use in a persistent entry. */
static struct pbody *body_for(struct persist *p, struct msg *m)
{
    struct pbody *b = pbody_find(p, m);
    if (b)
        return b;
    size_t n = 4 + (size_t)m->topic_len + m->payload_len;
    if (grow_scratch(p, n) < 0)
        return NULL;
    uint8_t *w = p->scratch;
    w[0] = m->qos;
    w[1] = m->retain;
    w[2] = (uint8_t)(m->topic_len >> 8);
    w[3] = (uint8_t)m->topic_len;
    memcpy(w + 4, m->data, (size_t)m->topic_len + m->payload_len);
    uint8_t k[8];
    put64(k, p->next_body);
    if (store_put(p->st, SDB_BODY, k, sizeof k, w, n) < 0)
        return NULL;
    b = pbody_add(p, m, p->next_body);
    if (b)
        p->next_body++;
    return b;
}

static int entry_write(struct persist *p, struct pshadow *sh, uint64_t seq, uint64_t body,
                       uint8_t qos, bool retain, uint8_t state, uint16_t pid)
{
    uint8_t k[REC_HASH_LEN + 8], v[13];
    pkey_entry(k, sh->h, seq);
    put64(v, body);
    v[8] = qos;
    v[9] = retain;
    v[10] = state;
    v[11] = (uint8_t)(pid >> 8);
    v[12] = (uint8_t)pid;
    return store_put(p->st, SDB_ENTRY, k, sizeof k, v, sizeof v);
}

static void journal(struct persist *p, struct pshadow *sh, uint64_t seq)
{
    if (p->n_jr == p->cap_jr) {
        uint32_t ncap = p->cap_jr ? p->cap_jr * 2 : 16;
        struct pjournal *nj = realloc(p->jr, ncap * sizeof *nj);
        if (!nj)
            return;       /* at worst an entry is thought stored: deleting it is harmless */
        p->jr = nj;
        p->cap_jr = ncap;
    }
    p->jr[p->n_jr++] = (struct pjournal){ .sh = sh, .seq = seq };
}

/* ---- the hooks ---- */

void persist_append(struct engine *e, struct session *s, struct msg *m, uint8_t qos,
                    bool retain, uint8_t state, uint16_t pid)
{
    struct persist *p = P(e);
    struct pshadow *sh = s->clean ? NULL : pshadow_get(p, s);
    if (!sh || sh->broken)
        return;
    uint64_t seq = 0;
    struct pbody *b = store_unit_failed(p->st) ? NULL : body_for(p, m);
    if (b && entry_write(p, sh, sh->next_seq, b->id, qos, retain, state, pid) == 0) {
        seq = sh->next_seq++;
        b->refs++;
    } else if (b && !b->refs) {
        pbody_unlink(p, b);     /* its record goes with the failed unit */
        b = NULL;
    } else {
        b = NULL;
    }
    if (pent_push(sh, seq, b) < 0) {
        /* The shadow no longer mirrors the session position by position:
         * stop changing its stored state (what is stored stays as of
         * now: at worst messages are delivered again after a restart). */
        log_err("store: out of memory mirroring session '%s'; its later changes are not stored",
                s->client_id);
        sh->broken = true;
        return;
    }
    if (seq)
        journal(p, sh, seq);
}

void persist_update(struct engine *e, struct session *s, uint32_t idx, uint8_t state, uint16_t pid)
{
    struct persist *p = P(e);
    struct pshadow *sh = s->clean ? NULL : pshadow_get(p, s);
    if (!sh || sh->broken || idx >= sh->n || !sh->v[idx].seq)
        return;
    struct pent *pe = &sh->v[idx];
    const struct inflight *f = idx < s->n_inf ? &s->inf[idx] : NULL;
    uint8_t qos = f ? f->qos : 2;
    bool retain = f ? f->retain : false;
    if (state == INF_WAIT_PUBCOMP) {
        entry_write(p, sh, pe->seq, 0, qos, retain, state, pid);
        body_release(p, pe->b);
        pe->b = NULL;
    } else {
        entry_write(p, sh, pe->seq, pe->b ? pe->b->id : 0, qos, retain, state, pid);
    }
}

void persist_remove(struct engine *e, struct session *s, uint32_t idx)
{
    struct persist *p = P(e);
    struct pshadow *sh = s->clean ? NULL : pshadow_get(p, s);
    if (!sh || sh->broken || idx >= sh->n)
        return;
    struct pent pe = sh->v[idx];
    memmove(&sh->v[idx], &sh->v[idx + 1], (size_t)(sh->n - idx - 1) * sizeof *sh->v);
    sh->n--;
    if (!pe.seq)
        return;
    uint8_t k[REC_HASH_LEN + 8];
    pkey_entry(k, sh->h, pe.seq);
    store_del(p->st, SDB_ENTRY, k, sizeof k);
    body_release(p, pe.b);
}

void persist_rx2(struct engine *e, struct session *s, uint16_t pid, bool add)
{
    struct persist *p = P(e);
    struct pshadow *sh = s->clean ? NULL : pshadow_get(p, s);
    if (!sh)
        return;
    uint8_t k[REC_HASH_LEN + 2];
    pkey_rx2(k, sh->h, pid);
    if (add)
        store_put(p->st, SDB_RX2, k, sizeof k, NULL, 0);
    else
        store_del(p->st, SDB_RX2, k, sizeof k);
}

void persist_session_save(struct engine *e, struct session *s)
{
    struct persist *p = P(e);
    if (!p || s->clean)
        return;
    struct pshadow *sh = pshadow_get(p, s);
    if (!sh && !(sh = pshadow_add(p, s))) {
        log_err("store: out of memory for session '%s': not stored", s->client_id);
        return;
    }
    size_t n = 2 + (size_t)s->id_len + 4;
    for (uint32_t i = 0; i < s->n_subs; i++)
        n += 3 + (size_t)s->subs[i].len;
    if (grow_scratch(p, n) < 0) {
        log_err("store: out of memory for session '%s': not stored", s->client_id);
        return;
    }
    uint8_t *w = p->scratch;
    w[0] = (uint8_t)(s->id_len >> 8);
    w[1] = (uint8_t)s->id_len;
    memcpy(w + 2, s->client_id, s->id_len);
    size_t o = 2 + (size_t)s->id_len;
    w[o++] = (uint8_t)(s->n_subs >> 24);
    w[o++] = (uint8_t)(s->n_subs >> 16);
    w[o++] = (uint8_t)(s->n_subs >> 8);
    w[o++] = (uint8_t)s->n_subs;
    for (uint32_t i = 0; i < s->n_subs; i++) {
        w[o++] = (uint8_t)(s->subs[i].len >> 8);
        w[o++] = (uint8_t)s->subs[i].len;
        w[o++] = s->subs[i].qos;
        memcpy(w + o, s->subs[i].filter, s->subs[i].len);
        o += s->subs[i].len;
    }
    store_put(p->st, SDB_SESS, sh->h, sizeof sh->h, w, o);
}

void persist_session_drop(struct engine *e, struct session *s)
{
    struct persist *p = P(e);
    struct pshadow *sh = s->clean ? NULL : pshadow_get(p, s);
    if (!sh)
        return;
    for (uint32_t i = 0; i < sh->n; i++) {
        if (!sh->v[i].seq)
            continue;
        uint8_t k[REC_HASH_LEN + 8];
        pkey_entry(k, sh->h, sh->v[i].seq);
        store_del(p->st, SDB_ENTRY, k, sizeof k);
        body_release(p, sh->v[i].b);
    }
    if (sh->broken)       /* entries the shadow does not know of */
        store_del_prefix(p->st, SDB_ENTRY, sh->h, sizeof sh->h);
    store_del_prefix(p->st, SDB_RX2, sh->h, sizeof sh->h);
    store_del(p->st, SDB_SESS, sh->h, sizeof sh->h);
    for (uint32_t i = 0; i < p->n_jr; i++)
        if (p->jr[i].sh == sh)
            p->jr[i].sh = NULL;
    pshadow_del(p, sh);
}

void persist_retain(struct engine *e, const struct msg *m)
{
    struct persist *p = P(e);
    if (!p)
        return;
    /* $SYS is regenerated by every start: not worth a disk write. */
    if (m->topic_len >= 4 && !memcmp(m->data, "$SYS", 4))
        return;
    uint8_t k[REC_HASH_LEN];
    rec_hash(store_key(p->st), m->data, m->topic_len, k);
    if (!m->payload_len) {
        store_del(p->st, SDB_RETAIN, k, sizeof k);
        return;
    }
    size_t n = 3 + (size_t)m->topic_len + m->payload_len;
    if (grow_scratch(p, n) < 0) {
        log_err("store: out of memory for a retained message: not stored");
        return;
    }
    uint8_t *w = p->scratch;
    w[0] = m->qos;
    w[1] = (uint8_t)(m->topic_len >> 8);
    w[2] = (uint8_t)m->topic_len;
    memcpy(w + 3, m->data, (size_t)m->topic_len + m->payload_len);
    store_put(p->st, SDB_RETAIN, k, sizeof k, w, n);
}

/* ---- units and commits ---- */

/* The first refusal, then one line per 1000: a full store must not flood
 * the log. Also catches refusals of writes outside packet units. */
static void log_refusals(struct persist *p)
{
    uint64_t n = store_counters(p->st)->units_refused;
    if (n == p->refused_logged)
        return;
    if (!p->refused_logged || n - p->refused_logged >= 1000) {
        log_err("store: %s: refusing new persistent work (%llu units refused so far, not acknowledged)",
                store_last_error(p->st), (unsigned long long)n);
        p->refused_logged = n;
    }
}

void persist_unit_begin(struct engine *e)
{
    struct persist *p = P(e);
    if (!p)
        return;
    store_unit_begin(p->st);
    p->n_jr = 0;
}

/* A refused unit's entries exist in memory only: mark them unstored so
 * later changes do not touch records that were never written. */
static void undo_journal(struct persist *p)
{
    for (uint32_t i = 0; i < p->n_jr; i++) {
        struct pshadow *sh = p->jr[i].sh;
        if (!sh)
            continue;
        for (uint32_t j = sh->n; j-- > 0;)
            if (sh->v[j].seq == p->jr[i].seq) {
                struct pbody *b = sh->v[j].b;
                sh->v[j].seq = 0;
                sh->v[j].b = NULL;
                if (b && !--b->refs)
                    pbody_unlink(p, b);   /* written by this unit only, or kept as an orphan */
                break;
            }
    }
    p->n_jr = 0;
}

int persist_unit_end(struct engine *e)
{
    struct persist *p = P(e);
    if (!p)
        return 0;
    if (store_unit_end(p->st) == 0) {
        p->n_jr = 0;
        return 0;
    }
    undo_journal(p);
    log_refusals(p);
    return -1;
}

bool persist_pending(const struct engine *e)
{
    return e->store && store_dirty(e->store);
}

int persist_commit(struct engine *e)
{
    if (!e->store)
        return 0;
    log_refusals(P(e));
    if (!store_dirty(e->store))
        return 0;
    char err[320];
    if (store_commit(e->store, err, sizeof err) == 0)
        return 0;
    log_err("store: %s; stopping: nothing of this iteration is acknowledged", err);
    return -1;
}
