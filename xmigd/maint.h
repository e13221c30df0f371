/* maint.h - host maintenance: the "maintenance" control request and the
 * evacuation that empties this host (issue 6, docs/placement.md). */
#ifndef XMIG_MAINT_H
#define XMIG_MAINT_H

#include <jansson.h>

#include "daemon.h"
#include "proto.h"

/* {"cmd":"maintenance","action":"enter"|"exit"|"status", ...}: replies on fd;
 * "enter" with "watch" streams progress events until the evacuation ends.
 * Returns -1 when the client went away, else 0. */
int maint_ctl(struct xmigd *d, int fd, json_t *req);
/* This host's answer to HOST_INFO: state, memory, vCPUs, domains. */
int maint_host_info_build(struct xmigd *d, struct msg_host_info_reply *m);
/* Ask host:port for its HOST_INFO_REPLY.  0, or an error with a one-line why. */
int maint_peer_info(struct xmigd *d, const char *host, uint16_t port,
    struct msg_host_info_reply *m, char *why, size_t whylen);

#endif
