#include "broker/keepalive.h"

#include "broker/conn.h"
#include "broker/engine.h"
#include "config.h"
#include "policy/detect.h"

static void fire(struct evloop *el, struct ev_timer *t)
{
    struct conn *c = t->arg;
    struct engine *e = c->eng;
    if (c->state == CONN_NEW) {
        e->st.connect_timeouts++;
        detect_event(e, DET_SILENT, c, NULL, NULL, 0);
        conn_close(c, true, "no CONNECT within moat_connect_timeout");
        return;
    }
    if (c->state != CONN_ACTIVE || !c->keepalive)
        return;
    uint64_t deadline = c->last_rx_ms + (uint64_t)c->keepalive * 1500u;
    if (ev_now_ms(el) >= deadline) {
        e->st.keepalive_timeouts++;
        detect_event(e, DET_SILENT, c, NULL, NULL, 0);
        conn_close(c, true, "keepalive expired (1.5 x keepalive without a packet) [MQTT-3.1.2-24]");
        return;
    }
    ev_timer_arm(el, t, deadline);
}

void connect_timeout_start(struct conn *c)
{
    c->timer.fn = fire;
    c->timer.arg = c;
    uint32_t secs = c->eng->cfg->moat_connect_timeout;
    if (secs)
        ev_timer_arm(c->eng->el, &c->timer, ev_now_ms(c->eng->el) + (uint64_t)secs * 1000u);
}

void keepalive_start(struct conn *c)
{
    struct evloop *el = c->eng->el;
    c->timer.fn = fire;
    c->timer.arg = c;
    if (!c->keepalive) {
        ev_timer_cancel(el, &c->timer);
        return;
    }
    ev_timer_arm(el, &c->timer, ev_now_ms(el) + (uint64_t)c->keepalive * 1500u);
}
