/* engine/policy.h - when to stop pre-copy.
 *
 * A pure function of measurements, so it is unit-tested on its own and the
 * same decision serves the sim and libxenguest's precopy_policy hook: stop
 * and copy when the pages still dirty can be sent within the downtime
 * target (less 2 % for the rest of the downtime: pages dirtied until the
 * suspension, the commit) at the measured bandwidth; stop anyway at the
 * round cap or the
 * byte cap (total sent / RAM); abort when cancelled.  A round that does
 * not shrink the dirty set ("no progress") either throttles the guest
 * (auto-converge, as QEMU does: 20 %, then +10 % a round up to 90 %) or,
 * without auto-converge, raises the downtime target on a schedule (+50 %
 * of the configured target per such round, up to 4x), so a workload that
 * cannot converge ends with a bounded downtime instead of running to the
 * round cap.
 *
 * Converged is not always the best place to stop: when the pages dirty now
 * take D ms to send and the guest, at the rate it dirtied pages in the
 * last round, would dirty fewer than half as many in those D ms, one more
 * round costs D ms of migration time and at least halves the downtime.
 * The policy takes such a round when D is worth it (10 ms or more), at
 * most twice, within the round and byte caps.
 *
 * The destination's devices (HELLO_F_DEVICES_READY): while the receiver
 * has not said they are up, a decision to stop becomes one more round, so
 * that setting them up is never part of the downtime; past the caller's
 * deadline for them the migration is aborted (the source runs on).
 */
#ifndef XMIG_POLICY_H
#define XMIG_POLICY_H

#include <stdbool.h>
#include <stdint.h>

struct policy_cfg {
	unsigned downtime_ms;	/* target */
	unsigned max_rounds;
	double max_factor;	/* total bytes sent / RAM */
	bool auto_converge;	/* throttle the guest instead of raising the target */
};

/* What the policy remembers between rounds. */
struct policy_state {
	int64_t prev_dirty;		/* -1 before the first round */
	unsigned no_progress;		/* rounds that did not shrink the dirty set */
	unsigned target_ms;		/* current target (raised on schedule) */
	unsigned throttle_pct;		/* current guest throttle (auto-converge) */
	unsigned extra_rounds;		/* rounds run past convergence because they paid */
};

struct policy_input {
	unsigned iteration;	/* rounds completed */
	uint64_t total_pages;	/* pages sent so far, all rounds */
	int64_t dirty_pages;	/* pages dirty now (-1 unknown) */
	uint64_t mem_pages;	/* domain size */
	uint32_t page_size;
	double bandwidth;	/* bytes/s, smoothed; 0 = not measured yet */
	uint64_t round_ms;	/* how long the round that just ended took; 0 unknown */
	bool cancelled;
	bool devices_pending;	/* the receiver's devices are not up yet: do not stop */
	bool devices_overdue;	/* ... and its deadline has passed: abort */
};

/* One more round after convergence (above): not for a downtime already
 * this short, and not more often than this. */
#define POLICY_EXTRA_MIN_MS 10
#define POLICY_EXTRA_MAX 2

enum policy_decision { POLICY_ABORT = -1, POLICY_CONTINUE = 0, POLICY_STOP = 1 };

enum policy_why { WHY_NONE, WHY_CONVERGED, WHY_MAX_ROUNDS, WHY_MAX_BYTES, WHY_CANCELLED,
	WHY_DEVICES_WAIT,	/* CONTINUE: it would stop, but the receiver's devices are not up */
	WHY_DEVICES_TIMEOUT,	/* ABORT: they were not up by the deadline */
};

void policy_cfg_default(struct policy_cfg *cfg);
void policy_state_init(struct policy_state *st, const struct policy_cfg *cfg);
/* Decide after a round.  Updates st (no-progress count, raised target,
 * throttle); the caller applies st->throttle_pct to the guest when it
 * changed. */
enum policy_decision policy_decide(const struct policy_cfg *cfg, struct policy_state *st,
    const struct policy_input *in, enum policy_why *why);
/* Expected downtime in ms for `dirty` pages at `bandwidth` bytes/s. */
uint64_t policy_expected_downtime_ms(uint64_t dirty, uint32_t page_size, double bandwidth);
const char *policy_why_str(enum policy_why w);

#endif
