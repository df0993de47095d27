/* user/auth/passwd*.c: mosquitto_passwd files, argon2id, rewrite, prompt. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <argon2.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "auth/b64.h"
#include "auth/passwd.h"

/* Made by Debian 12's mosquitto 2.0.11:
 *   mosquitto_passwd -c -b F alice secret; mosquitto_passwd -b F bob hunter2
 *   mosquitto_passwd -H sha512 -b F carol pw6 */
static const char mosq_file[] =
    "alice:$7$101$6r1/n+/sMXw/XK76$QlkYUpS0cWPwAvngr15wotYKvWTRtA1IdGcuWtF1JoiLqBJtj7n5RkEX"
    "G488CQJiGsTr9zuJOsPKNktsMX4AYQ==\n"
    "bob:$7$101$IE099A7A/Q+F/fXO$fqrDZPyHtZ84GS31Ri6q6fDMmkC9a2J4WX37K+WgnCYIfcAvxusY3A9wJD"
    "MbBlQcT5zEfu6NM3gBla4WzOQYkw==\n"
    "carol:$6$IyDqHd+ugW5c4NTM$4ImQfJldFDeJJ7D8evZ7+sp+IzWu5GlizSM3KCgThIODsDIu+/h86vbiX5fr"
    "aCXE6TLHM2eYuXQl8E111byFFg==\n";

static struct passwd_table *parse_ok(const char *text)
{
    char err[512] = "";
    struct passwd_table *t = passwd_parse("pw", text, strlen(text), err, sizeof(err));
    if (!t)
        fail_msg("refused: %s", err);
    return t;
}

static bool verify(const struct passwd_table *t, const char *user, const char *pw)
{
    return passwd_verify(passwd_lookup(t, user, strlen(user)), pw, strlen(pw));
}

static void test_mosquitto_fixture(void **state)
{
    struct passwd_table *t = parse_ok(mosq_file);
    assert_int_equal(passwd_table_count(t), 3);
    assert_true(verify(t, "alice", "secret"));
    assert_true(verify(t, "bob", "hunter2"));
    assert_true(verify(t, "carol", "pw6"));
    assert_int_equal(passwd_entry_scheme(passwd_lookup(t, "alice", 5)), PASSWD_PBKDF2_SHA512);
    assert_int_equal(passwd_entry_scheme(passwd_lookup(t, "carol", 5)), PASSWD_SHA512);
    /* wrong passwords, someone else's password, prefixes, case */
    assert_false(verify(t, "alice", "hunter2"));
    assert_false(verify(t, "alice", "secre"));
    assert_false(verify(t, "alice", "secret "));
    assert_false(verify(t, "alice", "Secret"));
    assert_false(verify(t, "carol", ""));
    assert_false(verify(t, "Alice", "secret"));
    /* the user name is length-delimited, not NUL-terminated */
    assert_true(passwd_verify(passwd_lookup(t, "alicexyz", 5), "secret", 6));
    passwd_table_unref(t);
}

/* Fresh files from the installed mosquitto_passwd, when there is one. */
static void test_mosquitto_live(void **state)
{
    char dir[] = "/tmp/moat-pw-XXXXXX", path[64], cmd[512], err[512];
    if (access("/usr/bin/mosquitto_passwd", X_OK) != 0)
        skip();
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/f", dir);
    snprintf(cmd, sizeof(cmd),
             "mosquitto_passwd -c -b %s u1 'p w:1' && mosquitto_passwd -b %s 'u 2' x"
             " && mosquitto_passwd -H sha512 -b %s u3 long-password-three", path, path, path);
    assert_int_equal(system(cmd), 0);
    struct passwd_table *t = passwd_load(path, err, sizeof(err));
    if (!t)
        fail_msg("%s", err);
    assert_true(verify(t, "u1", "p w:1"));
    assert_true(verify(t, "u 2", "x"));
    assert_true(verify(t, "u3", "long-password-three"));
    assert_false(verify(t, "u1", "p w:2"));
    passwd_table_unref(t);
    unlink(path);
    rmdir(dir);
}

static void test_unknown_user_dummy(void **state)
{
    struct passwd_table *t = parse_ok(mosq_file);
    const struct passwd_entry *e = passwd_lookup(t, "mallory", 7);
    assert_non_null(e);
    assert_false(passwd_entry_known(e));
    /* The dummy has the file's most common kind: $7$ (2 of 3). */
    assert_int_equal(passwd_entry_scheme(e), PASSWD_PBKDF2_SHA512);
    assert_false(passwd_verify(e, "secret", 6));
    assert_false(passwd_verify(e, "", 0));
    assert_true(passwd_entry_known(passwd_lookup(t, "bob", 3)));
    passwd_table_unref(t);
    /* An empty file: the dummy is argon2id at moat's defaults. */
    t = parse_ok("# nobody yet\n\n");
    assert_int_equal(passwd_table_count(t), 0);
    e = passwd_lookup(t, "x", 1);
    assert_int_equal(passwd_entry_scheme(e), PASSWD_ARGON2ID);
    assert_false(passwd_verify(e, "x", 1));
    passwd_table_unref(t);
}

static double secs(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Fastest of n verifications. */
static double best_time(const struct passwd_entry *e, const char *pw, int n)
{
    double best = 1e9;
    for (int i = 0; i < n; i++) {
        double t0 = secs();
        (void)passwd_verify(e, pw, strlen(pw));
        double dt = secs() - t0;
        if (dt < best)
            best = dt;
    }
    return best;
}

/* An unknown user costs a full argon2id run, like a known one. */
static void test_unknown_user_timing(void **state)
{
    char line[512], err[256];
    strcpy(line, "dave:");
    assert_int_equal(passwd_hash_argon2id("pw", 2, line + 5, sizeof(line) - 6, err,
                                          sizeof(err)), 0);
    strcat(line, "\n");
    struct passwd_table *t = parse_ok(line);
    double known = best_time(passwd_lookup(t, "dave", 4), "wrong", 3);
    double unknown = best_time(passwd_lookup(t, "eve", 3), "wrong", 3);
    double ratio = unknown / known;
    if (ratio < 0.5 || ratio > 2.0)
        fail_msg("known %.4fs vs unknown %.4fs", known, unknown);
    assert_true(known > 0.002);        /* really ran argon2id (19 MiB) */
    passwd_table_unref(t);
}

static void test_argon2id_round_trip(void **state)
{
    char hash[PASSWD_HASH_TEXT_MAX + 1], hash2[PASSWD_HASH_TEXT_MAX + 1], err[256];
    const char pw[] = "correct horse \xc3\xa9 battery";
    assert_int_equal(passwd_hash_argon2id(pw, strlen(pw), hash, sizeof(hash), err,
                                          sizeof(err)), 0);
    assert_int_equal(strncmp(hash, "$argon2id$v=19$m=19456,t=2,p=1$", 31), 0);
    /* libargon2's own PHC decoder agrees: the string is standard. */
    assert_int_equal(argon2id_verify(hash, pw, strlen(pw)), ARGON2_OK);
    /* Fresh salt each time. */
    assert_int_equal(passwd_hash_argon2id(pw, strlen(pw), hash2, sizeof(hash2), err,
                                          sizeof(err)), 0);
    assert_string_not_equal(hash, hash2);
    char file[600];
    snprintf(file, sizeof(file), "u:%s\n", hash);
    struct passwd_table *t = parse_ok(file);
    assert_true(verify(t, "u", pw));
    assert_false(verify(t, "u", "correct horse"));
    assert_int_equal(passwd_entry_scheme(passwd_lookup(t, "u", 1)), PASSWD_ARGON2ID);
    passwd_table_unref(t);
    /* A hash libargon2 made with other parameters reads too. */
    char enc[256];
    assert_int_equal(argon2id_hash_encoded(1, 64, 2, "pw", 2, "saltsaltsalt", 12, 24, enc,
                                           sizeof(enc)), ARGON2_OK);
    snprintf(file, sizeof(file), "v:%s\n", enc);
    t = parse_ok(file);
    assert_true(verify(t, "v", "pw"));
    assert_false(verify(t, "v", "pW"));
    passwd_table_unref(t);
    /* empty and oversize passwords are refused when hashing */
    assert_int_equal(passwd_hash_argon2id("", 0, hash, sizeof(hash), err, sizeof(err)), -1);
    assert_non_null(strstr(err, "empty"));
    assert_int_equal(passwd_hash_argon2id("x", 1, hash, 20, err, sizeof(err)), -1);
}

struct bad_case {
    const char *text;
    const char *msg;   /* expected in the message after "pw:LINE: " */
    unsigned line;
};

static const struct bad_case bad_cases[] = {
    { "nocolon\n", "no ':'", 1 },
    { "# c\n\nalice\n", "no ':'", 3 },
    { ":$6$AAAAAAAAAAAAAAAA$x\n", "empty user name", 1 },
    { "a\tb:$6$x$y\n", "control character", 1 },
    { "a\x7f:$6$x$y\n", "control character", 1 },
    { " bob:$6$x$y\n", "blank", 1 },
    { "bo\xff:$6$x$y\n", "UTF-8", 1 },
    { "bob:plaintext\n", "plain-text", 1 },
    { "bob:\n", "plain-text", 1 },
    { "bob:$5$abc$def\n", "unsupported hash type", 1 },
    { "bob:$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA\n",
      "unsupported hash type", 1 },
    { "bob:$7$0$6r1/n+/sMXw/XK76$QlkYUpS0cWPwAvngr15wotYKvWTRtA1IdGcuWtF1JoiLqBJtj7n5RkEXG488"
      "CQJiGsTr9zuJOsPKNktsMX4AYQ==\n", "iteration count", 1 },
    { "bob:$7$99999999999$6r1/n+/sMXw/XK76$QlkYUpS0cWPwAvngr15wotYKvWTRtA1IdGcuWtF1JoiLqBJtj7n5RkEXG488"
      "CQJiGsTr9zuJOsPKNktsMX4AYQ==\n", "iteration count", 1 },
    { "bob:$7$-5$6r1/n+/sMXw/XK76$x\n", "iteration count", 1 },
    { "bob:$7$101\n", "expected $SALT$HASH", 1 },
    { "bob:$7$101$6r1/n+/sMXw/XK76\n", "expected $SALT$HASH", 1 },
    { "bob:$6$!!!!$QlkYUpS0cWPwAvngr15wotYKvWTRtA1IdGcuWtF1JoiLqBJtj7n5RkEXG488CQJiGsTr9zuJ"
      "OsPKNktsMX4AYQ==\n", "salt", 1 },
    { "bob:$6$6r1/n+/sMXw/XK76$QlkYUpS0cWPw\n", "hash is not base64 of 64", 1 },
    { "bob:$6$6r1/n+/sMXw/XK76$QlkYUpS0cWPwAvngr15wotYKvWTRtA1IdGcuWtF1JoiLqBJtj7n5RkEXG488"
      "CQJiGsTr9zuJOsPKNktsMX4AYQ==$extra\n", "junk after the hash", 1 },
    { "bob:$argon2id$v=16$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA\n", "v=19", 1 },
    { "bob:$argon2id$v=19$m=64,t=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA\n", "m=M,t=T,p=P", 1 },
    { "bob:$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA\n",
      "parameter m", 1 },
    { "bob:$argon2id$v=19$m=64,t=0,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA\n", "parameter t", 1 },
    { "bob:$argon2id$v=19$m=8,t=1,p=2$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA\n", "8*p", 1 },
    { "bob:$argon2id$v=19$m=64,t=1,p=1,x=2$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA\n", "junk", 1 },
    { "bob:$argon2id$v=19$m=64,t=1,p=1$c2FsdA$aGFzaGhhc2hoYXNoaGFzaA\n", "salt", 1 },
    { "bob:$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaA\n", "hash is not base64", 1 },
    /* duplicates: the message names both lines */
    { "bob:$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA\n# x\n"
      "bob:$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA\n",
      "duplicate user 'bob' (first on line 1)", 3 },
};

static void test_malformed_lines(void **state)
{
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        const struct bad_case *c = &bad_cases[i];
        char err[512] = "", want[32];
        struct passwd_table *t = passwd_parse("pw", c->text, strlen(c->text), err,
                                              sizeof(err));
        if (t)
            fail_msg("case %zu accepted: %s", i, c->text);
        snprintf(want, sizeof(want), "pw:%u: ", c->line);
        if (strncmp(err, want, strlen(want)) != 0 || !strstr(err, c->msg))
            fail_msg("case %zu: '%s' lacks '%s' / '%s'", i, err, want, c->msg);
    }
}

static void test_line_endings_and_comments(void **state)
{
    /* CRLF, trailing blanks, comments, blank lines, no final newline. */
    static const char text[] =
        "# users\r\n"
        "   # indented comment\n"
        "\n"
        "alice:$7$101$6r1/n+/sMXw/XK76$QlkYUpS0cWPwAvngr15wotYKvWTRtA1IdGcuWtF1JoiLqBJtj7n5RkEX"
        "G488CQJiGsTr9zuJOsPKNktsMX4AYQ==  \r\n"
        "carol:$6$IyDqHd+ugW5c4NTM$4ImQfJldFDeJJ7D8evZ7+sp+IzWu5GlizSM3KCgThIODsDIu+/h86vbiX5fr"
        "aCXE6TLHM2eYuXQl8E111byFFg==";
    struct passwd_table *t = parse_ok(text);
    assert_int_equal(passwd_table_count(t), 2);
    assert_true(verify(t, "alice", "secret"));
    assert_true(verify(t, "carol", "pw6"));
    passwd_table_unref(t);
    /* NUL inside a line */
    char err[256];
    static const char nul[] = "a:$6$x\0y\n";
    assert_null(passwd_parse("pw", nul, sizeof(nul) - 1, err, sizeof(err)));
    assert_non_null(strstr(err, "pw:1: NUL"));
}

static void test_username_check(void **state)
{
    char err[128];
    assert_int_equal(passwd_username_check("bob smith", 9, err, sizeof(err)), 0);
    assert_int_equal(passwd_username_check("j\xc3\xbcrgen", 7, err, sizeof(err)), 0);
    assert_int_equal(passwd_username_check("a:b", 3, err, sizeof(err)), -1);
    assert_int_equal(passwd_username_check("a\nb", 3, err, sizeof(err)), -1);
    assert_int_equal(passwd_username_check("#a", 2, err, sizeof(err)), -1);
    assert_int_equal(passwd_username_check("a ", 2, err, sizeof(err)), -1);
    assert_int_equal(passwd_username_check("", 0, err, sizeof(err)), -1);
    assert_int_equal(passwd_username_check("\xed\xa0\x80", 3, err, sizeof(err)), -1);
}

static void test_b64(void **state)
{
    uint8_t out[16];
    char txt[32];
    assert_int_equal(auth_b64_decode("aGk=", 4, out, sizeof(out)), 2);
    assert_memory_equal(out, "hi", 2);
    assert_int_equal(auth_b64_decode("aGk", 3, out, sizeof(out)), 2);     /* unpadded */
    assert_int_equal(auth_b64_decode("aGl=", 4, out, sizeof(out)), -1);   /* bits set */
    assert_int_equal(auth_b64_decode("aGk==", 5, out, sizeof(out)), -1);
    assert_int_equal(auth_b64_decode("a", 1, out, sizeof(out)), -1);
    assert_int_equal(auth_b64_decode("a=Gk", 4, out, sizeof(out)), -1);
    assert_int_equal(auth_b64_decode("aGk=", 4, out, 1), -1);             /* no room */
    assert_int_equal(auth_b64_decode("", 0, out, sizeof(out)), 0);
    assert_int_equal(auth_b64_encode((const uint8_t *)"hi", 2, 1, txt, sizeof(txt)), 4);
    assert_string_equal(txt, "aGk=");
    assert_int_equal(auth_b64_encode((const uint8_t *)"hi", 2, 0, txt, sizeof(txt)), 3);
    assert_string_equal(txt, "aGk");
    assert_int_equal(auth_b64_encode((const uint8_t *)"hi", 2, 1, txt, 4), -1);
}

static char *slurp(const char *path)
{
    static char buf[8192];
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    assert_true(n >= 0);
    buf[n] = '\0';
    close(fd);
    return buf;
}

static void spit(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    fchmod(fd, mode);
    close(fd);
}

static void test_file_set_delete(void **state)
{
    char dir[] = "/tmp/moat-pw-XXXXXX", path[64], err[512];
    struct stat st;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/passwd", dir);

    /* New file: mode 0600, one argon2id line. */
    assert_int_equal(passwd_file_set(path, "zoe", "z1", 2, err, sizeof(err)), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(strncmp(slurp(path), "zoe:$argon2id$v=19$m=19456,t=2,p=1$", 35), 0);

    /* Existing mosquitto file with a comment and no final newline, 0640. */
    char text[1024];
    snprintf(text, sizeof(text), "# site users\n%.*s", (int)strlen(mosq_file) - 1, mosq_file);
    spit(path, text, 0644);
    assert_int_equal(passwd_file_set(path, "dave", "d4", 2, err, sizeof(err)), 0);
    char *now = slurp(path);
    assert_memory_equal(now, text, strlen(text));          /* kept byte for byte */
    assert_int_equal(strncmp(now + strlen(text), "\ndave:$argon2id$", 16), 0);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0640);            /* world bits dropped */

    /* Change bob: his line is replaced in place, the others are kept. */
    assert_int_equal(passwd_file_set(path, "bob", "new", 3, err, sizeof(err)), 0);
    now = slurp(path);
    assert_non_null(strstr(now, "# site users\nalice:$7$101$6r1/"));
    assert_non_null(strstr(now, "\nbob:$argon2id$"));
    assert_non_null(strstr(now, "\ncarol:$6$IyDqHd"));
    struct passwd_table *t = passwd_load(path, err, sizeof(err));
    if (!t)
        fail_msg("%s", err);
    assert_int_equal(passwd_table_count(t), 4);
    assert_true(verify(t, "alice", "secret"));
    assert_true(verify(t, "bob", "new"));
    assert_false(verify(t, "bob", "hunter2"));
    assert_true(verify(t, "carol", "pw6"));
    assert_true(verify(t, "dave", "d4"));
    passwd_table_unref(t);

    /* Reload view: bob changed, alice did not, carol still there. */
    struct passwd_table *old = parse_ok(mosq_file);
    t = passwd_load(path, err, sizeof(err));
    assert_non_null(t);
    assert_true(passwd_entry_equal(passwd_lookup(old, "alice", 5), passwd_lookup(t, "alice", 5)));
    assert_false(passwd_entry_equal(passwd_lookup(old, "bob", 3), passwd_lookup(t, "bob", 3)));
    assert_true(passwd_entry_equal(passwd_lookup(old, "carol", 5), passwd_lookup(t, "carol", 5)));
    assert_false(passwd_entry_equal(passwd_lookup(old, "x", 1), passwd_lookup(t, "x", 1)));
    passwd_table_unref(old);
    passwd_table_unref(t);

    /* Delete carol; then deleting her again fails. */
    assert_int_equal(passwd_file_delete(path, "carol", err, sizeof(err)), 0);
    assert_null(strstr(slurp(path), "carol"));
    assert_int_equal(passwd_file_delete(path, "carol", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "no user 'carol'"));
    /* "al" is not a prefix match for alice */
    assert_int_equal(passwd_file_delete(path, "al", err, sizeof(err)), -1);

    /* Bad names and bad files are refused, the file unchanged. */
    assert_int_equal(passwd_file_set(path, "a:b", "x", 1, err, sizeof(err)), -1);
    assert_int_equal(passwd_file_set(path, "ok", "", 0, err, sizeof(err)), -1);
    spit(path, "alice:plain\n", 0600);
    assert_int_equal(passwd_file_set(path, "bob", "x", 1, err, sizeof(err)), -1);
    if (!strstr(err, "/passwd:1: user 'alice'"))
        fail_msg("%s", err);
    assert_string_equal(slurp(path), "alice:plain\n");

    /* Symbolic links are refused (rename would replace the link). */
    char link_path[80];
    snprintf(link_path, sizeof(link_path), "%s/link", dir);
    assert_int_equal(symlink(path, link_path), 0);
    assert_int_equal(passwd_file_set(link_path, "bob", "x", 1, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "symbolic link"));
    unlink(link_path);

    /* No temporary files left behind. */
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "test $(ls -A %s | wc -l) -eq 1", dir);
    assert_int_equal(system(cmd), 0);
    unlink(path);
    rmdir(dir);
}

/* Concurrent moatctl runs: the flock keeps every update. Hashing happens
 * while the lock is held, so without it updates would be lost. */
static void test_file_concurrent(void **state)
{
    char dir[] = "/tmp/moat-pw-XXXXXX", path[64], err[512];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/passwd", dir);
    assert_int_equal(passwd_file_set(path, "u0", "p0", 2, err, sizeof(err)), 0);
    pid_t kids[4];
    for (int i = 0; i < 4; i++) {
        kids[i] = fork();
        assert_true(kids[i] >= 0);
        if (kids[i] == 0) {
            char u[8], p[8];
            snprintf(u, sizeof(u), "u%d", i + 1);
            snprintf(p, sizeof(p), "p%d", i + 1);
            _exit(passwd_file_set(path, u, p, strlen(p), err, sizeof(err)) == 0 ? 0 : 1);
        }
    }
    for (int i = 0; i < 4; i++) {
        int st;
        assert_int_equal(waitpid(kids[i], &st, 0), kids[i]);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    struct passwd_table *t = passwd_load(path, err, sizeof(err));
    if (!t)
        fail_msg("%s", err);
    assert_int_equal(passwd_table_count(t), 5);
    assert_true(verify(t, "u3", "p3"));
    passwd_table_unref(t);
    unlink(path);
    rmdir(dir);
}

static void test_prompt_pipe(void **state)
{
    int in[2], out[2];
    char buf[64], err[128];
    assert_int_equal(pipe(in), 0);
    assert_int_equal(pipe(out), 0);
    const char *input = "s3cret\r\ns3cret\nnext\n";
    assert_int_equal(write(in[1], input, strlen(input)), (ssize_t)strlen(input));
    assert_int_equal(passwd_read_password_fd(in[0], out[1], buf, sizeof(buf), true, err,
                                             sizeof(err)), 6);
    assert_string_equal(buf, "s3cret");
    /* Only two lines were consumed. */
    assert_int_equal(passwd_read_password_fd(in[0], out[1], buf, sizeof(buf), false, err,
                                             sizeof(err)), 4);
    assert_string_equal(buf, "next");
    /* mismatch, empty, too long, EOF */
    const char *more = "a\nb\n\n0123456789\n";
    assert_int_equal(write(in[1], more, strlen(more)), (ssize_t)strlen(more));
    assert_int_equal(passwd_read_password_fd(in[0], out[1], buf, sizeof(buf), true, err,
                                             sizeof(err)), -1);
    assert_non_null(strstr(err, "do not match"));
    assert_int_equal(passwd_read_password_fd(in[0], out[1], buf, sizeof(buf), false, err,
                                             sizeof(err)), -1);
    assert_non_null(strstr(err, "empty"));
    assert_int_equal(passwd_read_password_fd(in[0], out[1], buf, 8, false, err, sizeof(err)),
                     -1);
    assert_non_null(strstr(err, "longer than 7"));
    close(in[1]);
    assert_int_equal(passwd_read_password_fd(in[0], out[1], buf, sizeof(buf), false, err,
                                             sizeof(err)), -1);
    close(in[0]);
    close(out[0]);
    close(out[1]);
}

struct pty_job {
    int  fd;
    long rc;
    char buf[64];
};

static void *pty_reader(void *arg)
{
    struct pty_job *j = arg;
    char err[128];
    j->rc = passwd_read_password_fd(j->fd, j->fd, j->buf, sizeof(j->buf), false, err,
                                    sizeof(err));
    return NULL;
}

/* On a terminal the password is not echoed and the mode is restored. */
static void test_prompt_tty(void **state)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0)
        skip();
    assert_int_equal(grantpt(m), 0);
    assert_int_equal(unlockpt(m), 0);
    struct pty_job j = { .fd = open(ptsname(m), O_RDWR | O_NOCTTY) };
    assert_true(j.fd >= 0);
    struct termios before, after;
    assert_int_equal(tcgetattr(j.fd, &before), 0);
    assert_true(before.c_lflag & ECHO);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, pty_reader, &j), 0);
    /* Wait for the prompt: it is written after echo is turned off. */
    char seen[256] = "";
    size_t n = 0;
    while (!strstr(seen, "Password: ") && n < sizeof(seen) - 1) {
        ssize_t r = read(m, seen + n, sizeof(seen) - 1 - n);
        assert_true(r > 0);
        n += (size_t)r;
        seen[n] = '\0';
    }
    assert_int_equal(write(m, "tty-pass\n", 9), 9);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(j.rc, 8);
    assert_string_equal(j.buf, "tty-pass");
    /* Whatever the terminal sent back holds no password. */
    int fl = fcntl(m, F_GETFL);
    fcntl(m, F_SETFL, fl | O_NONBLOCK);
    ssize_t r = read(m, seen, sizeof(seen) - 1);
    seen[r > 0 ? r : 0] = '\0';
    assert_null(strstr(seen, "tty-pass"));
    assert_int_equal(tcgetattr(j.fd, &after), 0);
    assert_int_equal(after.c_lflag, before.c_lflag);
    close(j.fd);
    close(m);
}

static volatile sig_atomic_t test_sigint;

static void count_sigint(int sig)
{
    test_sigint++;
}

/* Ctrl-C at a no-echo prompt restores the terminal, then the caller's
 * SIGINT disposition applies. */
static void test_prompt_tty_interrupt(void **state)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0)
        skip();
    assert_int_equal(grantpt(m), 0);
    assert_int_equal(unlockpt(m), 0);
    struct pty_job j = { .fd = open(ptsname(m), O_RDWR | O_NOCTTY) };
    assert_true(j.fd >= 0);
    struct termios before, after;
    assert_int_equal(tcgetattr(j.fd, &before), 0);
    struct sigaction sa = { .sa_handler = count_sigint }, old;
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGINT, &sa, &old), 0);
    test_sigint = 0;
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, pty_reader, &j), 0);
    char seen[256] = "";
    size_t n = 0;
    while (!strstr(seen, "Password: ") && n < sizeof(seen) - 1) {
        ssize_t r = read(m, seen + n, sizeof(seen) - 1 - n);
        assert_true(r > 0);
        n += (size_t)r;
        seen[n] = '\0';
    }
    assert_int_equal(write(m, "half", 4), 4);    /* typed, no Enter yet */
    usleep(20000);
    assert_int_equal(pthread_kill(th, SIGINT), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(j.rc, -1);
    assert_int_equal(test_sigint, 1);            /* re-raised to our handler */
    assert_int_equal(tcgetattr(j.fd, &after), 0);
    assert_int_equal(after.c_lflag, before.c_lflag);
    sigaction(SIGINT, &old, NULL);
    close(j.fd);
    close(m);
}

/* Two threads verify against one table at once (run under TSan/ASan). */
static void *verify_loop(void *arg)
{
    const struct passwd_table *t = arg;
    for (int i = 0; i < 50; i++)
        if (!verify(t, "alice", "secret") || verify(t, "bob", "x"))
            return (void *)1;
    return NULL;
}

static void test_threads_and_refs(void **state)
{
    struct passwd_table *t = parse_ok(mosq_file);
    pthread_t a, b;
    void *ra, *rb;
    passwd_table_ref(t);                   /* a worker's reference */
    assert_int_equal(pthread_create(&a, NULL, verify_loop, t), 0);
    assert_int_equal(pthread_create(&b, NULL, verify_loop, t), 0);
    passwd_table_unref(t);                 /* reload dropped its reference */
    pthread_join(a, &ra);
    pthread_join(b, &rb);
    assert_null(ra);
    assert_null(rb);
    passwd_table_unref(t);
}

static void test_load_errors(void **state)
{
    char err[256];
    assert_null(passwd_load("/nonexistent/pw", err, sizeof(err)));
    assert_non_null(strstr(err, "/nonexistent/pw: No such file"));
    assert_null(passwd_load("/tmp", err, sizeof(err)));
    assert_non_null(strstr(err, "not a regular file"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mosquitto_fixture),
        cmocka_unit_test(test_mosquitto_live),
        cmocka_unit_test(test_unknown_user_dummy),
        cmocka_unit_test(test_unknown_user_timing),
        cmocka_unit_test(test_argon2id_round_trip),
        cmocka_unit_test(test_malformed_lines),
        cmocka_unit_test(test_line_endings_and_comments),
        cmocka_unit_test(test_username_check),
        cmocka_unit_test(test_b64),
        cmocka_unit_test(test_file_set_delete),
        cmocka_unit_test(test_file_concurrent),
        cmocka_unit_test(test_prompt_pipe),
        cmocka_unit_test(test_prompt_tty),
        cmocka_unit_test(test_prompt_tty_interrupt),
        cmocka_unit_test(test_threads_and_refs),
        cmocka_unit_test(test_load_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
