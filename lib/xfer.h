/* xfer.h - the transport under the relocation protocol.
 *
 * A connection wraps a TCP socket with per-operation deadlines, byte
 * counters and a sticky first error (after a failure every call returns
 * it, so a caller may check once).  Frames are written with one writev so
 * page data goes from guest memory to the socket without a copy, and read
 * header-first so nothing is allocated before the header is validated.
 * An optional rate limit (bytes/s) paces writes.
 *
 * A connection may be upgraded to mutual TLS right after connect/accept
 * (xconn_tls_connect/xconn_tls_accept); every call below then goes
 * through TLS with the same deadlines.  Pieces of a writev that follow each
 * other in memory are joined; a joined piece of XCONN_TLS_DIRECT bytes or
 * more is encrypted straight from guest memory, smaller ones are coalesced
 * into a staging buffer so that each SSL_write carries up to
 * XCONN_TLS_STAGE bytes (16 full records).
 */
#ifndef XMIG_XFER_H
#define XMIG_XFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "proto.h"

#define XCONN_TLS_STAGE (256 * 1024)
/* Pieces this big (consecutive guest pages) are encrypted in place. */
#define XCONN_TLS_DIRECT (64 * 1024)

struct tls_ctx;
struct tls_conn;

struct xconn {
	int fd;
	int err;		/* sticky first error */
	int timeout_ms;		/* per read/write wait, -1 = none */
	uint64_t deadline_us;	/* absolute (now_us) limit for every wait, 0 = none */
	uint64_t tx_bytes, rx_bytes;
	uint64_t rate;		/* write limit in bytes/s, 0 = none */
	uint64_t rate_t0_us, rate_bytes;	/* pacing window */
	char peer[128];		/* "addr:port" for messages */
	struct tls_conn *tls;	/* NULL = plaintext */
	uint8_t *stage;		/* TLS write coalescing, XCONN_TLS_STAGE bytes */
	char why[320];		/* detail of a TLS error, "" = none */
};

void xconn_init(struct xconn *c, int fd, int timeout_ms);
/* Limit writes to `bytes_per_s` (0 = unlimited), e.g. xm's -r option. */
void xconn_set_rate(struct xconn *c, uint64_t bytes_per_s);
/* Resolve host, connect with a deadline (tries every address). */
int xconn_connect(struct xconn *c, const char *host, uint16_t port, int timeout_ms,
    char *err, size_t errlen);
void xconn_close(struct xconn *c);

/* TLS handshakes under c's timeout and deadline; on failure why has one
 * line (without the peer's address) and c is only good for closing.
 * Connect: host is the name or address dialled, which the server's
 * certificate must carry.  Accept: returns XMIG_ERR_UNEXPECTED, with
 * nothing consumed, when the peer sent a plaintext xmig frame instead
 * (the caller may answer it in plaintext). */
int xconn_tls_connect(struct xconn *c, struct tls_ctx *t, const char *host, char *why,
    size_t whylen);
int xconn_tls_accept(struct xconn *c, struct tls_ctx *t, char *why, size_t whylen);
/* "TLSv1.3 TLS_AES_256_GCM_SHA384, peer CN=..." ("plaintext" without TLS). */
void xconn_tls_describe(const struct xconn *c, char *buf, size_t buflen);
/* Who the peer is, for binding a migration to it: its address, and under
 * TLS "/" and the SHA-256 of its certificate. */
int xconn_peer_id(const struct xconn *c, char *out, size_t outlen);
/* The text for error r on c: the TLS detail when there is one. */
const char *xconn_strerror(const struct xconn *c, int r);

int xconn_write_all(struct xconn *c, const void *buf, size_t len);
int xconn_writev_all(struct xconn *c, struct iovec *iov, int iovcnt);
int xconn_read_exact(struct xconn *c, void *buf, size_t len);
int xconn_readv_exact(struct xconn *c, struct iovec *iov, int iovcnt);
/* Without waiting: has the peer sent something to read?  For a side
 * that mostly writes (the sender), to read a frame between its writes on
 * the same thread: with TLS, reads and writes of one connection must not
 * run at once.  True also when the peer closed (the read then says so);
 * false after an error of the connection's own. */
bool xconn_readable(struct xconn *c);
/* Bytes written to the connection that the kernel has not sent yet (its
 * socket's queue, not what is in flight unacknowledged); 0 when unknown.
 * Safe from any thread: it reads only the descriptor. */
uint64_t xconn_unsent(const struct xconn *c);
/* Discard len bytes (optional frames we do not know). */
int xconn_skip(struct xconn *c, size_t len);

/* A whole small frame: header + payload. */
int xconn_send_frame(struct xconn *c, uint8_t type, const void *payload, uint32_t len);
/* Read and validate a header; unknown OPTIONAL frames are skipped here. */
int xconn_recv_hdr(struct xconn *c, struct frame_hdr *h);
/* Read a small frame of any type into buf (cap >= its length). */
int xconn_recv_frame(struct xconn *c, struct frame_hdr *h, uint8_t *buf, size_t cap);

/* Listening sockets: bind addr ("" = any, v6 dual-stack) on port. */
int xconn_listen(const char *addr, uint16_t port, int *fds, int maxfds, int *nfds,
    char *err, size_t errlen);
/* Format a socket address as "addr" (numeric) and "addr:port". */
void sockaddr_str(const struct sockaddr *sa, socklen_t len, char *addr, size_t addrlen,
    char *full, size_t fulllen);

#endif
