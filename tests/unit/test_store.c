/* The store's record format (sealing, tamper and misplacement detection),
 * key files, wrong keys, truncation, a full map, check and rekey. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/persist_internal.h"
#include "store/record.h"
#include "store/store.h"

static const uint8_t RAW1[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                  17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32 };
static const uint8_t RAW2[32] = { 0xaa };

struct dir {
    char path[64];
    char db[128], key1[128], key2[128];
};

static void write_key(const char *path, const uint8_t raw[32], mode_t mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int i = 0; i < 32; i++)
        fprintf(f, "%02x", raw[i]);
    fputc('\n', f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

static int setup(void **st)
{
    struct dir *d = calloc(1, sizeof *d);
    strcpy(d->path, "/tmp/moat-test-store.XXXXXX");
    if (!mkdtemp(d->path))
        return -1;
    snprintf(d->db, sizeof d->db, "%s/s.lmdb", d->path);
    snprintf(d->key1, sizeof d->key1, "%s/k1", d->path);
    snprintf(d->key2, sizeof d->key2, "%s/k2", d->path);
    write_key(d->key1, RAW1, 0600);
    write_key(d->key2, RAW2, 0600);
    *st = d;
    return 0;
}

static int teardown(void **st)
{
    struct dir *d = *st;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d->path);
    if (system(cmd)) {}
    free(d);
    return 0;
}

static void roundtrip(const struct rec_key *k)
{
    const char msg[] = "payload bytes";
    uint8_t lk[] = "lookup-key";
    size_t n = rec_sealed_len(k, sizeof msg);
    uint8_t *rec = malloc(n), *buf = malloc(n);
    char err[256];
    assert_int_equal(rec_seal(k, "body", lk, sizeof lk, msg, sizeof msg, rec, err, sizeof err), 0);
    const uint8_t *d;
    size_t dl;
    assert_int_equal(rec_open(k, "body", lk, sizeof lk, rec, n, buf, &d, &dl, err, sizeof err), 0);
    assert_int_equal(dl, sizeof msg);
    assert_memory_equal(d, msg, sizeof msg);
    /* Every single flipped bit anywhere in the record is detected. */
    for (size_t i = 0; i < n; i++) {
        rec[i] ^= 0x10;
        assert_int_equal(rec_open(k, "body", lk, sizeof lk, rec, n, buf, &d, &dl, err, sizeof err), -1);
        rec[i] ^= 0x10;
    }
    /* Bound to its database and LMDB key: moved elsewhere it does not open. */
    assert_int_equal(rec_open(k, "retain", lk, sizeof lk, rec, n, buf, &d, &dl, err, sizeof err), -1);
    uint8_t other[] = "lookup-kez";
    assert_int_equal(rec_open(k, "body", other, sizeof other, rec, n, buf, &d, &dl, err, sizeof err), -1);
    /* Truncated. */
    for (size_t cut = 0; cut < n; cut += 3)
        assert_int_equal(rec_open(k, "body", lk, sizeof lk, rec, cut, buf, &d, &dl, err, sizeof err), -1);
    free(rec);
    free(buf);
}

static void test_record_plain_roundtrip_and_tamper(void **st)
{
    struct rec_key k;
    char err[128];
    assert_int_equal(rec_key_init(&k, NULL, err, sizeof err), 0);
    assert_false(k.encrypted);
    roundtrip(&k);
}

static void test_record_gcm_roundtrip_and_tamper(void **st)
{
    struct rec_key k;
    char err[128];
    assert_int_equal(rec_key_init(&k, RAW1, err, sizeof err), 0);
    assert_true(k.encrypted);
    assert_int_not_equal(k.key_id, 0);
    roundtrip(&k);
}

static void test_record_gcm_hides_plaintext(void **st)
{
    struct rec_key k;
    char err[128];
    rec_key_init(&k, RAW1, err, sizeof err);
    const char msg[] = "secret-payload-secret-payload";
    uint8_t rec[128];
    assert_int_equal(rec_seal(&k, "body", "k", 1, msg, sizeof msg - 1, rec, err, sizeof err), 0);
    assert_null(memmem(rec, rec_sealed_len(&k, sizeof msg - 1), "secret", 6));
    /* Random nonces: the same plaintext seals differently. */
    uint8_t rec2[128];
    rec_seal(&k, "body", "k", 1, msg, sizeof msg - 1, rec2, err, sizeof err);
    assert_memory_not_equal(rec, rec2, rec_sealed_len(&k, sizeof msg - 1));
}

static void test_record_wrong_key(void **st)
{
    struct rec_key k1, k2, plain;
    char err[256];
    rec_key_init(&k1, RAW1, err, sizeof err);
    rec_key_init(&k2, RAW2, err, sizeof err);
    rec_key_init(&plain, NULL, err, sizeof err);
    assert_int_not_equal(k1.key_id, k2.key_id);
    uint8_t rec[64], buf[64];
    size_t n = rec_sealed_len(&k1, 5);
    rec_seal(&k1, "meta", "x", 1, "hello", 5, rec, err, sizeof err);
    const uint8_t *d;
    size_t dl;
    assert_int_equal(rec_open(&k2, "meta", "x", 1, rec, n, buf, &d, &dl, err, sizeof err), -1);
    assert_non_null(strstr(err, "wrong key"));
    assert_int_equal(rec_open(&plain, "meta", "x", 1, rec, n, buf, &d, &dl, err, sizeof err), -1);
    assert_non_null(strstr(err, "persistence_key_file"));
    /* Same key id forged onto another key's record: GCM still refuses. */
    struct rec_key forged = k2;
    forged.key_id = k1.key_id;
    assert_int_equal(rec_open(&forged, "meta", "x", 1, rec, n, buf, &d, &dl, err, sizeof err), -1);
    assert_non_null(strstr(err, "authentication failed"));
}

static void test_lookup_hash_keyed(void **st)
{
    struct rec_key k1, k2;
    char err[64];
    rec_key_init(&k1, RAW1, err, sizeof err);
    rec_key_init(&k2, RAW2, err, sizeof err);
    uint8_t a[32], b[32], c[32];
    rec_hash(&k1, "sensors/temp", 12, a);
    rec_hash(&k2, "sensors/temp", 12, b);
    rec_hash(&k1, "sensors/temq", 12, c);
    assert_memory_not_equal(a, b, 32);
    assert_memory_not_equal(a, c, 32);
}

static void test_key_file_rules(void **st)
{
    struct dir *d = *st;
    uint8_t raw[32];
    char err[256], p[160];
    assert_int_equal(store_key_load(d->key1, raw, err, sizeof err), 0);
    assert_memory_equal(raw, RAW1, 32);
    snprintf(p, sizeof p, "%s/kopen", d->path);
    write_key(p, RAW1, 0640);
    assert_int_equal(store_key_load(p, raw, err, sizeof err), -1);
    assert_non_null(strstr(err, "owner-only"));
    FILE *f = fopen(p, "w");
    fputs("0011zz", f);
    fclose(f);
    chmod(p, 0600);
    assert_int_equal(store_key_load(p, raw, err, sizeof err), -1);
    assert_non_null(strstr(err, "64 hex"));
    f = fopen(p, "w");
    for (int i = 0; i < 64; i++)
        fputc(i == 10 ? 'g' : 'a', f);
    fclose(f);
    assert_int_equal(store_key_load(p, raw, err, sizeof err), -1);
    assert_non_null(strstr(err, "hex digit"));
    assert_int_equal(store_key_load("/nonexistent/key", raw, err, sizeof err), -1);
}

static int collect(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl,
                   char *err, size_t errlen)
{
    int *n = arg;
    char want[32];
    snprintf(want, sizeof want, "value-%d", *n);
    /* a body record: qos, retain, empty topic, payload */
    if (vl != 4 + strlen(want) || memcmp(v, "\0\0\0\0", 4) || memcmp(v + 4, want, vl - 4))
        return -1;
    (*n)++;
    return 0;
}

static void fill(struct store *s, int n)
{
    for (int i = 0; i < n; i++) {
        uint8_t k[8];
        put64(k, (uint64_t)i);
        char v[32] = { 0 };
        int vl = snprintf(v + 4, sizeof v - 4, "value-%d", i);
        assert_int_equal(store_put(s, SDB_BODY, k, 8, v, 4 + (size_t)vl), 0);
    }
    char err[256];
    assert_int_equal(store_commit(s, err, sizeof err), 0);
}

static int count_records(const char *path, const char *key)
{
    struct store_opts o = { .path = path, .key_file = key, .readonly = true };
    struct store *s;
    char err[256];
    if (store_open(&s, &o, err, sizeof err) < 0)
        return -1;
    int n = 0;
    int r = store_scan(s, SDB_BODY, NULL, 0, collect, &n, err, sizeof err);
    store_close(s);
    return r < 0 ? -1 : n;
}

static void test_store_wrong_key_refused(void **st)
{
    struct dir *d = *st;
    struct store_opts o = { .path = d->db, .key_file = d->key1, .fsync = true };
    struct store *s;
    char err[512];
    assert_int_equal(store_open(&s, &o, err, sizeof err), 0);
    fill(s, 10);
    store_close(s);
    assert_int_equal(count_records(d->db, d->key1), 10);
    o.key_file = d->key2;
    assert_int_equal(store_open(&s, &o, err, sizeof err), -1);
    assert_non_null(strstr(err, "wrong key"));
    o.key_file = NULL;
    assert_int_equal(store_open(&s, &o, err, sizeof err), -1);
    assert_non_null(strstr(err, "no persistence_key_file"));
}

static void test_store_key_for_plain_store_refused(void **st)
{
    struct dir *d = *st;
    struct store_opts o = { .path = d->db, .fsync = true };
    struct store *s;
    char err[512];
    assert_int_equal(store_open(&s, &o, err, sizeof err), 0);
    fill(s, 3);
    store_close(s);
    o.key_file = d->key1;
    assert_int_equal(store_open(&s, &o, err, sizeof err), -1);
    assert_non_null(strstr(err, "unencrypted record"));
}

/* Finds the first sealed GCM record of key id in the file image. */
static long find_record(const uint8_t *img, size_t n, uint32_t key_id, long from)
{
    uint8_t h[6] = { REC_VERSION, REC_ALG_GCM, (uint8_t)(key_id >> 24), (uint8_t)(key_id >> 16),
                     (uint8_t)(key_id >> 8), (uint8_t)key_id };
    const uint8_t *p = memmem(img + from, n - (size_t)from, h, sizeof h);
    return p ? p - img : -1;
}

static void test_store_flipped_byte_on_disk_detected(void **st)
{
    struct dir *d = *st;
    struct store_opts o = { .path = d->db, .key_file = d->key1, .fsync = true };
    struct store *s;
    char err[512];
    assert_int_equal(store_open(&s, &o, err, sizeof err), 0);
    uint32_t kid = store_key(s)->key_id;
    fill(s, 5);
    store_close(s);
    FILE *f = fopen(d->db, "r+b");
    static uint8_t img[1 << 20];
    size_t n = fread(img, 1, sizeof img, f);
    long at = find_record(img, n, kid, 0);
    assert_true(at > 0);
    fseek(f, at + REC_HDR + REC_NONCE + 2, SEEK_SET);
    uint8_t b = img[at + REC_HDR + REC_NONCE + 2] ^ 0x01;
    fwrite(&b, 1, 1, f);
    fclose(f);
    char *rep = NULL;
    size_t rl = 0;
    FILE *r = open_memstream(&rep, &rl);
    assert_int_equal(store_check(d->db, d->key1, r), -1);
    fclose(r);
    assert_non_null(strstr(rep, "authentication failed"));
    free(rep);
}

static void test_store_truncated_refused(void **st)
{
    struct dir *d = *st;
    struct store_opts o = { .path = d->db, .fsync = true };
    struct store *s;
    char err[512];
    assert_int_equal(store_open(&s, &o, err, sizeof err), 0);
    fill(s, 200);
    store_close(s);
    struct stat sb;
    stat(d->db, &sb);
    assert_int_equal(truncate(d->db, sb.st_size / 2), 0);
    assert_int_equal(store_open(&s, &o, err, sizeof err), -1);
    assert_non_null(strstr(err, "truncated"));
    assert_int_equal(truncate(d->db, 100), 0);
    assert_int_equal(store_open(&s, &o, err, sizeof err), -1);
}

/* A full map refuses the unit that hit it; what was stored stays intact. */
static void test_store_map_full_refuses_unit(void **st)
{
    struct dir *d = *st;
    struct store_opts o = { .path = d->db, .fsync = false, .map_size = 1 << 20 };
    struct store *s;
    char err[512];
    assert_int_equal(store_open(&s, &o, err, sizeof err), 0);
    fill(s, 3);
    static uint8_t big[60000];
    memset(big, 'x', sizeof big);
    int refused = 0, stored = 0;
    for (int i = 0; i < 64; i++) {
        store_unit_begin(s);
        uint8_t k[8];
        put64(k, 1000 + (uint64_t)i);
        store_put(s, SDB_RETAIN, k, 8, big, sizeof big);
        if (store_unit_end(s) < 0) {
            refused++;
            assert_non_null(strstr(store_last_error(s), "store full"));
        } else {
            stored++;
        }
        assert_int_equal(store_commit(s, err, sizeof err), 0);
    }
    assert_true(refused > 0);
    assert_true(stored > 0);
    assert_int_equal(store_counters(s)->units_refused, (uint64_t)refused);
    store_close(s);
    assert_int_equal(count_records(d->db, NULL), 3);
}

static bool file_has(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    static uint8_t img[4 << 20];
    size_t n = fread(img, 1, sizeof img, f);
    fclose(f);
    return memmem(img, n, needle, strlen(needle)) != NULL;
}

static void test_store_rekey_rotates(void **st)
{
    struct dir *d = *st;
    struct store_opts o = { .path = d->db, .fsync = true };
    struct store *s;
    char err[512];
    assert_int_equal(store_open(&s, &o, err, sizeof err), 0);
    fill(s, 20);
    store_close(s);
    assert_true(file_has(d->db, "value-7"));
    /* plain -> key 1 */
    assert_int_equal(store_rekey(d->db, NULL, d->key1, err, sizeof err), 0);
    assert_false(file_has(d->db, "value-7"));
    assert_int_equal(count_records(d->db, d->key1), 20);
    assert_int_equal(count_records(d->db, NULL), -1);
    /* key 1 -> key 2: the old key no longer opens it */
    assert_int_equal(store_rekey(d->db, d->key1, d->key2, err, sizeof err), 0);
    assert_int_equal(count_records(d->db, d->key2), 20);
    assert_int_equal(count_records(d->db, d->key1), -1);
    /* with the wrong old key, rekey refuses and keeps the store */
    assert_int_equal(store_rekey(d->db, d->key1, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "wrong key"));
    assert_int_equal(count_records(d->db, d->key2), 20);
    FILE *r = fopen("/dev/null", "w");
    assert_int_equal(store_check(d->db, d->key2, r), 0);
    fclose(r);
}

static int count_any(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl,
                     char *err, size_t errlen)
{
    (*(int *)arg)++;
    return 0;
}

static void test_store_del_prefix(void **st)
{
    struct dir *d = *st;
    struct store_opts o = { .path = d->db };
    struct store *s;
    char err[512];
    assert_int_equal(store_open(&s, &o, err, sizeof err), 0);
    for (int p = 0; p < 3; p++)
        for (int i = 0; i < 50; i++) {
            uint8_t k[10] = { 0, (uint8_t)p };
            put64(k + 2, (uint64_t)i);
            assert_int_equal(store_put(s, SDB_RX2, k, sizeof k, NULL, 0), 0);
        }
    assert_int_equal(store_commit(s, err, sizeof err), 0);
    uint8_t pre[2] = { 0, 1 };
    assert_int_equal(store_del_prefix(s, SDB_RX2, pre, 2), 0);
    assert_int_equal(store_commit(s, err, sizeof err), 0);
    int n = 0;
    assert_int_equal(store_scan(s, SDB_RX2, NULL, 0, count_any, &n, err, sizeof err), 0);
    assert_int_equal(n, 100);
    n = 0;
    assert_int_equal(store_scan(s, SDB_RX2, pre, 2, count_any, &n, err, sizeof err), 0);
    assert_int_equal(n, 0);
    pre[1] = 2;                                   /* the last prefix, up to the end */
    assert_int_equal(store_del_prefix(s, SDB_RX2, pre, 2), 0);
    n = 0;
    assert_int_equal(store_scan(s, SDB_RX2, NULL, 0, count_any, &n, err, sizeof err), 0);
    assert_int_equal(n, 50);
    store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_plain_roundtrip_and_tamper),
        cmocka_unit_test(test_record_gcm_roundtrip_and_tamper),
        cmocka_unit_test(test_record_gcm_hides_plaintext),
        cmocka_unit_test(test_record_wrong_key),
        cmocka_unit_test(test_lookup_hash_keyed),
        cmocka_unit_test_setup_teardown(test_key_file_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_wrong_key_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_key_for_plain_store_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_flipped_byte_on_disk_detected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_truncated_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_map_full_refuses_unit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_rekey_rotates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_del_prefix, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
