#include "core/workers.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

struct job {
    void (*fn)(void *);
    void *arg;
    struct job *next;
};

struct workers {
    pthread_mutex_t lock;
    pthread_cond_t  cv;
    struct job     *head, *tail;
    size_t          queued, max_queued;
    bool            stopping;
    unsigned        n;
    pthread_t       th[];
};

static void *worker_main(void *p)
{
    struct workers *w = p;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (!w->head && !w->stopping)
            pthread_cond_wait(&w->cv, &w->lock);
        struct job *j = w->head;
        if (!j)
            break;               /* stopping and drained */
        w->head = j->next;
        if (!w->head)
            w->tail = NULL;
        w->queued--;
        pthread_mutex_unlock(&w->lock);
        j->fn(j->arg);
        free(j);
        pthread_mutex_lock(&w->lock);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

struct workers *workers_new(unsigned n, size_t max_queued)
{
    if (!n) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        n = c > 0 ? (unsigned)c : 1;
    }
    struct workers *w = calloc(1, sizeof *w + n * sizeof(pthread_t));
    if (!w)
        return NULL;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cv, NULL);
    w->max_queued = max_queued ? max_queued : 4096;
    /* Signals belong to the engine thread (signalfd): workers must never
     * take SIGHUP/SIGTERM, whenever they are created. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    for (unsigned i = 0; i < n; i++) {
        if (pthread_create(&w->th[i], NULL, worker_main, w) != 0) {
            w->n = i;
            pthread_sigmask(SIG_SETMASK, &old, NULL);
            workers_free(w);
            return NULL;
        }
        w->n = i + 1;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return w;
}

int workers_submit(struct workers *w, void (*fn)(void *arg), void *arg)
{
    struct job *j = malloc(sizeof *j);
    if (!j)
        return -1;
    *j = (struct job){ .fn = fn, .arg = arg };
    pthread_mutex_lock(&w->lock);
    if (w->stopping || w->queued >= w->max_queued) {
        pthread_mutex_unlock(&w->lock);
        free(j);
        return -1;
    }
    if (w->tail)
        w->tail->next = j;
    else
        w->head = j;
    w->tail = j;
    w->queued++;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->lock);
    return 0;
}

size_t workers_backlog(struct workers *w)
{
    pthread_mutex_lock(&w->lock);
    size_t n = w->queued;
    pthread_mutex_unlock(&w->lock);
    return n;
}

void workers_free(struct workers *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stopping = true;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->lock);
    for (unsigned i = 0; i < w->n; i++)
        pthread_join(w->th[i], NULL);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->lock);
    free(w);
}
