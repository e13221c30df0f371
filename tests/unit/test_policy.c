/* test_policy.c - the pre-copy convergence policy decides from numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "engine/policy.h"

static struct policy_cfg cfg = { .downtime_ms = 300, .max_rounds = 30, .max_factor = 3.0 };

/* One decision from a fresh state. */
static enum policy_decision
decide(const struct policy_cfg *c, const struct policy_input *in, enum policy_why *why)
{
	struct policy_state st;

	policy_state_init(&st, c);
	return policy_decide(c, &st, in, why);
}

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
	assert_int_equal(decide(&cfg, &in, &why), POLICY_STOP);
	assert_int_equal(why, WHY_CONVERGED);
}

/* The rest of the downtime (late dirty pages, the commit) needs room: the
 * pages must fit in 98 % of the target, 294 ms of 300. */
static void
test_leaves_two_percent_of_the_target_for_the_commit(void **st)
{
	struct policy_input fits = input(2, 300000, 71500, 1e9);	/* 292.9 ms */
	struct policy_input tight = input(2, 300000, 72500, 1e9);	/* 297.0 ms */

	(void)st;
	assert_int_equal(decide(&cfg, &fits, NULL), POLICY_STOP);
	assert_int_equal(decide(&cfg, &tight, NULL), POLICY_CONTINUE);
}

static void
test_continues_when_dirty_pages_exceed_the_target(void **st)
{
	struct policy_input in = input(2, 300000, 80000, 1e9);

	(void)st;
	assert_int_equal(decide(&cfg, &in, NULL), POLICY_CONTINUE);
}

static void
test_stops_at_the_round_cap(void **st)
{
	struct policy_input in = input(30, 300000, 200000, 1e9);
	enum policy_why why;

	(void)st;
	assert_int_equal(decide(&cfg, &in, &why), POLICY_STOP);
	assert_int_equal(why, WHY_MAX_ROUNDS);
}

static void
test_stops_at_the_byte_cap(void **st)
{
	struct policy_input in = input(5, 3 * 262144, 200000, 1e9);
	enum policy_why why;

	(void)st;
	assert_int_equal(decide(&cfg, &in, &why), POLICY_STOP);
	assert_int_equal(why, WHY_MAX_BYTES);
}

static void
test_aborts_when_cancelled_even_if_converged(void **st)
{
	struct policy_input in = input(3, 300000, 0, 1e9);
	enum policy_why why;

	(void)st;
	in.cancelled = true;
	assert_int_equal(decide(&cfg, &in, &why), POLICY_ABORT);
	assert_int_equal(why, WHY_CANCELLED);
}

static void
test_unknown_dirty_count_never_counts_as_converged(void **st)
{
	struct policy_input in = input(1, 262144, -1, 1e9);

	(void)st;
	assert_int_equal(decide(&cfg, &in, NULL), POLICY_CONTINUE);
}

static void
test_unmeasured_bandwidth_assumes_a_gigabit_link(void **st)
{
	(void)st;
	/* 125 MB/s: 30518 pages take ~1000 ms. */
	assert_in_range(policy_expected_downtime_ms(30518, 4096, 0), 990, 1010);
	assert_int_equal(policy_expected_downtime_ms(0, 4096, 0), 0);
}

static void
test_rounds_without_progress_raise_the_target_on_a_schedule(void **st_)
{
	struct policy_state st;
	struct policy_input in = input(1, 262144, 100000, 1e9);	/* ~410 ms */
	enum policy_why why;

	(void)st_;
	policy_state_init(&st, &cfg);
	assert_int_equal(policy_decide(&cfg, &st, &in, NULL), POLICY_CONTINUE);
	in.iteration = 2;	/* no progress: 300 -> 450 ms */
	assert_int_equal(policy_decide(&cfg, &st, &in, &why), POLICY_STOP);
	assert_int_equal(why, WHY_CONVERGED);
	assert_int_equal(st.target_ms, 450);
	assert_int_equal(st.throttle_pct, 0);
}

static void
test_the_raised_target_never_exceeds_four_times_the_configured_one(void **st_)
{
	struct policy_state st;
	struct policy_input in = input(1, 262144, 10000000, 1e9);
	unsigned i;

	(void)st_;
	policy_state_init(&st, &cfg);
	for (i = 0; i < 20; i++) {
		in.iteration = i + 1;
		policy_decide(&cfg, &st, &in, NULL);
	}
	assert_int_equal(st.target_ms, 1200);
}

static void
test_auto_converge_throttles_instead_of_raising_the_target(void **st_)
{
	struct policy_cfg ac = cfg;
	struct policy_state st;
	struct policy_input in = input(1, 262144, 200000, 1e9);
	unsigned i;

	(void)st_;
	ac.auto_converge = true;
	policy_state_init(&st, &ac);
	assert_int_equal(policy_decide(&ac, &st, &in, NULL), POLICY_CONTINUE);
	assert_int_equal(st.throttle_pct, 0);
	in.iteration = 2;
	assert_int_equal(policy_decide(&ac, &st, &in, NULL), POLICY_CONTINUE);
	assert_int_equal(st.throttle_pct, 20);
	assert_int_equal(st.target_ms, 300);
	for (i = 3; i < 20; i++) {
		in.iteration = i;
		policy_decide(&ac, &st, &in, NULL);
	}
	assert_int_equal(st.throttle_pct, 90);
}

static void
test_a_shrinking_dirty_set_counts_as_progress(void **st_)
{
	struct policy_cfg ac = cfg;
	struct policy_state st;
	struct policy_input in = input(1, 262144, 200000, 1e9);

	(void)st_;
	ac.auto_converge = true;
	policy_state_init(&st, &ac);
	policy_decide(&ac, &st, &in, NULL);
	in.iteration = 2;
	in.dirty_pages = 170000;	/* -15 % */
	policy_decide(&ac, &st, &in, NULL);
	assert_int_equal(st.no_progress, 0);
	assert_int_equal(st.throttle_pct, 0);
}

/* Converged with 27000 pages (108 MB, 108 ms at 1 GB/s) after a 350 ms
 * round: the guest dirties ~77 pages/ms, ~8300 in the 108 ms a round would
 * take, less than half: one more round. */
static void
test_takes_one_more_round_when_it_at_least_halves_the_downtime(void **st)
{
	struct policy_input in = input(1, 262144, 27000, 1e9);
	struct policy_state s;
	enum policy_why why;

	(void)st;
	in.round_ms = 350;
	policy_state_init(&s, &cfg);
	assert_int_equal(policy_decide(&cfg, &s, &in, &why), POLICY_CONTINUE);
	assert_int_equal(why, WHY_NONE);
	assert_int_equal(s.extra_rounds, 1);
	/* The next round took 108 ms and left 2400 dirty (9.8 ms): below the
	 * 10 ms floor, stop. */
	in = input(2, 289144, 2400, 1e9);
	in.round_ms = 108;
	assert_int_equal(policy_decide(&cfg, &s, &in, &why), POLICY_STOP);
	assert_int_equal(why, WHY_CONVERGED);
}

/* The same pages dirtied within a 30 ms round: a round of 108 ms would see
 * them all dirty again.  And without a round time, or under 10 ms of
 * downtime, it stops as before. */
static void
test_stops_at_convergence_when_one_more_round_would_not_halve_it(void **st)
{
	struct policy_input fast = input(1, 262144, 27000, 1e9);
	struct policy_input unknown = input(1, 262144, 27000, 1e9);
	struct policy_input small = input(1, 262144, 2000, 1e9);	/* 8 ms */

	(void)st;
	fast.round_ms = 30;
	small.round_ms = 350;
	assert_int_equal(decide(&cfg, &fast, NULL), POLICY_STOP);
	assert_int_equal(decide(&cfg, &unknown, NULL), POLICY_STOP);
	assert_int_equal(decide(&cfg, &small, NULL), POLICY_STOP);
}

/* At most two extra rounds, and never past the round or byte caps. */
static void
test_extra_rounds_are_capped_by_count_rounds_and_bytes(void **st)
{
	struct policy_cfg two = cfg;
	struct policy_input in = input(1, 262144, 27000, 1e9);
	struct policy_state s;
	int i;

	(void)st;
	in.round_ms = 1000;
	policy_state_init(&s, &cfg);
	for (i = 0; i < 2; i++)
		assert_int_equal(policy_decide(&cfg, &s, &in, NULL), POLICY_CONTINUE);
	assert_int_equal(policy_decide(&cfg, &s, &in, NULL), POLICY_STOP);
	two.max_rounds = 1;
	assert_int_equal(decide(&two, &in, NULL), POLICY_STOP);
	in.total_pages = 3 * 262144 - 1000;	/* the extra round would pass 3 x RAM */
	assert_int_equal(decide(&cfg, &in, NULL), POLICY_STOP);
}

/* HELLO_F_DEVICES_READY: no stop-and-copy while the destination's
 * devices are not up, whatever would have stopped it; past the deadline,
 * abort (the source runs on); once they are up, the usual decision. */
static void
test_waits_for_the_destinations_devices_before_stopping(void **st)
{
	struct policy_input conv = input(2, 300000, 100, 1e9);
	struct policy_input cap = input(30, 300000, 80000, 1e9);	/* round cap */
	struct policy_input bytes = input(2, 262144 * 3, 80000, 1e9);	/* byte cap */
	struct policy_input busy = input(2, 300000, 80000, 1e9);	/* not converged */
	enum policy_why why;

	(void)st;
	conv.devices_pending = cap.devices_pending = bytes.devices_pending = true;
	assert_int_equal(decide(&cfg, &conv, &why), POLICY_CONTINUE);
	assert_int_equal(why, WHY_DEVICES_WAIT);
	assert_int_equal(decide(&cfg, &cap, &why), POLICY_CONTINUE);
	assert_int_equal(why, WHY_DEVICES_WAIT);
	assert_int_equal(decide(&cfg, &bytes, &why), POLICY_CONTINUE);
	assert_int_equal(why, WHY_DEVICES_WAIT);
	/* Up: the same inputs stop as they always did. */
	conv.devices_pending = cap.devices_pending = bytes.devices_pending = false;
	assert_int_equal(decide(&cfg, &conv, &why), POLICY_STOP);
	assert_int_equal(why, WHY_CONVERGED);
	assert_int_equal(decide(&cfg, &cap, &why), POLICY_STOP);
	assert_int_equal(why, WHY_MAX_ROUNDS);
	assert_int_equal(decide(&cfg, &bytes, &why), POLICY_STOP);
	assert_int_equal(why, WHY_MAX_BYTES);
	/* Overdue: abort, converged or not; an overdue flag alone (the
	 * devices came) changes nothing. */
	conv.devices_pending = conv.devices_overdue = true;
	busy.devices_pending = busy.devices_overdue = true;
	assert_int_equal(decide(&cfg, &conv, &why), POLICY_ABORT);
	assert_int_equal(why, WHY_DEVICES_TIMEOUT);
	assert_int_equal(decide(&cfg, &busy, &why), POLICY_ABORT);
	assert_int_equal(why, WHY_DEVICES_TIMEOUT);
	conv.devices_pending = false;
	assert_int_equal(decide(&cfg, &conv, &why), POLICY_STOP);
	/* Cancel still wins. */
	busy.cancelled = true;
	assert_int_equal(decide(&cfg, &busy, &why), POLICY_ABORT);
	assert_int_equal(why, WHY_CANCELLED);
	assert_string_not_equal(policy_why_str(WHY_DEVICES_WAIT), "");
}

/* Rounds held for the devices repeat a converged dirty set without
 * shrinking it: that must neither raise the downtime target nor throttle
 * the guest (with or without auto-converge), as a stalled stream would. */
static void
test_rounds_held_for_devices_keep_target_and_throttle(void **unused)
{
	struct policy_cfg ac = cfg;
	struct policy_state st, st_ac;
	struct policy_input in = input(2, 300000, 150, 1e9);
	struct policy_input stalled = input(2, 300000, 80000, 1e9);
	unsigned i;

	(void)unused;
	ac.auto_converge = true;
	policy_state_init(&st, &cfg);
	policy_state_init(&st_ac, &ac);
	in.devices_pending = true;
	for (i = 0; i < 40; i++) {
		in.iteration = 2 + i;
		assert_int_equal(policy_decide(&cfg, &st, &in, NULL), POLICY_CONTINUE);
		assert_int_equal(policy_decide(&ac, &st_ac, &in, NULL), POLICY_CONTINUE);
	}
	assert_int_equal(st.target_ms, cfg.downtime_ms);
	assert_int_equal(st_ac.throttle_pct, 0);
	in.devices_pending = false;
	assert_int_equal(policy_decide(&cfg, &st, &in, NULL), POLICY_STOP);
	/* The same rounds without the devices wait, not converging, do. */
	policy_state_init(&st, &cfg);
	policy_state_init(&st_ac, &ac);
	for (i = 0; i < 3; i++) {
		stalled.iteration = 2 + i;
		policy_decide(&cfg, &st, &stalled, NULL);
		policy_decide(&ac, &st_ac, &stalled, NULL);
	}
	assert_true(st.target_ms > cfg.downtime_ms);
	assert_true(st_ac.throttle_pct > 0);
	assert_string_not_equal(policy_why_str(WHY_DEVICES_TIMEOUT), "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stops_when_dirty_pages_fit_the_downtime_target),
		cmocka_unit_test(test_continues_when_dirty_pages_exceed_the_target),
		cmocka_unit_test(test_stops_at_the_round_cap),
		cmocka_unit_test(test_stops_at_the_byte_cap),
		cmocka_unit_test(test_leaves_two_percent_of_the_target_for_the_commit),
		cmocka_unit_test(test_aborts_when_cancelled_even_if_converged),
		cmocka_unit_test(test_unknown_dirty_count_never_counts_as_converged),
		cmocka_unit_test(test_unmeasured_bandwidth_assumes_a_gigabit_link),
		cmocka_unit_test(test_rounds_without_progress_raise_the_target_on_a_schedule),
		cmocka_unit_test(test_the_raised_target_never_exceeds_four_times_the_configured_one),
		cmocka_unit_test(test_auto_converge_throttles_instead_of_raising_the_target),
		cmocka_unit_test(test_a_shrinking_dirty_set_counts_as_progress),
		cmocka_unit_test(test_takes_one_more_round_when_it_at_least_halves_the_downtime),
		cmocka_unit_test(test_stops_at_convergence_when_one_more_round_would_not_halve_it),
		cmocka_unit_test(test_extra_rounds_are_capped_by_count_rounds_and_bytes),
		cmocka_unit_test(test_waits_for_the_destinations_devices_before_stopping),
		cmocka_unit_test(test_rounds_held_for_devices_keep_target_and_throttle),
	};

	return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
