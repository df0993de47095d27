/* CONNECT [MQTT-3.1]: client id rules, authentication, takeover, session
 * resume or creation, CONNACK, keepalive. Split into validate -> apply. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/conn.h"
#include "broker/engine.h"
#include "broker/handlers.h"
#include "broker/keepalive.h"
#include "broker/msg.h"
#include "broker/send.h"
#include "broker/session.h"
#include "config.h"
#include "net/listener.h"
#include "mqtt/packet.h"
#include "policy/denylist.h"
#include "policy/detect.h"
#include "store/persist.h"
#include "util/hash.h"
#include "util/log.h"

/* Answers CONNACK rc != 0 and closes [MQTT-3.2.2-5]. */
static int refuse(struct conn *c, uint8_t rc, const char *why)
{
    send_connack(c, false, rc);
    char msg[192];
    snprintf(msg, sizeof msg, "CONNECT refused (CONNACK %u): %s", rc, why);
    conn_close(c, false, msg);
    return 0;
}

/* The authentication decision. Passwords, certificates and ACLs arrive
 * with the security policy; until then only allow_anonymous decides. */
static uint8_t authenticate(const struct conn *c, const struct mqtt_connect *k)
{
    bool anon = config_listener_allow_anonymous(c->eng->cfg, c->lst ? c->lst->conf : NULL);
    if (!k->has_username && !anon)
        return MQTT_CONNACK_NOT_AUTHORIZED;
    if (k->has_username && !anon)
        return MQTT_CONNACK_BAD_AUTH;   /* no password database yet: nobody can log in */
    return MQTT_CONNACK_ACCEPTED;
}

int handle_connect(struct conn *c, const struct mqtt_packet *p)
{
    const struct mqtt_connect *k = &p->u.connect;
    struct engine *e = c->eng;
    const struct moat_config *cfg = e->cfg;

    const uint8_t *id = k->client_id.p;
    uint16_t idlen = (uint16_t)k->client_id.len;
    char autoid[96];
    if (idlen == 0) {
        if (!k->clean_session)
            return refuse(c, MQTT_CONNACK_ID_REJECTED,
                          "zero-length client id with clean session 0 [MQTT-3.1.3-8]");
        if (!config_listener_allow_zero_length_clientid(cfg, c->lst ? c->lst->conf : NULL))
            return refuse(c, MQTT_CONNACK_ID_REJECTED,
                          "zero-length client id not allowed (allow_zero_length_clientid false)");
        /* [MQTT-3.1.3-6]: a unique id, unguessable across restarts. */
        int n = snprintf(autoid, sizeof autoid, "%s%08x-%016llx",
                         config_listener_auto_id_prefix(cfg, c->lst ? c->lst->conf : NULL),
                         ++e->auto_id_seq,
                         (unsigned long long)moat_random_seed());
        id = (const uint8_t *)autoid;
        idlen = (uint16_t)(n < (int)sizeof autoid ? n : (int)sizeof autoid - 1);
    }
    if (k->level == 3 && k->client_id.len > 23)   /* MQTT 3.1 limit */
        return refuse(c, MQTT_CONNACK_ID_REJECTED, "MQTT 3.1 client id longer than 23 bytes");
    /* 3.1.1 cannot tell a client which keepalive to use: refuse, as mosquitto. */
    if (cfg->max_keepalive && k->keepalive > cfg->max_keepalive)
        return refuse(c, MQTT_CONNACK_ID_REJECTED, "keepalive above max_keepalive");
    uint64_t now = ev_now_ms(e->el);
    if (denylist_name_blocked(e->deny, DENY_CLIENT_ID, (const char *)id, idlen, now))
        return refuse(c, MQTT_CONNACK_ID_REJECTED, "client id is blocked");
    if (k->has_username &&
        denylist_name_blocked(e->deny, DENY_USERNAME, (const char *)k->username.p, k->username.len, now))
        return refuse(c, MQTT_CONNACK_NOT_AUTHORIZED, "username is blocked");
    uint8_t rc = authenticate(c, k);
    if (rc != MQTT_CONNACK_ACCEPTED) {
        detect_event(e, DET_AUTH_FAILURE, c, NULL, NULL, 0);
        if (k->has_username)
            detect_event(e, DET_AUTH_FAILURE_USER, c, NULL, (const char *)k->username.p,
                         k->username.len);
        return refuse(c, rc, rc == MQTT_CONNACK_BAD_AUTH ? "bad user name or password"
                                                         : "anonymous access not allowed");
    }

    /* Takeover [MQTT-3.1.4-2]: the existing connection is closed first;
     * closing it may end its session (clean session 1). */
    struct session *s = session_find(e, id, idlen);
    if (s && s->conn) {
        char old[160];
        e->st.takeovers++;
        log_notice("%s taken over by a new connection [MQTT-3.1.4-2]",
                   conn_name(s->conn, old, sizeof old));
        conn_close(s->conn, true, "session taken over [MQTT-3.1.4-2]");
        s = session_find(e, id, idlen);
    }
    if (s && k->clean_session) {      /* [MQTT-3.1.2-6] discard the old state */
        session_destroy(e, s);
        s = NULL;
    }
    bool present = s != NULL;         /* [MQTT-3.2.2-1/2] */
    if (!s) {
        s = session_create(e, id, idlen, k->clean_session);
        if (!s) {
            e->st.oom++;
            return refuse(c, MQTT_CONNACK_UNAVAILABLE, "out of memory for the session");
        }
    }
    if (k->will) {
        s->will = msg_new(k->will_topic.p, (uint16_t)k->will_topic.len, k->will_payload.p,
                          k->will_payload.len, k->will_qos, k->will_retain);
        if (!s->will) {
            e->st.oom++;
            if (!present)
                session_destroy(e, s);
            return refuse(c, MQTT_CONNACK_UNAVAILABLE, "out of memory for the Will");
        }
    }
    free(s->username);
    s->username = NULL;
    if (k->has_username) {
        s->username = strndup((const char *)k->username.p, k->username.len);
    }
    s->conn = c;
    c->s = s;
    c->keepalive = k->keepalive;
    c->state = CONN_ACTIVE;
    if (++e->st.clients_connected > e->st.clients_maximum)
        e->st.clients_maximum = e->st.clients_connected;
    if (!present)
        persist_session_save(e, s);    /* clean session 0 only */
    send_connack(c, present, MQTT_CONNACK_ACCEPTED);
    keepalive_start(c);

    char name[160];
    if (cfg->connection_messages)
        log_info("%s connected (protocol %s, clean session %d, keepalive %u, session present %d)",
             conn_name(c, name, sizeof name), k->level == 3 ? "3.1" : "3.1.1",
             k->clean_session, k->keepalive, present);
    if (present)
        session_resume(e, s);
    return 0;
}
