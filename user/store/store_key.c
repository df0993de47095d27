/* The store key file: 64 hex characters, owner-only. */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int store_key_load(const char *path, uint8_t out[STORE_KEY_LEN], char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        snprintf(err, errlen, "persistence_key_file %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat sb;
    char buf[130];
    ssize_t n = -1;
    if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
        snprintf(err, errlen, "persistence_key_file %s: not a regular file", path);
        goto fail;
    }
    if (sb.st_mode & 077) {
        snprintf(err, errlen, "persistence_key_file %s: mode %04o allows group/other access; "
                 "it must be owner-only (chmod 600)", path, (unsigned)(sb.st_mode & 07777));
        goto fail;
    }
    if (sb.st_uid != geteuid()) {
        snprintf(err, errlen, "persistence_key_file %s: owned by uid %u, not by uid %u running moatd",
                 path, (unsigned)sb.st_uid, (unsigned)geteuid());
        goto fail;
    }
    n = read(fd, buf, sizeof buf);
    if (n < 0) {
        snprintf(err, errlen, "persistence_key_file %s: %s", path, strerror(errno));
        goto fail;
    }
    size_t len = (size_t)n;
    while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' '))
        len--;
    if (len != 2 * STORE_KEY_LEN) {
        snprintf(err, errlen, "persistence_key_file %s: expected 64 hex characters (openssl rand -hex 32), "
                 "found %zd bytes", path, n);
        goto fail;
    }
    for (size_t i = 0; i < STORE_KEY_LEN; i++) {
        int hi = hexval(buf[2 * i]), lo = hexval(buf[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            snprintf(err, errlen, "persistence_key_file %s: character %zu is not a hex digit", path,
                     2 * i + (hi < 0 ? 1 : 2));
            goto fail;
        }
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    OPENSSL_cleanse(buf, sizeof buf);
    close(fd);
    return 0;
fail:
    OPENSSL_cleanse(buf, sizeof buf);
    close(fd);
    return -1;
}
