/* SUBSCRIBE [MQTT-3.8]: each filter enters the tree and the session's
 * list (a repeat replaces the QoS [MQTT-3.8.4-3]); SUBACK carries one
 * return code per filter in order [MQTT-3.8.4-4/5]; then the retained
 * messages matching each filter are sent with RETAIN 1 [MQTT-3.3.1-6]. */
#include <stdlib.h>

#include "broker/auth.h"
#include "broker/conn.h"
#include "broker/engine.h"
#include "broker/handlers.h"
#include "broker/msg.h"
#include "broker/session.h"
#include "mqtt/packet.h"
#include "mqtt/retain.h"
#include "mqtt/topic_tree.h"
#include "policy/detect.h"
#include "store/persist.h"
#include "util/log.h"

#define MAX_GRANTED_QOS 2

struct replay {
    struct engine *e;
    struct session *s;
    uint8_t granted;
};

static void replay_retained(void *msg, void *arg)
{
    struct replay *r = arg;
    struct msg *m = msg;
    uint8_t q = m->qos < r->granted ? m->qos : r->granted;
    if (auth_may_receive(r->s, msg_topic(m), m->topic_len))
        session_deliver(r->e, r->s, m, q, true);
}

int handle_subscribe(struct conn *c, const struct mqtt_packet *p)
{
    struct engine *e = c->eng;
    struct session *s = c->s;
    const struct mqtt_filters *f = &p->u.filters;

    uint32_t max = 5u + 2u + f->count;
    uint8_t *rcs = malloc(f->count ? f->count : 1);
    if (!rcs) {
        e->st.oom++;
        conn_close(c, true, "out of memory for SUBACK");
        return 0;
    }
    uint32_t off = 0, i = 0;
    struct mqtt_bytes flt;
    uint8_t qos;
    char name[160];
    while (mqtt_filters_next(f, true, &off, &flt, &qos)) {
        uint8_t g = qos > MAX_GRANTED_QOS ? MAX_GRANTED_QOS : qos;
        if (!auth_may_subscribe(s, flt.p, flt.len)) {
            /* [MQTT-3.9.3]: 0x80 for this filter, the others proceed. */
            e->st.acl_denied++;
            log_notice("%s (user '%s'): SUBSCRIBE to '%.*s' denied by the ACL",
                       conn_name(c, name, sizeof name), s->username ? s->username : "",
                       (int)flt.len, (const char *)flt.p);
            detect_event(e, DET_ACL_DENIED, c, NULL, NULL, 0);
            if (c->state == CONN_CLOSED) {
                free(rcs);
                return 0;
            }
            rcs[i++] = MQTT_SUBACK_FAILURE;
            continue;
        }
        if (topic_tree_add(e->subs, flt.p, flt.len, s, g) < 0 ||
            session_sub_add(s, flt.p, (uint16_t)flt.len, g) < 0) {
            topic_tree_remove(e->subs, flt.p, flt.len, s);
            session_sub_del(s, flt.p, (uint16_t)flt.len);
            e->st.oom++;
            g = MQTT_SUBACK_FAILURE;
        }
        rcs[i++] = g;
        detect_topic(e, c, flt.p, flt.len);
        if (c->state == CONN_CLOSED) {   /* disconnected as a scanner: s is gone */
            free(rcs);
            return 0;
        }
        log_msg(LOG_T_SUBSCRIBE, "%s subscribed to '%.*s' qos %u (granted %u)",
                conn_name(c, name, sizeof name), (int)flt.len, (const char *)flt.p, qos, g);
    }
    persist_session_save(e, s);
    /* SUBACK is encoded straight into the output queue. */
    uint8_t *w = outq_reserve(&c->out, max);
    size_t n = w ? mqtt_encode_suback(w, max, f->pid, rcs, i) : 0;
    if (!n || outq_commit(&c->out, (uint32_t)n) < 0) {
        free(rcs);
        conn_close(c, true, "out of memory for SUBACK");
        return 0;
    }
    e->st.msgs_sent++;
    conn_mark_dirty(c);

    off = 0;
    i = 0;
    while (mqtt_filters_next(f, true, &off, &flt, &qos) && c->state != CONN_CLOSED) {
        struct replay r = { .e = e, .s = s, .granted = rcs[i++] };
        if (r.granted != MQTT_SUBACK_FAILURE)
            retain_match(e->retained, flt.p, flt.len, replay_retained, &r);
    }
    free(rcs);
    return 0;
}
