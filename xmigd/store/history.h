/* store/history.h - one JSON record per finished migration job, in
 * STATE_DIR/jobs/, for "xmig history".
 *
 * store/jobs.c calls history_record() with job_to_json() of a job that reached
 * its final state; history knows records, not jobs.  Files are named
 * "<start time in ms>-<job id>.json" (job ids restart with the daemon) and
 * written through a rename, so a reader never sees half a record; the
 * oldest are removed beyond HISTORY_KEEP.  Without history_init() (unit
 * tests, or a state dir that cannot be written) nothing is recorded.
 */
#ifndef XMIG_HISTORY_H
#define XMIG_HISTORY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "ctlmsg.h"

/* The records kept: as many as one "history" request may ask for. */
#define HISTORY_KEEP CTL_HISTORY_MAX
#define HISTORY_RECORD_MAX 65536	/* bytes of one record read back */

/* Record jobs under state_dir/jobs (created, mode 0700).  Returns 0, or a
 * negative XMIG_ERR_* with the reason in err; history is then off. */
int history_init(const char *state_dir, char *err, size_t errlen);
/* Write the record of job `id` started at started_wall_ms (the caller
 * keeps its reference to rec). */
void history_record(uint64_t id, uint64_t started_wall_ms, json_t *rec);
/* The most recent `max` records, oldest first (an empty array when there
 * are none or history is off); NULL when out of memory. */
json_t *history_list(size_t max);

#endif
