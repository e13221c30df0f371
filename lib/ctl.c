/* ctl.c - length-prefixed JSON messages over the Unix control socket.
 *
 * Every wait goes through poll(), so a peer that stops reading or writing
 * costs at most a timeout, never a thread.  Sends use MSG_NOSIGNAL: a client
 * that went away is an error return, not a SIGPIPE in the daemon.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"
#include "util.h"
#include "xerr.h"

/* A peer that takes this long to accept a message is treated as gone. */
#define CTL_SEND_TIMEOUT_MS 30000

/* Milliseconds left until deadline (0 = already past); -1 stays -1. */
static int
ctl_left(int timeout_ms, uint64_t deadline)
{
	uint64_t now;

	if (timeout_ms < 0)
		return -1;
	now = now_ms();
	return now >= deadline ? 0 : (int)(deadline - now);
}

/* Wait for events on fd until deadline. */
static int
ctl_wait(int fd, short events, int timeout_ms, uint64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n;

	for (;;) {
		n = poll(&p, 1, ctl_left(timeout_ms, deadline));
		if (n > 0)
			return 0;	/* readable, writable, or an error the I/O call reports */
		if (n == 0)
			return XMIG_ERR_TIMEOUT;
		if (errno != EINTR)
			return XMIG_ERR_SYSTEM;
	}
}

static int
ctl_write_all(int fd, const uint8_t *p, size_t len, uint64_t deadline)
{
	while (len > 0) {
		ssize_t n;
		int r;

		if ((r = ctl_wait(fd, POLLOUT, CTL_SEND_TIMEOUT_MS, deadline)) != 0)
			return r;
		n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
				continue;
			return XMIG_ERR_SYSTEM;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
ctl_send(int fd, const json_t *msg)
{
	uint64_t deadline = now_ms() + CTL_SEND_TIMEOUT_MS;
	uint8_t *buf;
	char *text;
	size_t len;
	int r;

	if (msg == NULL || !json_is_object(msg))
		return XMIG_ERR_INVALID;
	if ((text = json_dumps(msg, JSON_COMPACT)) == NULL)
		return XMIG_ERR_NOMEM;
	len = strlen(text);
	if (len > CTL_MSG_MAX) {
		free(text);
		return XMIG_ERR_TOO_LONG;
	}
	/* One buffer, one send in the common case: the peer never sees a
	 * header without its body because of us. */
	if ((buf = malloc(4 + len)) == NULL) {
		free(text);
		return XMIG_ERR_NOMEM;
	}
	buf[0] = (uint8_t)(len >> 24);
	buf[1] = (uint8_t)(len >> 16);
	buf[2] = (uint8_t)(len >> 8);
	buf[3] = (uint8_t)len;
	memcpy(buf + 4, text, len);
	free(text);
	r = ctl_write_all(fd, buf, 4 + len, deadline);
	free(buf);
	return r;
}

/* Read exactly len bytes.  *got says how many arrived, so that the caller
 * can tell a clean close (nothing) from a truncated message. */
static int
ctl_read_all(int fd, uint8_t *p, size_t len, size_t *got, int timeout_ms, uint64_t deadline)
{
	*got = 0;
	while (*got < len) {
		ssize_t n;
		int r;

		if ((r = ctl_wait(fd, POLLIN, timeout_ms, deadline)) != 0)
			return r;
		n = recv(fd, p + *got, len - *got, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
				continue;
			return XMIG_ERR_SYSTEM;
		}
		if (n == 0)
			return XMIG_ERR_EOF;
		*got += (size_t)n;
	}
	return 0;
}

int
ctl_recv(int fd, json_t **out, int timeout_ms)
{
	uint64_t deadline = timeout_ms < 0 ? 0 : now_ms() + (uint64_t)timeout_ms;
	uint8_t hdr[4], *buf;
	json_error_t jerr;
	json_t *o;
	size_t got;
	uint32_t len;
	int r;

	if (out == NULL)
		return XMIG_ERR_INVALID;
	*out = NULL;
	if ((r = ctl_read_all(fd, hdr, sizeof(hdr), &got, timeout_ms, deadline)) != 0)
		return r == XMIG_ERR_EOF && got > 0 ? XMIG_ERR_TRUNCATED : r;
	len = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
	/* Checked before malloc: a hostile length must not cost memory. */
	if (len > CTL_MSG_MAX)
		return XMIG_ERR_TOO_LONG;
	if (len == 0)
		return XMIG_ERR_INVALID;
	if ((buf = malloc(len)) == NULL)
		return XMIG_ERR_NOMEM;
	r = ctl_read_all(fd, buf, len, &got, timeout_ms, deadline);
	if (r != 0) {
		free(buf);
		return r == XMIG_ERR_EOF ? XMIG_ERR_TRUNCATED : r;
	}
	o = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &jerr);
	free(buf);
	if (o == NULL)
		return XMIG_ERR_INVALID;
	if (!json_is_object(o)) {
		json_decref(o);
		return XMIG_ERR_INVALID;
	}
	*out = o;
	return 0;
}

/* Fill a sockaddr_un; ENAMETOOLONG rather than a silently cut path. */
static int
ctl_addr(const char *path, struct sockaddr_un *sa)
{
	size_t n;

	if (path == NULL || path[0] == '\0') {
		errno = EINVAL;
		return XMIG_ERR_SYSTEM;
	}
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if ((n = strlen(path)) >= sizeof(sa->sun_path)) {
		errno = ENAMETOOLONG;
		return XMIG_ERR_SYSTEM;
	}
	memcpy(sa->sun_path, path, n + 1);
	return 0;
}

/* Close fd keeping the errno that explains the failure. */
static int
ctl_fail(int fd, int r)
{
	int e = errno;

	if (fd >= 0)
		close(fd);
	errno = e;
	return r;
}

int
ctl_connect(const char *path)
{
	struct sockaddr_un sa;
	int fd, r;

	if ((r = ctl_addr(path, &sa)) != 0)
		return r;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return XMIG_ERR_SYSTEM;
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		/* An interrupted connect goes on in the background. */
		if (errno == EINTR)
			continue;
		if (errno == EISCONN)
			break;
		return ctl_fail(fd, XMIG_ERR_SYSTEM);
	}
	return fd;
}

int
ctl_listen(const char *path, unsigned mode)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd, r;

	if ((r = ctl_addr(path, &sa)) != 0)
		return r;
	if (lstat(path, &st) == 0) {
		/* Never remove anything but a socket, and never one that a
		 * running daemon still answers on. */
		if (!S_ISSOCK(st.st_mode)) {
			errno = EEXIST;
			return XMIG_ERR_SYSTEM;
		}
		/* Non-blocking: a live daemon with a full backlog says EAGAIN
		 * rather than making us wait. */
		if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
			return XMIG_ERR_SYSTEM;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno == EAGAIN) {
			close(fd);
			errno = EADDRINUSE;
			return XMIG_ERR_SYSTEM;
		}
		close(fd);
		if (unlink(path) != 0 && errno != ENOENT)
			return XMIG_ERR_SYSTEM;
	} else if (errno != ENOENT) {
		return XMIG_ERR_SYSTEM;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return XMIG_ERR_SYSTEM;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		return ctl_fail(fd, XMIG_ERR_SYSTEM);
	/* Nobody can connect before listen(), so the umask-made mode of the
	 * new file is never usable; set the real one first. */
	if (chmod(path, (mode_t)mode) != 0 || listen(fd, 64) != 0) {
		int e = errno;

		unlink(path);
		errno = e;
		return ctl_fail(fd, XMIG_ERR_SYSTEM);
	}
	return fd;
}
