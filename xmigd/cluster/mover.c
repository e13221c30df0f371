/* cluster/mover.c - the thread that runs a batch of outgoing migrations (cluster/mover.h).
 *
 * The loop: reap finished jobs; when a slot is free (or a while has passed)
 * ask the peers for fresh facts, charge the migrations in flight to their
 * destinations, and start the next items whose destination the batch's
 * choose() accepts.  A failed migration is tried again on another peer
 * while attempts remain; an item nothing can take is left with the reason.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctlmsg.h"
#include "engine/engine.h"
#include "store/jobs.h"
#include "log.h"
#include "cluster/mover.h"
#include "util.h"
#include "xerr.h"

#define MOVER_TICK_MS 200
#define MOVER_REFRESH_MS 2000	/* peers' facts, at the latest, while waiting */

static pthread_mutex_t mover_mtx = PTHREAD_MUTEX_INITIALIZER;
static struct mover *mover_cur;		/* the running (or last) batch */
static const char *mover_claim;		/* noun of a batch being set up */

void
mover_lock(void)
{
	pthread_mutex_lock(&mover_mtx);
}

void
mover_unlock(void)
{
	pthread_mutex_unlock(&mover_mtx);
}

const char *
mover_status_str(enum mover_status s)
{
	static const char *const names[] = { "pending", "migrating", "done", "failed", "left",
		"shutting-down", "shut-down" };

	return names[s];
}

int
mover_reserve(const char *noun, char *err, size_t errlen)
{
	const char *busy = NULL;

	mover_lock();
	if (mover_claim != NULL)
		busy = mover_claim;
	else if (mover_cur != NULL && mover_cur->running)
		busy = mover_cur->ops->noun;
	else
		mover_claim = noun;
	mover_unlock();
	if (busy == NULL)
		return 0;
	snprintf(err, errlen, "%s %s is running%s", strcmp(busy, "evacuation") == 0 ? "an" : "a",
	    busy, strcmp(busy, "evacuation") == 0 ? "; see 'xmig maintenance status'" : "");
	return XMIG_ERR_BUSY;
}

void
mover_release(void)
{
	mover_lock();
	mover_claim = NULL;
	mover_unlock();
}

void
mover_hold_locked(struct mover *mv)
{
	mv->refs++;
}

void
mover_put(struct mover *mv)
{
	mover_lock();
	if (--mv->refs == 0 && mv->retired)
		mv->ops->destroy(mv);
	mover_unlock();
}

void
mover_retire_locked(struct mover *mv)
{
	if (mover_cur == mv)
		mover_cur = NULL;
	mv->retired = true;
	if (mv->refs == 0)
		mv->ops->destroy(mv);
}

bool
mover_busy(char *what, size_t len)
{
	bool busy;

	mover_lock();
	busy = mover_claim != NULL || (mover_cur != NULL && mover_cur->running);
	if (busy && what != NULL)
		snprintf(what, len, "%s", mover_claim ? mover_claim : mover_cur->ops->noun);
	mover_unlock();
	return busy;
}

void
mover_counts_locked(const struct mover *mv, struct mover_counts *out)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	out->total = (unsigned)mv->nitems;
	for (i = 0; i < mv->nitems; i++)
		switch (mv->items[i].status) {
		case MOVER_PENDING: out->pending++; break;
		case MOVER_MIGRATING: out->migrating++; break;
		case MOVER_DONE: out->done++; break;
		case MOVER_FAILED: out->failed++; break;
		case MOVER_LEFT: out->left++; break;
		case MOVER_SHUTTING_DOWN: out->shutting_down++; break;
		case MOVER_SHUT_DOWN: out->shut_down++; break;
		}
}

void
mover_batch_locked(const struct mover *mv, struct ctl_batch *out)
{
	struct mover_counts n;

	mover_counts_locked(mv, &n);
	memset(out, 0, sizeof(*out));
	strlcpy_x(out->state, mv->running ? "running" : "finished", sizeof(out->state));
	out->started_wall_ms = (int64_t)mv->started_wall_ms;
	out->elapsed_ms = (int64_t)(mv->running ? (now_us() - mv->t_start_us) / 1000 :
	    mv->elapsed_ms);
	out->total = n.total;
	out->moved = n.done;
	out->migrating = n.migrating;
	out->failed = n.failed + n.left;
	out->pending = n.pending;
	out->parallel = mv->parallel;
	out->live = mv->live;
	strlcpy_x(out->error, mv->error, sizeof(out->error));
	out->shut_down = n.shut_down || n.shutting_down ? (int64_t)n.shut_down : CTL_UNSET;
}

int64_t
mover_item_elapsed_ms(const struct mover_item *e)
{
	return (int64_t)(e->status == MOVER_MIGRATING ? (now_us() - e->t_start_us) / 1000 :
	    e->elapsed_ms);
}

/* Finished jobs of ours: done, or failed (back to pending for a retry on
 * another peer, if attempts remain). */
static void
mover_reap_locked(struct mover *mv)
{
	const char *what = mv->ops->what;
	size_t i;

	for (i = 0; i < mv->nitems; i++) {
		struct mover_item *e = &mv->items[i];
		struct job *j;
		bool ok = false, fin = false;
		char err[512] = "";

		if (e->status != MOVER_MIGRATING)
			continue;
		/* job_get takes the job lock itself, and a reference. */
		if ((j = job_get(e->job)) == NULL) {
			fin = true;
			snprintf(err, sizeof(err), "job %llu vanished", (unsigned long long)e->job);
		} else {
			job_lock();
			if (job_finished(j)) {
				fin = true;
				ok = j->state == JOB_DONE;
				strlcpy_x(err, j->error[0] ? j->error : job_result_name(j),
				    sizeof(err));
			}
			job_unlock();
			job_put(j);
		}
		if (!fin)
			continue;
		e->elapsed_ms = (now_us() - e->t_start_us) / 1000;
		if (ok) {
			e->status = MOVER_DONE;
			e->why[0] = '\0';
			log_info("%s: %s now runs on %s (%.1f s)", what, e->name, e->dest,
			    (double)e->elapsed_ms / 1000.0);
			continue;
		}
		snprintf(e->why, sizeof(e->why), "migration to %.260s failed: %.250s", e->dest,
		    err);
		log_warn("%s: %s: %s", what, e->name, e->why);
		if (e->attempts < mv->attempts) {
			size_t k;

			for (k = 0; k < mv->npeers; k++)
				if (strcmp(mv->peers[k].name, e->dest) == 0)
					e->avoid[k] = 1;
			e->status = MOVER_PENDING;
		} else {
			e->status = MOVER_FAILED;
		}
	}
}

static unsigned
mover_count_locked(const struct mover *mv, enum mover_status s)
{
	unsigned n = 0;
	size_t i;

	for (i = 0; i < mv->nitems; i++)
		n += mv->items[i].status == s;
	return n;
}

int
mover_picture_doms(const struct mover *mv, struct cluster_picture *p)
{
	size_t i;

	p->c.doms = calloc(mv->nitems ? mv->nitems : 1, sizeof(*p->c.doms));
	p->dom_of = calloc(mv->nitems ? mv->nitems : 1, sizeof(*p->dom_of));
	if (p->c.doms == NULL || p->dom_of == NULL)
		return XMIG_ERR_NOMEM;
	p->c.ndoms = 0;
	for (i = 0; i < mv->nitems; i++) {
		const struct mover_item *e = &mv->items[i];
		struct placement_domain *pd;

		if (e->status != MOVER_PENDING && e->status != MOVER_MIGRATING)
			continue;
		pd = &p->c.doms[p->c.ndoms];
		memset(pd, 0, sizeof(*pd));
		strlcpy_x(pd->name, e->name, sizeof(pd->name));
		pd->host = 0;
		pd->mem = e->mem_mib;
		pd->vcpus = e->vcpus;
		pd->pinned = e->pinned;
		pd->migratable = true;
		p->dom_of[p->c.ndoms++] = i;
	}
	return 0;
}

/* Ask the guest of items[i] to shut down (called without the lock). */
static void
mover_shutdown_start(struct mover *mv, size_t i)
{
	struct hv *hv = mv->d->hv;
	struct hv_dominfo di;
	char name[PLACEMENT_NAME_MAX];
	int r;

	mover_lock();
	strlcpy_x(name, mv->items[i].name, sizeof(name));
	mover_unlock();
	if ((r = hv->ops->lookup(hv, name, &di)) == 0)
		r = hv->ops->shutdown != NULL ? hv->ops->shutdown(hv, di.id) : XMIG_ERR_UNSUPPORTED;
	mover_lock();
	mv->items[i].t_start_us = now_us();
	if (r == 0) {
		mv->items[i].status = MOVER_SHUTTING_DOWN;
		log_info("%s: %s is pinned: asked it to shut down", mv->ops->what, name);
	} else if (r == XMIG_ERR_NOT_FOUND) {
		mv->items[i].status = MOVER_SHUT_DOWN;	/* already gone */
	} else {
		mv->items[i].status = MOVER_FAILED;
		snprintf(mv->items[i].why, sizeof(mv->items[i].why), "cannot ask it to shut "
		    "down: %s", xmig_strerror(r));
		log_warn("%s: %s: %s", mv->ops->what, name, mv->items[i].why);
	}
	mover_unlock();
}

/* Follow the guests asked to shut down (called without the lock): once
 * powered off, their remains are destroyed, as xl does on poweroff; one
 * that takes too long is left running. */
static void
mover_shutdown_reap(struct mover *mv)
{
	struct hv *hv = mv->d->hv;
	size_t i;

	for (i = 0; ; i++) {
		char name[PLACEMENT_NAME_MAX];
		struct hv_dominfo di;
		uint64_t t0;
		int r;

		mover_lock();
		while (i < mv->nitems && mv->items[i].status != MOVER_SHUTTING_DOWN)
			i++;
		if (i >= mv->nitems) {
			mover_unlock();
			return;
		}
		strlcpy_x(name, mv->items[i].name, sizeof(name));
		t0 = mv->items[i].t_start_us;
		mover_unlock();
		r = hv->ops->lookup(hv, name, &di);
		if (r == 0 && di.state == HV_SHUTDOWN && hv->ops->destroy(hv, di.id) == 0)
			r = XMIG_ERR_NOT_FOUND;
		mover_lock();
		if (r == XMIG_ERR_NOT_FOUND) {
			mv->items[i].status = MOVER_SHUT_DOWN;
			mv->items[i].elapsed_ms = (now_us() - t0) / 1000;
			log_info("%s: %s has shut down (%.1f s)", mv->ops->what, name,
			    (double)mv->items[i].elapsed_ms / 1000.0);
		} else if (now_us() - t0 >= MOVER_SHUTDOWN_TIMEOUT_MS * 1000ull) {
			mv->items[i].status = MOVER_FAILED;
			mv->items[i].elapsed_ms = (now_us() - t0) / 1000;
			snprintf(mv->items[i].why, sizeof(mv->items[i].why), "asked to shut down, "
			    "still %s after %u s", r == 0 ? hv_state_name(di.state) : "there",
			    MOVER_SHUTDOWN_TIMEOUT_MS / 1000);
			log_warn("%s: %s: %s", mv->ops->what, name, mv->items[i].why);
		}
		mover_unlock();
	}
}

/* Start what can start now. */
static void
mover_dispatch(struct mover *mv)
{
	const char *what = mv->ops->what;
	struct xmigd *d = mv->d;
	struct cluster_picture p;
	char err[300];
	size_t k, i;

	/* Fresh facts, without the lock (network). */
	if (cluster_picture_build(d, mv->peers, mv->npeers, false, &p, err, sizeof(err)) != 0) {
		log_warn("%s: %s", what, err);
		return;
	}
	mover_lock();
	if (mover_picture_doms(mv, &p) != 0) {
		mover_unlock();
		cluster_picture_free(&p);
		return;
	}
	/* In flight: the destination is charged and has its one incoming. */
	for (k = 0; k < p.c.ndoms; k++) {
		struct mover_item *e = &mv->items[p.dom_of[k]];

		if (e->status != MOVER_MIGRATING)
			continue;
		for (i = 0; i < mv->npeers; i++)
			if (strcmp(mv->peers[i].name, e->dest) == 0) {
				p.c.hosts[i + 1].incoming++;
				placement_apply(&p.c, k, i + 1);
			}
	}
	for (k = 0; k < p.c.ndoms && mover_count_locked(mv, MOVER_MIGRATING) < mv->parallel; k++) {
		struct mover_item *e = &mv->items[p.dom_of[k]];
		struct placement_choice ch;
		struct cluster_peer *peer;
		struct ctl_request rq;
		struct send_req sr;
		struct job *j;

		if (e->status != MOVER_PENDING)
			continue;
		if (e->shutdown) {
			/* Last, once every migration before it has ended. */
			if (mover_count_locked(mv, MOVER_MIGRATING) > 0)
				break;
			mover_unlock();
			mover_shutdown_start(mv, p.dom_of[k]);
			mover_lock();
			continue;
		}
		mv->ops->choose(mv, &p, k, p.dom_of[k], &ch);
		if (ch.status == PLACEMENT_BUSY) {
			if (mv->in_order)
				break;	/* wait, keep the order */
			continue;
		}
		if (ch.status != PLACEMENT_OK || ch.host == 0 || ch.host > mv->npeers) {
			e->status = MOVER_LEFT;
			snprintf(e->why, sizeof(e->why), "%s", ch.why);
			log_warn("%s: %s stays: %s", what, e->name, ch.why);
			continue;
		}
		peer = &mv->peers[ch.host - 1];
		/* A request as xmig would send it: the settings are xmigd.conf's. */
		ctl_request_init(&rq, CTL_MIGRATE);
		strlcpy_x(rq.u.migrate.domain, e->name, sizeof(rq.u.migrate.domain));
		strlcpy_x(rq.u.migrate.host, peer->host, sizeof(rq.u.migrate.host));
		rq.u.migrate.port = peer->port;
		rq.u.migrate.ssl = d->conf.cluster_ssl;
		rq.u.migrate.live = mv->live;
		send_req_init(&sr, &rq.u.migrate, &d->conf);
		e->attempts++;
		e->t_start_us = now_us();
		strlcpy_x(e->dest, peer->name, sizeof(e->dest));
		/* engine_send_start takes the job lock, never ours: no inversion. */
		if ((j = engine_send_start(d, &sr, err, sizeof(err))) == NULL) {
			snprintf(e->why, sizeof(e->why), "cannot start its migration to %.260s: %.250s",
			    peer->name, err);
			log_warn("%s: %s: %s", what, e->name, e->why);
			e->status = MOVER_FAILED;
			continue;
		}
		e->job = j->id;
		job_put(j);	/* followed by id from here (mover_reap_locked) */
		e->status = MOVER_MIGRATING;
		e->why[0] = '\0';
		log_info("%s: %s (%llu MiB) -> %s, job %llu", what, e->name,
		    (unsigned long long)e->mem_mib, peer->name, (unsigned long long)e->job);
		p.c.hosts[ch.host].incoming++;
		placement_apply(&p.c, k, ch.host);
	}
	mover_unlock();
	cluster_picture_free(&p);
}

static void *
mover_thread(void *arg)
{
	struct mover *mv = arg;
	struct xmigd *d = mv->d;
	uint64_t last_dispatch_us = 0;
	unsigned last_migrating = ~0u, last_pending = ~0u;
	size_t i;

	for (;;) {
		unsigned pending, migrating, shutting;
		uint64_t seen = jobs_finished_count();	/* before the reap: none missed */
		bool changed;

		mover_shutdown_reap(mv);
		mover_lock();
		mover_reap_locked(mv);
		pending = mover_count_locked(mv, MOVER_PENDING);
		migrating = mover_count_locked(mv, MOVER_MIGRATING);
		shutting = mover_count_locked(mv, MOVER_SHUTTING_DOWN);
		mover_unlock();
		/* Ask the peers again only when a slot opened or a while passed:
		 * waiting for a busy peer must not flood the cluster. */
		changed = migrating != last_migrating || pending != last_pending ||
		    now_us() - last_dispatch_us >= MOVER_REFRESH_MS * 1000ull;
		if (pending == 0 && migrating == 0 && shutting == 0)
			break;
		if (atomic_load(&d->stopping)) {
			/* Jobs are cancelled by the shutdown; what is left stays. */
			mover_lock();
			snprintf(mv->error, sizeof(mv->error), "xmigd stopped during the %s",
			    mv->ops->noun);
			mover_unlock();
			if (migrating == 0)
				break;
		} else if (pending > 0 && migrating < mv->parallel && changed) {
			mover_dispatch(mv);
			last_dispatch_us = now_us();
			mover_lock();
			last_pending = mover_count_locked(mv, MOVER_PENDING);
			last_migrating = mover_count_locked(mv, MOVER_MIGRATING);
			mover_unlock();
		}
		/* Woken when a migration ends: a slot left idle until the next
		 * tick cost up to MOVER_TICK_MS per migration of an evacuation. */
		jobs_wait_finished(seen, MOVER_TICK_MS);
	}
	mover_lock();
	/* Whatever never got going is left, with the reason it has. */
	for (i = 0; i < mv->nitems; i++)
		if (mv->items[i].status == MOVER_PENDING) {
			mv->items[i].status = MOVER_LEFT;
			if (!mv->items[i].why[0])
				snprintf(mv->items[i].why, sizeof(mv->items[i].why), "not moved");
		}
	mv->elapsed_ms = (now_us() - mv->t_start_us) / 1000;
	mover_unlock();
	mv->ops->finish(mv);
	mover_lock();
	mv->running = false;
	mover_unlock();
	return NULL;
}

int
mover_start(struct mover *mv, char *err, size_t errlen)
{
	pthread_attr_t attr;
	pthread_t t;
	int r = 0;

	mover_lock();
	mv->running = true;
	mv->t_start_us = now_us();
	mv->started_wall_ms = wall_ms();
	mover_cur = mv;
	mover_claim = NULL;
	mover_unlock();
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, mover_thread, mv) != 0) {
		mover_lock();
		mv->running = false;
		snprintf(mv->error, sizeof(mv->error), "cannot start the %s thread",
		    mv->ops->noun);
		mover_unlock();
		snprintf(err, errlen, "cannot start the %s thread", mv->ops->noun);
		r = XMIG_ERR_SYSTEM;
	}
	pthread_attr_destroy(&attr);
	return r;
}
