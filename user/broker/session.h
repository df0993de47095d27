/* MQTT session state [MQTT-4.1]: subscriptions, outgoing QoS 1/2 in
 * flight, messages queued behind the in-flight window or while offline,
 * incoming QoS 2 packet ids awaiting PUBREL, the Will. Lives longer than
 * a connection when clean session is 0. */
#ifndef MOAT_BROKER_SESSION_H
#define MOAT_BROKER_SESSION_H

#include <stdbool.h>
#include <stdint.h>

struct msg;
struct conn;
struct engine;
struct det_topics;
struct acl;
struct acl_user;

enum inflight_state {
    INF_WAIT_PUBACK,     /* QoS 1 sent */
    INF_WAIT_PUBREC,     /* QoS 2 sent */
    INF_WAIT_PUBCOMP,    /* PUBREL sent */
};

struct inflight {
    struct msg *m;       /* NULL once PUBREC arrived */
    uint16_t pid;
    uint8_t  qos;
    uint8_t  state;
    bool     retain;
};

struct qentry {
    struct msg *m;
    uint8_t qos;
    bool retain;
};

struct sub {
    char    *filter;
    uint16_t len;
    uint8_t  qos;
};

struct session {
    char            *client_id;
    uint16_t         id_len;
    bool             clean;
    struct conn     *conn;          /* NULL while offline */
    struct session  *hnext;         /* session table chain */
    uint64_t         hash;
    char            *username;
    struct msg      *will;          /* topic/payload/qos/retain of the Will */

    struct sub      *subs;
    uint32_t         n_subs, cap_subs;

    struct inflight *inf;           /* ordered by send time [MQTT-4.6.0-1] */
    uint16_t         n_inf, cap_inf;
    uint16_t         next_pid;

    struct qentry   *q;             /* ring */
    uint32_t         q_head, q_len, q_cap;
    uint64_t         q_bytes;
    bool             q_overflowed;  /* logged once per overflow episode */

    uint16_t        *rx2;           /* sorted incoming QoS 2 pids */
    uint32_t         n_rx2, cap_rx2;

    uint64_t         match_gen;     /* fan-out de-duplication */
    uint8_t          match_qos;
    uint64_t         offline_since_ms;
    struct det_topics *det_topics;  /* topic-scan window (policy/detect.c) */
    const struct acl      *acl;     /* the listener's ACL, NULL: none */
    const struct acl_user *acl_user;/* this user's block in it (cached at CONNECT) */
    bool             cert_auth;     /* username came from the client certificate */
};

/* Session table keyed by client id. */
struct session *session_find(struct engine *e, const uint8_t *id, uint16_t len);
struct session *session_create(struct engine *e, const uint8_t *id, uint16_t len, bool clean);
/* Removes subscriptions from the tree, releases every message, frees. */
void session_destroy(struct engine *e, struct session *s);
/* Removes s from the table (session_destroy does it). */
void session_unlink(struct engine *e, struct session *s);

/* Subscription bookkeeping (the tree is updated by the caller). Returns 1
 * new, 0 replaced, -1 out of memory. */
int  session_sub_add(struct session *s, const uint8_t *f, uint16_t len, uint8_t qos);
bool session_sub_del(struct session *s, const uint8_t *f, uint16_t len);

/* Delivers m to s at qos (already the granted minimum). retain: the RETAIN
 * flag to send. Sends at once when online and the window allows, queues
 * otherwise (bounded: max_queued_messages/bytes), drops and counts QoS 0
 * when offline or over the output limit. */
void session_deliver(struct engine *e, struct session *s, struct msg *m, uint8_t qos, bool retain);

/* Outgoing flow acks. Return false if pid is not in flight. */
bool session_puback(struct engine *e, struct session *s, uint16_t pid);
bool session_pubrec(struct engine *e, struct session *s, uint16_t pid);
bool session_pubcomp(struct engine *e, struct session *s, uint16_t pid);

/* On (re)connect: resends in-flight messages (DUP=1) and PUBRELs in their
 * original order [MQTT-4.4.0-1], then drains the queue into the window. */
void session_resume(struct engine *e, struct session *s);

/* Incoming QoS 2 ids: returns 1 if added (first time), 0 if already known
 * (a DUP resend: not delivered again), -1 out of memory / full. */
int  session_rx2_add(struct session *s, uint16_t pid);
bool session_rx2_del(struct session *s, uint16_t pid);

#endif
