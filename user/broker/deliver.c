/* Routing one message: retained store update, subscription match, one
 * delivery per matching session at the highest granted QoS of its
 * overlapping subscriptions [MQTT-3.3.5-1], capped at the QoS of the
 * message [MQTT-3.8.4-6]. The message is shared, never copied. */
#include <stdlib.h>

#include "broker/auth.h"
#include "broker/engine.h"
#include "broker/msg.h"
#include "broker/session.h"
#include "config.h"
#include "mqtt/retain.h"
#include "mqtt/topic_tree.h"
#include "store/persist.h"

static void on_match(void *owner, uint8_t qos, void *arg)
{
    struct engine *e = arg;
    struct session *s = owner;
    if (s->match_gen == e->match_gen) {
        if (qos > s->match_qos)
            s->match_qos = qos;
        return;
    }
    if (e->n_matched == e->cap_matched) {
        uint32_t ncap = e->cap_matched ? e->cap_matched * 2 : 64;
        struct session **nm = realloc(e->matched, ncap * sizeof *nm);
        if (!nm) {
            e->st.oom++;
            e->st.pub_dropped++;
            return;
        }
        e->matched = nm;
        e->cap_matched = ncap;
    }
    s->match_gen = e->match_gen;
    s->match_qos = qos;
    e->matched[e->n_matched++] = s;
}

static void update_retained(struct engine *e, struct msg *m)
{
    struct msg *old;
    if (m->payload_len == 0) {            /* [MQTT-3.3.1-10/11] */
        old = retain_set(e->retained, msg_topic(m), m->topic_len, NULL);
    } else {
        old = retain_set(e->retained, msg_topic(m), m->topic_len, msg_ref(m));
        if (old == m) {                   /* store out of memory: nothing kept */
            e->st.oom++;
            msg_unref(m);
            return;
        }
    }
    msg_unref(old);
    persist_retain(e, m);
}

uint32_t engine_publish(struct engine *e, struct msg *m)
{
    if (m->retain && e->cfg->retain_available)
        update_retained(e, m);
    e->match_gen++;
    e->n_matched = 0;
    topic_tree_match(e->subs, msg_topic(m), m->topic_len, on_match, e);
    /* Deliveries cannot re-enter engine_publish (Wills are deferred to
     * the loop), so the scratch array is stable here. */
    for (uint32_t i = 0; i < e->n_matched; i++) {
        struct session *s = e->matched[i];
        if (s->acl && !auth_may_receive(s, msg_topic(m), m->topic_len))
            continue;         /* retained and live messages obey the ACL alike */
        uint8_t q = m->qos < s->match_qos ? m->qos : s->match_qos;
        session_deliver(e, s, m, q, false);   /* live: RETAIN 0 [MQTT-3.3.1-9] */
    }
    uint32_t matched = e->n_matched;
    e->n_matched = 0;
    return matched;
}
