/* After the last line: mosquitto 2.0's default-listener and local-only
 * rules, listener consistency checks, and defaults for unset strings. */
#include "config_internal.h"

#include "util/log.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void cfg_listener_free(struct listener_conf *l);

/* Errors found after the last line point at the line that caused them. */
static void at(struct cfg_parser *p, const char *file, int line)
{
    p->file = file;
    p->line = line;
}

static struct listener_conf *append(struct cfg_parser *p)
{
    struct moat_config *c = p->cfg;
    struct listener_conf *nl = realloc(c->listeners, (c->n_listeners + 1) * sizeof *nl);
    if (!nl)
        return NULL;
    c->listeners = nl;
    struct listener_conf *l = &nl[c->n_listeners++];
    memset(l, 0, sizeof *l);
    l->max_connections = -1;
    l->allow_anonymous = -1;
    l->allow_zero_length_clientid = -1;
    return l;
}

/* Address family a listener can use: 4, 6, or 0 (both). */
static int family(const struct listener_conf *l)
{
    unsigned char b[16];
    if (l->socket_domain)
        return l->socket_domain;
    if (l->bind_address && inet_pton(AF_INET, l->bind_address, b) == 1)
        return 4;
    if (l->bind_address && inet_pton(AF_INET6, l->bind_address, b) == 1)
        return 6;
    return 0;
}

static bool same_address(const char *a, const char *b)
{
    unsigned char x[16], y[16];
    if (inet_pton(AF_INET, a, x) == 1 && inet_pton(AF_INET, b, y) == 1)
        return !memcmp(x, y, 4);
    if (inet_pton(AF_INET6, a, x) == 1 && inet_pton(AF_INET6, b, y) == 1)
        return !memcmp(x, y, 16);
    return !strcasecmp(a, b);
}

/* Two listeners that could not both bind: same port, overlapping address
 * families, and the same address or a wildcard on either side. */
static bool overlap(const struct listener_conf *a, const struct listener_conf *b)
{
    if (a->port != b->port)
        return false;
    int fa = family(a), fb = family(b);
    if (fa && fb && fa != fb)
        return false;
    if (!a->bind_address || !b->bind_address)
        return true;
    return same_address(a->bind_address, b->bind_address);
}

static int check_listener(struct cfg_parser *p, struct listener_conf *l)
{
    at(p, l->file, l->line);
    const char *key = l->is_default ? "port" : "listener";
    unsigned char b[16];
    if (l->socket_domain == 6 && l->bind_address && inet_pton(AF_INET, l->bind_address, b) == 1)
        return cfg_error(p, key, "socket_domain ipv6 with the IPv4 address %s", l->bind_address);
    if (l->socket_domain == 4 && l->bind_address && inet_pton(AF_INET6, l->bind_address, b) == 1)
        return cfg_error(p, key, "socket_domain ipv4 with the IPv6 address %s", l->bind_address);
    if (!!l->certfile != !!l->keyfile)
        return cfg_error(p, key, "port %u: certfile and keyfile must be given together", l->port);
    l->tls = l->certfile && l->keyfile;
    if (!l->tls) {
        const char *opt = l->cafile ? "cafile" : l->capath ? "capath" : l->crlfile ? "crlfile" :
                          l->ciphers ? "ciphers" : l->ciphers_tls13 ? "ciphers_tls1.3" :
                          l->tls_version ? "tls_version" :
                          l->require_certificate ? "require_certificate" :
                          l->use_identity_as_username ? "use_identity_as_username" :
                          l->use_subject_as_username ? "use_subject_as_username" : NULL;
        if (opt)
            return cfg_error(p, key, "port %u: TLS option '%s' without certfile and keyfile", l->port, opt);
        return 0;
    }
    if (l->require_certificate && !l->cafile && !l->capath)
        return cfg_error(p, key, "port %u: require_certificate needs cafile or capath", l->port);
    if ((l->use_identity_as_username || l->use_subject_as_username) && !l->require_certificate)
        return cfg_error(p, key, "port %u: use_%s_as_username needs require_certificate true", l->port,
                         l->use_identity_as_username ? "identity" : "subject");
    if (l->crlfile && !l->require_certificate)
        return cfg_error(p, key, "port %u: crlfile needs require_certificate true", l->port);
    return 0;
}

static int set_default_string(struct cfg_parser *p, char **field, const char *v)
{
    if (*field)
        return 0;
    if (!(*field = strdup(v))) {
        if (p->err && p->errlen)
            snprintf(p->err, p->errlen, "%s: out of memory", p->file);
        return -1;
    }
    return 0;
}

int cfg_finish(struct cfg_parser *p)
{
    struct moat_config *c = p->cfg;

    /* mosquitto's default listener: declared by port/bind_address. Listener
     * keys before the first 'listener' configure it; without port or
     * bind_address mosquitto would either start it silently on 1883 (other
     * listeners exist) or drop those keys (local-only): refuse both. */
    if (p->deflt_used && !p->port_set && !p->bind_set) {
        at(p, p->deflt_file, p->deflt_line);
        if (p->any_listener)
            return cfg_error(p, p->deflt_key, "comes before the first 'listener', so it configures "
                             "mosquitto's default listener (port 1883, all addresses); move it after "
                             "a 'listener' line, or declare the default listener with 'port'");
        return cfg_error(p, p->deflt_key, "configures mosquitto's default listener, but no listener "
                         "is declared ('listener', 'port' or 'bind_address'), so mosquitto 2 would run "
                         "local-only and ignore it; add a 'listener' line before it");
    }
    if (p->port_set || p->bind_set) {
        at(p, p->port_file, p->port_line);
        if (c->n_listeners >= CONFIG_MAX_LISTENERS)
            return cfg_error(p, "port", "more than %d listeners", CONFIG_MAX_LISTENERS);
        struct listener_conf *l = append(p);
        if (!l)
            return cfg_error(p, "port", "out of memory");
        *l = p->deflt;
        memset(&p->deflt, 0, sizeof p->deflt);
        if (!l->port)
            l->port = 1883;
        l->is_default = true;
        l->file = p->port_file;
        l->line = p->port_line;
    }

    /* mosquitto 2: no listener at all = loopback only, anonymous allowed */
    c->local_only = !p->any_listener && !p->port_set && !p->bind_set;
    if (c->local_only) {
        static const struct { const char *addr; int dom; } lo[] = { { "127.0.0.1", 4 }, { "::1", 6 } };
        for (size_t i = 0; i < 2; i++) {
            struct listener_conf *l = append(p);
            if (!l || !(l->bind_address = strdup(lo[i].addr))) {
                if (p->err && p->errlen)
                    snprintf(p->err, p->errlen, "%s: out of memory", p->file);
                return -1;
            }
            l->port = 1883;
            l->socket_domain = lo[i].dom;
            l->file = p->file;
            l->line = 0;
            l->is_default = true;
        }
    }

    for (size_t i = 0; i < c->n_listeners; i++) {
        struct listener_conf *l = &c->listeners[i];
        for (size_t j = 0; j < i; j++) {
            const struct listener_conf *o = &c->listeners[j];
            if (!overlap(o, l))
                continue;
            at(p, l->file, l->line);
            return cfg_error(p, l->is_default ? "port" : "listener",
                             "port %u%s%s overlaps the %slistener declared at %s:%d", l->port,
                             l->bind_address ? " " : "", l->bind_address ? l->bind_address : "",
                             o->is_default ? "default " : "", o->file, o->line);
        }
        if (check_listener(p, l))
            return -1;
    }

    /* allow_anonymous: false unless set, true in local-only mode (mosquitto 2).
     * An explicit setting wins. */
    c->allow_anonymous = p->allow_anon >= 0 ? p->allow_anon != 0 : c->local_only;
    if (c->per_listener_settings)
        for (size_t i = 0; i < c->n_listeners; i++) {
            struct listener_conf *l = &c->listeners[i];
            if (l->allow_anonymous < 0)
                l->allow_anonymous = c->local_only;
            if (l->allow_zero_length_clientid < 0)
                l->allow_zero_length_clientid = 1;
        }

    if (p->log_dest_none)
        c->log_types = 0;   /* 'log_dest none': nothing is written */
    if (!c->log_dest) {
        c->log_dest_kind = LOG_DEST_STDERR;
        if (set_default_string(p, &c->log_dest, "stderr"))
            return -1;
    }
    if (set_default_string(p, &c->auto_id_prefix, "auto-") ||
        set_default_string(p, &c->bpf_pin_path, "/sys/fs/bpf/moat") ||
        set_default_string(p, &c->control_socket, "/run/moat/moatd.sock") ||
        set_default_string(p, &c->moat_block_state_file, "/var/lib/moat/blocks"))
        return -1;
    return 0;
}
