/* engine/policy.c - the pre-copy convergence policy. */
#include "conf.h"
#include "engine/policy.h"

/* Before the first measurement: assume a modest 1 Gbit/s link so the first
 * decision is neither reckless nor endless. */
#define POLICY_DEFAULT_BW (125.0 * 1000 * 1000)
/* Auto-converge steps, QEMU's defaults but capped lower: a guest throttled
 * to 1 % is not "live" any more. */
#define POLICY_THROTTLE_INITIAL 20
#define POLICY_THROTTLE_STEP 10
#define POLICY_THROTTLE_MAX 90
/* The downtime is more than the dirty pages' transfer: the pages dirtied
 * until the vCPUs stop, the vCPU context, the commit.  Stop when the pages
 * fit in all but 2 % of the target (6 ms of 300), so that the target holds. */
#define POLICY_MARGIN_DIV 50

void
policy_cfg_default(struct policy_cfg *cfg)
{
	cfg->downtime_ms = CONF_DEFAULT_DOWNTIME_MS;
	cfg->max_rounds = CONF_DEFAULT_MAX_ROUNDS;
	cfg->max_factor = CONF_DEFAULT_MAX_FACTOR;
	cfg->auto_converge = false;
}

uint64_t
policy_expected_downtime_ms(uint64_t dirty, uint32_t page_size, double bandwidth)
{
	if (bandwidth <= 0)
		bandwidth = POLICY_DEFAULT_BW;
	return (uint64_t)((double)dirty * page_size * 1000.0 / bandwidth);
}

void
policy_state_init(struct policy_state *st, const struct policy_cfg *cfg)
{
	st->prev_dirty = -1;
	st->no_progress = 0;
	st->target_ms = cfg->downtime_ms;
	st->throttle_pct = 0;
	st->extra_rounds = 0;
}

/* A round made progress when it shrank the dirty set by at least 10 %. */
static void
policy_track_progress(const struct policy_cfg *cfg, struct policy_state *st,
    const struct policy_input *in)
{
	if (in->dirty_pages < 0)
		return;
	if (st->prev_dirty >= 0 && in->dirty_pages * 10 > st->prev_dirty * 9) {
		st->no_progress++;
		if (cfg->auto_converge) {
			st->throttle_pct = st->throttle_pct == 0 ? POLICY_THROTTLE_INITIAL
			    : st->throttle_pct + POLICY_THROTTLE_STEP;
			if (st->throttle_pct > POLICY_THROTTLE_MAX)
				st->throttle_pct = POLICY_THROTTLE_MAX;
		} else {
			unsigned raised = cfg->downtime_ms + cfg->downtime_ms / 2 * st->no_progress;

			st->target_ms = raised < 4 * cfg->downtime_ms ? raised : 4 * cfg->downtime_ms;
		}
	}
	st->prev_dirty = in->dirty_pages;
}

/* Would one more round, expect_ms long, at least halve the dirty set?  The
 * rate is the dirty pages over the last round's time: distinct pages, so
 * a guest rewriting a small set fast looks slower than it is, and the
 * prediction errs towards the extra round; the round after it then
 * measures over a short round and stops. */
static bool
policy_extra_round_pays(const struct policy_cfg *cfg, const struct policy_state *st,
    const struct policy_input *in, uint64_t expect_ms)
{
	double rate;

	if (in->round_ms == 0 || in->dirty_pages <= 0 || expect_ms < POLICY_EXTRA_MIN_MS ||
	    st->extra_rounds >= POLICY_EXTRA_MAX || in->iteration >= cfg->max_rounds ||
	    (double)(in->total_pages + (uint64_t)in->dirty_pages) >=
	    cfg->max_factor * (double)in->mem_pages)
		return false;
	rate = (double)in->dirty_pages / (double)in->round_ms;	/* pages per ms */
	return 2.0 * rate * (double)expect_ms <= (double)in->dirty_pages;
}

enum policy_decision
policy_decide(const struct policy_cfg *cfg, struct policy_state *st,
    const struct policy_input *in, enum policy_why *why)
{
	enum policy_why w = WHY_NONE;
	enum policy_decision d = POLICY_CONTINUE;
	struct policy_state before = *st;
	uint64_t expect;

	policy_track_progress(cfg, st, in);
	if (in->cancelled) {
		w = WHY_CANCELLED;
		d = POLICY_ABORT;
	} else if (in->devices_pending && in->devices_overdue) {
		w = WHY_DEVICES_TIMEOUT;
		d = POLICY_ABORT;
	} else if (in->dirty_pages >= 0 && (expect = policy_expected_downtime_ms(
	    (uint64_t)in->dirty_pages, in->page_size, in->bandwidth)) <=
	    st->target_ms - st->target_ms / POLICY_MARGIN_DIV) {
		if (policy_extra_round_pays(cfg, st, in, expect)) {
			st->extra_rounds++;
		} else {
			w = WHY_CONVERGED;
			d = POLICY_STOP;
		}
	} else if (in->iteration >= cfg->max_rounds) {
		w = WHY_MAX_ROUNDS;
		d = POLICY_STOP;
	} else if ((double)in->total_pages >= cfg->max_factor * (double)in->mem_pages) {
		w = WHY_MAX_BYTES;
		d = POLICY_STOP;
	}
	/* Whatever made it stop (the caps too): the suspend would wait for
	 * the devices, and the guest with it. */
	if (d == POLICY_STOP && in->devices_pending) {
		w = WHY_DEVICES_WAIT;
		d = POLICY_CONTINUE;
		/* A round held for the devices did not fail to converge: it
		 * neither raises the downtime target nor throttles the guest
		 * (the lab's device guest, held 4.4 s, had stopped with 4 x
		 * the target). */
		st->no_progress = before.no_progress;
		st->target_ms = before.target_ms;
		st->throttle_pct = before.throttle_pct;
	}
	if (why != NULL)
		*why = w;
	return d;
}

const char *
policy_why_str(enum policy_why w)
{
	switch (w) {
	case WHY_CONVERGED: return "converged";
	case WHY_MAX_ROUNDS: return "round limit";
	case WHY_MAX_BYTES: return "byte limit";
	case WHY_CANCELLED: return "cancelled";
	case WHY_DEVICES_WAIT: return "waiting for the destination's devices";
	case WHY_DEVICES_TIMEOUT: return "the destination's devices were not up in time";
	default: return "";
	}
}
