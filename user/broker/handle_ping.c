/* PINGREQ -> PINGRESP [MQTT-3.12.4-1]. */
#include "broker/conn.h"
#include "broker/engine.h"
#include "broker/handlers.h"
#include "mqtt/packet.h"

int handle_pingreq(struct conn *c, const struct mqtt_packet *p)
{
    uint8_t b[2];
    size_t n = mqtt_encode_empty(b, sizeof b, MQTT_PINGRESP);
    if (conn_send_bytes(c, b, (uint32_t)n) < 0)
        conn_close(c, true, "out of memory for output");
    else
        c->eng->st.msgs_sent++;
    return 0;
}
