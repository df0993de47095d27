/* moatctl passwd FILE USER [--stdin] | moatctl passwd -D FILE USER:
 * mosquitto_passwd's job, writing argon2id (user/auth/passwd.h). Works
 * without moatd; `moatctl reload` makes a running moatd read the file. */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "auth/passwd.h"
#include "moatctl.h"

int cmd_passwd(struct cli *c, int argc, char **argv)
{
    bool del = false, from_stdin = false;
    const char *pos[2];
    int np = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "-D"))
            del = true;
        else if (!strcmp(argv[i], "--stdin"))
            from_stdin = true;
        else if (argv[i][0] == '-')
            return usage_err("passwd: unknown option '%s'", argv[i]);
        else if (np < 2)
            pos[np++] = argv[i];
        else
            return usage_err("passwd: unexpected argument '%s'", argv[i]);
    }
    if (np != 2)
        return usage_err("passwd: FILE and USER expected");
    char err[512];
    if (passwd_username_check(pos[1], strlen(pos[1]), err, sizeof err) < 0)
        return usage_err("passwd: %s", err);
    if (del) {
        if (passwd_file_delete(pos[0], pos[1], err, sizeof err) < 0) {
            fprintf(stderr, "moatctl: %s\n", err);
            return EXIT_FAIL;
        }
        return EXIT_OK;
    }
    char pw[65536];
    long n = passwd_read_password(pw, sizeof pw, from_stdin, !from_stdin, err, sizeof err);
    if (n < 0) {
        fprintf(stderr, "moatctl: %s\n", err);
        return EXIT_FAIL;
    }
    int r = passwd_file_set(pos[0], pos[1], pw, (size_t)n, err, sizeof err);
    OPENSSL_cleanse(pw, sizeof pw);
    if (r < 0) {
        fprintf(stderr, "moatctl: %s\n", err);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}
