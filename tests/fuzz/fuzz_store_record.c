/* libFuzzer target for the store's record format and restore parsers.
 * Part 1: the input is opened as a sealed record (plain and AES-256-GCM,
 * a few database names); an accepted plaintext must lie inside the buffer.
 * Part 2: the input is a sequence of [db u8][key len u8][key][value len
 * u16 BE][value] records; each is sealed (plain) into a fresh store, which
 * is then restored into an engine: every value parser (sessions, entries,
 * bodies, incoming QoS 2 ids, retained) sees attacker-chosen plaintext
 * that passed the integrity check. Restore either succeeds or fails
 * cleanly; LeakSanitizer checks nothing is left allocated. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/engine.h"
#include "broker/session.h"
#include "config.h"
#include "mqtt/retain.h"
#include "mqtt/topic_tree.h"
#include "broker/msg.h"
#include "store/persist.h"
#include "store/record.h"
#include "store/store.h"
#include "util/log.h"

static const uint8_t KEY[32] = { 7 };

static void part_record(const uint8_t *d, size_t n)
{
    static const char *dbs[] = { "meta", "body", "entry", "sess" };
    struct rec_key plain, gcm;
    char err[256];
    rec_key_init(&plain, NULL, err, sizeof err);
    rec_key_init(&gcm, KEY, err, sizeof err);
    uint8_t *buf = malloc(n ? n : 1);
    for (int i = 0; i < 4; i++) {
        const uint8_t *out;
        size_t len;
        if (rec_open(&plain, dbs[i], d, n < 8 ? n : 8, d, n, buf, &out, &len, err, sizeof err) == 0 &&
            (out < d || out + len > d + n))
            abort();
        if (rec_open(&gcm, dbs[i], d, n < 8 ? n : 8, d, n, buf, &out, &len, err, sizeof err) == 0 &&
            (out != buf || len > n))
            abort();
    }
    free(buf);
}

static char dir[64];

static void cleanup(void)
{
    char p[140];
    snprintf(p, sizeof p, "%s/moat.lmdb", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/moat.lmdb-lock", dir);
    unlink(p);
    rmdir(dir);
}

static void part_restore(const uint8_t *d, size_t n)
{
    if (!dir[0]) {
        log_setup(0, NULL, false);     /* restore logs every start: keep the run readable */
        snprintf(dir, sizeof dir, "/tmp/moat-fuzz-store.%d", (int)getpid());
        mkdir(dir, 0700);
        atexit(cleanup);
    }
    char path[128], lock[140];
    snprintf(path, sizeof path, "%s/moat.lmdb", dir);
    snprintf(lock, sizeof lock, "%s-lock", path);
    unlink(path);
    unlink(lock);
    struct store_opts o = { .path = path, .fsync = false, .map_size = 8u << 20 };
    struct store *st;
    char err[512];
    if (store_open(&st, &o, err, sizeof err) < 0)
        abort();
    size_t off = 0;
    while (off + 4 <= n) {
        uint8_t db = d[off] % SDB_COUNT, kl = d[off + 1];
        if (db == SDB_META || kl == 0 || off + 2 + kl + 2 > n)
            break;
        const uint8_t *k = d + off + 2;
        size_t vl = (size_t)d[off + 2 + kl] << 8 | d[off + 3 + kl];
        if (off + 4 + kl + vl > n)
            break;
        store_put(st, db, k, kl, d + off + 4 + kl, vl);
        off += 4 + kl + vl;
    }
    if (store_commit(st, err, sizeof err) < 0)
        abort();
    store_close(st);

    struct moat_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.persistence = true;
    cfg.persistence_location = dir;
    cfg.max_inflight_messages = 20;
    cfg.moat_persistence_map_size = 8u << 20;
    struct engine *e = calloc(1, sizeof *e);
    e->cfg = &cfg;
    e->el = ev_new();
    e->subs = topic_tree_new(1);
    e->retained = retain_new(2);
    if (persist_open(e, err, sizeof err) == 0)
        persist_close(e);
    for (uint32_t b = 0; b < e->sess_cap; b++)
        while (e->sess_tab[b])
            session_destroy(e, e->sess_tab[b]);
    free(e->sess_tab);
    topic_tree_free(e->subs);
    retain_free(e->retained, msg_unref_void);
    ev_free(e->el);
    free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
    part_record(d, n);
    part_restore(d, n);
    return 0;
}
