/* ctlsrv.c - requests from xmig over the Unix control socket.
 *
 * One short-lived thread per client.  Each request is decoded once, by
 * lib/ctlmsg.c, and handed typed to its handler (the table below); one
 * that does not decode gets a one-line error reply, one that is not JSON
 * also ends the connection; nothing a client sends can stop the daemon.
 * "migrate" and "watch" follow a job, "maintenance enter" and "balance" a
 * batch, in one loop (ctl_follow) that sends progress events until the
 * end.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster/balance.h"
#include "cluster/maint.h"
#include "ctl.h"
#include "ctlmsg.h"
#include "ctlsrv.h"
#include "engine/engine.h"
#include "log.h"
#include "store/history.h"
#include "store/hoststate.h"
#include "util.h"
#include "xerr.h"

#define CTL_JOB_EVENT_MS 200
_Static_assert(HV_NAME_MAX <= CTL_NAME_MAX, "a domain's name fits the control protocol's");
#define CTL_BATCH_EVENT_MS 500

struct ctl_client {
	struct xmigd *d;
	int fd;
};

/* Send o (stealing the reference); -1 when the client is gone. */
static int
ctl_reply(int fd, json_t *o)
{
	int r = o != NULL ? ctl_send(fd, o) : XMIG_ERR_NOMEM;

	json_decref(o);
	return r == 0 ? 0 : -1;
}

/* ---- following a job or a batch ---- */

/* What ctl_follow watches: a snapshot (a struct of the event's kind) and
 * whether it is the last. */
struct ctl_source {
	enum ctl_event_kind kind;
	unsigned every_ms;
	/* Fill payload; 0, or -1 when out of memory.  *done: the end. */
	int (*snap)(void *obj, void *payload, bool *done);
	void (*free_payload)(void *payload);
};

static int
job_snap(void *obj, void *payload, bool *done)
{
	struct job *j = obj;

	job_lock();
	*done = job_finished(j);
	job_unlock();
	return job_to_ctl(j, payload);
}

static void
job_payload_free(void *payload)
{
	ctl_job_free(payload);
}

static int
evac_snap(void *obj, void *payload, bool *done)
{
	int r;

	*done = !maint_snapshot(obj, payload, &r);
	return r;
}

static void
evac_payload_free(void *payload)
{
	ctl_evac_free(payload);
}

static int
balance_snap(void *obj, void *payload, bool *done)
{
	int r;

	*done = !balance_snapshot(obj, payload, &r);
	return r;
}

static void
balance_payload_free(void *payload)
{
	ctl_balance_free(payload);
}

static const struct ctl_source job_source = {
	CTL_EVENT_JOB, CTL_JOB_EVENT_MS, job_snap, job_payload_free,
};
static const struct ctl_source evac_source = {
	CTL_EVENT_EVACUATION, CTL_BATCH_EVENT_MS, evac_snap, evac_payload_free,
};
static const struct ctl_source balance_source = {
	CTL_EVENT_BALANCE, CTL_BATCH_EVENT_MS, balance_snap, balance_payload_free,
};

/* Events until the end; -1 when the client went away (what it followed
 * goes on). */
static int
ctl_follow(int fd, const struct ctl_source *src, void *obj)
{
	union {
		struct ctl_job job;
		struct ctl_evac evac;
		struct ctl_balance balance;
	} p;

	for (;;) {
		bool done = false;
		json_t *ev = NULL;

		if (src->snap(obj, &p, &done) == 0) {
			ev = ctl_event_encode(src->kind, done, &p);
			src->free_payload(&p);
		}
		if (ctl_reply(fd, ev) != 0)
			return -1;
		if (done)
			return 0;
		usleep(src->every_ms * 1000);
	}
}

/* ---- the handlers ---- */

/* {"ok": true, "job": ...} */
static int
ctl_reply_job(int fd, struct job *j)
{
	struct ctl_job cj;
	json_t *o;

	if (job_to_ctl(j, &cj) != 0)
		return ctl_reply(fd, ctl_reply_error("out of memory"));
	o = ctl_job_reply(&cj);
	ctl_job_free(&cj);
	return ctl_reply(fd, o);
}

static int
ctl_migrate(struct ctl_client *cl, const struct ctl_request *rq)
{
	const struct ctl_migrate_req *m = &rq->u.migrate;
	struct hv_dominfo di;
	struct send_req sr;
	char err[512];
	struct job *j;
	int r = 0;

	send_req_init(&sr, m, &cl->d->conf);
	/* Pinned with --manual-too: only an explicit --force moves it. */
	if (cl->d->hv->ops->lookup(cl->d->hv, sr.domain, &di) == 0 &&
	    pins_lookup(di.name, di.uuid) == PIN_ALL && !m->force)
		return ctl_reply(cl->fd, ctl_reply_error("%s is pinned to this host (xmig pin "
		    "--manual-too): use --force to migrate it anyway", di.name));
	if ((j = engine_send_start(cl->d, &sr, err, sizeof(err))) == NULL)
		return ctl_reply(cl->fd, ctl_reply_error("%s", err));
	if (ctl_reply_job(cl->fd, j) != 0)
		r = -1;
	else if (m->watch)
		r = ctl_follow(cl->fd, &job_source, j);
	job_put(j);
	return r;
}

/* The request's job, with a reference (job_put it); NULL after an error
 * reply.  The decoder let only a positive 64-bit id through. */
static struct job *
ctl_job_arg(struct ctl_client *cl, const struct ctl_request *rq)
{
	struct job *j;

	if ((j = job_get((uint64_t)rq->u.job.id)) == NULL)
		ctl_reply(cl->fd, ctl_reply_error("no job %lld", (long long)rq->u.job.id));
	return j;
}

static int
ctl_job(struct ctl_client *cl, const struct ctl_request *rq)
{
	struct job *j;
	int r;

	if ((j = ctl_job_arg(cl, rq)) == NULL)
		return 0;
	r = ctl_reply_job(cl->fd, j);
	job_put(j);
	return r;
}

/* j is held until job_put, however long the watch. */
static int
ctl_watch(struct ctl_client *cl, const struct ctl_request *rq)
{
	struct job *j;
	int r;

	if ((j = ctl_job_arg(cl, rq)) == NULL)
		return 0;
	r = ctl_reply_job(cl->fd, j);
	if (r == 0)
		r = ctl_follow(cl->fd, &job_source, j);
	job_put(j);
	return r;
}

static int
ctl_cancel(struct ctl_client *cl, const struct ctl_request *rq)
{
	const char *res;
	struct job *j;
	int r;

	if ((j = ctl_job_arg(cl, rq)) == NULL)
		return 0;
	job_lock();
	res = job_result_name(j);	/* a static string: safe after the unlock */
	job_unlock();
	if (res != NULL) {
		r = ctl_reply(cl->fd, ctl_reply_error("job %llu has already ended (%s)",
		    (unsigned long long)j->id, res));
	} else {
		atomic_store(&j->cancel, true);
		jlog(LOG_LVL_INFO, j->id, "cancel requested");
		r = ctl_reply(cl->fd, ctl_reply_ok());
	}
	job_put(j);
	return r;
}

static int
ctl_list(struct ctl_client *cl, const struct ctl_request *rq)
{
	struct hv *hv = cl->d->hv;
	struct hv_dominfo *doms = NULL;
	struct ctl_domain_list l;
	size_t n = 0, i;
	json_t *o;
	int r;

	if ((r = hv->ops->list(hv, &doms, &n)) != 0)
		return ctl_reply(cl->fd, ctl_reply_error("cannot list domains: %s",
		    xmig_strerror(r)));
	memset(&l, 0, sizeof(l));
	if ((l.domains = calloc(n ? n : 1, sizeof(*l.domains))) == NULL) {
		free(doms);
		return ctl_reply(cl->fd, ctl_reply_error("out of memory"));
	}
	for (i = 0; i < n; i++) {
		const char *pm = pin_mode_str(pins_lookup(doms[i].name, doms[i].uuid));
		struct ctl_domain *cd = &l.domains[i];

		cd->id = doms[i].id;
		strlcpy_x(cd->name, doms[i].name, sizeof(cd->name));
		uuid_format(doms[i].uuid, cd->uuid);
		cd->memory_bytes = (int64_t)doms[i].memory;
		cd->vcpus = doms[i].vcpus;
		strlcpy_x(cd->state, hv_state_name(doms[i].state), sizeof(cd->state));
		strlcpy_x(cd->type, hv_type_name(doms[i].type), sizeof(cd->type));
		/* "auto", "all" or none (xmig pin) */
		strlcpy_x(cd->pinned, pm ? pm : "", sizeof(cd->pinned));
	}
	l.ndomains = n;
	free(doms);
	o = ctl_domain_list_reply(&l);
	ctl_domain_list_free(&l);
	return ctl_reply(cl->fd, o);
}

/* A list of jobs, oldest first, as one reply: when it would pass
 * CTL_MSG_MAX (a thousand records of many rounds each), the oldest are
 * left out and counted, rather than the reply failing. */
static int
ctl_reply_job_list(struct ctl_client *cl, struct ctl_job_list *l)
{
	struct ctl_job_list v = *l;
	json_t *o;
	char *text;
	size_t len;

	for (;;) {
		if ((o = ctl_job_list_reply(&v)) == NULL)
			break;
		if ((text = json_dumps(o, JSON_COMPACT)) == NULL) {
			json_decref(o);
			o = NULL;
			break;
		}
		len = strlen(text);
		free(text);
		if (len <= CTL_MSG_MAX || v.njobs == 0)
			break;
		json_decref(o);
		/* a quarter at a time: a few encodings at most */
		v.left_out += (int64_t)(v.njobs / 4 > 0 ? v.njobs / 4 : 1);
		v.jobs = l->jobs + v.left_out;
		v.njobs = l->njobs - (size_t)v.left_out;
	}
	if (v.left_out > 0)
		log_verbose("control: %lld older job records left out of a reply",
		    (long long)v.left_out);
	ctl_job_list_free(l);
	return ctl_reply(cl->fd, o);
}

static int
ctl_jobs(struct ctl_client *cl, const struct ctl_request *rq)
{
	struct ctl_job_list l;

	if (jobs_to_ctl(&l) != 0)
		return ctl_reply(cl->fd, ctl_reply_error("out of memory"));
	return ctl_reply_job_list(cl, &l);
}

static int
ctl_status(struct ctl_client *cl, const struct ctl_request *rq)
{
	struct xmigd *d = cl->d;
	struct ctl_status st;

	memset(&st, 0, sizeof(st));
	strlcpy_x(st.host, d->host_name, sizeof(st.host));
	strlcpy_x(st.host_state, hoststate_str(hoststate_get(st.host_state_reason,
	    sizeof(st.host_state_reason))), sizeof(st.host_state));
	strlcpy_x(st.backend, d->hv->ops->name, sizeof(st.backend));
	strlcpy_x(st.version, XMIG_VERSION, sizeof(st.version));
	st.relocation_port = d->conf.relocation_port;
	st.relocation_server = d->conf.relocation_server;
	st.relocation_ssl_port = d->conf.relocation_ssl_port;
	st.relocation_ssl_server = d->conf.relocation_ssl_server;
	st.tls = d->tls_client != NULL;
	st.pid = getpid();
	return ctl_reply(cl->fd, ctl_status_reply(&st));
}

/* The finished jobs' records, oldest first; a record that does not decode
 * (damaged on disk) is left out. */
static int
ctl_history(struct ctl_client *cl, const struct ctl_request *rq)
{
	struct ctl_job_list l;
	json_t *h, *rec;
	char err[200];
	size_t i;

	if ((h = history_list((size_t)rq->u.history.limit)) == NULL)
		return ctl_reply(cl->fd, ctl_reply_error("out of memory"));
	memset(&l, 0, sizeof(l));
	if ((l.jobs = calloc(json_array_size(h) ? json_array_size(h) : 1,
	    sizeof(*l.jobs))) == NULL) {
		json_decref(h);
		return ctl_reply(cl->fd, ctl_reply_error("out of memory"));
	}
	json_array_foreach(h, i, rec) {
		if (ctl_job_decode(rec, &l.jobs[l.njobs], err, sizeof(err)) == 0)
			l.njobs++;
		else
			log_verbose("history: a record left out: %s", err);
	}
	json_decref(h);
	return ctl_reply_job_list(cl, &l);
}

static int
ctl_pin(struct ctl_client *cl, const struct ctl_request *rq)
{
	bool pin = rq->cmd == CTL_PIN;
	const char *dom = rq->u.pin.domain;
	struct hv *hv = cl->d->hv;
	struct hv_dominfo di;
	enum pin_mode mode = PIN_NONE;
	struct ctl_pin_reply pr;
	int r;

	if (pin)
		mode = rq->u.pin.manual_too ? PIN_ALL : PIN_AUTO;
	if ((r = hv->ops->lookup(hv, dom, &di)) != 0) {
		/* Unpinning a domain that is gone must still be possible. */
		if (pin)
			return ctl_reply(cl->fd, ctl_reply_error("no domain %s on %s", dom,
			    cl->d->host_name));
		memset(&di, 0, sizeof(di));
		strlcpy_x(di.name, dom, sizeof(di.name));
	}
	if ((r = pins_set(di.name, di.uuid, mode)) != 0) {
		if (r == XMIG_ERR_NOT_FOUND)
			return ctl_reply(cl->fd, ctl_reply_error("%s is not pinned", di.name));
		return ctl_reply(cl->fd, ctl_reply_error("cannot %s %s: %s", pin ? "pin" : "unpin",
		    di.name, xmig_strerror(r)));
	}
	log_info("%s %s%s", pin ? "pinned" : "unpinned", di.name,
	    mode == PIN_ALL ? " (manual migrations too)" : "");
	memset(&pr, 0, sizeof(pr));
	strlcpy_x(pr.domain, di.name, sizeof(pr.domain));
	strlcpy_x(pr.pinned, pin_mode_str(mode) ? pin_mode_str(mode) : "", sizeof(pr.pinned));
	return ctl_reply(cl->fd, ctl_pin_reply(&pr));
}

static int
ctl_maint_reply(int fd)
{
	struct ctl_maint_status st;
	json_t *o;

	if (maint_status(&st) != 0)
		return ctl_reply(fd, ctl_reply_error("out of memory"));
	o = ctl_maint_status_reply(&st);
	ctl_maint_status_free(&st);
	return ctl_reply(fd, o);
}

static int
ctl_maintenance(struct ctl_client *cl, const struct ctl_request *rq)
{
	const struct ctl_maint_req *m = &rq->u.maint;
	struct mover *ev;
	char err[CTL_TEXT_MAX];
	int r;

	switch (m->action) {
	case CTL_MAINT_STATUS:
		return ctl_maint_reply(cl->fd);
	case CTL_MAINT_EXIT:
		if (maint_exit(cl->d, err, sizeof(err)) != 0)
			return ctl_reply(cl->fd, ctl_reply_error("%s", err));
		return ctl_maint_reply(cl->fd);
	case CTL_MAINT_ENTER:
		break;
	}
	if (maint_enter(cl->d, m, &ev, err, sizeof(err)) != 0)
		return ctl_reply(cl->fd, ctl_reply_error("%s", err));
	r = ctl_maint_reply(cl->fd);
	if (r == 0 && m->watch)
		r = ctl_follow(cl->fd, &evac_source, ev);
	mover_put(ev);
	return r;
}

static int
ctl_balance(struct ctl_client *cl, const struct ctl_request *rq)
{
	const struct ctl_balance_req *b = &rq->u.balance;
	struct ctl_balance plan;
	struct balance *held;
	char err[CTL_TEXT_MAX];
	json_t *o;
	int r;

	if (balance_start(cl->d, b, &held, &plan, err, sizeof(err)) != 0)
		return ctl_reply(cl->fd, ctl_reply_error("%s", err));
	o = ctl_balance_reply(&plan);
	ctl_balance_free(&plan);
	r = ctl_reply(cl->fd, o);
	if (held == NULL)
		return r;	/* a dry run */
	if (r == 0 && b->watch)
		r = ctl_follow(cl->fd, &balance_source, held);
	balance_put(held);
	return r;
}

/* Every request: its command, the decoder that checks it (lib/ctlmsg.c)
 * and its handler, which gets it decoded. */
static const struct {
	enum ctl_cmd cmd;	/* its name: ctl_cmd_name() */
	int (*decode)(const json_t *o, enum ctl_cmd cmd, struct ctl_request *rq, char *err,
	    size_t errlen);
	int (*handler)(struct ctl_client *cl, const struct ctl_request *rq);
} ctl_table[] = {
	{ CTL_MIGRATE, ctl_request_decode, ctl_migrate },
	{ CTL_LIST, ctl_request_decode, ctl_list },
	{ CTL_JOBS, ctl_request_decode, ctl_jobs },
	{ CTL_JOB, ctl_request_decode, ctl_job },
	{ CTL_WATCH, ctl_request_decode, ctl_watch },
	{ CTL_CANCEL, ctl_request_decode, ctl_cancel },
	{ CTL_STATUS, ctl_request_decode, ctl_status },
	{ CTL_HISTORY, ctl_request_decode, ctl_history },
	{ CTL_PIN, ctl_request_decode, ctl_pin },
	{ CTL_UNPIN, ctl_request_decode, ctl_pin },
	{ CTL_MAINTENANCE, ctl_request_decode, ctl_maintenance },
	{ CTL_BALANCE, ctl_request_decode, ctl_balance },
};

static int
ctl_dispatch(struct ctl_client *cl, const json_t *req)
{
	const char *name = ctl_request_name(req);
	struct ctl_request *rq;
	char err[CTL_TEXT_MAX];
	size_t i, n = sizeof(ctl_table) / sizeof(ctl_table[0]);
	int r;

	if (name == NULL)
		return ctl_reply(cl->fd, ctl_reply_error("request without a command"));
	for (i = 0; i < n && strcmp(ctl_cmd_name(ctl_table[i].cmd), name) != 0; i++)
		;
	if (i == n)
		return ctl_reply(cl->fd, ctl_reply_error("unknown command \"%.64s\"", name));
	/* On the heap: a request holds several kilobytes of text. */
	if ((rq = malloc(sizeof(*rq))) == NULL)
		return ctl_reply(cl->fd, ctl_reply_error("out of memory"));
	if (ctl_table[i].decode(req, ctl_table[i].cmd, rq, err, sizeof(err)) != 0)
		r = ctl_reply(cl->fd, ctl_reply_error("%s", err));
	else
		r = ctl_table[i].handler(cl, rq);
	free(rq);
	return r;
}

static void *
ctl_thread(void *arg)
{
	struct ctl_client *cl = arg;
	json_t *req;
	int r;

	/* A client may send several requests; it is dropped on any error. */
	while ((r = ctl_recv(cl->fd, &req, 60000)) == 0) {
		r = ctl_dispatch(cl, req);
		json_decref(req);
		if (r != 0)
			break;
	}
	/* Not JSON (jansson also refuses integers beyond 64 bits, such as an
	 * id of 2^64 + 1): one error line before the client is dropped. */
	if (r == XMIG_ERR_INVALID)
		ctl_reply(cl->fd, ctl_reply_error("malformed request: not a JSON object, or a "
		    "number out of range"));
	if (r != 0 && r != XMIG_ERR_EOF && r != -1)
		log_debug("control client dropped: %s", xmig_strerror(r));
	close(cl->fd);
	free(cl);
	return NULL;
}

void
ctlsrv_client_start(struct xmigd *d, int fd)
{
	struct ctl_client *cl = calloc(1, sizeof(*cl));
	pthread_attr_t attr;
	pthread_t t;

	if (cl == NULL) {
		close(fd);
		return;
	}
	cl->d = d;
	cl->fd = fd;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, ctl_thread, cl) != 0) {
		close(fd);
		free(cl);
	}
	pthread_attr_destroy(&attr);
}
