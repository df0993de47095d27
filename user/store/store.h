/* The persistent store: one LMDB environment (a single file plus its
 * -lock file) with sealed records (record.h). One write transaction per
 * event-loop iteration, committed by store_commit() before any socket
 * output of that iteration is written; inside it, units of work (one
 * incoming packet) run in nested transactions so a full map refuses that
 * unit only and never damages what is already stored. */
#ifndef MOAT_STORE_STORE_H
#define MOAT_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "store/record.h"

/* Databases inside the environment (names are part of every record's AAD). */
enum store_db {
    SDB_META,      /* "format": format version, proves the key */
    SDB_RETAIN,    /* H(topic) -> qos, topic, payload */
    SDB_SESS,      /* H(client id) -> client id, subscriptions */
    SDB_BODY,      /* body id (u64) -> qos, retain, topic, payload: one per message */
    SDB_ENTRY,     /* H(client id) || seq (u64) -> body id, qos, retain, state, pid */
    SDB_RX2,       /* H(client id) || pid (u16) -> empty: incoming QoS 2 awaiting PUBREL */
    SDB_COUNT
};
extern const char *const store_db_names[SDB_COUNT];

#define STORE_FORMAT 1
#define STORE_DEFAULT_MAP_SIZE (256ull << 20)

struct store_opts {
    const char *path;       /* database file (LMDB MDB_NOSUBDIR) */
    const char *key_file;   /* NULL: not encrypted */
    bool        fsync;      /* false: MDB_NOSYNC (a crash may lose the last commits) */
    uint64_t    map_size;   /* 0: STORE_DEFAULT_MAP_SIZE */
    bool        readonly;
};

struct store_counters {
    uint64_t commits, units_refused, write_errors;
};

struct store;

/* Opens (creating when absent, unless readonly) the store at o->path.
 * Refuses a wrong key, an encrypted store without key, a key for a plain
 * store, a truncated file, a newer format: -1 with the reason in err. */
int  store_open(struct store **out, const struct store_opts *o, char *err, size_t errlen);
/* Aborts an uncommitted transaction (callers commit first). NULL ok. */
void store_close(struct store *st);

const struct rec_key *store_key(const struct store *st);
const struct store_counters *store_counters(const struct store *st);
const char *store_path(const struct store *st);
/* One pointer the broker glue (persist.c) keeps its state in. */
void **store_glue(struct store *st);

/* Units: store_unit_begin() starts one (cheap: the nested transaction is
 * begun by the first write). store_unit_end() keeps its writes in the
 * iteration's transaction and returns 0, or, when a write failed (map
 * full, I/O), discards all of them and returns -1 with the reason in
 * store_last_error(). Writes outside a unit form a unit of their own.
 * Units do not nest (a begin inside a unit is counted, not nested). */
void store_unit_begin(struct store *st);
int  store_unit_end(struct store *st);
bool store_unit_failed(const struct store *st);
const char *store_last_error(const struct store *st);

/* Seals v and writes it under k; deletes k (absent is fine). 0 or -1. */
int  store_put(struct store *st, enum store_db db, const void *k, size_t kl, const void *v, size_t vl);
int  store_del(struct store *st, enum store_db db, const void *k, size_t kl);

/* Deletes every record of db whose key starts with prefix. 0 or -1. */
int  store_del_prefix(struct store *st, enum store_db db, const void *prefix, size_t plen);

/* True while writes wait for store_commit (or after a failed commit). */
bool store_dirty(const struct store *st);
/* Commits the iteration's transaction (no-op if none). 0, or -1 with err:
 * the store is then failed and stays dirty (nothing may be acknowledged). */
int  store_commit(struct store *st, char *err, size_t errlen);

/* Calls fn for every record of db whose key starts with prefix (plen 0:
 * all), in key order, with the opened plaintext. A record that does not
 * open stops the scan: -1 with err naming db, key and reason. fn returns
 * 0 to go on, -1 to stop (its err). Reads see uncommitted writes. */
typedef int (*store_scan_fn)(void *arg, const uint8_t *k, size_t kl,
                             const uint8_t *v, size_t vl, char *err, size_t errlen);
int  store_scan(struct store *st, enum store_db db, const void *prefix, size_t plen,
                store_scan_fn fn, void *arg, char *err, size_t errlen);
/* Largest key of db (for id counters): 1 found, 0 empty, -1 error. */
int  store_last_key(struct store *st, enum store_db db, uint8_t *k, size_t *kl, size_t cap);

/* Reads a key file: 64 hex characters (openssl rand -hex 32), optional
 * trailing newline; a regular file owned by the caller with no group or
 * other permission bits. 0 or -1 with err naming the file. */
int  store_key_load(const char *path, uint8_t out[STORE_KEY_LEN], char *err, size_t errlen);

/* Offline tools for `moatctl store check|rekey` (moatd must be stopped).
 * store_check opens every record of every database, checks references
 * (entries to bodies and sessions) and writes a report to report; returns
 * 0 if the store is intact, -1 otherwise (the reason is in the report).
 * store_rekey rewrites every record (and every hashed key) under
 * new_key_file (NULL: unencrypted) into a new file and renames it over
 * path; old_key_file NULL: the store is not encrypted now. 0 or -1/err. */
int  store_check(const char *path, const char *key_file, FILE *report);
int  store_rekey(const char *path, const char *old_key_file, const char *new_key_file,
                 char *err, size_t errlen);

#endif
