/* moat-bench: MQTT 3.1.1 load generator for moat and other brokers.
 * Speaks MQTT itself (codec from user/mqtt) over non-blocking sockets.
 * One run = one scenario; the result is one line of key=value (or one JSON
 * object with --json) on stdout. Every run is bounded by --deadline.
 * Exit status: 0 ok, 1 the run failed (error on stderr), 2 bad usage. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench.h"
#include "bench/report.h"
#include "bench/tls.h"

/* ---- shared helpers declared in bench.h ---- */

uint64_t bench_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int bench_fail(struct bench_ctx *bc, const char *fmt, ...)
{
    va_list ap;

    if (bc->err[0])
        return -1;
    va_start(ap, fmt);
    vsnprintf(bc->err, sizeof(bc->err), fmt, ap);
    va_end(ap);
    if (!bc->err[0])
        snprintf(bc->err, sizeof(bc->err), "unknown error");
    return -1;
}

bool bench_past_deadline(struct bench_ctx *bc)
{
    return bench_now_ns() >= bc->t_deadline_ns;
}

void bench_progress(struct bench_ctx *bc, bool force, const char *fmt, ...)
{
    uint64_t now;
    va_list ap;

    if (!bc->o->progress)
        return;
    now = bench_now_ns();
    if (!force && now < bc->t_progress_ns)
        return;
    bc->t_progress_ns = now + 200000000ull;
    fputs("\r\033[K", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fflush(stderr);
}

void bench_progress_clear(struct bench_ctx *bc)
{
    if (bc->o->progress) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
}

/* ---- command line: one table lists every flag; help is generated ---- */

enum opt_type { T_STR, T_U32, T_U64, T_DBL, T_BOOL };

struct opt {
    const char *name;
    enum opt_type type;
    size_t off;             /* offset in struct bench_opts */
    double min, max;        /* numeric range (inclusive) */
    const char *help;
};

#define OFF(f) offsetof(struct bench_opts, f)
static const struct opt opts[] = {
    { "scenario", T_STR, OFF(scenario), 0, 0, "pubsub | conn | idle | sink (default pubsub)" },
    { "host", T_STR, OFF(host), 0, 0, "broker IPv4 address (default 127.0.0.1)" },
    { "port", T_U32, OFF(port), 1, 65535, "broker port (default 1883)" },
    { "pubs", T_U32, OFF(pubs), 1, 10000, "publishers (pubsub; sink: source connections) (default 1)" },
    { "subs", T_U32, OFF(subs), 1, 10000, "subscribers (default 1)" },
    { "topics", T_STR, OFF(topics), 0, 0, "pair (topic per publisher/subscriber pair, needs pubs == subs)"
      " | shared (one topic, fan-out) (default pair)" },
    { "topic-prefix", T_STR, OFF(topic_prefix), 0, 0, "topic prefix (default bench/PID)" },
    { "qos", T_U32, OFF(qos), 0, 2, "QoS of publications and subscriptions (default 0)" },
    { "size", T_U32, OFF(size), BENCH_PAYLOAD_HDR, 1048576, "payload bytes, >= 32 (default 64)" },
    { "count", T_U64, OFF(count), 0, 1e12, "messages per publisher, 0 = until --duration (default 0)" },
    { "duration", T_DBL, OFF(duration), 0, 86400, "seconds of publishing, 0 = until --count (default 5)" },
    { "rate", T_DBL, OFF(rate), 0, 1e9, "total messages/s over all publishers, 0 = as fast as possible" },
    { "inflight", T_U32, OFF(inflight), 1, 65534, "unacknowledged QoS 1/2 messages per publisher (default 20)" },
    { "window", T_U32, OFF(window), 0, 1e9, "messages per publisher sent but not yet received by every"
      " subscriber; 0 = open loop (default 1000)" },
    { "drain", T_DBL, OFF(drain), 0, 3600, "stop draining after this many seconds without a message (default 2)" },
    { "deadline", T_DBL, OFF(deadline), 0.1, 86400, "hard bound on the whole run in seconds; ends a drain as loss (default 60)" },
    { "conns", T_U32, OFF(conns), 1, 1000000, "connections (conn, idle) (default 1000)" },
    { "concurrency", T_U32, OFF(concurrency), 1, 100000, "handshakes in flight at once (default 100)" },
    { "hold", T_DBL, OFF(hold), 0, 86400, "idle: seconds to hold the connections (default 10)" },
    { "ready-file", T_STR, OFF(ready_file), 0, 0, "idle: file written once all connections are up" },
    { "keepalive", T_U32, OFF(keepalive), 0, 65535, "CONNECT keep alive in seconds; PINGREQ every half (default 60)" },
    { "clean-session", T_U32, OFF(clean_session), 0, 1, "pubsub: subscribers' CONNECT clean session flag;"
      " 0 = persistent session (use with --client-prefix) (default 1)" },
    { "client-prefix", T_STR, OFF(client_prefix), 0, 0, "pubsub: client ids PREFIX-p<i> and PREFIX-s<i>, the same"
      " in every run (default mb<PID>-p<i>, mb<PID>-s<i>)" },
    { "label", T_STR, OFF(label), 0, 0, "free text copied into the result (e.g. broker name)" },
    { "json", T_BOOL, OFF(json), 0, 0, "print the result as one JSON object instead of key=value" },
    { "tls", T_BOOL, OFF(tls), 0, 0, "TLS to the broker (--port is its TLS listener); no certificate check" },
    { "tls-resume", T_BOOL, OFF(tls_resume), 0, 0, "TLS, resuming the session of an earlier connection" },
    { "tls-max", T_STR, OFF(tls_max), 0, 0, "highest TLS version offered: 1.2 or 1.3 (default: OpenSSL's)" },
    { "no-progress", T_BOOL, OFF(no_progress), 0, 0, "no live progress line even on a terminal" },
};
#define N_OPTS (sizeof(opts) / sizeof(opts[0]))

static void usage(FILE *f)
{
    size_t i;

    fprintf(f, "usage: moat-bench [--flag value | --flag=value]...\n"
               "MQTT 3.1.1 load generator; one result line on stdout.\n\n");
    for (i = 0; i < N_OPTS; i++)
        fprintf(f, "  --%-14s %s\n", opts[i].name, opts[i].help);
    fprintf(f, "  --%-14s %s\n", "help", "this text");
}

static void defaults(struct bench_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->scenario = "pubsub";
    o->host = "127.0.0.1";
    o->port = 1883;
    o->pubs = o->subs = 1;
    o->topics = "pair";
    o->size = 64;
    o->duration = 5;
    o->inflight = 20;
    o->window = 1000;
    o->drain = 2;
    o->deadline = 60;
    o->conns = 1000;
    o->concurrency = 100;
    o->hold = 10;
    o->keepalive = 60;
    o->clean_session = 1;
}

/* Parses one value for opt into o. Returns 0 or -1 (message printed). */
static int set_opt(struct bench_opts *o, const struct opt *op, const char *val)
{
    char *end;
    double d;

    if (op->type == T_STR) {
        if (!val[0]) {
            fprintf(stderr, "moat-bench: --%s: empty value\n", op->name);
            return -1;
        }
        *(const char **)((char *)o + op->off) = val;
        return 0;
    }
    if (op->type == T_BOOL) {
        if (strcmp(val, "1") && strcmp(val, "true") && strcmp(val, "0") && strcmp(val, "false")) {
            fprintf(stderr, "moat-bench: --%s: expected true/false, got '%s'\n", op->name, val);
            return -1;
        }
        *(bool *)((char *)o + op->off) = !strcmp(val, "1") || !strcmp(val, "true");
        return 0;
    }
    errno = 0;
    d = strtod(val, &end);
    if (errno || end == val || *end || !isfinite(d)) {
        fprintf(stderr, "moat-bench: --%s: '%s' is not a number\n", op->name, val);
        return -1;
    }
    if (d < op->min || d > op->max || (op->type != T_DBL && d != floor(d))) {
        fprintf(stderr, "moat-bench: --%s: %s is out of range (%s %.10g..%.10g)\n", op->name, val,
                op->type == T_DBL ? "number" : "integer", op->min, op->max);
        return -1;
    }
    if (op->type == T_U32)
        *(uint32_t *)((char *)o + op->off) = (uint32_t)d;
    else if (op->type == T_U64)
        *(uint64_t *)((char *)o + op->off) = (uint64_t)d;
    else
        *(double *)((char *)o + op->off) = d;
    return 0;
}

/* Returns 0, 1 for --help, or -1 (message printed). */
static int parse_args(struct bench_opts *o, int argc, char **argv)
{
    int i;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *val = NULL, *eq;
        const struct opt *op = NULL;
        size_t nl, k;

        if (!strcmp(a, "--help") || !strcmp(a, "-h"))
            return 1;
        if (strncmp(a, "--", 2) != 0) {
            fprintf(stderr, "moat-bench: unexpected argument '%s' (flags start with --)\n", a);
            return -1;
        }
        a += 2;
        eq = strchr(a, '=');
        nl = eq ? (size_t)(eq - a) : strlen(a);
        for (k = 0; k < N_OPTS; k++)
            if (strlen(opts[k].name) == nl && !strncmp(opts[k].name, a, nl))
                op = &opts[k];
        if (!op) {
            fprintf(stderr, "moat-bench: unknown flag --%.*s (see --help)\n", (int)nl, a);
            return -1;
        }
        if (eq)
            val = eq + 1;
        else if (op->type == T_BOOL)
            val = "true";
        else if (i + 1 < argc)
            val = argv[++i];
        else {
            fprintf(stderr, "moat-bench: --%s needs a value\n", op->name);
            return -1;
        }
        if (set_opt(o, op, val) < 0)
            return -1;
    }
    return 0;
}

/* Cross-flag rules; each message names the flags involved. */
static int validate(const struct bench_opts *o, struct sockaddr_in *addr)
{
    const char *s = o->scenario;

    if (strcmp(s, "pubsub") && strcmp(s, "conn") && strcmp(s, "idle") && strcmp(s, "sink")) {
        fprintf(stderr, "moat-bench: --scenario: '%s' is not pubsub, conn, idle or sink\n", s);
        return -1;
    }
    if (strcmp(o->topics, "pair") && strcmp(o->topics, "shared")) {
        fprintf(stderr, "moat-bench: --topics: '%s' is not pair or shared\n", o->topics);
        return -1;
    }
    if (!strcmp(s, "pubsub") && !strcmp(o->topics, "pair") && o->pubs != o->subs) {
        fprintf(stderr, "moat-bench: --topics pair needs --pubs == --subs (got %" PRIu32 " and %" PRIu32
                "); use --topics shared for fan-out\n", o->pubs, o->subs);
        return -1;
    }
    if (!strcmp(s, "pubsub") && (uint64_t)o->pubs * o->subs > 4000000) {
        fprintf(stderr, "moat-bench: --pubs x --subs = %" PRIu64 " streams exceeds 4,000,000\n",
                (uint64_t)o->pubs * o->subs);
        return -1;
    }
    if (strlen(o->topic_prefix) > 100) {
        fprintf(stderr, "moat-bench: --topic-prefix: longer than 100 bytes\n");
        return -1;
    }
    if ((!strcmp(s, "pubsub") || !strcmp(s, "sink")) && o->count == 0 && o->duration == 0) {
        fprintf(stderr, "moat-bench: --count 0 and --duration 0: the run would be unbounded\n");
        return -1;
    }
    if (o->client_prefix && strlen(o->client_prefix) > 100) {
        fprintf(stderr, "moat-bench: --client-prefix: longer than 100 bytes\n");
        return -1;
    }
    if (o->tls_max && strcmp(o->tls_max, "1.2") && strcmp(o->tls_max, "1.3")) {
        fprintf(stderr, "moat-bench: --tls-max: '%s' is not 1.2 or 1.3\n", o->tls_max);
        return -1;
    }
    if ((o->tls || o->tls_resume) && !strcmp(s, "sink")) {
        fprintf(stderr, "moat-bench: --tls: not available with --scenario sink\n");
        return -1;
    }
    memset(addr, 0, sizeof(*addr));
    addr->sin_family = AF_INET;
    addr->sin_port = htons((uint16_t)o->port);
    if (inet_pton(AF_INET, o->host, &addr->sin_addr) != 1) {
        fprintf(stderr, "moat-bench: --host: '%s' is not an IPv4 address\n", o->host);
        return -1;
    }
    return 0;
}

/* Connections need one descriptor each: raise the soft limit to the hard. */
static void raise_nofile(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int main(int argc, char **argv)
{
    struct bench_opts o;
    struct bench_ctx bc;
    struct bench_report rep;
    char broker[80], prefix[32];
    struct timespec now;
    int rc;

    defaults(&o);
    rc = parse_args(&o, argc, argv);
    if (rc == 1) {
        usage(stdout);
        return 0;
    }
    memset(&bc, 0, sizeof(bc));
    if (!o.topic_prefix) {
        /* Per process, so a broker still delivering an earlier run's
         * backlog does not feed this run. */
        snprintf(prefix, sizeof(prefix), "bench/%ld", (long)getpid());
        o.topic_prefix = prefix;
    }
    if (rc < 0 || validate(&o, &bc.addr) < 0)
        return 2;
    o.progress = !o.no_progress && isatty(STDERR_FILENO);
    if (o.tls_resume)
        o.tls = true;
    if (o.tls) {
        char err[200];

        bc.tls = btls_new(o.tls_resume, o.tls_max, err, sizeof(err));
        if (!bc.tls) {
            fprintf(stderr, "moat-bench: --tls: %s\n", err);
            return 1;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    raise_nofile();
    bc.o = &o;
    clock_gettime(CLOCK_REALTIME, &now);
    bc.run_id = (uint32_t)now.tv_nsec ^ (uint32_t)now.tv_sec ^ ((uint32_t)getpid() << 16);
    bc.t_start_ns = bench_now_ns();
    bc.t_deadline_ns = bc.t_start_ns + (uint64_t)(o.deadline * 1e9);
    memset(&rep, 0, sizeof(rep));
    if (o.label)
        report_str(&rep, "label", o.label);
    if (strcmp(o.scenario, "sink")) {
        snprintf(broker, sizeof(broker), "%s:%" PRIu32, o.host, o.port);
        report_str(&rep, "broker", broker);
    }
    if (!strcmp(o.scenario, "pubsub"))
        rc = bench_pubsub(&bc, &rep);
    else if (!strcmp(o.scenario, "conn"))
        rc = bench_connrate(&bc, &rep);
    else if (!strcmp(o.scenario, "idle"))
        rc = bench_idle(&bc, &rep);
    else
        rc = bench_sink(&bc, &rep);
    {
        /* The generator's own CPU: near 1 core per thread means the result
         * may be bounded by moat-bench rather than by the broker. */
        struct rusage ru;
        double el = (double)(bench_now_ns() - bc.t_start_ns) / 1e9, cpu = 0;

        if (getrusage(RUSAGE_SELF, &ru) == 0)
            cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
                  (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
        report_dbl(&rep, "elapsed_s", el);
        report_dbl(&rep, "client_cpu_s", cpu);
        report_dbl(&rep, "client_cpu_util", el > 0 ? cpu / el : 0);
    }
    report_str(&rep, "status", rc == 0 ? "ok" : "error");
    if (rc != 0)
        report_str(&rep, "error", bc.err);
    if (o.json)
        report_print_json(&rep, stdout);
    else
        report_print_kv(&rep, stdout);
    fflush(stdout);
    btls_free(bc.tls);
    if (rc != 0) {
        fprintf(stderr, "moat-bench: %s\n", bc.err);
        return 1;
    }
    return 0;
}
