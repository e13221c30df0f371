/* store/jobs.h - the table of migration jobs, outgoing and incoming.
 *
 * One mutex guards the table and every job's fields; engine threads update
 * their job through the helpers below and control clients read snapshots
 * (job_to_json).  State changes go through job_set_state(), which checks
 * the old state and logs "A -> B", so a cancel racing a completion is
 * settled by whichever gets there first.  A job keeps its first error.
 *
 * Jobs are reference-counted: the table holds one reference while a job is
 * listed, and every pointer handed out (job_new, job_get,
 * engine_send_start) carries its own, released with job_put().  jobs_trim()
 * only unlinks; the last put frees.  So a control client watching a job, or
 * an engine thread, never sees it freed under it.
 */
#ifndef XMIG_JOBS_H
#define XMIG_JOBS_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "ctlmsg.h"

enum job_state {
	JOB_CONNECTING, JOB_PREPARE, JOB_PRECOPY, JOB_STOPCOPY, JOB_COMMITTING,
	JOB_DONE, JOB_FAILED, JOB_CANCELLED, JOB_AMBIGUOUS,
};

struct job {
	uint64_t id;		/* never reused within a daemon's life */
	unsigned refs;		/* under the lock; see job_put() */
	bool incoming;
	bool live;
	char domain[64];
	char peer[300];		/* host:port */
	uint8_t token[16];
	uint32_t domid;		/* local domain id */
	uint32_t dest_domid;
	enum job_state state;
	char error[512];	/* first error */
	char warning[256];	/* told to the operator at the start ("" = none) */
	atomic_bool cancel;
	bool thread_done;

	/* statistics, like QEMU's query-migrate */
	unsigned iteration;
	uint64_t bytes_sent;	/* on the wire */
	uint64_t pages_sent;
	uint64_t zero_pages;
	uint64_t normal_pages;
	uint64_t memory_bytes;
	uint64_t remaining_pages;
	uint64_t dirty_rate;	/* pages/s */
	uint64_t throughput;	/* bytes/s */
	uint64_t expected_downtime_ms;
	uint64_t downtime_ms;
	uint64_t setup_ms;
	uint64_t total_ms;
	uint64_t started_wall_ms;
	uint64_t t_start_us;	/* monotonic */
	uint64_t t_pause_us;
	char stop_reason[32];
	unsigned throttle_pct;	/* auto-converge throttle in force */
	unsigned target_ms;	/* downtime target now (raised on schedule) */
	unsigned extra_rounds;	/* rounds the policy took after convergence */
	uint64_t compressed_bytes; /* page bytes before compression, of pages sent compressed */
	uint64_t compressed_wire; /* what they took on the wire */
	/* outgoing: the memory stream's phases and what went after suspension */
	uint64_t t_stream_us;	/* memory stream began (PREPARE_OK) */
	uint64_t precopy_ms;	/* stream start to suspension (0 offline) */
	uint64_t stream_ms;	/* stream start to STREAM_END */
	uint64_t pause_pages0, pause_tx0;	/* pages_sent, bytes at suspension */
	uint64_t final_pages;	/* pages sent after suspension */
	uint64_t final_bytes;	/* bytes on the wire after suspension, to STREAM_END */
	uint64_t queued_at_suspend;	/* pre-copy bytes still in the socket's queue then */
	uint64_t devices_wait_ms;	/* pre-copy past the stop, for the destination's devices */
	/* outgoing: when each phase ended (monotonic us), for "phases" */
	uint64_t t_prepare_us;	/* PREPARE sent: connect and hello before it */
	uint64_t t_end_us;	/* STREAM_END sent */
	uint64_t t_suspend_us;	/* suspend requested (0: never) */
	uint64_t t_built_us;	/* BUILT read */
	uint64_t t_quiesced_us;	/* the source's devices quiesced, after BUILT */
	uint64_t unpause_us;	/* the destination's unpause, as its DONE said (0: not said) */
	uint64_t t_done_us;	/* DONE read (or "committed" learnt) */
	struct job_round *rounds;	/* one record per round, in order */
	unsigned nrounds, rounds_cap;
};

/* Round records kept per job: the first half and the most recent half, so
 * that a job that ran very many rounds (max-rounds allows 100000) still
 * fits in its history record and in one control message.  Each record
 * carries its round number, so a gap shows. */
#define JOB_ROUNDS_KEPT 512

/* One pre-copy round as the sender measured it (the last one is the
 * stop-and-copy round). */
struct job_round {
	unsigned round;
	uint64_t pages;		/* pages sent in it */
	uint64_t bytes;		/* bytes on the wire in it */
	uint64_t dirty;		/* pages dirty at its end */
	uint64_t ms;		/* how long it took */
};

void jobs_init(void);
/* New job in state CONNECTING (or PREPARE for incoming), listed in the
 * table; NULL when out of memory.  The caller owns one reference: it is
 * the engine thread's, given back with job_thread_exit(). */
struct job *job_new(bool incoming);
/* Look up by id; NULL if unknown.  Returns a reference: job_put() it. */
struct job *job_get(uint64_t id);
/* Take one more reference / release one (NULL is ignored).  The last
 * release frees the job; never call these with the job lock held. */
void job_hold(struct job *j);
void job_put(struct job *j);
/* The engine thread is done with j: mark it (jobs_trim may drop it from
 * the table now) and release the thread's reference. */
void job_thread_exit(struct job *j);
/* True when an outgoing job with this token still runs. */
bool job_outgoing_active(const uint8_t token[16]);
/* True when the incoming job that owns this token (its record) still runs. */
bool job_incoming_active(const uint8_t token[16]);
/* True when an outgoing job for domid is still running. */
bool job_domain_busy(uint32_t domid);
unsigned jobs_running_incoming(void);

void job_lock(void);
void job_unlock(void);
/* Move from `from` (or any running state when from < 0) to `to`.  Returns
 * false when the job was not in `from`. */
bool job_set_state(struct job *j, int from, enum job_state to);
/* Record the first error and log it. */
void job_set_error(struct job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool job_finished(const struct job *j);
const char *job_state_name(enum job_state s);
const char *job_result_name(const struct job *j);	/* NULL while running */

/* Append a round record; caller holds the lock.  Out of memory drops it. */
void job_add_round_locked(struct job *j, const struct job_round *r);
/* How many jobs have finished so far; wait until that count differs from
 * `seen`, or timeout_ms passed: a batch starts its next migration as soon
 * as one ends, not at its next poll. */
uint64_t jobs_finished_count(void);
void jobs_wait_finished(uint64_t seen, unsigned timeout_ms);
/* A finished outgoing job's phases (ms), adding up to its time from start
 * to DONE. */
void job_phases(const struct job *j, struct ctl_phases *ph);
/* The job as the control protocol carries it (lib/ctlmsg.h), taking the
 * lock; out's arrays are the caller's (ctl_job_free).  -1 when out of
 * memory.  job_to_json is its JSON: the job's record for xmig history. */
int job_to_ctl(const struct job *j, struct ctl_job *out);
json_t *job_to_json(const struct job *j);
/* Every listed job, likewise (ctl_job_list_free). */
int jobs_to_ctl(struct ctl_job_list *out);
json_t *jobs_to_json(void);
/* Jobs not yet finished. */
unsigned jobs_unfinished(void);
/* Ask every running job to stop. */
void jobs_cancel_all(void);
/* Unlink finished jobs (whose thread has ended) beyond the most recent
 * `keep`; they are freed when their last reference goes. */
void jobs_trim(unsigned keep);

#endif
