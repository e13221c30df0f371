/* fault.h - fault injection points for the reliability tests.
 *
 * XMIG_FAULT in xmigd's environment names points (comma-separated) where
 * the daemon misbehaves on purpose, so tests can reach the failure paths
 * of the commit handshake that a healthy peer never takes.  Unset, every
 * check is one load of a flag.  docs/reliability.md lists the points.
 */
#ifndef XMIG_FAULT_H
#define XMIG_FAULT_H

#include <stdbool.h>

/* True when `point` is named in XMIG_FAULT. */
bool fault_at(const char *point);

/* A point given a number, "point=N" (N >= 0, decimal): N, or -1 when the
 * point is not named so (a bare "point" is not a number: -1 too). */
long fault_value(const char *point);

/* When `point` is named, the daemon dies here by SIGKILL: exactly what a
 * kill -9 at this moment does (no cleanup, no last frame). */
void fault_kill_at(const char *point);

/* When `point` is named, wait here until the test removes the file
 * $XMIG_FAULT_DIR/<point> (created here; XMIG_FAULT_DIR defaults to /tmp),
 * for at most 5 minutes: the test acts (cuts a link) at a known moment. */
void fault_hold(const char *point);

/* When `point` is named and the test has armed it (created the file
 * $XMIG_FAULT_DIR/<point>), disarm it (remove the file) and return true:
 * one failure, for the one operation the test chooses, in a daemon that
 * runs on.  False otherwise. */
bool fault_armed(const char *point);

/* After a batch of pages of pre-copy round `round` (0 is the first pass
 * over memory); side is "send" or "recv".  <side>-exit-in-first-round dies
 * in round 0 and <side>-exit-in-later-round in round 2;
 * recv-nomem-in-first-round returns XMIG_ERR_NOMEM (the receiver runs out
 * of memory mid-restore).  Otherwise 0. */
int fault_round(const char *side, unsigned round);

#endif
