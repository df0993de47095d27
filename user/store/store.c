/* LMDB environment, the per-iteration write transaction with nested units,
 * sealed puts, verified scans. */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

const char *const store_db_names[SDB_COUNT] = {
    "meta", "retain", "sess", "body", "entry", "rx2",
};

struct store {
    MDB_env  *env;
    MDB_dbi   dbi[SDB_COUNT];
    MDB_txn  *txn;            /* the iteration's write transaction */
    MDB_txn  *child;          /* the current unit's nested transaction */
    bool      in_unit, unit_failed, failed, readonly;
    struct rec_key key;
    uint8_t  *buf;            /* seal / open scratch */
    size_t    buf_cap;
    char     *path;
    char      last_err[256];
    struct store_counters cnt;
    void     *glue;
    uint64_t  map_pages;      /* map size in pages */
    uint64_t  unit_before;    /* pages in use when the unit began */
};

/* Pages the trees use in t's view (data, the named-database table and
 * the free list's own tree). */
static uint64_t used_pages(const struct store *st, MDB_txn *t)
{
    uint64_t n = 0;
    MDB_stat s;
    for (int d = 0; d < SDB_COUNT; d++)
        if (mdb_stat(t, st->dbi[d], &s) == 0)
            n += s.ms_branch_pages + s.ms_leaf_pages + s.ms_overflow_pages;
    for (MDB_dbi d = 0; d < 2; d++)      /* FREE_DBI, MAIN_DBI */
        if (mdb_stat(t, d, &s) == 0)
            n += s.ms_branch_pages + s.ms_leaf_pages + s.ms_overflow_pages;
    return n;
}

void **store_glue(struct store *st) { return &st->glue; }

const struct rec_key *store_key(const struct store *st) { return &st->key; }
const struct store_counters *store_counters(const struct store *st) { return &st->cnt; }
const char *store_path(const struct store *st) { return st->path; }
const char *store_last_error(const struct store *st) { return st->last_err; }
bool store_unit_failed(const struct store *st) { return st->unit_failed; }
bool store_dirty(const struct store *st) { return st->txn || st->failed; }

static int grow(struct store *st, size_t n)
{
    if (n <= st->buf_cap)
        return 0;
    size_t cap = st->buf_cap ? st->buf_cap : 4096;
    while (cap < n)
        cap *= 2;
    uint8_t *nb = realloc(st->buf, cap);
    if (!nb)
        return -1;
    st->buf = nb;
    st->buf_cap = cap;
    return 0;
}

/* The transaction writes go to: the unit's, begun on first use. */
static MDB_txn *wtxn(struct store *st)
{
    int rc;
    if (st->failed || st->readonly)
        return NULL;
    if (!st->txn && (rc = mdb_txn_begin(st->env, NULL, 0, &st->txn)) != 0) {
        snprintf(st->last_err, sizeof st->last_err, "%s: begin transaction: %s", st->path, mdb_strerror(rc));
        st->txn = NULL;
        return NULL;
    }
    if (!st->child) {
        if ((rc = mdb_txn_begin(st->env, st->txn, 0, &st->child)) != 0) {
            snprintf(st->last_err, sizeof st->last_err, "%s: begin nested transaction: %s", st->path, mdb_strerror(rc));
            st->child = NULL;
            return NULL;
        }
        st->unit_before = used_pages(st, st->child);
    }
    return st->child;
}

void store_unit_begin(struct store *st)
{
    if (st->in_unit)
        return;
    st->in_unit = true;
    st->unit_failed = false;
}

int store_unit_end(struct store *st)
{
    if (!st->in_unit)
        return 0;
    st->in_unit = false;
    if (!st->child)
        return st->unit_failed ? -1 : 0;
    /* Half the map stays free: a commit needs room for the new copies of
     * every page the iteration changed and for the free list, and a
     * failed commit would lose the whole iteration. A unit that grows the
     * data beyond half is refused; one that shrinks it always passes. */
    uint64_t used = st->unit_failed ? 0 : used_pages(st, st->child);
    if (!st->unit_failed && used > st->map_pages / 2 && used > st->unit_before) {
        snprintf(st->last_err, sizeof st->last_err, "%s: store full: %llu of %llu pages in use "
                 "(half of moat_persistence_map_size is kept free so that commits cannot fail)",
                 st->path, (unsigned long long)used, (unsigned long long)st->map_pages);
        st->unit_failed = true;
    }
    if (st->unit_failed) {
        mdb_txn_abort(st->child);
        st->child = NULL;
        st->cnt.units_refused++;
        return -1;
    }
    int rc = mdb_txn_commit(st->child);
    st->child = NULL;
    if (rc) {
        snprintf(st->last_err, sizeof st->last_err, "%s: nested commit: %s", st->path, mdb_strerror(rc));
        st->cnt.units_refused++;
        st->unit_failed = true;
        return -1;
    }
    return 0;
}

static void op_failed(struct store *st, const char *what, enum store_db db, int rc)
{
    snprintf(st->last_err, sizeof st->last_err, "%s: %s in '%s': %s%s", st->path, what,
             store_db_names[db], mdb_strerror(rc),
             rc == MDB_MAP_FULL ? " (raise moat_persistence_map_size)" : "");
    st->unit_failed = true;
    st->cnt.write_errors++;
}

/* A write outside a unit is a unit of its own. */
static int op_begin(struct store *st, bool *implicit)
{
    *implicit = !st->in_unit;
    if (*implicit)
        store_unit_begin(st);
    return st->unit_failed ? -1 : 0;
}

static int op_end(struct store *st, bool implicit, int r)
{
    if (implicit)
        return store_unit_end(st) < 0 ? -1 : r;
    return r;
}

int store_put(struct store *st, enum store_db db, const void *k, size_t kl, const void *v, size_t vl)
{
    bool implicit;
    if (op_begin(st, &implicit) < 0)
        return op_end(st, implicit, -1);
    MDB_txn *t = wtxn(st);
    size_t n = rec_sealed_len(&st->key, vl);
    if (!t || grow(st, n) < 0) {
        if (t)
            snprintf(st->last_err, sizeof st->last_err, "%s: out of memory for a record", st->path);
        st->unit_failed = true;
        st->cnt.write_errors++;
        return op_end(st, implicit, -1);
    }
    char err[160];
    if (rec_seal(&st->key, store_db_names[db], k, kl, v, vl, st->buf, err, sizeof err) < 0) {
        snprintf(st->last_err, sizeof st->last_err, "%s: %s", st->path, err);
        st->unit_failed = true;
        return op_end(st, implicit, -1);
    }
    MDB_val key = { .mv_size = kl, .mv_data = (void *)k }, val = { .mv_size = n, .mv_data = st->buf };
    int rc = mdb_put(t, st->dbi[db], &key, &val, 0);
    if (rc) {
        op_failed(st, "write", db, rc);
        return op_end(st, implicit, -1);
    }
    return op_end(st, implicit, 0);
}

int store_del(struct store *st, enum store_db db, const void *k, size_t kl)
{
    bool implicit;
    if (op_begin(st, &implicit) < 0)
        return op_end(st, implicit, -1);
    MDB_txn *t = wtxn(st);
    if (!t) {
        st->unit_failed = true;
        return op_end(st, implicit, -1);
    }
    MDB_val key = { .mv_size = kl, .mv_data = (void *)k };
    int rc = mdb_del(t, st->dbi[db], &key, NULL);
    if (rc && rc != MDB_NOTFOUND) {
        op_failed(st, "delete", db, rc);
        return op_end(st, implicit, -1);
    }
    return op_end(st, implicit, 0);
}

int store_del_prefix(struct store *st, enum store_db db, const void *prefix, size_t plen)
{
    bool implicit;
    if (op_begin(st, &implicit) < 0)
        return op_end(st, implicit, -1);
    MDB_txn *t = wtxn(st);
    MDB_cursor *cur;
    int rc = t ? mdb_cursor_open(t, st->dbi[db], &cur) : EINVAL;
    if (rc) {
        op_failed(st, "delete", db, rc);
        return op_end(st, implicit, -1);
    }
    MDB_val k = { .mv_size = plen, .mv_data = (void *)prefix }, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (rc == 0 && k.mv_size >= plen && !memcmp(k.mv_data, prefix, plen)) {
        if ((rc = mdb_cursor_del(cur, 0)) != 0)
            break;
        rc = mdb_cursor_get(cur, &k, &v, MDB_GET_CURRENT);
        if (rc == EINVAL || rc == MDB_NOTFOUND)    /* deleted the last one */
            break;
    }
    mdb_cursor_close(cur);
    if (rc && rc != MDB_NOTFOUND && rc != EINVAL) {
        op_failed(st, "delete", db, rc);
        return op_end(st, implicit, -1);
    }
    return op_end(st, implicit, 0);
}

int store_commit(struct store *st, char *err, size_t errlen)
{
    if (st->failed) {
        snprintf(err, errlen, "%s", st->last_err);
        return -1;
    }
    if (st->child) {            /* a unit left open: end it (a refusal is counted) */
        st->in_unit = true;
        store_unit_end(st);
    }
    if (!st->txn)
        return 0;
    int rc = mdb_txn_commit(st->txn);
    st->txn = NULL;
    if (rc) {
        st->failed = true;
        snprintf(st->last_err, sizeof st->last_err, "%s: commit failed: %s", st->path, mdb_strerror(rc));
        snprintf(err, errlen, "%s", st->last_err);
        return -1;
    }
    st->cnt.commits++;
    return 0;
}

/* Reads go through the open write transaction when there is one, so a
 * scan during start-up sees what the same start-up wrote. */
static int rtxn(struct store *st, MDB_txn **t, bool *own)
{
    *own = false;
    if (st->child) { *t = st->child; return 0; }
    if (st->txn)   { *t = st->txn;   return 0; }
    *own = true;
    return mdb_txn_begin(st->env, NULL, MDB_RDONLY, t);
}

static void key_hex(const uint8_t *k, size_t kl, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < kl && o + 3 < cap; i++)
        o += (size_t)snprintf(out + o, cap - o, "%02x", k[i]);
    if (!kl && cap)
        out[0] = 0;
}

int store_scan(struct store *st, enum store_db db, const void *prefix, size_t plen,
               store_scan_fn fn, void *arg, char *err, size_t errlen)
{
    MDB_txn *t;
    bool own;
    int rc = rtxn(st, &t, &own);
    if (rc) {
        snprintf(err, errlen, "%s: begin read: %s", st->path, mdb_strerror(rc));
        return -1;
    }
    MDB_cursor *cur;
    if ((rc = mdb_cursor_open(t, st->dbi[db], &cur)) != 0) {
        snprintf(err, errlen, "%s: cursor on '%s': %s", st->path, store_db_names[db], mdb_strerror(rc));
        if (own)
            mdb_txn_abort(t);
        return -1;
    }
    MDB_val k = { .mv_size = plen, .mv_data = (void *)prefix }, v;
    int r = 0;
    rc = mdb_cursor_get(cur, &k, &v, plen ? MDB_SET_RANGE : MDB_FIRST);
    while (rc == 0) {
        if (plen && (k.mv_size < plen || memcmp(k.mv_data, prefix, plen)))
            break;
        if (grow(st, v.mv_size) < 0) {
            snprintf(err, errlen, "%s: out of memory reading '%s'", st->path, store_db_names[db]);
            r = -1;
            break;
        }
        const uint8_t *d;
        size_t dl;
        char why[192], kh[2 * 48 + 1];
        if (rec_open(&st->key, store_db_names[db], k.mv_data, k.mv_size, v.mv_data, v.mv_size,
                     st->buf, &d, &dl, why, sizeof why) < 0) {
            key_hex(k.mv_data, k.mv_size < 48 ? k.mv_size : 48, kh, sizeof kh);
            snprintf(err, errlen, "%s: database '%s', key %s: %s", st->path, store_db_names[db], kh, why);
            r = -1;
            break;
        }
        if (fn(arg, k.mv_data, k.mv_size, d, dl, err, errlen) < 0) {
            r = -1;
            break;
        }
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    if (r == 0 && rc && rc != MDB_NOTFOUND) {
        snprintf(err, errlen, "%s: reading '%s': %s", st->path, store_db_names[db], mdb_strerror(rc));
        r = -1;
    }
    mdb_cursor_close(cur);
    if (own)
        mdb_txn_abort(t);
    return r;
}

int store_last_key(struct store *st, enum store_db db, uint8_t *out, size_t *kl, size_t cap)
{
    MDB_txn *t;
    bool own;
    if (rtxn(st, &t, &own))
        return -1;
    MDB_cursor *cur;
    int r = -1;
    if (mdb_cursor_open(t, st->dbi[db], &cur) == 0) {
        MDB_val k, v;
        int rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
        if (rc == MDB_NOTFOUND)
            r = 0;
        else if (rc == 0 && k.mv_size <= cap) {
            memcpy(out, k.mv_data, k.mv_size);
            *kl = k.mv_size;
            r = 1;
        }
        mdb_cursor_close(cur);
    }
    if (own)
        mdb_txn_abort(t);
    return r;
}

static int meta_cb(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl,
                   char *err, size_t errlen)
{
    int *found = arg;
    if (kl == 6 && !memcmp(k, "format", 6)) {
        if (vl != 4) {
            snprintf(err, errlen, "meta 'format' record has %zu bytes, expected 4", vl);
            return -1;
        }
        uint32_t f = (uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 | v[3];
        if (f != STORE_FORMAT) {
            snprintf(err, errlen, "store format %u, this moatd reads format %u", f, STORE_FORMAT);
            return -1;
        }
        *found = 1;
    }
    return 0;
}

/* The format record proves the key: it opens only under the key (and key
 * id) that wrote the store. A store without it must be empty (new). */
static int check_meta(struct store *st, char *err, size_t errlen)
{
    int found = 0;
    if (store_scan(st, SDB_META, NULL, 0, meta_cb, &found, err, errlen) < 0)
        return -1;
    if (found)
        return 0;
    MDB_txn *t;
    bool own;
    if (rtxn(st, &t, &own))
        return -1;
    for (int d = 1; d < SDB_COUNT; d++) {
        MDB_stat s;
        if (mdb_stat(t, st->dbi[d], &s) == 0 && s.ms_entries) {
            if (own)
                mdb_txn_abort(t);
            snprintf(err, errlen, "%s: records in '%s' but no 'format' record: not a moat store or damaged",
                     st->path, store_db_names[d]);
            return -1;
        }
    }
    if (own)
        mdb_txn_abort(t);
    if (st->readonly) {
        snprintf(err, errlen, "%s: empty store (no 'format' record)", st->path);
        return -1;
    }
    uint8_t f[4] = { 0, 0, 0, STORE_FORMAT };
    if (store_put(st, SDB_META, "format", 6, f, sizeof f) < 0 || store_commit(st, err, errlen) < 0) {
        if (!err[0] || st->last_err[0])
            snprintf(err, errlen, "%s", st->last_err);
        return -1;
    }
    return 0;
}

/* A file shorter than LMDB's last page would fault (SIGBUS) when read. */
static int check_size(struct store *st, char *err, size_t errlen)
{
    MDB_envinfo info;
    MDB_stat s;
    struct stat sb;
    if (mdb_env_info(st->env, &info) || mdb_env_stat(st->env, &s) || stat(st->path, &sb) < 0) {
        snprintf(err, errlen, "%s: cannot stat the store", st->path);
        return -1;
    }
    uint64_t need = ((uint64_t)info.me_last_pgno + 1) * s.ms_psize;
    if ((uint64_t)sb.st_size < need) {
        snprintf(err, errlen, "%s: truncated: %lld bytes, the store's last page needs %llu",
                 st->path, (long long)sb.st_size, (unsigned long long)need);
        return -1;
    }
    return 0;
}

int store_open(struct store **out, const struct store_opts *o, char *err, size_t errlen)
{
    *out = NULL;
    err[0] = 0;
    struct store *st = calloc(1, sizeof *st);
    if (!st || !(st->path = strdup(o->path))) {
        free(st);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    st->readonly = o->readonly;
    uint8_t raw[STORE_KEY_LEN];
    if (o->key_file) {
        if (store_key_load(o->key_file, raw, err, errlen) < 0)
            goto fail;
        int r = rec_key_init(&st->key, raw, err, errlen);
        OPENSSL_cleanse(raw, sizeof raw);
        if (r < 0)
            goto fail;
    } else {
        rec_key_init(&st->key, NULL, err, errlen);
    }
    int rc;
    struct stat sb;
    if (o->readonly && stat(o->path, &sb) < 0) {
        snprintf(err, errlen, "%s: %s", o->path, strerror(errno));
        goto fail;
    }
    if ((rc = mdb_env_create(&st->env)) ||
        (rc = mdb_env_set_maxdbs(st->env, SDB_COUNT)) ||
        (rc = mdb_env_set_mapsize(st->env, o->map_size ? o->map_size : STORE_DEFAULT_MAP_SIZE))) {
        snprintf(err, errlen, "%s: LMDB setup: %s", o->path, mdb_strerror(rc));
        goto fail;
    }
    unsigned flags = MDB_NOSUBDIR | MDB_NOTLS | (o->fsync ? 0 : MDB_NOSYNC) | (o->readonly ? MDB_RDONLY : 0);
    if ((rc = mdb_env_open(st->env, o->path, flags, 0600))) {
        snprintf(err, errlen, "%s: cannot open the store: %s%s", o->path, mdb_strerror(rc),
                 rc == MDB_INVALID ? " (not an LMDB file, or its header is damaged or truncated)" : "");
        goto fail;
    }
    if (check_size(st, err, errlen) < 0)
        goto fail;
    MDB_envinfo info;
    MDB_stat es;
    if (mdb_env_info(st->env, &info) == 0 && mdb_env_stat(st->env, &es) == 0 && es.ms_psize)
        st->map_pages = info.me_mapsize / es.ms_psize;
    MDB_txn *t;
    if ((rc = mdb_txn_begin(st->env, NULL, o->readonly ? MDB_RDONLY : 0, &t))) {
        snprintf(err, errlen, "%s: begin: %s", o->path, mdb_strerror(rc));
        goto fail;
    }
    for (int d = 0; d < SDB_COUNT; d++)
        if ((rc = mdb_dbi_open(t, store_db_names[d], o->readonly ? 0 : MDB_CREATE, &st->dbi[d]))) {
            mdb_txn_abort(t);
            snprintf(err, errlen, "%s: database '%s': %s", o->path, store_db_names[d], mdb_strerror(rc));
            goto fail;
        }
    if ((rc = mdb_txn_commit(t))) {      /* also read-only: publishes the handles */
        snprintf(err, errlen, "%s: %s", o->path, mdb_strerror(rc));
        goto fail;
    }
    if (check_meta(st, err, errlen) < 0)
        goto fail;
    *out = st;
    return 0;
fail:
    store_close(st);
    return -1;
}

void store_close(struct store *st)
{
    if (!st)
        return;
    if (st->child)
        mdb_txn_abort(st->child);
    if (st->txn)
        mdb_txn_abort(st->txn);
    if (st->env)
        mdb_env_close(st->env);
    rec_key_wipe(&st->key);
    free(st->buf);
    free(st->path);
    free(st);
}
