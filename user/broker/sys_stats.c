/* $SYS/broker/... topics, published retained every sys_interval seconds
 * under the names mosquitto uses, so existing dashboards keep working. */
#include <stdio.h>
#include <string.h>

#include "broker/engine.h"
#include "broker/msg.h"
#include "config.h"
#include "store/store.h"
#include "mqtt/retain.h"
#include "mqtt/topic_tree.h"
#include "util/log.h"
#include "version.h"

static void pub_text(struct engine *e, const char *topic, const char *payload)
{
    size_t n = strlen(payload);
    struct msg *m = msg_new((const uint8_t *)topic, (uint16_t)strlen(topic), (const uint8_t *)payload,
                            (uint32_t)n, 0, true);
    if (!m) {
        e->st.oom++;
        return;
    }
    engine_publish(e, m);
    msg_unref(m);
}

static void pub(struct engine *e, const char *topic, const char *fmt, unsigned long long v)
{
    char payload[64];
    snprintf(payload, sizeof payload, fmt, v);
    pub_text(e, topic, payload);
}

void sys_publish(struct engine *e)
{
    const struct broker_stats *st = &e->st;
    if (!e->cfg->sys_interval)
        return;
    uint64_t up = (ev_now_ms(e->el) - st->start_ms) / 1000u;
    uint64_t offline = e->n_sessions >= st->clients_connected ? e->n_sessions - st->clients_connected : 0;
    pub_text(e, "$SYS/broker/version", "moat " MOAT_VERSION);
    pub(e, "$SYS/broker/uptime", "%llu seconds", up);
    pub(e, "$SYS/broker/clients/connected", "%llu", st->clients_connected);
    pub(e, "$SYS/broker/clients/active", "%llu", st->clients_connected);
    pub(e, "$SYS/broker/clients/disconnected", "%llu", offline);
    pub(e, "$SYS/broker/clients/inactive", "%llu", offline);
    pub(e, "$SYS/broker/clients/total", "%llu", e->n_sessions);
    pub(e, "$SYS/broker/clients/maximum", "%llu", st->clients_maximum);
    pub(e, "$SYS/broker/messages/received", "%llu", st->msgs_received);
    pub(e, "$SYS/broker/messages/sent", "%llu", st->msgs_sent);
    pub(e, "$SYS/broker/publish/messages/received", "%llu", st->pub_msgs_received);
    pub(e, "$SYS/broker/publish/messages/sent", "%llu", st->pub_msgs_sent);
    pub(e, "$SYS/broker/publish/messages/dropped", "%llu", st->pub_dropped);
    pub(e, "$SYS/broker/bytes/received", "%llu", st->bytes_received);
    pub(e, "$SYS/broker/bytes/sent", "%llu", st->bytes_sent);
    pub(e, "$SYS/broker/retained messages/count", "%llu", retain_count(e->retained));
    pub(e, "$SYS/broker/subscriptions/count", "%llu", topic_tree_count(e->subs));
    pub(e, "$SYS/broker/moat/protocol_errors", "%llu", st->protocol_errors);
    pub(e, "$SYS/broker/moat/acl_denied", "%llu", st->acl_denied);
    pub(e, "$SYS/broker/moat/connections_refused_blocked", "%llu", st->conns_refused_blocked);
    pub(e, "$SYS/broker/moat/connect_timeouts", "%llu", st->connect_timeouts);
    pub(e, "$SYS/broker/moat/keepalive_timeouts", "%llu", st->keepalive_timeouts);
    pub(e, "$SYS/broker/moat/queue_overflow", "%llu", st->queue_overflow);
    if (e->store) {
        const struct store_counters *sc = store_counters(e->store);
        pub(e, "$SYS/broker/store/commits", "%llu", sc->commits);
        pub(e, "$SYS/broker/store/refused", "%llu", sc->units_refused);
        pub(e, "$SYS/broker/store/write_errors", "%llu", sc->write_errors);
    }
}
