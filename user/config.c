/* moatd's configuration parser: mosquitto.conf syntax and scope rules
 * (mosquitto.conf(5), mosquitto 2.0), strict. Reads lines with a bounded
 * cursor, dispatches on the key table (config_keys.c), then applies
 * mosquitto's default-listener and local-only rules (config_finish.c). */
#include "config_internal.h"

#include "util/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int cfg_finish(struct cfg_parser *p);
void cfg_listener_free(struct listener_conf *l);

const char *cfg_intern_file(struct cfg_parser *p, const char *name)
{
    struct moat_config *c = p->cfg;
    for (size_t i = 0; i < c->n_file_names; i++)
        if (!strcmp(c->file_names[i], name))
            return c->file_names[i];
    char **nf = realloc(c->file_names, (c->n_file_names + 1) * sizeof *nf);
    if (!nf)
        return NULL;
    c->file_names = nf;
    if (!(nf[c->n_file_names] = strdup(name)))
        return NULL;
    return nf[c->n_file_names++];
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static int dispatch(struct cfg_parser *p, const struct cfg_key *k, int argc, char **argv)
{
    struct moat_config *c = p->cfg;
    void *field = NULL;
    size_t size = 0;

    if (k->type == KT_CUSTOM)
        return k->fn(p, k, argc, argv);

    switch (k->scope) {
    case SC_GLOBAL:
        field = (char *)c + k->goff;
        size = k->gsize;
        break;
    case SC_LISTENER:
        field = (char *)cfg_cur_listener(p, k->name) + k->loff;
        size = k->lsize;
        break;
    case SC_SECURITY:
        p->security_seen = true;
        if (c->per_listener_settings) {
            field = (char *)cfg_cur_listener(p, k->name) + k->loff;
            size = k->lsize;
        } else {
            field = (char *)c + k->goff;
            size = k->gsize;
        }
        break;
    default:
        return cfg_error(p, k->name, "internal: no field");
    }

    switch (k->type) {
    case KT_BOOL: {
        bool v;
        if (cfg_parse_bool(p, k->name, argv[0], &v))
            return -1;
        if (size == sizeof(int)) {      /* per-listener tri-state: -1 inherit */
            int iv = v;
            memcpy(field, &iv, sizeof iv);
        } else {
            memcpy(field, &v, sizeof v);
        }
        return 0;
    }
    case KT_UINT: {
        uint64_t v;
        if (cfg_parse_uint(p, k->name, argv[0], k->min, k->max, &v))
            return -1;
        cfg_store_uint(field, size, v);
        return 0;
    }
    case KT_STRING: {
        char *cur;
        memcpy(&cur, field, sizeof cur);
        int rc = cfg_set_string(p, k->name, &cur, p->value);
        memcpy(field, &cur, sizeof cur);
        return rc;
    }
    default:
        return cfg_error(p, k->name, "internal: bad key type");
    }
}

/* One line, NUL-terminated, without its newline; modified in place. */
static int parse_line(struct cfg_parser *p, char *s)
{
    size_t len = strlen(s);
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f)
            return cfg_error(p, NULL, "control character (0x%02x) in line", (unsigned char)s[i]);
    while (len && is_blank(s[len - 1]))
        s[--len] = '\0';
    while (is_blank(*s))
        s++;
    /* mosquitto: '#' as the first character makes a comment; moat also
     * allows indentation before it. A '#' later on a line is not a comment. */
    if (*s == '\0' || *s == '#')
        return 0;

    char *key = s;
    while (*s && !is_blank(*s))
        s++;
    if (*s)
        *s++ = '\0';
    while (is_blank(*s))
        s++;
    p->value = s;

    const struct cfg_key *k = cfg_key_find(key);
    if (!k) {
        const struct cfg_refused *r = cfg_refused_find(key);
        if (!p->err || !p->errlen)
            return -1;
        if (r)
            snprintf(p->err, p->errlen, "%s:%d: '%s': mosquitto key not supported by moat (%s)",
                     p->file, p->line, key, r->feature);
        else
            cfg_error(p, key, "unknown key");
        return -1;
    }
    if (*s == '\0')
        return cfg_error(p, k->name, "missing value (expected: %s)", k->args);
    if (k->type == KT_STRING)
        return dispatch(p, k, 1, (char *[]){ (char *)p->value });

    /* Tokens split on blanks; p->value keeps the untouched rest for the
     * handlers that take it (log_dest file, include_dir). */
    char copy[CONFIG_MAX_LINE + 1];
    size_t vlen = strlen(s);
    memcpy(copy, s, vlen + 1);
    char *argv[CONFIG_MAX_ARGS + 1];
    int argc = 0;
    char *t = copy;
    while (*t && argc <= CONFIG_MAX_ARGS) {
        argv[argc++] = t;
        while (*t && !is_blank(*t))
            t++;
        if (*t)
            *t++ = '\0';
        while (is_blank(*t))
            t++;
    }
    if (argc < k->min_args)
        return cfg_error(p, k->name, "missing argument (expected: %s)", k->args);
    if (k->max_args >= 0 && argc > k->max_args) {
        bool hash = argv[k->max_args][0] == '#';
        return cfg_error(p, k->name, "too many arguments (expected: %s)%s", k->args,
                         hash ? "; '#' starts a comment only at the beginning of a line" : "");
    }
    if (argc > CONFIG_MAX_ARGS)
        argc = CONFIG_MAX_ARGS;
    return dispatch(p, k, argc, argv);
}

int cfg_parse_buffer(struct cfg_parser *p, const char *name, const char *buf, size_t len)
{
    const char *file = cfg_intern_file(p, name);
    if (!file) {
        if (p->err && p->errlen)
            snprintf(p->err, p->errlen, "%s: out of memory", name);
        return -1;
    }
    p->file = file;
    p->line = 0;
    size_t pos = 0;
    char line[CONFIG_MAX_LINE + 2];
    while (pos < len) {
        const char *start = buf + pos;
        size_t rest = len - pos;
        const char *nl = memchr(start, '\n', rest);
        size_t llen = nl ? (size_t)(nl - start) : rest;
        pos += llen + (nl ? 1 : 0);
        p->line++;
        if (llen && start[llen - 1] == '\r')   /* CRLF files */
            llen--;
        if (llen > CONFIG_MAX_LINE)
            return cfg_error(p, NULL, "line longer than %d bytes", CONFIG_MAX_LINE);
        if (memchr(start, '\0', llen))
            return cfg_error(p, NULL, "NUL byte in line");
        memcpy(line, start, llen);
        line[llen] = '\0';
        if (parse_line(p, line))
            return -1;
    }
    return 0;
}

int cfg_parse_file(struct cfg_parser *p, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (p->err && p->errlen)
            snprintf(p->err, p->errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    char *buf = malloc(CONFIG_MAX_FILE_BYTES + 1);
    if (!buf) {
        fclose(f);
        if (p->err && p->errlen)
            snprintf(p->err, p->errlen, "%s: out of memory", path);
        return -1;
    }
    size_t n = fread(buf, 1, CONFIG_MAX_FILE_BYTES + 1, f);
    int rd_err = ferror(f);
    fclose(f);
    int rc = -1;
    if (rd_err) {
        if (p->err && p->errlen)
            snprintf(p->err, p->errlen, "%s: read error", path);
    } else if (n > CONFIG_MAX_FILE_BYTES) {
        if (p->err && p->errlen)
            snprintf(p->err, p->errlen, "%s: larger than %u bytes", path, CONFIG_MAX_FILE_BYTES);
    } else {
        rc = cfg_parse_buffer(p, path, buf, n);
    }
    free(buf);
    return rc;
}

/* mosquitto 2.0 defaults, plus moat's. Strings are filled in by cfg_finish
 * when the file did not set them (a preset would look like a duplicate). */
static void init_defaults(struct moat_config *c, struct cfg_parser *p, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    c->allow_zero_length_clientid = true;
    c->max_inflight_messages = 20;
    c->max_queued_messages = 1000;
    c->retain_available = true;
    c->max_keepalive = 65535;
    c->sys_interval = 10;
    c->autosave_interval = 1800;
    c->log_types = LOG_T_DEFAULT;
    c->log_dest_kind = LOG_DEST_STDERR;
    c->connection_messages = true;
    c->log_timestamp = true;
    c->moat_connect_timeout = 10;
    c->moat_max_output_bytes = 4194304;
    c->moat_persistence_fsync = true;
    c->moat_persistence_map_size = 268435456;
    c->xdp_on_exit = CFG_XDP_ON_EXIT_DETACH;
    c->xdp_syn_rate = 100;
    c->xdp_syn_burst = 200;
    c->xdp_ipv6_prefix = 64;
    c->xdp_block_mode = CFG_XDP_BLOCK_PORTS;
    det_rules_default(c->detect);
    c->moat_block_ttl_max = 86400;
    c->moat_allow_loopback = true;
    c->moat_tls_handshake_timeout = 10;

    memset(p, 0, sizeof *p);
    p->cfg = c;
    p->err = err;
    p->errlen = errlen;
    p->cur = -1;
    p->allow_anon = -1;
    p->deflt.max_connections = -1;
    p->deflt.allow_anonymous = -1;
    p->deflt.allow_zero_length_clientid = -1;
    if (err && errlen)
        err[0] = '\0';
}

static int load(struct moat_config *cfg, const char *name, const char *path,
                const char *buf, size_t len, char *err, size_t errlen)
{
    struct cfg_parser p;
    init_defaults(cfg, &p, err, errlen);
    int rc;
    if (path) {
        struct stat st;
        if (!stat(path, &st)) {
            p.have_main_id = true;
            p.main_dev = (uint64_t)st.st_dev;
            p.main_ino = (uint64_t)st.st_ino;
        }
        rc = cfg_parse_file(&p, path);
    } else {
        rc = cfg_parse_buffer(&p, name, buf, len);
    }
    if (!rc)
        rc = cfg_finish(&p);
    if (!rc && !(cfg->source = strdup(path ? path : name))) {
        if (err && errlen)
            snprintf(err, errlen, "%s: out of memory", path ? path : name);
        rc = -1;
    }
    cfg_listener_free(&p.deflt);   /* cfg_finish moved it out if it was used */
    if (rc)
        config_free(cfg);
    return rc;
}

int config_load_file(struct moat_config *cfg, const char *path, char *err, size_t errlen)
{
    return load(cfg, NULL, path, NULL, 0, err, errlen);
}

int config_load_buffer(struct moat_config *cfg, const char *name, const char *buf, size_t len,
                       char *err, size_t errlen)
{
    return load(cfg, name ? name : "(buffer)", NULL, buf, len, err, errlen);
}

int config_load_default(struct moat_config *cfg, char *err, size_t errlen)
{
    return load(cfg, "(embedded default)", NULL, config_default_text, strlen(config_default_text),
                err, errlen);
}
