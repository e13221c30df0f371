/* store/jobs.c - the job table. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctlmsg.h"
#include "store/history.h"
#include "store/jobs.h"
#include "log.h"
#include "util.h"

#define JOBS_MAX 256

_Static_assert(sizeof(((struct job *)0)->domain) <= CTL_NAME_MAX &&
    sizeof(((struct job *)0)->peer) <= CTL_PEER_MAX &&
    sizeof(((struct job *)0)->error) <= CTL_TEXT_MAX &&
    sizeof(((struct job *)0)->warning) <= CTL_TEXT_MAX &&
    sizeof(((struct job *)0)->stop_reason) <= CTL_WORD_MAX,
    "a job's text fits the control protocol's fields");

static pthread_mutex_t jobs_mu = PTHREAD_MUTEX_INITIALIZER;
/* Signalled whenever a job finishes (jobs_finished counts them), for a
 * batch waiting to start its next migration. */
static pthread_cond_t jobs_finish_cv = PTHREAD_COND_INITIALIZER;
static uint64_t jobs_finished;
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

uint64_t
jobs_finished_count(void)
{
	uint64_t n;

	job_lock();
	n = jobs_finished;
	job_unlock();
	return n;
}

void
jobs_wait_finished(uint64_t seen, unsigned timeout_ms)
{
	struct timespec until;

	/* (the condition variable's clock is the wall clock: a jump in it
	 * shortens or lengthens one wait, which is bounded by the caller) */
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	job_lock();
	while (jobs_finished == seen &&
	    pthread_cond_timedwait(&jobs_finish_cv, &jobs_mu, &until) == 0)
		;
	job_unlock();
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
		if (to >= JOB_DONE) {
			j->total_ms = (now_us() - j->t_start_us) / 1000;
			jobs_finished++;
			pthread_cond_broadcast(&jobs_finish_cv);
		}
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
	if (j->nrounds == JOB_ROUNDS_KEPT) {
		/* Drop the oldest of the recent half: the first half stays. */
		memmove(&j->rounds[JOB_ROUNDS_KEPT / 2], &j->rounds[JOB_ROUNDS_KEPT / 2 + 1],
		    (JOB_ROUNDS_KEPT / 2 - 1) * sizeof(*j->rounds));
		j->rounds[JOB_ROUNDS_KEPT - 1] = *r;
		return;
	}
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

/* Where a finished outgoing migration's time went, in ms.  Each phase ends
 * at a moment on this host's clock, and each is the difference of those
 * moments rounded from the job's start, so that the phases add up to the
 * time from the start to DONE exactly.  From suspend on they are the
 * downtime's parts: the suspension (request to acknowledged), the final
 * round (to STREAM_END), the destination's restore (to BUILT), the
 * source's devices quiesced (the only device work inside the downtime: the
 * destination attaches its devices while the memory streams), the commit
 * (rename, GO, the destination's record and rename, DONE) and the
 * destination's unpause, as its DONE reports it (0, and inside commit,
 * from a receiver that does not). */
void
job_phases(const struct job *j, struct ctl_phases *ph)
{
	uint64_t pause = j->t_pause_us ? j->t_pause_us : j->t_stream_us;
	uint64_t req = j->t_suspend_us && j->t_suspend_us <= pause ? j->t_suspend_us : pause;
	uint64_t quiesced = j->t_quiesced_us ? j->t_quiesced_us : j->t_built_us;
	/* the unpause, a figure of the destination's clock: within the rest */
	uint64_t commit_end = quiesced < j->t_done_us && j->unpause_us < j->t_done_us - quiesced ?
	    j->t_done_us - j->unpause_us : quiesced;
	/* the phases' ends, in order; a moment before the one before counts as it */
	uint64_t at[9] = { j->t_prepare_us, j->t_stream_us, req, pause, j->t_end_us,
		j->t_built_us, quiesced, commit_end, j->t_done_us };
	int64_t ms[9], prev = 0;
	unsigned i;

	for (i = 0; i < 9; i++) {
		uint64_t t = at[i] > j->t_start_us ? at[i] : j->t_start_us;
		int64_t m = (int64_t)((t - j->t_start_us) / 1000);

		ms[i] = m > prev ? m : prev;
		prev = ms[i];
	}
	memset(ph, 0, sizeof(*ph));
	ph->connect_ms = ms[0];
	ph->destination_build_ms = ms[1] - ms[0];
	ph->precopy_ms = ms[2] - ms[1];
	ph->suspend_ms = ms[3] - ms[2];
	ph->final_round_ms = ms[4] - ms[3];
	ph->restore_ms = ms[5] - ms[4];
	ph->devices_ms = ms[6] - ms[5];
	ph->commit_ms = ms[7] - ms[6];
	ph->unpause_ms = ms[8] - ms[7];
}

/* The job as the control protocol carries it; out's arrays are the
 * caller's (ctl_job_free).  -1 when out of memory. */
static int
job_to_ctl_locked(const struct job *j, struct ctl_job *out)
{
	const char *res = job_result_name(j);
	unsigned i;

	memset(out, 0, sizeof(*out));
	/* Text fields are copied as valid UTF-8 (strlcpy_utf8): every one
	 * should already be (job_set_error, the protocol decoder), but one
	 * invalid byte would make jansson refuse the whole job and hide it
	 * from xmig.  They fit: see the _Static_assert above. */
	out->id = (int64_t)j->id;
	strlcpy_x(out->direction, j->incoming ? "in" : "out", sizeof(out->direction));
	strlcpy_utf8(out->domain, j->domain, sizeof(out->domain));
	strlcpy_utf8(out->peer, j->peer, sizeof(out->peer));
	strlcpy_x(out->mode, j->live ? "live" : "offline", sizeof(out->mode));
	strlcpy_x(out->state, job_state_name(j->state), sizeof(out->state));
	strlcpy_x(out->result, res ? res : "", sizeof(out->result));
	strlcpy_utf8(out->error, j->error, sizeof(out->error));
	out->iteration = j->iteration;
	out->bytes_sent = (int64_t)j->bytes_sent;
	out->pages_sent = (int64_t)j->pages_sent;
	out->zero_pages = (int64_t)j->zero_pages;
	out->normal_pages = (int64_t)j->normal_pages;
	out->memory_bytes = (int64_t)j->memory_bytes;
	out->remaining_pages = (int64_t)j->remaining_pages;
	out->dirty_rate = (int64_t)j->dirty_rate;
	out->throughput_bps = (int64_t)j->throughput;
	out->total_ms = (int64_t)(job_finished(j) ? j->total_ms :
	    (now_us() - j->t_start_us) / 1000);
	out->downtime_ms = (int64_t)j->downtime_ms;
	out->setup_ms = (int64_t)j->setup_ms;
	out->expected_downtime_ms = (int64_t)j->expected_downtime_ms;
	out->started = (int64_t)j->started_wall_ms;
	out->dest_domid = j->dest_domid;
	out->domid = j->domid;
	strlcpy_utf8(out->stop_reason, j->stop_reason, sizeof(out->stop_reason));
	if (j->warning[0]) {
		if ((out->warnings = calloc(1, sizeof(*out->warnings))) == NULL)
			return -1;
		strlcpy_utf8(out->warnings[0], j->warning, sizeof(out->warnings[0]));
		out->nwarnings = 1;
	}
	out->transferred_bytes = (int64_t)j->bytes_sent;
	out->remaining_bytes = (int64_t)(j->remaining_pages * 4096);
	out->total_bytes = (int64_t)j->memory_bytes;
	out->throttle_pct = j->throttle_pct;
	out->downtime_target_ms = j->target_ms;
	out->extra_rounds = j->extra_rounds;
	out->compressed_bytes = (int64_t)j->compressed_bytes;
	out->compressed_wire_bytes = (int64_t)j->compressed_wire;
	out->precopy_ms = (int64_t)j->precopy_ms;
	out->stream_ms = (int64_t)j->stream_ms;
	out->final_pages = (int64_t)j->final_pages;
	out->final_bytes = (int64_t)j->final_bytes;
	out->queued_at_suspend_bytes = (int64_t)j->queued_at_suspend;
	out->devices_wait_ms = (int64_t)j->devices_wait_ms;
	if (j->nrounds > 0) {
		if ((out->rounds = calloc(j->nrounds, sizeof(*out->rounds))) == NULL) {
			ctl_job_free(out);
			return -1;
		}
		out->nrounds = j->nrounds;
		for (i = 0; i < j->nrounds; i++) {
			out->rounds[i].round = j->rounds[i].round;
			out->rounds[i].pages = (int64_t)j->rounds[i].pages;
			out->rounds[i].bytes = (int64_t)j->rounds[i].bytes;
			out->rounds[i].dirty = (int64_t)j->rounds[i].dirty;
			out->rounds[i].ms = (int64_t)j->rounds[i].ms;
		}
	}
	if (!j->incoming && j->t_done_us != 0) {
		out->has_phases = true;
		job_phases(j, &out->phases);
	}
	return 0;
}

int
job_to_ctl(const struct job *j, struct ctl_job *out)
{
	int r;

	job_lock();
	r = job_to_ctl_locked(j, out);
	job_unlock();
	return r;
}

json_t *
job_to_json(const struct job *j)
{
	struct ctl_job cj;
	json_t *o;

	if (job_to_ctl(j, &cj) != 0)
		return NULL;
	o = ctl_job_encode(&cj);
	ctl_job_free(&cj);
	return o;
}

int
jobs_to_ctl(struct ctl_job_list *out)
{
	unsigned i;
	int r = 0;

	memset(out, 0, sizeof(*out));
	job_lock();
	if ((out->jobs = calloc(njobs ? njobs : 1, sizeof(*out->jobs))) == NULL)
		r = -1;
	for (i = 0; r == 0 && i < njobs; i++) {
		if ((r = job_to_ctl_locked(jobs[i], &out->jobs[i])) == 0)
			out->njobs++;
	}
	job_unlock();
	if (r != 0)
		ctl_job_list_free(out);
	return r;
}

json_t *
jobs_to_json(void)
{
	struct ctl_job_list l;
	json_t *a;

	if (jobs_to_ctl(&l) != 0)
		return NULL;
	a = ctl_job_list_encode(&l);
	ctl_job_list_free(&l);
	return a;
}

unsigned
jobs_unfinished(void)
{
	unsigned i, n = 0;

	job_lock();
	for (i = 0; i < njobs; i++)
		n += !job_finished(jobs[i]);
	job_unlock();
	return n;
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
