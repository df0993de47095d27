/* Encoding outbound packets onto a connection's output queue. Each marks
 * the connection for the end-of-iteration flush. Return 0, or -1 when the
 * queue cannot grow (the connection is then closed). */
#ifndef MOAT_BROKER_SEND_H
#define MOAT_BROKER_SEND_H

#include <stdbool.h>
#include <stdint.h>

struct conn;
struct msg;

/* PUBLISH header into the byte buffer, payload by reference. */
int send_publish(struct conn *c, struct msg *m, uint8_t qos, bool dup, bool retain, uint16_t pid);
/* PUBACK PUBREC PUBREL PUBCOMP UNSUBACK */
int send_ack(struct conn *c, uint8_t type, uint16_t pid);
static inline int send_pubrel(struct conn *c, uint16_t pid) { return send_ack(c, 6, pid); }
int send_connack(struct conn *c, bool session_present, uint8_t rc);

#endif
