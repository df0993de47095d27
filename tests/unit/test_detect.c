/* Abnormal-behaviour detection: windows, thresholds, escalating TTLs,
 * allowlists and the userspace denylist, driven by a controlled clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "broker/block.h"
#include "broker/conn.h"
#include "broker/engine.h"
#include "config.h"
#include "mqtt/retain.h"
#include "mqtt/topic_tree.h"
#include "policy/denylist.h"
#include "policy/detect.h"

struct fx {
    struct moat_config cfg;
    struct engine *e;
};

static int setup(void **st)
{
    struct fx *f = calloc(1, sizeof *f);
    det_rules_default(f->cfg.detect);
    f->cfg.moat_block_ttl_max = 1000;
    f->cfg.xdp_ipv6_prefix = 64;
    f->e = calloc(1, sizeof *f->e);
    f->e->cfg = &f->cfg;
    f->e->el = ev_new();
    f->e->det = detector_new(1, 0);
    f->e->deny = denylist_new(2, 0);
    f->e->subs = topic_tree_new(3);
    ev_set_now_ms(f->e->el, 1000000);
    *st = f;
    return 0;
}

static int teardown(void **st)
{
    struct fx *f = *st;
    detector_free(f->e->det);
    denylist_free(f->e->deny);
    topic_tree_free(f->e->subs);
    free(f->e->sess_tab);
    ev_free(f->e->el);
    free(f->e);
    free(f);
    return 0;
}

static struct peer_addr v4(const char *s)
{
    struct peer_addr p = { .family = AF_INET };
    inet_pton(AF_INET, s, p.addr);
    return p;
}

static void advance(struct fx *f, uint64_t ms)
{
    ev_set_now_ms(f->e->el, ev_now_ms(f->e->el) + ms);
}

static void test_threshold_within_window_blocks(void **st)
{
    struct fx *f = *st;
    f->cfg.detect[DET_AUTH_FAILURE] = (struct det_rule){ DET_ACT_BLOCK_IP, 3, 10, 60 };
    struct peer_addr p = v4("198.18.0.1");
    detect_event(f->e, DET_AUTH_FAILURE, NULL, &p, NULL, 0);
    detect_event(f->e, DET_AUTH_FAILURE, NULL, &p, NULL, 0);
    assert_false(engine_peer_blocked(f->e, &p));
    detect_event(f->e, DET_AUTH_FAILURE, NULL, &p, NULL, 0);
    assert_true(engine_peer_blocked(f->e, &p));
    assert_int_equal(detector_count(f->e->det, DET_AUTH_FAILURE), 1);
    struct peer_addr other = v4("198.18.0.2");
    assert_false(engine_peer_blocked(f->e, &other));
    advance(f, 61 * 1000);                       /* TTL 60 s */
    assert_false(engine_peer_blocked(f->e, &p));
}

static void test_window_expiry_resets_count(void **st)
{
    struct fx *f = *st;
    f->cfg.detect[DET_AUTH_FAILURE] = (struct det_rule){ DET_ACT_BLOCK_IP, 3, 10, 60 };
    struct peer_addr p = v4("198.18.0.9");
    detect_event(f->e, DET_AUTH_FAILURE, NULL, &p, NULL, 0);
    detect_event(f->e, DET_AUTH_FAILURE, NULL, &p, NULL, 0);
    advance(f, 11 * 1000);                       /* the window passed */
    detect_event(f->e, DET_AUTH_FAILURE, NULL, &p, NULL, 0);
    assert_false(engine_peer_blocked(f->e, &p));
    assert_int_equal(detector_count(f->e->det, DET_AUTH_FAILURE), 0);
}

static void test_ttl_escalates_and_caps(void **st)
{
    struct fx *f = *st;
    f->cfg.detect[DET_SYN_FLOOD] = (struct det_rule){ DET_ACT_BLOCK_IP, 1, 60, 100 };
    struct peer_addr p = v4("198.18.0.7");
    uint32_t expect[] = { 100, 200, 400, 800, 1000, 1000 };   /* cap 1000 */
    for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++) {
        detect_event(f->e, DET_SYN_FLOOD, NULL, &p, NULL, 0);
        const struct det_decision *first, *wrap;
        size_t nf, n = detector_decisions(f->e->det, &first, &wrap, &nf);
        const struct det_decision *last = n <= nf ? &first[n - 1] : &wrap[n - nf - 1];
        assert_int_equal(last->ttl_s, expect[i]);
        assert_int_equal(last->offence, i + 1);
        advance(f, (uint64_t)expect[i] * 1000 + 1000);
        assert_false(engine_peer_blocked(f->e, &p));
    }
}

static void test_loopback_and_allow_never_blocked(void **st)
{
    struct fx *f = *st;
    f->cfg.detect[DET_PROTOCOL_ERROR] = (struct det_rule){ DET_ACT_BLOCK_IP, 1, 60, 60 };
    f->cfg.moat_allow_loopback = true;
    struct moat_allow_conf allow = { .family = 4, .prefixlen = 24 };
    inet_pton(AF_INET, "198.18.5.0", allow.addr);
    f->cfg.allow = &allow;
    f->cfg.n_allow = 1;
    struct peer_addr lo = v4("127.0.0.1"), ok = v4("198.18.5.77"), bad = v4("198.18.6.1");
    detect_event(f->e, DET_PROTOCOL_ERROR, NULL, &lo, NULL, 0);
    detect_event(f->e, DET_PROTOCOL_ERROR, NULL, &ok, NULL, 0);
    detect_event(f->e, DET_PROTOCOL_ERROR, NULL, &bad, NULL, 0);
    assert_false(engine_peer_blocked(f->e, &lo));
    assert_false(engine_peer_blocked(f->e, &ok));
    assert_true(engine_peer_blocked(f->e, &bad));
    const struct det_decision *first, *wrap;
    size_t nf;
    assert_int_equal(detector_decisions(f->e->det, &first, &wrap, &nf), 3);
    assert_true(first[0].allowlisted && first[0].action == DET_ACT_LOG);
    f->cfg.allow = NULL;
    f->cfg.n_allow = 0;
}

static void test_ipv6_sources_grouped_by_prefix(void **st)
{
    struct fx *f = *st;
    f->cfg.detect[DET_AUTH_FAILURE] = (struct det_rule){ DET_ACT_BLOCK_IP, 2, 60, 60 };
    struct peer_addr a = { .family = AF_INET6 }, b = { .family = AF_INET6 }, c = { .family = AF_INET6 };
    inet_pton(AF_INET6, "2001:2::1", a.addr);
    inet_pton(AF_INET6, "2001:2::ffff", b.addr);     /* same /64 */
    inet_pton(AF_INET6, "2001:2:0:1::1", c.addr);   /* other /64 */
    detect_event(f->e, DET_AUTH_FAILURE, NULL, &a, NULL, 0);
    detect_event(f->e, DET_AUTH_FAILURE, NULL, &b, NULL, 0);
    assert_true(engine_peer_blocked(f->e, &a));
    assert_true(engine_peer_blocked(f->e, &b));
    assert_false(engine_peer_blocked(f->e, &c));
}

static void test_rule_off_and_username_kind(void **st)
{
    struct fx *f = *st;
    f->cfg.detect[DET_AUTH_FAILURE] = (struct det_rule){ DET_ACT_OFF, 1, 60, 60 };
    f->cfg.detect[DET_AUTH_FAILURE_USER] = (struct det_rule){ DET_ACT_BLOCK_USER, 2, 60, 30 };
    struct peer_addr p1 = v4("198.18.1.1"), p2 = v4("198.18.1.2");
    detect_event(f->e, DET_AUTH_FAILURE, NULL, &p1, NULL, 0);
    assert_false(engine_peer_blocked(f->e, &p1));
    /* one username attacked from two sources: per-username counting */
    detect_event(f->e, DET_AUTH_FAILURE_USER, NULL, &p1, "alice", 5);
    detect_event(f->e, DET_AUTH_FAILURE_USER, NULL, &p2, "alice", 5);
    uint64_t now = ev_now_ms(f->e->el);
    assert_true(denylist_name_blocked(f->e->deny, DENY_USERNAME, "alice", 5, now));
    assert_false(denylist_name_blocked(f->e->deny, DENY_USERNAME, "bob", 3, now));
    assert_false(denylist_name_blocked(f->e->deny, DENY_USERNAME, "alice", 5, now + 31000));
}

static void test_denylist_cidr_and_gc(void **st)
{
    struct denylist *d = denylist_new(9, 4);
    uint8_t a[16] = { 198, 18, 7, 0 };
    assert_int_equal(denylist_add_ip(d, 4, a, 24, 5000, 0), 0);
    uint8_t in[16] = { 198, 18, 7, 200 }, out[16] = { 198, 18, 8, 1 };
    assert_true(denylist_ip_blocked(d, 4, in, 1000));
    assert_false(denylist_ip_blocked(d, 4, out, 1000));
    assert_false(denylist_ip_blocked(d, 4, in, 6000));     /* expired */
    assert_int_equal(denylist_gc(d, 6000), 1);
    for (int i = 0; i < 4; i++) {
        uint8_t x[16] = { 10, 0, 0, (uint8_t)i };
        assert_int_equal(denylist_add_ip(d, 4, x, 32, 0, 0), 0);
    }
    uint8_t y[16] = { 10, 0, 1, 0 };
    assert_int_equal(denylist_add_ip(d, 4, y, 32, 0, 0), -1);   /* bounded */
    assert_int_equal(denylist_add_ip(d, 4, y, 33, 0, 0), -1);   /* bad prefix */
    denylist_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_threshold_within_window_blocks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_window_expiry_resets_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ttl_escalates_and_caps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loopback_and_allow_never_blocked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ipv6_sources_grouped_by_prefix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rule_off_and_username_kind, setup, teardown),
        cmocka_unit_test(test_denylist_cidr_and_gc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
