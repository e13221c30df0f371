/* placement.h - where domains go: maintenance evacuation and cluster balance.
 *
 * A pure module: it reads a cluster description the caller builds (from the
 * host-info replies of its peers and its own facts), does no I/O, keeps no
 * globals and is deterministic (same input, same answer: every ordering ends
 * on the host or domain name, then the array index).  Only plans allocate;
 * free them with placement_plan_free().
 *
 * Memory is in MiB.  A host's used memory is total - free (so dom0 and
 * anything else Xen accounts for counts as used); "usable" free memory is
 * free - reserve.  vCPU load is vcpus_used / vcpus_total, where vcpus_total is
 * what the host is willing to run (pCPUs times any overcommit the admin
 * allows), so the same percentage thresholds apply to memory and vCPUs.
 *
 * How the daemon is expected to use it (issue 6):
 *  - `xmig maintenance enter`: placement_evacuate_plan() first.  If
 *    plan.blocked, refuse and print plan.left (the pinned domains) before
 *    anything moves.  Otherwise the plan's order (largest first) is the
 *    dispatch order; for each domain, at the moment it is dispatched, call
 *    placement_choose_dest() on the current picture (hosts refreshed by
 *    host-info, `incoming` = migrations in flight to each host, and the
 *    memory of in-flight domains already taken off the destination, e.g. by
 *    placement_apply()).  PLACEMENT_BUSY means wait for a slot;
 *    PLACEMENT_NONE means leave the domain and report choice.why.
 *  - `xmig balance [--dry-run]`: placement_balance_plan(); print the moves,
 *    or run in order (each move is valid on the state left by the ones
 *    before it) those placement_plan_split() gives this host, checking each
 *    again with placement_move_check() on fresh facts when it starts.
 *  - `xmig migrate DOM` without a destination: placement_choose_dest().
 */
#ifndef XMIG_PLACEMENT_H
#define XMIG_PLACEMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PLACEMENT_NAME_MAX 64
#define PLACEMENT_WHY_MAX 160
#define PLACEMENT_NO_HOST ((size_t)-1)

enum placement_host_state {
	PLACEMENT_ACTIVE,
	PLACEMENT_PREPARING,	/* preparing-for-maintenance: no incoming */
	PLACEMENT_MAINTENANCE,	/* no incoming, not part of any balance */
};

struct placement_host {
	char name[PLACEMENT_NAME_MAX];
	uint64_t mem_total;	/* MiB */
	uint64_t mem_free;	/* MiB, as the hypervisor reports it */
	uint64_t reserve;	/* MiB that placement never hands out */
	unsigned vcpus_total;	/* vCPUs the host will run; 0 = no vCPU accounting */
	unsigned vcpus_used;
	enum placement_host_state state;
	bool reachable;		/* answered its last host-info request */
	uint32_t features;	/* compatibility flags it offers (CPU, Xen version class, ...) */
	unsigned max_incoming;	/* concurrent incoming migrations allowed; 0 = no limit */
	unsigned incoming;	/* migrations in flight to it now (placement_choose_dest only) */
};

struct placement_domain {
	char name[PLACEMENT_NAME_MAX];
	size_t host;		/* index into cluster.hosts */
	uint64_t mem;		/* MiB */
	unsigned vcpus;
	bool pinned;		/* `xmig pin`: no automatic migration */
	bool migratable;	/* false e.g. for PCI passthrough */
	uint32_t requires;	/* features every destination must offer */
};

struct placement_cluster {
	struct placement_host *hosts;
	size_t nhosts;
	struct placement_domain *doms;
	size_t ndoms;
};

struct placement_opts {
	/* nhosts flags, nonzero = may receive (`maintenance enter --to`); NULL = all. */
	const unsigned char *dest_allowed;
	/* Refuse a destination whose vcpus_used would exceed vcpus_total. */
	bool vcpu_limit;
	/* Evacuation: pinned domains are shut down instead of blocking. */
	bool shutdown_pinned;
};

enum placement_status {
	PLACEMENT_OK = 0,
	PLACEMENT_BUSY = 1,	/* hosts fit, but all are at their incoming limit: retry later */
	PLACEMENT_NONE = 2,	/* nothing fits; why says what was missing */
};

struct placement_choice {
	enum placement_status status;
	size_t host;		/* PLACEMENT_OK: the destination; else PLACEMENT_NO_HOST */
	char why[PLACEMENT_WHY_MAX];
};

/* The best destination for doms[dom] now, to spread the load: among peers
 * that are active, reachable, allowed, offer its required features, are not
 * its host, keep `reserve` MiB free after taking it (and vCPUs within
 * vcpus_total with opts.vcpu_limit) and are under max_incoming, the one with
 * the most usable free memory after placement; ties go to the lower vCPU
 * load, then the name.  Ignores the pinned flag (the caller decides whether a
 * manual migration of a pinned domain is allowed); refuses non-migratable
 * domains.  opts may be NULL.  Returns the status (also in out->status), or
 * -EINVAL for a bad index. */
int placement_choose_dest(const struct placement_cluster *c, size_t dom,
    const struct placement_opts *opts, struct placement_choice *out);

enum placement_action {
	PLACEMENT_MIGRATE,
	PLACEMENT_SHUTDOWN,	/* evacuation with shutdown_pinned */
};

struct placement_move {
	size_t dom, from, to;	/* to = PLACEMENT_NO_HOST for a shutdown */
	enum placement_action action;
	char why[PLACEMENT_WHY_MAX];
};

/* A domain the plan does not move, or a host it could not bring where the
 * policy wanted it (dom = PLACEMENT_NO_HOST then). */
struct placement_left {
	size_t dom, host;
	char why[PLACEMENT_WHY_MAX];
};

struct placement_plan {
	struct placement_move *moves;
	size_t nmoves;
	struct placement_left *left;
	size_t nleft;
	bool blocked;		/* evacuation: pinned domains forbid starting; no moves */
	size_t *emptied;	/* hosts with no domain left once the plan has run */
	size_t nemptied;
};

/* Plan emptying hosts[source] for maintenance.  Largest domains first (memory,
 * then vCPUs, then name), each placed by the placement_choose_dest() rule
 * against the state left by the earlier ones; `incoming` and max_incoming are
 * ignored (they limit concurrency at dispatch time, not where domains end
 * up).  Pinned domains: without opts.shutdown_pinned the plan is blocked and
 * lists them in left, with no moves; with it they become PLACEMENT_SHUTDOWN
 * steps at the end.  Non-migratable and unplaceable domains go into left
 * with the reason; the rest are still planned.  emptied holds the source
 * when nothing is left.  0, -EINVAL or -ENOMEM. */
int placement_evacuate_plan(const struct placement_cluster *c, size_t source,
    const struct placement_opts *opts, struct placement_plan *plan);

enum placement_policy {
	PLACEMENT_POLICY_EVEN,
	PLACEMENT_POLICY_POWER_SAVING,
};

struct placement_thresholds {
	unsigned high_pct;	/* balance-high-percent: memory and vCPU utilisation */
	unsigned low_pct;	/* balance-low-percent: power-saving empties hosts below it */
};

#define PLACEMENT_DEFAULT_HIGH_PCT 80
#define PLACEMENT_DEFAULT_LOW_PCT 20

/* Plan a balance over the active, reachable hosts (others neither give nor
 * take).  Pinned and non-migratable domains never move.  max_moves 0 = no
 * limit.  opts may be NULL (dest_allowed and vcpu_limit apply; the thresholds
 * already bound vCPUs).
 *  even: hosts above high_pct (memory or vCPU) shed domains, most loaded host
 *    first, with the fewest moves (a single domain covering the excess if
 *    one exists, the smallest such; otherwise the largest, and again), each
 *    to the peer with the most headroom under high_pct that stays under it
 *    in both.  A host that cannot get under is reported in left.
 *  power-saving: hosts in use whose memory and vCPU load are below low_pct
 *    are emptied, least loaded first, packing each domain (largest first)
 *    onto the busiest host in use that stays under high_pct and keeps its
 *    reserve (best fit).  A host is emptied entirely or not at all; one that
 *    cannot be (pinned, no room, move budget) is reported in left.  Hosts
 *    idle from the start are not used as destinations.
 * 0, -EINVAL or -ENOMEM. */
int placement_balance_plan(const struct placement_cluster *c, enum placement_policy policy,
    const struct placement_thresholds *th, size_t max_moves,
    const struct placement_opts *opts, struct placement_plan *plan);

void placement_plan_free(struct placement_plan *plan);

/* Whether hosts[to] can take doms[dom] now: how the daemon checks a planned
 * balance move again, on fresh facts, when it starts.  to must be active,
 * reachable and not the domain's host, offer the features it requires, keep
 * its reserve after taking it and, with th, stay at or under th->high_pct in
 * memory and vCPUs; PLACEMENT_BUSY when all that holds but to is at its
 * incoming limit.  The pinned flag is the caller's business.  out->why says
 * what failed.  Returns the status, or -EINVAL for a bad index. */
int placement_move_check(const struct placement_cluster *c, size_t dom, size_t to,
    const struct placement_thresholds *th, struct placement_choice *out);

enum placement_run {
	PLACEMENT_RUN_HERE,		/* hosts[host]'s own move, valid by itself */
	PLACEMENT_RUN_OTHER_HOST,	/* another host's move */
	PLACEMENT_RUN_HELD,		/* its own, but valid only after others' moves */
};

/* The part of a balance plan that hosts[host] can run by itself (a daemon
 * runs only the moves whose source is its own host): run[i] for each move.
 * Its own moves are replayed in order on the picture where only its own
 * earlier runnable moves have run, each checked with placement_move_check
 * (th; incoming limits aside); one that fails is held, with the reason in
 * why[i] when why is not NULL (e.g. its destination first sheds load through
 * another host's move).  0, -EINVAL or -ENOMEM. */
int placement_plan_split(const struct placement_cluster *c, const struct placement_plan *plan,
    size_t host, const struct placement_thresholds *th, enum placement_run *run,
    char (*why)[PLACEMENT_WHY_MAX]);

/* Move doms[dom] to hosts[to] in the picture (memory and vCPUs leave its host
 * and land on `to`); to = PLACEMENT_NO_HOST removes it from its host (shut
 * down; domain.host becomes PLACEMENT_NO_HOST).  For the daemon's model of
 * in-flight migrations and for replaying plans. */
void placement_apply(struct placement_cluster *c, size_t dom, size_t to);
/* Apply every move of a plan in order. */
void placement_plan_apply(struct placement_cluster *c, const struct placement_plan *plan);

/* Spread over the active hosts (utilisation in percent). */
struct placement_spread {
	size_t hosts;		/* active hosts counted */
	size_t in_use;		/* of which run at least one domain */
	double mem_min, mem_max, mem_mean, mem_stddev;
	double vcpu_min, vcpu_max, vcpu_mean, vcpu_stddev;
	size_t over_high;	/* hosts above high_pct in memory or vCPUs (if th given) */
};

void placement_spread(const struct placement_cluster *c, const struct placement_thresholds *th,
    struct placement_spread *out);

/* Utilisation of one host in percent (0 when total is 0). */
double placement_mem_pct(const struct placement_host *h);
double placement_vcpu_pct(const struct placement_host *h);

/* "even" / "power-saving" <-> enum; parse returns -EINVAL for anything else. */
int placement_policy_parse(const char *s, enum placement_policy *out);
const char *placement_policy_str(enum placement_policy p);
const char *placement_host_state_str(enum placement_host_state s);

#endif
