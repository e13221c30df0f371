/* fault.h - fault injection points for the reliability tests.
 *
 * XMIG_FAULT in xmigd's environment names points (comma-separated) where
 * the daemon misbehaves on purpose, so tests can reach the failure paths
 * of the commit handshake that a healthy peer never takes.  Unset, every
 * check is one load of a flag.
 */
#ifndef XMIG_FAULT_H
#define XMIG_FAULT_H

#include <stdbool.h>

/* True when `point` is named in XMIG_FAULT. */
bool fault_at(const char *point);

#endif
