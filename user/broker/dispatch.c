#include "broker/dispatch.h"

#include "broker/conn.h"
#include "broker/engine.h"
#include "broker/handlers.h"
#include "mqtt/packet.h"
#include "util/log.h"

typedef int (*handler_fn)(struct conn *, const struct mqtt_packet *);

/* What a client may send once connected. NULL: only a server sends it
 * (CONNACK, SUBACK, UNSUBACK, PINGRESP), or CONNECT a second time
 * [MQTT-3.1.0-2]: both are violations. */
static const handler_fn active_handlers[16] = {
    [MQTT_PUBLISH] = handle_publish,
    [MQTT_PUBACK] = handle_puback,
    [MQTT_PUBREC] = handle_pubrec,
    [MQTT_PUBREL] = handle_pubrel,
    [MQTT_PUBCOMP] = handle_pubcomp,
    [MQTT_SUBSCRIBE] = handle_subscribe,
    [MQTT_UNSUBSCRIBE] = handle_unsubscribe,
    [MQTT_PINGREQ] = handle_pingreq,
    [MQTT_DISCONNECT] = handle_disconnect,
};

void dispatch_packet(struct conn *c, const struct mqtt_fixed *fh, const uint8_t *body)
{
    struct mqtt_packet p;
    int r = mqtt_decode(fh, body, fh->remaining, &p);

    if (c->state == CONN_NEW) {
        /* The first packet MUST be CONNECT [MQTT-3.1.0-1]. */
        if (fh->type != MQTT_CONNECT) {
            conn_violation_str(c, "[MQTT-3.1.0-1] first packet is not CONNECT");
            return;
        }
        if (r == -MQTT_E_PROTO_LEVEL) {
            /* [MQTT-3.1.2-2]: CONNACK 1, then close. */
            uint8_t ack[4];
            size_t n = mqtt_encode_connack(ack, sizeof ack, false, MQTT_CONNACK_BAD_PROTOCOL);
            conn_send_bytes(c, ack, (uint32_t)n);
            c->eng->st.protocol_errors++;
            conn_close(c, true, "unsupported protocol level (CONNACK 1) [MQTT-3.1.2-2]");
            return;
        }
        if (r < 0) {
            conn_violation(c, r);
            return;
        }
        r = handle_connect(c, &p);
        if (r < 0)
            conn_violation(c, r);
        return;
    }
    if (r < 0) {
        conn_violation(c, r);
        return;
    }
    handler_fn fn = active_handlers[fh->type & 15];
    if (!fn) {
        conn_violation_str(c, fh->type == MQTT_CONNECT
                                  ? "[MQTT-3.1.0-2] second CONNECT"
                                  : "[MQTT-2.2.1] packet type only a server sends");
        return;
    }
    r = fn(c, &p);
    if (r < 0)
        conn_violation(c, r);
}
