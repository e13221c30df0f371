/* xfer.h - the transport under the relocation protocol.
 *
 * A connection wraps a TCP socket with per-operation deadlines, byte
 * counters and a sticky first error (after a failure every call returns
 * it, so a caller may check once).  Frames are written with one writev so
 * page data goes from guest memory to the socket without a copy, and read
 * header-first so nothing is allocated before the header is validated.
 * An optional rate limit (bytes/s) paces writes.
 */
#ifndef XMIG_XFER_H
#define XMIG_XFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "proto.h"

struct xconn {
	int fd;
	int err;		/* sticky first error */
	int timeout_ms;		/* per read/write wait, -1 = none */
	uint64_t deadline_us;	/* absolute (now_us) limit for every wait, 0 = none */
	uint64_t tx_bytes, rx_bytes;
	uint64_t rate;		/* write limit in bytes/s, 0 = none */
	uint64_t rate_t0_us, rate_bytes;	/* pacing window */
	char peer[128];		/* "addr:port" for messages */
};

void xconn_init(struct xconn *c, int fd, int timeout_ms);
/* Limit writes to `bytes_per_s` (0 = unlimited), e.g. xm's -r option. */
void xconn_set_rate(struct xconn *c, uint64_t bytes_per_s);
/* Resolve host, connect with a deadline (tries every address). */
int xconn_connect(struct xconn *c, const char *host, uint16_t port, int timeout_ms,
    char *err, size_t errlen);
void xconn_close(struct xconn *c);

int xconn_write_all(struct xconn *c, const void *buf, size_t len);
int xconn_writev_all(struct xconn *c, struct iovec *iov, int iovcnt);
int xconn_read_exact(struct xconn *c, void *buf, size_t len);
int xconn_readv_exact(struct xconn *c, struct iovec *iov, int iovcnt);
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
