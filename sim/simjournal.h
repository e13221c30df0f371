/* simjournal.h - the sim's journal of domain state changes, and its check.
 *
 * Every sim root has a journal, ROOT/journal: one line per event, appended
 * with a single write() to a file opened O_APPEND, so lines of different
 * processes never interleave.  A line is
 *
 *   NS EVENT uuid=UUID id=DOMID pid=PID name=NAME [KEY=VALUE...] root=ROOT
 *
 * NS is CLOCK_MONOTONIC in nanoseconds, comparable between processes on
 * one machine (the two "hosts" of a test are two roots on one machine);
 * ROOT is the root's real path and takes the rest of the line.  A copy of
 * a domain is (ROOT, DOMID); copies of one guest share its UUID.
 *
 * Events, and who writes them (simdom.c):
 *   create          the domain's files were built (the creator)
 *   boot            the domain process is up; state=paused|running says
 *                   what its vCPUs were asked to do first (the process)
 *   run             the first vCPU is about to run the workload: written
 *                   before any vCPU runs (the domain process)
 *   pause, suspend, shutdown
 *                   the last vCPU has stopped at a safe point: written
 *                   after every vCPU stopped and before the stop is
 *                   acknowledged to whoever asked for it (the process)
 *   exit            the domain process is about to exit (the process)
 *   destroy         the process is gone (killed=yes: it had to be
 *                   SIGKILLed) and the files removed (the destroyer)
 *
 * So a copy's running intervals, from run to the next pause, suspend,
 * shutdown, exit or destroy, contain every moment its vCPUs ran; a process
 * killed from outside has no stop line, and its interval ends at the
 * destroy that found it dead (or stays open).
 */
#ifndef XMIG_SIMJOURNAL_H
#define XMIG_SIMJOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SIMJOURNAL_FILE "journal"

struct simjournal {
	int fd;			/* -1: closed or could not be opened */
	char root[4096];	/* the root's real path */
};

/* Open ROOT/journal for appending (created 0644).  Never fails: a journal
 * that cannot be opened is closed (fd -1) and every append is a no-op. */
void simjournal_open(struct simjournal *j, const char *root);
void simjournal_close(struct simjournal *j);
/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t simjournal_now(void);
/* Append one event line (see above) with timestamp ts.  extra is NULL or
 * "KEY=VALUE[ KEY=VALUE...]".  Returns 0, or -1 when the line was not
 * written whole. */
int simjournal_append(struct simjournal *j, uint64_t ts, const char *event,
    const uint8_t uuid[16], uint32_t domid, const char *name, const char *extra);

/* Merge the journals at paths (of one or more roots) and check that, for
 * every UUID, the running intervals of different copies never overlap.
 * Writes a summary, and each overlap with both copies' intervals, to out.
 * Returns 0 (no overlap), 1 (overlap) or 2 (a file cannot be read or has
 * a malformed line: the check proves nothing). */
int simjournal_check(const char *const *paths, size_t n, FILE *out);

#endif
