/* cluster/maint.c - host maintenance mode: the evacuation.
 *
 * "enter" asks every peer of cluster-peers for its facts (HOST_INFO), plans
 * with placement_evacuate_plan() (pinned domains block before anything
 * moves), switches the host to preparing-for-maintenance (persisted: from
 * then on incoming migrations are refused) and starts the batch (cluster/mover.c)
 * that keeps at most `parallel` migrations running; each domain's
 * destination is chosen with placement_choose_dest() only when its
 * migration starts, on facts fetched again then, with the migrations in
 * flight charged to their destinations and at most one incoming per peer.
 * A failed migration is retried once elsewhere (its destination may have
 * died); a domain nothing can take is left with the reason.  All gone: the
 * host is in maintenance; else it stays preparing.
 *
 * One evacuation at a time, and never during a balance; its record stays
 * for "status" until the next, guarded by mover_lock().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster.h"
#include "store/hoststate.h"
#include "log.h"
#include "cluster/maint.h"
#include "cluster/mover.h"
#include "placement.h"
#include "util.h"
#include "xerr.h"

#define MAINT_ATTEMPTS 2	/* a failed migration is tried once more, elsewhere */

static struct mover *maint_ev;	/* the current or last evacuation */

static void
maint_free(struct mover *ev)
{
	if (ev != NULL) {
		free(ev->items);
		free(ev);
	}
}

/* ---- what the control protocol shows ---- */

/* Caller holds the lock.  -1 when out of memory. */
static int
evac_to_ctl_locked(const struct mover *ev, struct ctl_evac *out)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	mover_batch_locked(ev, &out->batch);
	strlcpy_x(out->host_state, hoststate_str(hoststate_get(NULL, 0)), sizeof(out->host_state));
	if ((out->domains = calloc(ev->nitems ? ev->nitems : 1, sizeof(*out->domains))) == NULL)
		return -1;
	out->ndomains = ev->nitems;
	for (i = 0; i < ev->nitems; i++) {
		const struct mover_item *e = &ev->items[i];
		struct ctl_evac_item *o = &out->domains[i];

		strlcpy_x(o->name, e->name, sizeof(o->name));
		o->mem_mib = (int64_t)e->mem_mib;
		o->vcpus = e->vcpus;
		strlcpy_x(o->status, mover_status_str(e->status), sizeof(o->status));
		strlcpy_x(o->dest, e->dest, sizeof(o->dest));
		strlcpy_x(o->why, e->why, sizeof(o->why));
		o->elapsed_ms = mover_item_elapsed_ms(e);
		o->job = e->job ? (int64_t)e->job : CTL_UNSET;
	}
	return 0;
}

int
maint_status(struct ctl_maint_status *out)
{
	enum host_state hs;
	int r = 0;

	memset(out, 0, sizeof(*out));
	hs = hoststate_get(out->reason, sizeof(out->reason));
	strlcpy_x(out->state, hoststate_str(hs), sizeof(out->state));
	mover_lock();
	if (maint_ev != NULL) {
		out->has_evacuation = true;
		r = evac_to_ctl_locked(maint_ev, &out->evacuation);
	}
	mover_unlock();
	if (r != 0)
		ctl_maint_status_free(out);
	return r;
}

bool
maint_snapshot(struct mover *ev, struct ctl_evac *out, int *r)
{
	bool running;

	mover_lock();
	running = ev->running;
	*r = evac_to_ctl_locked(ev, out);
	mover_unlock();
	return running;
}

/* ---- the batch's hooks ---- */

/* Where items[i] goes: the placement rule on the fresh picture, among the
 * --to peers where it has not failed yet. */
static void
evac_choose(struct mover *ev, const struct cluster_picture *p, size_t k, size_t i,
    struct placement_choice *ch)
{
	unsigned char allowed[CLUSTER_PEERS_MAX + 1];
	struct placement_opts opts;
	size_t n;

	memset(&opts, 0, sizeof(opts));
	allowed[0] = 0;
	for (n = 0; n < ev->npeers; n++)
		allowed[n + 1] = ev->peers[n].allowed && !ev->items[i].avoid[n];
	opts.dest_allowed = allowed;
	placement_choose_dest(&p->c, k, &opts, ch);
}

static void
evac_finish(struct mover *ev)
{
	struct xmigd *d = ev->d;
	struct mover_counts n;
	int r;

	mover_lock();
	mover_counts_locked(ev, &n);
	mover_unlock();
	if (n.done + n.shut_down == n.total) {
		char reason[HOSTSTATE_REASON_MAX];

		hoststate_get(reason, sizeof(reason));
		if ((r = hoststate_set(HOST_MAINTENANCE, reason)) != 0)
			log_error("maintenance: cannot record the host state: %s",
			    xmig_strerror(r));
		log_info("maintenance: %u domains moved%s%.0u%s in %.1f s; %s is in maintenance",
		    n.done, n.shut_down ? ", " : "", n.shut_down, n.shut_down ? " shut down" : "",
		    (double)ev->elapsed_ms / 1000.0, d->host_name);
	} else {
		log_warn("maintenance: evacuation incomplete after %.1f s; %s stays "
		    "preparing-for-maintenance", (double)ev->elapsed_ms / 1000.0, d->host_name);
	}
}

static void
evac_destroy(struct mover *ev)
{
	maint_free(ev);
}

static const struct mover_ops evac_ops = {
	.what = "maintenance",
	.noun = "evacuation",
	.choose = evac_choose,
	.finish = evac_finish,
	.destroy = evac_destroy,
};

/* ---- entering, leaving ---- */

/* This host's domains (dom0 aside) as items. */
static int
maint_items(struct mover *ev, char *err, size_t errlen)
{
	struct hv_dominfo *doms = NULL;
	size_t nd = 0, i;
	int r;

	if ((r = ev->d->hv->ops->list(ev->d->hv, &doms, &nd)) != 0 ||
	    (ev->items = calloc(nd ? nd : 1, sizeof(*ev->items))) == NULL) {
		free(doms);
		snprintf(err, errlen, "cannot list this host's domains");
		return r ? r : XMIG_ERR_NOMEM;
	}
	for (i = 0; i < nd; i++) {
		struct mover_item *e;

		if (doms[i].id == 0)
			continue;
		e = &ev->items[ev->nitems++];
		strlcpy_x(e->name, doms[i].name, sizeof(e->name));
		memcpy(e->uuid, doms[i].uuid, 16);
		e->mem_mib = (doms[i].memory + CLUSTER_MIB - 1) / CLUSTER_MIB;
		e->vcpus = doms[i].vcpus;
		e->pinned = pins_lookup(doms[i].name, doms[i].uuid) != PIN_NONE;
		e->to = MOVER_ANY;
	}
	free(doms);
	return 0;
}

/* Items in the plan's order (largest first); unplaceable ones keep their
 * slot and are tried again when their turn comes, on fresh facts. */
static int
maint_order(struct mover *ev, const struct cluster_picture *p, const struct placement_plan *plan)
{
	struct mover_item *ordered = calloc(ev->nitems ? ev->nitems : 1, sizeof(*ordered));
	unsigned char *used = calloc(ev->nitems ? ev->nitems : 1, 1);
	size_t k, n = 0;

	if (ordered == NULL || used == NULL) {
		free(ordered);
		free(used);
		return XMIG_ERR_NOMEM;
	}
	for (k = 0; k < plan->nmoves; k++) {
		size_t e = p->dom_of[plan->moves[k].dom];

		ordered[n] = ev->items[e];
		ordered[n++].shutdown = plan->moves[k].action == PLACEMENT_SHUTDOWN;
		used[e] = 1;
	}
	for (k = 0; k < plan->nleft; k++) {
		size_t e;

		if (plan->left[k].dom == PLACEMENT_NO_HOST)
			continue;
		e = p->dom_of[plan->left[k].dom];
		if (used[e])
			continue;
		ordered[n] = ev->items[e];
		snprintf(ordered[n].why, sizeof(ordered[n].why), "%s", plan->left[k].why);
		n++;
		used[e] = 1;
	}
	for (k = 0; k < ev->nitems; k++)
		if (!used[k])
			ordered[n++] = ev->items[k];
	free(used);
	free(ev->items);
	ev->items = ordered;
	return 0;
}

/* Plan, refuse on pins, switch to preparing, start the batch.  On refusal
 * returns nonzero with err set and nothing changed.  The caller holds the
 * batch claim (mover_reserve).  Once the record is installed, *held is it,
 * with a hold for the caller (even if its thread could not start). */
static int
maint_plan_start(struct xmigd *d, const struct ctl_maint_req *rq, struct mover **held, char *err,
    size_t errlen)
{
	const char *to = rq->to[0] ? rq->to : NULL, *reason = rq->reason[0] ? rq->reason : NULL;
	unsigned char allowed[CLUSTER_PEERS_MAX + 1];
	struct placement_opts opts;
	struct cluster_picture p;
	struct placement_plan plan;
	struct mover *ev;
	size_t i, k;
	int r;

	if (hoststate_get(NULL, 0) == HOST_MAINTENANCE) {
		snprintf(err, errlen, "%s is already in maintenance", d->host_name);
		return XMIG_ERR_STATE;
	}
	if ((ev = calloc(1, sizeof(*ev))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return XMIG_ERR_NOMEM;
	}
	ev->d = d;
	ev->ops = &evac_ops;
	ev->parallel = (unsigned)rq->parallel;
	ev->attempts = MAINT_ATTEMPTS;
	ev->in_order = true;
	ev->live = rq->live;
	if ((r = cluster_peers_parse(d->conf.cluster_peers, cluster_default_port(d), ev->peers,
	    &ev->npeers, err, errlen)) != 0 || (ev->npeers > 0 && to != NULL &&
	    (r = cluster_peers_restrict(ev->peers, ev->npeers, to, err, errlen)) != 0)) {
		maint_free(ev);
		return r;
	}
	if (ev->npeers == 0) {
		snprintf(err, errlen, "no cluster-peers in xmigd's configuration: nowhere to "
		    "evacuate to");
		maint_free(ev);
		return XMIG_ERR_INVALID;
	}
	/* The plan on the facts of now: who blocks, who can go at all. */
	if ((r = cluster_picture_build(d, ev->peers, ev->npeers, false, &p, err, errlen)) != 0) {
		maint_free(ev);
		return r;
	}
	if ((r = maint_items(ev, err, errlen)) != 0) {
		cluster_picture_free(&p);
		maint_free(ev);
		return r;
	}
	memset(&opts, 0, sizeof(opts));
	allowed[0] = 0;
	for (i = 0; i < ev->npeers; i++)
		allowed[i + 1] = ev->peers[i].allowed;
	opts.dest_allowed = allowed;
	opts.shutdown_pinned = rq->shutdown_pinned;
	if (mover_picture_doms(ev, &p) != 0 ||
	    placement_evacuate_plan(&p.c, 0, &opts, &plan) != 0) {
		cluster_picture_free(&p);
		maint_free(ev);
		snprintf(err, errlen, "out of memory");
		return XMIG_ERR_NOMEM;
	}
	if (plan.blocked || (plan.nmoves > 0 && d->hv->ops->shutdown == NULL &&
	    plan.moves[plan.nmoves - 1].action == PLACEMENT_SHUTDOWN)) {
		size_t len;

		len = (size_t)snprintf(err, errlen, plan.blocked ? "pinned domains block "
		    "maintenance (unpin them first):" : "--shutdown-pinned: this backend "
		    "cannot shut domains down cleanly yet; pinned:");
		for (k = 0; k < ev->nitems; k++)
			if (ev->items[k].pinned && len < errlen)
				len += (size_t)snprintf(err + len, errlen - len, " %s",
				    ev->items[k].name);
		placement_plan_free(&plan);
		cluster_picture_free(&p);
		maint_free(ev);
		return XMIG_ERR_DENIED;
	}
	r = maint_order(ev, &p, &plan);
	placement_plan_free(&plan);
	cluster_picture_free(&p);
	if (r != 0) {
		maint_free(ev);
		snprintf(err, errlen, "out of memory");
		return r;
	}
	if ((r = hoststate_set(HOST_PREPARING, reason ? reason : "")) != 0) {
		snprintf(err, errlen, "cannot write the host state: %s", xmig_strerror(r));
		maint_free(ev);
		return r;
	}
	mover_lock();
	if (maint_ev != NULL)
		mover_retire_locked(maint_ev);
	maint_ev = ev;
	mover_hold_locked(ev);
	*held = ev;
	mover_unlock();
	log_info("maintenance: %s is preparing-for-maintenance%s%s: evacuating %zu domains to "
	    "%zu peers, %u at a time", d->host_name, reason ? ": " : "", reason ? reason : "",
	    ev->nitems, ev->npeers, ev->parallel);
	return mover_start(ev, err, errlen);
}

/* Refused while an evacuation runs: nothing may change under it. */
static int
maint_idle(char *err, size_t errlen)
{
	bool running;

	mover_lock();
	running = maint_ev != NULL && maint_ev->running;
	mover_unlock();
	if (!running)
		return 0;
	snprintf(err, errlen, "an evacuation is running; see 'xmig maintenance status'");
	return XMIG_ERR_BUSY;
}

int
maint_exit(struct xmigd *d, char *err, size_t errlen)
{
	int r;

	if ((r = maint_idle(err, errlen)) != 0)
		return r;
	if ((r = hoststate_set(HOST_ACTIVE, "")) != 0) {
		snprintf(err, errlen, "cannot write the host state: %s", xmig_strerror(r));
		return r;
	}
	log_info("%s leaves maintenance: active", d->host_name);
	return 0;
}

int
maint_enter(struct xmigd *d, const struct ctl_maint_req *rq, struct mover **held, char *err,
    size_t errlen)
{
	struct mover *ev = NULL;
	int r;

	*held = NULL;
	if ((r = maint_idle(err, errlen)) != 0)
		return r;
	/* Two clients racing here, or a balance running: refused, never
	 * replacing a record a running batch uses. */
	if ((r = mover_reserve("evacuation", err, errlen)) != 0)
		return r;
	if ((r = maint_plan_start(d, rq, &ev, err, errlen)) != 0) {
		mover_release();
		if (ev != NULL)
			mover_put(ev);
		return r;
	}
	*held = ev;
	return 0;
}
