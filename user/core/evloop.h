/* The event loop: epoll (level-triggered) plus a min-heap of timers and a
 * before-sleep hook where the engine flushes batched output once per
 * iteration. Single-threaded; one loop per engine, no globals. */
#ifndef MOAT_EVLOOP_H
#define MOAT_EVLOOP_H

#include <stdbool.h>
#include <stdint.h>

struct evloop;

/* A registered file descriptor. The struct is owned by the caller (usually
 * embedded in a connection) and must stay valid until ev_del(). */
struct ev_handler {
    int   fd;
    void (*fn)(struct evloop *el, struct ev_handler *h, uint32_t events);
    void *arg;
    uint32_t events;   /* currently registered EPOLL* mask */
};

/* A timer; caller-owned, embedded where it is needed. idx is the heap slot
 * (0 = not armed). */
struct ev_timer {
    uint64_t when_ms;  /* CLOCK_MONOTONIC milliseconds */
    uint32_t idx;
    void   (*fn)(struct evloop *el, struct ev_timer *t);
    void    *arg;
};

struct evloop *ev_new(void);
void ev_free(struct evloop *el);

int  ev_add(struct evloop *el, struct ev_handler *h, uint32_t events);
int  ev_mod(struct evloop *el, struct ev_handler *h, uint32_t events);
void ev_del(struct evloop *el, struct ev_handler *h);

/* Arms (or re-arms) t to fire at when_ms; returns -1 on out of memory. */
int  ev_timer_arm(struct evloop *el, struct ev_timer *t, uint64_t when_ms);
void ev_timer_cancel(struct evloop *el, struct ev_timer *t);
static inline bool ev_timer_armed(const struct ev_timer *t) { return t->idx != 0; }

/* Monotonic time in ms, cached at the start of each iteration. */
uint64_t ev_now_ms(const struct evloop *el);
uint64_t ev_clock_ms(void);   /* uncached */
/* Sets the cached time: for tests that drive time-dependent code (windows,
 * expiry) without sleeping. The next loop iteration overwrites it. */
void ev_set_now_ms(struct evloop *el, uint64_t ms);

/* fn runs after every batch of events, before the loop sleeps again. */
void ev_set_before_sleep(struct evloop *el, void (*fn)(struct evloop *, void *), void *arg);

/* Runs until ev_stop(). Returns 0, or -1 if epoll_wait fails. */
int  ev_run(struct evloop *el);
void ev_stop(struct evloop *el);

#endif
