/* moatctl: operators' CLI for moat's XDP filter. Works on the pinned maps
 * directly (so it works while moatd is down) and, if moatd's control socket
 * exists, tells moatd what changed (line protocol: docs/xdp.md) so live
 * connections are kicked and the state file is kept.
 *
 * Every verb parses all its arguments before it touches a map: a bad
 * address, prefix or duration exits 2 with nothing changed. Exit codes:
 * 0 ok, 1 operation failed, 2 usage error. */
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "lib/cli.h"
#include "moatctl/moatctl.h"
#include "moat_abi.h"
#include "xdp/cidr.h"
#include "xdp/maps.h"
#include "xdp/xdp_filter.h"

__attribute__((format(printf, 1, 2)))
int usage_err(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("moatctl: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs(" (moatctl help)\n", stderr);
    va_end(ap);
    return EXIT_USAGE;
}

static int need_maps(struct cli *c)
{
    if (c->maps_open)
        return 0;
    char err[512];
    if (moat_maps_open_pinned(&c->maps, c->pin_root, err, sizeof(err)) < 0) {
        fprintf(stderr, "moatctl: %s\n", err);
        return -1;
    }
    c->maps_open = true;
    return 0;
}

/* Sends one command line to moatd; prints its reply on failure. Returns 0
 * if moatd said ok or is not running (socket absent and not explicit). */
static int tell_moatd(struct cli *c, const char *line, char *reply, size_t rlen)
{
    if (reply && rlen)
        reply[0] = '\0';
    if (c->no_daemon)
        return 0;
    if (access(c->sock, F_OK) != 0 && !c->sock_explicit)
        return 0;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(c->sock) >= sizeof(sa.sun_path)) {
        fprintf(stderr, "moatctl: control socket path too long: %s\n", c->sock);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    strcpy(sa.sun_path, c->sock);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        fprintf(stderr, "moatctl: warning: maps updated, but moatd at %s not reached (%s): "
                "live connections are not kicked and the state file is not updated\n",
                c->sock, strerror(errno));
        if (fd >= 0)
            close(fd);
        return c->sock_explicit ? -1 : 0;
    }
    size_t n = strlen(line);
    char buf[512];
    int rc = -1;
    if (write(fd, line, n) == (ssize_t)n && write(fd, "\n", 1) == 1) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        size_t got = 0;
        /* One reply line within 2 s. */
        while (got < sizeof(buf) - 1 && poll(&p, 1, 2000) == 1) {
            ssize_t r = read(fd, buf + got, sizeof(buf) - 1 - got);
            if (r <= 0)
                break;
            got += (size_t)r;
            if (memchr(buf, '\n', got))
                break;
        }
        buf[got] = '\0';
        char *nl = strchr(buf, '\n');
        if (nl)
            *nl = '\0';
        /* Replies: "ok", "ok TEXT" or "error MESSAGE" (docs/control-socket.md). */
        if (strncmp(buf, "ok", 2) == 0 && (buf[2] == '\0' || buf[2] == ' ')) {
            rc = 0;
            if (reply && rlen)
                snprintf(reply, rlen, "%s", buf[2] ? buf + 3 : "");
        } else {
            fprintf(stderr, "moatctl: moatd at %s: %s\n", c->sock,
                    got ? buf : "no reply within 2 s");
        }
    } else {
        fprintf(stderr, "moatctl: moatd at %s: write: %s\n", c->sock, strerror(errno));
    }
    close(fd);
    return rc;
}

static int parse_cidr_arg(const char *s, struct moat_cidr *out)
{
    char err[256];
    if (moat_cidr_parse(s, out, err, sizeof(err)) < 0) {
        fprintf(stderr, "moatctl: %s\n", err);
        return -1;
    }
    return 0;
}

/* ---- block -------------------------------------------------------------- */

static int cmd_block_add(struct cli *c, int argc, char **argv)
{
    struct moat_cidr cidr;
    uint64_t ttl = 0;
    uint32_t reason = MOAT_REASON_MANUAL;
    const char *cidr_s = NULL, *client = NULL, *user = NULL;
    char err[256];
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--client-id") && i + 1 < argc) {
            client = argv[++i];
        } else if (!strcmp(argv[i], "--user") && i + 1 < argc) {
            user = argv[++i];
        } else if (!strcmp(argv[i], "--ttl") && i + 1 < argc) {
            if (moat_duration_parse(argv[++i], &ttl, err, sizeof(err)) < 0)
                return usage_err("--ttl: %s", err);
        } else if (!strcmp(argv[i], "--reason") && i + 1 < argc) {
            if (moat_reason_parse(argv[++i], &reason, err, sizeof(err)) < 0)
                return usage_err("--reason: %s", err);
        } else if (argv[i][0] == '-') {
            return usage_err("block add: unknown or incomplete option '%s'", argv[i]);
        } else if (!cidr_s) {
            cidr_s = argv[i];
        } else {
            return usage_err("block add: one CIDR at a time ('%s' is extra)", argv[i]);
        }
    }
    if ((client != NULL) + (user != NULL) + (cidr_s != NULL) != 1)
        return usage_err("block add: one of CIDR, --client-id ID, --user NAME");
    if (client || user)
        return block_name_daemon(c, client ? "client" : "user", client ? client : user, ttl);
    if (parse_cidr_arg(cidr_s, &cidr) < 0)
        return EXIT_USAGE;
    if (need_maps(c) < 0) {
        /* No pinned maps (XDP not loaded): moatd still enforces the block
         * at accept from its own denylist. */
        if (c->no_daemon || access(c->sock, F_OK) != 0)
            return EXIT_FAIL;
        fprintf(stderr, "moatctl: no XDP maps; moatd enforces the block in userspace\n");
    } else if (moat_maps_block_add(&c->maps, &cidr, ttl, reason, err, sizeof(err)) < 0) {
        fprintf(stderr, "moatctl: %s\n", err);
        return EXIT_FAIL;
    }
    char txt[MOAT_CIDR_STRLEN], line[160];
    moat_cidr_format(&cidr, txt, sizeof(txt));
    /* ttl in ns as docs/control-socket.md specifies; 0 = permanent. */
    snprintf(line, sizeof(line), "block add %s ttl=%llu reason=%s", txt,
             (unsigned long long)ttl, moat_reason_name(reason));
    return tell_moatd(c, line, NULL, 0) < 0 ? EXIT_FAIL : EXIT_OK;
}

static int one_cidr(const char *verb, int argc, char **argv, struct moat_cidr *cidr)
{
    if (argc != 1)
        return usage_err("%s: exactly one CIDR expected", verb);
    return parse_cidr_arg(argv[0], cidr) < 0 ? EXIT_USAGE : EXIT_OK;
}

static int cmd_block_del(struct cli *c, int argc, char **argv)
{
    struct moat_cidr cidr;
    if (argc == 2 && (!strcmp(argv[0], "--client-id") || !strcmp(argv[0], "--user")))
        return unblock_name_daemon(c, argv[0][2] == 'c' ? "client" : "user", argv[1]);
    int rc = one_cidr("block del", argc, argv, &cidr);
    if (rc != EXIT_OK)
        return rc;
    if (need_maps(c) < 0)
        return EXIT_FAIL;
    char err[256], txt[MOAT_CIDR_STRLEN], line[160];
    bool found;
    if (moat_maps_block_del(&c->maps, &cidr, &found, err, sizeof(err)) < 0) {
        fprintf(stderr, "moatctl: %s\n", err);
        return EXIT_FAIL;
    }
    moat_cidr_format(&cidr, txt, sizeof(txt));
    if (!found) {
        fprintf(stderr, "moatctl: %s: not in the blocklist\n", txt);
        return EXIT_FAIL;
    }
    snprintf(line, sizeof(line), "block del %s", txt);
    return tell_moatd(c, line, NULL, 0) < 0 ? EXIT_FAIL : EXIT_OK;
}

struct list_ctx {
    struct cli *c;
    uint64_t now;
    int n;
};

static int print_block(const struct moat_cidr *cidr, const struct moat_block_val *v, void *arg)
{
    struct list_ctx *l = arg;
    char txt[MOAT_CIDR_STRLEN], ttl[48];
    moat_cidr_format(cidr, txt, sizeof(txt));
    bool expired = v->expires_ns && v->expires_ns <= l->now;
    uint64_t left = v->expires_ns > l->now ? v->expires_ns - l->now : 0;
    if (l->c->json) {
        printf("%s{\"cidr\":", l->n ? "," : "");
        cli_json_str(stdout, txt);
        printf(",\"reason\":\"%s\",\"permanent\":%s,\"ttl_s\":", moat_reason_name(v->reason),
               v->expires_ns ? "false" : "true");
        if (v->expires_ns)
            printf("%llu", (unsigned long long)(left / 1000000000ull));
        else
            printf("null");
        printf(",\"expired\":%s,\"hits\":%llu}", expired ? "true" : "false",
               (unsigned long long)v->hits);
    } else {
        if (!v->expires_ns)
            snprintf(ttl, sizeof(ttl), "permanent");
        else if (expired)
            snprintf(ttl, sizeof(ttl), "expired");
        else
            moat_duration_format(left + 999999999ull, ttl, sizeof(ttl));
        printf("%-44s %-9s %-12s %llu\n", txt, moat_reason_name(v->reason), ttl,
               (unsigned long long)v->hits);
    }
    l->n++;
    return 0;
}

static int cmd_block_list(struct cli *c, int argc, char **argv)
{
    if (argc)
        return usage_err("block list: no arguments expected");
    if (need_maps(c) < 0)
        return EXIT_FAIL;
    struct list_ctx l = { c, moat_maps_now(&c->maps), 0 };
    char err[256];
    if (c->json)
        printf("[");
    else
        printf("%-44s %-9s %-12s %s\n", "CIDR", "REASON", "TTL", "HITS");
    int rc = moat_maps_block_list(&c->maps, print_block, &l, err, sizeof(err));
    /* Client-id and username blocks live in moatd: listed alongside. */
    if (rc == 0 && !c->no_daemon && access(c->sock, F_OK) == 0)
        list_names_daemon(c, l.n);
    if (c->json)
        printf("]\n");
    if (rc < 0) {
        fprintf(stderr, "moatctl: %s\n", err);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

/* block flush / block gc: one map sweep, the count removed, and (flush)
 * the news for moatd. */
static int block_sweep(struct cli *c, int argc, const char *verb,
                       int (*sweep)(struct moat_maps *, size_t *, char *, size_t),
                       const char *what, const char *tell)
{
    if (argc)
        return usage_err("block %s: no arguments expected", verb);
    if (need_maps(c) < 0)
        return EXIT_FAIL;
    size_t n;
    char err[256];
    if (sweep(&c->maps, &n, err, sizeof(err)) < 0) {
        fprintf(stderr, "moatctl: %s\n", err);
        return EXIT_FAIL;
    }
    if (c->json)
        printf("{\"removed\":%zu}\n", n);
    else
        printf("removed %zu %s\n", n, what);
    if (tell)
        return tell_moatd(c, tell, NULL, 0) < 0 ? EXIT_FAIL : EXIT_OK;
    return EXIT_OK;
}

static int cmd_block_flush(struct cli *c, int argc, char **argv)
{
    return block_sweep(c, argc, "flush", moat_maps_block_flush, "entries", "block flush");
}

static int cmd_block_gc(struct cli *c, int argc, char **argv)
{
    return block_sweep(c, argc, "gc", moat_maps_block_gc, "expired entries", NULL);
}

/* ---- allow -------------------------------------------------------------- */

static int cmd_allow_add(struct cli *c, int argc, char **argv)
{
    struct moat_cidr cidr;
    int rc = one_cidr("allow add", argc, argv, &cidr);
    if (rc != EXIT_OK)
        return rc;
    if (need_maps(c) < 0)
        return EXIT_FAIL;
    char err[256], txt[MOAT_CIDR_STRLEN];
    if (moat_maps_allow_add(&c->maps, &cidr, err, sizeof(err)) < 0) {
        fprintf(stderr, "moatctl: %s\n", err);
        return EXIT_FAIL;
    }
    printf("%s allowed\n", moat_cidr_format(&cidr, txt, sizeof(txt)));
    return EXIT_OK;      /* nothing for moatd to do: no connection to close */
}

static int cmd_allow_del(struct cli *c, int argc, char **argv)
{
    struct moat_cidr cidr;
    int rc = one_cidr("allow del", argc, argv, &cidr);
    if (rc != EXIT_OK)
        return rc;
    if (need_maps(c) < 0)
        return EXIT_FAIL;
    char err[256], txt[MOAT_CIDR_STRLEN];
    bool found;
    if (moat_maps_allow_del(&c->maps, &cidr, &found, err, sizeof(err)) < 0) {
        fprintf(stderr, "moatctl: %s\n", err);
        return EXIT_FAIL;
    }
    moat_cidr_format(&cidr, txt, sizeof(txt));
    if (!found) {
        fprintf(stderr, "moatctl: %s: not in the allowlist\n", txt);
        return EXIT_FAIL;
    }
    return EXIT_OK;      /* nothing for moatd to do */
}

static int print_allow(const struct moat_cidr *cidr, const struct moat_allow_val *v, void *arg)
{
    struct list_ctx *l = arg;
    char txt[MOAT_CIDR_STRLEN];
    moat_cidr_format(cidr, txt, sizeof(txt));
    if (l->c->json) {
        printf("%s{\"cidr\":", l->n ? "," : "");
        cli_json_str(stdout, txt);
        printf(",\"hits\":%llu}", (unsigned long long)v->hits);
    } else {
        printf("%-44s %llu\n", txt, (unsigned long long)v->hits);
    }
    l->n++;
    return 0;
}

static int cmd_allow_list(struct cli *c, int argc, char **argv)
{
    if (argc)
        return usage_err("allow list: no arguments expected");
    if (need_maps(c) < 0)
        return EXIT_FAIL;
    struct list_ctx l = { c, 0, 0 };
    char err[256];
    if (c->json)
        printf("[");
    else
        printf("%-44s %s\n", "CIDR", "HITS");
    int rc = moat_maps_allow_list(&c->maps, print_allow, &l, err, sizeof(err));
    if (c->json)
        printf("]\n");
    if (rc < 0) {
        fprintf(stderr, "moatctl: %s\n", err);
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

/* ---- rate --------------------------------------------------------------- */

static void print_config(struct cli *c, const struct moat_xdp_config *cfg)
{
    const char *mode = cfg->block_mode == MOAT_BLOCK_PORTS ? "ports" : "all";
    unsigned pfx = cfg->ipv6_prefix ? cfg->ipv6_prefix : 64;
    unsigned burst = cfg->syn_burst ? cfg->syn_burst : cfg->syn_rate;
    if (c->json) {
        printf("{\"syn_rate\":%u,\"syn_burst\":%u,\"ipv6_prefix\":%u,\"block_mode\":\"%s\","
               "\"event_interval_ns\":%llu,\"ports\":[", cfg->syn_rate, burst, pfx, mode,
               (unsigned long long)(cfg->event_interval_ns ? cfg->event_interval_ns
                                                           : MOAT_EVENT_INTERVAL_DEFAULT_NS));
        for (uint32_t i = 0; i < cfg->n_ports && i < MOAT_MAX_PORTS; i++)
            printf("%s%u", i ? "," : "", cfg->ports[i]);
        printf("],\"now_override\":%llu}\n", (unsigned long long)cfg->now_override);
        return;
    }
    if (cfg->syn_rate)
        printf("syn rate:     %u/s per source, burst %u\n", cfg->syn_rate, burst);
    else
        printf("syn rate:     off\n");
    printf("ipv6 prefix:  /%u\n", pfx);
    printf("block mode:   %s\n", mode);
    printf("ports:       ");
    if (!cfg->n_ports)
        printf(" (none: no SYN limit applies)");
    for (uint32_t i = 0; i < cfg->n_ports && i < MOAT_MAX_PORTS; i++)
        printf(" %u", cfg->ports[i]);
    printf("\n");
    if (cfg->now_override)
        printf("now_override: %llu (TEST ONLY: the program's clock is frozen)\n",
               (unsigned long long)cfg->now_override);
}

static int cmd_rate_show(struct cli *c, int argc, char **argv)
{
    if (argc)
        return usage_err("rate show: no arguments expected");
    if (need_maps(c) < 0)
        return EXIT_FAIL;
    struct moat_xdp_config cfg;
    char err[256];
    if (moat_maps_config_get(&c->maps, &cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "moatctl: %s\n", err);
        return EXIT_FAIL;
    }
    print_config(c, &cfg);
    return EXIT_OK;
}

static int parse_ports(const char *s, struct moat_xdp_config *cfg)
{
    char buf[256];
    if (strlen(s) >= sizeof(buf))
        return -1;
    strcpy(buf, s);
    uint32_t n = 0;
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        uint32_t p;
        if (cli_parse_u32(t, 65535, &p) < 0 || p == 0 || n >= MOAT_MAX_PORTS)
            return -1;
        cfg->ports[n++] = (uint16_t)p;
    }
    for (uint32_t i = n; i < MOAT_MAX_PORTS; i++)
        cfg->ports[i] = 0;
    cfg->n_ports = n;
    return 0;
}

static int cmd_rate_set(struct cli *c, int argc, char **argv)
{
    /* Collect first, validate everything, then read-modify-write. */
    const char *rate = NULL, *burst = NULL, *pfx = NULL, *mode = NULL, *ports = NULL,
               *now = NULL;
    for (int i = 0; i < argc; i++) {
        const char **slot = NULL;
        if (!strcmp(argv[i], "--rate")) slot = &rate;
        else if (!strcmp(argv[i], "--burst")) slot = &burst;
        else if (!strcmp(argv[i], "--ipv6-prefix")) slot = &pfx;
        else if (!strcmp(argv[i], "--mode")) slot = &mode;
        else if (!strcmp(argv[i], "--ports")) slot = &ports;
        else if (!strcmp(argv[i], "--now-override")) slot = &now;
        if (!slot || i + 1 >= argc)
            return usage_err("rate set: unknown or incomplete option '%s'", argv[i]);
        *slot = argv[++i];
    }
    if (!rate && !burst && !pfx && !mode && !ports && !now)
        return usage_err("rate set: nothing to set");
    struct moat_xdp_config want;
    memset(&want, 0, sizeof(want));
    uint32_t v;
    if (rate && cli_parse_u32(rate, MOAT_MAX_RATE, &want.syn_rate) < 0)
        return usage_err("--rate '%s': expected 0..%u SYNs per second (0 = off)", rate,
                         MOAT_MAX_RATE);
    if (burst && cli_parse_u32(burst, MOAT_MAX_RATE, &want.syn_burst) < 0)
        return usage_err("--burst '%s': expected 0..%u", burst, MOAT_MAX_RATE);
    if (pfx && (cli_parse_u32(pfx, 128, &v) < 0 || v == 0))
        return usage_err("--ipv6-prefix '%s': expected 1..128", pfx);
    if (mode && strcmp(mode, "all") && strcmp(mode, "ports"))
        return usage_err("--mode '%s': expected all or ports", mode);
    if (ports && parse_ports(ports, &want) < 0)
        return usage_err("--ports '%s': expected up to %d ports 1-65535, comma-separated",
                         ports, MOAT_MAX_PORTS);
    uint64_t now_ns = 0;
    if (now) {
        char *end;
        errno = 0;
        unsigned long long x = strtoull(now, &end, 10);
        if (errno || *end || now[0] < '0' || now[0] > '9')
            return usage_err("--now-override '%s': expected nanoseconds (0 = real clock)", now);
        now_ns = x;
    }
    if (need_maps(c) < 0)
        return EXIT_FAIL;
    struct moat_xdp_config cfg;
    char err[256];
    if (moat_maps_config_get(&c->maps, &cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "moatctl: %s\n", err);
        return EXIT_FAIL;
    }
    if (rate) cfg.syn_rate = want.syn_rate;
    if (burst) cfg.syn_burst = want.syn_burst;
    if (pfx) cfg.ipv6_prefix = v;
    if (mode) cfg.block_mode = strcmp(mode, "ports") ? MOAT_BLOCK_ALL : MOAT_BLOCK_PORTS;
    if (ports) {
        memcpy(cfg.ports, want.ports, sizeof(cfg.ports));
        cfg.n_ports = want.n_ports;
    }
    if (now) cfg.now_override = now_ns;
    if (moat_maps_config_set(&c->maps, &cfg, err, sizeof(err)) < 0) {
        fprintf(stderr, "moatctl: %s\n", err);
        return EXIT_FAIL;
    }
    print_config(c, &cfg);
    return EXIT_OK;      /* the program reads the record per packet */
}

/* ---- stats / status ----------------------------------------------------- */

static int cmd_stats(struct cli *c, int argc, char **argv)
{
    if (argc)
        return usage_err("stats: no arguments expected");
    if (need_maps(c) < 0)
        return EXIT_FAIL;
    struct moat_stats st;
    char err[256];
    if (moat_maps_stats_read(&c->maps, &st, err, sizeof(err)) < 0) {
        fprintf(stderr, "moatctl: %s\n", err);
        return EXIT_FAIL;
    }
    const uint64_t *v = (const uint64_t *)&st;
    if (c->json)
        printf("{");
    for (unsigned i = 0; i < MOAT_STAT_COUNT; i++) {
        if (c->json)
            printf("%s\"%s\":%llu", i ? "," : "", moat_stat_name(i), (unsigned long long)v[i]);
        else
            printf("%-18s %llu\n", moat_stat_name(i), (unsigned long long)v[i]);
    }
    if (c->json)
        printf("}\n");
    return EXIT_OK;
}

static int cmd_status(struct cli *c, int argc, char **argv)
{
    if (argc)
        return usage_err("status: no arguments expected");
    char err[512];
    /* Daemon: answers "ping" on its control socket. */
    bool explicit_sock = c->sock_explicit;
    c->sock_explicit = true;
    bool up = false;
    if (!c->no_daemon && access(c->sock, F_OK) == 0) {
        up = tell_moatd(c, "ping", NULL, 0) == 0;
    }
    c->sock_explicit = explicit_sock;
    bool maps_ok = moat_maps_open_pinned(&c->maps, c->pin_root, err, sizeof(err)) == 0;
    if (maps_ok)
        c->maps_open = true;

    if (c->json) {
        printf("{\"daemon\":\"%s\",\"control_socket\":", up ? "up" : "down");
        cli_json_str(stdout, c->sock);
        printf(",\"pin_path\":");
        cli_json_str(stdout, c->pin_root);
        printf(",\"maps_loaded\":%s,\"interfaces\":[", maps_ok ? "true" : "false");
    } else {
        printf("moatd:        %s (%s)\n", up ? "up" : "down", c->sock);
        printf("pin path:     %s (%s)\n", c->pin_root, maps_ok ? "maps loaded" : err);
        printf("interfaces:\n");
    }
    struct if_nameindex *ifs = if_nameindex();
    int shown = 0;
    for (struct if_nameindex *i = ifs; i && i->if_index; i++) {
        uint32_t id;
        enum xdp_mode m;
        char e[128];
        if (xdp_query_moat((int)i->if_index, &id, &m, e, sizeof(e)) < 0)
            continue;
        if (c->json) {
            printf("%s{\"ifname\":", shown ? "," : "");
            cli_json_str(stdout, i->if_name);
            printf(",\"mode\":\"%s\",\"prog_id\":%u}", xdp_mode_name(m), id);
        } else {
            printf("  %-16s %-8s prog id %u\n", i->if_name, xdp_mode_name(m), id);
        }
        shown++;
    }
    if (ifs)
        if_freenameindex(ifs);
    if (!shown && !c->json)
        printf("  (none in this network namespace)\n");
    if (c->json)
        printf("],\"maps\":[");
    else if (maps_ok)
        printf("maps:\n");
    if (maps_ok) {
        struct { const char *name; int fd; } t[] = {
            { MOAT_STR(MOAT_MAP_BLOCK4), c->maps.block4 }, { MOAT_STR(MOAT_MAP_BLOCK6), c->maps.block6 },
            { MOAT_STR(MOAT_MAP_ALLOW4), c->maps.allow4 }, { MOAT_STR(MOAT_MAP_ALLOW6), c->maps.allow6 },
            { MOAT_STR(MOAT_MAP_BUCKETS), c->maps.buckets },
        };
        for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
            uint32_t used = 0, max = 0;
            if (moat_maps_fill(t[i].fd, &used, &max, err, sizeof(err)) < 0)
                continue;
            if (c->json)
                printf("%s{\"name\":\"%s\",\"entries\":%u,\"max_entries\":%u}", i ? "," : "",
                       t[i].name, used, max);
            else
                printf("  %-10s %8u / %u\n", t[i].name, used, max);
        }
    }
    if (c->json)
        printf("]}\n");
    return maps_ok ? EXIT_OK : EXIT_FAIL;
}

/* ---- attach / detach (debugging; moatd normally does this) -------------- */

static void log_stderr(void *arg, int level, const char *msg)
{
    fprintf(stderr, "moatctl: %s\n", msg);
}

static int cmd_attach(struct cli *c, int argc, char **argv)
{
    enum xdp_mode mode = XDP_MODE_AUTO;
    if (argc < 1 || argc > 2)
        return usage_err("attach: IFNAME [auto|native|generic]");
    if (argc == 2 && xdp_mode_parse(argv[1], &mode) < 0)
        return usage_err("attach: mode '%s': expected auto, native or generic", argv[1]);
    char err[512];
    struct xdp_filter_opts o = { .pin_root = c->pin_root, .log = log_stderr };
    struct xdp_filter *f = xdp_filter_open(&o, err, sizeof(err));
    if (!f) {
        fprintf(stderr, "moatctl: %s\n", err);
        return EXIT_FAIL;
    }
    enum xdp_mode got;
    int rc = xdp_filter_attach(f, argv[0], mode, &got, err, sizeof(err));
    if (rc < 0)
        fprintf(stderr, "moatctl: %s\n", err);
    else if (c->json) {
        printf("{\"ifname\":");
        cli_json_str(stdout, argv[0]);
        printf(",\"mode\":\"%s\"}\n", xdp_mode_name(got));
    }
    xdp_filter_close(f, true);      /* the program stays, held by the link */
    return rc < 0 ? EXIT_FAIL : EXIT_OK;
}

static int cmd_detach(struct cli *c, int argc, char **argv)
{
    if (argc != 1)
        return usage_err("detach: IFNAME");
    char err[512];
    enum xdp_mode m;
    if (xdp_detach_moat(argv[0], &m, err, sizeof(err)) < 0) {
        fprintf(stderr, "moatctl: %s\n", err);
        return EXIT_FAIL;
    }
    if (!c->json)
        printf("%s: moat_xdp detached (%s mode)\n", argv[0], xdp_mode_name(m));
    return EXIT_OK;
}

/* ---- verb table --------------------------------------------------------- */

struct verb {
    const char *obj, *verb, *args, *help;
    int (*fn)(struct cli *, int, char **);
};

static int cmd_help(struct cli *c, int argc, char **argv);

static const struct verb verbs[] = {
    { "block", "add", "CIDR|--client-id ID|--user NAME [--ttl DUR] [--reason R]",
      "block a source (DUR: 90s, 10m, 1h30m, 7d; none = permanent; R: manual, scanner, "
      "flood, auth, protocol, other)", cmd_block_add },
    { "block", "del", "CIDR|--client-id ID|--user NAME", "remove one block entry", cmd_block_del },
    { "block", "list", "", "list blocks with remaining TTL and hits", cmd_block_list },
    { "block", "flush", "", "remove every block entry", cmd_block_flush },
    { "block", "gc", "", "remove expired entries (moatd does this periodically)", cmd_block_gc },
    { "allow", "add", "CIDR", "never block or rate limit this source", cmd_allow_add },
    { "allow", "del", "CIDR", "remove an allowlist entry", cmd_allow_del },
    { "allow", "list", "", "list allowlist entries and hits", cmd_allow_list },
    { "rate", "show", "", "show SYN rate limit, ports and block mode", cmd_rate_show },
    { "rate", "set", "[--rate N] [--burst N] [--ipv6-prefix N] [--mode all|ports] [--ports P,..]",
      "change the limit at run time (moatd resets it from its config on restart)",
      cmd_rate_set },
    { "stats", NULL, "", "per-verdict and per-reason packet counters", cmd_stats },
    { "status", NULL, "", "daemon, interfaces and XDP mode, map fill", cmd_status },
    { "attach", NULL, "IFNAME [auto|native|generic]",
      "load and attach the filter (debugging; moatd does this)", cmd_attach },
    { "detach", NULL, "IFNAME", "detach moat's XDP program (never another one)", cmd_detach },
    { "block", "names", "", "moatd's own blocks: client ids, usernames, sources (userspace)",
      cmd_blocked_names },
    { "clients", NULL, "", "connected clients: id, user, peer, transport, queues (moatd)", cmd_clients },
    { "kick", NULL, "--client-id ID | --user NAME | --ip CIDR",
      "close matching connections now (moatd)", cmd_kick },
    { "events", NULL, "", "recent abnormal-behaviour decisions (moatd)", cmd_events },
    { "broker", "stats", "", "broker counters: clients, messages, drops (moatd)", cmd_broker_stats },
    { "reload", NULL, "", "re-read certificates, password and ACL files (moatd, as SIGHUP)", cmd_reload },
    { "passwd", NULL, "FILE USER [--stdin] | -D FILE USER",
      "add or change a user (argon2id; password from a no-echo prompt or stdin), -D deletes",
      cmd_passwd },
    { "store", "check", "--config FILE | --path STORE [--key KEYFILE]",
      "verify every record of moatd's store offline (moatd stopped)", cmd_store_check },
    { "store", "rekey", "NEWKEY|none --config FILE | --path STORE [--key OLDKEY]",
      "re-encrypt the store under a new key (or decrypt), offline", cmd_store_rekey },
    { "help", NULL, "", "this text", cmd_help },
};
#define N_VERBS (sizeof(verbs) / sizeof(verbs[0]))

static int cmd_help(struct cli *c, int argc, char **argv)
{
    printf("usage: moatctl [-j] [--pin-path DIR] [-s SOCKET | --no-daemon] OBJECT [VERB] [ARGS]\n"
           "  -j              JSON output\n"
           "  --no-daemon     change the maps only, do not tell moatd\n"
           "  --pin-path DIR  pinned maps (default " MOAT_PIN_ROOT_DEFAULT ")\n"
           "  -s SOCKET       moatd control socket (default " CONTROL_SOCKET_DEFAULT ")\n\n");
    for (size_t i = 0; i < N_VERBS; i++) {
        char head[96];
        snprintf(head, sizeof(head), "%s%s%s%s%s", verbs[i].obj, verbs[i].verb ? " " : "",
                 verbs[i].verb ? verbs[i].verb : "", verbs[i].args[0] ? " " : "", verbs[i].args);
        printf("  moatctl %s\n      %s\n", head, verbs[i].help);
    }
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    struct cli c = { .pin_root = MOAT_PIN_ROOT_DEFAULT, .sock = CONTROL_SOCKET_DEFAULT };
    moat_maps_init(&c.maps);
    libbpf_set_strict_mode(LIBBPF_STRICT_ALL);
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json")) {
            c.json = true;
        } else if (!strcmp(argv[i], "--pin-path") && i + 1 < argc) {
            c.pin_root = argv[++i];
        } else if (!strcmp(argv[i], "-s") && i + 1 < argc) {
            c.sock = argv[++i];
            c.sock_explicit = true;
        } else if (!strcmp(argv[i], "--no-daemon")) {
            c.no_daemon = true;
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            return cmd_help(&c, 0, NULL);
        } else {
            return usage_err("unknown or incomplete option '%s'", argv[i]);
        }
    }
    if (i >= argc) {
        cmd_help(&c, 0, NULL);
        return EXIT_USAGE;
    }
    const char *obj = argv[i++];
    const char *verb = i < argc ? argv[i] : NULL;
    int rc = -1;
    bool obj_known = false;
    for (size_t k = 0; k < N_VERBS; k++) {
        if (strcmp(verbs[k].obj, obj) != 0)
            continue;
        obj_known = true;
        if (verbs[k].verb == NULL) {
            rc = verbs[k].fn(&c, argc - i, argv + i);
            break;
        }
        if (verb && strcmp(verbs[k].verb, verb) == 0) {
            rc = verbs[k].fn(&c, argc - i - 1, argv + i + 1);
            break;
        }
    }
    if (rc < 0)
        rc = obj_known ? usage_err("%s: unknown verb '%s'", obj, verb ? verb : "(none)")
                       : usage_err("unknown object '%s'", obj);
    if (c.maps_open)
        moat_maps_close(&c.maps);
    return rc;
}
