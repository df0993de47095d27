/* Unit tests of moat-bench's own accounting: the sequence tracker that
 * yields loss/duplicate/reorder counts and the latency histogram. A wrong
 * count here would make every benchmark result untrustworthy. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "hist.h"
#include "seqtrack.h"

static void in_order_is_unique(void **st)
{
    struct seqtrack t = { 0, 0 };
    struct seqcount n = { 0, 0, 0 };

    for (uint64_t i = 0; i < 1000; i++)
        assert_true(seqtrack_add(&t, i, &n));
    assert_int_equal(n.unique, 1000);
    assert_int_equal(n.dup, 0);
    assert_int_equal(n.reordered, 0);
}

/* A QoS 1 redelivery [MQTT-4.3.2]: the same number twice is one duplicate. */
static void repeat_is_duplicate(void **st)
{
    struct seqtrack t = { 0, 0 };
    struct seqcount n = { 0, 0, 0 };

    seqtrack_add(&t, 0, &n);
    seqtrack_add(&t, 1, &n);
    assert_false(seqtrack_add(&t, 1, &n));
    assert_false(seqtrack_add(&t, 0, &n));
    seqtrack_add(&t, 2, &n);
    assert_int_equal(n.unique, 3);
    assert_int_equal(n.dup, 2);
}

/* A gap stays a loss (unique < expected) until filled; a late fill is
 * unique and reordered, and a second copy of it is a duplicate. */
static void gap_then_late_arrival(void **st)
{
    struct seqtrack t = { 0, 0 };
    struct seqcount n = { 0, 0, 0 };

    seqtrack_add(&t, 0, &n);
    seqtrack_add(&t, 5, &n);            /* 1..4 missing */
    assert_int_equal(n.unique, 2);
    assert_true(seqtrack_add(&t, 3, &n));
    assert_int_equal(n.reordered, 1);
    assert_false(seqtrack_add(&t, 3, &n));
    assert_false(seqtrack_add(&t, 5, &n));
    assert_int_equal(n.unique, 3);
    assert_int_equal(n.dup, 2);
}

/* Beyond the 64-entry window the tracker cannot tell: it counts a dup. */
static void far_behind_counts_as_duplicate(void **st)
{
    struct seqtrack t = { 0, 0 };
    struct seqcount n = { 0, 0, 0 };

    seqtrack_add(&t, 0, &n);
    seqtrack_add(&t, 200, &n);
    assert_false(seqtrack_add(&t, 100, &n));
    assert_true(seqtrack_add(&t, 199, &n));   /* within the window */
    assert_true(seqtrack_add(&t, 137, &n));   /* 63 below the newest */
    assert_false(seqtrack_add(&t, 136, &n));  /* 64 below: outside */
    assert_int_equal(n.unique, 4);
    assert_int_equal(n.dup, 2);
}

static void hist_quantiles(void **st)
{
    static struct hist h;

    hist_init(&h);
    assert_int_equal(hist_quantile(&h, 0.5), 0);
    for (uint64_t v = 1; v <= 10000; v++)
        hist_add(&h, v * 1000);               /* 1 µs .. 10 ms */
    assert_int_equal(h.n, 10000);
    assert_int_equal(hist_quantile(&h, 1.0), 10000 * 1000);
    assert_int_equal(hist_quantile(&h, 0.0), 1000);
    /* Within the 1/32 bucket resolution. */
    assert_in_range(hist_quantile(&h, 0.50), 5000000 * 31 / 32, 5000000 * 33 / 32);
    assert_in_range(hist_quantile(&h, 0.99), 9900000 * 31 / 32, 9900000 * 33 / 32);
    assert_in_range(hist_quantile(&h, 0.999), 9990000 * 31 / 32, 10000000);
}

static void hist_small_values_exact(void **st)
{
    static struct hist h;

    hist_init(&h);
    for (uint64_t v = 0; v < 64; v++)
        hist_add(&h, v);
    assert_int_equal(hist_quantile(&h, 0.5), 31);
    assert_int_equal(hist_quantile(&h, 1.0), 63);
    hist_add(&h, UINT64_MAX);                 /* top bucket must exist */
    assert_int_equal(hist_quantile(&h, 1.0), UINT64_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(in_order_is_unique),
        cmocka_unit_test(repeat_is_duplicate),
        cmocka_unit_test(gap_then_late_arrival),
        cmocka_unit_test(far_behind_counts_as_duplicate),
        cmocka_unit_test(hist_quantiles),
        cmocka_unit_test(hist_small_values_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
