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
    if (argc != 2)
        return usage_err("kick: --client-id ID, --user NAME or --ip CIDR");
    const char *what;
    if (!strcmp(argv[0], "--client-id"))
        what = "client";
    else if (!strcmp(argv[0], "--user"))
        what = "user";
    else if (!strcmp(argv[0], "--ip"))
        what = "ip";
    else
        return usage_err("kick: unknown option '%s'", argv[0]);
    if (!strcmp(what, "ip")) {
        struct moat_cidr cidr;
        char err[160];
        if (moat_cidr_parse(argv[1], &cidr, err, sizeof err) < 0)
            return usage_err("%s", err);
    }
    if (strpbrk(argv[1], " \n"))
        return usage_err("kick: names with spaces or newlines cannot be sent to moatd");
    char line[1024];
    if (snprintf(line, sizeof line, "kick %s %s", what, argv[1]) >= (int)sizeof line)
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

int block_name_daemon(struct cli *c, const char *kind, const char *name, uint64_t ttl_ns)
{
    if (strpbrk(name, " \n") || !*name)
        return usage_err("block: empty names or names with spaces cannot be sent to moatd");
    char line[1024];
    if (snprintf(line, sizeof line, "block %s %s ttl=%llu", kind, name,
                 (unsigned long long)ttl_ns) >= (int)sizeof line)
        return usage_err("block: argument too long");
    return call(c, line, false);
}

int unblock_name_daemon(struct cli *c, const char *kind, const char *name)
{
    char line[1024];
    if (strpbrk(name, " \n") ||
        snprintf(line, sizeof line, "block un%s %s", kind, name) >= (int)sizeof line)
        return usage_err("block del: bad name");
    return call(c, line, false);
}

void list_names_daemon(struct cli *c, int n)
{
    char *reply;
    if (daemon_call(c, "blocks", &reply) != 0) {
        free(reply);
        return;
    }
    /* moatd's list is JSON objects {"type":...}; only names are new here,
     * its source blocks are the same ones the maps just listed. */
    for (char *o = strstr(reply, "{\"type\":\""); o; o = strstr(o + 1, "{\"type\":\"")) {
        char type[16] = "", name[256] = "";
        long long left = -1;
        if (sscanf(o, "{\"type\":\"%15[^\"]\",\"name\":\"%255[^\"]\",\"expires_in_s\":%lld", type, name,
                   &left) < 3)
            continue;
        if (c->json) {
            printf("%s{\"%s\":\"%s\",\"permanent\":%s,\"ttl_s\":", n++ ? "," : "",
                   !strcmp(type, "client") ? "client_id" : "user", name, left < 0 ? "true" : "false");
            if (left < 0)
                printf("null}");
            else
                printf("%lld}", left);
        } else {
            char what[300];
            snprintf(what, sizeof what, "%s %s", !strcmp(type, "client") ? "client-id" : "user", name);
            printf("%-44s %-9s %-12s %s\n", what, "manual", left < 0 ? "permanent" : "", "-");
            if (left >= 0)
                printf("%*s(%lld s left)\n", 55, "", left);
        }
    }
    free(reply);
}

int cmd_events(struct cli *c, int argc, char **argv)
{
    if (argc)
        return usage_err("events: no arguments expected");
    return call(c, "events", true);
}

int cmd_blocked_names(struct cli *c, int argc, char **argv)
{
    if (argc)
        return usage_err("block names: no arguments expected");
    return call(c, "blocks", true);
}
