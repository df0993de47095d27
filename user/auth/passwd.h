/* Password files: mosquitto_passwd's format read unchanged ($6$ salted
 * SHA-512, $7$ PBKDF2-HMAC-SHA512), argon2id (PHC string) written by
 * default. Format and parameters: docs/security.md.
 *
 * A loaded table is immutable and reference counted: verification runs on
 * worker threads, reload swaps tables on the engine thread, and a job in
 * flight keeps its table alive with passwd_table_ref(). */
#ifndef MOAT_AUTH_PASSWD_H
#define MOAT_AUTH_PASSWD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* argon2id parameters moat writes: OWASP's first recommended setting
 * (19 MiB, 2 passes, 1 lane): about 30 ms on one x86-64 core, a few times
 * that on small ARM cores; 19 MiB per verification in flight (one per
 * worker thread). Reasons in docs/security.md. */
#define PASSWD_ARGON2_M_KIB    19456u
#define PASSWD_ARGON2_T        2u
#define PASSWD_ARGON2_P        1u
#define PASSWD_ARGON2_SALT_LEN 16u
#define PASSWD_ARGON2_HASH_LEN 32u

/* Limits on what a file may ask for, so a typo cannot exhaust memory or
 * stall the worker pool for minutes. */
#define PASSWD_ARGON2_M_MAX    (1024u * 1024u)   /* KiB: 1 GiB */
#define PASSWD_ARGON2_T_MAX    64u
#define PASSWD_ARGON2_P_MAX    16u
#define PASSWD_PBKDF2_ITER_MAX 10000000u
#define PASSWD_USER_MAX        65535u            /* MQTT string limit */
#define PASSWD_PASSWORD_MAX    65535u            /* MQTT binary data limit */
#define PASSWD_FILE_MAX        (16u << 20)       /* bytes */
/* Longest hash text a line may carry (argon2id with 64-byte salt/hash). */
#define PASSWD_HASH_TEXT_MAX   256u

enum passwd_scheme {
    PASSWD_SHA512 = 6,         /* $6$SALT$HASH: SHA-512(password || salt) */
    PASSWD_PBKDF2_SHA512 = 7,  /* $7$ITER$SALT$HASH */
    PASSWD_ARGON2ID = 19,      /* $argon2id$v=19$m=M,t=T,p=P$SALT$HASH */
};

struct passwd_table;
struct passwd_entry;

/* Reads and parses the file at path (at most PASSWD_FILE_MAX bytes). Blank
 * lines and lines whose first non-blank byte is '#' are skipped; every
 * other line must be USER:HASH with a valid user name (see
 * passwd_username_check) and a supported hash. Any bad or duplicate line
 * fails the whole load: NULL is returned and err holds "PATH:LINE: why"
 * (or "PATH: why"). The new table has one reference. */
struct passwd_table *passwd_load(const char *path, char *err, size_t errlen);

/* Same as passwd_load on a buffer already in memory; name is used in
 * messages. buf need not be NUL-terminated. */
struct passwd_table *passwd_parse(const char *name, const char *buf, size_t len,
                                  char *err, size_t errlen);

/* Reference counting (atomic; any thread). unref frees at zero and wipes
 * the hashes. NULL is ignored. */
struct passwd_table *passwd_table_ref(struct passwd_table *t);
void passwd_table_unref(struct passwd_table *t);

size_t passwd_table_count(const struct passwd_table *t);

/* Finds user[0..len). Never NULL for a non-NULL table: an unknown user
 * gets the table's dummy entry, which has the scheme and cost of the
 * file's most common entry type, so passwd_verify() takes as long as it
 * would for a real user and then fails. The entry lives as long as the
 * table. */
const struct passwd_entry *passwd_lookup(const struct passwd_table *t,
                                         const char *user, size_t len);

/* False for the dummy entry (for logging only; never skip the verify). */
bool passwd_entry_known(const struct passwd_entry *e);
enum passwd_scheme passwd_entry_scheme(const struct passwd_entry *e);

/* For reload: true if both entries are known and hold the same hash
 * (scheme, parameters, salt and hash). A connected user whose entry in
 * the new table is unknown was deleted; one whose entry is not equal to
 * the old one had the password changed. Either may come from any table. */
bool passwd_entry_equal(const struct passwd_entry *a, const struct passwd_entry *b);

/* Hashes password[0..len) with the entry's scheme and salt and compares in
 * constant time (CRYPTO_memcmp). True only for a known entry and the right
 * password. This is the slow call (milliseconds): run it on the worker
 * pool. Thread-safe: it reads only the entry and uses stack/heap memory of
 * its own. */
bool passwd_verify(const struct passwd_entry *e, const void *password, size_t len);

/* User names mosquitto_passwd would accept, and MQTT can carry: 1 to
 * PASSWD_USER_MAX bytes of valid UTF-8 with no ':', no control
 * characters (U+0000-U+001F, U+007F), not starting with '#' and not
 * starting or ending with a blank. Returns 0, or -1 with err. */
int passwd_username_check(const char *user, size_t len, char *err, size_t errlen);

/* Hashes password with argon2id at the PASSWD_ARGON2_* defaults and a
 * fresh random salt; writes the PHC string into out. Returns 0, or -1
 * with err. */
int passwd_hash_argon2id(const void *password, size_t len, char *out, size_t outlen,
                         char *err, size_t errlen);

/* For moatctl passwd: adds user or changes its password (argon2id). The
 * existing file must parse (so moatd will accept the result); all other
 * lines, comments included, are kept byte for byte. The file is replaced
 * atomically (temporary file in the same directory, fsync, rename, fsync
 * of the directory) under an flock() on the old file so concurrent
 * moatctl runs do not lose updates. A new file gets mode 0600; an existing
 * one keeps its mode minus any bits for others, and its owner if the
 * caller may set it. Returns 0, or -1 with err. */
int passwd_file_set(const char *path, const char *user, const void *password,
                    size_t pwlen, char *err, size_t errlen);

/* Removes user's line, same guarantees as passwd_file_set. Returns 0,
 * or -1 with err (also when the user is not in the file). */
int passwd_file_delete(const char *path, const char *user, char *err, size_t errlen);

/* Reads a password for moatctl (user/auth/passwd_prompt.c). With
 * from_stdin, one line from standard input (newline stripped, no prompt).
 * Otherwise prompts on /dev/tty with echo off, twice when confirm is set,
 * and restores the terminal before returning. The password is not
 * NUL-terminated in meaning but buf gets a NUL after it; cap includes that
 * byte. Empty passwords and passwords longer than cap - 1 (or
 * PASSWD_PASSWORD_MAX) are refused. Returns the length, or -1 with err. */
long passwd_read_password(char *buf, size_t cap, bool from_stdin, bool confirm,
                          char *err, size_t errlen);

/* The same on explicit descriptors: prompts go to out_fd, input comes from
 * in_fd; echo is turned off only if in_fd is a terminal. For tests. */
long passwd_read_password_fd(int in_fd, int out_fd, char *buf, size_t cap,
                             bool confirm, char *err, size_t errlen);

#endif
