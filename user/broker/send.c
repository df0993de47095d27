#include "broker/send.h"

#include "broker/conn.h"
#include "broker/engine.h"
#include "broker/msg.h"
#include "mqtt/packet.h"

static int fail(struct conn *c)
{
    c->eng->st.oom++;
    conn_close(c, true, "out of memory for output");
    return -1;
}

int send_publish(struct conn *c, struct msg *m, uint8_t qos, bool dup, bool retain, uint16_t pid)
{
    if (c->state == CONN_CLOSED)
        return -1;
    uint32_t max = 5u + 2u + m->topic_len + 2u;
    uint8_t *w = outq_reserve(&c->out, max);
    if (!w)
        return fail(c);
    size_t n = mqtt_encode_publish_head(w, max, qos, dup, retain, msg_topic(m), m->topic_len,
                                        pid, m->payload_len);
    if (!n || outq_commit(&c->out, (uint32_t)n) < 0 || outq_push_payload(&c->out, m) < 0)
        return fail(c);
    c->eng->st.msgs_sent++;
    c->eng->st.pub_msgs_sent++;
    conn_mark_dirty(c);
    return 0;
}

int send_ack(struct conn *c, uint8_t type, uint16_t pid)
{
    if (c->state == CONN_CLOSED)
        return -1;
    uint8_t *w = outq_reserve(&c->out, 4);
    if (!w)
        return fail(c);
    size_t n = mqtt_encode_ack(w, 4, type, pid);
    if (!n || outq_commit(&c->out, (uint32_t)n) < 0)
        return fail(c);
    c->eng->st.msgs_sent++;
    conn_mark_dirty(c);
    return 0;
}

int send_connack(struct conn *c, bool session_present, uint8_t rc)
{
    uint8_t *w = outq_reserve(&c->out, 4);
    if (!w)
        return fail(c);
    size_t n = mqtt_encode_connack(w, 4, session_present, rc);
    if (!n || outq_commit(&c->out, (uint32_t)n) < 0)
        return fail(c);
    c->eng->st.msgs_sent++;
    conn_mark_dirty(c);
    return 0;
}
