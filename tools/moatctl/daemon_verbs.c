/* Verbs only the running moatd can answer: clients, kick, reload, broker
 * counters, client-id and username blocks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "moatctl.h"
#include "xdp/cidr.h"

/* Prints the payload of an "ok ..." reply. */
static int print_ok(const char *reply)
{
    const char *p = reply[2] == ' ' ? reply + 3 : reply + 2;
    if (*p)
        puts(p);
    return EXIT_OK;
}

static int call(struct cli *c, const char *line, bool print)
{
    char *reply;
    int r = daemon_call(c, line, &reply);
    int rc = r == 0 ? (print ? print_ok(reply) : EXIT_OK) : EXIT_FAIL;
    free(reply);
    return rc;
}

int cmd_clients(struct cli *c, int argc, char **argv)
{
    if (argc)
        return usage_err("clients: no arguments expected");
    if (c->json)
        return call(c, "clients", true);
    /* A readable table from the JSON, without a JSON library: the fields
     * come in a fixed order from moatd (user/ctl/control_cmds.c). */
    char *reply;
    if (daemon_call(c, "clients", &reply) != 0) {
        free(reply);
        return EXIT_FAIL;
    }
    printf("%-28s %-24s %-10s %-6s %5s %6s %6s\n", "CLIENT ID", "PEER", "USER", "TRANSP",
           "SUBS", "INFLT", "QUEUED");
    for (char *o = strchr(reply, '{'); o; o = strchr(o + 1, '{')) {
        char peer[64] = "", tr[16] = "", id[128] = "-", user[64] = "-";
        unsigned subs = 0, inf = 0, q = 0;
        char *f;
        if ((f = strstr(o, "\"peer\":\"")))
            sscanf(f + 8, "%63[^\"]", peer);
        if ((f = strstr(o, "\"transport\":\"")))
            sscanf(f + 13, "%15[^\"]", tr);
        char *end = strchr(o, '}');
        if ((f = strstr(o, "\"client_id\":\"")) && (!end || f < end))
            sscanf(f + 13, "%127[^\"]", id);
        if ((f = strstr(o, "\"username\":\"")) && (!end || f < end))
            sscanf(f + 12, "%63[^\"]", user);
        if ((f = strstr(o, "\"subscriptions\":")) && (!end || f < end))
            sscanf(f + 16, "%u", &subs);
        if ((f = strstr(o, "\"inflight\":")) && (!end || f < end))
            sscanf(f + 11, "%u", &inf);
        if ((f = strstr(o, "\"queued\":")) && (!end || f < end))
            sscanf(f + 9, "%u", &q);
        printf("%-28s %-24s %-10s %-6s %5u %6u %6u\n", id, peer, user, tr, subs, inf, q);
    }
    free(reply);
    return EXIT_OK;
}

int cmd_kick(struct cli *c, int argc, char **argv)
{
    const char *what = argv[-1];     /* "client" or "ip" */
    if (argc != 1)
        return usage_err("kick %s: one argument expected", what);
    if (!strcmp(what, "ip")) {
        struct moat_cidr cidr;
        char err[160];
        if (moat_cidr_parse(argv[0], &cidr, err, sizeof err) < 0)
            return usage_err("%s", err);
    }
    char line[1024];
    if (snprintf(line, sizeof line, "kick %s %s", what, argv[0]) >= (int)sizeof line)
        return usage_err("kick: argument too long");
    return call(c, line, true);
}

int cmd_reload(struct cli *c, int argc, char **argv)
{
    if (argc)
        return usage_err("reload: no arguments expected");
    return call(c, "reload", true);
}

int cmd_broker_stats(struct cli *c, int argc, char **argv)
{
    if (argc)
        return usage_err("broker stats: no arguments expected");
    return call(c, "stats", true);
}

/* --ttl DUR: seconds for moatd's line protocol (ttl= in ns). */
static int ttl_arg(int argc, char **argv, int *i, uint64_t *ttl_ns)
{
    for (; *i < argc; (*i)++) {
        if (!strcmp(argv[*i], "--ttl") && *i + 1 < argc) {
            char err[160];
            if (moat_duration_parse(argv[++*i], ttl_ns, err, sizeof err) < 0)
                return usage_err("%s", err);
        } else {
            return usage_err("unknown or incomplete option '%s'", argv[*i]);
        }
    }
    return 0;
}

int cmd_block_name(struct cli *c, int argc, char **argv)
{
    const char *kind = argv[-1];      /* "client" or "user" */
    if (argc < 1)
        return usage_err("block %s: %s missing", kind, !strcmp(kind, "client") ? "ID" : "NAME");
    uint64_t ttl_ns = 0;
    int i = 1;
    if (ttl_arg(argc, argv, &i, &ttl_ns))
        return EXIT_USAGE;
    if (strchr(argv[0], ' ') || strchr(argv[0], '\n'))
        return usage_err("block %s: names with spaces cannot be sent to moatd", kind);
    char line[1024];
    if (snprintf(line, sizeof line, "block %s %s ttl=%llu", kind, argv[0],
                 (unsigned long long)ttl_ns) >= (int)sizeof line)
        return usage_err("block %s: argument too long", kind);
    return call(c, line, false);
}

int cmd_unblock_name(struct cli *c, int argc, char **argv)
{
    const char *kind = argv[-1];
    if (argc != 1)
        return usage_err("unblock %s: one argument expected", kind);
    char line[1024];
    if (snprintf(line, sizeof line, "block un%s %s", kind, argv[0]) >= (int)sizeof line)
        return usage_err("unblock %s: argument too long", kind);
    return call(c, line, false);
}

int cmd_blocked_names(struct cli *c, int argc, char **argv)
{
    if (argc)
        return usage_err("block names: no arguments expected");
    return call(c, "blocks", true);
}
