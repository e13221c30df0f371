/* cluster/maint.h - host maintenance: the evacuation that empties this host
 * (issue 6, docs/placement.md), as the "maintenance" control request asks.
 * Nothing here sees the control socket: xmigd/ctlsrv.c replies. */
#ifndef XMIG_MAINT_H
#define XMIG_MAINT_H

#include <stdbool.h>

#include "cluster/mover.h"
#include "ctlmsg.h"
#include "daemon.h"

/* The host state and the current or last evacuation.  0, or -1 when out
 * of memory; out's arrays are the caller's (ctl_maint_status_free). */
int maint_status(struct ctl_maint_status *out);
/* Back to active.  0, or an error with err set (an evacuation runs). */
int maint_exit(struct xmigd *d, char *err, size_t errlen);
/* Plan the evacuation (pinned domains refuse it), switch to
 * preparing-for-maintenance and start it.  0 with *held the running
 * evacuation, held for the caller (mover_put), or an error with err set
 * and nothing changed. */
int maint_enter(struct xmigd *d, const struct ctl_maint_req *rq, struct mover **held, char *err,
    size_t errlen);
/* The evacuation now (*r -1 when out of memory; out's arrays are the
 * caller's, ctl_evac_free); true while it runs. */
bool maint_snapshot(struct mover *ev, struct ctl_evac *out, int *r);

#endif
