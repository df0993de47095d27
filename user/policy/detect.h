/* Abnormal-behaviour detection: counts events per source, per username
 * and per client id in sliding windows, and when a rule's threshold is
 * reached takes its action (log, disconnect, block the source with an
 * escalating TTL, block the client id or the username). Every decision is
 * one log line "detect: ...". Allowlisted sources are only logged. */
#ifndef MOAT_POLICY_DETECT_H
#define MOAT_POLICY_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/detect_rules.h"

struct engine;
struct conn;
struct peer_addr;
struct detector;
struct det_topics;

struct detector *detector_new(uint64_t seed, size_t max_subjects);
void detector_free(struct detector *d);

/* One event of kind. c may be NULL (then peer must be set); name is the
 * username for DET_AUTH_FAILURE_USER, else ignored (the client id and
 * username come from c's session when there is one). */
void detect_event(struct engine *e, int kind, struct conn *c, const struct peer_addr *peer,
                  const char *name, size_t len);

/* A topic published or a filter subscribed by c (DET_TOPIC_SCAN): counts
 * distinct topics per client per window, in state the session owns. */
void detect_topic(struct engine *e, struct conn *c, const uint8_t *topic, size_t len);
void det_topics_free(struct det_topics *t);

/* The most recent decisions, oldest first, for `moatctl events`. */
struct det_decision {
    uint64_t wall_ms;          /* CLOCK_REALTIME */
    uint8_t  kind, action;
    bool     allowlisted;
    uint32_t ttl_s;
    uint16_t offence;
    char     source[64];
    char     client_id[64];
    char     username[64];
};
#define DET_DECISIONS_KEPT 256
size_t detector_decisions(const struct detector *d, const struct det_decision **first,
                          const struct det_decision **wrap, size_t *n_first);
/* Decisions taken so far per kind. */
uint64_t detector_count(const struct detector *d, int kind);

/* Forgets subjects idle for longer than every rule's window. */
size_t detector_gc(struct detector *d, uint64_t now_ms);
size_t detector_subjects(const struct detector *d);

#endif
