/* A small pool of worker threads for work that must not run on the engine
 * thread: TLS handshakes, password hashing. Jobs run in FIFO order; a job
 * posts its result back with engine_post(). */
#ifndef MOAT_WORKERS_H
#define MOAT_WORKERS_H

#include <stddef.h>

struct workers;

/* n threads (0: one per online CPU). max_queued bounds the backlog (0:
 * 4096). NULL on failure. */
struct workers *workers_new(unsigned n, size_t max_queued);
/* Queues fn(arg). Returns 0, or -1 if the backlog is full or the pool is
 * stopping (the caller still owns arg). Thread-safe. */
int  workers_submit(struct workers *w, void (*fn)(void *arg), void *arg);
size_t workers_backlog(struct workers *w);
/* Stops accepting, runs what is queued, joins the threads, frees. */
void workers_free(struct workers *w);

#endif
