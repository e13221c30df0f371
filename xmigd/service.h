/* service.h - xmigd under an init system: readiness notification to
 * systemd without libsystemd, and a pid file for SysV init scripts.
 *
 * The notification protocol is one datagram of "KEY=VALUE" lines to the Unix socket
 * named in $NOTIFY_SOCKET (a path, or an abstract name when it starts
 * with '@'); see sd_notify(3).  Without the variable nothing is sent.
 */
#ifndef XMIG_SERVICE_H
#define XMIG_SERVICE_H

#include <stdbool.h>

/* Send state, e.g. "READY=1".  Returns 1 when sent, 0 when $NOTIFY_SOCKET
 * is unset, or a negative XMIG_ERR_* (errno set for XMIG_ERR_SYSTEM). */
int service_notify(const char *state);
/* True when stderr is the journal's stream ($JOURNAL_STREAM names its
 * device and inode), i.e. a foreground daemon started by systemd. */
bool service_stderr_is_journal(void);
/* Write this process's pid and a newline to path (replacing it through a
 * temporary file, so that a reader never sees a partial pid).  Returns 0
 * or XMIG_ERR_SYSTEM with errno set. */
int service_write_pidfile(const char *path);

#endif
