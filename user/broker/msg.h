/* An application message: immutable once built, reference counted, shared
 * by every subscriber queue, in-flight slot and the retained store, so a
 * fan-out to N subscribers costs one allocation, not N copies. */
#ifndef MOAT_BROKER_MSG_H
#define MOAT_BROKER_MSG_H

#include <stdbool.h>
#include <stdint.h>

struct msg {
    uint32_t refs;
    uint32_t payload_len;
    uint16_t topic_len;
    uint8_t  qos;        /* QoS it was published with */
    bool     retain;     /* published with RETAIN */
    uint8_t  data[];     /* topic bytes, then payload bytes */
};

/* One allocation; refs starts at 1. NULL on out of memory. */
struct msg *msg_new(const uint8_t *topic, uint16_t topic_len,
                    const uint8_t *payload, uint32_t payload_len,
                    uint8_t qos, bool retain);

static inline const uint8_t *msg_topic(const struct msg *m) { return m->data; }
static inline const uint8_t *msg_payload(const struct msg *m) { return m->data + m->topic_len; }
static inline struct msg *msg_ref(struct msg *m) { m->refs++; return m; }
void msg_unref(struct msg *m);
/* For stores that hold messages as void *. */
void msg_unref_void(void *m);

#endif
