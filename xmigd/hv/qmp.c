/* hv/qmp.c - a synchronous QMP client (qmp.h).
 *
 * QMP is a stream of JSON objects.  QEMU ends each with "\r\n", but the
 * reader does not rely on that: a small scanner follows the braces and
 * strings of the object at the head of the buffer and hands exactly that
 * object to jansson, so a message split across reads, several in one
 * read, or one that never ends are all handled the same way.  The buffer
 * is msg_max bytes and never grows: a message that does not end within it
 * is refused.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "qmp.h"
#include "util.h"
#include "xerr.h"

struct qmp {
	int fd;
	int timeout_ms;
	bool broken;		/* a transport or protocol failure: no more commands */
	uint64_t next_id;
	char *buf;		/* msg_max bytes: the message being read, then what followed */
	size_t msg_max, len;
	/* The scanner's place in the object at buf[0]. */
	size_t scan;
	int depth;
	bool started, in_str, esc;
	char version[32];
	char err[QMP_ERR_MAX];
};

static void qmp_fail(struct qmp *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One line, valid UTF-8 even when QEMU's text was not or was cut short. */
static void
qmp_fail(struct qmp *q, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(q->err, sizeof(q->err), fmt, ap);
	va_end(ap);
	utf8_sanitize(q->err);
}

/* Milliseconds left until deadline (an absolute now_ms()), at least 0. */
static int
left_ms(uint64_t deadline)
{
	uint64_t now = now_ms();

	return now >= deadline ? 0 : deadline - now > INT32_MAX ? INT32_MAX :
	    (int)(deadline - now);
}

static uint64_t
deadline_of(int timeout_ms)
{
	return now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
}

/* Wait for events on fd until deadline: 0, XMIG_ERR_TIMEOUT or _SYSTEM. */
static int
wait_fd(int fd, short events, uint64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int r;

	for (;;) {
		r = poll(&p, 1, left_ms(deadline));
		if (r > 0)
			return 0;
		if (r == 0)
			return XMIG_ERR_TIMEOUT;
		if (errno != EINTR)
			return XMIG_ERR_SYSTEM;
	}
}

static int
send_all(struct qmp *q, const char *what, const char *p, size_t n, uint64_t deadline)
{
	ssize_t w;
	int r;

	while (n > 0) {
		w = send(q->fd, p, n, MSG_NOSIGNAL);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if ((r = wait_fd(q->fd, POLLOUT, deadline)) == 0)
				continue;
			if (r == XMIG_ERR_TIMEOUT)
				qmp_fail(q, "%s: cannot send within %d ms", what, q->timeout_ms);
			else
				qmp_fail(q, "%s: poll: %s", what, strerror(errno));
			return r;
		}
		qmp_fail(q, "%s: send: %s", what, w < 0 ? strerror(errno) : "nothing written");
		return w < 0 && errno == EPIPE ? XMIG_ERR_EOF : XMIG_ERR_SYSTEM;
	}
	return 0;
}

/* Scan buf[scan..len) for the end of the object at the head of the buffer
 * (whitespace before it is dropped).  1 with *n its length when complete,
 * 0 when more bytes are needed, XMIG_ERR_INVALID when it is not an object. */
static int
scan_message(struct qmp *q, size_t *n)
{
	size_t i;

	if (!q->started) {
		for (i = 0; i < q->len && strchr(" \t\r\n", q->buf[i]) != NULL &&
		    q->buf[i] != '\0'; i++)
			;
		memmove(q->buf, q->buf + i, q->len - i);
		q->len -= i;
		if (q->len == 0)
			return 0;
		if (q->buf[0] != '{')
			return XMIG_ERR_INVALID;
		q->started = true;
		q->scan = 0;
		q->depth = 0;
		q->in_str = q->esc = false;
	}
	for (i = q->scan; i < q->len; i++) {
		char c = q->buf[i];

		if (q->in_str) {
			if (q->esc)
				q->esc = false;
			else if (c == '\\')
				q->esc = true;
			else if (c == '"')
				q->in_str = false;
		} else if (c == '"') {
			q->in_str = true;
		} else if (c == '{' || c == '[') {
			q->depth++;
		} else if ((c == '}' || c == ']') && --q->depth == 0) {
			q->scan = i + 1;
			*n = i + 1;
			return 1;
		}
	}
	q->scan = q->len;
	return 0;
}

/* The next message, an object, within deadline; `what` names the call. */
static int
read_message(struct qmp *q, const char *what, uint64_t deadline, json_t **out)
{
	json_error_t jerr;
	size_t n = 0;
	ssize_t got;
	int r;

	*out = NULL;
	for (;;) {
		if ((r = scan_message(q, &n)) == 1)
			break;
		if (r < 0) {
			qmp_fail(q, "%s: not a QMP message (starts with 0x%02x)", what,
			    (unsigned)(unsigned char)q->buf[0]);
			return r;
		}
		if (q->len >= q->msg_max) {
			qmp_fail(q, "%s: message longer than %zu bytes refused", what, q->msg_max);
			return XMIG_ERR_TOO_LONG;
		}
		got = recv(q->fd, q->buf + q->len, q->msg_max - q->len, 0);
		if (got > 0) {
			q->len += (size_t)got;
			continue;
		}
		if (got == 0) {
			if (q->len > 0)
				qmp_fail(q, "%s: QEMU closed the connection in the middle of a "
				    "message (%zu bytes)", what, q->len);
			else
				qmp_fail(q, "%s: QEMU closed the connection", what);
			return XMIG_ERR_EOF;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			qmp_fail(q, "%s: recv: %s", what, strerror(errno));
			return XMIG_ERR_SYSTEM;
		}
		if ((r = wait_fd(q->fd, POLLIN, deadline)) != 0) {
			if (r == XMIG_ERR_TIMEOUT)
				qmp_fail(q, "%s: no reply within %d ms", what, q->timeout_ms);
			else
				qmp_fail(q, "%s: poll: %s", what, strerror(errno));
			return r;
		}
	}
	*out = json_loadb(q->buf, n, JSON_REJECT_DUPLICATES, &jerr);
	memmove(q->buf, q->buf + n, q->len - n);
	q->len -= n;
	q->started = false;
	if (*out == NULL || !json_is_object(*out)) {
		qmp_fail(q, "%s: malformed QMP message: %s", what,
		    *out == NULL ? jerr.text : "not an object");
		json_decref(*out);
		*out = NULL;
		return XMIG_ERR_INVALID;
	}
	return 0;
}

/* An error reply: {"error": {"class": C, "desc": D}}. */
static int
error_reply(struct qmp *q, const char *cmd, json_t *e)
{
	const char *cls = json_string_value(json_object_get(e, "class"));
	const char *desc = json_string_value(json_object_get(e, "desc"));
	char c[48], d[192];

	if (!json_is_object(e) || cls == NULL || desc == NULL) {
		qmp_fail(q, "%s: malformed error reply", cmd);
		q->broken = true;
		return XMIG_ERR_INVALID;
	}
	strlcpy_utf8(c, cls, sizeof(c));
	strlcpy_utf8(d, desc, sizeof(d));
	qmp_fail(q, "%s: %s: %s", cmd, c, d);
	return XMIG_ERR_BACKEND;
}

static int
execute(struct qmp *q, const char *cmd, json_t *args, json_t **ret, uint64_t deadline)
{
	json_t *req, *msg = NULL, *v;
	char *text = NULL;
	uint64_t id;
	int r;

	if (ret != NULL)
		*ret = NULL;
	if (q->broken) {
		qmp_fail(q, "%s: connection unusable after an earlier failure", cmd);
		return XMIG_ERR_STATE;
	}
	if (args != NULL && !json_is_object(args)) {
		qmp_fail(q, "%s: arguments are not an object", cmd);
		return XMIG_ERR_INVALID;
	}
	id = ++q->next_id;
	req = json_pack("{s:s, s:I}", "execute", cmd, "id", (json_int_t)id);
	if (req == NULL || (args != NULL && json_object_set(req, "arguments", args) != 0) ||
	    (text = json_dumps(req, JSON_COMPACT)) == NULL) {
		json_decref(req);
		qmp_fail(q, "%s: cannot build the command", cmd);
		return XMIG_ERR_NOMEM;
	}
	json_decref(req);
	r = send_all(q, cmd, text, strlen(text), deadline);
	if (r == 0)
		r = send_all(q, cmd, "\n", 1, deadline);
	free(text);
	while (r == 0) {
		if ((r = read_message(q, cmd, deadline, &msg)) != 0)
			break;
		if (json_object_get(msg, "event") != NULL) {	/* asynchronous: not ours */
			json_decref(msg);
			continue;
		}
		v = json_object_get(msg, "id");
		/* QEMU answers a command it could not parse without its id. */
		if (v != NULL ? !json_is_integer(v) || (uint64_t)json_integer_value(v) != id :
		    json_object_get(msg, "error") == NULL) {
			qmp_fail(q, "%s: reply with id %s, not %" PRIu64, cmd,
			    v == NULL ? "none" : json_is_integer(v) ? "of another command" :
			    "of the wrong type", id);
			r = XMIG_ERR_INVALID;
		} else if ((v = json_object_get(msg, "return")) != NULL) {
			if (ret != NULL)
				*ret = json_incref(v);
		} else if ((v = json_object_get(msg, "error")) != NULL) {
			r = error_reply(q, cmd, v);
		} else {
			qmp_fail(q, "%s: reply without return or error", cmd);
			r = XMIG_ERR_INVALID;
		}
		json_decref(msg);
		break;
	}
	if (r != 0 && r != XMIG_ERR_BACKEND)
		q->broken = true;
	return r;
}

int
qmp_execute(struct qmp *q, const char *cmd, json_t *args, json_t **ret)
{
	return execute(q, cmd, args, ret, deadline_of(q->timeout_ms));
}

/* The greeting: {"QMP": {"version": {"qemu": {"major":..}, ...}, ...}}. */
static int
greeting(struct qmp *q, uint64_t deadline)
{
	json_t *msg, *g, *v;
	int r;

	if ((r = read_message(q, "greeting", deadline, &msg)) != 0)
		return r;
	g = json_object_get(msg, "QMP");
	if (!json_is_object(g)) {
		json_decref(msg);
		qmp_fail(q, "greeting: not a QMP greeting");
		return XMIG_ERR_INVALID;
	}
	v = json_object_get(json_object_get(g, "version"), "qemu");
	if (json_is_object(v))
		snprintf(q->version, sizeof(q->version), "%" JSON_INTEGER_FORMAT ".%"
		    JSON_INTEGER_FORMAT ".%" JSON_INTEGER_FORMAT,
		    json_integer_value(json_object_get(v, "major")),
		    json_integer_value(json_object_get(v, "minor")),
		    json_integer_value(json_object_get(v, "micro")));
	else
		strlcpy_x(q->version, "unknown", sizeof(q->version));
	json_decref(msg);
	return 0;
}

/* Connect to a Unix socket, non-blocking; a full backlog is retried. */
static int
connect_unix(struct qmp *q, const char *path, uint64_t deadline)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof(sa.sun_path)) {
		qmp_fail(q, "socket path longer than %zu bytes", sizeof(sa.sun_path) - 1);
		return XMIG_ERR_TOO_LONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0) {
		qmp_fail(q, "socket: %s", strerror(errno));
		return XMIG_ERR_SYSTEM;
	}
	for (;;) {
		struct timespec ts = { 0, 10 * 1000000L };

		if (connect(q->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN || left_ms(deadline) == 0) {
			qmp_fail(q, "connect: %s", strerror(errno));
			return errno == ENOENT || errno == ECONNREFUSED ? XMIG_ERR_NOT_FOUND :
			    XMIG_ERR_SYSTEM;
		}
		nanosleep(&ts, NULL);
	}
}

struct qmp *
qmp_open(const char *path, int timeout_ms, size_t msg_max, char *why, size_t whylen)
{
	uint64_t deadline = deadline_of(timeout_ms);
	struct qmp *q = calloc(1, sizeof(*q));

	if (q == NULL) {
		snprintf(why, whylen, "QMP %s: out of memory", path);
		return NULL;
	}
	q->fd = -1;
	q->timeout_ms = timeout_ms;
	q->msg_max = msg_max > 0 ? msg_max : QMP_MSG_MAX_DEFAULT;
	if ((q->buf = malloc(q->msg_max)) == NULL)
		qmp_fail(q, "out of memory");
	else if (connect_unix(q, path, deadline) == 0 && greeting(q, deadline) == 0 &&
	    execute(q, "qmp_capabilities", NULL, NULL, deadline) == 0)
		return q;
	snprintf(why, whylen, "QMP %s: %s", path, q->err);
	qmp_close(q);
	return NULL;
}

void
qmp_close(struct qmp *q)
{
	if (q == NULL)
		return;
	if (q->fd >= 0)
		close(q->fd);
	free(q->buf);
	free(q);
}

void
qmp_set_timeout(struct qmp *q, int timeout_ms)
{
	q->timeout_ms = timeout_ms;
}

const char *
qmp_version(const struct qmp *q)
{
	return q->version;
}

const char *
qmp_error(const struct qmp *q)
{
	return q->err;
}

/* ---- the commands the backend uses ---- */

/* Run cmd with args (stolen); a reply's value is not wanted. */
static int
run(struct qmp *q, const char *cmd, json_t *args)
{
	int r;

	if (args == NULL) {
		qmp_fail(q, "%s: cannot build the arguments", cmd);
		return XMIG_ERR_NOMEM;
	}
	r = qmp_execute(q, cmd, args, NULL);
	json_decref(args);
	return r;
}

int
qmp_stop(struct qmp *q)
{
	return qmp_execute(q, "stop", NULL, NULL);
}

int
qmp_cont(struct qmp *q)
{
	return qmp_execute(q, "cont", NULL, NULL);
}

int
qmp_save_devices_state(struct qmp *q, const char *filename, bool live)
{
	return run(q, "xen-save-devices-state", json_pack("{s:s, s:b}", "filename", filename,
	    "live", live));
}

int
qmp_load_devices_state(struct qmp *q, const char *filename)
{
	return run(q, "xen-load-devices-state", json_pack("{s:s}", "filename", filename));
}

int
qmp_set_global_dirty_log(struct qmp *q, bool enable)
{
	return run(q, "xen-set-global-dirty-log", json_pack("{s:b}", "enable", enable));
}

int
qmp_query_status(struct qmp *q, char *status, size_t size, bool *running)
{
	json_t *ret = NULL, *st, *run_v;
	int r;

	if (size > 0)
		status[0] = '\0';
	*running = false;
	if ((r = qmp_execute(q, "query-status", NULL, &ret)) != 0)
		return r;
	st = json_object_get(ret, "status");
	run_v = json_object_get(ret, "running");
	if (!json_is_string(st) || !json_is_boolean(run_v)) {
		qmp_fail(q, "query-status: reply without status and running");
		json_decref(ret);
		return XMIG_ERR_INVALID;
	}
	strlcpy_utf8(status, json_string_value(st), size);
	*running = json_is_true(run_v);
	json_decref(ret);
	return 0;
}
