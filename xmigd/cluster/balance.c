/* cluster/balance.c - `xmig balance` and the periodic balance (balance-interval).
 *
 * The plan is cluster-wide: this host's facts and every cluster-peer's
 * (HOST_INFO: memory, vCPUs, domains and their pins) go to
 * placement_balance_plan() with the configured thresholds, so the operator
 * sees what the policy wants of the whole cluster.  This daemon runs only
 * the moves whose source is this host.  A peer may read this host's facts
 * and send it domains, but nothing lets a peer make it send its domains
 * away, so a move from another host is reported as left to that host: its
 * own `xmig balance` (or balance-interval) runs it, on its own fresh plan.
 * A move of ours that is valid only once other hosts' moves have run (the
 * destination first sheds load to a third host) is held, not run.
 *
 * The moves that run form a batch (cluster/mover.c): at most BAL_PARALLEL at once,
 * one incoming per peer, live, in plan order; each is checked again on
 * fresh facts when it starts (placement_move_check: the destination still
 * active and under the threshold; the domain pinned meanwhile?) and left
 * with the reason if not.  A failed migration is not retried: the domain
 * stays here and the next balance plans again.  A balance never overlaps an
 * evacuation or another balance (mover_reserve).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster/balance.h"
#include "cluster/cluster.h"
#include "store/hoststate.h"
#include "log.h"
#include "cluster/mover.h"
#include "placement.h"
#include "util.h"
#include "xerr.h"

#define BAL_PARALLEL 2
#define BAL_TICK_MS 200

_Static_assert((int)PLACEMENT_POLICY_EVEN == CONF_BALANCE_EVEN &&
    (int)PLACEMENT_POLICY_POWER_SAVING == CONF_BALANCE_POWER_SAVING,
    "balance-policy's values are placement's");

enum bal_run {
	BAL_HERE,	/* this host's move: run here */
	BAL_THERE,	/* another host's move: left to it */
	BAL_HELD,	/* ours, but valid only after other hosts' moves */
};

struct bal_move {
	char domain[PLACEMENT_NAME_MAX];
	char from[PLACEMENT_NAME_MAX], to[PLACEMENT_NAME_MAX];
	char why[PLACEMENT_WHY_MAX];
	uint64_t mem_mib;
	unsigned vcpus;
	enum bal_run run;
	size_t item;		/* BAL_HERE: index in mv.items */
	char note[PLACEMENT_WHY_MAX + 100];	/* BAL_THERE, BAL_HELD: why not here */
};

struct bal_host {
	char name[PLACEMENT_NAME_MAX];
	enum placement_host_state state;
	bool reachable;
	uint64_t mem_total;	/* MiB */
	double mem_pct, vcpu_pct;	/* now */
	double mem_after, vcpu_after;	/* once every move of the plan has run */
};

struct balance {
	struct mover mv;	/* the batch of the moves run here; mv.ctx = this */
	enum placement_policy policy;
	struct placement_thresholds th;
	size_t max_moves;
	bool dry_run, periodic;
	struct bal_move *moves;
	size_t nmoves;
	struct bal_host *hosts;
	size_t nhosts;
	char (*left)[PLACEMENT_WHY_MAX];	/* the plan's left: hosts it could not fix */
	size_t nleft;
	char (*emptied)[PLACEMENT_NAME_MAX];
	size_t nemptied;
	unsigned here, there, held;
};

static struct balance *bal_last;	/* the running or last balance run here */

static void
bal_free(struct balance *b)
{
	if (b == NULL)
		return;
	free(b->mv.items);
	free(b->moves);
	free(b->hosts);
	free(b->left);
	free(b->emptied);
	free(b);
}

/* ---- the batch's hooks ---- */

static void
bal_choose(struct mover *mv, const struct cluster_picture *p, size_t k, size_t i,
    struct placement_choice *ch)
{
	const struct balance *b = mv->ctx;
	const struct mover_item *e = &mv->items[i];

	if (pins_lookup(e->name, e->uuid) != PIN_NONE) {
		ch->status = PLACEMENT_NONE;
		ch->host = PLACEMENT_NO_HOST;
		snprintf(ch->why, sizeof(ch->why), "pinned since the plan was made");
		return;
	}
	placement_move_check(&p->c, k, e->to + 1, &b->th, ch);
}

static void
bal_finish(struct mover *mv)
{
	struct mover_counts n;

	mover_lock();
	mover_counts_locked(mv, &n);
	mover_unlock();
	if (n.done == n.total)
		log_info("balance: %u of %u moves done in %.1f s", n.done, n.total,
		    (double)mv->elapsed_ms / 1000.0);
	else
		log_warn("balance: %u of %u moves done in %.1f s; %u failed, %u left", n.done,
		    n.total, (double)mv->elapsed_ms / 1000.0, n.failed, n.left);
}

static void
bal_destroy(struct mover *mv)
{
	bal_free(mv->ctx);
}

static const struct mover_ops bal_ops = {
	.what = "balance",
	.noun = "balance",
	.choose = bal_choose,
	.finish = bal_finish,
	.destroy = bal_destroy,
};

/* ---- the plan ---- */

static int
bal_copy(const struct placement_cluster *c, struct placement_cluster *out)
{
	out->nhosts = c->nhosts;
	out->ndoms = c->ndoms;
	out->hosts = malloc((c->nhosts ? c->nhosts : 1) * sizeof(*out->hosts));
	out->doms = malloc((c->ndoms ? c->ndoms : 1) * sizeof(*out->doms));
	if (out->hosts == NULL || out->doms == NULL) {
		free(out->hosts);
		free(out->doms);
		return XMIG_ERR_NOMEM;
	}
	memcpy(out->hosts, c->hosts, c->nhosts * sizeof(*out->hosts));
	memcpy(out->doms, c->doms, c->ndoms * sizeof(*out->doms));
	return 0;
}

/* Which moves run here (placement_plan_split: ours, valid by themselves),
 * which are left to their host, which are held. */
static int
bal_classify(struct balance *b, const struct placement_cluster *c,
    const struct placement_plan *plan)
{
	enum placement_run *run = calloc(plan->nmoves ? plan->nmoves : 1, sizeof(*run));
	char (*why)[PLACEMENT_WHY_MAX] = calloc(plan->nmoves ? plan->nmoves : 1, sizeof(*why));
	size_t i;

	if (run == NULL || why == NULL || placement_plan_split(c, plan, 0, &b->th, run, why) != 0) {
		free(run);
		free(why);
		return XMIG_ERR_NOMEM;
	}
	for (i = 0; i < plan->nmoves; i++) {
		const struct placement_move *pm = &plan->moves[i];
		struct bal_move *m = &b->moves[i];

		strlcpy_x(m->domain, c->doms[pm->dom].name, sizeof(m->domain));
		strlcpy_x(m->from, c->hosts[pm->from].name, sizeof(m->from));
		strlcpy_x(m->to, c->hosts[pm->to].name, sizeof(m->to));
		strlcpy_x(m->why, pm->why, sizeof(m->why));
		m->mem_mib = c->doms[pm->dom].mem;
		m->vcpus = c->doms[pm->dom].vcpus;
		switch (run[i]) {
		case PLACEMENT_RUN_OTHER_HOST:
			m->run = BAL_THERE;
			snprintf(m->note, sizeof(m->note), "left to %s: run 'xmig balance' there",
			    m->from);
			b->there++;
			break;
		case PLACEMENT_RUN_HELD:
			m->run = BAL_HELD;
			snprintf(m->note, sizeof(m->note), "held until other hosts' moves have run: "
			    "now %s", why[i]);
			b->held++;
			break;
		case PLACEMENT_RUN_HERE:
			m->run = BAL_HERE;
			b->here++;
			break;
		}
	}
	free(run);
	free(why);
	return 0;
}

/* The hosts now and once the whole plan has run. */
static int
bal_hosts(struct balance *b, const struct placement_cluster *c, const struct placement_plan *plan)
{
	struct placement_cluster after;
	size_t i;

	if ((b->hosts = calloc(c->nhosts ? c->nhosts : 1, sizeof(*b->hosts))) == NULL ||
	    bal_copy(c, &after) != 0)
		return XMIG_ERR_NOMEM;
	placement_plan_apply(&after, plan);
	b->nhosts = c->nhosts;
	for (i = 0; i < c->nhosts; i++) {
		struct bal_host *h = &b->hosts[i];

		strlcpy_x(h->name, c->hosts[i].name, sizeof(h->name));
		h->state = c->hosts[i].state;
		h->reachable = c->hosts[i].reachable;
		h->mem_total = c->hosts[i].mem_total;
		h->mem_pct = placement_mem_pct(&c->hosts[i]);
		h->vcpu_pct = placement_vcpu_pct(&c->hosts[i]);
		h->mem_after = placement_mem_pct(&after.hosts[i]);
		h->vcpu_after = placement_vcpu_pct(&after.hosts[i]);
	}
	free(after.hosts);
	free(after.doms);
	return 0;
}

/* The moves this host runs as batch items, in plan order. */
static int
bal_items(struct balance *b, struct xmigd *d, const struct placement_plan *plan)
{
	size_t i;

	if ((b->mv.items = calloc(b->here ? b->here : 1, sizeof(*b->mv.items))) == NULL)
		return XMIG_ERR_NOMEM;
	for (i = 0; i < plan->nmoves; i++) {
		struct mover_item *e;
		struct hv_dominfo di;

		if (b->moves[i].run != BAL_HERE)
			continue;
		b->moves[i].item = b->mv.nitems;
		e = &b->mv.items[b->mv.nitems++];
		strlcpy_x(e->name, b->moves[i].domain, sizeof(e->name));
		/* The uuid finds its pin even if it is renamed meanwhile. */
		if (d->hv->ops->lookup(d->hv, e->name, &di) == 0)
			memcpy(e->uuid, di.uuid, sizeof(e->uuid));
		e->mem_mib = b->moves[i].mem_mib;
		e->vcpus = b->moves[i].vcpus;
		e->to = plan->moves[i].to - 1;
	}
	return 0;
}

/* Ask the peers, plan, and sort the moves out.  0 or an error with err. */
static int
bal_plan(struct xmigd *d, struct balance *b, char *err, size_t errlen)
{
	struct cluster_picture p;
	struct placement_plan plan;
	size_t i;
	int r;

	if ((r = cluster_peers_parse(d->conf.cluster_peers, cluster_default_port(d), b->mv.peers,
	    &b->mv.npeers, err, errlen)) != 0)
		return r;
	if (b->mv.npeers == 0) {
		snprintf(err, errlen, "no cluster-peers in xmigd's configuration: nothing to "
		    "balance with");
		return XMIG_ERR_INVALID;
	}
	if ((r = cluster_picture_build(d, b->mv.peers, b->mv.npeers, true, &p, err, errlen)) != 0)
		return r;
	if ((r = placement_balance_plan(&p.c, b->policy, &b->th, b->max_moves, NULL, &plan)) != 0) {
		cluster_picture_free(&p);
		snprintf(err, errlen, r == -EINVAL ? "bad balance thresholds" :
		    "out of memory");
		return r == -EINVAL ? XMIG_ERR_INVALID : XMIG_ERR_NOMEM;
	}
	r = XMIG_ERR_NOMEM;
	b->moves = calloc(plan.nmoves ? plan.nmoves : 1, sizeof(*b->moves));
	b->left = calloc(plan.nleft ? plan.nleft : 1, sizeof(*b->left));
	b->emptied = calloc(plan.nemptied ? plan.nemptied : 1, sizeof(*b->emptied));
	if (b->moves == NULL || b->left == NULL || b->emptied == NULL)
		goto out;
	b->nmoves = plan.nmoves;
	if (bal_classify(b, &p.c, &plan) != 0 || bal_hosts(b, &p.c, &plan) != 0 ||
	    bal_items(b, d, &plan) != 0)
		goto out;
	for (i = 0; i < plan.nleft; i++)
		strlcpy_x(b->left[b->nleft++], plan.left[i].why, sizeof(b->left[0]));
	for (i = 0; i < plan.nemptied; i++)
		strlcpy_x(b->emptied[b->nemptied++], p.c.hosts[plan.emptied[i]].name,
		    sizeof(b->emptied[0]));
	r = 0;
out:
	if (r != 0)
		snprintf(err, errlen, "out of memory");
	placement_plan_free(&plan);
	cluster_picture_free(&p);
	return r;
}

static struct balance *
bal_new(struct xmigd *d, enum placement_policy policy, size_t max_moves, bool dry_run,
    bool periodic)
{
	struct balance *b = calloc(1, sizeof(*b));

	if (b == NULL)
		return NULL;
	b->mv.d = d;
	b->mv.ops = &bal_ops;
	b->mv.ctx = b;
	b->mv.parallel = BAL_PARALLEL;
	b->mv.attempts = 1;
	b->mv.live = true;
	b->mv.in_order = false;	/* moves to different peers do not depend on each other */
	b->policy = policy;
	b->th.high_pct = d->conf.balance_high_pct;
	b->th.low_pct = d->conf.balance_low_pct;
	b->max_moves = max_moves;
	b->dry_run = dry_run;
	b->periodic = periodic;
	return b;
}

/* ---- what the control protocol shows ---- */

static const char *
bal_status(const struct balance *b, const struct bal_move *m)
{
	switch (m->run) {
	case BAL_THERE:
		return "other-host";
	case BAL_HELD:
		return "held";
	case BAL_HERE:
		break;
	}
	return b->dry_run ? "planned" : mover_status_str(b->mv.items[m->item].status);
}

/* Caller holds the lock (or b is not started).  -1 when out of memory. */
static int
bal_to_ctl_locked(const struct balance *b, struct ctl_balance *out)
{
	const struct mover *mv = &b->mv;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (!b->dry_run) {
		out->has_batch = true;
		mover_batch_locked(mv, &out->batch);
	}
	out->moves = calloc(b->nmoves ? b->nmoves : 1, sizeof(*out->moves));
	out->hosts = calloc(b->nhosts ? b->nhosts : 1, sizeof(*out->hosts));
	out->left = calloc(b->nleft ? b->nleft : 1, sizeof(*out->left));
	out->emptied = calloc(b->nemptied ? b->nemptied : 1, sizeof(*out->emptied));
	if (out->moves == NULL || out->hosts == NULL || out->left == NULL || out->emptied == NULL) {
		ctl_balance_free(out);
		return -1;
	}
	for (i = 0; i < b->nmoves; i++) {
		const struct bal_move *m = &b->moves[i];
		const struct mover_item *e = m->run == BAL_HERE ? &mv->items[m->item] : NULL;
		const char *reason = m->run != BAL_HERE ? m->note : e->why;
		struct ctl_balance_move *o = &out->moves[i];

		strlcpy_x(o->domain, m->domain, sizeof(o->domain));
		strlcpy_x(o->from, m->from, sizeof(o->from));
		strlcpy_x(o->to, m->to, sizeof(o->to));
		strlcpy_x(o->why, m->why, sizeof(o->why));
		o->mem_mib = (int64_t)m->mem_mib;
		o->vcpus = m->vcpus;
		strlcpy_x(o->status, bal_status(b, m), sizeof(o->status));
		strlcpy_x(o->reason, reason, sizeof(o->reason));
		o->job = o->elapsed_ms = CTL_UNSET;
		if (e != NULL && !b->dry_run) {
			if (e->job)
				o->job = (int64_t)e->job;
			o->elapsed_ms = mover_item_elapsed_ms(e);
		}
	}
	out->nmoves = b->nmoves;
	for (i = 0; i < b->nhosts; i++) {
		const struct bal_host *h = &b->hosts[i];
		struct ctl_balance_host *o = &out->hosts[i];

		strlcpy_x(o->name, h->name, sizeof(o->name));
		strlcpy_x(o->state, placement_host_state_str(h->state), sizeof(o->state));
		o->reachable = h->reachable;
		o->mem_total_mib = (int64_t)h->mem_total;
		o->mem_percent = h->mem_pct;
		o->vcpu_percent = h->vcpu_pct;
		o->mem_percent_after = h->mem_after;
		o->vcpu_percent_after = h->vcpu_after;
	}
	out->nhosts = b->nhosts;
	for (i = 0; i < b->nleft; i++)
		strlcpy_x(out->left[i], b->left[i], sizeof(out->left[i]));
	out->nleft = b->nleft;
	for (i = 0; i < b->nemptied; i++)
		strlcpy_x(out->emptied[i], b->emptied[i], sizeof(out->emptied[i]));
	out->nemptied = b->nemptied;
	strlcpy_x(out->policy, placement_policy_str(b->policy), sizeof(out->policy));
	out->dry_run = b->dry_run;
	out->periodic = b->periodic;
	out->high_percent = b->th.high_pct;
	out->low_percent = b->th.low_pct;
	out->max_moves = (int64_t)b->max_moves;
	out->planned = (int64_t)b->nmoves;
	out->here = b->here;
	out->other_hosts = b->there;
	out->held = b->held;
	return 0;
}

/* ---- running one ---- */

static void
bal_log_plan(const struct balance *b)
{
	size_t i;

	/* A periodic run with nothing to do here must not fill the log. */
	enum log_level lvl = b->here || !b->periodic ? LOG_LVL_INFO : LOG_LVL_VERBOSE;

	if (b->nmoves == 0 && b->nleft == 0) {
		log_verbose("balance (%s%s): nothing to do", placement_policy_str(b->policy),
		    b->periodic ? ", periodic" : "");
		return;
	}
	log_msg(lvl, "balance (%s%s, high %u%%, low %u%%): %zu moves planned, %u run here, %u "
	    "left to other hosts, %u held", placement_policy_str(b->policy),
	    b->periodic ? ", periodic" : "", b->th.high_pct, b->th.low_pct, b->nmoves, b->here,
	    b->there, b->held);
	for (i = 0; i < b->nmoves; i++)
		if (b->moves[i].run != BAL_HERE)
			log_verbose("balance: %s %s -> %s: %s", b->moves[i].domain,
			    b->moves[i].from, b->moves[i].to, b->moves[i].note);
	for (i = 0; i < b->nleft; i++)
		log_msg(lvl, "balance: %s", b->left[i]);
}

/* Claim the batch slot, plan and start running our moves.  Takes b (freed
 * on failure).  With held, *held is the started record with a hold for the
 * caller.  0 or an error with err set. */
static int
bal_begin(struct xmigd *d, struct balance *b, struct balance **held, char *err, size_t errlen)
{
	enum host_state hs;
	int r;

	if ((r = mover_reserve("balance", err, errlen)) != 0) {
		bal_free(b);
		return r;
	}
	/* Under the claim no evacuation can start; one that ran left the host
	 * preparing or in maintenance, and then nothing is balanced from here. */
	if (b->periodic && (hs = hoststate_get(NULL, 0)) != HOST_ACTIVE) {
		snprintf(err, errlen, "%s is %s", d->host_name, hoststate_str(hs));
		mover_release();
		bal_free(b);
		return XMIG_ERR_STATE;
	}
	if ((r = bal_plan(d, b, err, errlen)) != 0) {
		mover_release();
		bal_free(b);
		return r;
	}
	bal_log_plan(b);
	mover_lock();
	if (bal_last != NULL)
		mover_retire_locked(&bal_last->mv);
	bal_last = b;
	if (held != NULL) {
		mover_hold_locked(&b->mv);
		*held = b;
	}
	mover_unlock();
	return mover_start(&b->mv, err, errlen);
}

int
balance_start(struct xmigd *d, const struct ctl_balance_req *rq, struct balance **held,
    struct ctl_balance *out, char *err, size_t errlen)
{
	enum placement_policy policy = PLACEMENT_POLICY_EVEN;
	struct balance *b;
	int r;

	*held = NULL;
	if (placement_policy_parse(rq->policy, &policy) != 0) {
		snprintf(err, errlen, "unknown balance policy (even or power-saving)");
		return XMIG_ERR_INVALID;
	}
	if ((b = bal_new(d, policy, (size_t)rq->max_moves, rq->dry_run, false)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return XMIG_ERR_NOMEM;
	}
	if (rq->dry_run) {
		/* Only reads: no claim, nothing started. */
		if ((r = bal_plan(d, b, err, errlen)) == 0 && bal_to_ctl_locked(b, out) != 0) {
			snprintf(err, errlen, "out of memory");
			r = XMIG_ERR_NOMEM;
		}
		bal_free(b);
		return r;
	}
	if ((r = bal_begin(d, b, held, err, errlen)) != 0) {
		if (*held != NULL)
			mover_put(&(*held)->mv);
		*held = NULL;
		return r;
	}
	balance_snapshot(*held, out, &r);
	if (r != 0) {
		mover_put(&(*held)->mv);
		*held = NULL;
		snprintf(err, errlen, "out of memory");
		return XMIG_ERR_NOMEM;
	}
	return 0;
}

bool
balance_snapshot(struct balance *b, struct ctl_balance *out, int *r)
{
	bool running;

	mover_lock();
	running = b->mv.running;
	*r = bal_to_ctl_locked(b, out);
	mover_unlock();
	return running;
}

void
balance_put(struct balance *b)
{
	mover_put(&b->mv);
}

/* ---- every balance-interval seconds ---- */

static void *
bal_timer(void *arg)
{
	struct xmigd *d = arg;
	enum placement_policy policy = (enum placement_policy)d->conf.balance_policy;

	while (!atomic_load(&d->stopping)) {
		struct balance *b, *held = NULL;
		uint64_t until = now_us() + d->conf.balance_interval * 1000000ull;
		enum host_state hs;
		char err[1024], what[32];
		bool running = true;

		while (!atomic_load(&d->stopping) && now_us() < until)
			usleep(BAL_TICK_MS * 1000);
		if (atomic_load(&d->stopping))
			break;
		if ((hs = hoststate_get(NULL, 0)) != HOST_ACTIVE) {
			log_verbose("balance: periodic run skipped: %s is %s", d->host_name,
			    hoststate_str(hs));
			continue;
		}
		if (mover_busy(what, sizeof(what))) {
			log_verbose("balance: periodic run skipped: %s %s is running",
			    strcmp(what, "evacuation") == 0 ? "an" : "a", what);
			continue;
		}
		if ((b = bal_new(d, policy, 0, false, true)) == NULL)
			continue;
		if (bal_begin(d, b, &held, err, sizeof(err)) != 0) {
			log_warn("balance: periodic run: %s", err);
			if (held != NULL)
				mover_put(&held->mv);
			continue;
		}
		/* The next interval counts from the end of this run. */
		while (running) {
			usleep(BAL_TICK_MS * 1000);
			mover_lock();
			running = held->mv.running;
			mover_unlock();
		}
		mover_put(&held->mv);
	}
	return NULL;
}

void
balance_timer_start(struct xmigd *d)
{
	pthread_attr_t attr;
	pthread_t t;

	if (d->conf.balance_interval == 0)
		return;
	if (d->conf.cluster_peers[strspn(d->conf.cluster_peers, " \t")] == '\0') {
		log_warn("balance-interval is set but cluster-peers is empty: no periodic balance");
		return;
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, bal_timer, d) != 0)
		log_error("cannot start the periodic balance thread");
	else
		log_info("balance: %s every %u s", placement_policy_str((enum placement_policy)
		    d->conf.balance_policy), d->conf.balance_interval);
	pthread_attr_destroy(&attr);
}
