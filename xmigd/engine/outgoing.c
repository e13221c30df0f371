/* engine/outgoing.c - settle source copies left by interrupted outgoing jobs. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/incoming.h"
#include "engine/engine_int.h"
#include "store/jobs.h"
#include "log.h"
#include "engine/outgoing.h"
#include "util.h"
#include "xerr.h"

#define RESOLVE_INTERVAL_S 30

static char resolve_dir[1100];

int
resolve_init(const char *state_dir, char *err, size_t errlen)
{
	snprintf(resolve_dir, sizeof(resolve_dir), "%s/outgoing", state_dir);
	if (mkdir_p(resolve_dir, 0700) != 0) {
		snprintf(err, errlen, "state-dir %s: %s", state_dir, strerror(errno));
		return XMIG_ERR_SYSTEM;
	}
	return 0;
}

int
outgoing_record(const struct outgoing_rec *rec)
{
	char line[512];
	int len;

	len = snprintf(line, sizeof(line), "%s %s %u %d %u %s\n", rec->phase, rec->host,
	    rec->port, rec->ssl ? 1 : 0, rec->domid, rec->name);
	if (len < 0 || (size_t)len >= sizeof(line))
		return XMIG_ERR_TOO_LONG;
	return state_write_line(resolve_dir, rec->token, line);
}

void
outgoing_forget(const uint8_t token[16])
{
	char hex[33], path[1200];

	state_token_hex(token, hex);
	snprintf(path, sizeof(path), "%s/%s", resolve_dir, hex);
	unlink(path);
}

static int
outgoing_read(const char *file, struct outgoing_rec *rec)
{
	char path[1400], line[512];
	unsigned port, domid;
	int ssl, k;
	FILE *f;

	memset(rec, 0, sizeof(*rec));
	if (state_token_parse(file, rec->token) != 0)
		return XMIG_ERR_INVALID;
	snprintf(path, sizeof(path), "%s/%s", resolve_dir, file);
	if ((f = fopen(path, "re")) == NULL)
		return XMIG_ERR_NOT_FOUND;
	k = fgets(line, sizeof(line), f) != NULL &&
	    sscanf(line, "%15s %255s %u %d %u %63s", rec->phase, rec->host, &port, &ssl, &domid,
	    rec->name) == 6 && port > 0 && port < 65536;
	fclose(f);
	if (!k)
		return XMIG_ERR_INVALID;
	rec->port = (uint16_t)port;
	rec->ssl = ssl != 0;
	rec->domid = domid;
	return 0;
}

int
engine_query_outcome(struct xmigd *d, const char *host, uint16_t port, bool ssl,
    const uint8_t token[16], const char *name, const uint8_t uuid[16], unsigned attempts,
    bool *reached)
{
	unsigned attempt;

	*reached = false;
	for (attempt = 0; attempt < attempts && !atomic_load(&d->stopping); attempt++) {
		struct xconn qc;
		struct msg_hello ours, peer;
		struct msg_query q;
		struct msg_query_reply qr;
		struct frame_hdr fh;
		uint8_t buf[1024];
		char why[256];
		int n;

		if (attempt > 0)
			sleep(attempt < 3 ? 1 : 2);
		if (engine_connect(d, &qc, host, port, ssl, 3000, why, sizeof(why)) != 0)
			continue;
		memcpy(q.token, token, 16);
		if (engine_build_hello(d, &ours) != 0 || engine_send_hello(&qc, &ours) != 0 ||
		    engine_recv_hello(&qc, &peer, why, sizeof(why)) != 0 ||
		    (n = msg_query_encode(&q, buf, sizeof(buf))) < 0 ||
		    xconn_send_frame(&qc, MSG_QUERY, buf, (uint32_t)n) != 0 ||
		    xconn_recv_frame(&qc, &fh, buf, sizeof(buf)) != 0 ||
		    fh.type != MSG_QUERY_REPLY || msg_query_reply_decode(buf, fh.len, &qr) != 0 ||
		    memcmp(qr.token, token, 16) != 0) {
			xconn_close(&qc);
			continue;
		}
		xconn_close(&qc);
		if (qr.outcome == OUTCOME_IN_PROGRESS)
			continue;	/* the receiver has not settled yet */
		if ((qr.outcome == OUTCOME_COMMITTED || qr.outcome == OUTCOME_ABORTED) &&
		    (strcmp(qr.name, name) != 0 || memcmp(qr.uuid, uuid, 16) != 0)) {
			log_error("%s answers about the migration of %s with the outcome of "
			    "another domain (%s): not acted on", host, name,
			    qr.name[0] ? qr.name : "no name");
			return OUTCOME_UNKNOWN;
		}
		*reached = true;
		return qr.outcome;
	}
	return OUTCOME_UNKNOWN;
}

/* The source copy back under its name, running. */
static void
resolve_resume(struct xmigd *d, const struct outgoing_rec *rec, const struct hv_dominfo *di)
{
	struct hv *hv = d->hv;
	int r;

	if (strcmp(di->name, rec->name) != 0 && (r = hv->ops->rename(hv, di->id, rec->name)) != 0)
		log_error("reconcile: cannot rename %s back to %s: %s", di->name, rec->name,
		    xmig_strerror(r));
	if ((r = hv->ops->resume(hv, di->id)) != 0)
		log_error("reconcile: cannot resume %s: %s", rec->name, xmig_strerror(r));
	else
		log_warn("reconcile: %s resumed on this host (its migration to %s did not "
		    "complete)", rec->name, rec->host);
}

/* Settle one record; true when it is done with. */
static bool
resolve_one(struct xmigd *d, const struct outgoing_rec *rec)
{
	struct hv *hv = d->hv;
	struct hv_dominfo di;
	char id[16], away[HV_NAME_MAX];
	bool reached;
	int outcome;

	snprintf(id, sizeof(id), "%u", rec->domid);
	engine_decorate(away, sizeof(away), rec->name, SUFFIX_MIGRATED);
	/* The id must still name this domain (Xen reuses ids). */
	if (hv->ops->lookup(hv, id, &di) != 0 ||
	    (strcmp(di.name, rec->name) != 0 && strcmp(di.name, away) != 0))
		return true;
	if (strcmp(rec->phase, "go") != 0) {
		/* GO was never sent: the receiver cannot have run it.  Resumed
		 * also when it still runs: the dead job left log-dirty tracking
		 * and any auto-converge throttle on. */
		resolve_resume(d, rec, &di);
		return true;
	}
	outcome = engine_query_outcome(d, rec->host, rec->port, rec->ssl, rec->token, rec->name,
	    di.uuid, 1, &reached);
	if (outcome == OUTCOME_COMMITTED) {
		log_warn("reconcile: %s runs on %s: destroying the copy left here (%s)",
		    rec->name, rec->host, di.name);
		hv->ops->destroy(hv, di.id);
		return true;
	}
	if (outcome == OUTCOME_ABORTED) {
		resolve_resume(d, rec, &di);
		return true;
	}
	/* Unreachable, no record there, or an answer about another domain:
	 * the copy here may be the only one or a second one, so it waits. */
	log_warn("reconcile: %s %s about the migration of %s; %s stays paused here, "
	    "retrying every %u s", !reached ? "no usable answer from" : "no record of it on",
	    rec->host, rec->name, di.name, RESOLVE_INTERVAL_S);
	return false;
}

static void
resolve_scan(struct xmigd *d)
{
	struct dirent *de;
	DIR *dir;

	if ((dir = opendir(resolve_dir)) == NULL)
		return;
	while ((de = readdir(dir)) != NULL && !atomic_load(&d->stopping)) {
		struct outgoing_rec rec;

		if (outgoing_read(de->d_name, &rec) != 0)
			continue;
		if (job_outgoing_active(rec.token))
			continue;	/* a job of ours still owns it */
		if (resolve_one(d, &rec))
			outgoing_forget(rec.token);
	}
	closedir(dir);
}

static void *
resolve_thread(void *arg)
{
	struct xmigd *d = arg;
	unsigned i;

	while (!atomic_load(&d->stopping)) {
		resolve_scan(d);
		for (i = 0; i < RESOLVE_INTERVAL_S * 10 && !atomic_load(&d->stopping); i++)
			usleep(100000);
	}
	return NULL;
}

void
resolve_start(struct xmigd *d)
{
	pthread_attr_t attr;
	pthread_t t;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, resolve_thread, d) != 0)
		log_error("cannot start the reconcile thread; leftover source copies are "
		    "settled at the next start");
	pthread_attr_destroy(&attr);
}
