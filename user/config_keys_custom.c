/* Handlers for configuration keys whose value is more than a bool, a number
 * or a string: listeners, enumerations, log settings, include_dir, XDP. */
#include "config_internal.h"
#include "xdp/cidr.h"

#include "util/log.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

struct listener_conf *cfg_cur_listener(struct cfg_parser *p, const char *key)
{
    if (p->cur >= 0)
        return &p->cfg->listeners[p->cur];
    if (!p->deflt_used) {
        p->deflt_used = true;
        p->deflt_key = key;   /* points into the static key table */
        p->deflt_file = p->file;
        p->deflt_line = p->line;
    }
    return &p->deflt;
}

int cfg_key_listener(struct cfg_parser *p, const struct cfg_key *k, int argc, char **argv)
{
    struct moat_config *c = p->cfg;
    uint16_t port;
    if (cfg_parse_port(p, k->name, argv[0], &port))
        return -1;
    if (argc > 1 && cfg_check_host(p, k->name, argv[1]))
        return -1;
    /* +1: the default listener may still be appended at the end */
    if (c->n_listeners + 1 >= CONFIG_MAX_LISTENERS)
        return cfg_error(p, k->name, "more than %d listeners", CONFIG_MAX_LISTENERS - 1);
    struct listener_conf *nl = realloc(c->listeners, (c->n_listeners + 1) * sizeof *nl);
    if (!nl)
        return cfg_error(p, k->name, "out of memory");
    c->listeners = nl;
    struct listener_conf *l = &nl[c->n_listeners];
    memset(l, 0, sizeof *l);
    l->port = port;
    l->max_connections = -1;
    l->allow_anonymous = -1;
    l->allow_zero_length_clientid = -1;
    l->file = p->file;
    l->line = p->line;
    if (argc > 1 && !(l->bind_address = strdup(argv[1])))
        return cfg_error(p, k->name, "out of memory");
    p->cur = (long)c->n_listeners;
    c->n_listeners++;
    p->any_listener = true;
    return 0;
}

int cfg_key_port(struct cfg_parser *p, const struct cfg_key *k, int argc, char **argv)
{
    uint16_t port;
    if (cfg_parse_port(p, k->name, argv[0], &port))
        return -1;
    if (p->port_set)
        return cfg_error(p, k->name, "given twice (first at %s:%d)", p->port_file, p->port_line);
    p->deflt.port = port;
    p->port_set = true;
    p->port_file = p->file;
    p->port_line = p->line;
    return 0;
}

int cfg_key_bind_address(struct cfg_parser *p, const struct cfg_key *k, int argc, char **argv)
{
    if (cfg_check_host(p, k->name, argv[0]))
        return -1;
    if (cfg_set_string(p, k->name, &p->deflt.bind_address, argv[0]))
        return -1;
    if (!p->port_set) {
        p->port_file = p->file;
        p->port_line = p->line;
    }
    p->bind_set = true;
    return 0;
}

int cfg_key_socket_domain(struct cfg_parser *p, const struct cfg_key *k, int argc, char **argv)
{
    int d;
    if (!strcmp(argv[0], "ipv4"))
        d = 4;
    else if (!strcmp(argv[0], "ipv6"))
        d = 6;
    else
        return cfg_error(p, k->name, "'%s' is not ipv4 or ipv6", argv[0]);
    cfg_cur_listener(p, k->name)->socket_domain = d;
    return 0;
}

int cfg_key_max_connections(struct cfg_parser *p, const struct cfg_key *k, int argc, char **argv)
{
    uint64_t v;
    int n = -1;
    if (strcmp(argv[0], "-1")) {
        if (cfg_parse_uint(p, k->name, argv[0], 0, 2147483647u, &v))
            return -1;
        n = v ? (int)v : -1;   /* mosquitto: 0 limits nothing */
    }
    cfg_cur_listener(p, k->name)->max_connections = n;
    return 0;
}

int cfg_key_protocol(struct cfg_parser *p, const struct cfg_key *k, int argc, char **argv)
{
    if (!strcmp(argv[0], "websockets"))
        return cfg_error(p, k->name, "websockets is not supported by moat (MQTT over TCP/TLS only)");
    if (strcmp(argv[0], "mqtt"))
        return cfg_error(p, k->name, "'%s' is not a protocol moat knows (mqtt)", argv[0]);
    cfg_cur_listener(p, k->name);
    return 0;
}

int cfg_key_tls_version(struct cfg_parser *p, const struct cfg_key *k, int argc, char **argv)
{
    const char *v = argv[0];
    if (!strcmp(v, "tlsv1") || !strcmp(v, "tlsv1.1"))
        return cfg_error(p, k->name, "%s refused: moat supports TLS 1.2 and 1.3 only", v);
    if (strcmp(v, "tlsv1.2") && strcmp(v, "tlsv1.3"))
        return cfg_error(p, k->name, "'%s' is not tlsv1.2 or tlsv1.3", v);
    return cfg_set_string(p, k->name, &cfg_cur_listener(p, k->name)->tls_version, v);
}

int cfg_key_per_listener_settings(struct cfg_parser *p, const struct cfg_key *k, int argc, char **argv)
{
    bool v;
    if (cfg_parse_bool(p, k->name, argv[0], &v))
        return -1;
    /* mosquitto refuses switching once security keys were routed */
    if (p->security_seen && v != p->cfg->per_listener_settings)
        return cfg_error(p, k->name, "must be set before any other security settings");
    p->cfg->per_listener_settings = v;
    return 0;
}

int cfg_key_allow_anonymous(struct cfg_parser *p, const struct cfg_key *k, int argc, char **argv)
{
    bool v;
    if (cfg_parse_bool(p, k->name, argv[0], &v))
        return -1;
    p->security_seen = true;
    if (p->cfg->per_listener_settings)
        cfg_cur_listener(p, k->name)->allow_anonymous = v;
    else
        p->allow_anon = v;
    return 0;
}

int cfg_key_max_inflight(struct cfg_parser *p, const struct cfg_key *k, int argc, char **argv)
{
    uint64_t v;
    if (cfg_parse_uint(p, k->name, argv[0], 0, 65535, &v))
        return -1;
    p->cfg->max_inflight_messages = v == 65535 ? 0 : (uint16_t)v;   /* as mosquitto */
    return 0;
}

int cfg_key_max_packet_size(struct cfg_parser *p, const struct cfg_key *k, int argc, char **argv)
{
    uint64_t v;
    /* mosquitto forbids < 20; 268435460 = 1 + 4 + 268435455 (MQTT maximum) */
    if (cfg_parse_uint(p, k->name, argv[0], 20, 268435460u, &v))
        return -1;
    p->cfg->max_packet_size = (uint32_t)v;
    return 0;
}

int cfg_key_expiration(struct cfg_parser *p, const struct cfg_key *k, int argc, char **argv)
{
    return cfg_parse_duration(p, k->name, argv[0], &p->cfg->persistent_client_expiration);
}

int cfg_key_log_type(struct cfg_parser *p, const struct cfg_key *k, int argc, char **argv)
{
    static const struct { const char *n; int bit; } types[] = {
        { "error", LOG_T_ERR }, { "warning", LOG_T_WARN }, { "notice", LOG_T_NOTICE },
        { "information", LOG_T_INFO }, { "debug", LOG_T_DEBUG }, { "subscribe", LOG_T_SUBSCRIBE },
        { "unsubscribe", LOG_T_UNSUBSCRIBE }, { "all", LOG_T_ALL }, { "none", 0 },
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (strcmp(argv[0], types[i].n))
            continue;
        /* the first log_type replaces the default set, later ones add */
        if (!p->log_types_set)
            p->cfg->log_types = 0;
        p->log_types_set = true;
        if (types[i].bit == 0)
            p->cfg->log_types = 0;
        else
            p->cfg->log_types |= types[i].bit;
        return 0;
    }
    if (!strcmp(argv[0], "websockets"))
        return cfg_error(p, k->name, "websockets is not supported by moat");
    return cfg_error(p, k->name, "'%s' is not one of error warning notice information debug "
                     "subscribe unsubscribe all none", argv[0]);
}

int cfg_key_log_dest(struct cfg_parser *p, const struct cfg_key *k, int argc, char **argv)
{
    struct moat_config *c = p->cfg;
    const char *d = argv[0];
    enum log_dest_kind kind;
    const char *path = NULL;
    if (!strcmp(d, "none")) {
        if (argc > 1)
            return cfg_error(p, k->name, "too many arguments (expected: none)");
        p->log_dest_none = true;
        p->log_dest_set = false;
        free(c->log_dest); c->log_dest = NULL;
        free(c->log_file); c->log_file = NULL;
        return 0;
    }
    if (!strcmp(d, "stderr")) kind = LOG_DEST_STDERR;
    else if (!strcmp(d, "stdout")) kind = LOG_DEST_STDOUT;
    else if (!strcmp(d, "syslog")) kind = LOG_DEST_SYSLOG;
    else if (!strcmp(d, "file")) kind = LOG_DEST_FILE;
    else if (!strcmp(d, "topic") || !strcmp(d, "dlt"))
        return cfg_error(p, k->name, "destination '%s' is not supported by moat "
                         "(stderr, stdout, syslog, file PATH, none)", d);
    else
        return cfg_error(p, k->name, "'%s' is not stderr, stdout, syslog, file PATH or none", d);
    if (kind == LOG_DEST_FILE) {
        /* PATH is the rest of the line, spaces included, as in mosquitto */
        path = p->value + 4;
        while (*path == ' ' || *path == '\t')
            path++;
        if (!*path)
            return cfg_error(p, k->name, "missing PATH after 'file'");
        if (cfg_check_string(p, k->name, path))
            return -1;
    } else if (argc > 1) {
        return cfg_error(p, k->name, "too many arguments (expected: %s)", d);
    }
    if (p->log_dest_set) {
        if (kind == c->log_dest_kind && kind != LOG_DEST_FILE)
            return 0;   /* repeated, harmless */
        return cfg_error(p, k->name, "moat writes the log to one destination; already '%s' (%s:%d)",
                         c->log_dest, p->log_dest_file, p->log_dest_line);
    }
    size_t n = strlen(d) + (path ? strlen(path) + 1 : 0) + 1;
    char *s = malloc(n);
    if (!s)
        return cfg_error(p, k->name, "out of memory");
    snprintf(s, n, path ? "%s %s" : "%s", d, path);
    free(c->log_dest);
    c->log_dest = s;
    c->log_dest_kind = kind;
    free(c->log_file);
    c->log_file = NULL;
    if (path && !(c->log_file = strdup(path)))
        return cfg_error(p, k->name, "out of memory");
    p->log_dest_set = true;
    p->log_dest_none = false;
    p->log_dest_file = p->file;
    p->log_dest_line = p->line;
    return 0;
}

/* mosquitto's include_dir order: compare letters case-insensitively first,
 * then upper case before lower case of the same letter (00 01 A a B b). */
static int include_cmp(const void *a, const void *b)
{
    const unsigned char *x = *(const unsigned char *const *)a;
    const unsigned char *y = *(const unsigned char *const *)b;
    for (; *x && *y; x++, y++) {
        int ux = (*x >= 'a' && *x <= 'z') ? *x - 32 : *x;
        int uy = (*y >= 'a' && *y <= 'z') ? *y - 32 : *y;
        if (ux != uy)
            return ux - uy;
        if (*x != *y)
            return (int)*x - (int)*y;
    }
    return (int)*x - (int)*y;
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

int cfg_key_include_dir(struct cfg_parser *p, const struct cfg_key *k, int argc, char **argv)
{
    if (p->level > 0)
        return cfg_error(p, k->name, "only allowed in the main configuration file");
    const char *dir = p->value;
    if (cfg_check_string(p, k->name, dir))
        return -1;
    DIR *dh = opendir(dir);
    if (!dh)
        return cfg_error(p, k->name, "cannot open directory '%s': %s", dir, strerror(errno));
    char **names = NULL;
    size_t n = 0;
    struct dirent *de;
    int rc = 0;
    while ((de = readdir(dh))) {
        size_t len = strlen(de->d_name);
        if (len <= 5 || strcmp(de->d_name + len - 5, ".conf"))
            continue;
        if (n >= CONFIG_MAX_INCLUDES) {
            rc = cfg_error(p, k->name, "more than %d .conf files in '%s'", CONFIG_MAX_INCLUDES, dir);
            break;
        }
        char **nn = realloc(names, (n + 1) * sizeof *nn);
        if (!nn || !(nn[n] = strdup(de->d_name))) {
            names = nn ? nn : names;
            rc = cfg_error(p, k->name, "out of memory");
            break;
        }
        names = nn;
        n++;
    }
    closedir(dh);
    if (rc) {
        free_names(names, n);
        return -1;
    }
    if (n)
        qsort(names, n, sizeof *names, include_cmp);

    /* the included files are parsed as mosquitto does: each starts on the
     * default listener, and the main file goes on where it was */
    const char *file = p->file;
    int line = p->line;
    long cur = p->cur;
    for (size_t i = 0; i < n && !rc; i++) {
        char path[4200];
        int m = snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        struct stat st;
        if (m < 0 || (size_t)m >= sizeof path) {
            rc = cfg_error(p, k->name, "path too long in '%s'", dir);
        } else if (stat(path, &st)) {
            rc = cfg_error(p, k->name, "cannot stat '%s': %s", path, strerror(errno));
        } else if (!S_ISREG(st.st_mode)) {
            rc = cfg_error(p, k->name, "'%s' is not a regular file", path);
        } else if (p->have_main_id && (uint64_t)st.st_dev == p->main_dev &&
                   (uint64_t)st.st_ino == p->main_ino) {
            rc = cfg_error(p, k->name, "'%s' is the main configuration file", path);
        } else {
            p->level = 1;
            p->cur = -1;
            rc = cfg_parse_file(p, path);
            p->level = 0;
            p->cur = cur;
            if (!rc) {
                p->file = file;
                p->line = line;
            }
        }
    }
    free_names(names, n);
    return rc ? -1 : 0;
}

int cfg_key_xdp_interface(struct cfg_parser *p, const struct cfg_key *k, int argc, char **argv)
{
    struct moat_config *c = p->cfg;
    const char *name = argv[0];
    size_t len = strlen(name);
    enum cfg_xdp_mode mode = CFG_XDP_MODE_AUTO;
    /* IFNAMSIZ 16 with the NUL; the kernel's dev_valid_name rules */
    if (len == 0 || len > 15 || !strcmp(name, ".") || !strcmp(name, ".."))
        return cfg_error(p, k->name, "'%s' is not a valid interface name (1..15 bytes)", name);
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)name[i];
        if (ch <= 0x20 || ch >= 0x7f || ch == '/' || ch == ':')
            return cfg_error(p, k->name, "'%s' is not a valid interface name", name);
    }
    if (argc > 1) {
        if (!strcmp(argv[1], "auto")) mode = CFG_XDP_MODE_AUTO;
        else if (!strcmp(argv[1], "native")) mode = CFG_XDP_MODE_NATIVE;
        else if (!strcmp(argv[1], "generic")) mode = CFG_XDP_MODE_GENERIC;
        else
            return cfg_error(p, k->name, "mode '%s' is not auto, native or generic", argv[1]);
    }
    for (size_t i = 0; i < c->n_xdp_interfaces; i++)
        if (!strcmp(c->xdp_interfaces[i].name, name))
            return cfg_error(p, k->name, "interface '%s' given twice (first at %s:%d)", name,
                             c->xdp_interfaces[i].file, c->xdp_interfaces[i].line);
    if (c->n_xdp_interfaces >= CONFIG_MAX_XDP_IFACES)
        return cfg_error(p, k->name, "more than %d interfaces", CONFIG_MAX_XDP_IFACES);
    struct xdp_iface_conf *ni = realloc(c->xdp_interfaces, (c->n_xdp_interfaces + 1) * sizeof *ni);
    if (!ni)
        return cfg_error(p, k->name, "out of memory");
    c->xdp_interfaces = ni;
    struct xdp_iface_conf *x = &ni[c->n_xdp_interfaces];
    if (!(x->name = strdup(name)))
        return cfg_error(p, k->name, "out of memory");
    x->mode = mode;
    x->file = p->file;
    x->line = p->line;
    c->n_xdp_interfaces++;
    return 0;
}

int cfg_key_xdp_on_exit(struct cfg_parser *p, const struct cfg_key *k, int argc, char **argv)
{
    if (!strcmp(argv[0], "detach"))
        p->cfg->xdp_on_exit = CFG_XDP_ON_EXIT_DETACH;
    else if (!strcmp(argv[0], "keep"))
        p->cfg->xdp_on_exit = CFG_XDP_ON_EXIT_KEEP;
    else
        return cfg_error(p, k->name, "'%s' is not detach or keep", argv[0]);
    return 0;
}

int cfg_key_xdp_block_mode(struct cfg_parser *p, const struct cfg_key *k, int argc, char **argv)
{
    if (!strcmp(argv[0], "ports"))
        p->cfg->xdp_block_mode = CFG_XDP_BLOCK_PORTS;
    else if (!strcmp(argv[0], "all"))
        p->cfg->xdp_block_mode = CFG_XDP_BLOCK_ALL;
    else
        return cfg_error(p, k->name, "'%s' is not all or ports", argv[0]);
    return 0;
}

/* "60", "60s", "10m", "2h", "1d": seconds. WINDOW and TTL of moat_detect. */
static int parse_secs(struct cfg_parser *p, const char *key, const char *s, uint32_t *out)
{
    size_t len = strlen(s);
    uint64_t mult = 1;
    char num[24];
    if (len == 0 || len >= sizeof num)
        return cfg_error(p, key, "'%s' is not a duration (e.g. 60s, 10m, 2h, 1d)", s);
    memcpy(num, s, len + 1);
    switch (num[len - 1]) {
    case 's': mult = 1; num[--len] = 0; break;
    case 'm': mult = 60; num[--len] = 0; break;
    case 'h': mult = 3600; num[--len] = 0; break;
    case 'd': mult = 86400; num[--len] = 0; break;
    default: break;
    }
    uint64_t v;
    if (cfg_parse_uint(p, key, num, 1, 31536000, &v) < 0)
        return -1;
    if (v * mult > 31536000)
        return cfg_error(p, key, "duration '%s' longer than a year", s);
    *out = (uint32_t)(v * mult);
    return 0;
}

int cfg_key_moat_detect(struct cfg_parser *p, const struct cfg_key *k, int argc, char **argv)
{
    int kind = det_kind_parse(argv[0]);
    if (kind < 0)
        return cfg_error(p, k->name, "unknown kind '%s' (see docs/security.md)", argv[0]);
    struct det_rule *r = &p->cfg->detect[kind];
    if (argc == 2) {
        if (strcmp(argv[1], "off"))
            return cfg_error(p, k->name, "expected 'off' or THRESHOLD WINDOW ACTION [TTL] after '%s'", argv[0]);
        r->action = DET_ACT_OFF;
        return 0;
    }
    if (argc < 4)
        return cfg_error(p, k->name, "expected %s THRESHOLD WINDOW ACTION [TTL]", argv[0]);
    uint64_t th;
    struct det_rule nr = *r;
    if (cfg_parse_uint(p, k->name, argv[1], 1, 10000000, &th) < 0 ||
        parse_secs(p, k->name, argv[2], &nr.window_s) < 0)
        return -1;
    int act = det_action_parse(argv[3]);
    if (act < 0)
        return cfg_error(p, k->name, "unknown action '%s' (log, disconnect, block_ip, block_client, block_user, off)", argv[3]);
    if (!det_action_valid(kind, act))
        return cfg_error(p, k->name, "action '%s' does not apply to '%s'", argv[3], argv[0]);
    if (argc == 5 && parse_secs(p, k->name, argv[4], &nr.ttl_s) < 0)
        return -1;
    nr.threshold = (uint32_t)th;
    nr.action = (uint8_t)act;
    *r = nr;
    return 0;
}

int cfg_key_moat_allow(struct cfg_parser *p, const struct cfg_key *k, int argc, char **argv)
{
    struct moat_config *c = p->cfg;
    for (int i = 0; i < argc; i++) {
        struct moat_cidr cidr;
        char err[160];
        if (moat_cidr_parse(argv[i], &cidr, err, sizeof err) < 0)
            return cfg_error(p, k->name, "%s", err);
        if (c->n_allow >= 1024)
            return cfg_error(p, k->name, "more than 1024 allowed CIDRs");
        struct moat_allow_conf *na = realloc(c->allow, (c->n_allow + 1) * sizeof *na);
        if (!na)
            return cfg_error(p, k->name, "out of memory");
        c->allow = na;
        na[c->n_allow].family = cidr.family;
        na[c->n_allow].prefixlen = cidr.prefixlen;
        memcpy(na[c->n_allow].addr, cidr.addr, 16);
        c->n_allow++;
    }
    return 0;
}

int cfg_key_moat_sni_cert(struct cfg_parser *p, const struct cfg_key *k, int argc, char **argv)
{
    struct listener_conf *l = cfg_cur_listener(p, k->name);
    if (!l)
        return -1;
    /* The name's syntax (DNS name or *.wildcard) is checked with the
     * certificates when the listener starts. */
    for (size_t i = 0; i < l->n_sni; i++)
        if (!strcasecmp(l->sni[i].name, argv[0]))
            return cfg_error(p, k->name, "server name '%s' given twice for this listener", argv[0]);
    if (l->n_sni >= 256)
        return cfg_error(p, k->name, "more than 256 server names on one listener");
    struct sni_conf *n = realloc(l->sni, (l->n_sni + 1) * sizeof *n);
    if (!n)
        return cfg_error(p, k->name, "out of memory");
    l->sni = n;
    struct sni_conf *x = &n[l->n_sni];
    x->name = strdup(argv[0]);
    x->certfile = strdup(argv[1]);
    x->keyfile = strdup(argv[2]);
    l->n_sni++;
    if (!x->name || !x->certfile || !x->keyfile)
        return cfg_error(p, k->name, "out of memory");
    return 0;
}

int cfg_key_moat_tls_ktls(struct cfg_parser *p, const struct cfg_key *k, int argc, char **argv)
{
    if (!strcmp(argv[0], "auto"))
        p->cfg->moat_tls_ktls = CFG_TLS_KTLS_AUTO;
    else if (!strcmp(argv[0], "tx"))
        p->cfg->moat_tls_ktls = CFG_TLS_KTLS_TX;
    else if (!strcmp(argv[0], "off"))
        p->cfg->moat_tls_ktls = CFG_TLS_KTLS_OFF;
    else
        return cfg_error(p, k->name, "'%s' is not auto, tx or off", argv[0]);
    return 0;
}
