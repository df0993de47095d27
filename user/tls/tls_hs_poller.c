/* Handshakes waiting for their socket. One thread per TLS listener holds
 * them in an epoll set (one-shot registrations), hands a ready one to the
 * worker pool for its next SSL_accept step, and refuses those past their
 * deadline. Workers never wait on a socket, so silent or slow clients cost
 * a list entry each (bounded by TLS_HANDSHAKES_MAX), not a thread.
 *
 * Ownership: a WAITING handshake belongs to the poller (only it may
 * expire or dispatch it); a RUNNING one to the worker running its step.
 * Transitions happen under tl->hs_lock, and re-arming the epoll entry is
 * done under it too, so an event cannot race the expiry. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "core/workers.h"
#include "tls/tls_internal.h"
#include "util/log.h"

#define POLL_TICK_MS 100    /* deadline resolution, and how soon stop is seen */
#define POLL_BATCH   64

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void unlink_hs(struct tls_listener *tl, struct tls_hs *hs)
{
    if (hs->prev)
        hs->prev->next = hs->next;
    else
        tl->hs_list = hs->next;
    if (hs->next)
        hs->next->prev = hs->prev;
    hs->prev = hs->next = NULL;
    tl->n_hs--;
}

/* Moves every WAITING handshake that expired (or all, when stopping) to
 * *out, out of the list and the epoll set. Caller holds hs_lock. */
static void collect_expired(struct tls_listener *tl, uint64_t now, bool all, struct tls_hs **out)
{
    struct tls_hs *hs = tl->hs_list, *next;
    for (; hs; hs = next) {
        next = hs->next;
        if (hs->state != HS_WAITING || (!all && now < hs->deadline_ms))
            continue;
        epoll_ctl(tl->hs_epfd, EPOLL_CTL_DEL, hs->fd, NULL);
        unlink_hs(tl, hs);
        hs->next = *out;
        *out = hs;
    }
}

static void *poller_main(void *arg)
{
    struct tls_listener *tl = arg;
    struct epoll_event ev[POLL_BATCH];
    for (;;) {
        bool stopping = atomic_load(&tl->stopping);
        int n = stopping ? 0 : epoll_wait(tl->hs_epfd, ev, POLL_BATCH, POLL_TICK_MS);
        for (int i = 0; i < n; i++) {
            struct tls_hs *hs = ev[i].data.ptr;
            pthread_mutex_lock(&tl->hs_lock);
            bool mine = hs->state == HS_WAITING;
            if (mine)
                hs->state = HS_RUNNING;
            pthread_mutex_unlock(&tl->hs_lock);
            if (mine && workers_submit(tl->workers, tls_handshake_job, hs) < 0) {
                tls_hs_forget(tl, hs);
                atomic_fetch_add(&tl->st.refused_busy, 1);
                tls_hs_fail(hs, "handshake workers busy", true);
            }
        }
        struct tls_hs *dead = NULL;
        uint64_t now = mono_ms();
        pthread_mutex_lock(&tl->hs_lock);
        collect_expired(tl, now, stopping, &dead);
        bool drained = stopping && !tl->hs_list;
        pthread_mutex_unlock(&tl->hs_lock);
        while (dead) {
            struct tls_hs *hs = dead;
            dead = hs->next;
            char why[64];
            if (stopping) {
                tls_hs_fail(hs, NULL, false);
            } else {
                snprintf(why, sizeof why, "handshake timeout (%d ms)", tl->handshake_timeout_ms);
                atomic_fetch_add(&tl->st.timeouts, 1);
                tls_hs_fail(hs, why, true);
            }
        }
        if (stopping) {
            if (drained)
                return NULL;
            /* RUNNING steps finish on their own (they see stopping and
             * forget themselves); wait for them briefly. */
            struct timespec ts = { .tv_nsec = 10 * 1000 * 1000 };
            nanosleep(&ts, NULL);
        }
    }
}

int tls_hs_poller_start(struct tls_listener *tl, char *err, size_t errlen)
{
    const struct listener_conf *lc = tl->lc;
    pthread_mutex_init(&tl->hs_lock, NULL);
    tl->max_hs = TLS_HANDSHAKES_MAX;
    tl->hs_epfd = epoll_create1(EPOLL_CLOEXEC);
    if (tl->hs_epfd < 0 || pthread_create(&tl->poller, NULL, poller_main, tl) != 0) {
        snprintf(err, errlen, "%s:%d: listener %u: handshake poller: %s",
                 lc->file ? lc->file : "?", lc->line, lc->port, strerror(errno));
        if (tl->hs_epfd >= 0)
            close(tl->hs_epfd);
        tl->hs_epfd = -1;
        return -1;
    }
    tl->poller_running = true;
    return 0;
}

void tls_hs_poller_stop(struct tls_listener *tl)
{
    if (!tl->poller_running)
        return;
    atomic_store(&tl->stopping, true);
    pthread_join(tl->poller, NULL);
    tl->poller_running = false;
    close(tl->hs_epfd);
    tl->hs_epfd = -1;
    pthread_mutex_destroy(&tl->hs_lock);
}

int tls_hs_start(struct tls_listener *tl, struct tls_hs *hs)
{
    hs->deadline_ms = mono_ms() + (uint64_t)tl->handshake_timeout_ms;
    hs->state = HS_WAITING;
    struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT, .data.ptr = hs };
    pthread_mutex_lock(&tl->hs_lock);
    if (tl->n_hs >= tl->max_hs || atomic_load(&tl->stopping)) {
        pthread_mutex_unlock(&tl->hs_lock);
        return -1;
    }
    hs->next = tl->hs_list;
    if (hs->next)
        hs->next->prev = hs;
    tl->hs_list = hs;
    tl->n_hs++;
    /* Under the lock: once armed, the poller may dispatch it at once. */
    int r = epoll_ctl(tl->hs_epfd, EPOLL_CTL_ADD, hs->fd, &ev);
    if (r < 0)
        unlink_hs(tl, hs);
    pthread_mutex_unlock(&tl->hs_lock);
    return r;
}

void tls_hs_wait(struct tls_listener *tl, struct tls_hs *hs, bool want_write)
{
    struct epoll_event ev = { .events = (want_write ? EPOLLOUT : EPOLLIN) | EPOLLONESHOT,
                              .data.ptr = hs };
    pthread_mutex_lock(&tl->hs_lock);
    hs->state = HS_WAITING;
    int r = epoll_ctl(tl->hs_epfd, EPOLL_CTL_MOD, hs->fd, &ev);
    if (r < 0) {
        epoll_ctl(tl->hs_epfd, EPOLL_CTL_DEL, hs->fd, NULL);
        unlink_hs(tl, hs);
    }
    pthread_mutex_unlock(&tl->hs_lock);
    if (r < 0) {
        char why[96];
        snprintf(why, sizeof why, "epoll: %s", strerror(errno));
        tls_hs_fail(hs, why, true);
    }
}

void tls_hs_forget(struct tls_listener *tl, struct tls_hs *hs)
{
    pthread_mutex_lock(&tl->hs_lock);
    epoll_ctl(tl->hs_epfd, EPOLL_CTL_DEL, hs->fd, NULL);
    unlink_hs(tl, hs);
    pthread_mutex_unlock(&tl->hs_lock);
}
