/* Per-packet handlers, one file per packet family. Each returns 0, or
 * -err (enum mqtt_err) for a protocol violation, after which dispatch
 * closes the connection. A handler that closes the connection itself
 * (e.g. after a refusing CONNACK) returns 0. */
#ifndef MOAT_BROKER_HANDLERS_H
#define MOAT_BROKER_HANDLERS_H

struct conn;
struct mqtt_packet;

int handle_connect(struct conn *c, const struct mqtt_packet *p);
int handle_publish(struct conn *c, const struct mqtt_packet *p);
int handle_pubrel(struct conn *c, const struct mqtt_packet *p);
int handle_puback(struct conn *c, const struct mqtt_packet *p);
int handle_pubrec(struct conn *c, const struct mqtt_packet *p);
int handle_pubcomp(struct conn *c, const struct mqtt_packet *p);
int handle_subscribe(struct conn *c, const struct mqtt_packet *p);
int handle_unsubscribe(struct conn *c, const struct mqtt_packet *p);
int handle_pingreq(struct conn *c, const struct mqtt_packet *p);
int handle_disconnect(struct conn *c, const struct mqtt_packet *p);

#endif
