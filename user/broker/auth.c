#include "broker/auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/acl.h"
#include "auth/passwd.h"
#include "broker/conn.h"
#include "broker/engine.h"
#include "broker/session.h"
#include "config.h"
#include "mqtt/topic_tree.h"
#include "store/persist.h"
#include "net/listener.h"
#include "util/log.h"

static bool same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && !strcmp(a, b));
}

static int load_ctx(struct auth_ctx *a, char *err, size_t errlen)
{
    if (a->passwd_path && !(a->pw = passwd_load(a->passwd_path, err, errlen)))
        return -1;
    if (a->acl_path && !(a->acl = acl_load(a->acl_path, err, errlen))) {
        passwd_table_unref(a->pw);
        a->pw = NULL;
        return -1;
    }
    return 0;
}

static void free_ctx(struct auth_ctx *a)
{
    passwd_table_unref(a->pw);
    acl_free(a->acl);
    free(a);
}

int auth_load(struct engine *e, char *err, size_t errlen)
{
    const struct moat_config *cfg = e->cfg;
    for (size_t i = 0; i < e->n_listeners; i++) {
        const struct listener_conf *lc = e->listeners[i].conf;
        const char *pw = config_listener_password_file(cfg, lc);
        const char *acl = config_listener_acl_file(cfg, lc);
        bool anon = config_listener_allow_anonymous(cfg, lc);
        struct auth_ctx *a = NULL;
        for (size_t j = 0; j < i && !a; j++) {      /* share identical settings */
            struct auth_ctx *o = e->listeners[j].auth;
            if (same(o->passwd_path, pw) && same(o->acl_path, acl) && o->allow_anonymous == anon)
                a = o;
        }
        if (!a) {
            a = calloc(1, sizeof *a);
            if (!a) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            a->passwd_path = pw;
            a->acl_path = acl;
            a->allow_anonymous = anon;
            if (load_ctx(a, err, errlen) < 0) {
                free(a);
                return -1;
            }
            if (pw)
                log_notice("listener %u: %zu user(s) from %s", e->listeners[i].port,
                           passwd_table_count(a->pw), pw);
            if (acl)
                log_notice("listener %u: %zu ACL rule(s) from %s", e->listeners[i].port,
                           acl_rule_count(a->acl), acl);
        }
        a->refs++;
        e->listeners[i].auth = a;
    }
    return 0;
}

void auth_free(struct engine *e)
{
    for (size_t i = 0; i < e->n_listeners; i++) {
        struct auth_ctx *a = e->listeners[i].auth;
        e->listeners[i].auth = NULL;
        if (a && --a->refs == 0)
            free_ctx(a);
    }
}

void auth_bind_session(struct session *s, const struct listener *l)
{
    const struct auth_ctx *a = l ? l->auth : NULL;
    s->acl = a ? a->acl : NULL;
    s->acl_user = s->acl ? acl_user_find(s->acl, s->username) : NULL;
}

bool auth_may_publish(const struct session *s, const uint8_t *topic, size_t len)
{
    return !s->acl || acl_check_user(s->acl, s->acl_user, s->username, s->client_id, topic, len,
                                     ACL_WRITE);
}

bool auth_may_receive(const struct session *s, const uint8_t *topic, size_t len)
{
    return !s->acl || acl_check_user(s->acl, s->acl_user, s->username, s->client_id, topic, len,
                                     ACL_READ);
}

bool auth_may_subscribe(const struct session *s, const uint8_t *filter, size_t len)
{
    return !s->acl || acl_check_subscribe_user(s->acl, s->acl_user, s->username, s->client_id,
                                               filter, len);
}

/* Credentials revoked: the user is gone or its hash changed. */
static bool revoked(const struct passwd_table *old, const struct passwd_table *nw, const char *user)
{
    if (!old || !nw || !user)
        return false;
    size_t len = strlen(user);
    const struct passwd_entry *a = passwd_lookup(old, user, len);
    const struct passwd_entry *b = passwd_lookup(nw, user, len);
    return !passwd_entry_known(b) || !passwd_entry_equal(a, b);
}

/* Subscriptions the new ACL no longer allows are removed. */
static void drop_denied_subs(struct engine *e, struct session *s)
{
    bool changed = false;
    for (uint32_t i = s->n_subs; i-- > 0;) {
        struct sub *sb = &s->subs[i];
        if (auth_may_subscribe(s, (const uint8_t *)sb->filter, sb->len))
            continue;
        log_notice("session '%s': subscription '%.*s' removed: denied by the reloaded ACL",
                   s->client_id, (int)sb->len, sb->filter);
        topic_tree_remove(e->subs, (const uint8_t *)sb->filter, sb->len, s);
        char *f = sb->filter;
        uint16_t len = sb->len;
        session_sub_del(s, (const uint8_t *)f, len);   /* frees f */
        changed = true;
    }
    if (changed)
        persist_session_save(e, s);
}

/* Frees each distinct context of fresh[0..n) (several listeners may
 * share one). */
static void free_distinct(struct auth_ctx **fresh, size_t n)
{
    for (size_t k = 0; k < n; k++) {
        bool seen = false;
        for (size_t m = 0; m < k && !seen; m++)
            seen = fresh[m] == fresh[k];
        if (fresh[k] && !seen)
            free_ctx(fresh[k]);
    }
}

int auth_reload(struct engine *e, char *err, size_t errlen)
{
    /* Load everything first: a bad file leaves every listener as it was. */
    struct auth_ctx *fresh[64] = { 0 };
    size_t n = e->n_listeners < 64 ? e->n_listeners : 64;
    for (size_t i = 0; i < n; i++) {
        struct auth_ctx *o = e->listeners[i].auth;
        for (size_t j = 0; j < i && !fresh[i]; j++)
            if (e->listeners[j].auth == o)
                fresh[i] = fresh[j];
        if (fresh[i])
            continue;
        struct auth_ctx *a = calloc(1, sizeof *a);
        if (a) {
            a->passwd_path = o->passwd_path;
            a->acl_path = o->acl_path;
            a->allow_anonymous = o->allow_anonymous;
        }
        if (!a || load_ctx(a, err, errlen) < 0) {
            if (!a)
                snprintf(err, errlen, "out of memory");
            free(a);
            free_distinct(fresh, i);
            return -1;
        }
        fresh[i] = a;
    }
    /* Close connections whose credentials no longer hold. */
    for (struct conn *c = e->conns, *nx; c; c = nx) {
        nx = c->next;
        if (!c->lst || !c->s || c->state != CONN_ACTIVE || !c->s->username || c->s->cert_auth)
            continue;
        size_t i;
        for (i = 0; i < n && &e->listeners[i] != c->lst; i++)
            ;
        if (i == n)
            continue;
        const struct auth_ctx *o = e->listeners[i].auth;
        if (o->pw && revoked(o->pw, fresh[i]->pw, c->s->username))
            conn_close(c, true, "credentials revoked by reload");
    }
    /* Swap, rebind sessions to the new ACLs, free the old contexts. */
    struct auth_ctx *old[64] = { 0 };
    for (size_t i = 0; i < n; i++) {
        old[i] = e->listeners[i].auth;
        e->listeners[i].auth = fresh[i];
        fresh[i]->refs++;
    }
    for (uint32_t b = 0; b < e->sess_cap; b++)
        for (struct session *s = e->sess_tab[b]; s; s = s->hnext) {
            for (size_t i = 0; i < n; i++)
                if (s->acl && old[i] && s->acl == old[i]->acl) {
                    s->acl = fresh[i]->acl;
                    s->acl_user = s->acl ? acl_user_find(s->acl, s->username) : NULL;
                    break;
                }
            drop_denied_subs(e, s);
        }
    for (size_t i = 0; i < n; i++)
        if (old[i] && --old[i]->refs == 0)
            free_ctx(old[i]);
    return 0;
}
