/* ctlsrv.c - requests from xmig over the Unix control socket.
 *
 * One short-lived thread per client.  A malformed request gets an error
 * reply and the client is dropped; nothing a client sends can stop the
 * daemon.  "migrate" and "watch" stream progress events until the job ends.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster/balance.h"
#include "ctl.h"
#include "ctlsrv.h"
#include "compress.h"
#include "engine/engine.h"
#include "store/history.h"
#include "store/hoststate.h"
#include "cluster/maint.h"
#include "log.h"
#include "util.h"
#include "xerr.h"

#define CTL_PROGRESS_MS 200

struct ctl_client {
	struct xmigd *d;
	int fd;
};

static int
ctl_reply_error(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
ctl_reply_error(int fd, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	json_t *o;
	int r;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	utf8_sanitize(buf);	/* the cut may split a character; jansson wants UTF-8 */
	o = json_pack("{s:b, s:s}", "ok", 0, "error", buf);
	r = ctl_send(fd, o);
	json_decref(o);
	return r;
}

/* Send o (stealing the reference). */
static int
ctl_reply(int fd, json_t *o)
{
	int r = ctl_send(fd, o);

	json_decref(o);
	return r;
}

static int
ctl_watch(int fd, struct job *j)
{
	for (;;) {
		bool done;
		json_t *jo;

		job_lock();
		done = job_finished(j);
		job_unlock();
		jo = job_to_json(j);
		if (ctl_reply(fd, json_pack("{s:s, s:o}", "event", done ? "done" : "progress",
		    "job", jo)) != 0)
			return -1;	/* the client went away; the job goes on */
		if (done)
			return 0;
		usleep(CTL_PROGRESS_MS * 1000);
	}
}

static int
ctl_json_uint(json_t *req, const char *key, unsigned max, unsigned *out)
{
	json_t *v = json_object_get(req, key);

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > (json_int_t)max)
		return -1;
	*out = (unsigned)json_integer_value(v);
	return 0;
}

static int
ctl_migrate(struct ctl_client *cl, json_t *req)
{
	struct send_req sr;
	const char *dom = json_string_value(json_object_get(req, "domain"));
	const char *host = json_string_value(json_object_get(req, "host"));
	bool ssl = json_is_true(json_object_get(req, "ssl"));
	unsigned port = ssl ? CONF_DEFAULT_SSL_PORT : CONF_DEFAULT_PORT;
	char err[512];
	struct job *j;
	int r = 0;

	memset(&sr, 0, sizeof(sr));
	sr.ssl = ssl;
	if (dom == NULL || !*dom || host == NULL || !*host)
		return ctl_reply_error(cl->fd, "migrate needs a domain and a host");
	if (strlen(dom) >= sizeof(sr.domain) || strlen(host) >= sizeof(sr.host))
		return ctl_reply_error(cl->fd, "domain or host name too long");
	if (ctl_json_uint(req, "port", 65535, &port) != 0 || port == 0 ||
	    ctl_json_uint(req, "downtime_ms", 600000, &sr.downtime_ms) != 0 ||
	    ctl_json_uint(req, "max_rounds", 100000, &sr.max_rounds) != 0 ||
	    ctl_json_uint(req, "bandwidth_mbit", 10000000, &sr.bandwidth_mbit) != 0)
		return ctl_reply_error(cl->fd, "bad number in migrate request");
	strlcpy_x(sr.domain, dom, sizeof(sr.domain));
	strlcpy_x(sr.host, host, sizeof(sr.host));
	sr.port = (uint16_t)port;
	sr.live = json_is_true(json_object_get(req, "live"));
	sr.auto_converge = json_is_true(json_object_get(req, "auto_converge"));
	{
		json_t *mf = json_object_get(req, "max_factor");
		const char *cz = json_string_value(json_object_get(req, "compress"));

		if (mf != NULL && !json_is_null(mf)) {
			if (!json_is_number(mf) || json_number_value(mf) < 1.0 ||
			    json_number_value(mf) > 100.0)
				return ctl_reply_error(cl->fd, "max_factor must be 1..100");
			sr.max_factor = json_number_value(mf);
		}
		sr.compress = -1;	/* the daemon's default */
		if (cz != NULL && (sr.compress = compress_mode_parse(cz)) < 0)
			return ctl_reply_error(cl->fd, "unknown compression '%s' (zstd, lz4, "
			    "none or auto)", cz);
	}
	{
		struct hv_dominfo di;

		/* Pinned with --manual-too: only an explicit --force moves it. */
		if (cl->d->hv->ops->lookup(cl->d->hv, sr.domain, &di) == 0 &&
		    pins_lookup(di.name, di.uuid) == PIN_ALL &&
		    !json_is_true(json_object_get(req, "force")))
			return ctl_reply_error(cl->fd, "%s is pinned to this host (xmig pin "
			    "--manual-too): use --force to migrate it anyway", di.name);
	}
	if ((j = engine_send_start(cl->d, &sr, err, sizeof(err))) == NULL)
		return ctl_reply_error(cl->fd, "%s", err);
	if (ctl_reply(cl->fd, json_pack("{s:b, s:o}", "ok", 1, "job", job_to_json(j))) != 0)
		r = -1;
	else if (json_is_true(json_object_get(req, "watch")))
		r = ctl_watch(cl->fd, j);
	job_put(j);
	return r;
}

/* The request's job, with a reference (job_put it); NULL after an error
 * reply.  Ids are 64-bit: anything but a positive integer is refused, never
 * cut down to name another job. */
static struct job *
ctl_job_arg(struct ctl_client *cl, json_t *req)
{
	json_t *v = json_object_get(req, "id");
	struct job *j;

	if (v == NULL || json_is_null(v)) {
		ctl_reply_error(cl->fd, "missing job id");
		return NULL;
	}
	if (!json_is_integer(v) || json_integer_value(v) <= 0) {
		ctl_reply_error(cl->fd, "bad job id: a job number is a positive integer");
		return NULL;
	}
	if ((j = job_get((uint64_t)json_integer_value(v))) == NULL)
		ctl_reply_error(cl->fd, "no job %lld", (long long)json_integer_value(v));
	return j;
}

static int
ctl_list(struct ctl_client *cl)
{
	struct hv *hv = cl->d->hv;
	struct hv_dominfo *doms = NULL;
	size_t n = 0, i;
	json_t *a;
	int r;

	if ((r = hv->ops->list(hv, &doms, &n)) != 0)
		return ctl_reply_error(cl->fd, "cannot list domains: %s", xmig_strerror(r));
	a = json_array();
	for (i = 0; i < n; i++) {
		const char *pm = pin_mode_str(pins_lookup(doms[i].name, doms[i].uuid));
		char uuid[37];
		json_t *o;

		uuid_format(doms[i].uuid, uuid);
		o = json_pack("{s:I, s:s, s:s, s:I, s:I, s:s, s:s}",
		    "id", (json_int_t)doms[i].id, "name", doms[i].name, "uuid", uuid,
		    "memory_bytes", (json_int_t)doms[i].memory, "vcpus", (json_int_t)doms[i].vcpus,
		    "state", hv_state_name(doms[i].state), "type", hv_type_name(doms[i].type));

		/* "pinned": "auto", "all" or null (xmig pin). */
		if (o != NULL)
			json_object_set_new(o, "pinned", pm ? json_string(pm) : json_null());
		json_array_append_new(a, o);
	}
	free(doms);
	return ctl_reply(cl->fd, json_pack("{s:b, s:o}", "ok", 1, "domains", a));
}

static int
ctl_pin(struct ctl_client *cl, json_t *req, bool pin)
{
	const char *dom = json_string_value(json_object_get(req, "domain"));
	struct hv *hv = cl->d->hv;
	struct hv_dominfo di;
	enum pin_mode mode = PIN_NONE;
	int r;

	if (dom == NULL || !*dom)
		return ctl_reply_error(cl->fd, "%s needs a domain", pin ? "pin" : "unpin");
	if (pin)
		mode = json_is_true(json_object_get(req, "manual_too")) ? PIN_ALL : PIN_AUTO;
	if ((r = hv->ops->lookup(hv, dom, &di)) != 0) {
		/* Unpinning a domain that is gone must still be possible. */
		if (pin)
			return ctl_reply_error(cl->fd, "no domain %s on %s", dom,
			    cl->d->host_name);
		memset(&di, 0, sizeof(di));
		strlcpy_x(di.name, dom, sizeof(di.name));
	}
	if ((r = pins_set(di.name, di.uuid, mode)) != 0)
		return ctl_reply_error(cl->fd, r == XMIG_ERR_NOT_FOUND ? "%s is not pinned" :
		    "cannot %s %s: %s", pin ? "pin" : "unpin", di.name, xmig_strerror(r));
	log_info("%s %s%s", pin ? "pinned" : "unpinned", di.name,
	    mode == PIN_ALL ? " (manual migrations too)" : "");
	return ctl_reply(cl->fd, json_pack("{s:b, s:s, s:o}", "ok", 1, "domain", di.name,
	    "pinned", pin_mode_str(mode) ? json_string(pin_mode_str(mode)) : json_null()));
}

static int
ctl_dispatch(struct ctl_client *cl, json_t *req)
{
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	struct xmigd *d = cl->d;
	struct job *j;
	int r;

	if (cmd == NULL)
		return ctl_reply_error(cl->fd, "request without \"cmd\"");
	if (strcmp(cmd, "status") == 0) {
		char reason[HOSTSTATE_REASON_MAX];
		enum host_state hs = hoststate_get(reason, sizeof(reason));

		return ctl_reply(cl->fd, json_pack("{s:b, s:s, s:s, s:s, s:s, s:s, s:i, s:b, s:i, "
		    "s:b, s:b, s:i}", "ok", 1, "host", d->host_name,
		    "host_state", hoststate_str(hs), "host_state_reason", reason,
		    "backend", d->hv->ops->name,
		    "version", XMIG_VERSION, "relocation_port", d->conf.relocation_port,
		    "relocation_server", d->conf.relocation_server,
		    "relocation_ssl_port", d->conf.relocation_ssl_port,
		    "relocation_ssl_server", d->conf.relocation_ssl_server,
		    "tls", d->tls_client != NULL, "pid", (int)getpid()));
	}
	if (strcmp(cmd, "pin") == 0 || strcmp(cmd, "unpin") == 0)
		return ctl_pin(cl, req, strcmp(cmd, "pin") == 0);
	if (strcmp(cmd, "maintenance") == 0)
		return maint_ctl(d, cl->fd, req);
	if (strcmp(cmd, "balance") == 0)
		return balance_ctl(d, cl->fd, req);
	if (strcmp(cmd, "list") == 0)
		return ctl_list(cl);
	if (strcmp(cmd, "migrate") == 0)
		return ctl_migrate(cl, req);
	if (strcmp(cmd, "jobs") == 0)
		return ctl_reply(cl->fd, json_pack("{s:b, s:o}", "ok", 1, "jobs", jobs_to_json()));
	if (strcmp(cmd, "history") == 0) {
		unsigned limit = 50;
		json_t *h;

		if (ctl_json_uint(req, "limit", HISTORY_KEEP, &limit) != 0 || limit == 0)
			return ctl_reply_error(cl->fd, "bad limit in history request (1-%d)",
			    HISTORY_KEEP);
		if ((h = history_list(limit)) == NULL)
			return ctl_reply_error(cl->fd, "out of memory");
		return ctl_reply(cl->fd, json_pack("{s:b, s:o}", "ok", 1, "jobs", h));
	}
	/* job, watch, cancel: j is held until job_put, however long the watch. */
	if (strcmp(cmd, "job") == 0) {
		if ((j = ctl_job_arg(cl, req)) == NULL)
			return 0;
		r = ctl_reply(cl->fd, json_pack("{s:b, s:o}", "ok", 1, "job", job_to_json(j)));
		job_put(j);
		return r;
	}
	if (strcmp(cmd, "watch") == 0) {
		if ((j = ctl_job_arg(cl, req)) == NULL)
			return 0;
		r = ctl_reply(cl->fd, json_pack("{s:b, s:o}", "ok", 1, "job", job_to_json(j)));
		if (r == 0)
			r = ctl_watch(cl->fd, j);
		job_put(j);
		return r;
	}
	if (strcmp(cmd, "cancel") == 0) {
		const char *res;

		if ((j = ctl_job_arg(cl, req)) == NULL)
			return 0;
		job_lock();
		res = job_result_name(j);	/* a static string: safe after the unlock */
		job_unlock();
		if (res != NULL)
			r = ctl_reply_error(cl->fd, "job %llu has already ended (%s)",
			    (unsigned long long)j->id, res);
		else {
			atomic_store(&j->cancel, true);
			jlog(LOG_LVL_INFO, j->id, "cancel requested");
			r = ctl_reply(cl->fd, json_pack("{s:b}", "ok", 1));
		}
		job_put(j);
		return r;
	}
	return ctl_reply_error(cl->fd, "unknown command \"%s\"", cmd);
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
		ctl_reply_error(cl->fd, "malformed request: not a JSON object, or a number out of "
		    "range");
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
