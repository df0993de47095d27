/* moatd: the MQTT edge node daemon. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/engine.h"
#include "config.h"
#include "tls/tls.h"
#include "util/log.h"
#include "version.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: moatd [-c FILE] [-t] [-d] [-v] [-h]\n"
            "  -c FILE  read the configuration (mosquitto.conf keys; see docs/config.md)\n"
            "           without -c: the embedded default (plain MQTT on 127.0.0.1:1883,\n"
            "           anonymous clients allowed)\n"
            "  -t       check the configuration and exit (0: valid)\n"
            "  -d       print the embedded default configuration and exit\n"
            "  -v       print the version and exit\n"
            "  -h       this help\n");
}

int main(int argc, char **argv)
{
    const char *conf = NULL;
    bool test_only = false;
    int opt;
    while ((opt = getopt(argc, argv, "c:tdvh")) != -1) {
        switch (opt) {
        case 'c': conf = optarg; break;
        case 't': test_only = true; break;
        case 'd': fputs(config_default_text, stdout); return 0;
        case 'v': printf("moatd %s\n", MOAT_VERSION); return 0;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "moatd: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }

    struct moat_config cfg;
    char err[512];
    int r = conf ? config_load_file(&cfg, conf, err, sizeof err)
                 : config_load_default(&cfg, err, sizeof err);
    if (r < 0) {
        fprintf(stderr, "moatd: %s\n", err);
        return 1;
    }
    if (!test_only && tls_devcert_prepare(&cfg, err, sizeof err) < 0) {
        fprintf(stderr, "moatd: %s\n", err);
        config_free(&cfg);
        return 1;
    }
    if (test_only) {
        printf("moatd: %s: configuration OK\n", cfg.source);
        config_free(&cfg);
        return 0;
    }
    if (log_setup(cfg.log_types, cfg.log_dest, cfg.log_timestamp) < 0) {
        fprintf(stderr, "moatd: %s: log_dest '%s' cannot be opened\n", cfg.source, cfg.log_dest);
        config_free(&cfg);
        return 1;
    }
    struct engine *e = engine_new(&cfg, err, sizeof err);
    if (!e) {
        log_err("%s", err);
        if (cfg.log_dest && strcmp(cfg.log_dest, "stderr"))   /* the operator at the terminal */
            fprintf(stderr, "moatd: %s\n", err);
        config_free(&cfg);
        return 1;
    }
    log_notice("moatd %s running (%s)", MOAT_VERSION, cfg.source);
    r = engine_run(e);
    engine_free(e);
    config_free(&cfg);
    log_notice("moatd stopped");
    return r < 0 ? 1 : 0;
}
