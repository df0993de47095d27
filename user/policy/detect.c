#include "policy/detect.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker/block.h"
#include "broker/conn.h"
#include "broker/engine.h"
#include "broker/session.h"
#include "config.h"
#include "util/hash.h"
#include "util/log.h"
#include "moat_abi.h"
#include "xdp/cidr.h"

enum subj_type { SUBJ_SOURCE, SUBJ_USER, SUBJ_CLIENT };

struct counter {
    uint32_t count;
    uint64_t since_ms;
};

struct subject {
    struct subject *next;
    uint64_t hash, last_ms;
    struct counter c[DET__COUNT];
    uint16_t offences;        /* blocks so far, for the escalating TTL */
    uint64_t offence_ms;
    uint8_t  type;
    uint16_t len;
    uint8_t  key[];           /* SOURCE: family byte + 16 address bytes */
};

#define SUBJ_BUCKETS 4096u

struct detector {
    struct det_decision ring[DET_DECISIONS_KEPT];
    size_t ring_next, ring_n;
    uint64_t decisions[DET__COUNT];
    uint64_t seed;
    size_t max, n;
    uint64_t untracked;       /* events dropped because the table was full */
    struct subject *tab[SUBJ_BUCKETS];
};

struct det_topics {
    uint64_t since_ms;
    uint32_t n, cap;          /* open addressing set of topic hashes */
    uint64_t h[];
};

struct detector *detector_new(uint64_t seed, size_t max_subjects)
{
    struct detector *d = calloc(1, sizeof *d);
    if (d) {
        d->seed = seed;
        d->max = max_subjects ? max_subjects : 65536;
    }
    return d;
}

void detector_free(struct detector *d)
{
    if (!d)
        return;
    for (size_t b = 0; b < SUBJ_BUCKETS; b++)
        for (struct subject *s = d->tab[b], *nx; s; s = nx) {
            nx = s->next;
            free(s);
        }
    free(d);
}

size_t detector_subjects(const struct detector *d) { return d->n; }

uint64_t detector_count(const struct detector *d, int kind)
{
    return kind >= 0 && kind < DET__COUNT ? d->decisions[kind] : 0;
}

/* The ring as two runs: [first, first+n_first) then [wrap, ...). Returns
 * the total. */
size_t detector_decisions(const struct detector *d, const struct det_decision **first,
                          const struct det_decision **wrap, size_t *n_first)
{
    size_t start = (d->ring_next + DET_DECISIONS_KEPT - d->ring_n) % DET_DECISIONS_KEPT;
    *first = &d->ring[start];
    *n_first = d->ring_n < DET_DECISIONS_KEPT - start ? d->ring_n : DET_DECISIONS_KEPT - start;
    *wrap = d->ring;
    return d->ring_n;
}

static void record(struct detector *d, const struct det_decision *dd)
{
    d->ring[d->ring_next] = *dd;
    d->ring_next = (d->ring_next + 1) % DET_DECISIONS_KEPT;
    if (d->ring_n < DET_DECISIONS_KEPT)
        d->ring_n++;
    d->decisions[dd->kind]++;
}

static struct subject *subject_get(struct detector *d, uint8_t type, const void *key, size_t len,
                                   uint64_t now)
{
    if (len > UINT16_MAX)
        return NULL;
    uint64_t h = moat_hash(d->seed ^ type, key, len);
    struct subject **pp = &d->tab[h % SUBJ_BUCKETS];
    for (; *pp; pp = &(*pp)->next)
        if ((*pp)->hash == h && (*pp)->type == type && (*pp)->len == len &&
            !memcmp((*pp)->key, key, len))
            return *pp;
    if (d->n >= d->max && (detector_gc(d, now), d->n >= d->max)) {
        d->untracked++;       /* bounded memory wins over tracking */
        return NULL;
    }
    struct subject *s = calloc(1, sizeof *s + len);
    if (!s)
        return NULL;
    s->hash = h;
    s->type = type;
    s->len = (uint16_t)len;
    memcpy(s->key, key, len);
    *pp = s;
    d->n++;
    return s;
}

/* A subject is kept while any window may still count for it, and while a
 * past offence still escalates its next block. */
size_t detector_gc(struct detector *d, uint64_t now_ms)
{
    size_t n = 0;
    const uint64_t keep = 3600u * 1000u;
    for (size_t b = 0; b < SUBJ_BUCKETS; b++)
        for (struct subject **pp = &d->tab[b]; *pp;) {
            struct subject *s = *pp;
            uint64_t ref = s->offences ? s->offence_ms + 24u * keep : s->last_ms + keep;
            if (now_ms > ref) {
                *pp = s->next;
                free(s);
                d->n--;
                n++;
            } else {
                pp = &s->next;
            }
        }
    return n;
}

static bool count(struct subject *s, int kind, const struct det_rule *r, uint64_t now)
{
    struct counter *c = &s->c[kind];
    s->last_ms = now;
    if (now - c->since_ms >= (uint64_t)r->window_s * 1000u) {
        c->since_ms = now;
        c->count = 0;
    }
    if (++c->count < r->threshold)
        return false;
    c->count = 0;             /* one decision per threshold crossing */
    c->since_ms = now;
    return true;
}

static bool loopback(const struct peer_addr *p)
{
    static const uint8_t v6lo[16] = { [15] = 1 };
    if (p->family == AF_INET)
        return p->addr[0] == 127;
    return p->family == AF_INET6 && !memcmp(p->addr, v6lo, 16);
}

static bool allowlisted(const struct engine *e, const struct peer_addr *p)
{
    const struct moat_config *cfg = e->cfg;
    if (cfg->moat_allow_loopback && loopback(p))
        return true;
    int fam = p->family == AF_INET ? 4 : 6;
    for (size_t i = 0; i < cfg->n_allow; i++) {
        struct moat_cidr c = { .family = cfg->allow[i].family, .prefixlen = cfg->allow[i].prefixlen };
        memcpy(c.addr, cfg->allow[i].addr, 16);
        if (moat_cidr_contains(&c, fam, p->addr))
            return true;
    }
    return engine_filter_allows(e, p);
}

static uint32_t escalated_ttl(const struct engine *e, struct subject *s, uint32_t base, uint64_t now)
{
    uint64_t ttl = base;
    for (uint16_t i = 0; i < s->offences && ttl < e->cfg->moat_block_ttl_max; i++)
        ttl *= 2;
    if (ttl > e->cfg->moat_block_ttl_max)
        ttl = e->cfg->moat_block_ttl_max;
    if (s->offences < UINT16_MAX)
        s->offences++;
    s->offence_ms = now;
    return (uint32_t)ttl;
}

static uint32_t kind_reason(int kind)
{
    switch (kind) {
    case DET_CONNECT_FLOOD: case DET_SILENT: case DET_SYN_FLOOD: return MOAT_REASON_FLOOD;
    case DET_AUTH_FAILURE: case DET_AUTH_FAILURE_USER: return MOAT_REASON_AUTH;
    case DET_TOPIC_SCAN: case DET_ACL_DENIED: return MOAT_REASON_SCANNER;
    case DET_PROTOCOL_ERROR: case DET_ABNORMAL_CLOSE: case DET_TLS_FAILURE: return MOAT_REASON_PROTOCOL;
    default: return MOAT_REASON_OTHER;
    }
}

/* Takes rule r's action for an event of kind. */
static void act(struct engine *e, int kind, const struct det_rule *r, struct subject *src,
                struct conn *c, const struct peer_addr *peer, const char *user, size_t ulen,
                const char *cid, size_t clen)
{
    char ps[64] = "-";
    if (peer)
        peer_str(peer, ps, sizeof ps);
    uint64_t now = ev_now_ms(e->el);
    int action = r->action;
    bool allowed = peer && allowlisted(e, peer);
    if (allowed && action != DET_ACT_LOG)
        action = DET_ACT_LOG;
    uint32_t ttl = 0;
    char why[160];
    snprintf(why, sizeof why, "detect: %s (%u within %u s)", det_kind_name(kind), r->threshold,
             r->window_s);
    switch (action) {
    case DET_ACT_DISCONNECT:
        if (c)
            conn_close(c, true, why);
        break;
    case DET_ACT_BLOCK_IP:
        if (peer && src) {
            ttl = escalated_ttl(e, src, r->ttl_s, now);
            engine_block_peer(e, peer, ttl, kind_reason(kind), why);
        }
        break;
    case DET_ACT_BLOCK_CLIENT:
        if (cid) {
            ttl = r->ttl_s;
            engine_block_name(e, DENY_CLIENT_ID, cid, clen, ttl, why);
        }
        break;
    case DET_ACT_BLOCK_USER:
        if (user) {
            ttl = r->ttl_s;
            engine_block_name(e, DENY_USERNAME, user, ulen, ttl, why);
        }
        break;
    default:
        break;
    }
    struct det_decision dd = { .kind = (uint8_t)kind, .action = (uint8_t)action,
                               .allowlisted = allowed, .ttl_s = ttl,
                               .offence = src ? src->offences : 0 };
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    dd.wall_ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    snprintf(dd.source, sizeof dd.source, "%s", ps);
    snprintf(dd.client_id, sizeof dd.client_id, "%.*s", (int)(cid ? clen : 0), cid ? cid : "");
    snprintf(dd.username, sizeof dd.username, "%.*s", (int)(user ? ulen : 0), user ? user : "");
    record(e->det, &dd);
    log_notice("detect: kind=%s source=%s client='%.*s' user='%.*s' threshold=%u window=%us "
               "action=%s%s ttl=%us offence=%u",
               det_kind_name(kind), ps, (int)(cid ? clen : 0), cid ? cid : "",
               (int)(user ? ulen : 0), user ? user : "", r->threshold, r->window_s,
               det_action_name(action), allowed && r->action != DET_ACT_LOG ? " (allowlisted)" : "",
               ttl, src ? src->offences : 0);
}

static void src_key(const struct peer_addr *p, uint8_t prefix6, uint8_t key[17])
{
    memset(key, 0, 17);
    key[0] = p->family == AF_INET ? 4 : 6;
    if (key[0] == 4) {
        memcpy(key + 1, p->addr, 4);
        return;
    }
    /* IPv6 sources are counted per prefix, as the XDP filter groups them:
     * one host owns a whole /64. */
    for (unsigned i = 0; i < 16; i++) {
        int left = (int)prefix6 - (int)(i * 8);
        uint8_t m = left >= 8 ? 0xff : left <= 0 ? 0 : (uint8_t)(0xffu << (8 - left));
        key[1 + i] = p->addr[i] & m;
    }
}

void detect_event(struct engine *e, int kind, struct conn *c, const struct peer_addr *peer,
                  const char *name, size_t len)
{
    if (!e->det || kind < 0 || kind >= DET__COUNT)
        return;
    const struct det_rule *r = &e->cfg->detect[kind];
    if (r->action == DET_ACT_OFF)
        return;
    uint64_t now = ev_now_ms(e->el);
    if (c && !peer)
        peer = &c->peer;
    const char *cid = c && c->s ? c->s->client_id : NULL;
    size_t clen = c && c->s ? c->s->id_len : 0;
    const char *user = c && c->s ? c->s->username : NULL;
    size_t ulen = user ? strlen(user) : 0;
    if (kind == DET_AUTH_FAILURE_USER) {
        user = name;
        ulen = len;
    }

    struct subject *src = NULL;
    if (peer && (peer->family == AF_INET || peer->family == AF_INET6)) {
        uint8_t key[17];
        src_key(peer, e->cfg->xdp_ipv6_prefix ? e->cfg->xdp_ipv6_prefix : 64, key);
        src = subject_get(e->det, SUBJ_SOURCE, key, sizeof key, now);
    }
    struct subject *subj = src;
    if (kind == DET_AUTH_FAILURE_USER)
        subj = user ? subject_get(e->det, SUBJ_USER, user, ulen, now) : NULL;
    else if (kind == DET_TOPIC_SCAN || kind == DET_ACL_DENIED || kind == DET_UNDELIVERABLE)
        subj = cid ? subject_get(e->det, SUBJ_CLIENT, cid, clen, now) : NULL;
    if (!subj)
        return;
    if (count(subj, kind, r, now))
        act(e, kind, r, src, c, peer, user, ulen, cid, clen);
}

void det_topics_free(struct det_topics *t) { free(t); }

#define TOPICS_MAX_CAP 65536u   /* 512 KiB per client at most */

static struct det_topics *topics_grow(struct det_topics *t, uint64_t now)
{
    uint32_t ncap = t ? t->cap * 2 : 16;
    struct det_topics *nt = calloc(1, sizeof *nt + ncap * sizeof(uint64_t));
    if (!nt)
        return NULL;
    nt->cap = ncap;
    nt->since_ms = t ? t->since_ms : now;
    for (uint32_t i = 0; t && i < t->cap; i++)
        if (t->h[i]) {
            uint32_t j = (uint32_t)t->h[i] & (ncap - 1);
            while (nt->h[j])
                j = (j + 1) & (ncap - 1);
            nt->h[j] = t->h[i];
            nt->n++;
        }
    free(t);
    return nt;
}

/* Adds a topic hash to the client's set for this window; true if it was
 * not there yet. A saturated set stops counting (memory stays bounded). */
static bool topics_add(struct det_topics **tp, uint64_t h, uint64_t now, uint64_t window_ms)
{
    struct det_topics *t = *tp;
    if (t && now - t->since_ms >= window_ms) {
        free(t);
        t = NULL;
    }
    if (!t || (t->n * 2 >= t->cap && t->cap < TOPICS_MAX_CAP)) {
        struct det_topics *nt = topics_grow(t, now);
        if (!nt) {
            *tp = t;
            return false;
        }
        t = nt;
    }
    *tp = t;
    if (t->n + 1 >= t->cap)
        return false;
    h |= 1;                   /* 0 marks an empty slot */
    uint32_t j = (uint32_t)h & (t->cap - 1);
    while (t->h[j]) {
        if (t->h[j] == h)
            return false;     /* seen in this window */
        j = (j + 1) & (t->cap - 1);
    }
    t->h[j] = h;
    t->n++;
    return true;
}

void detect_topic(struct engine *e, struct conn *c, const uint8_t *topic, size_t len)
{
    const struct det_rule *r = &e->cfg->detect[DET_TOPIC_SCAN];
    if (!e->det || r->action == DET_ACT_OFF || !c->s)
        return;
    uint64_t h = moat_hash(e->seed, topic, len);
    if (topics_add(&c->s->det_topics, h, ev_now_ms(e->el), (uint64_t)r->window_s * 1000u))
        detect_event(e, DET_TOPIC_SCAN, c, NULL, NULL, 0);
}
