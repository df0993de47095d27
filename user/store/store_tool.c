/* Offline store tools: check (every record opens and parses, references
 * hold) and rekey (rewrite every record and hashed key under a new key).
 * For `moatctl store check|rekey`; moatd must not be running. */
#include "store/store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/persist.h"
#include "store/persist_internal.h"

struct hmap {                 /* old H(client id) -> new H(client id) */
    uint8_t (*old)[REC_HASH_LEN];
    uint8_t (*neu)[REC_HASH_LEN];
    size_t n, cap;
};

static int hmap_add(struct hmap *m, const uint8_t *o, const uint8_t *n)
{
    if (m->n == m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 64;
        void *a = realloc(m->old, ncap * REC_HASH_LEN), *b = a ? realloc(m->neu, ncap * REC_HASH_LEN) : NULL;
        if (a)
            m->old = a;
        if (!b)
            return -1;
        m->neu = b;
        m->cap = ncap;
    }
    memcpy(m->old[m->n], o, REC_HASH_LEN);
    memcpy(m->neu[m->n], n, REC_HASH_LEN);
    m->n++;
    return 0;
}

/* Sessions are scanned in key order, so the map is sorted by old hash. */
static const uint8_t *hmap_get(const struct hmap *m, const uint8_t *o)
{
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = memcmp(m->old[mid], o, REC_HASH_LEN);
        if (!c)
            return m->neu[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static void hmap_free(struct hmap *m)
{
    free(m->old);
    free(m->neu);
}

/* ---- check ---- */

struct chk {
    struct store *st;
    struct hmap sess;         /* H -> H (identity): the known sessions */
    uint64_t *bodies;         /* body ids, sorted */
    size_t nb, capb;
    uint64_t counts[SDB_COUNT];
    FILE *out;
};

static int chk_body(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl,
                    char *err, size_t errlen)
{
    struct chk *C = arg;
    struct pcur c = { v, vl, false };
    pcur_u8(&c);
    pcur_u8(&c);
    pcur_bytes(&c, pcur_u16(&c));
    if (kl != 8 || c.bad) {
        snprintf(err, errlen, "database 'body': malformed record");
        return -1;
    }
    if (C->nb == C->capb) {
        size_t ncap = C->capb ? C->capb * 2 : 256;
        uint64_t *nb = realloc(C->bodies, ncap * sizeof *nb);
        if (!nb) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        C->bodies = nb;
        C->capb = ncap;
    }
    C->bodies[C->nb++] = get64(k);
    C->counts[SDB_BODY]++;
    return 0;
}

static int chk_sess(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl,
                    char *err, size_t errlen)
{
    struct chk *C = arg;
    struct pcur c = { v, vl, false };
    uint16_t idl = pcur_u16(&c);
    const uint8_t *id = pcur_bytes(&c, idl);
    uint32_t ns = pcur_u32(&c);
    for (uint32_t i = 0; i < ns && !c.bad; i++) {
        uint16_t fl = pcur_u16(&c);
        pcur_u8(&c);
        pcur_bytes(&c, fl);
    }
    uint8_t h[REC_HASH_LEN];
    if (!c.bad && id)
        rec_hash(store_key(C->st), id, idl, h);
    if (c.bad || c.n || kl != REC_HASH_LEN || memcmp(h, k, REC_HASH_LEN)) {
        snprintf(err, errlen, "database 'sess': malformed record or key not matching its client id");
        return -1;
    }
    C->counts[SDB_SESS]++;
    return hmap_add(&C->sess, k, k);
}

static bool has_body(const struct chk *C, uint64_t id)
{
    size_t lo = 0, hi = C->nb;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (C->bodies[mid] == id)
            return true;
        if (C->bodies[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

static int chk_entry(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl,
                     char *err, size_t errlen)
{
    struct chk *C = arg;
    struct pcur c = { v, vl, false };
    uint64_t bid = pcur_u64(&c);
    pcur_bytes(&c, 3);
    pcur_u16(&c);
    if (kl != REC_HASH_LEN + 8 || c.bad || c.n) {
        snprintf(err, errlen, "database 'entry': malformed record");
        return -1;
    }
    if (!hmap_get(&C->sess, k)) {
        snprintf(err, errlen, "database 'entry': entry of no stored session");
        return -1;
    }
    if (bid && !has_body(C, bid)) {
        snprintf(err, errlen, "database 'entry': names missing body %llu", (unsigned long long)bid);
        return -1;
    }
    C->counts[SDB_ENTRY]++;
    return 0;
}

static int chk_count(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl,
                     char *err, size_t errlen)
{
    ((uint64_t *)arg)[0]++;
    return 0;
}

int store_check(const char *path, const char *key_file, FILE *report)
{
    struct store_opts o = { .path = path, .key_file = key_file, .readonly = true };
    char err[512];
    struct chk C = { .out = report };
    if (store_open(&C.st, &o, err, sizeof err) < 0) {
        fprintf(report, "store check: FAILED: %s\n", err);
        return -1;
    }
    int r = -1;
    if (store_scan(C.st, SDB_BODY, NULL, 0, chk_body, &C, err, sizeof err) < 0 ||
        store_scan(C.st, SDB_SESS, NULL, 0, chk_sess, &C, err, sizeof err) < 0 ||
        store_scan(C.st, SDB_ENTRY, NULL, 0, chk_entry, &C, err, sizeof err) < 0 ||
        store_scan(C.st, SDB_RX2, NULL, 0, chk_count, &C.counts[SDB_RX2], err, sizeof err) < 0 ||
        store_scan(C.st, SDB_RETAIN, NULL, 0, chk_count, &C.counts[SDB_RETAIN], err, sizeof err) < 0 ||
        store_scan(C.st, SDB_META, NULL, 0, chk_count, &C.counts[SDB_META], err, sizeof err) < 0) {
        fprintf(report, "store check: FAILED: %s\n", err);
        goto out;
    }
    fprintf(report, "store check: %s: OK (%s, key id %08x): %llu sessions, %llu entries, %llu bodies, "
            "%llu incoming QoS 2 ids, %llu retained messages\n", path,
            store_key(C.st)->encrypted ? "AES-256-GCM" : "not encrypted", store_key(C.st)->key_id,
            (unsigned long long)C.counts[SDB_SESS], (unsigned long long)C.counts[SDB_ENTRY],
            (unsigned long long)C.counts[SDB_BODY], (unsigned long long)C.counts[SDB_RX2],
            (unsigned long long)C.counts[SDB_RETAIN]);
    r = 0;
out:
    hmap_free(&C.sess);
    free(C.bodies);
    store_close(C.st);
    return r;
}

/* ---- rekey ---- */

struct rk {
    struct store *from, *to;
    struct hmap map;
    enum store_db db;
};

static int rk_sess(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl,
                   char *err, size_t errlen)
{
    struct rk *R = arg;
    struct pcur c = { v, vl, false };
    uint16_t idl = pcur_u16(&c);
    const uint8_t *id = pcur_bytes(&c, idl);
    if (c.bad || kl != REC_HASH_LEN) {
        snprintf(err, errlen, "database 'sess': malformed record");
        return -1;
    }
    uint8_t h[REC_HASH_LEN];
    rec_hash(store_key(R->to), id, idl, h);
    if (hmap_add(&R->map, k, h) < 0 || store_put(R->to, SDB_SESS, h, sizeof h, v, vl) < 0) {
        snprintf(err, errlen, "writing the new store: %s", store_last_error(R->to));
        return -1;
    }
    return 0;
}

static int rk_prefixed(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl,
                       char *err, size_t errlen)
{
    struct rk *R = arg;
    uint8_t nk[REC_HASH_LEN + 8];
    const uint8_t *h = kl > REC_HASH_LEN && kl <= sizeof nk ? hmap_get(&R->map, k) : NULL;
    if (!h) {
        snprintf(err, errlen, "database '%s': record of no stored session", store_db_names[R->db]);
        return -1;
    }
    memcpy(nk, h, REC_HASH_LEN);
    memcpy(nk + REC_HASH_LEN, k + REC_HASH_LEN, kl - REC_HASH_LEN);
    if (store_put(R->to, R->db, nk, kl, v, vl) < 0) {
        snprintf(err, errlen, "writing the new store: %s", store_last_error(R->to));
        return -1;
    }
    return 0;
}

static int rk_same(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl,
                   char *err, size_t errlen)
{
    struct rk *R = arg;
    if (store_put(R->to, R->db, k, kl, v, vl) < 0) {
        snprintf(err, errlen, "writing the new store: %s", store_last_error(R->to));
        return -1;
    }
    return 0;
}

static int rk_retain(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl,
                     char *err, size_t errlen)
{
    struct rk *R = arg;
    struct pcur c = { v, vl, false };
    pcur_u8(&c);
    uint16_t tl = pcur_u16(&c);
    const uint8_t *t = pcur_bytes(&c, tl);
    if (c.bad) {
        snprintf(err, errlen, "database 'retain': malformed record");
        return -1;
    }
    uint8_t h[REC_HASH_LEN];
    rec_hash(store_key(R->to), t, tl, h);
    if (store_put(R->to, SDB_RETAIN, h, sizeof h, v, vl) < 0) {
        snprintf(err, errlen, "writing the new store: %s", store_last_error(R->to));
        return -1;
    }
    return 0;
}

int store_rekey(const char *path, const char *old_key_file, const char *new_key_file,
                char *err, size_t errlen)
{
    char tmp[4096], lock[4200];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.rekey", path) >= sizeof tmp) {
        snprintf(err, errlen, "%s: path too long", path);
        return -1;
    }
    struct stat sb;
    if (stat(path, &sb) < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    struct store_opts oo = { .path = path, .key_file = old_key_file, .readonly = true };
    uint64_t map = (uint64_t)sb.st_size * 2 + (64u << 20);
    struct store_opts no = { .path = tmp, .key_file = new_key_file, .fsync = true,
                             .map_size = map > STORE_DEFAULT_MAP_SIZE ? map : STORE_DEFAULT_MAP_SIZE };
    struct rk R = { 0 };
    unlink(tmp);
    snprintf(lock, sizeof lock, "%s-lock", tmp);
    unlink(lock);
    if (store_open(&R.from, &oo, err, errlen) < 0)
        return -1;
    int r = -1;
    if (store_open(&R.to, &no, err, errlen) < 0)
        goto out;
    store_unit_begin(R.to);
    R.db = SDB_SESS;
    if (store_scan(R.from, SDB_SESS, NULL, 0, rk_sess, &R, err, errlen) < 0)
        goto out;
    R.db = SDB_ENTRY;
    if (store_scan(R.from, SDB_ENTRY, NULL, 0, rk_prefixed, &R, err, errlen) < 0)
        goto out;
    R.db = SDB_RX2;
    if (store_scan(R.from, SDB_RX2, NULL, 0, rk_prefixed, &R, err, errlen) < 0)
        goto out;
    R.db = SDB_BODY;
    if (store_scan(R.from, SDB_BODY, NULL, 0, rk_same, &R, err, errlen) < 0)
        goto out;
    R.db = SDB_RETAIN;
    if (store_scan(R.from, SDB_RETAIN, NULL, 0, rk_retain, &R, err, errlen) < 0)
        goto out;
    if (store_unit_end(R.to) < 0) {
        snprintf(err, errlen, "%s", store_last_error(R.to));
        goto out;
    }
    if (store_commit(R.to, err, errlen) < 0)
        goto out;
    store_close(R.to);
    R.to = NULL;
    if (rename(tmp, path) < 0) {
        snprintf(err, errlen, "rename %s -> %s: %s", tmp, path, strerror(errno));
        goto out;
    }
    unlink(lock);
    r = 0;
out:
    if (R.to) {
        store_close(R.to);
        unlink(tmp);
        unlink(lock);
    }
    store_close(R.from);
    hmap_free(&R.map);
    return r;
}
