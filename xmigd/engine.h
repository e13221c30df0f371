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
 * it came to the TLS port, so the TLS handshake comes first; query_only:
 * it is over max-connections, so it may QUERY or ask HOST_INFO but a
 * PREPARE is refused (BUSY). */
void engine_recv_start(struct xmigd *d, int fd, const char *peer, bool tls, bool query_only);
/* Relocation connections being served now (every one has its thread). */
unsigned engine_recv_open(void);

/* Small per-job records in the state directory, one line each, named by
 * the job's token in hex and replaced atomically (write, fsync, rename). */
void state_token_hex(const uint8_t token[16], char hex[33]);
int state_token_parse(const char *hex, uint8_t token[16]);
int state_write_line(const char *dir, const uint8_t token[16], const char *line);

/* Tracks the commit outcome of incoming jobs on disk, so a QUERY after a
 * restart still gets the truth (see docs/protocol.md).  A record belongs
 * to the migration whose PREPARE created it: the token is never taken
 * twice, and the record names the domain and the peer that sent it. */
#define STATE_PEER_MAX 200
#define STATE_LINE_MAX 400
struct state_rec {
	char outcome[16];	/* "building", "committed", "aborted" */
	uint32_t domid;		/* 0 until the domain exists */
	char name[64];
	uint8_t uuid[16];
	char peer[STATE_PEER_MAX];	/* xconn_peer_id() of the sender, "" = none */
};
int state_init(const char *state_dir, char *err, size_t errlen);
/* A new record; XMIG_ERR_EXISTS when the token already has one. */
int state_create(const uint8_t token[16], const struct state_rec *rec);
/* Replace the token's record (write, fsync, rename, fsync the directory). */
int state_update(const uint8_t token[16], const struct state_rec *rec);
/* 0, or XMIG_ERR_NOT_FOUND / XMIG_ERR_INVALID. */
int state_lookup(const uint8_t token[16], struct state_rec *rec);
/* At start-up: finish what a crash interrupted on the receiving side. */
void state_reconcile(struct xmigd *d);

#endif
