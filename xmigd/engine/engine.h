/* engine/engine.h - the two ends of a migration.
 *
 * engine_send runs an outgoing job in its own thread: hello, prepare, the
 * backend's save through a framing sink, then the commit handshake
 * (docs/protocol.md).  engine_recv serves one accepted connection the same
 * way from the other side.  Neither ever exits the daemon: a job fails and
 * the domain stays (or is made) whole at the source.
 */
#ifndef XMIG_ENGINE_H
#define XMIG_ENGINE_H

#include <stdint.h>

#include "ctlmsg.h"
#include "daemon.h"
#include "proto.h"
#include "store/jobs.h"

/* An outgoing migration, every setting resolved: nothing here is "unset"
 * (send_req_init is where a control request meets xmigd.conf). */
struct send_req {
	char domain[CTL_NAME_MAX];
	char host[CTL_HOST_MAX];
	uint16_t port;
	bool live;
	bool ssl;		/* mutual TLS to the peer's TLS port (xm's --ssl) */
	struct ctl_migrate_settings set;	/* downtime, rounds, bandwidth (xm's -r), ... */
};

/* The send_req of a migrate request (decoded, so within every limit): an
 * unset port is the relocation port (the TLS one with ssl), unset
 * settings come from d's configuration (ctl_migrate_resolve). */
void send_req_init(struct send_req *sr, const struct ctl_migrate_req *rq, const struct conf *c);

/* Validate the request against local facts and start the job thread.
 * On refusal returns NULL with a one-line reason in err; otherwise the job
 * with a reference the caller must job_put(). */
struct job *engine_send_start(struct xmigd *d, const struct send_req *req, char *err,
    size_t errlen);
/* Serve an accepted relocation connection (takes ownership of fd); tls:
 * it came to the TLS port, so the TLS handshake comes first; query_only:
 * it is over max-connections, so it may QUERY or ask HOST_INFO but a
 * PREPARE is refused (BUSY). */
void engine_recv_start(struct xmigd *d, int fd, const char *peer, bool tls, bool query_only);
/* Relocation connections being served now (every one has its thread). */
unsigned engine_recv_open(void);

/* This host's answer to HOST_INFO: state, memory, vCPUs, domains. */
int engine_host_info_build(struct xmigd *d, struct msg_host_info_reply *m);

#endif
