/* The broker glue of the store (persist.c, persist_load.c): a model test
 * drives one clean-session-0 session through random deliveries, acks,
 * disconnects, QoS 2 receive ids and subscription changes, "restarts"
 * (commit, close, free, reopen) at random points and requires the
 * restored session to equal the one before: window (pids, states, order,
 * payloads), queue, incoming QoS 2 ids, subscriptions [MQTT-4.1]. Also
 * one body per message shared by several sessions, and retained messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/conn.h"
#include "broker/engine.h"
#include "broker/msg.h"
#include "broker/session.h"
#include "config.h"
#include "mqtt/retain.h"
#include "mqtt/topic_tree.h"
#include "store/persist.h"
#include "store/persist_internal.h"
#include "store/store.h"

struct fx {
    char dir[64];
    struct moat_config cfg;
    struct engine *e;
    struct conn *c;
};

static struct engine *engine_up(struct fx *f)
{
    struct engine *e = calloc(1, sizeof *e);
    e->cfg = &f->cfg;
    e->el = ev_new();
    e->subs = topic_tree_new(1);
    e->retained = retain_new(2);
    e->seed = 3;
    char err[512];
    if (persist_open(e, err, sizeof err) < 0)
        fail_msg("persist_open: %s", err);
    return e;
}

/* As engine_free: the store is closed before sessions are freed, so the
 * frees are not deletions. */
static void engine_down(struct engine *e)
{
    assert_int_equal(persist_commit(e), 0);
    persist_close(e);
    for (uint32_t b = 0; b < e->sess_cap; b++)
        while (e->sess_tab[b]) {
            e->sess_tab[b]->conn = NULL;
            session_destroy(e, e->sess_tab[b]);
        }
    free(e->sess_tab);
    topic_tree_free(e->subs);
    retain_free(e->retained, msg_unref_void);
    free(e->matched);
    ev_free(e->el);
    free(e);
}

static int setup(void **st)
{
    struct fx *f = calloc(1, sizeof *f);
    strcpy(f->dir, "/tmp/moat-test-persist.XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    f->cfg.max_inflight_messages = 3;
    f->cfg.max_queued_messages = 50;
    f->cfg.moat_max_output_bytes = 1 << 20;
    f->cfg.retain_available = true;
    f->cfg.persistence = true;
    f->cfg.persistence_location = f->dir;
    f->cfg.moat_persistence_fsync = false;
    f->c = calloc(1, sizeof *f->c);
    f->e = engine_up(f);
    f->c->eng = f->e;
    f->c->state = CONN_ACTIVE;
    *st = f;
    return 0;
}

static int teardown(void **st)
{
    struct fx *f = *st;
    outq_clear(&f->c->out);
    engine_down(f->e);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd)) {}
    free(f->c);
    free(f);
    return 0;
}

static struct session *new_session(struct fx *f, const char *id)
{
    struct session *s = session_create(f->e, (const uint8_t *)id, (uint16_t)strlen(id), false);
    persist_session_save(f->e, s);        /* as handle_connect */
    return s;
}

static void online(struct fx *f, struct session *s)
{
    f->c->eng = f->e;
    f->c->s = s;
    s->conn = f->c;
    session_resume(f->e, s);
}

static void offline(struct fx *f, struct session *s)
{
    s->conn = NULL;
    outq_clear(&f->c->out);
    f->c->dirty = false;
    f->e->dirty = NULL;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Canonical text of everything that must survive. */
static char *snapshot(const struct session *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *o = open_memstream(&buf, &len);
    fprintf(o, "id=%s clean=%d\ninf:", s->client_id, s->clean);
    for (uint16_t i = 0; i < s->n_inf; i++) {
        const struct inflight *x = &s->inf[i];
        fprintf(o, " [%u %u q%u r%d %.*s]", x->pid, x->state, x->qos, x->retain,
                x->m ? (int)x->m->payload_len : 0, x->m ? (const char *)msg_payload(x->m) : "");
    }
    fprintf(o, "\nq:");
    for (uint32_t i = 0; i < s->q_len; i++) {
        const struct qentry *x = &s->q[(s->q_head + i) % s->q_cap];
        fprintf(o, " [q%u r%d %.*s]", x->qos, x->retain, (int)x->m->payload_len,
                (const char *)msg_payload(x->m));
    }
    fprintf(o, "\nbytes=%llu rx2:", (unsigned long long)s->q_bytes);
    for (uint32_t i = 0; i < s->n_rx2; i++)
        fprintf(o, " %u", s->rx2[i]);
    /* subscriptions: order-independent */
    char **subs = calloc(s->n_subs + 1, sizeof *subs);
    for (uint32_t i = 0; i < s->n_subs; i++) {
        subs[i] = malloc(s->subs[i].len + 8);
        snprintf(subs[i], s->subs[i].len + 8, "%.*s/%u", (int)s->subs[i].len, s->subs[i].filter,
                 s->subs[i].qos);
    }
    qsort(subs, s->n_subs, sizeof *subs, cmp_str);
    fprintf(o, "\nsubs:");
    for (uint32_t i = 0; i < s->n_subs; i++) {
        fprintf(o, " %s", subs[i]);
        free(subs[i]);
    }
    free(subs);
    fclose(o);
    return buf;
}

static struct session *restart(struct fx *f, const char *id)
{
    outq_clear(&f->c->out);
    f->e->dirty = NULL;
    f->c->dirty = false;
    engine_down(f->e);
    f->e = engine_up(f);
    f->c->eng = f->e;
    struct session *s = session_find(f->e, (const uint8_t *)id, (uint16_t)strlen(id));
    assert_non_null(s);
    assert_null(s->conn);
    return s;
}

static void deliver(struct fx *f, struct session *s, uint8_t qos, int n)
{
    char p[32];
    snprintf(p, sizeof p, "m%d", n);
    struct msg *m = msg_new((const uint8_t *)"t/x", 3, (const uint8_t *)p, (uint32_t)strlen(p), qos, false);
    session_deliver(f->e, s, m, qos, n % 5 == 0);
    msg_unref(m);
}

static int pick(const struct session *s, uint8_t state)
{
    int idx[70000], n = 0;
    for (uint16_t i = 0; i < s->n_inf; i++)
        if (s->inf[i].state == state)
            idx[n++] = i;
    return n ? idx[rand() % n] : -1;
}

/* Records in one database (through the open transaction). */
static int count_cb(void *arg, const uint8_t *k, size_t kl, const uint8_t *v, size_t vl,
                    char *err, size_t errlen)
{
    (*(int *)arg)++;
    return 0;
}

static int count(struct fx *f, enum store_db db)
{
    int n = 0;
    char err[256];
    assert_int_equal(store_scan(f->e->store, db, NULL, 0, count_cb, &n, err, sizeof err), 0);
    return n;
}

static void test_model_random_restarts(void **st)
{
    struct fx *f = *st;
    const char *id = "model-client";
    struct session *s = new_session(f, id);
    bool on = false;
    int next = 0, restarts = 0;
    srand(12345);
    for (int step = 0; step < 4000; step++) {
        int op = rand() % 100;
        if (op < 30) {
            deliver(f, s, (uint8_t)(1 + rand() % 2), next++);
        } else if (op < 40 && on) {
            int i = pick(s, INF_WAIT_PUBACK);
            if (i >= 0)
                assert_true(session_puback(f->e, s, s->inf[i].pid));
        } else if (op < 48 && on) {
            int i = pick(s, INF_WAIT_PUBREC);
            if (i >= 0)
                assert_true(session_pubrec(f->e, s, s->inf[i].pid));
        } else if (op < 55 && on) {
            int i = pick(s, INF_WAIT_PUBCOMP);
            if (i >= 0)
                assert_true(session_pubcomp(f->e, s, s->inf[i].pid));
        } else if (op < 62) {
            if (on)
                offline(f, s);
            else
                online(f, s);
            on = !on;
        } else if (op < 70) {
            uint16_t pid = (uint16_t)(1 + rand() % 20);
            if (rand() % 2) {
                if (session_rx2_add(s, pid) == 1)
                    persist_rx2(f->e, s, pid, true);
            } else if (session_rx2_del(s, pid)) {
                persist_rx2(f->e, s, pid, false);
            }
        } else if (op < 76) {
            char flt[16];
            snprintf(flt, sizeof flt, "f/%d/#", rand() % 6);
            uint16_t fl = (uint16_t)strlen(flt);
            if (rand() % 2) {
                uint8_t q = (uint8_t)(rand() % 3);
                topic_tree_add(f->e->subs, (const uint8_t *)flt, fl, s, q);
                session_sub_add(s, (const uint8_t *)flt, fl, q);
            } else {
                topic_tree_remove(f->e->subs, (const uint8_t *)flt, fl, s);
                session_sub_del(s, (const uint8_t *)flt, fl);
            }
            persist_session_save(f->e, s);
        } else if (op < 90) {
            assert_int_equal(persist_commit(f->e), 0);      /* an iteration ends */
            if (on) {
                outq_clear(&f->c->out);
                f->e->dirty = NULL;
                f->c->dirty = false;
            }
        } else if (op < 93) {
            /* No leaked or missing body: one per entry that holds a payload. */
            assert_int_equal(persist_commit(f->e), 0);
            int with_body = (int)s->q_len;
            for (uint16_t i = 0; i < s->n_inf; i++)
                with_body += s->inf[i].m != NULL;
            assert_int_equal(count(f, SDB_BODY), with_body);
            assert_int_equal(count(f, SDB_ENTRY), (int)s->n_inf + (int)s->q_len);
            char *before = snapshot(s);
            s = restart(f, id);
            on = false;
            restarts++;
            char *after = snapshot(s);
            if (strcmp(before, after))
                fail_msg("step %d: restored session differs\nbefore: %s\nafter:  %s", step, before, after);
            free(before);
            free(after);
        }
    }
    assert_true(restarts > 20);
    assert_int_equal(store_counters(f->e->store)->units_refused, 0);
}

/* On reconnect after a restart, the window is resent with DUP=1 and
 * PUBREL for QoS 2 past PUBREC [MQTT-4.4.0-1]. */
static void test_restored_window_resent_with_dup(void **st)
{
    struct fx *f = *st;
    struct session *s = new_session(f, "dup-client");
    online(f, s);
    deliver(f, s, 2, 1);
    deliver(f, s, 1, 2);
    deliver(f, s, 1, 3);
    deliver(f, s, 1, 4);                                 /* queued: window is 3 */
    assert_true(session_pubrec(f->e, s, s->inf[0].pid));
    offline(f, s);
    s = restart(f, "dup-client");
    assert_int_equal(s->n_inf, 3);
    assert_int_equal(s->q_len, 1);
    assert_int_equal(s->inf[0].state, INF_WAIT_PUBCOMP);
    assert_null(s->inf[0].m);
    uint16_t pids[3] = { s->inf[0].pid, s->inf[1].pid, s->inf[2].pid };
    online(f, s);
    /* Decode the output: PUBREL, PUBLISH DUP, PUBLISH DUP. */
    struct outq *q = &f->c->out;
    uint8_t buf[512];
    size_t len = 0;
    for (uint32_t i = q->head; i < q->tail; i++) {
        struct oseg *sg = &q->seg[i];
        const uint8_t *b = sg->ref ? msg_payload(sg->ref) : q->hdr;
        memcpy(buf + len, b + sg->off, sg->len);
        len += sg->len;
    }
    assert_true(len > 10);
    assert_int_equal(buf[0], 0x62);                      /* PUBREL */
    assert_int_equal((buf[2] << 8) | buf[3], pids[0]);
    assert_int_equal(buf[4] & 0xf8, 0x38);               /* PUBLISH, DUP=1 */
    assert_int_equal(buf[4] & 0x06, 0x02);               /* QoS 1 */
    assert_true(session_pubcomp(f->e, s, pids[0]));
    assert_true(session_puback(f->e, s, pids[1]));
    assert_true(session_puback(f->e, s, pids[2]));
    offline(f, s);
}

/* A message for N persistent sessions is stored once; its body goes with
 * the last entry naming it. */
static void test_body_shared_by_sessions(void **st)
{
    struct fx *f = *st;
    struct session *a = new_session(f, "share-a"), *b = new_session(f, "share-b");
    struct msg *m = msg_new((const uint8_t *)"t", 1, (const uint8_t *)"shared", 6, 1, false);
    session_deliver(f->e, a, m, 1, false);
    session_deliver(f->e, b, m, 1, false);
    msg_unref(m);
    assert_int_equal(persist_commit(f->e), 0);
    assert_int_equal(count(f, SDB_BODY), 1);
    assert_int_equal(count(f, SDB_ENTRY), 2);
    a = restart(f, "share-a");
    b = session_find(f->e, (const uint8_t *)"share-b", 7);
    assert_ptr_equal(a->q[a->q_head].m, b->q[b->q_head].m);   /* one message again */
    online(f, a);
    assert_true(session_puback(f->e, a, a->inf[0].pid));
    offline(f, a);
    assert_int_equal(persist_commit(f->e), 0);
    assert_int_equal(count(f, SDB_BODY), 1);
    assert_int_equal(session_rx2_add(b, 9), 1);
    persist_rx2(f->e, b, 9, true);
    assert_int_equal(session_rx2_add(a, 9), 1);
    persist_rx2(f->e, a, 9, true);
    assert_int_equal(persist_commit(f->e), 0);
    assert_int_equal(count(f, SDB_RX2), 2);
    session_destroy(f->e, b);                               /* e.g. clean session 1 */
    assert_int_equal(persist_commit(f->e), 0);
    assert_int_equal(count(f, SDB_BODY), 0);
    assert_int_equal(count(f, SDB_ENTRY), 0);
    assert_int_equal(count(f, SDB_SESS), 1);
    assert_int_equal(count(f, SDB_RX2), 1);                /* only share-a's */
}

static void test_retained_set_and_clear(void **st)
{
    struct fx *f = *st;
    struct msg *m = msg_new((const uint8_t *)"r/1", 3, (const uint8_t *)"v1", 2, 1, true);
    engine_publish(f->e, m);
    msg_unref(m);
    m = msg_new((const uint8_t *)"r/2", 3, (const uint8_t *)"v2", 2, 0, true);
    engine_publish(f->e, m);
    msg_unref(m);
    m = msg_new((const uint8_t *)"$SYS/x", 6, (const uint8_t *)"v", 1, 0, true);
    engine_publish(f->e, m);
    msg_unref(m);
    assert_int_equal(persist_commit(f->e), 0);
    assert_int_equal(count(f, SDB_RETAIN), 2);               /* $SYS not stored */
    m = msg_new((const uint8_t *)"r/1", 3, (const uint8_t *)"", 0, 0, true);
    engine_publish(f->e, m);                                 /* [MQTT-3.3.1-10] clears */
    msg_unref(m);
    new_session(f, "keep");
    restart(f, "keep");
    assert_int_equal(retain_count(f->e->retained), 1);
}

/* store_check and store_rekey on a store the broker wrote: after turning
 * encryption on, the broker restores the same session and retained
 * message under the new key; the old (no) key no longer opens it. */
static void test_check_and_rekey_broker_store(void **st)
{
    struct fx *f = *st;
    struct session *s = new_session(f, "rekey-client");
    topic_tree_add(f->e->subs, (const uint8_t *)"a/#", 3, s, 2);
    session_sub_add(s, (const uint8_t *)"a/#", 3, 2);
    persist_session_save(f->e, s);
    online(f, s);
    for (int i = 0; i < 6; i++)
        deliver(f, s, (uint8_t)(1 + i % 2), i);
    assert_true(session_pubrec(f->e, s, s->inf[1].pid));
    assert_int_equal(session_rx2_add(s, 77), 1);
    persist_rx2(f->e, s, 77, true);
    offline(f, s);
    struct msg *m = msg_new((const uint8_t *)"r/k", 3, (const uint8_t *)"kept", 4, 1, true);
    engine_publish(f->e, m);
    msg_unref(m);
    char *before = snapshot(s);

    char path[128], key[128], err[512];
    snprintf(path, sizeof path, "%s/moat.lmdb", f->dir);
    snprintf(key, sizeof key, "%s/key", f->dir);
    FILE *k = fopen(key, "w");
    fputs("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n", k);
    fclose(k);
    chmod(key, 0600);

    s = restart(f, "rekey-client");          /* commit + reopen: the store is closed in between */
    engine_down(f->e);
    f->e = NULL;
    char *rep = NULL;
    size_t rl = 0;
    FILE *r = open_memstream(&rep, &rl);
    assert_int_equal(store_check(path, NULL, r), 0);
    fclose(r);
    assert_non_null(strstr(rep, "1 sessions, 6 entries, 5 bodies, 1 incoming QoS 2 ids, 1 retained"));
    free(rep);
    assert_int_equal(store_rekey(path, NULL, key, err, sizeof err), 0);
    r = fopen("/dev/null", "w");
    assert_int_equal(store_check(path, key, r), 0);
    assert_int_equal(store_check(path, NULL, r), -1);
    fclose(r);

    f->cfg.persistence_key_file = key;
    f->e = engine_up(f);
    f->c->eng = f->e;
    s = session_find(f->e, (const uint8_t *)"rekey-client", 12);
    assert_non_null(s);
    char *after = snapshot(s);
    assert_string_equal(before, after);
    assert_int_equal(retain_count(f->e->retained), 1);
    free(before);
    free(after);
    f->cfg.persistence_key_file = NULL;      /* teardown reuses cfg */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_model_random_restarts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restored_window_resent_with_dup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_body_shared_by_sessions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retained_set_and_clear, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_and_rekey_broker_store, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
