/* Packet dispatch: decode, state rules, then one handler per type. */
#ifndef MOAT_BROKER_DISPATCH_H
#define MOAT_BROKER_DISPATCH_H

#include <stdint.h>

struct conn;
struct mqtt_fixed;

/* body: exactly fh->remaining bytes. Closes c on any violation. */
void dispatch_packet(struct conn *c, const struct mqtt_fixed *fh, const uint8_t *body);

#endif
