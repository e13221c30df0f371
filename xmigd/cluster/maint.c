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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/cluster.h"
#include "ctl.h"
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

/* ---- JSON ---- */

static json_t *
evac_to_json_locked(const struct mover *ev)
{
	json_t *o = mover_json_locked(ev), *a = json_array();
	size_t i;

	for (i = 0; i < ev->nitems; i++) {
		const struct mover_item *e = &ev->items[i];
		json_t *jd;

		jd = json_pack("{s:s, s:I, s:i, s:s, s:s?, s:s?, s:I}", "name", e->name,
		    "mem_mib", (json_int_t)e->mem_mib, "vcpus", (int)e->vcpus,
		    "status", mover_status_str(e->status), "dest", e->dest[0] ? e->dest : NULL,
		    "why", e->why[0] ? e->why : NULL, "elapsed_ms", (json_int_t)(e->status ==
		    MOVER_MIGRATING ? (now_us() - e->t_start_us) / 1000 : e->elapsed_ms));
		if (jd != NULL && e->job)
			json_object_set_new(jd, "job", json_integer(e->job));
		json_array_append_new(a, jd);
	}
	if (o != NULL) {
		json_object_set_new(o, "host_state", json_string(hoststate_str(hoststate_get(NULL,
		    0))));
		json_object_set_new(o, "domains", a);
	} else {
		json_decref(a);
	}
	return o;
}

static json_t *
maint_status_json(void)
{
	char reason[HOSTSTATE_REASON_MAX];
	enum host_state hs = hoststate_get(reason, sizeof(reason));
	json_t *o = json_pack("{s:b, s:s, s:s}", "ok", 1, "state", hoststate_str(hs), "reason",
	    reason);

	mover_lock();
	if (o != NULL && maint_ev != NULL)
		json_object_set_new(o, "evacuation", evac_to_json_locked(maint_ev));
	mover_unlock();
	return o;
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

/* ---- the request ---- */

static int
maint_send(int fd, json_t *o)
{
	int r = ctl_send(fd, o);

	json_decref(o);
	return r == 0 ? 0 : -1;
}

static int
maint_error(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
maint_error(int fd, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return maint_send(fd, json_pack("{s:b, s:s}", "ok", 0, "error", msg));
}

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
maint_enter(struct xmigd *d, json_t *req, struct mover **held, char *err, size_t errlen)
{
	const char *to = json_string_value(json_object_get(req, "to"));
	const char *reason = json_string_value(json_object_get(req, "reason"));
	json_t *jp = json_object_get(req, "parallel");
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
	ev->parallel = 2;
	ev->attempts = MAINT_ATTEMPTS;
	ev->in_order = true;
	if (jp != NULL && !json_is_null(jp)) {
		if (!json_is_integer(jp) || json_integer_value(jp) < 1 ||
		    json_integer_value(jp) > 64) {
			maint_free(ev);
			snprintf(err, errlen, "parallel must be 1-64");
			return XMIG_ERR_INVALID;
		}
		ev->parallel = (unsigned)json_integer_value(jp);
	}
	ev->live = !json_is_false(json_object_get(req, "live"));
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
	opts.shutdown_pinned = json_is_true(json_object_get(req, "shutdown_pinned"));
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

int
maint_ctl(struct xmigd *d, int fd, json_t *req)
{
	const char *action = json_string_value(json_object_get(req, "action"));
	struct mover *ev = NULL;
	char err[1024];
	bool running;
	int r;

	if (action == NULL)
		return maint_error(fd, "maintenance needs an action (enter, exit, status)");
	if (strcmp(action, "status") == 0)
		return maint_send(fd, maint_status_json());
	mover_lock();
	running = maint_ev != NULL && maint_ev->running;
	mover_unlock();
	if (running)
		return maint_error(fd, "an evacuation is running; see 'xmig maintenance status'");
	if (strcmp(action, "exit") == 0) {
		if ((r = hoststate_set(HOST_ACTIVE, "")) != 0)
			return maint_error(fd, "cannot write the host state: %s", xmig_strerror(r));
		log_info("%s leaves maintenance: active", d->host_name);
		return maint_send(fd, maint_status_json());
	}
	if (strcmp(action, "enter") != 0)
		return maint_error(fd, "unknown maintenance action (enter, exit, status)");
	/* Two clients racing here, or a balance running: refused, never
	 * replacing a record a running batch uses. */
	if (mover_reserve("evacuation", err, sizeof(err)) != 0)
		return maint_error(fd, "%s", err);
	r = maint_enter(d, req, &ev, err, sizeof(err));
	if (r != 0) {
		mover_release();
		if (ev != NULL)
			mover_put(ev);
		return maint_error(fd, "%s", err);
	}
	if (maint_send(fd, maint_status_json()) != 0) {
		mover_put(ev);
		return -1;
	}
	if (json_is_true(json_object_get(req, "watch")))
		return mover_watch(fd, ev, "evacuation", evac_to_json_locked);
	mover_put(ev);
	return 0;
}
