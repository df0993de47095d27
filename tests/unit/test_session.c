/* Session state transitions: in-flight window, queueing, acks, resume
 * with DUP, QoS 2 receive ids, fan-out de-duplication. Runs the real
 * session/deliver code against a connection whose output is inspected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "broker/conn.h"
#include "broker/engine.h"
#include "broker/msg.h"
#include "broker/session.h"
#include "config.h"
#include "mqtt/packet.h"
#include "mqtt/retain.h"
#include "mqtt/topic_tree.h"

struct fixture {
    struct moat_config cfg;
    struct engine *e;
    struct session *s;
    struct conn *c;
};

static int setup(void **st)
{
    struct fixture *f = calloc(1, sizeof *f);
    f->cfg.max_inflight_messages = 2;
    f->cfg.max_queued_messages = 3;
    f->cfg.moat_max_output_bytes = 1 << 20;
    f->cfg.retain_available = true;
    f->e = calloc(1, sizeof *f->e);
    f->e->cfg = &f->cfg;
    f->e->el = ev_new();
    f->e->subs = topic_tree_new(1);
    f->e->retained = retain_new(2);
    f->e->seed = 3;
    f->s = session_create(f->e, (const uint8_t *)"c1", 2, false);
    f->c = calloc(1, sizeof *f->c);
    f->c->eng = f->e;
    f->c->state = CONN_ACTIVE;
    f->c->s = f->s;
    f->s->conn = f->c;
    *st = f;
    return 0;
}

static int teardown(void **st)
{
    struct fixture *f = *st;
    outq_clear(&f->c->out);
    f->s->conn = NULL;
    session_destroy(f->e, f->s);
    topic_tree_free(f->e->subs);
    retain_free(f->e->retained, msg_unref_void);
    free(f->e->sess_tab);
    free(f->e->matched);
    ev_free(f->e->el);
    free(f->e);
    free(f->c);
    free(f);
    return 0;
}

/* Decodes every packet queued on the connection, then empties the queue. */
struct out_pkt { uint8_t type; uint8_t qos; bool dup; bool retain; uint16_t pid; };

static int take_output(struct conn *c, struct out_pkt *pk, int max)
{
    static uint8_t buf[65536];
    size_t len = 0;
    for (uint32_t i = c->out.head; i < c->out.tail; i++) {
        struct oseg *sg = &c->out.seg[i];
        const uint8_t *b = sg->ref ? msg_payload(sg->ref) : c->out.hdr;
        memcpy(buf + len, b + sg->off, sg->len);
        len += sg->len;
    }
    outq_clear(&c->out);
    c->dirty = false;
    c->eng->dirty = NULL;
    int n = 0;
    size_t off = 0;
    while (off < len && n < max) {
        struct mqtt_fixed fh;
        assert_true(mqtt_fixed_parse(buf + off, len - off, 0, &fh) > 0);
        struct mqtt_packet p;
        assert_int_equal(mqtt_decode(&fh, buf + off + fh.hdr_len, fh.remaining, &p), 0);
        pk[n] = (struct out_pkt){ .type = fh.type };
        if (fh.type == MQTT_PUBLISH) {
            pk[n].qos = p.u.publish.qos;
            pk[n].dup = p.u.publish.dup;
            pk[n].retain = p.u.publish.retain;
            pk[n].pid = p.u.publish.pid;
        } else {
            pk[n].pid = p.u.pid;
        }
        n++;
        off += fh.hdr_len + fh.remaining;
    }
    return n;
}

static struct msg *mk(uint8_t qos)
{
    return msg_new((const uint8_t *)"a/b", 3, (const uint8_t *)"x", 1, qos, false);
}

static void deliver(struct fixture *f, uint8_t qos, int count)
{
    for (int i = 0; i < count; i++) {
        struct msg *m = mk(qos);
        session_deliver(f->e, f->s, m, qos, false);
        msg_unref(m);
    }
}

static void test_qos1_window_then_queue(void **st)
{
    struct fixture *f = *st;
    struct out_pkt p[8];
    deliver(f, 1, 4);
    assert_int_equal(take_output(f->c, p, 8), 2);       /* window of 2 */
    assert_int_equal(p[0].pid, 1);
    assert_int_equal(p[1].pid, 2);
    assert_int_equal(f->s->q_len, 2);
    assert_true(session_puback(f->e, f->s, 1));
    assert_int_equal(take_output(f->c, p, 8), 1);       /* queue moves in */
    assert_int_equal(p[0].pid, 3);
    assert_false(session_puback(f->e, f->s, 1));        /* already acked */
    assert_false(session_puback(f->e, f->s, 99));
}

static void test_offline_queue_bounded(void **st)
{
    struct fixture *f = *st;
    f->s->conn = NULL;
    deliver(f, 1, 5);
    assert_int_equal(f->s->q_len, 3);                    /* max_queued_messages */
    assert_int_equal(f->e->st.queue_overflow, 2);
    deliver(f, 0, 2);                                    /* QoS 0 offline: dropped */
    assert_int_equal(f->s->q_len, 3);
    f->s->conn = f->c;
    struct out_pkt p[8];
    session_resume(f->e, f->s);
    assert_int_equal(take_output(f->c, p, 8), 2);
    assert_false(p[0].dup);
}

static void test_qos0_queued_when_configured(void **st)
{
    struct fixture *f = *st;
    f->cfg.queue_qos0_messages = true;
    f->s->conn = NULL;
    deliver(f, 0, 2);
    assert_int_equal(f->s->q_len, 2);
    f->s->conn = f->c;
    session_resume(f->e, f->s);
    struct out_pkt p[8];
    assert_int_equal(take_output(f->c, p, 8), 2);
    assert_int_equal(p[0].qos, 0);
    f->cfg.queue_qos0_messages = false;
}

/* [MQTT-4.4.0-1]: unacknowledged PUBLISH resent with DUP, PUBREL for
 * QoS 2 past PUBREC, in the original order. */
static void test_resume_resends_in_order_with_dup(void **st)
{
    struct fixture *f = *st;
    struct out_pkt p[8];
    deliver(f, 2, 1);
    deliver(f, 1, 1);
    assert_int_equal(take_output(f->c, p, 8), 2);
    assert_true(session_pubrec(f->e, f->s, 1));
    assert_int_equal(f->s->inf[0].state, INF_WAIT_PUBCOMP);
    assert_null(f->s->inf[0].m);                         /* payload released */
    session_resume(f->e, f->s);
    assert_int_equal(take_output(f->c, p, 8), 2);
    assert_int_equal(p[0].type, MQTT_PUBREL);
    assert_int_equal(p[0].pid, 1);
    assert_int_equal(p[1].type, MQTT_PUBLISH);
    assert_true(p[1].dup);
    assert_int_equal(p[1].pid, 2);
    assert_true(session_pubcomp(f->e, f->s, 1));
    assert_true(session_puback(f->e, f->s, 2));
    assert_int_equal(f->s->n_inf, 0);
}

static void test_rx2_ids(void **st)
{
    struct fixture *f = *st;
    assert_int_equal(session_rx2_add(f->s, 7), 1);
    assert_int_equal(session_rx2_add(f->s, 3), 1);
    assert_int_equal(session_rx2_add(f->s, 7), 0);      /* DUP: not delivered again */
    assert_true(session_rx2_del(f->s, 7));
    assert_false(session_rx2_del(f->s, 7));
    assert_int_equal(session_rx2_add(f->s, 7), 1);
}

/* [MQTT-3.3.5-1]: overlapping subscriptions, one delivery at the highest
 * granted QoS; [MQTT-3.8.4-6]: never above the message's QoS. */
static void test_overlap_delivered_once_at_max_qos(void **st)
{
    struct fixture *f = *st;
    topic_tree_add(f->e->subs, (const uint8_t *)"a/+", 3, f->s, 1);
    topic_tree_add(f->e->subs, (const uint8_t *)"a/#", 3, f->s, 2);
    topic_tree_add(f->e->subs, (const uint8_t *)"#", 1, f->s, 0);
    struct msg *m = mk(2);
    engine_publish(f->e, m);
    msg_unref(m);
    struct out_pkt p[8];
    assert_int_equal(take_output(f->c, p, 8), 1);
    assert_int_equal(p[0].qos, 2);
    assert_false(p[0].retain);
    m = mk(1);
    engine_publish(f->e, m);
    msg_unref(m);
    assert_int_equal(take_output(f->c, p, 8), 1);
    assert_int_equal(p[0].qos, 1);
    topic_tree_remove(f->e->subs, (const uint8_t *)"a/+", 3, f->s);
    topic_tree_remove(f->e->subs, (const uint8_t *)"a/#", 3, f->s);
    topic_tree_remove(f->e->subs, (const uint8_t *)"#", 1, f->s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_qos1_window_then_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_offline_queue_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_qos0_queued_when_configured, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resume_resends_in_order_with_dup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rx2_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overlap_delivered_once_at_max_qos, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
