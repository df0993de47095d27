#include "broker/msg.h"

#include <stdlib.h>
#include <string.h>

struct msg *msg_new(const uint8_t *topic, uint16_t topic_len,
                    const uint8_t *payload, uint32_t payload_len,
                    uint8_t qos, bool retain)
{
    struct msg *m = malloc(sizeof *m + (size_t)topic_len + payload_len);
    if (!m)
        return NULL;
    m->refs = 1;
    m->topic_len = topic_len;
    m->payload_len = payload_len;
    m->qos = qos;
    m->retain = retain;
    memcpy(m->data, topic, topic_len);
    if (payload_len)
        memcpy(m->data + topic_len, payload, payload_len);
    return m;
}

void msg_unref(struct msg *m)
{
    if (m && --m->refs == 0)
        free(m);
}

void msg_unref_void(void *m) { msg_unref(m); }
