/* cluster/maint.h - host maintenance: the "maintenance" control request and the
 * evacuation that empties this host (issue 6, docs/placement.md). */
#ifndef XMIG_MAINT_H
#define XMIG_MAINT_H

#include <jansson.h>

#include "daemon.h"

/* {"cmd":"maintenance","action":"enter"|"exit"|"status", ...}: replies on fd;
 * "enter" with "watch" streams progress events until the evacuation ends.
 * Returns -1 when the client went away, else 0. */
int maint_ctl(struct xmigd *d, int fd, json_t *req);

#endif
