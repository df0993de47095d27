/* The engine's side of authentication and authorization: which password
 * file and ACL apply to a listener (mosquitto's per_listener_settings),
 * loading and reloading them, and the checks the packet handlers call.
 * Password hashes are verified on the worker pool, never here. */
#ifndef MOAT_BROKER_AUTH_H
#define MOAT_BROKER_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct engine;
struct session;
struct listener;
struct acl;
struct acl_user;
struct passwd_table;

struct auth_ctx {
    const char *passwd_path;        /* NULL: no password file */
    const char *acl_path;           /* NULL: no ACL (everything allowed) */
    struct passwd_table *pw;
    struct acl *acl;
    bool allow_anonymous;
    unsigned refs;                  /* listeners sharing it */
};

/* Loads the files of every listener. 0, or -1 with "FILE:LINE: ..." */
int  auth_load(struct engine *e, char *err, size_t errlen);
/* Re-reads them; on success swaps in the new tables, refreshes sessions'
 * ACL pointers and closes connections whose user was deleted or whose
 * password changed. On failure the old tables stay. */
int  auth_reload(struct engine *e, char *err, size_t errlen);
void auth_free(struct engine *e);

/* Binds s to its listener's ACL (at CONNECT). */
void auth_bind_session(struct session *s, const struct listener *l);
/* Topic checks; true when no ACL applies. */
bool auth_may_publish(const struct session *s, const uint8_t *topic, size_t len);
bool auth_may_receive(const struct session *s, const uint8_t *topic, size_t len);
bool auth_may_subscribe(const struct session *s, const uint8_t *filter, size_t len);

#endif
