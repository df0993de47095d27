/* UNSUBSCRIBE [MQTT-3.10]: UNSUBACK even when nothing matched
 * [MQTT-3.10.4-5]; in-flight messages are still completed. */
#include "broker/conn.h"
#include "broker/engine.h"
#include "broker/handlers.h"
#include "broker/send.h"
#include "broker/session.h"
#include "mqtt/packet.h"
#include "mqtt/topic_tree.h"
#include "store/persist.h"
#include "util/log.h"

int handle_unsubscribe(struct conn *c, const struct mqtt_packet *p)
{
    struct engine *e = c->eng;
    const struct mqtt_filters *f = &p->u.filters;
    uint32_t off = 0;
    struct mqtt_bytes flt;
    char name[160];
    while (mqtt_filters_next(f, false, &off, &flt, NULL)) {
        topic_tree_remove(e->subs, flt.p, flt.len, c->s);
        session_sub_del(c->s, flt.p, (uint16_t)flt.len);
        log_msg(LOG_T_UNSUBSCRIBE, "%s unsubscribed from '%.*s'",
                conn_name(c, name, sizeof name), (int)flt.len, (const char *)flt.p);
    }
    persist_session_save(e, c->s);
    send_ack(c, MQTT_UNSUBACK, f->pid);
    return 0;
}
