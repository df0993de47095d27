/* CONNECT [MQTT-3.1]: validate (client id rules, keepalive, blocks,
 * source ACL) -> authenticate (password hashes on the worker pool, so a
 * brute-force client cannot stall the engine) -> apply (takeover, session
 * resume or creation, Will, CONNACK, keepalive). While a password is
 * being verified the connection reads nothing more; packets the client
 * pipelined after CONNECT wait in its input buffer [MQTT-3.1.4-5]. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "auth/acl.h"
#include "auth/passwd.h"
#include "broker/auth.h"
#include "broker/conn.h"
#include "broker/engine.h"
#include "broker/handlers.h"
#include "broker/keepalive.h"
#include "broker/msg.h"
#include "broker/send.h"
#include "broker/session.h"
#include "config.h"
#include "core/workers.h"
#include "mqtt/packet.h"
#include "store/persist.h"
#include "net/listener.h"
#include "policy/denylist.h"
#include "policy/detect.h"
#include "tls/tls.h"
#include "util/hash.h"
#include "util/log.h"

/* What apply needs, copied out of the read buffer (it outlives it when the
 * password is verified asynchronously). */
struct pending_connect {
    struct engine *e;
    struct conn *c;
    struct passwd_table *pw;            /* reference held while verifying */
    const struct passwd_entry *ent;
    bool ok;
    char *client_id;
    uint16_t id_len;
    char *username;                     /* NULL: anonymous */
    uint8_t *password;
    size_t password_len;
    struct msg *will;
    bool cert_auth;                     /* username is the certificate's identity */
    bool clean;
    uint16_t keepalive;
    uint8_t level;
};

static void pending_free(struct pending_connect *pc)
{
    if (!pc)
        return;
    if (pc->password) {
        OPENSSL_cleanse(pc->password, pc->password_len);
        free(pc->password);
    }
    passwd_table_unref(pc->pw);
    msg_unref(pc->will);
    free(pc->client_id);
    free(pc->username);
    free(pc);
}

/* Answers CONNACK rc != 0 and closes [MQTT-3.2.2-5]. */
static int refuse(struct conn *c, uint8_t rc, const char *why)
{
    send_connack(c, false, rc);
    char msg[192];
    snprintf(msg, sizeof msg, "CONNECT refused (CONNACK %u): %s", rc, why);
    conn_close(c, false, msg);
    return 0;
}

static void auth_failed(struct conn *c, const struct pending_connect *pc)
{
    detect_event(c->eng, DET_AUTH_FAILURE, c, NULL, NULL, 0);
    if (pc->username)
        detect_event(c->eng, DET_AUTH_FAILURE_USER, c, NULL, pc->username, strlen(pc->username));
}

/* Takeover, session, Will, CONNACK 0. Consumes pc. */
static void apply(struct conn *c, struct pending_connect *pc)
{
    struct engine *e = c->eng;
    const struct moat_config *cfg = e->cfg;

    /* Takeover [MQTT-3.1.4-2]: the existing connection is closed first;
     * closing it may end its session (clean session 1). */
    struct session *s = session_find(e, (const uint8_t *)pc->client_id, pc->id_len);
    if (s && s->conn) {
        char old[160];
        e->st.takeovers++;
        log_notice("%s taken over by a new connection [MQTT-3.1.4-2]",
                   conn_name(s->conn, old, sizeof old));
        conn_close(s->conn, true, "session taken over [MQTT-3.1.4-2]");
        s = session_find(e, (const uint8_t *)pc->client_id, pc->id_len);
    }
    if (s && pc->clean) {             /* [MQTT-3.1.2-6] discard the old state */
        session_destroy(e, s);
        s = NULL;
    }
    bool present = s != NULL;         /* [MQTT-3.2.2-1/2] */
    if (!s && !(s = session_create(e, (const uint8_t *)pc->client_id, pc->id_len, pc->clean))) {
        e->st.oom++;
        refuse(c, MQTT_CONNACK_UNAVAILABLE, "out of memory for the session");
        pending_free(pc);
        return;
    }
    free(s->username);
    s->username = pc->username;
    pc->username = NULL;
    s->cert_auth = pc->cert_auth;
    auth_bind_session(s, c->lst);
    if (pc->will && !auth_may_publish(s, msg_topic(pc->will), pc->will->topic_len)) {
        /* A Will the client may not publish is refused up front. */
        if (!present)
            session_destroy(e, s);
        refuse(c, MQTT_CONNACK_NOT_AUTHORIZED, "Will topic denied by the ACL");
        pending_free(pc);
        return;
    }
    msg_unref(s->will);
    s->will = pc->will;
    pc->will = NULL;
    s->conn = c;
    c->s = s;
    c->keepalive = pc->keepalive;
    c->state = CONN_ACTIVE;
    if (++e->st.clients_connected > e->st.clients_maximum)
        e->st.clients_maximum = e->st.clients_connected;
    if (!present)
        persist_session_save(e, s);    /* clean session 0 only (docs/persistence.md) */
    send_connack(c, present, MQTT_CONNACK_ACCEPTED);
    keepalive_start(c);
    char name[160];
    if (cfg->connection_messages)
        log_info("%s connected (protocol %s, clean session %d, keepalive %u, session present %d%s%s)",
                 conn_name(c, name, sizeof name), pc->level == 3 ? "3.1" : "3.1.1", pc->clean,
                 pc->keepalive, present, s->username ? ", user " : "", s->username ? s->username : "");
    pending_free(pc);
    if (present)
        session_resume(e, s);
}

/* Engine thread: the worker's verdict. */
static void verified(struct engine *e, void *arg)
{
    struct pending_connect *pc = arg;
    struct conn *c = pc->c;
    c->auth_pending = false;
    if (c->state == CONN_CLOSED) {     /* closed while we verified */
        conn_free_closed(c);
        pending_free(pc);
        return;
    }
    if (!pc->ok) {
        auth_failed(c, pc);
        refuse(c, MQTT_CONNACK_BAD_AUTH, passwd_entry_known(pc->ent) ? "bad password"
                                                                     : "unknown user");
        pending_free(pc);
        return;
    }
    apply(c, pc);
    conn_resume_input(c);
}

/* Worker thread: only the hash, nothing shared and mutable. */
static void verify_job(void *arg)
{
    struct pending_connect *pc = arg;
    pc->ok = passwd_verify(pc->ent, pc->password ? pc->password : (const uint8_t *)"",
                           pc->password_len);
    if (engine_post(pc->e, verified, pc) < 0) {
        /* Cannot reach the engine: it is going down (or out of memory);
         * the connection stays paused until its connect timeout. */
        log_err("auth: cannot post a password result; connection left to time out");
    }
}

static char *dup_bytes(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s) {
        if (n)
            memcpy(s, p, n);
        s[n] = 0;
    }
    return s;
}

int handle_connect(struct conn *c, const struct mqtt_packet *p)
{
    const struct mqtt_connect *k = &p->u.connect;
    struct engine *e = c->eng;
    const struct moat_config *cfg = e->cfg;
    const struct listener_conf *lc = c->lst ? c->lst->conf : NULL;
    const struct auth_ctx *a = c->lst ? c->lst->auth : NULL;

    const uint8_t *id = k->client_id.p;
    uint16_t idlen = (uint16_t)k->client_id.len;
    char autoid[96];
    if (idlen == 0) {
        if (!k->clean_session)
            return refuse(c, MQTT_CONNACK_ID_REJECTED,
                          "zero-length client id with clean session 0 [MQTT-3.1.3-8]");
        if (!config_listener_allow_zero_length_clientid(cfg, lc))
            return refuse(c, MQTT_CONNACK_ID_REJECTED,
                          "zero-length client id not allowed (allow_zero_length_clientid false)");
        /* [MQTT-3.1.3-6]: a unique id, unguessable across restarts. */
        int n = snprintf(autoid, sizeof autoid, "%s%08x-%016llx",
                         config_listener_auto_id_prefix(cfg, lc), ++e->auto_id_seq,
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

    struct pending_connect *pc = calloc(1, sizeof *pc);
    if (!pc || !(pc->client_id = dup_bytes(id, idlen)) ||
        (k->has_username && !(pc->username = dup_bytes(k->username.p, k->username.len))) ||
        (k->has_password && !(pc->password = (uint8_t *)dup_bytes(k->password.p, k->password.len)))) {
        pending_free(pc);
        e->st.oom++;
        return refuse(c, MQTT_CONNACK_UNAVAILABLE, "out of memory");
    }
    pc->e = e;
    pc->c = c;
    pc->id_len = idlen;
    pc->password_len = k->has_password ? k->password.len : 0;
    pc->clean = k->clean_session;
    pc->keepalive = k->keepalive;
    pc->level = k->level;
    if (k->will && !(pc->will = msg_new(k->will_topic.p, (uint16_t)k->will_topic.len, k->will_payload.p,
                                        k->will_payload.len, k->will_qos, k->will_retain))) {
        pending_free(pc);
        e->st.oom++;
        return refuse(c, MQTT_CONNACK_UNAVAILABLE, "out of memory for the Will");
    }

    /* Source and client-id rules of the ACL (moat's connect-from, clientid). */
    if (a && a->acl) {
        int fam = c->peer.family == AF_INET ? AF_INET : AF_INET6;
        enum acl_connect ac = acl_connect_allowed(a->acl, pc->username, pc->client_id, fam, c->peer.addr);
        if (ac != ACL_CONNECT_OK) {
            pending_free(pc);
            detect_event(e, DET_ACL_DENIED, c, NULL, NULL, 0);
            return ac == ACL_CONNECT_SOURCE
                ? refuse(c, MQTT_CONNACK_NOT_AUTHORIZED, "source address not allowed for this user (connect-from)")
                : refuse(c, MQTT_CONNACK_ID_REJECTED, "client id not allowed for this user (clientid)");
        }
    }

    /* use_identity_as_username / use_subject_as_username: the verified
     * certificate names the user; the CONNECT's username and password are
     * not used (mosquitto's rule). */
    if (lc && (lc->use_identity_as_username || lc->use_subject_as_username)) {
        const char *ident = tls_conn_identity(c->t, c->tctx);
        if (!ident) {
            auth_failed(c, pc);
            pending_free(pc);
            return refuse(c, MQTT_CONNACK_NOT_AUTHORIZED, "no client certificate identity");
        }
        free(pc->username);
        if (!(pc->username = strdup(ident))) {
            pending_free(pc);
            return refuse(c, MQTT_CONNACK_UNAVAILABLE, "out of memory");
        }
        pc->cert_auth = true;
        apply(c, pc);
        return 0;
    }
    bool anon = a ? a->allow_anonymous : config_listener_allow_anonymous(cfg, lc);
    if (!pc->username) {
        if (!anon) {
            auth_failed(c, pc);
            pending_free(pc);
            return refuse(c, MQTT_CONNACK_NOT_AUTHORIZED, "anonymous access not allowed");
        }
        apply(c, pc);
        return 0;
    }
    if (!a || !a->pw) {
        /* No password database: a username is only a label, allowed
         * exactly when anonymous clients are (mosquitto's rule). */
        if (!anon) {
            auth_failed(c, pc);
            pending_free(pc);
            return refuse(c, MQTT_CONNACK_NOT_AUTHORIZED, "no password_file: nobody can log in");
        }
        apply(c, pc);
        return 0;
    }
    /* Unknown users get a dummy entry of the same cost: the answer time
     * does not tell which usernames exist. */
    pc->pw = passwd_table_ref(a->pw);
    pc->ent = passwd_lookup(pc->pw, pc->username, strlen(pc->username));
    struct workers *w = engine_workers(e);
    if (!w || workers_submit(w, verify_job, pc) < 0) {
        pending_free(pc);
        return refuse(c, MQTT_CONNACK_UNAVAILABLE, "authentication backlog full");
    }
    c->auth_pending = true;
    conn_pause_input(c);
    return 0;
}
