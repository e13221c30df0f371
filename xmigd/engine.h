/* engine.h - the two ends of a migration.
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

#include "daemon.h"
#include "jobs.h"

struct send_req {
	char domain[64];
	char host[256];
	uint16_t port;
	bool live;
	unsigned downtime_ms;	/* 0 = config default */
	unsigned max_rounds;	/* 0 = config default */
	unsigned bandwidth_mbit;	/* stream limit (xm's -r), 0 = none */
	bool ssl;		/* mutual TLS to the peer's TLS port (xm's --ssl) */
	double max_factor;	/* 0 = config default */
	bool auto_converge;
	int compress;		/* enum compress_mode */
};

/* Validate the request against local facts and start the job thread.
 * On refusal returns NULL with a one-line reason in err; otherwise the job
 * with a reference the caller must job_put(). */
struct job *engine_send_start(struct xmigd *d, const struct send_req *req, char *err,
    size_t errlen);
/* Serve an accepted relocation connection (takes ownership of fd); tls:
 * it came to the TLS port, so the TLS handshake comes first. */
void engine_recv_start(struct xmigd *d, int fd, const char *peer, bool tls);
/* Relocation connections being served now (every one has its thread). */
unsigned engine_recv_open(void);

/* Small per-job records in the state directory, one line each, named by
 * the job's token in hex and replaced atomically (write, fsync, rename). */
void state_token_hex(const uint8_t token[16], char hex[33]);
int state_token_parse(const char *hex, uint8_t token[16]);
int state_write_line(const char *dir, const uint8_t token[16], const char *line);

/* Tracks the commit outcome of incoming jobs on disk, so a QUERY after a
 * restart still gets the truth (see docs/protocol.md). */
int state_init(const char *state_dir, char *err, size_t errlen);
int state_record(const uint8_t token[16], const char *outcome, uint32_t domid,
    const char *name);
/* "committed", "aborted", "building", or NULL when unknown. */
const char *state_lookup(const uint8_t token[16], char *buf, size_t buflen);
/* At start-up: finish what a crash interrupted on the receiving side. */
void state_reconcile(struct xmigd *d);

#endif
