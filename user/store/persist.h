/* The broker side of persistence: mirrors retained messages and the state
 * of clean-session-0 sessions into the store (store.h), and restores them
 * at start. Every function is a no-op when persistence is off (e->store
 * NULL) or the session is clean; the engine calls them where the state
 * changes (session.c, deliver.c, handle_*.c) and commits in before_sleep.
 *
 * Entries: the in-flight window followed by the queue of a session form
 * one ordered list (in-flight messages always precede queued ones, and a
 * queued message enters the window from the head of the queue without
 * changing its position). idx below is a position in that list. */
#ifndef MOAT_STORE_PERSIST_H
#define MOAT_STORE_PERSIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct engine;
struct session;
struct msg;

#define PERSIST_QUEUED 0xff   /* entry state: in the queue, not in flight */

/* With cfg->persistence: opens the store and restores sessions (offline,
 * subscriptions in the tree, window and queue) and retained messages.
 * 0, or -1 with the reason in err (moatd must not start). */
int  persist_open(struct engine *e, char *err, size_t errlen);
/* Commits what is pending (errors logged) and closes the store. */
void persist_close(struct engine *e);
/* Commits the iteration's changes; call before writing any output. -1:
 * the commit failed (logged); nothing of this iteration may be sent. */
int  persist_commit(struct engine *e);
/* True while changes are uncommitted (output must wait for the commit). */
bool persist_pending(const struct engine *e);

/* One unit of work (an incoming packet). end returns -1 when a write
 * failed (map full, I/O): the unit's writes are discarded, the failure is
 * counted and logged, and the caller must not acknowledge the packet. */
void persist_unit_begin(struct engine *e);
int  persist_unit_end(struct engine *e);

/* The session record (client id, subscriptions): after create/subscribe/unsubscribe. */
void persist_session_save(struct engine *e, struct session *s);
/* Everything of s (record, entries, rx2), from session_destroy. */
void persist_session_drop(struct engine *e, struct session *s);
/* Appends an entry (state: PERSIST_QUEUED or an enum inflight_state). */
void persist_append(struct engine *e, struct session *s, struct msg *m, uint8_t qos,
                    bool retain, uint8_t state, uint16_t pid);
/* Entry idx moved into the window or past PUBREC (its body is released). */
void persist_update(struct engine *e, struct session *s, uint32_t idx, uint8_t state, uint16_t pid);
void persist_remove(struct engine *e, struct session *s, uint32_t idx);
/* Incoming QoS 2 packet id recorded (add) or released by PUBREL. */
void persist_rx2(struct engine *e, struct session *s, uint16_t pid, bool add);
/* Retained message of m's topic: set, or cleared by an empty payload. */
void persist_retain(struct engine *e, const struct msg *m);

#endif
