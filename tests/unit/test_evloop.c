/* Event loop timers: ordering, cancel, re-arm, and the loop itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "core/evloop.h"

static int order[64], n_order;

static void record(struct evloop *el, struct ev_timer *t)
{
    order[n_order++] = (int)(intptr_t)t->arg;
}

static void stop(struct evloop *el, struct ev_timer *t) { ev_stop(el); }

static void test_timers_fire_in_deadline_order(void **st)
{
    struct evloop *el = ev_new();
    struct ev_timer t[20] = { 0 };
    uint64_t now = ev_clock_ms();
    int when[20];
    for (int i = 0; i < 20; i++) {
        when[i] = (i * 37) % 20;      /* a permutation of 0..19 */
        t[i].fn = record;
        t[i].arg = (void *)(intptr_t)when[i];
        ev_timer_arm(el, &t[i], now + 1 + (uint64_t)when[i]);
    }
    ev_timer_cancel(el, &t[5]);        /* cancelled timers never fire */
    assert_false(ev_timer_armed(&t[5]));
    ev_timer_arm(el, &t[7], now + 100); /* re-arm later */
    struct ev_timer end = { .fn = stop };
    ev_timer_arm(el, &end, now + 150);
    n_order = 0;
    assert_int_equal(ev_run(el), 0);
    assert_int_equal(n_order, 19);
    for (int i = 1; i < n_order - 1; i++)
        assert_true(order[i - 1] <= order[i]);
    assert_int_equal(order[n_order - 1], when[7]);
    ev_free(el);
}

static int reads;
static void on_read(struct evloop *el, struct ev_handler *h, uint32_t ev)
{
    char b[8];
    reads += (int)read(h->fd, b, sizeof b);
    ev_stop(el);
}

static void test_fd_events_dispatch(void **st)
{
    struct evloop *el = ev_new();
    int p[2];
    assert_int_equal(pipe(p), 0);
    struct ev_handler h = { .fd = p[0], .fn = on_read };
    assert_int_equal(ev_add(el, &h, EPOLLIN), 0);
    assert_int_equal(write(p[1], "abc", 3), 3);
    reads = 0;
    ev_run(el);
    assert_int_equal(reads, 3);
    ev_del(el, &h);
    close(p[0]);
    close(p[1]);
    ev_free(el);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timers_fire_in_deadline_order),
        cmocka_unit_test(test_fd_events_dispatch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
