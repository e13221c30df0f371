/* ctlsrv.h - the control socket server (xmig talks to it). */
#ifndef XMIG_CTLSRV_H
#define XMIG_CTLSRV_H

#include "daemon.h"

/* Serve one accepted control client in its own thread (owns fd). */
void ctlsrv_client_start(struct xmigd *d, int fd);

#endif
