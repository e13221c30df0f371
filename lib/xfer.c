/* xfer.c - TCP transport with deadlines, counters and a sticky error. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/sockios.h>
#include <unistd.h>

#include "tls.h"
#include "util.h"
#include "xbuf.h"
#include "xerr.h"
#include "xfer.h"

void
xconn_init(struct xconn *c, int fd, int timeout_ms)
{
	int one = 1;

	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->timeout_ms = timeout_ms;
	if (fd >= 0) {
		/* Non-blocking: every wait goes through poll() with a deadline. */
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
}

void
xconn_set_rate(struct xconn *c, uint64_t bytes_per_s)
{
	c->rate = bytes_per_s;
	c->rate_t0_us = 0;
	c->rate_bytes = 0;
}

/* Pace writes: sleep until sending `n` more bytes keeps the average since
 * the window started at the limit.  The window restarts after an idle
 * second, so a pause is not paid back with a burst. */
static void
xconn_pace(struct xconn *c, uint64_t n)
{
	uint64_t now = now_us(), due;

	if (c->rate_t0_us == 0 || now > c->rate_t0_us + (c->rate_bytes * 1000000 / c->rate) +
	    1000000) {
		c->rate_t0_us = now;
		c->rate_bytes = 0;
	}
	c->rate_bytes += n;
	due = c->rate_t0_us + (uint64_t)((double)c->rate_bytes * 1e6 / (double)c->rate);
	if (due > now) {
		struct timespec ts = { .tv_sec = (time_t)((due - now) / 1000000),
			.tv_nsec = (long)((due - now) % 1000000) * 1000 };

		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
	}
}

void
xconn_close(struct xconn *c)
{
	tls_conn_free(c->tls);
	c->tls = NULL;
	free(c->stage);
	c->stage = NULL;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static int
xconn_fail(struct xconn *c, int r)
{
	if (c->err == 0)
		c->err = r;
	return c->err;
}

/* Wait until fd is ready for `events`, within the connection's timeout. */
static int
xconn_wait(struct xconn *c, short events)
{
	struct pollfd p = { .fd = c->fd, .events = events };
	int n, t;

	do {
		t = c->timeout_ms;
		/* An overall deadline caps the wait, so trickled bytes cannot
		 * hold a connection open forever. */
		if (c->deadline_us) {
			uint64_t now = now_us();
			int left = now >= c->deadline_us ? 0
			    : (int)((c->deadline_us - now + 999) / 1000);

			if (t < 0 || left < t)
				t = left;
		}
		n = poll(&p, 1, t);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return XMIG_ERR_SYSTEM;
	if (n == 0)
		return XMIG_ERR_TIMEOUT;
	return 0;
}

/* ---- TLS: the same waits, through tls.c ---- */

/* Wait for what a TLS step asked for (it may want to read while writing). */
static int
xconn_tls_wait(struct xconn *c, int want)
{
	return xconn_wait(c, want == TLS_WANT_READ ? POLLIN : POLLOUT);
}

static int
xconn_tls_fail(struct xconn *c, int r)
{
	if (c->err == 0 && r != XMIG_ERR_TLS)
		c->why[0] = '\0';	/* EOF and timeouts need no detail */
	return xconn_fail(c, r);
}

/* A TLS call returned r != 0: wait when it wants the socket (r > 0) and
 * return 0 to retry, else record the first error with OpenSSL's reason. */
static int
xconn_tls_settle(struct xconn *c, int r, const char *why)
{
	if (r > 0)
		return (r = xconn_tls_wait(c, r)) != 0 ? xconn_fail(c, r) : 0;
	if (c->err == 0)
		memcpy(c->why, why, sizeof(c->why));
	return xconn_tls_fail(c, r);
}

/* Write all of p[0..len) as one SSL_write: after WANT_* it is repeated
 * with the same arguments, as OpenSSL requires. */
static int
xconn_tls_put(struct xconn *c, const uint8_t *p, size_t len)
{
	char why[sizeof(c->why)];

	while (len > 0) {
		size_t done;
		int r = tls_conn_write(c->tls, p, len, &done, why, sizeof(why));

		if (r == 0) {
			c->tx_bytes += done;
			p += done;
			len -= done;
		} else if ((r = xconn_tls_settle(c, r, why)) != 0) {
			return r;
		}
	}
	return 0;
}

static int
xconn_tls_flush(struct xconn *c)
{
	char why[sizeof(c->why)];
	int r;

	while ((r = tls_conn_flush(c->tls, why, sizeof(why))) != 0)
		if ((r = xconn_tls_settle(c, r, why)) != 0)
			return r;
	return 0;
}

/* Bytes from iov[i] on that follow each other in memory (guest pages with
 * consecutive frame numbers do): one piece for SSL_write/SSL_read. */
static size_t
xconn_run(const struct iovec *iov, int iovcnt, int i, int *next)
{
	size_t len = iov[i].iov_len;

	for (*next = i + 1; *next < iovcnt &&
	    (const uint8_t *)iov[*next - 1].iov_base + iov[*next - 1].iov_len ==
	    (const uint8_t *)iov[*next].iov_base; (*next)++)
		len += iov[*next].iov_len;
	return len;
}

static int
xconn_tls_writev(struct xconn *c, const struct iovec *iov, int iovcnt)
{
	size_t fill = 0;
	int i, next, r;

	for (i = 0; i < iovcnt; i = next) {
		const uint8_t *p = iov[i].iov_base;
		size_t n = xconn_run(iov, iovcnt, i, &next);

		/* A big piece goes out as it is, straight from where it lies:
		 * copying it would buy nothing. */
		if (n >= XCONN_TLS_DIRECT) {
			if ((fill > 0 && (r = xconn_tls_put(c, c->stage, fill)) != 0) ||
			    (r = xconn_tls_put(c, p, n)) != 0)
				return r;
			fill = 0;
			continue;
		}
		while (n > 0) {
			size_t k = n < XCONN_TLS_STAGE - fill ? n : XCONN_TLS_STAGE - fill;

			memcpy(c->stage + fill, p, k);
			fill += k;
			p += k;
			n -= k;
			if (fill == XCONN_TLS_STAGE) {
				if ((r = xconn_tls_put(c, c->stage, fill)) != 0)
					return r;
				fill = 0;
			}
		}
	}
	if (fill > 0 && (r = xconn_tls_put(c, c->stage, fill)) != 0)
		return r;
	/* A frame is always on the wire when writev returns. */
	return xconn_tls_flush(c);
}

static int
xconn_tls_readv(struct xconn *c, const struct iovec *iov, int iovcnt)
{
	char why[sizeof(c->why)];
	int i, next, r;

	for (i = 0; i < iovcnt; i = next) {
		uint8_t *p = iov[i].iov_base;
		size_t n = xconn_run(iov, iovcnt, i, &next);

		while (n > 0) {
			size_t done;

			r = tls_conn_read(c->tls, p, n, &done, why, sizeof(why));
			if (r == 0) {
				c->rx_bytes += done;
				p += done;
				n -= done;
			} else if ((r = xconn_tls_settle(c, r, why)) != 0) {
				return r;
			}
		}
	}
	return 0;
}

static int
xconn_tls_handshake(struct xconn *c, struct tls_ctx *t, const char *host, char *why,
    size_t whylen)
{
	int r;

	if ((c->tls = tls_conn_new(t, c->fd, host, why, whylen)) == NULL)
		return xconn_fail(c, XMIG_ERR_TLS);
	while ((r = tls_conn_handshake(c->tls, why, whylen)) > 0) {
		if ((r = xconn_tls_wait(c, r)) != 0) {
			snprintf(why, whylen, "%s", r == XMIG_ERR_TIMEOUT ?
			    "no TLS handshake within the deadline" : xmig_strerror(r));
			return xconn_fail(c, r);
		}
	}
	if (r == 0 && (c->stage = malloc(XCONN_TLS_STAGE)) == NULL) {
		snprintf(why, whylen, "out of memory");
		r = XMIG_ERR_NOMEM;
	}
	if (r != 0) {
		snprintf(c->why, sizeof(c->why), "%s", why);
		return xconn_tls_fail(c, r);
	}
	return 0;
}

int
xconn_tls_connect(struct xconn *c, struct tls_ctx *t, const char *host, char *why,
    size_t whylen)
{
	int r = xconn_tls_handshake(c, t, host, why, whylen);

	/* A plaintext xmigd reads our ClientHello as a bad frame and hangs up. */
	if (r == XMIG_ERR_EOF)
		snprintf(why, whylen, "connection closed during the TLS handshake (is %s the "
		    "peer's TLS relocation port?)", c->peer);
	return r;
}

int
xconn_tls_accept(struct xconn *c, struct tls_ctx *t, char *why, size_t whylen)
{
	uint8_t b[4];
	ssize_t n;
	int r;

	/* Look at the first bytes without taking them: a TLS client starts
	 * with a handshake record (0x16); anything else gets a clear refusal. */
	for (;;) {
		n = recv(c->fd, b, sizeof(b), MSG_PEEK);
		if (n > 0)
			break;
		if (n == 0) {
			snprintf(why, whylen, "connection closed before the TLS handshake");
			return xconn_fail(c, XMIG_ERR_EOF);
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			snprintf(why, whylen, "%s", strerror(errno));
			return xconn_fail(c, XMIG_ERR_SYSTEM);
		}
		if ((r = xconn_wait(c, POLLIN)) != 0) {
			snprintf(why, whylen, "%s", r == XMIG_ERR_TIMEOUT ?
			    "no TLS handshake within the deadline" : xmig_strerror(r));
			return xconn_fail(c, r);
		}
	}
	if (b[0] != 0x16) {
		bool xmig = n >= 4 && be32_get(b) == PROTO_MAGIC;

		snprintf(why, whylen, "plaintext client on the TLS port%s", xmig ?
		    " (an xmig sender without --ssl)" : "");
		return xconn_fail(c, xmig ? XMIG_ERR_UNEXPECTED : XMIG_ERR_TLS);
	}
	return xconn_tls_handshake(c, t, NULL, why, whylen);
}

void
xconn_tls_describe(const struct xconn *c, char *buf, size_t buflen)
{
	if (c->tls == NULL)
		snprintf(buf, buflen, "plaintext");
	else
		tls_conn_describe(c->tls, buf, buflen);
}

int
xconn_peer_id(const struct xconn *c, char *out, size_t outlen)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char addr[NI_MAXHOST], fp[65];
	int n;

	if (getpeername(c->fd, (struct sockaddr *)&ss, &sl) != 0)
		return XMIG_ERR_SYSTEM;
	sockaddr_str((struct sockaddr *)&ss, sl, addr, sizeof(addr), NULL, 0);
	if (c->tls == NULL)
		n = snprintf(out, outlen, "%s", addr);
	else if (tls_conn_peer_fingerprint(c->tls, fp, sizeof(fp)) != 0)
		return XMIG_ERR_TLS;
	else
		n = snprintf(out, outlen, "%s/%s", addr, fp);
	return n < 0 || (size_t)n >= outlen ? XMIG_ERR_TOO_LONG : 0;
}

const char *
xconn_strerror(const struct xconn *c, int r)
{
	return (r == XMIG_ERR_TLS || r == XMIG_ERR_BAD_MAGIC) && c->why[0] != '\0' ? c->why :
	    xmig_strerror(r);
}

int
xconn_writev_all(struct xconn *c, struct iovec *iov, int iovcnt)
{
	struct msghdr mh;
	ssize_t n;
	int r;

	if (c->err)
		return c->err;
	if (c->rate) {
		uint64_t total = 0;
		int i;

		for (i = 0; i < iovcnt; i++)
			total += iov[i].iov_len;
		xconn_pace(c, total);
	}
	if (c->tls != NULL)
		return xconn_tls_writev(c, iov, iovcnt);
	while (iovcnt > 0) {
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = iov;
		mh.msg_iovlen = (size_t)iovcnt;
		n = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				if ((r = xconn_wait(c, POLLOUT)) != 0)
					return xconn_fail(c, r);
				continue;
			}
			return xconn_fail(c, errno == EPIPE || errno == ECONNRESET
			    ? XMIG_ERR_EOF : XMIG_ERR_SYSTEM);
		}
		c->tx_bytes += (uint64_t)n;
		while (iovcnt > 0 && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			iovcnt--;
		}
		if (iovcnt > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

int
xconn_write_all(struct xconn *c, const void *buf, size_t len)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

	return xconn_writev_all(c, &iov, 1);
}

int
xconn_readv_exact(struct xconn *c, struct iovec *iov, int iovcnt)
{
	ssize_t n;
	int r;

	if (c->err)
		return c->err;
	if (c->tls != NULL)
		return xconn_tls_readv(c, iov, iovcnt);
	while (iovcnt > 0) {
		if (iov->iov_len == 0) {
			iov++;
			iovcnt--;
			continue;
		}
		n = readv(c->fd, iov, iovcnt > 1024 ? 1024 : iovcnt);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				if ((r = xconn_wait(c, POLLIN)) != 0)
					return xconn_fail(c, r);
				continue;
			}
			return xconn_fail(c, errno == ECONNRESET ? XMIG_ERR_EOF
			    : XMIG_ERR_SYSTEM);
		}
		if (n == 0)
			return xconn_fail(c, XMIG_ERR_EOF);
		c->rx_bytes += (uint64_t)n;
		while (iovcnt > 0 && (size_t)n >= iov->iov_len) {
			n -= (ssize_t)iov->iov_len;
			iov++;
			iovcnt--;
		}
		if (iovcnt > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + n;
			iov->iov_len -= (size_t)n;
		}
	}
	return 0;
}

bool
xconn_readable(struct xconn *c)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	int n;

	if (c->err != 0 || c->fd < 0)
		return false;
	/* Decrypted bytes may wait in OpenSSL with nothing on the socket, and
	 * a readable socket may hold a record without data: OpenSSL tells. */
	if (c->tls != NULL)
		return tls_conn_readable(c->tls);
	do
		n = poll(&p, 1, 0);
	while (n < 0 && errno == EINTR);
	return n > 0;
}

uint64_t
xconn_unsent(const struct xconn *c)
{
	int n = 0;

	if (c->fd < 0 || ioctl(c->fd, SIOCOUTQNSD, &n) != 0 || n < 0)
		return 0;
	return (uint64_t)n;
}

int
xconn_read_exact(struct xconn *c, void *buf, size_t len)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };

	return xconn_readv_exact(c, &iov, 1);
}

int
xconn_skip(struct xconn *c, size_t len)
{
	uint8_t junk[4096];
	int r;

	while (len > 0) {
		size_t n = len < sizeof(junk) ? len : sizeof(junk);

		if ((r = xconn_read_exact(c, junk, n)) != 0)
			return r;
		len -= n;
	}
	return 0;
}

int
xconn_send_frame(struct xconn *c, uint8_t type, const void *payload, uint32_t len)
{
	uint8_t hdr[FRAME_HDR_LEN];
	struct iovec iov[2] = {
		{ .iov_base = hdr, .iov_len = sizeof(hdr) },
		{ .iov_base = (void *)payload, .iov_len = len },
	};

	frame_hdr_encode(hdr, type, 0, len);
	return xconn_writev_all(c, iov, len ? 2 : 1);
}

int
xconn_recv_hdr(struct xconn *c, struct frame_hdr *h)
{
	uint8_t hdr[FRAME_HDR_LEN];
	int r;

	for (;;) {
		if ((r = xconn_read_exact(c, hdr, sizeof(hdr))) != 0)
			return r;
		if ((r = frame_hdr_decode(hdr, h)) != 0) {
			/* Say what it is when it is recognisable: a TLS
			 * ClientHello (record type 22, version 3.x) is an
			 * xmig sender with --ssl on the plaintext port. */
			if (r == XMIG_ERR_BAD_MAGIC && c->rx_bytes == FRAME_HDR_LEN) {
				if (hdr[0] == 0x16 && hdr[1] == 0x03)
					snprintf(c->why, sizeof(c->why), "a TLS client on the "
					    "plaintext port (xmig migrate --ssl goes to "
					    "relocation-ssl-port)");
				else if (memcmp(hdr, "GET ", 4) == 0 || memcmp(hdr, "POST", 4) == 0 ||
				    memcmp(hdr, "HEAD", 4) == 0)
					snprintf(c->why, sizeof(c->why), "an HTTP client, not an "
					    "xmig peer");
			}
			return xconn_fail(c, r);
		}
		if (h->type >= 1 && h->type <= MSG_TYPE_MAX)
			return 0;
		/* Unknown but optional: skip it. */
		if ((r = xconn_skip(c, h->len)) != 0)
			return r;
	}
}

int
xconn_recv_frame(struct xconn *c, struct frame_hdr *h, uint8_t *buf, size_t cap)
{
	int r;

	if ((r = xconn_recv_hdr(c, h)) != 0)
		return r;
	if (h->len > cap)
		return xconn_fail(c, XMIG_ERR_TOO_LONG);
	return xconn_read_exact(c, buf, h->len);
}

int
xconn_connect(struct xconn *c, const char *host, uint16_t port, int timeout_ms,
    char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL, *ai;
	char portstr[8];
	int fd = -1, gr, r = XMIG_ERR_SYSTEM, saved = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(portstr, sizeof(portstr), "%u", port);
	if ((gr = getaddrinfo(host, portstr, &hints, &res)) != 0) {
		snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(gr));
		return XMIG_ERR_NOT_FOUND;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		struct pollfd p;
		int soerr = 0, n;
		socklen_t sl = sizeof(soerr);

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
		    ai->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			goto connected;
		if (errno != EINPROGRESS) {
			saved = errno;
			close(fd);
			fd = -1;
			continue;
		}
		p.fd = fd;
		p.events = POLLOUT;
		do {
			n = poll(&p, 1, timeout_ms);
		} while (n < 0 && errno == EINTR);
		if (n == 0) {
			saved = ETIMEDOUT;
		} else if (n > 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 &&
		    soerr == 0) {
			goto connected;
		} else {
			saved = soerr ? soerr : errno;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	snprintf(err, errlen, "cannot connect to %s port %u: %s", host, port,
	    strerror(saved ? saved : ECONNREFUSED));
	errno = saved;
	return saved == ETIMEDOUT ? XMIG_ERR_TIMEOUT : r;
connected:
	xconn_init(c, fd, timeout_ms);
	{
		char a[64];

		sockaddr_str(ai->ai_addr, ai->ai_addrlen, a, sizeof(a), c->peer,
		    sizeof(c->peer));
	}
	freeaddrinfo(res);
	return 0;
}

void
sockaddr_str(const struct sockaddr *sa, socklen_t len, char *addr, size_t addrlen,
    char *full, size_t fulllen)
{
	char h[NI_MAXHOST] = "?", s[NI_MAXSERV] = "?";

	getnameinfo(sa, len, h, sizeof(h), s, sizeof(s), NI_NUMERICHOST | NI_NUMERICSERV);
	/* Show IPv4-mapped peers as plain IPv4. */
	const char *hp = strncmp(h, "::ffff:", 7) == 0 && strchr(h + 7, '.') ? h + 7 : h;
	if (addr != NULL)
		strlcpy_x(addr, hp, addrlen);
	if (full != NULL)
		snprintf(full, fulllen, strchr(hp, ':') ? "[%s]:%s" : "%s:%s", hp, s);
}

int
xconn_listen(const char *addr, uint16_t port, int *fds, int maxfds, int *nfds,
    char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL, *ai;
	char portstr[8];
	int gr, one = 1;

	*nfds = 0;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	snprintf(portstr, sizeof(portstr), "%u", port);
	if ((gr = getaddrinfo(addr && *addr ? addr : NULL, portstr, &hints, &res)) != 0) {
		snprintf(err, errlen, "relocation-address %s: %s", addr, gai_strerror(gr));
		return XMIG_ERR_INVALID;
	}
	for (ai = res; ai != NULL && *nfds < maxfds; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);

		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (ai->ai_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 64) != 0) {
			int e = errno;

			close(fd);
			/* An IPv6-less host still serves IPv4. */
			if (ai->ai_family == AF_INET6 && (e == EAFNOSUPPORT || e == EADDRNOTAVAIL))
				continue;
			snprintf(err, errlen, "cannot listen on %s port %u: %s",
			    addr && *addr ? addr : "*", port, strerror(e));
			while (*nfds > 0)
				close(fds[--*nfds]);
			freeaddrinfo(res);
			errno = e;
			return XMIG_ERR_SYSTEM;
		}
		fds[(*nfds)++] = fd;
	}
	freeaddrinfo(res);
	if (*nfds == 0) {
		snprintf(err, errlen, "no address to listen on for port %u", port);
		return XMIG_ERR_INVALID;
	}
	return 0;
}
