/* incoming.h - what the receiving side remembers across a crash: one
 * record per incoming job in STATE_DIR/incoming (engine/incoming.c). */
#ifndef XMIG_INCOMING_H
#define XMIG_INCOMING_H

#include <stddef.h>
#include <stdint.h>

#include "daemon.h"

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
