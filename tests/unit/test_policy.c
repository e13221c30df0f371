/* test_policy.c - the pre-copy convergence policy decides from numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "policy.h"

static struct policy_cfg cfg = { .downtime_ms = 300, .max_rounds = 30, .max_factor = 3.0 };

static struct policy_input
input(unsigned it, uint64_t total, int64_t dirty, double bw)
{
	struct policy_input in = {
		.iteration = it, .total_pages = total, .dirty_pages = dirty,
		.mem_pages = 262144, .page_size = 4096, .bandwidth = bw,
	};
	return in;
}

static void
test_stops_when_dirty_pages_fit_the_downtime_target(void **st)
{
	/* 1 GB/s: 300 ms moves ~73k pages. */
	struct policy_input in = input(2, 300000, 70000, 1e9);
	enum policy_why why;

	(void)st;
	assert_int_equal(policy_decide(&cfg, &in, &why), POLICY_STOP);
	assert_int_equal(why, WHY_CONVERGED);
}

static void
test_continues_when_dirty_pages_exceed_the_target(void **st)
{
	struct policy_input in = input(2, 300000, 80000, 1e9);

	(void)st;
	assert_int_equal(policy_decide(&cfg, &in, NULL), POLICY_CONTINUE);
}

static void
test_stops_at_the_round_cap(void **st)
{
	struct policy_input in = input(30, 300000, 200000, 1e9);
	enum policy_why why;

	(void)st;
	assert_int_equal(policy_decide(&cfg, &in, &why), POLICY_STOP);
	assert_int_equal(why, WHY_MAX_ROUNDS);
}

static void
test_stops_at_the_byte_cap(void **st)
{
	struct policy_input in = input(5, 3 * 262144, 200000, 1e9);
	enum policy_why why;

	(void)st;
	assert_int_equal(policy_decide(&cfg, &in, &why), POLICY_STOP);
	assert_int_equal(why, WHY_MAX_BYTES);
}

static void
test_aborts_when_cancelled_even_if_converged(void **st)
{
	struct policy_input in = input(3, 300000, 0, 1e9);
	enum policy_why why;

	(void)st;
	in.cancelled = true;
	assert_int_equal(policy_decide(&cfg, &in, &why), POLICY_ABORT);
	assert_int_equal(why, WHY_CANCELLED);
}

static void
test_unknown_dirty_count_never_counts_as_converged(void **st)
{
	struct policy_input in = input(1, 262144, -1, 1e9);

	(void)st;
	assert_int_equal(policy_decide(&cfg, &in, NULL), POLICY_CONTINUE);
}

static void
test_unmeasured_bandwidth_assumes_a_gigabit_link(void **st)
{
	(void)st;
	/* 125 MB/s: 30518 pages take ~1000 ms. */
	assert_in_range(policy_expected_downtime_ms(30518, 4096, 0), 990, 1010);
	assert_int_equal(policy_expected_downtime_ms(0, 4096, 0), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stops_when_dirty_pages_fit_the_downtime_target),
		cmocka_unit_test(test_continues_when_dirty_pages_exceed_the_target),
		cmocka_unit_test(test_stops_at_the_round_cap),
		cmocka_unit_test(test_stops_at_the_byte_cap),
		cmocka_unit_test(test_aborts_when_cancelled_even_if_converged),
		cmocka_unit_test(test_unknown_dirty_count_never_counts_as_converged),
		cmocka_unit_test(test_unmeasured_bandwidth_assumes_a_gigabit_link),
	};

	return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
