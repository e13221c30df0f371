/* policy.h - when to stop pre-copy.
 *
 * A pure function of measurements, so it is unit-tested on its own and the
 * same decision serves the sim and libxenguest's precopy_policy hook: stop
 * and copy when the pages still dirty can be sent within the downtime
 * target at the measured bandwidth; stop anyway at the round cap or the
 * byte cap (total sent / RAM); abort when cancelled.
 */
#ifndef XMIG_POLICY_H
#define XMIG_POLICY_H

#include <stdbool.h>
#include <stdint.h>

struct policy_cfg {
	unsigned downtime_ms;	/* target */
	unsigned max_rounds;
	double max_factor;	/* total bytes sent / RAM */
};

struct policy_input {
	unsigned iteration;	/* rounds completed */
	uint64_t total_pages;	/* pages sent so far, all rounds */
	int64_t dirty_pages;	/* pages dirty now (-1 unknown) */
	uint64_t mem_pages;	/* domain size */
	uint32_t page_size;
	double bandwidth;	/* bytes/s, smoothed; 0 = not measured yet */
	bool cancelled;
};

enum policy_decision { POLICY_ABORT = -1, POLICY_CONTINUE = 0, POLICY_STOP = 1 };

enum policy_why { WHY_NONE, WHY_CONVERGED, WHY_MAX_ROUNDS, WHY_MAX_BYTES, WHY_CANCELLED };

void policy_cfg_default(struct policy_cfg *cfg);
enum policy_decision policy_decide(const struct policy_cfg *cfg, const struct policy_input *in,
    enum policy_why *why);
/* Expected downtime in ms for `dirty` pages at `bandwidth` bytes/s. */
uint64_t policy_expected_downtime_ms(uint64_t dirty, uint32_t page_size, double bandwidth);
const char *policy_why_str(enum policy_why w);

#endif
