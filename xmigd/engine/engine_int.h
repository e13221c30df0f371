/* engine/engine_int.h - pieces both ends of the engine share. */
#ifndef XMIG_ENGINE_INT_H
#define XMIG_ENGINE_INT_H

#include "daemon.h"
#include "proto.h"
#include "xfer.h"

#define ENGINE_CONNECT_TIMEOUT_MS 10000
#define ENGINE_HELLO_TIMEOUT_MS 10000	/* handshake deadline */
/* The phases after the handshake have deadlines from the configuration
 * (prepare-timeout, stream-idle-timeout, build-timeout, commit-timeout). */

#define SUFFIX_INCOMING "--incoming"
#define SUFFIX_MIGRATED "--migratedaway"

/* Connect to host:port, then the TLS handshake when ssl; on failure a
 * one-line why. */
int engine_connect(struct xmigd *d, struct xconn *c, const char *host, uint16_t port, bool ssl,
    int timeout_ms, char *why, size_t whylen);
int engine_build_hello(struct xmigd *d, struct msg_hello *h);
/* Check a peer's hello against ours; returns a REASON_* (0 = fine) and a
 * one-line why. */
int engine_check_hello(const struct msg_hello *ours, const struct msg_hello *peer, char *why,
    size_t whylen);
int engine_send_hello(struct xconn *c, const struct msg_hello *h);
/* Receive the peer's HELLO (ABORT from the peer is turned into its text). */
int engine_recv_hello(struct xconn *c, struct msg_hello *h, char *why, size_t whylen);
/* Best effort: tell the peer why we give up, even after a local error. */
void engine_send_reason(struct xconn *c, uint8_t type, uint16_t code, const char *text);
/* name + suffix, shortening name so the result fits size. */
void engine_decorate(char *dst, size_t size, const char *name, const char *suffix);

#endif
