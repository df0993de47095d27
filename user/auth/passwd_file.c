/* moatctl passwd: atomic rewrite of a password file, one user changed. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/err.h"
#include "auth/file.h"
#include "auth/passwd_internal.h"


/* The old file, locked. fd is -1 when the file does not exist yet. */
struct old_file {
    int         fd;
    struct stat st;
    char       *buf;
    size_t      len;
};

/* Opens and flock()s path, retrying if another writer replaced the file
 * between our open and our lock (we would hold a lock on a dead inode). */
static int old_open(const char *path, struct old_file *o, char *err, size_t errlen)
{
    o->fd = -1;
    o->buf = NULL;
    o->len = 0;
    for (int tries = 0; tries < 20; tries++) {
        struct stat now;
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0 && errno == ENOENT)
            return 0;
        if (fd < 0 && errno == ELOOP)
            return err_set(err, errlen, "%s: is a symbolic link; give the real path", path);
        if (fd < 0)
            return err_set(err, errlen, "%s: %s", path, strerror(errno));
        if (flock(fd, LOCK_EX) < 0 || fstat(fd, &o->st) < 0) {
            int e = errno;
            close(fd);
            return err_set(err, errlen, "%s: %s", path, strerror(e));
        }
        if (stat(path, &now) == 0 && now.st_ino == o->st.st_ino &&
            now.st_dev == o->st.st_dev) {
            o->fd = fd;
            if (auth_read_fd(fd, PASSWD_FILE_MAX, &o->buf, &o->len) < 0) {
                int e = errno;
                close(fd);
                o->fd = -1;
                return err_set(err, errlen, "%s: %s", path,
                            e == EFBIG ? "file too large" : e == EINVAL
                            ? "not a regular file" : strerror(e));
            }
            return 0;
        }
        close(fd);                     /* replaced under us: retry */
    }
    return err_set(err, errlen, "%s: file keeps changing; is another moatctl running?", path);
}

static void old_close(struct old_file *o)
{
    if (o->buf) {
        OPENSSL_cleanse(o->buf, o->len);
        free(o->buf);
    }
    if (o->fd >= 0)
        close(o->fd);                  /* drops the lock */
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Writes the pieces to a temporary file next to path and renames it over
 * path. Pieces: a[0..an) then line (may be NULL) then b[0..bn). */
static int replace_file(const char *path, const struct old_file *o, const char *a,
                        size_t an, const char *line, const char *b, size_t bn,
                        char *err, size_t errlen)
{
    char tmp[PATH_MAX], dirbuf[PATH_MAX];
    int n = snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", path);
    if (n < 0 || (size_t)n >= sizeof(tmp) || strlen(path) >= sizeof(dirbuf))
        return err_set(err, errlen, "%s: path too long", path);
    int fd = mkstemp(tmp);             /* mode 0600 */
    if (fd < 0)
        return err_set(err, errlen, "%s: cannot create temporary file: %s", tmp,
                    strerror(errno));
    mode_t mode = o->fd >= 0 ? (o->st.st_mode & 0770) : 0600;
    if (o->fd >= 0 && fchown(fd, o->st.st_uid, o->st.st_gid) < 0 && errno != EPERM)
        goto io_error;
    if (fchmod(fd, mode) < 0)
        goto io_error;
    if (write_all(fd, a, an) < 0 || (line && write_all(fd, line, strlen(line)) < 0) ||
        write_all(fd, b, bn) < 0 || fsync(fd) < 0)
        goto io_error;
    if (close(fd) < 0) {
        fd = -1;
        goto io_error;
    }
    fd = -1;
    if (rename(tmp, path) < 0)
        goto io_error;
    /* Make the rename durable too. */
    memcpy(dirbuf, path, strlen(path) + 1);
    int dfd = open(dirname(dirbuf), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
io_error:;
    int e = errno;
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    return err_set(err, errlen, "%s: %s", tmp, strerror(e));
}

/* Finds user's line in buf: sets *start and *end (end includes '\n').
 * Returns true if found. Comment lines never match. */
static bool find_line(const char *buf, size_t len, const char *user, size_t ulen,
                      size_t *start, size_t *end)
{
    for (size_t pos = 0; pos < len;) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t e = nl ? (size_t)(nl - buf) + 1 : len;
        if (e - pos > ulen && memcmp(buf + pos, user, ulen) == 0 && buf[pos + ulen] == ':') {
            *start = pos;
            *end = e;
            return true;
        }
        pos = e;
    }
    return false;
}

/* Common part of set and delete: lock, read, validate. */
static int prepare(const char *path, const char *user, struct old_file *o, char *err,
                   size_t errlen)
{
    char why[256];
    if (passwd_username_check(user, strlen(user), why, sizeof(why)) < 0)
        return err_set(err, errlen, "%s", why);
    if (old_open(path, o, err, errlen) < 0)
        return -1;
    if (o->fd >= 0) {
        /* Refuse to touch a file moatd would refuse: the error names the
         * line to fix by hand. */
        struct passwd_table *t = passwd_parse_ex(path, o->buf, o->len, false, err, errlen);
        if (!t) {
            old_close(o);
            return -1;
        }
        passwd_table_unref(t);
    }
    return 0;
}

/* Contract in passwd.h. */
int passwd_file_set(const char *path, const char *user, const void *password,
                    size_t pwlen, char *err, size_t errlen)
{
    struct old_file o;
    char hash[PASSWD_HASH_TEXT_MAX + 1];
    char *line;
    size_t s, e, ulen = strlen(user);
    int rc;

    if (prepare(path, user, &o, err, errlen) < 0)
        return -1;
    if (passwd_hash_argon2id(password, pwlen, hash, sizeof(hash), err, errlen) < 0) {
        old_close(&o);
        return -1;
    }
    line = malloc(ulen + strlen(hash) + 4);
    if (!line) {
        old_close(&o);
        return err_set(err, errlen, "out of memory");
    }
    if (o.fd >= 0 && find_line(o.buf, o.len, user, ulen, &s, &e)) {
        sprintf(line, "%s:%s\n", user, hash);
        rc = replace_file(path, &o, o.buf, s, line, o.buf + e, o.len - e, err, errlen);
    } else {
        /* Append, after a newline if the file lacks a final one. */
        bool nl = o.len > 0 && o.buf[o.len - 1] != '\n';
        sprintf(line, "%s%s:%s\n", nl ? "\n" : "", user, hash);
        rc = replace_file(path, &o, o.buf ? o.buf : "", o.len, line, "", 0, err, errlen);
    }
    OPENSSL_cleanse(line, strlen(line));
    free(line);
    OPENSSL_cleanse(hash, sizeof(hash));
    old_close(&o);
    return rc;
}

/* Contract in passwd.h. */
int passwd_file_delete(const char *path, const char *user, char *err, size_t errlen)
{
    struct old_file o;
    size_t s, e;
    int rc;

    if (prepare(path, user, &o, err, errlen) < 0)
        return -1;
    if (o.fd < 0 || !find_line(o.buf, o.len, user, strlen(user), &s, &e)) {
        old_close(&o);
        return err_set(err, errlen, "%s: no user '%s'", path, user);
    }
    rc = replace_file(path, &o, o.buf, s, NULL, o.buf + e, o.len - e, err, errlen);
    old_close(&o);
    return rc;
}
