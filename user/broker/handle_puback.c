/* Acknowledgements of PUBLISH packets the broker sent: PUBACK (QoS 1),
 * PUBREC and PUBCOMP (QoS 2) [MQTT-4.3]. An ack for an id not in flight is
 * ignored: after a reconnect the client may ack what it already acked. */
#include "broker/conn.h"
#include "broker/engine.h"
#include "broker/handlers.h"
#include "broker/send.h"
#include "broker/session.h"
#include "mqtt/packet.h"

int handle_puback(struct conn *c, const struct mqtt_packet *p)
{
    session_puback(c->eng, c->s, p->u.pid);
    return 0;
}

int handle_pubrec(struct conn *c, const struct mqtt_packet *p)
{
    if (session_pubrec(c->eng, c->s, p->u.pid))
        send_pubrel(c, p->u.pid);
    return 0;
}

int handle_pubcomp(struct conn *c, const struct mqtt_packet *p)
{
    session_pubcomp(c->eng, c->s, p->u.pid);
    return 0;
}
