/* Session state: subscriptions list, in-flight window, offline queue,
 * incoming QoS 2 ids. Delivery decisions (send now, queue, drop) live
 * here; the wire encoding of PUBLISH is in send_publish.c. */
#include "broker/session.h"

#include <stdlib.h>
#include <string.h>

#include "broker/conn.h"
#include "broker/engine.h"
#include "broker/msg.h"
#include "broker/send.h"
#include "config.h"
#include "mqtt/topic_tree.h"
#include "policy/detect.h"
#include "store/persist.h"
#include "util/log.h"

void session_destroy(struct engine *e, struct session *s)
{
    persist_session_drop(e, s);
    for (uint32_t i = 0; i < s->n_subs; i++) {
        topic_tree_remove(e->subs, (const uint8_t *)s->subs[i].filter, s->subs[i].len, s);
        free(s->subs[i].filter);
    }
    free(s->subs);
    for (uint16_t i = 0; i < s->n_inf; i++)
        msg_unref(s->inf[i].m);
    free(s->inf);
    for (uint32_t i = 0; i < s->q_len; i++)
        msg_unref(s->q[(s->q_head + i) % s->q_cap].m);
    free(s->q);
    free(s->rx2);
    msg_unref(s->will);
    det_topics_free(s->det_topics);
    session_unlink(e, s);
    free(s->username);
    free(s->client_id);
    free(s);
}

int session_sub_add(struct session *s, const uint8_t *f, uint16_t len, uint8_t qos)
{
    for (uint32_t i = 0; i < s->n_subs; i++)
        if (s->subs[i].len == len && !memcmp(s->subs[i].filter, f, len)) {
            s->subs[i].qos = qos;
            return 0;
        }
    if (s->n_subs == s->cap_subs) {
        uint32_t ncap = s->cap_subs ? s->cap_subs * 2 : 2;
        struct sub *ns = realloc(s->subs, ncap * sizeof *ns);
        if (!ns)
            return -1;
        s->subs = ns;
        s->cap_subs = ncap;
    }
    char *copy = malloc(len ? len : 1);
    if (!copy)
        return -1;
    memcpy(copy, f, len);
    s->subs[s->n_subs++] = (struct sub){ .filter = copy, .len = len, .qos = qos };
    return 1;
}

bool session_sub_del(struct session *s, const uint8_t *f, uint16_t len)
{
    for (uint32_t i = 0; i < s->n_subs; i++)
        if (s->subs[i].len == len && !memcmp(s->subs[i].filter, f, len)) {
            free(s->subs[i].filter);
            s->subs[i] = s->subs[--s->n_subs];
            return true;
        }
    return false;
}

static uint16_t window(const struct engine *e)
{
    uint16_t w = e->cfg->max_inflight_messages;
    return w ? w : 65535;
}

static bool online(const struct session *s)
{
    return s->conn && s->conn->state == CONN_ACTIVE;
}

/* A packet id not in flight. The window is at most 65535 wide, so the
 * scan always ends. */
static uint16_t alloc_pid(struct session *s)
{
    for (;;) {
        uint16_t pid = s->next_pid++;
        if (!s->next_pid)
            s->next_pid = 1;
        if (!pid)
            continue;
        bool used = false;
        for (uint16_t i = 0; i < s->n_inf && !used; i++)
            used = s->inf[i].pid == pid;
        if (!used)
            return pid;
    }
}

static int send_inflight(struct engine *e, struct session *s, struct msg *m, uint8_t qos, bool retain)
{
    if (s->n_inf == s->cap_inf) {
        uint32_t ncap = s->cap_inf ? (uint32_t)s->cap_inf * 2 : 4;
        if (ncap > window(e))
            ncap = window(e);
        struct inflight *ni = realloc(s->inf, ncap * sizeof *ni);
        if (!ni)
            return -1;
        s->inf = ni;
        s->cap_inf = (uint16_t)ncap;
    }
    uint16_t pid = alloc_pid(s);
    s->inf[s->n_inf++] = (struct inflight){
        .m = msg_ref(m), .pid = pid, .qos = qos, .retain = retain,
        .state = qos == 1 ? INF_WAIT_PUBACK : INF_WAIT_PUBREC,
    };
    return send_publish(s->conn, m, qos, false, retain, pid);
}

static int queue_push(struct engine *e, struct session *s, struct msg *m, uint8_t qos, bool retain)
{
    const struct moat_config *cfg = e->cfg;
    if ((cfg->max_queued_messages && s->q_len >= cfg->max_queued_messages) ||
        (cfg->max_queued_bytes && s->q_bytes + m->payload_len > cfg->max_queued_bytes)) {
        e->st.queue_overflow++;
        e->st.pub_dropped++;
        /* One line per overflow episode, not per message. */
        if (!s->q_overflowed)
            log_notice("session '%s': queue full (%u messages, %llu bytes, %u in flight), "
                       "dropping until it drains",
                       s->client_id, s->q_len, (unsigned long long)s->q_bytes, s->n_inf);
        s->q_overflowed = true;
        return -1;
    }
    if (s->q_len == s->q_cap) {
        uint32_t ncap = s->q_cap ? s->q_cap * 2 : 8;
        struct qentry *nq = malloc(ncap * sizeof *nq);
        if (!nq) {
            e->st.oom++;
            e->st.pub_dropped++;
            return -1;
        }
        for (uint32_t i = 0; i < s->q_len; i++)
            nq[i] = s->q[(s->q_head + i) % s->q_cap];
        free(s->q);
        s->q = nq;
        s->q_cap = ncap;
        s->q_head = 0;
    }
    s->q[(s->q_head + s->q_len) % s->q_cap] = (struct qentry){ .m = msg_ref(m), .qos = qos, .retain = retain };
    s->q_len++;
    s->q_bytes += m->payload_len;
    persist_append(e, s, m, qos, retain, PERSIST_QUEUED, 0);
    return 0;
}

/* Moves queued messages into the window while there is room. */
static void drain(struct engine *e, struct session *s)
{
    while (s->q_len && online(s)) {
        struct qentry *q = &s->q[s->q_head];
        if (q->qos > 0 && s->n_inf >= window(e))
            break;
        struct qentry qe = *q;
        uint16_t idx = s->n_inf;      /* the queue head's place in the stored list */
        s->q_head = (s->q_head + 1) % s->q_cap;
        s->q_len--;
        s->q_bytes -= qe.m->payload_len;
        if (qe.qos == 0)
            send_publish(s->conn, qe.m, 0, false, qe.retain, 0);
        else if (send_inflight(e, s, qe.m, qe.qos, qe.retain) < 0)
            e->st.oom++;
        if (s->n_inf > idx)
            persist_update(e, s, idx, s->inf[idx].state, s->inf[idx].pid);
        else
            persist_remove(e, s, idx);
        msg_unref(qe.m);
    }
    if (!s->q_len)
        s->q_overflowed = false;
    if (!s->q_len && s->q_cap > 8) {   /* give back a burst's memory */
        free(s->q);
        s->q = NULL;
        s->q_cap = s->q_head = 0;
    }
}

void session_deliver(struct engine *e, struct session *s, struct msg *m, uint8_t qos, bool retain)
{
    if (qos == 0) {
        if (!online(s)) {
            if (!s->clean && e->cfg->queue_qos0_messages)
                queue_push(e, s, m, 0, retain);
            else
                e->st.pub_dropped++;
            return;
        }
        /* A slow reader loses QoS 0 rather than growing without bound. */
        if (s->conn->out.bytes > e->cfg->moat_max_output_bytes) {
            e->st.pub_dropped++;
            return;
        }
        send_publish(s->conn, m, 0, false, retain, 0);
        return;
    }
    if (online(s) && !s->q_len && s->n_inf < window(e)) {
        uint16_t n = s->n_inf;
        if (send_inflight(e, s, m, qos, retain) < 0) {
            e->st.oom++;
            e->st.pub_dropped++;
        }
        if (s->n_inf > n)
            persist_append(e, s, m, qos, retain, s->inf[n].state, s->inf[n].pid);
        return;
    }
    queue_push(e, s, m, qos, retain);
}

static int find_inf(const struct session *s, uint16_t pid, uint8_t state)
{
    for (uint16_t i = 0; i < s->n_inf; i++)
        if (s->inf[i].pid == pid && s->inf[i].state == state)
            return i;
    return -1;
}

static void remove_inf(struct session *s, int i)
{
    msg_unref(s->inf[i].m);
    memmove(&s->inf[i], &s->inf[i + 1], (size_t)(s->n_inf - i - 1) * sizeof *s->inf);
    s->n_inf--;
    if (!s->n_inf) {            /* idle sessions hold no window memory */
        free(s->inf);
        s->inf = NULL;
        s->cap_inf = 0;
    }
}

bool session_puback(struct engine *e, struct session *s, uint16_t pid)
{
    int i = find_inf(s, pid, INF_WAIT_PUBACK);
    if (i < 0)
        return false;
    persist_remove(e, s, (uint32_t)i);
    remove_inf(s, i);
    drain(e, s);
    return true;
}

bool session_pubrec(struct engine *e, struct session *s, uint16_t pid)
{
    int i = find_inf(s, pid, INF_WAIT_PUBREC);
    if (i < 0)
        return find_inf(s, pid, INF_WAIT_PUBCOMP) >= 0;   /* repeated PUBREC */
    msg_unref(s->inf[i].m);      /* the payload is no longer needed [MQTT-4.3.3] */
    s->inf[i].m = NULL;
    s->inf[i].state = INF_WAIT_PUBCOMP;
    persist_update(e, s, (uint32_t)i, INF_WAIT_PUBCOMP, pid);
    return true;
}

bool session_pubcomp(struct engine *e, struct session *s, uint16_t pid)
{
    int i = find_inf(s, pid, INF_WAIT_PUBCOMP);
    if (i < 0)
        return false;
    persist_remove(e, s, (uint32_t)i);
    remove_inf(s, i);
    drain(e, s);
    return true;
}

void session_resume(struct engine *e, struct session *s)
{
    for (uint16_t i = 0; i < s->n_inf && online(s); i++) {
        struct inflight *f = &s->inf[i];
        if (f->state == INF_WAIT_PUBCOMP)
            send_pubrel(s->conn, f->pid);
        else
            send_publish(s->conn, f->m, f->qos, true, f->retain, f->pid);
    }
    drain(e, s);
}

int session_rx2_add(struct session *s, uint16_t pid)
{
    uint32_t lo = 0, hi = s->n_rx2;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (s->rx2[mid] < pid)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < s->n_rx2 && s->rx2[lo] == pid)
        return 0;
    if (s->n_rx2 == s->cap_rx2) {
        uint32_t ncap = s->cap_rx2 ? s->cap_rx2 * 2 : 4;
        uint16_t *nr = realloc(s->rx2, ncap * sizeof *nr);
        if (!nr)
            return -1;
        s->rx2 = nr;
        s->cap_rx2 = ncap;
    }
    memmove(&s->rx2[lo + 1], &s->rx2[lo], (s->n_rx2 - lo) * sizeof *s->rx2);
    s->rx2[lo] = pid;
    s->n_rx2++;
    return 1;
}

bool session_rx2_del(struct session *s, uint16_t pid)
{
    for (uint32_t i = 0; i < s->n_rx2; i++)
        if (s->rx2[i] == pid) {
            memmove(&s->rx2[i], &s->rx2[i + 1], (s->n_rx2 - i - 1) * sizeof *s->rx2);
            if (!--s->n_rx2) {
                free(s->rx2);
                s->rx2 = NULL;
                s->cap_rx2 = 0;
            }
            return true;
        }
    return false;
}
