/* maint.c - host maintenance mode: the evacuation.
 *
 * "enter" asks every peer of cluster-peers for its facts (HOST_INFO), plans
 * with placement_evacuate_plan() (pinned domains block before anything
 * moves), switches the host to preparing-for-maintenance (persisted: from
 * then on incoming migrations are refused) and starts one evacuation
 * thread.  That thread keeps at most `parallel` migrations running; each
 * domain's destination is chosen with placement_choose_dest() only when its
 * migration starts, on facts fetched again then, with the migrations in
 * flight charged to their destinations and at most one incoming per peer.
 * A failed migration is retried once elsewhere (its destination may have
 * died); a domain nothing can take is left with the reason.  All gone: the
 * host is in maintenance; else it stays preparing.
 *
 * One evacuation at a time; its record stays for "status" until the next.
 * maint_lock guards it; the thread and control clients read and write it
 * under the lock, and call the backend and the network without it.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "engine.h"
#include "engine_int.h"
#include "hoststate.h"
#include "jobs.h"
#include "log.h"
#include "maint.h"
#include "placement.h"
#include "util.h"
#include "xerr.h"

#define MAINT_PEERS_MAX 64
#define MAINT_TICK_MS 200
#define MAINT_EVENT_MS 500
#define MAINT_REFRESH_MS 2000	/* peers' facts, at the latest, while waiting */
#define MAINT_INFO_TIMEOUT_MS 3000
#define MAINT_ATTEMPTS 2	/* a failed migration is tried once more, elsewhere */
#define MIB (1024ull * 1024ull)

enum evac_status { EV_PENDING, EV_MIGRATING, EV_DONE, EV_FAILED, EV_LEFT };

struct evac_dom {
	char name[PLACEMENT_NAME_MAX];
	uint8_t uuid[16];
	uint64_t mem_mib;
	unsigned vcpus;
	bool pinned;
	enum evac_status status;
	char dest[256];
	unsigned job;
	unsigned attempts;
	unsigned char avoid[MAINT_PEERS_MAX];	/* peers where it failed */
	char why[PLACEMENT_WHY_MAX + 400];
	uint64_t t_start_us, elapsed_ms;
};

struct evac_peer {
	char name[300];		/* as written in cluster-peers */
	char host[256];
	uint16_t port;
	bool allowed;		/* --to */
};

struct evac {
	struct xmigd *d;
	struct evac_peer peers[MAINT_PEERS_MAX];
	size_t npeers;
	struct evac_dom *doms;
	size_t ndoms;
	unsigned parallel;
	bool live;
	bool running;
	uint64_t t_start_us, elapsed_ms, started_wall_ms;
	char error[300];
};

static pthread_mutex_t maint_lock = PTHREAD_MUTEX_INITIALIZER;
static struct evac *maint_ev;	/* the current or last evacuation */
static bool maint_entering;	/* a client is inside maint_enter() */

static const char *
evac_status_str(enum evac_status s)
{
	static const char *const names[] = { "pending", "migrating", "done", "failed", "left" };

	return names[s];
}

/* ---- facts: ours and the peers' ---- */

static bool
maint_name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n >= PROTO_NAME_MAX || s[0] == '-' || strcmp(s, ".") == 0 ||
	    strcmp(s, "..") == 0)
		return false;
	for (i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", s[i]))
			return false;
	return true;
}

int
maint_host_info_build(struct xmigd *d, struct msg_host_info_reply *m)
{
	struct hv_host_info hi;
	struct hv_dominfo *doms = NULL;
	size_t n = 0, i;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int r;

	memset(m, 0, sizeof(*m));
	if ((r = d->hv->ops->host_info(d->hv, &hi)) != 0 ||
	    (r = d->hv->ops->list(d->hv, &doms, &n)) != 0)
		return r;
	m->state = (uint8_t)hoststate_get(NULL, 0);
	m->mem_total = hi.mem_total;
	m->mem_free = hi.mem_free < hi.mem_total ? hi.mem_free : hi.mem_total;
	/* No overcommit policy yet: the host runs as many vCPUs as it has CPUs. */
	m->vcpus_total = ncpu > 0 ? (uint32_t)ncpu : 0;
	for (i = 0; i < n; i++) {
		struct msg_host_info_dom *o;

		if (doms[i].id == 0)
			continue;	/* dom0 never moves */
		m->vcpus_used += doms[i].vcpus;
		/* Names the protocol cannot carry still count in the totals. */
		if (m->ndoms >= PROTO_HOST_INFO_DOMS_MAX || !maint_name_ok(doms[i].name))
			continue;
		o = &m->doms[m->ndoms++];
		strlcpy_x(o->name, doms[i].name, sizeof(o->name));
		o->mem = doms[i].memory;
		o->vcpus = doms[i].vcpus > 4096 ? 4096 : doms[i].vcpus;
		o->flags = pins_lookup(doms[i].name, doms[i].uuid) != PIN_NONE ?
		    HOST_INFO_F_PINNED : 0;
	}
	free(doms);
	return 0;
}

int
maint_peer_info(struct xmigd *d, const char *host, uint16_t port,
    struct msg_host_info_reply *m, char *why, size_t whylen)
{
	uint32_t cap = proto_max_len(MSG_HOST_INFO_REPLY);
	struct msg_hello ours, peer;
	struct frame_hdr fh;
	struct xconn c;
	uint8_t *buf;
	int r;

	memset(m, 0, sizeof(*m));
	if ((buf = malloc(cap > 1024 ? cap : 1024)) == NULL) {
		snprintf(why, whylen, "out of memory");
		return XMIG_ERR_NOMEM;
	}
	if ((r = engine_connect(d, &c, host, port, false, MAINT_INFO_TIMEOUT_MS, why,
	    whylen)) != 0) {
		free(buf);
		return r;
	}
	c.timeout_ms = MAINT_INFO_TIMEOUT_MS;
	c.deadline_us = now_us() + MAINT_INFO_TIMEOUT_MS * 1000ull;
	if ((r = engine_build_hello(d, &ours)) != 0 || (r = engine_send_hello(&c, &ours)) != 0 ||
	    (r = engine_recv_hello(&c, &peer, why, whylen)) != 0 ||
	    (r = xconn_send_frame(&c, MSG_HOST_INFO, NULL, 0)) != 0 ||
	    (r = xconn_recv_frame(&c, &fh, buf, cap > 1024 ? cap : 1024)) != 0) {
		if (why[0] == '\0')
			snprintf(why, whylen, "%s", xmig_strerror(r));
	} else if (fh.type == MSG_REFUSE || fh.type == MSG_ABORT) {
		struct msg_reason mr;

		r = XMIG_ERR_PEER_ABORT;
		if (msg_reason_decode(buf, fh.len, &mr) == 0)
			snprintf(why, whylen, "%s", mr.text);
		else
			snprintf(why, whylen, "refused");
	} else if (fh.type != MSG_HOST_INFO_REPLY) {
		r = XMIG_ERR_UNEXPECTED;
		snprintf(why, whylen, "answered HOST_INFO with %s", proto_type_str(fh.type));
	} else if ((r = msg_host_info_reply_decode(buf, fh.len, m)) != 0) {
		snprintf(why, whylen, "malformed HOST_INFO_REPLY: %s", xmig_strerror(r));
	}
	xconn_close(&c);
	free(buf);
	return r;
}

/* The picture placement works on: host 0 is this host, 1.. the peers (fresh
 * facts; unreachable ones marked so), domains are ours still to move. */
struct maint_picture {
	struct placement_cluster c;
	size_t *dom_of;		/* cluster domain -> evac domain */
};

static void
maint_picture_free(struct maint_picture *p)
{
	free(p->c.hosts);
	free(p->c.doms);
	free(p->dom_of);
	memset(p, 0, sizeof(*p));
}

static void
maint_host_from(struct placement_host *h, const char *name, const struct msg_host_info_reply *m)
{
	memset(h, 0, sizeof(*h));
	strlcpy_x(h->name, name, sizeof(h->name));
	h->mem_total = m->mem_total / MIB;
	h->mem_free = m->mem_free / MIB;
	/* Keep 1/32 of each destination free: dom0 and the hypervisor need room. */
	h->reserve = h->mem_total / 32;
	h->vcpus_total = m->vcpus_total;
	h->vcpus_used = m->vcpus_used;
	h->state = m->state == HOSTSTATE_ACTIVE ? PLACEMENT_ACTIVE :
	    m->state == HOSTSTATE_PREPARING ? PLACEMENT_PREPARING : PLACEMENT_MAINTENANCE;
	h->reachable = true;
	h->max_incoming = 1;	/* at most one incoming migration per peer */
}

/* Ask every peer (network, no lock held); fill p.  peers/npeers are
 * constant for an evacuation. */
static int
maint_picture_build(struct xmigd *d, const struct evac_peer *peers, size_t npeers,
    struct maint_picture *p, char *err, size_t errlen)
{
	struct msg_host_info_reply *m = calloc(1, sizeof(*m));
	size_t i;

	memset(p, 0, sizeof(*p));
	if (m == NULL || (p->c.hosts = calloc(npeers + 1, sizeof(*p->c.hosts))) == NULL) {
		free(m);
		snprintf(err, errlen, "out of memory");
		return XMIG_ERR_NOMEM;
	}
	p->c.nhosts = npeers + 1;
	if (maint_host_info_build(d, m) != 0) {
		free(m);
		maint_picture_free(p);
		snprintf(err, errlen, "cannot read this host's facts from the backend");
		return XMIG_ERR_BACKEND;
	}
	maint_host_from(&p->c.hosts[0], d->host_name, m);
	for (i = 0; i < npeers; i++) {
		char why[300] = "";

		if (maint_peer_info(d, peers[i].host, peers[i].port, m, why, sizeof(why)) == 0) {
			maint_host_from(&p->c.hosts[i + 1], peers[i].name, m);
		} else {
			strlcpy_x(p->c.hosts[i + 1].name, peers[i].name, sizeof(p->c.hosts[0].name));
			p->c.hosts[i + 1].reachable = false;
			log_debug("maintenance: peer %s: %s", peers[i].name, why);
		}
	}
	free(m);
	return 0;
}

/* Our domains from ev (those not yet gone) into the picture, in ev order. */
static int
maint_picture_doms(struct maint_picture *p, const struct evac *ev)
{
	size_t i;

	p->c.doms = calloc(ev->ndoms ? ev->ndoms : 1, sizeof(*p->c.doms));
	p->dom_of = calloc(ev->ndoms ? ev->ndoms : 1, sizeof(*p->dom_of));
	if (p->c.doms == NULL || p->dom_of == NULL)
		return XMIG_ERR_NOMEM;
	p->c.ndoms = 0;
	for (i = 0; i < ev->ndoms; i++) {
		const struct evac_dom *e = &ev->doms[i];
		struct placement_domain *pd;

		if (e->status != EV_PENDING && e->status != EV_MIGRATING)
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

/* ---- JSON ---- */

static json_t *
evac_to_json_locked(const struct evac *ev)
{
	json_t *o, *a = json_array();
	unsigned moved = 0, migrating = 0, failed = 0, pending = 0;
	size_t i;

	for (i = 0; i < ev->ndoms; i++) {
		const struct evac_dom *e = &ev->doms[i];
		json_t *jd;

		moved += e->status == EV_DONE;
		migrating += e->status == EV_MIGRATING;
		failed += e->status == EV_FAILED || e->status == EV_LEFT;
		pending += e->status == EV_PENDING;
		jd = json_pack("{s:s, s:I, s:i, s:s, s:s?, s:s?, s:I}", "name", e->name,
		    "mem_mib", (json_int_t)e->mem_mib, "vcpus", (int)e->vcpus,
		    "status", evac_status_str(e->status), "dest", e->dest[0] ? e->dest : NULL,
		    "why", e->why[0] ? e->why : NULL, "elapsed_ms", (json_int_t)(e->status ==
		    EV_MIGRATING ? (now_us() - e->t_start_us) / 1000 : e->elapsed_ms));
		if (jd != NULL && e->job)
			json_object_set_new(jd, "job", json_integer(e->job));
		json_array_append_new(a, jd);
	}
	o = json_pack("{s:s, s:s, s:I, s:I, s:i, s:i, s:i, s:i, s:i, s:i, s:b, s:o}",
	    "state", ev->running ? "running" : "finished",
	    "host_state", hoststate_str(hoststate_get(NULL, 0)),
	    "started_wall_ms", (json_int_t)ev->started_wall_ms,
	    "elapsed_ms", (json_int_t)(ev->running ? (now_us() - ev->t_start_us) / 1000 :
	    ev->elapsed_ms), "total", (int)ev->ndoms, "moved", (int)moved,
	    "migrating", (int)migrating, "failed", (int)failed, "pending", (int)pending,
	    "parallel", (int)ev->parallel, "live", ev->live, "domains", a);
	if (o != NULL && ev->error[0])
		json_object_set_new(o, "error", json_string(ev->error));
	return o;
}

static json_t *
maint_status_json(void)
{
	char reason[HOSTSTATE_REASON_MAX];
	enum host_state hs = hoststate_get(reason, sizeof(reason));
	json_t *o = json_pack("{s:b, s:s, s:s}", "ok", 1, "state", hoststate_str(hs), "reason",
	    reason);

	pthread_mutex_lock(&maint_lock);
	if (o != NULL && maint_ev != NULL)
		json_object_set_new(o, "evacuation", evac_to_json_locked(maint_ev));
	pthread_mutex_unlock(&maint_lock);
	return o;
}

/* ---- the evacuation thread ---- */

/* Finished jobs of ours: done, or failed (back to pending for a retry on
 * another peer, if attempts remain). */
static void
evac_reap_locked(struct evac *ev)
{
	size_t i;

	for (i = 0; i < ev->ndoms; i++) {
		struct evac_dom *e = &ev->doms[i];
		struct job *j;
		bool ok = false, fin = false;
		char err[512] = "";

		if (e->status != EV_MIGRATING)
			continue;
		/* job_get takes the job lock itself. */
		if ((j = job_get(e->job)) == NULL) {
			fin = true;
			snprintf(err, sizeof(err), "job %u vanished", e->job);
		} else {
			job_lock();
			if (job_finished(j)) {
				fin = true;
				ok = j->state == JOB_DONE;
				strlcpy_x(err, j->error[0] ? j->error : job_result_name(j),
				    sizeof(err));
			}
			job_unlock();
		}
		if (!fin)
			continue;
		e->elapsed_ms = (now_us() - e->t_start_us) / 1000;
		if (ok) {
			e->status = EV_DONE;
			e->why[0] = '\0';
			log_info("maintenance: %s now runs on %s (%.1f s)", e->name, e->dest,
			    (double)e->elapsed_ms / 1000.0);
			continue;
		}
		snprintf(e->why, sizeof(e->why), "migration to %s failed: %s", e->dest, err);
		log_warn("maintenance: %s: %s", e->name, e->why);
		if (e->attempts < MAINT_ATTEMPTS) {
			size_t k;

			for (k = 0; k < ev->npeers; k++)
				if (strcmp(ev->peers[k].name, e->dest) == 0)
					e->avoid[k] = 1;
			e->status = EV_PENDING;
		} else {
			e->status = EV_FAILED;
		}
	}
}

static unsigned
evac_count_locked(const struct evac *ev, enum evac_status s)
{
	unsigned n = 0;
	size_t i;

	for (i = 0; i < ev->ndoms; i++)
		n += ev->doms[i].status == s;
	return n;
}

/* Start what can start now: returns true when something changed. */
static bool
evac_dispatch(struct evac *ev)
{
	struct xmigd *d = ev->d;
	struct maint_picture p;
	unsigned char allowed[MAINT_PEERS_MAX + 1];
	struct placement_opts opts;
	char err[300];
	size_t k, i;
	bool changed = false;

	/* Fresh facts, without the lock (network). */
	if (maint_picture_build(d, ev->peers, ev->npeers, &p, err, sizeof(err)) != 0) {
		log_warn("maintenance: %s", err);
		return false;
	}
	pthread_mutex_lock(&maint_lock);
	if (maint_picture_doms(&p, ev) != 0) {
		pthread_mutex_unlock(&maint_lock);
		maint_picture_free(&p);
		return false;
	}
	/* In flight: the destination is charged and has its one incoming. */
	for (k = 0; k < p.c.ndoms; k++) {
		struct evac_dom *e = &ev->doms[p.dom_of[k]];

		if (e->status != EV_MIGRATING)
			continue;
		for (i = 0; i < ev->npeers; i++)
			if (strcmp(ev->peers[i].name, e->dest) == 0) {
				p.c.hosts[i + 1].incoming++;
				placement_apply(&p.c, k, i + 1);
			}
	}
	for (k = 0; k < p.c.ndoms && evac_count_locked(ev, EV_MIGRATING) < ev->parallel; k++) {
		struct evac_dom *e = &ev->doms[p.dom_of[k]];
		struct placement_choice ch;
		struct send_req sr;
		struct evac_peer *peer;
		struct job *j;

		if (e->status != EV_PENDING)
			continue;
		memset(&opts, 0, sizeof(opts));
		allowed[0] = 0;
		for (i = 0; i < ev->npeers; i++)
			allowed[i + 1] = ev->peers[i].allowed && !e->avoid[i];
		opts.dest_allowed = allowed;
		placement_choose_dest(&p.c, k, &opts, &ch);
		if (ch.status == PLACEMENT_BUSY)
			break;	/* every peer that fits is busy: wait, keep the order */
		if (ch.status == PLACEMENT_NONE) {
			e->status = EV_LEFT;
			snprintf(e->why, sizeof(e->why), "%s", ch.why);
			log_warn("maintenance: %s stays: %s", e->name, ch.why);
			changed = true;
			continue;
		}
		peer = &ev->peers[ch.host - 1];
		memset(&sr, 0, sizeof(sr));
		strlcpy_x(sr.domain, e->name, sizeof(sr.domain));
		strlcpy_x(sr.host, peer->host, sizeof(sr.host));
		sr.port = peer->port;
		sr.live = ev->live;
		sr.compress = -1;
		e->attempts++;
		e->t_start_us = now_us();
		strlcpy_x(e->dest, peer->name, sizeof(e->dest));
		changed = true;
		/* engine_send_start takes the job lock, never ours: no inversion. */
		if ((j = engine_send_start(d, &sr, err, sizeof(err))) == NULL) {
			snprintf(e->why, sizeof(e->why), "cannot start its migration to %s: %s",
			    peer->name, err);
			log_warn("maintenance: %s: %s", e->name, e->why);
			e->status = EV_FAILED;
			continue;
		}
		e->job = j->id;
		e->status = EV_MIGRATING;
		e->why[0] = '\0';
		log_info("maintenance: %s (%llu MiB) -> %s, job %u", e->name,
		    (unsigned long long)e->mem_mib, peer->name, j->id);
		p.c.hosts[ch.host].incoming++;
		placement_apply(&p.c, k, ch.host);
	}
	pthread_mutex_unlock(&maint_lock);
	maint_picture_free(&p);
	return changed;
}

static void *
evac_thread(void *arg)
{
	struct evac *ev = arg;
	struct xmigd *d = ev->d;
	bool all_gone;
	int r;

	uint64_t last_dispatch_us = 0;
	unsigned last_migrating = ~0u, last_pending = ~0u;

	for (;;) {
		unsigned pending, migrating;
		bool changed;

		pthread_mutex_lock(&maint_lock);
		evac_reap_locked(ev);
		pending = evac_count_locked(ev, EV_PENDING);
		migrating = evac_count_locked(ev, EV_MIGRATING);
		pthread_mutex_unlock(&maint_lock);
		/* Ask the peers again only when a slot opened or a while passed:
		 * waiting for a busy peer must not flood the cluster. */
		changed = migrating != last_migrating || pending != last_pending ||
		    now_us() - last_dispatch_us >= MAINT_REFRESH_MS * 1000ull;
		if (pending == 0 && migrating == 0)
			break;
		if (atomic_load(&d->stopping)) {
			/* Jobs are cancelled by the shutdown; what is left stays. */
			pthread_mutex_lock(&maint_lock);
			snprintf(ev->error, sizeof(ev->error), "xmigd stopped during the evacuation");
			pthread_mutex_unlock(&maint_lock);
			if (migrating == 0)
				break;
		} else if (pending > 0 && migrating < ev->parallel && changed) {
			evac_dispatch(ev);
			last_dispatch_us = now_us();
			pthread_mutex_lock(&maint_lock);
			last_pending = evac_count_locked(ev, EV_PENDING);
			last_migrating = evac_count_locked(ev, EV_MIGRATING);
			pthread_mutex_unlock(&maint_lock);
		}
		usleep(MAINT_TICK_MS * 1000);
	}
	pthread_mutex_lock(&maint_lock);
	{
		size_t i;

		/* Whatever never got going is left, with the reason it has. */
		for (i = 0; i < ev->ndoms; i++)
			if (ev->doms[i].status == EV_PENDING) {
				ev->doms[i].status = EV_LEFT;
				if (!ev->doms[i].why[0])
					snprintf(ev->doms[i].why, sizeof(ev->doms[i].why), "not moved");
			}
	}
	all_gone = evac_count_locked(ev, EV_DONE) == ev->ndoms;
	ev->elapsed_ms = (now_us() - ev->t_start_us) / 1000;
	pthread_mutex_unlock(&maint_lock);
	if (all_gone) {
		char reason[HOSTSTATE_REASON_MAX];

		hoststate_get(reason, sizeof(reason));
		if ((r = hoststate_set(HOST_MAINTENANCE, reason)) != 0)
			log_error("maintenance: cannot record the host state: %s",
			    xmig_strerror(r));
		log_info("maintenance: %zu domains moved in %.1f s; %s is in maintenance",
		    ev->ndoms, (double)ev->elapsed_ms / 1000.0, d->host_name);
	} else {
		log_warn("maintenance: evacuation incomplete after %.1f s; %s stays "
		    "preparing-for-maintenance", (double)ev->elapsed_ms / 1000.0, d->host_name);
	}
	pthread_mutex_lock(&maint_lock);
	ev->running = false;
	pthread_mutex_unlock(&maint_lock);
	return NULL;
}

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

/* cluster-peers into ev->peers; --to (comma-separated names) marks the
 * allowed ones. */
static int
maint_peers(struct evac *ev, const char *conf_peers, uint16_t def_port, const char *to,
    char *err, size_t errlen)
{
	const char *v = conf_peers;
	size_t i;

	while (*v != '\0') {
		size_t n;

		while (*v == ' ' || *v == '\t')
			v++;
		n = strcspn(v, " \t");
		if (n > 0) {
			struct evac_peer *p = &ev->peers[ev->npeers];

			if (ev->npeers == MAINT_PEERS_MAX) {
				snprintf(err, errlen, "more than %d cluster-peers", MAINT_PEERS_MAX);
				return XMIG_ERR_TOO_LONG;
			}
			snprintf(p->name, sizeof(p->name), "%.*s", (int)(n < 299 ? n : 299), v);
			p->port = def_port;
			if (parse_hostport(p->name, p->host, sizeof(p->host), &p->port) != 0) {
				snprintf(err, errlen, "bad cluster-peers entry %s", p->name);
				return XMIG_ERR_INVALID;
			}
			p->allowed = to == NULL;
			ev->npeers++;
		}
		v += n;
	}
	if (ev->npeers == 0) {
		snprintf(err, errlen, "no cluster-peers in xmigd's configuration: nowhere to "
		    "evacuate to");
		return XMIG_ERR_INVALID;
	}
	while (to != NULL && *to != '\0') {
		size_t n = strcspn(to, ",");
		bool found = false;

		for (i = 0; i < ev->npeers; i++)
			if ((strlen(ev->peers[i].name) == n &&
			    strncmp(ev->peers[i].name, to, n) == 0) ||
			    (strlen(ev->peers[i].host) == n && strncmp(ev->peers[i].host, to, n) == 0)) {
				ev->peers[i].allowed = true;
				found = true;
			}
		if (n > 0 && !found) {
			snprintf(err, errlen, "--to: %.*s is not one of cluster-peers", (int)n, to);
			return XMIG_ERR_INVALID;
		}
		to += n + (to[n] == ',');
	}
	return 0;
}

/* Plan, refuse on pins, switch to preparing, start the thread.  On refusal
 * returns nonzero with err set and nothing changed. */
static int
maint_enter(struct xmigd *d, json_t *req, char *err, size_t errlen)
{
	const char *to = json_string_value(json_object_get(req, "to"));
	const char *reason = json_string_value(json_object_get(req, "reason"));
	json_t *jp = json_object_get(req, "parallel");
	struct maint_picture p;
	struct placement_plan plan;
	struct evac *ev;
	pthread_attr_t attr;
	pthread_t t;
	size_t i, k, n = 0;
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
	ev->parallel = 2;
	if (jp != NULL && !json_is_null(jp)) {
		if (!json_is_integer(jp) || json_integer_value(jp) < 1 ||
		    json_integer_value(jp) > 64) {
			free(ev);
			snprintf(err, errlen, "parallel must be 1-64");
			return XMIG_ERR_INVALID;
		}
		ev->parallel = (unsigned)json_integer_value(jp);
	}
	ev->live = !json_is_false(json_object_get(req, "live"));
	if ((r = maint_peers(ev, d->conf.cluster_peers, d->conf.relocation_port, to, err,
	    errlen)) != 0) {
		free(ev);
		return r;
	}
	/* The plan on the facts of now: who blocks, who can go at all. */
	if ((r = maint_picture_build(d, ev->peers, ev->npeers, &p, err, errlen)) != 0) {
		free(ev);
		return r;
	}
	{
		struct hv_dominfo *doms = NULL;
		size_t nd = 0;

		if ((r = d->hv->ops->list(d->hv, &doms, &nd)) != 0 ||
		    (ev->doms = calloc(nd ? nd : 1, sizeof(*ev->doms))) == NULL) {
			free(doms);
			maint_picture_free(&p);
			free(ev);
			snprintf(err, errlen, "cannot list this host's domains");
			return r ? r : XMIG_ERR_NOMEM;
		}
		for (i = 0; i < nd; i++) {
			struct evac_dom *e;

			if (doms[i].id == 0)
				continue;
			e = &ev->doms[ev->ndoms++];
			strlcpy_x(e->name, doms[i].name, sizeof(e->name));
			memcpy(e->uuid, doms[i].uuid, 16);
			e->mem_mib = (doms[i].memory + MIB - 1) / MIB;
			e->vcpus = doms[i].vcpus;
			e->pinned = pins_lookup(doms[i].name, doms[i].uuid) != PIN_NONE;
		}
		free(doms);
	}
	{
		unsigned char allowed[MAINT_PEERS_MAX + 1];
		struct placement_opts opts;

		memset(&opts, 0, sizeof(opts));
		allowed[0] = 0;
		for (i = 0; i < ev->npeers; i++)
			allowed[i + 1] = ev->peers[i].allowed;
		opts.dest_allowed = allowed;
		opts.shutdown_pinned = json_is_true(json_object_get(req, "shutdown_pinned"));
		if (maint_picture_doms(&p, ev) != 0 ||
		    placement_evacuate_plan(&p.c, 0, &opts, &plan) != 0) {
			maint_picture_free(&p);
			free(ev->doms);
			free(ev);
			snprintf(err, errlen, "out of memory");
			return XMIG_ERR_NOMEM;
		}
	}
	if (plan.blocked || (plan.nmoves > 0 &&
	    plan.moves[plan.nmoves - 1].action == PLACEMENT_SHUTDOWN)) {
		size_t len;

		len = (size_t)snprintf(err, errlen, plan.blocked ? "pinned domains block "
		    "maintenance (unpin them first):" : "--shutdown-pinned: this backend "
		    "cannot shut domains down cleanly yet; pinned:");
		for (k = 0; k < ev->ndoms; k++)
			if (ev->doms[k].pinned && len < errlen)
				len += (size_t)snprintf(err + len, errlen - len, " %s",
				    ev->doms[k].name);
		placement_plan_free(&plan);
		maint_picture_free(&p);
		free(ev->doms);
		free(ev);
		return XMIG_ERR_DENIED;
	}
	/* Dispatch order: the plan's (largest first); unplaceable ones keep
	 * their slot and are tried again when their turn comes, on fresh facts. */
	{
		struct evac_dom *ordered = calloc(ev->ndoms ? ev->ndoms : 1, sizeof(*ordered));
		unsigned char *used = calloc(ev->ndoms ? ev->ndoms : 1, 1);

		if (ordered == NULL || used == NULL) {
			free(ordered);
			free(used);
			placement_plan_free(&plan);
			maint_picture_free(&p);
			free(ev->doms);
			free(ev);
			snprintf(err, errlen, "out of memory");
			return XMIG_ERR_NOMEM;
		}
		for (k = 0; k < plan.nmoves; k++) {
			size_t e = p.dom_of[plan.moves[k].dom];

			ordered[n++] = ev->doms[e];
			used[e] = 1;
		}
		for (k = 0; k < plan.nleft; k++) {
			size_t e;

			if (plan.left[k].dom == PLACEMENT_NO_HOST)
				continue;
			e = p.dom_of[plan.left[k].dom];
			if (used[e])
				continue;
			ordered[n] = ev->doms[e];
			snprintf(ordered[n].why, sizeof(ordered[n].why), "%s", plan.left[k].why);
			n++;
			used[e] = 1;
		}
		for (k = 0; k < ev->ndoms; k++)
			if (!used[k])
				ordered[n++] = ev->doms[k];
		free(used);
		free(ev->doms);
		ev->doms = ordered;
	}
	placement_plan_free(&plan);
	maint_picture_free(&p);

	if ((r = hoststate_set(HOST_PREPARING, reason ? reason : "")) != 0) {
		snprintf(err, errlen, "cannot write the host state: %s", xmig_strerror(r));
		free(ev->doms);
		free(ev);
		return r;
	}
	ev->running = true;
	ev->t_start_us = now_us();
	ev->started_wall_ms = wall_ms();
	pthread_mutex_lock(&maint_lock);
	if (maint_ev != NULL) {
		free(maint_ev->doms);
		free(maint_ev);
	}
	maint_ev = ev;
	pthread_mutex_unlock(&maint_lock);
	log_info("maintenance: %s is preparing-for-maintenance%s%s: evacuating %zu domains to "
	    "%zu peers, %u at a time", d->host_name, reason ? ": " : "", reason ? reason : "",
	    ev->ndoms, ev->npeers, ev->parallel);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, evac_thread, ev) != 0) {
		pthread_mutex_lock(&maint_lock);
		ev->running = false;
		snprintf(ev->error, sizeof(ev->error), "cannot start the evacuation thread");
		pthread_mutex_unlock(&maint_lock);
		snprintf(err, errlen, "cannot start the evacuation thread");
		pthread_attr_destroy(&attr);
		return XMIG_ERR_SYSTEM;
	}
	pthread_attr_destroy(&attr);
	return 0;
}

/* Progress events until the evacuation ends (the client may leave; the
 * evacuation goes on). */
static int
maint_watch(int fd)
{
	for (;;) {
		bool running;
		json_t *ev;

		pthread_mutex_lock(&maint_lock);
		running = maint_ev->running;
		ev = evac_to_json_locked(maint_ev);
		pthread_mutex_unlock(&maint_lock);
		if (maint_send(fd, json_pack("{s:s, s:o}", "event", running ? "progress" : "done",
		    "evacuation", ev)) != 0)
			return -1;
		if (!running)
			return 0;
		usleep(MAINT_EVENT_MS * 1000);
	}
}

int
maint_ctl(struct xmigd *d, int fd, json_t *req)
{
	const char *action = json_string_value(json_object_get(req, "action"));
	char err[1024];
	bool running;
	int r;

	if (action == NULL)
		return maint_error(fd, "maintenance needs an action (enter, exit, status)");
	if (strcmp(action, "status") == 0)
		return maint_send(fd, maint_status_json());
	pthread_mutex_lock(&maint_lock);
	running = maint_ev != NULL && maint_ev->running;
	pthread_mutex_unlock(&maint_lock);
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
	/* Two clients racing here: the second is refused, never replaces the
	 * record the first one's thread uses. */
	pthread_mutex_lock(&maint_lock);
	running = maint_entering || (maint_ev != NULL && maint_ev->running);
	maint_entering = true;
	pthread_mutex_unlock(&maint_lock);
	if (running)
		return maint_error(fd, "an evacuation is running");
	r = maint_enter(d, req, err, sizeof(err));
	pthread_mutex_lock(&maint_lock);
	maint_entering = false;
	pthread_mutex_unlock(&maint_lock);
	if (r != 0)
		return maint_error(fd, "%s", err);
	{
		json_t *o = maint_status_json();

		if (maint_send(fd, o) != 0)
			return -1;
	}
	if (json_is_true(json_object_get(req, "watch")))
		return maint_watch(fd);
	return 0;
}
