#include "core/evloop.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"

#define EV_BATCH 256

struct evloop {
    int epfd;
    bool stop;
    uint64_t now_ms;
    /* timer heap, 1-based: heap[1] is the earliest */
    struct ev_timer **heap;
    uint32_t n, cap;
    void (*before_sleep)(struct evloop *, void *);
    void *before_arg;
};

uint64_t ev_clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t ev_now_ms(const struct evloop *el) { return el->now_ms; }

void ev_set_now_ms(struct evloop *el, uint64_t ms) { el->now_ms = ms; }

struct evloop *ev_new(void)
{
    struct evloop *el = calloc(1, sizeof *el);
    if (!el)
        return NULL;
    el->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (el->epfd < 0) {
        free(el);
        return NULL;
    }
    el->now_ms = ev_clock_ms();
    return el;
}

void ev_free(struct evloop *el)
{
    if (!el)
        return;
    close(el->epfd);
    free(el->heap);
    free(el);
}

static int ctl(struct evloop *el, int op, struct ev_handler *h, uint32_t events)
{
    struct epoll_event ev = { .events = events, .data.ptr = h };
    if (epoll_ctl(el->epfd, op, h->fd, &ev) < 0)
        return -1;
    h->events = events;
    return 0;
}

int ev_add(struct evloop *el, struct ev_handler *h, uint32_t events)
{
    return ctl(el, EPOLL_CTL_ADD, h, events);
}

int ev_mod(struct evloop *el, struct ev_handler *h, uint32_t events)
{
    if (h->events == events)
        return 0;
    return ctl(el, EPOLL_CTL_MOD, h, events);
}

void ev_del(struct evloop *el, struct ev_handler *h)
{
    if (h->fd >= 0)
        epoll_ctl(el->epfd, EPOLL_CTL_DEL, h->fd, NULL);
    h->events = 0;
}

/* ---- timer heap ---- */

static void heap_set(struct evloop *el, uint32_t i, struct ev_timer *t)
{
    el->heap[i] = t;
    t->idx = i;
}

static void sift_up(struct evloop *el, uint32_t i)
{
    struct ev_timer *t = el->heap[i];
    while (i > 1 && el->heap[i / 2]->when_ms > t->when_ms) {
        heap_set(el, i, el->heap[i / 2]);
        i /= 2;
    }
    heap_set(el, i, t);
}

static void sift_down(struct evloop *el, uint32_t i)
{
    struct ev_timer *t = el->heap[i];
    for (;;) {
        uint32_t c = i * 2;
        if (c > el->n)
            break;
        if (c + 1 <= el->n && el->heap[c + 1]->when_ms < el->heap[c]->when_ms)
            c++;
        if (el->heap[c]->when_ms >= t->when_ms)
            break;
        heap_set(el, i, el->heap[c]);
        i = c;
    }
    heap_set(el, i, t);
}

void ev_timer_cancel(struct evloop *el, struct ev_timer *t)
{
    uint32_t i = t->idx;
    if (!i)
        return;
    t->idx = 0;
    struct ev_timer *last = el->heap[el->n--];
    if (i <= el->n) {
        heap_set(el, i, last);
        sift_down(el, i);
        sift_up(el, last->idx);
    }
}

int ev_timer_arm(struct evloop *el, struct ev_timer *t, uint64_t when_ms)
{
    if (t->idx) {
        uint64_t old = t->when_ms;
        t->when_ms = when_ms;
        if (when_ms < old)
            sift_up(el, t->idx);
        else
            sift_down(el, t->idx);
        return 0;
    }
    if (el->n + 1 >= el->cap) {
        uint32_t ncap = el->cap ? el->cap * 2 : 64;
        struct ev_timer **nh = realloc(el->heap, ncap * sizeof *nh);
        if (!nh)
            return -1;
        el->heap = nh;
        el->cap = ncap;
    }
    t->when_ms = when_ms;
    el->n++;
    heap_set(el, el->n, t);
    sift_up(el, el->n);
    return 0;
}

static void run_timers(struct evloop *el)
{
    /* Bounded: a timer re-armed for "now" runs again next iteration. */
    uint32_t budget = el->n;
    while (budget-- && el->n && el->heap[1]->when_ms <= el->now_ms) {
        struct ev_timer *t = el->heap[1];
        ev_timer_cancel(el, t);
        t->fn(el, t);
    }
}

void ev_set_before_sleep(struct evloop *el, void (*fn)(struct evloop *, void *), void *arg)
{
    el->before_sleep = fn;
    el->before_arg = arg;
}

void ev_stop(struct evloop *el) { el->stop = true; }

int ev_run(struct evloop *el)
{
    struct epoll_event evs[EV_BATCH];
    el->stop = false;
    while (!el->stop) {
        if (el->before_sleep)
            el->before_sleep(el, el->before_arg);
        int timeout = -1;
        if (el->n) {
            uint64_t now = ev_clock_ms(), w = el->heap[1]->when_ms;
            timeout = w <= now ? 0 : (int)(w - now > 60000 ? 60000 : w - now);
        }
        int n = epoll_wait(el->epfd, evs, EV_BATCH, timeout);
        if (n < 0) {
            if (errno == EINTR)
                n = 0;
            else {
                log_err("epoll_wait: %m");
                return -1;
            }
        }
        el->now_ms = ev_clock_ms();
        for (int i = 0; i < n; i++) {
            struct ev_handler *h = evs[i].data.ptr;
            h->fn(el, h, evs[i].events);
        }
        run_timers(el);
    }
    return 0;
}
