/* Incoming PUBLISH [MQTT-3.3] and the receiver side of QoS 2: PUBREL
 * [MQTT-3.6]. QoS 2 uses method B of [MQTT-4.3.3]: deliver on PUBLISH,
 * remember the packet id until PUBREL, so a DUP resend is acked but not
 * delivered twice. */
#include <string.h>

#include "broker/auth.h"
#include "broker/conn.h"
#include "broker/engine.h"
#include "broker/handlers.h"
#include "broker/msg.h"
#include "broker/send.h"
#include "broker/session.h"
#include "config.h"
#include "mqtt/packet.h"
#include "policy/detect.h"
#include "store/persist.h"
#include "util/log.h"

static void publish_in(struct conn *c, const struct mqtt_publish *pub)
{
    struct engine *e = c->eng;
    e->st.pub_msgs_received++;
    /* $SYS belongs to the broker: a client cannot spoof its statistics. */
    if (pub->topic.len >= 4 && !memcmp(pub->topic.p, "$SYS", 4) &&
        (pub->topic.len == 4 || pub->topic.p[4] == '/')) {
        e->st.pub_dropped++;
        return;
    }
    if (!auth_may_publish(c->s, pub->topic.p, pub->topic.len)) {
        char name[160];
        e->st.acl_denied++;
        log_notice("%s (user '%s'): PUBLISH to '%.*s' denied by the ACL; not delivered",
                   conn_name(c, name, sizeof name), c->s->username ? c->s->username : "",
                   (int)pub->topic.len, (const char *)pub->topic.p);
        detect_event(e, DET_ACL_DENIED, c, NULL, NULL, 0);
        if (e->cfg->moat_acl_deny_disconnect)
            conn_close(c, true, "PUBLISH denied by the ACL (moat_acl_deny_disconnect)");
        return;
    }
    struct msg *m = msg_new(pub->topic.p, (uint16_t)pub->topic.len, pub->payload.p,
                            pub->payload.len, pub->qos, pub->retain);
    if (!m) {
        e->st.oom++;
        e->st.pub_dropped++;
        return;
    }
    detect_topic(e, c, pub->topic.p, pub->topic.len);
    if (c->state == CONN_CLOSED) {     /* disconnected as a scanner */
        msg_unref(m);
        return;
    }
    if (engine_publish(e, m) == 0)
        detect_event(e, DET_UNDELIVERABLE, c, NULL, NULL, 0);
    msg_unref(m);
}

int handle_publish(struct conn *c, const struct mqtt_packet *p)
{
    const struct mqtt_publish *pub = &p->u.publish;
    switch (pub->qos) {
    case 0:
        publish_in(c, pub);
        return 0;
    case 1:
        publish_in(c, pub);
        send_ack(c, MQTT_PUBACK, pub->pid);
        return 0;
    default: {
        int r = session_rx2_add(c->s, pub->pid);
        if (r < 0) {
            c->eng->st.oom++;
            conn_close(c, true, "out of memory for QoS 2 state");
            return 0;
        }
        if (r == 1) {
            persist_rx2(c->eng, c->s, pub->pid, true);
            publish_in(c, pub);
        }
        send_ack(c, MQTT_PUBREC, pub->pid);
        return 0;
    }
    }
}

int handle_pubrel(struct conn *c, const struct mqtt_packet *p)
{
    /* PUBCOMP even for an unknown id: the client may be resending after
     * we already completed [MQTT-4.3.3-1]. */
    if (session_rx2_del(c->s, p->u.pid))
        persist_rx2(c->eng, c->s, p->u.pid, false);
    send_ack(c, MQTT_PUBCOMP, p->u.pid);
    return 0;
}
