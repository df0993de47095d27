/* moat-bench: options, run context and the pieces every scenario shares.
 * One run = one scenario against one broker, bounded by a hard deadline. */
#ifndef MOAT_BENCH_H
#define MOAT_BENCH_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bench_report;
struct bench_tls;

/* Everything the command line sets. Defaults live in moat-bench.c. */
struct bench_opts {
    const char *scenario;     /* pubsub | conn | idle | sink */
    const char *host;
    uint32_t port;
    uint32_t pubs, subs;
    const char *topics;       /* "pair" (topic per publisher/subscriber pair) or "shared" (fan-out) */
    const char *topic_prefix;
    uint32_t qos;
    uint32_t size;            /* payload bytes, >= BENCH_PAYLOAD_HDR */
    uint64_t count;           /* messages per publisher; 0: until --duration */
    double duration;          /* seconds of publishing */
    double rate;              /* total messages/s over all publishers; 0: unlimited */
    uint32_t inflight;        /* unacknowledged QoS 1/2 messages per publisher */
    uint32_t window;          /* messages per publisher sent but not yet received by
                                 every subscriber; 0: open loop */
    double drain;             /* seconds to wait for stragglers after the last publish */
    double deadline;          /* hard bound on the whole run, seconds */
    uint32_t conns;           /* conn/idle: number of connections */
    uint32_t concurrency;     /* connection attempts in flight at once */
    double hold;              /* idle: seconds to hold the connections */
    const char *ready_file;   /* idle: written once every connection is up */
    uint32_t keepalive;
    uint32_t clean_session;   /* pubsub subscribers: CONNECT clean session flag (0 or 1; publishers always 1) */
    const char *client_prefix;/* client ids PREFIX-p<i> / PREFIX-s<i>, stable across runs; NULL: mb<PID>-... */
    const char *label;        /* free text copied into the result */
    bool json;
    bool tls;                 /* TLS to the broker (its TLS listener's --port) */
    bool tls_resume;          /* implies tls: resume sessions of earlier connections */
    const char *tls_max;      /* NULL, "1.2" or "1.3": highest TLS version offered */
    bool progress;            /* live line on stderr (set when stderr is a terminal) */
    bool no_progress;
};

/* Payload header every published message starts with (network order):
 * magic, run id, publisher index, reserved (0), sequence number, send time
 * (CLOCK_MONOTONIC ns). Subscribers run in the same process, so the clocks
 * agree; the run id tells this run's messages from a previous run's that a
 * broker may still be delivering. */
#define BENCH_MAGIC 0x4d42454eu     /* "MBEN" */
#define BENCH_PAYLOAD_HDR 32u

struct bench_ctx {
    const struct bench_opts *o;
    struct sockaddr_in addr;
    uint32_t run_id;          /* random per process, in every payload */
    struct bench_tls *tls;    /* NULL: plain TCP (see tls.h) */
    uint64_t t_start_ns;
    uint64_t t_deadline_ns;
    uint64_t t_progress_ns;   /* next progress-line update */
    char err[256];            /* first fatal error, "" if none */
};

uint64_t bench_now_ns(void);
/* Records the first fatal error (later ones are dropped) and returns -1. */
int  bench_fail(struct bench_ctx *bc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool bench_past_deadline(struct bench_ctx *bc);
/* Prints fmt as the live progress line when enabled and due (5 Hz). */
void bench_progress(struct bench_ctx *bc, bool force, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void bench_progress_clear(struct bench_ctx *bc);

/* Scenarios. Each fills rep and returns 0, or -1 with bc->err set. */
int bench_pubsub(struct bench_ctx *bc, struct bench_report *rep);
int bench_connrate(struct bench_ctx *bc, struct bench_report *rep);
int bench_idle(struct bench_ctx *bc, struct bench_report *rep);
int bench_sink(struct bench_ctx *bc, struct bench_report *rep);

#endif
