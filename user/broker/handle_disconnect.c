/* DISCONNECT: the Will is discarded, not published [MQTT-3.1.2-10],
 * and the server closes the connection [MQTT-3.14.4-1]. */
#include "broker/conn.h"
#include "broker/handlers.h"
#include "broker/msg.h"
#include "broker/session.h"

int handle_disconnect(struct conn *c, const struct mqtt_packet *p)
{
    msg_unref(c->s->will);
    c->s->will = NULL;
    conn_close(c, false, "DISCONNECT");
    return 0;
}
