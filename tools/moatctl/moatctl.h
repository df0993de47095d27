/* What moatctl's verb files share: the CLI state, exit codes, usage
 * errors and the control-socket client. */
#ifndef MOAT_TOOLS_MOATCTL_H
#define MOAT_TOOLS_MOATCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xdp/maps.h"

#define CONTROL_SOCKET_DEFAULT "/run/moat/moatd.sock"

struct cli {
    const char *pin_root;
    const char *sock;        /* control socket path */
    bool sock_explicit;      /* -s given: failing to reach moatd is an error */
    bool no_daemon;          /* --no-daemon: maps only, never talk to moatd */
    bool json;
    struct moat_maps maps;
    bool maps_open;
};

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

__attribute__((format(printf, 1, 2)))
int usage_err(const char *fmt, ...);

/* Sends one line to moatd and returns its whole reply line (without "\n",
 * caller frees) in *reply. Returns 0 when moatd answered "ok...", 1 when it
 * answered "error ..." (printed to stderr), -1 when it could not be
 * reached (printed). */
int daemon_call(const struct cli *c, const char *line, char **reply);

/* Verbs that need the daemon (daemon_verbs.c) and the password file
 * (passwd_verb.c). */
int cmd_clients(struct cli *c, int argc, char **argv);
int cmd_kick(struct cli *c, int argc, char **argv);
int cmd_reload(struct cli *c, int argc, char **argv);
int cmd_blocked_names(struct cli *c, int argc, char **argv);
int cmd_events(struct cli *c, int argc, char **argv);
/* For moatctl.c's block verbs: client-id / username blocks live in moatd. */
int block_name_daemon(struct cli *c, const char *kind, const char *name, uint64_t ttl_ns);
int unblock_name_daemon(struct cli *c, const char *kind, const char *name);
/* Appends moatd's name blocks to a block listing (n entries printed so far). */
void list_names_daemon(struct cli *c, int n);
int cmd_broker_stats(struct cli *c, int argc, char **argv);
int cmd_passwd(struct cli *c, int argc, char **argv);
int cmd_store_check(struct cli *c, int argc, char **argv);
int cmd_store_rekey(struct cli *c, int argc, char **argv);

#endif
