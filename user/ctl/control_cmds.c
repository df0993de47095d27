/* The control commands moatd answers, one table. Replies are one line:
 * "ok", "ok TEXT", "ok {JSON}" or "error MESSAGE". */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/conn.h"
#include "broker/engine.h"
#include "broker/block.h"
#include "broker/kick.h"
#include "moat_abi.h"
#include "broker/session.h"
#include "ctl/control.h"
#include "policy/detect.h"
#include "tls/tls.h"
#include "util/log.h"
#include "util/strbuf.h"
#include "version.h"
#include "xdp/cidr.h"

typedef char *(*cmd_fn)(struct engine *e, char *args);

__attribute__((format(printf, 1, 2)))
static char *reply(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return strdup(buf);
}

static char *cmd_ping(struct engine *e, char *args)
{
    return strdup("ok moatd " MOAT_VERSION);
}

static char *cmd_stats(struct engine *e, char *args)
{
    const struct broker_stats *s = &e->st;
    struct strbuf b = { 0 };
    sb_printf(&b, "ok {\"uptime_s\":%llu,\"clients_connected\":%llu,\"clients_maximum\":%llu,"
              "\"sessions\":%u,\"connections\":%llu,\"conns_accepted\":%llu,\"conns_refused_limit\":%llu,"
              "\"conns_refused_blocked\":%llu,",
              (unsigned long long)((ev_now_ms(e->el) - s->start_ms) / 1000u),
              (unsigned long long)s->clients_connected, (unsigned long long)s->clients_maximum,
              e->n_sessions, (unsigned long long)e->n_conns, (unsigned long long)s->conns_accepted,
              (unsigned long long)s->conns_refused_limit,
              (unsigned long long)s->conns_refused_blocked);
    sb_printf(&b, "\"msgs_received\":%llu,\"msgs_sent\":%llu,\"pub_received\":%llu,\"pub_sent\":%llu,"
              "\"pub_dropped\":%llu,\"queue_overflow\":%llu,\"bytes_received\":%llu,\"bytes_sent\":%llu,",
              (unsigned long long)s->msgs_received, (unsigned long long)s->msgs_sent,
              (unsigned long long)s->pub_msgs_received, (unsigned long long)s->pub_msgs_sent,
              (unsigned long long)s->pub_dropped, (unsigned long long)s->queue_overflow,
              (unsigned long long)s->bytes_received, (unsigned long long)s->bytes_sent);
    sb_printf(&b, "\"acl_denied\":%llu,", (unsigned long long)s->acl_denied);
    sb_printf(&b, "\"protocol_errors\":%llu,\"connect_timeouts\":%llu,\"keepalive_timeouts\":%llu,"
              "\"takeovers\":%llu,\"wills_published\":%llu,\"oom\":%llu}",
              (unsigned long long)s->protocol_errors, (unsigned long long)s->connect_timeouts,
              (unsigned long long)s->keepalive_timeouts, (unsigned long long)s->takeovers,
              (unsigned long long)s->wills_published, (unsigned long long)s->oom);
    return sb_take(&b);
}

static char *cmd_clients(struct engine *e, char *args)
{
    struct strbuf b = { 0 };
    sb_append(&b, "ok [", 4);
    bool first = true;
    for (struct conn *c = e->conns; c; c = c->next) {
        char peer[64];
        peer_str(&c->peer, peer, sizeof peer);
        const char *mode = tls_conn_mode(c->t, c->tctx);
        sb_printf(&b, "%s{\"peer\":\"%s\",\"transport\":\"%s\",\"state\":\"%s\"", first ? "" : ",",
                  peer, mode ? mode : c->t->name, c->state == CONN_ACTIVE ? "connected" : "connecting");
        const char *ident = tls_conn_identity(c->t, c->tctx);
        if (ident) {
            sb_append(&b, ",\"certificate\":", 15);
            sb_json_str(&b, ident, strlen(ident));
        }
        first = false;
        if (c->s) {
            struct session *s = c->s;
            sb_append(&b, ",\"client_id\":", 13);
            sb_json_str(&b, s->client_id, s->id_len);
            if (s->username) {
                sb_append(&b, ",\"username\":", 12);
                sb_json_str(&b, s->username, strlen(s->username));
            }
            sb_printf(&b, ",\"clean_session\":%s,\"keepalive\":%u,\"subscriptions\":%u,"
                      "\"inflight\":%u,\"queued\":%u,\"out_bytes\":%llu",
                      s->clean ? "true" : "false", c->keepalive, s->n_subs, s->n_inf, s->q_len,
                      (unsigned long long)c->out.bytes);
        }
        sb_append(&b, "}", 1);
    }
    sb_append(&b, "]", 1);
    return sb_take(&b);
}

static char *kicked(size_t n)
{
    char buf[64];
    snprintf(buf, sizeof buf, "ok kicked %zu", n);
    return strdup(buf);
}

/* kick client ID | kick ip CIDR */
static char *cmd_kick(struct engine *e, char *args)
{
    char *what = strtok(args, " ");
    char *arg = strtok(NULL, "");
    if (!what || !arg)
        return strdup("error usage: kick client ID | kick user NAME | kick ip CIDR");
    if (!strcmp(what, "client")) {
        log_notice("control: kick client '%s'", arg);
        return kicked(kick_client_id(e, arg, strlen(arg), "kicked by operator (moatctl)"));
    }
    if (!strcmp(what, "user")) {
        log_notice("control: kick user '%s'", arg);
        return kicked(kick_username(e, arg, strlen(arg), "kicked by operator (moatctl)"));
    }
    if (!strcmp(what, "ip")) {
        struct moat_cidr c;
        char err[128];
        if (moat_cidr_parse(arg, &c, err, sizeof err) < 0)
            return reply("error %s", err);
        log_notice("control: kick ip %s", arg);
        return kicked(kick_cidr(e, &c, "kicked by operator (moatctl)"));
    }
    return reply("error kick: unknown target '%s' (client or ip)", what);
}

/* Options after the operand: ttl=NS (0 or absent: permanent), reason=N|NAME. */
static int block_opts(char *rest, uint64_t *ttl_ns, uint32_t *reason, char *err, size_t errlen)
{
    *ttl_ns = 0;
    *reason = MOAT_REASON_MANUAL;
    for (char *tok = strtok(rest, " "); tok; tok = strtok(NULL, " ")) {
        char *end;
        if (!strncmp(tok, "ttl=", 4)) {
            *ttl_ns = strtoull(tok + 4, &end, 10);
            if (end == tok + 4 || *end) {
                snprintf(err, errlen, "bad ttl '%s'", tok + 4);
                return -1;
            }
        } else if (!strncmp(tok, "reason=", 7)) {
            if (moat_reason_parse(tok + 7, reason, err, errlen) < 0)
                return -1;
        } else {
            snprintf(err, errlen, "unknown option '%s'", tok);
            return -1;
        }
    }
    return 0;
}

/* block add CIDR [ttl=NS] [reason=R]: moatctl already wrote the XDP map;
 * moatd records the block in its own denylist (enforced at accept even
 * without XDP) and closes the source's live connections at once.
 * block client ID / block user NAME [ttl=NS]: refused at CONNECT. */
static char *cmd_block(struct engine *e, char *args)
{
    char *verb = strtok(args, " ");
    char *arg = strtok(NULL, " ");
    char *rest = strtok(NULL, "");
    char err[160];
    uint64_t ttl_ns;
    uint32_t reason;
    uint64_t now = ev_now_ms(e->el);
    if (!verb)
        return strdup("error usage: block add|del CIDR, block flush, block client|user NAME, "
                      "block unclient|unuser NAME");
    if (!strcmp(verb, "flush")) {
        size_t n = denylist_flush_ip(e->deny);
        log_notice("control: block flush (%zu userspace entries)", n);
        block_state_save(e);
        return strdup("ok");
    }
    if (!arg)
        return reply("error block %s: argument missing", verb);
    if (!strcmp(verb, "add") || !strcmp(verb, "del")) {
        struct moat_cidr c;
        if (moat_cidr_parse(arg, &c, err, sizeof err) < 0)
            return reply("error block: %s", err);
        if (!strcmp(verb, "del")) {
            if (denylist_del_ip(e->deny, c.family, c.addr, c.prefixlen))
                block_state_save(e);
            log_notice("control: block del %s", arg);
            return strdup("ok");
        }
        if (block_opts(rest, &ttl_ns, &reason, err, sizeof err) < 0)
            return reply("error block add: %s", err);
        uint64_t exp = ttl_ns ? now + (ttl_ns + 999999u) / 1000000u : 0;
        if (denylist_add_ip(e->deny, c.family, c.addr, c.prefixlen, exp, reason) < 0)
            return strdup("error block add: moatd's denylist is full");
        log_notice("control: block add %s: closing its live connections", arg);
        if (!exp)
            block_state_save(e);
        return kicked(kick_cidr(e, &c, "source blocked by operator (moatctl block add)"));
    }
    bool client = !strcmp(verb, "client") || !strcmp(verb, "unclient");
    if (!client && strcmp(verb, "user") && strcmp(verb, "unuser"))
        return reply("error block: unknown verb '%s'", verb);
    enum deny_name_kind k = client ? DENY_CLIENT_ID : DENY_USERNAME;
    if (verb[0] == 'u' && verb[1] == 'n') {
        bool found = denylist_del_name(e->deny, k, arg, strlen(arg));
        return strdup(found ? "ok" : "error not blocked");
    }
    if (block_opts(rest, &ttl_ns, &reason, err, sizeof err) < 0)
        return reply("error block: %s", err);
    engine_block_name(e, k, arg, strlen(arg), (uint32_t)(ttl_ns / 1000000000ull),
                      client ? "client id blocked by operator" : "username blocked by operator");
    return strdup("ok");
}

struct block_list {
    struct strbuf b;
    uint64_t now;
};

static void each_block(void *arg, int kind, const char *name, size_t len, uint8_t family,
                       const uint8_t *addr, uint8_t prefixlen, uint64_t expires_ms, uint32_t reason)
{
    struct block_list *bl = arg;
    struct strbuf *b = &bl->b;
    if (b->len > 4)
        sb_append(b, ",", 1);
    if (kind < 0) {
        struct moat_cidr c = { .family = family, .prefixlen = prefixlen };
        memcpy(c.addr, addr, 16);
        char cs[MOAT_CIDR_STRLEN];
        moat_cidr_format(&c, cs, sizeof cs);
        sb_printf(b, "{\"type\":\"ip\",\"cidr\":\"%s\",\"reason\":\"%s\"", cs, moat_reason_name(reason));
    } else {
        sb_printf(b, "{\"type\":\"%s\",\"name\":", kind == DENY_CLIENT_ID ? "client" : "user");
        sb_json_str(b, name, len);
    }
    long long left = expires_ms ? (long long)((expires_ms - bl->now + 999) / 1000) : -1LL;
    sb_printf(b, ",\"expires_in_s\":%lld}", left);
}

/* moatd's own blocks (userspace denylist), with seconds left (-1: permanent). */
static char *cmd_blocks(struct engine *e, char *args)
{
    struct block_list bl = { .now = ev_now_ms(e->el) };
    sb_append(&bl.b, "ok [", 4);
    denylist_each(e->deny, bl.now, each_block, &bl);
    sb_append(&bl.b, "]", 1);
    return sb_take(&bl.b);
}

static void event_json(struct strbuf *b, const struct det_decision *d, bool comma)
{
    sb_printf(b, "%s{\"time_ms\":%llu,\"kind\":\"%s\",\"action\":\"%s\",\"allowlisted\":%s,"
              "\"ttl_s\":%u,\"offence\":%u,\"source\":\"%s\",\"client_id\":", comma ? "," : "",
              (unsigned long long)d->wall_ms, det_kind_name(d->kind), det_action_name(d->action),
              d->allowlisted ? "true" : "false", d->ttl_s, d->offence, d->source);
    sb_json_str(b, d->client_id, strlen(d->client_id));
    sb_append(b, ",\"username\":", 12);
    sb_json_str(b, d->username, strlen(d->username));
    sb_append(b, "}", 1);
}

/* Recent detection decisions, oldest first. */
static char *cmd_events(struct engine *e, char *args)
{
    const struct det_decision *first, *wrap;
    size_t n_first, n = detector_decisions(e->det, &first, &wrap, &n_first);
    struct strbuf b = { 0 };
    sb_append(&b, "ok [", 4);
    for (size_t i = 0; i < n; i++)
        event_json(&b, i < n_first ? &first[i] : &wrap[i - n_first], i > 0);
    sb_append(&b, "]", 1);
    return sb_take(&b);
}

static char *cmd_reload(struct engine *e, char *args)
{
    char err[512];
    if (engine_reload(e, err, sizeof err) < 0)
        return reply("error reload: %s", err);
    return strdup("ok reloaded");
}

static const struct {
    const char *name;
    cmd_fn fn;
} cmds[] = {
    { "ping", cmd_ping },
    { "stats", cmd_stats },
    { "clients", cmd_clients },
    { "kick", cmd_kick },
    { "block", cmd_block },
    { "reload", cmd_reload },
    { "blocks", cmd_blocks },
    { "events", cmd_events },
};

char *control_exec(struct engine *e, const char *line)
{
    char buf[1025];
    snprintf(buf, sizeof buf, "%s", line);
    char *sp = strchr(buf, ' ');
    char *args = sp ? sp + 1 : buf + strlen(buf);
    if (sp)
        *sp = 0;
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (!strcmp(buf, cmds[i].name))
            return cmds[i].fn(e, args);
    return reply("error unknown command '%s'", buf);
}
