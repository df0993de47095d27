/* $SYS/broker/... topics, published retained every sys_interval seconds
 * under the names mosquitto uses, so existing dashboards keep working. */
#include <stdio.h>
#include <string.h>

#include "broker/engine.h"
#include "broker/msg.h"
#include "config.h"
#include "net/listener.h"
#include "tls/tls.h"
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
    struct tls_stats ts = { 0 };
    bool any_tls = false;
    for (size_t i = 0; i < e->n_listeners; i++) {
        if (!e->listeners[i].tls)
            continue;
        struct tls_stats one;
        tls_listener_stats(e->listeners[i].tls, &one);
        ts.handshakes += one.handshakes;
        ts.resumed += one.resumed;
        ts.failed += one.failed;
        ts.mode_ktls += one.mode_ktls;
        ts.mode_mixed += one.mode_mixed;
        ts.mode_user += one.mode_user;
        any_tls = true;
    }
    if (any_tls) {
        pub(e, "$SYS/broker/tls/handshakes", "%llu", ts.handshakes);
        pub(e, "$SYS/broker/tls/resumed", "%llu", ts.resumed);
        pub(e, "$SYS/broker/tls/failed", "%llu", ts.failed);
        pub(e, "$SYS/broker/tls/connections/ktls", "%llu", ts.mode_ktls);
        pub(e, "$SYS/broker/tls/connections/ktls_tx", "%llu", ts.mode_mixed);
        pub(e, "$SYS/broker/tls/connections/userspace", "%llu", ts.mode_user);
    }
    if (e->store) {
        const struct store_counters *sc = store_counters(e->store);
        pub(e, "$SYS/broker/store/commits", "%llu", sc->commits);
        pub(e, "$SYS/broker/store/refused", "%llu", sc->units_refused);
        pub(e, "$SYS/broker/store/write_errors", "%llu", sc->write_errors);
    }
}
