/* ACL files: mosquitto's acl_file syntax and semantics (topic, user,
 * pattern with %u and %c, deny), plus moat's per-user connect-from and
 * clientid lines. Syntax and semantics: docs/security.md.
 *
 * A loaded ACL is immutable: checks are read-only and may run on any
 * thread. Checks do not allocate. */
#ifndef MOAT_AUTH_ACL_H
#define MOAT_AUTH_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACL_FILE_MAX (16u << 20)   /* bytes */

enum acl_access {
    ACL_READ = 1,   /* subscribe and receive (deliver to the client) */
    ACL_WRITE = 2,  /* publish (also a Will message, retained or not) */
};

enum acl_connect {
    ACL_CONNECT_OK = 0,
    ACL_CONNECT_SOURCE = 1,    /* no connect-from CIDR holds the peer: CONNACK 5 */
    ACL_CONNECT_CLIENTID = 2,  /* no clientid pattern matches: CONNACK 2 */
};

struct acl;
struct acl_user;

/* Reads and parses the file at path (at most ACL_FILE_MAX bytes). Any bad
 * line fails the whole load: NULL, and err holds "PATH:LINE: why". */
struct acl *acl_load(const char *path, char *err, size_t errlen);

/* Same on a buffer (need not be NUL-terminated); name is used in
 * messages. */
struct acl *acl_parse(const char *name, const char *buf, size_t len, char *err,
                      size_t errlen);

void acl_free(struct acl *acl);

/* The rules block for username (NULL: the anonymous block, i.e. the lines
 * before the first "user" line), or NULL if the file has no "user" line
 * for that name. The pointer lives as long as acl: the engine may look it
 * up once at CONNECT and pass it to the *_user functions below. */
const struct acl_user *acl_user_find(const struct acl *acl, const char *username);

/* May this client access topic[0..len) (a valid topic name)? access is
 * ACL_READ (deliver to it) or ACL_WRITE (it publishes). Mosquitto 2.0
 * order: the user's (or anonymous) rules, deny rules first, first match
 * wins, then the pattern rules the same way; no match is a deny.
 * username NULL means anonymous; clientid must not be NULL. */
bool acl_check(const struct acl *acl, const char *username, const char *clientid,
               const uint8_t *topic, size_t len, int access);
bool acl_check_user(const struct acl *acl, const struct acl_user *u,
                    const char *username, const char *clientid,
                    const uint8_t *topic, size_t len, int access);

/* May this client subscribe to filter[0..len) (a valid topic filter)?
 * Same rule order; a rule decides if its filter covers the whole
 * subscription (every topic the subscription can match, the rule matches
 * too: rule "a/+" covers "a/b" and "a/+", not "a/#"). A covering deny
 * rule refuses; a covering read or readwrite rule allows. A subscription
 * only partly allowed ("#" under "topic read a/#") is refused here; the
 * engine still checks ACL_READ per delivered message in any case. */
bool acl_check_subscribe(const struct acl *acl, const char *username,
                         const char *clientid, const uint8_t *filter, size_t len);
bool acl_check_subscribe_user(const struct acl *acl, const struct acl_user *u,
                              const char *username, const char *clientid,
                              const uint8_t *filter, size_t len);

/* May this client connect from addr? family is AF_INET (addr: 4 bytes) or
 * AF_INET6 (16 bytes; IPv4-mapped addresses are checked as IPv4), network
 * byte order. Checks the block's connect-from CIDRs (none: any source) and
 * then its clientid patterns (none: any client id). A user without a
 * block is not restricted. */
enum acl_connect acl_connect_allowed(const struct acl *acl, const char *username,
                                     const char *clientid, int family,
                                     const uint8_t *addr);

/* Number of "user" blocks and of rules (topic + pattern), for logs. */
size_t acl_user_count(const struct acl *acl);
size_t acl_rule_count(const struct acl *acl);

#endif
