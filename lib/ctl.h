/* ctl.h - the control protocol between xmig and xmigd.
 *
 * A Unix stream socket.  Each message is a 4-byte big-endian length followed
 * by that many bytes of a JSON object (jansson).  Messages are capped at
 * CTL_MSG_MAX; a bigger length is an error before any allocation.
 *
 * What the objects hold is lib/ctlmsg.h's business (docs/protocol.md, "The
 * control protocol").
 */
#ifndef XMIG_CTL_H
#define XMIG_CTL_H

#include <jansson.h>

#define CTL_MSG_MAX (1u << 20)

/* Send one JSON object.  Returns 0 or a negative XMIG_ERR_*. */
int ctl_send(int fd, const json_t *msg);
/* Receive one JSON object (new reference in *out), waiting up to timeout_ms
 * (-1 = forever).  XMIG_ERR_EOF on a clean close. */
int ctl_recv(int fd, json_t **out, int timeout_ms);
/* Connect to the daemon's socket.  Returns an fd or a negative XMIG_ERR_*. */
int ctl_connect(const char *path);
/* Bind and listen on path (removing a stale socket), mode 0600. */
int ctl_listen(const char *path, unsigned mode);

#endif
