/* store/jobs.c - the job table. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/history.h"
#include "store/jobs.h"
#include "log.h"
#include "util.h"

#define JOBS_MAX 256

static pthread_mutex_t jobs_mu = PTHREAD_MUTEX_INITIALIZER;
static struct job *jobs[JOBS_MAX];
static unsigned njobs;
static uint64_t next_id = 1;

void
jobs_init(void)
{
	njobs = 0;
}

void
job_lock(void)
{
	pthread_mutex_lock(&jobs_mu);
}

void
job_unlock(void)
{
	pthread_mutex_unlock(&jobs_mu);
}

bool
job_finished(const struct job *j)
{
	return j->state >= JOB_DONE;
}

static void
job_free(struct job *j)
{
	free(j->rounds);
	free(j);
}

/* Caller holds the lock.  Unlinking drops the table's reference; a job
 * someone still holds (a watcher, a lookup in flight) lives on unlisted. */
static void
jobs_trim_locked(unsigned keep)
{
	unsigned i, finished = 0, w = 0;

	for (i = 0; i < njobs; i++)
		if (job_finished(jobs[i]) && jobs[i]->thread_done)
			finished++;
	for (i = 0; i < njobs; i++) {
		struct job *j = jobs[i];

		if (finished > keep && job_finished(j) && j->thread_done) {
			if (--j->refs == 0)
				job_free(j);
			finished--;
			continue;
		}
		jobs[w++] = j;
	}
	njobs = w;
}

void
jobs_trim(unsigned keep)
{
	job_lock();
	jobs_trim_locked(keep);
	job_unlock();
}

struct job *
job_new(bool incoming)
{
	struct job *j = calloc(1, sizeof(*j));

	if (j == NULL)
		return NULL;
	j->incoming = incoming;
	j->state = incoming ? JOB_PREPARE : JOB_CONNECTING;
	j->started_wall_ms = wall_ms();
	j->t_start_us = now_us();
	atomic_init(&j->cancel, false);
	job_lock();
	if (njobs == JOBS_MAX)
		jobs_trim_locked(JOBS_MAX / 2);
	if (njobs == JOBS_MAX) {
		job_unlock();
		free(j);
		return NULL;
	}
	j->id = next_id++;
	j->refs = 2;	/* the table's and the caller's */
	jobs[njobs++] = j;
	job_unlock();
	return j;
}

struct job *
job_get(uint64_t id)
{
	struct job *found = NULL;
	unsigned i;

	job_lock();
	for (i = 0; i < njobs; i++)
		if (jobs[i]->id == id)
			found = jobs[i];
	if (found != NULL)
		found->refs++;
	job_unlock();
	return found;
}

void
job_hold(struct job *j)
{
	job_lock();
	j->refs++;
	job_unlock();
}

void
job_put(struct job *j)
{
	bool last;

	if (j == NULL)
		return;
	job_lock();
	last = --j->refs == 0;
	job_unlock();
	if (last)
		job_free(j);
}

void
job_thread_exit(struct job *j)
{
	if (j == NULL)
		return;
	job_lock();
	j->thread_done = true;
	job_unlock();
	job_put(j);
}

/* Whether a job of that direction with this token still has its thread. */
static bool
job_token_active(const uint8_t token[16], bool incoming)
{
	bool active = false;
	unsigned i;

	job_lock();
	for (i = 0; i < njobs; i++)
		if (jobs[i]->incoming == incoming && !jobs[i]->thread_done &&
		    memcmp(jobs[i]->token, token, 16) == 0)
			active = true;
	job_unlock();
	return active;
}

bool
job_outgoing_active(const uint8_t token[16])
{
	return job_token_active(token, false);
}

bool
job_incoming_active(const uint8_t token[16])
{
	return job_token_active(token, true);
}

bool
job_domain_busy(uint32_t domid)
{
	bool busy = false;
	unsigned i;

	job_lock();
	for (i = 0; i < njobs; i++)
		if (!jobs[i]->incoming && jobs[i]->domid == domid && !job_finished(jobs[i]))
			busy = true;
	job_unlock();
	return busy;
}

unsigned
jobs_running_incoming(void)
{
	unsigned i, n = 0;

	job_lock();
	for (i = 0; i < njobs; i++)
		if (jobs[i]->incoming && !jobs[i]->thread_done)
			n++;
	job_unlock();
	return n;
}

const char *
job_state_name(enum job_state s)
{
	static const char *const names[] = {
		[JOB_CONNECTING] = "connecting", [JOB_PREPARE] = "prepare",
		[JOB_PRECOPY] = "precopy", [JOB_STOPCOPY] = "stop-and-copy",
		[JOB_COMMITTING] = "committing", [JOB_DONE] = "done",
		[JOB_FAILED] = "failed", [JOB_CANCELLED] = "cancelled",
		[JOB_AMBIGUOUS] = "ambiguous",
	};

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "unknown";
}

const char *
job_result_name(const struct job *j)
{
	switch (j->state) {
	case JOB_DONE: return "success";
	case JOB_FAILED: return "failed";
	case JOB_CANCELLED: return "cancelled";
	case JOB_AMBIGUOUS: return "ambiguous";
	default: return NULL;
	}
}

bool
job_set_state(struct job *j, int from, enum job_state to)
{
	enum job_state old;
	bool ok;

	job_lock();
	old = j->state;
	ok = from < 0 ? !job_finished(j) : (int)old == from;
	if (ok) {
		j->state = to;
		if (to >= JOB_DONE)
			j->total_ms = (now_us() - j->t_start_us) / 1000;
	}
	job_unlock();
	if (ok)
		jlog(LOG_LVL_VERBOSE, j->id, "%s -> %s", job_state_name(old), job_state_name(to));
	if (ok && to >= JOB_DONE) {
		json_t *rec = job_to_json(j);

		history_record(j->id, j->started_wall_ms, rec);	/* for "xmig history" */
		json_decref(rec);
	}
	return ok;
}

void
job_set_error(struct job *j, const char *fmt, ...)
{
	char big[2 * sizeof(j->error)], buf[sizeof(j->error)];
	va_list ap;
	bool first;

	va_start(ap, fmt);
	vsnprintf(big, sizeof(big), fmt, ap);
	va_end(ap);
	/* The text may quote a peer: valid UTF-8 whatever it sent, cut at a
	 * character boundary, or job_to_json (jansson) would refuse the job. */
	strlcpy_utf8(buf, big, sizeof(buf));
	job_lock();
	first = j->error[0] == '\0';
	if (first)
		strlcpy_x(j->error, buf, sizeof(j->error));
	job_unlock();
	jlog(first ? LOG_LVL_ERROR : LOG_LVL_VERBOSE, j->id, "%s", buf);
}

void
job_add_round_locked(struct job *j, const struct job_round *r)
{
	if (j->nrounds == j->rounds_cap) {
		unsigned cap = j->rounds_cap ? 2 * j->rounds_cap : 8;
		struct job_round *n = realloc(j->rounds, cap * sizeof(*n));

		if (n == NULL)
			return;
		j->rounds = n;
		j->rounds_cap = cap;
	}
	j->rounds[j->nrounds++] = *r;
}

static json_t *
job_rounds_json(const struct job *j)
{
	json_t *a = json_array();
	unsigned i;

	for (i = 0; a != NULL && i < j->nrounds; i++)
		json_array_append_new(a, json_pack("{s:I, s:I, s:I, s:I, s:I}",
		    "round", (json_int_t)j->rounds[i].round,
		    "pages", (json_int_t)j->rounds[i].pages,
		    "bytes", (json_int_t)j->rounds[i].bytes,
		    "dirty", (json_int_t)j->rounds[i].dirty,
		    "ms", (json_int_t)j->rounds[i].ms));
	return a;
}

/* A JSON string of a text field, made valid UTF-8 on a copy: every field
 * should already be (job_set_error, the protocol decoder), but one invalid
 * byte would make jansson refuse the whole job and hide it from xmig. */
static json_t *
json_text(const char *s)
{
	char buf[sizeof(((struct job *)0)->error)];

	if (utf8_valid(s))
		return json_string(s);
	strlcpy_utf8(buf, s, sizeof(buf));
	return json_string(buf);
}

/* Where a finished outgoing migration's time went, in ms.  The last three
 * are the downtime's parts (suspension to STREAM_END: the final round;
 * to BUILT: the destination's restore; to DONE: the commit, with the
 * destination's record, rename and unpause), measured on one clock so
 * that they add up to downtime_ms within rounding. */
static json_t *
job_phases_json(const struct job *j)
{
	uint64_t pause = j->t_pause_us ? j->t_pause_us : j->t_stream_us;

	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}",
	    "connect_ms", (json_int_t)((j->t_prepare_us - j->t_start_us) / 1000),
	    "destination_build_ms", (json_int_t)((j->t_stream_us - j->t_prepare_us) / 1000),
	    "precopy_ms", (json_int_t)((pause - j->t_stream_us) / 1000),
	    "final_round_ms", (json_int_t)((j->t_end_us - pause) / 1000),
	    "restore_ms", (json_int_t)((j->t_built_us - j->t_end_us) / 1000),
	    "commit_ms", (json_int_t)((j->t_done_us - j->t_built_us) / 1000));
}

static json_t *
job_to_json_locked(const struct job *j)
{
	const char *res = job_result_name(j);
	uint64_t total = job_finished(j) ? j->total_ms : (now_us() - j->t_start_us) / 1000;
	json_t *o;

	o = json_pack("{s:I, s:s, s:o, s:o, s:s, s:s, s:o, s:o, s:I, s:I, s:I, s:I, s:I,"
	    " s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}",
	    "id", (json_int_t)j->id,
	    "direction", j->incoming ? "in" : "out",
	    "domain", json_text(j->domain),
	    "peer", json_text(j->peer),
	    "mode", j->live ? "live" : "offline",
	    "state", job_state_name(j->state),
	    "result", res ? json_string(res) : json_null(),
	    "error", j->error[0] ? json_text(j->error) : json_null(),
	    "iteration", (json_int_t)j->iteration,
	    "bytes_sent", (json_int_t)j->bytes_sent,
	    "pages_sent", (json_int_t)j->pages_sent,
	    "zero_pages", (json_int_t)j->zero_pages,
	    "normal_pages", (json_int_t)j->normal_pages,
	    "memory_bytes", (json_int_t)j->memory_bytes,
	    "remaining_pages", (json_int_t)j->remaining_pages,
	    "dirty_rate", (json_int_t)j->dirty_rate,
	    "throughput_bps", (json_int_t)j->throughput,
	    "total_ms", (json_int_t)total,
	    "downtime_ms", (json_int_t)j->downtime_ms,
	    "setup_ms", (json_int_t)j->setup_ms,
	    "expected_downtime_ms", (json_int_t)j->expected_downtime_ms,
	    "started", (json_int_t)j->started_wall_ms,
	    "dest_domid", (json_int_t)j->dest_domid,
	    "domid", (json_int_t)j->domid,
	    "stop_reason", json_text(j->stop_reason));
	if (o == NULL)
		return NULL;
	json_object_set_new(o, "warnings", j->warning[0] ?
	    json_pack("[o]", json_text(j->warning)) : json_array());
	/* QEMU query-migrate style names, for tools that know those. */
	json_object_set_new(o, "transferred_bytes", json_integer((json_int_t)j->bytes_sent));
	json_object_set_new(o, "remaining_bytes",
	    json_integer((json_int_t)(j->remaining_pages * 4096)));
	json_object_set_new(o, "total_bytes", json_integer((json_int_t)j->memory_bytes));
	json_object_set_new(o, "throttle_pct", json_integer(j->throttle_pct));
	json_object_set_new(o, "downtime_target_ms", json_integer(j->target_ms));
	json_object_set_new(o, "extra_rounds", json_integer(j->extra_rounds));
	json_object_set_new(o, "compressed_bytes", json_integer((json_int_t)j->compressed_bytes));
	json_object_set_new(o, "compressed_wire_bytes",
	    json_integer((json_int_t)j->compressed_wire));
	json_object_set_new(o, "precopy_ms", json_integer((json_int_t)j->precopy_ms));
	json_object_set_new(o, "stream_ms", json_integer((json_int_t)j->stream_ms));
	json_object_set_new(o, "final_pages", json_integer((json_int_t)j->final_pages));
	json_object_set_new(o, "final_bytes", json_integer((json_int_t)j->final_bytes));
	json_object_set_new(o, "rounds", job_rounds_json(j));
	if (!j->incoming && j->t_done_us != 0)
		json_object_set_new(o, "phases", job_phases_json(j));
	return o;
}

json_t *
job_to_json(const struct job *j)
{
	json_t *o;

	job_lock();
	o = job_to_json_locked(j);
	job_unlock();
	return o;
}

json_t *
jobs_to_json(void)
{
	json_t *a = json_array();
	unsigned i;

	job_lock();
	for (i = 0; i < njobs; i++)
		json_array_append_new(a, job_to_json_locked(jobs[i]));
	job_unlock();
	return a;
}

void
jobs_cancel_all(void)
{
	unsigned i;

	job_lock();
	for (i = 0; i < njobs; i++)
		atomic_store(&jobs[i]->cancel, true);
	job_unlock();
}
