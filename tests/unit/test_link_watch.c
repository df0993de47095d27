/* user/xdp/link_watch.c against the kernel: the test moves itself into a
 * fresh network namespace (unshare), so the veth it creates and deletes
 * never touches the host's links and vanishes with the process. Skips only
 * if a network namespace cannot be created (not root / no CAP_NET_ADMIN). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xdp/link_watch.h"

static int in_netns = 0;

struct log { int n; struct { char name[16]; int ifindex; enum link_event_kind k; bool up; } e[16]; };

static void on_ev(const struct link_event *ev, void *arg)
{
    struct log *l = arg;
    if (l->n < 16) {
        snprintf(l->e[l->n].name, sizeof(l->e[0].name), "%s", ev->ifname);
        l->e[l->n].ifindex = ev->ifindex;
        l->e[l->n].k = ev->kind;
        l->e[l->n].up = ev->up;
    }
    l->n++;
}

/* Polls up to 2 s until at least `want` events arrived. */
static void drain(struct link_watch *w, struct log *l, int want)
{
    char err[256];
    for (int i = 0; i < 20 && l->n < want; i++) {
        struct pollfd p = { .fd = link_watch_fd(w), .events = POLLIN };
        poll(&p, 1, 100);
        if (link_watch_poll(w, on_ev, l, err, sizeof(err)) < 0)
            fail_msg("poll: %s", err);
    }
    /* and nothing more than that right after */
    if (link_watch_poll(w, on_ev, l, err, sizeof(err)) < 0)
        fail_msg("poll: %s", err);
}

static void sh(const char *cmd)
{
    char full[256];
    snprintf(full, sizeof(full), "%s >/dev/null 2>&1", cmd);
    if (system(full) != 0)
        fail_msg("'%s' failed", cmd);
}

static void test_veth_new_up_down_gone(void **state)
{
    if (!in_netns) {
        skip();
        return;
    }
    char err[256];
    struct link_watch *w = link_watch_open(err, sizeof(err));
    if (!w)
        fail_msg("open: %s", err);
    int idx = -1;
    bool up = true;
    assert_int_equal(link_watch_add(w, "mw0", &idx, &up, err, sizeof(err)), 0);
    assert_int_equal(idx, 0);                    /* does not exist yet */
    assert_false(up);
    assert_int_equal(link_watch_add(w, "lo", &idx, &up, err, sizeof(err)), 0);
    assert_true(idx > 0);
    assert_int_equal(link_watch_add(w, "this-name-is-too-long", NULL, NULL, err, sizeof(err)), -1);

    struct log l = { 0 };
    sh("ip link add mw0 type veth peer name mw1");
    drain(w, &l, 1);
    assert_int_equal(l.n, 1);                    /* mw1 is not watched */
    assert_string_equal(l.e[0].name, "mw0");
    assert_int_equal(l.e[0].k, LINK_EV_NEW);
    assert_false(l.e[0].up);
    int first = l.e[0].ifindex;
    assert_true(first > 0);

    l.n = 0;
    sh("ip link set mw0 up");
    drain(w, &l, 1);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.e[0].k, LINK_EV_UP);
    assert_true(l.e[0].up);

    l.n = 0;
    sh("ip link set mw0 down");
    drain(w, &l, 1);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.e[0].k, LINK_EV_DOWN);

    l.n = 0;
    sh("ip link del mw0");
    drain(w, &l, 1);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.e[0].k, LINK_EV_GONE);
    assert_int_equal(l.e[0].ifindex, first);

    /* Comes back with a new ifindex: NEW again. */
    l.n = 0;
    sh("ip link add mw0 type veth peer name mw1");
    drain(w, &l, 1);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.e[0].k, LINK_EV_NEW);
    assert_int_not_equal(l.e[0].ifindex, first);

    /* Renamed away: GONE. */
    l.n = 0;
    sh("ip link set mw0 name mw9");
    drain(w, &l, 1);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.e[0].k, LINK_EV_GONE);
    sh("ip link del mw9");
    link_watch_close(w);
}

int main(void)
{
    in_netns = unshare(CLONE_NEWNET) == 0;
    if (!in_netns)
        fprintf(stderr, "test_link_watch: cannot create a network namespace: skipping\n");
    else
        (void)system("ip link set lo up >/dev/null 2>&1");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_veth_new_up_down_gone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
