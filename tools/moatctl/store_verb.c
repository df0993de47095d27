/* moatctl store check | store rekey NEWKEY: offline checks and key
 * rotation of moatd's store (user/store/store.h). moatd must be stopped:
 * LMDB allows one writer, and a running moatd holds it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "moatctl.h"
#include "store/store.h"

struct store_args {
    char path[4096];
    const char *key;            /* current key file, NULL: not encrypted */
    const char *newkey;         /* rekey: new key file, NULL: decrypt */
    struct moat_config cfg;
    bool have_cfg;
};

/* [--config FILE | --path STORE] [--key KEYFILE] */
static int parse(int argc, char **argv, bool rekey, struct store_args *a)
{
    const char *conf = NULL, *path = NULL;
    int npos = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--config") && i + 1 < argc)
            conf = argv[++i];
        else if (!strcmp(argv[i], "--path") && i + 1 < argc)
            path = argv[++i];
        else if (!strcmp(argv[i], "--key") && i + 1 < argc)
            a->key = argv[++i];
        else if (argv[i][0] == '-')
            return usage_err("store: unknown or incomplete option '%s'", argv[i]);
        else if (rekey && npos++ == 0)
            a->newkey = strcmp(argv[i], "none") ? argv[i] : NULL;
        else
            return usage_err("store: unexpected argument '%s'", argv[i]);
    }
    if (rekey && npos != 1)
        return usage_err("store rekey: NEWKEY (a key file, or none) expected");
    if (!!conf == !!path)
        return usage_err("store: give --config FILE (moatd's configuration) or --path STORE");
    if (path) {
        snprintf(a->path, sizeof a->path, "%s", path);
        return 0;
    }
    char err[512];
    if (config_load_file(&a->cfg, conf, err, sizeof err) < 0) {
        fprintf(stderr, "moatctl: %s\n", err);
        return EXIT_FAIL;
    }
    a->have_cfg = true;
    if (!a->cfg.persistence_location) {
        fprintf(stderr, "moatctl: %s: no persistence_location\n", conf);
        return EXIT_FAIL;
    }
    snprintf(a->path, sizeof a->path, "%s/%s", a->cfg.persistence_location,
             a->cfg.persistence_file ? a->cfg.persistence_file : "moat.lmdb");
    if (!a->key)
        a->key = a->cfg.persistence_key_file;
    return 0;
}

int cmd_store_check(struct cli *c, int argc, char **argv)
{
    struct store_args a = { 0 };
    int r = parse(argc, argv, false, &a);
    if (r == 0)
        r = store_check(a.path, a.key, stdout) == 0 ? EXIT_OK : EXIT_FAIL;
    if (a.have_cfg)
        config_free(&a.cfg);
    return r;
}

int cmd_store_rekey(struct cli *c, int argc, char **argv)
{
    struct store_args a = { 0 };
    int r = parse(argc, argv, true, &a);
    if (r == 0) {
        char err[512];
        if (store_rekey(a.path, a.key, a.newkey, err, sizeof err) < 0) {
            fprintf(stderr, "moatctl: store rekey: %s\n", err);
            r = EXIT_FAIL;
        } else {
            printf("%s: rewritten under %s\n", a.path, a.newkey ? a.newkey : "no key (unencrypted)");
            if (a.have_cfg)
                printf("set persistence_key_file to the new key before starting moatd\n");
        }
    }
    if (a.have_cfg)
        config_free(&a.cfg);
    return r;
}
