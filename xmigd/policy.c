/* policy.c - the pre-copy convergence policy. */
#include "conf.h"
#include "policy.h"

/* Before the first measurement: assume a modest 1 Gbit/s link so the first
 * decision is neither reckless nor endless. */
#define POLICY_DEFAULT_BW (125.0 * 1000 * 1000)

void
policy_cfg_default(struct policy_cfg *cfg)
{
	cfg->downtime_ms = CONF_DEFAULT_DOWNTIME_MS;
	cfg->max_rounds = CONF_DEFAULT_MAX_ROUNDS;
	cfg->max_factor = CONF_DEFAULT_MAX_FACTOR;
}

uint64_t
policy_expected_downtime_ms(uint64_t dirty, uint32_t page_size, double bandwidth)
{
	if (bandwidth <= 0)
		bandwidth = POLICY_DEFAULT_BW;
	return (uint64_t)((double)dirty * page_size * 1000.0 / bandwidth);
}

enum policy_decision
policy_decide(const struct policy_cfg *cfg, const struct policy_input *in, enum policy_why *why)
{
	enum policy_why w = WHY_NONE;
	enum policy_decision d = POLICY_CONTINUE;

	if (in->cancelled) {
		w = WHY_CANCELLED;
		d = POLICY_ABORT;
	} else if (in->dirty_pages >= 0 &&
	    policy_expected_downtime_ms((uint64_t)in->dirty_pages, in->page_size,
	    in->bandwidth) <= cfg->downtime_ms) {
		w = WHY_CONVERGED;
		d = POLICY_STOP;
	} else if (in->iteration >= cfg->max_rounds) {
		w = WHY_MAX_ROUNDS;
		d = POLICY_STOP;
	} else if ((double)in->total_pages >= cfg->max_factor * (double)in->mem_pages) {
		w = WHY_MAX_BYTES;
		d = POLICY_STOP;
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
	default: return "";
	}
}
