/* test_qmp.c - the QMP client against a fake QEMU.
 *
 * The fake is a thread serving one connection on a Unix socket in a
 * temporary directory, from a script: send text (whole, or a byte per
 * write), expect a command (its name and arguments are checked, its id
 * kept for the reply's "%ID%"), send events until the client goes, hold
 * the connection silent, close.  What the fake finds wrong it records, and
 * the test checks after joining it (cmocka cannot fail from a thread).
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include "hv/qmp.h"
#include "util.h"
#include "xerr.h"

#define GREETING "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, " \
	"\"major\": 7}, \"package\": \"Debian 1:7.2+dfsg-7\"}, \"capabilities\": []}}\r\n"
#define OK "{\"return\": {}, \"id\": %ID%}\r\n"
#define EVENT "{\"timestamp\": {\"seconds\": 1700000000, \"microseconds\": 5}, " \
	"\"event\": \"RESUME\"}\r\n"

enum op { OP_END, OP_SEND, OP_SEND_BYTES, OP_EXPECT, OP_EVENTS_UNTIL_EOF, OP_HOLD, OP_CLOSE };

struct step {
	enum op op;
	const char *text;	/* SEND: the bytes ("%ID%": the last command's id);
				 * EXPECT: the command's name */
	const char *args;	/* EXPECT: its arguments as JSON, NULL for none */
};

struct fake {
	char dir[64], path[128];
	int lfd;
	const struct step *script;
	pthread_t th;
	long long id;
	unsigned cmds;		/* commands received */
	char fail[512];		/* the first thing the fake found wrong */
};

static void
fake_fail(struct fake *f, const char *fmt, ...)
{
	va_list ap;

	if (f->fail[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(f->fail, sizeof(f->fail), fmt, ap);
	va_end(ap);
}

static void
send_text(struct fake *f, int fd, const char *text, bool bytewise)
{
	char out[16384], idtxt[32];
	const char *p = text, *m;
	size_t n = 0, i;

	snprintf(idtxt, sizeof(idtxt), "%lld", f->id);
	while ((m = strstr(p, "%ID%")) != NULL && n + (size_t)(m - p) + strlen(idtxt) <
	    sizeof(out)) {
		memcpy(out + n, p, (size_t)(m - p));
		n += (size_t)(m - p);
		memcpy(out + n, idtxt, strlen(idtxt));
		n += strlen(idtxt);
		p = m + 4;
	}
	if (n + strlen(p) >= sizeof(out)) {
		fake_fail(f, "script text too long");
		return;
	}
	memcpy(out + n, p, strlen(p));
	n += strlen(p);
	for (i = 0; i < n; i += bytewise ? 1 : n) {
		struct timespec ts = { 0, 200000 };	/* 0.2 ms: each byte its own read */

		if (send(fd, out + i, bytewise ? 1 : n, MSG_NOSIGNAL) < 0) {
			fake_fail(f, "send: %s", strerror(errno));
			return;
		}
		if (bytewise)
			nanosleep(&ts, NULL);
	}
}

/* A command line from the client: name and arguments as the script says. */
static void
expect(struct fake *f, int fd, const struct step *s)
{
	char line[4096];
	size_t n = 0;
	json_t *cmd, *want = NULL, *id;
	json_error_t je;

	while (n < sizeof(line) - 1) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 5000) != 1 || read(fd, line + n, 1) != 1) {
			fake_fail(f, "expected %s, got %s", s->text, n ? "a cut line" : "nothing");
			return;
		}
		if (line[n++] == '\n')
			break;
	}
	line[n] = '\0';
	f->cmds++;
	if ((cmd = json_loads(line, 0, &je)) == NULL) {
		fake_fail(f, "expected %s, got malformed JSON: %s", s->text, line);
		return;
	}
	id = json_object_get(cmd, "id");
	f->id = json_is_integer(id) ? (long long)json_integer_value(id) : -1;
	if (!json_is_integer(id))
		fake_fail(f, "command without an integer id: %s", line);
	if (json_object_size(cmd) != (s->args != NULL ? 3u : 2u) ||
	    !json_is_string(json_object_get(cmd, "execute")) ||
	    strcmp(json_string_value(json_object_get(cmd, "execute")), s->text) != 0)
		fake_fail(f, "expected %s, got %s", s->text, line);
	if (s->args != NULL && ((want = json_loads(s->args, 0, &je)) == NULL ||
	    !json_equal(want, json_object_get(cmd, "arguments"))))
		fake_fail(f, "expected %s with %s, got %s", s->text, s->args, line);
	json_decref(want);
	json_decref(cmd);
}

/* Wait for the client to close, for at most 5 s; with `events`, send one
 * event every 20 ms meanwhile. */
static void
until_eof(int fd, bool events)
{
	uint64_t end = now_ms() + 5000;
	char c;

	while (now_ms() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, 20) == 1 && read(fd, &c, 1) <= 0)
			return;
		if (events && send(fd, EVENT, strlen(EVENT), MSG_NOSIGNAL) < 0)
			return;
	}
}

static void *
fake_run(void *arg)
{
	struct fake *f = arg;
	const struct step *s;
	int fd;

	if ((fd = accept(f->lfd, NULL, NULL)) < 0) {
		fake_fail(f, "accept: %s", strerror(errno));
		return NULL;
	}
	for (s = f->script; s->op != OP_END && fd >= 0; s++) {
		switch (s->op) {
		case OP_SEND:
		case OP_SEND_BYTES:
			send_text(f, fd, s->text, s->op == OP_SEND_BYTES);
			break;
		case OP_EXPECT:
			expect(f, fd, s);
			break;
		case OP_EVENTS_UNTIL_EOF:
		case OP_HOLD:
			until_eof(fd, s->op == OP_EVENTS_UNTIL_EOF);
			break;
		case OP_CLOSE:
			close(fd);
			fd = -1;
			break;
		case OP_END:
			break;
		}
	}
	if (fd >= 0) {
		until_eof(fd, false);	/* the client closes first */
		close(fd);
	}
	return NULL;
}

static void
fake_start(struct fake *f, const struct step *script)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(f, 0, sizeof(*f));
	strcpy(f->dir, "/tmp/test_qmp.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/qmp.sock", f->dir);
	strcpy(sa.sun_path, f->path);
	f->script = script;
	f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(f->lfd >= 0);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(f->lfd, 1), 0);
	assert_int_equal(pthread_create(&f->th, NULL, fake_run, f), 0);
}

/* Join the fake and check that it found nothing wrong. */
static void
fake_finish(struct fake *f)
{
	assert_int_equal(pthread_join(f->th, NULL), 0);
	close(f->lfd);
	unlink(f->path);
	rmdir(f->dir);
	if (f->fail[0] != '\0')
		fail_msg("fake QEMU: %s", f->fail);
}

static struct qmp *
open_ok(struct fake *f, int timeout_ms, size_t msg_max)
{
	char why[QMP_ERR_MAX + 160] = "";
	struct qmp *q = qmp_open(f->path, timeout_ms, msg_max, why, sizeof(why));

	if (q == NULL)
		fail_msg("qmp_open: %s", why);
	return q;
}

#define NEGOTIATE { OP_SEND, GREETING, NULL }, { OP_EXPECT, "qmp_capabilities", NULL }, \
	{ OP_SEND, OK, NULL }

static void
test_greeting_and_capabilities(void **state)
{
	static const struct step script[] = { NEGOTIATE, { OP_END, NULL, NULL } };
	struct fake f;
	struct qmp *q;

	fake_start(&f, script);
	q = open_ok(&f, 2000, 0);
	assert_string_equal(qmp_version(q), "7.2.0");
	qmp_close(q);
	fake_finish(&f);
	assert_int_equal(f.cmds, 1);
}

/* Each command the backend uses goes out with its name and arguments. */
static void
test_each_command_with_its_arguments(void **state)
{
	static const struct step script[] = {
		NEGOTIATE,
		{ OP_EXPECT, "xen-set-global-dirty-log", "{\"enable\": true}" }, { OP_SEND, OK, NULL },
		{ OP_EXPECT, "stop", NULL }, { OP_SEND, OK, NULL },
		{ OP_EXPECT, "query-status", NULL },
		{ OP_SEND, "{\"return\": {\"status\": \"paused\", \"singlestep\": false, "
		  "\"running\": false}, \"id\": %ID%}\r\n", NULL },
		{ OP_EXPECT, "xen-save-devices-state",
		  "{\"filename\": \"/var/lib/xen/qemu-save.7\", \"live\": false}" },
		{ OP_SEND, OK, NULL },
		{ OP_EXPECT, "xen-save-devices-state",
		  "{\"filename\": \"/tmp/dm\", \"live\": true}" }, { OP_SEND, OK, NULL },
		{ OP_EXPECT, "xen-set-global-dirty-log", "{\"enable\": false}" },
		{ OP_SEND, OK, NULL },
		{ OP_EXPECT, "cont", NULL }, { OP_SEND, OK, NULL },
		{ OP_EXPECT, "query-status", NULL },
		{ OP_SEND, "{\"return\": {\"status\": \"running\", \"singlestep\": false, "
		  "\"running\": true}, \"id\": %ID%}\r\n", NULL },
		{ OP_EXPECT, "xen-load-devices-state", "{\"filename\": \"/var/lib/xen/qemu-resume.9\"}" },
		{ OP_SEND, OK, NULL },
		{ OP_EXPECT, "query-block", NULL },
		{ OP_SEND, "{\"return\": [{\"device\": \"ide0-hd0\"}], \"id\": %ID%}\r\n", NULL },
		{ OP_END, NULL, NULL } };
	struct fake f;
	struct qmp *q;
	char status[32];
	bool running = true;
	json_t *ret = NULL;

	fake_start(&f, script);
	q = open_ok(&f, 2000, 0);
	assert_int_equal(qmp_set_global_dirty_log(q, true), 0);
	assert_int_equal(qmp_stop(q), 0);
	assert_int_equal(qmp_query_status(q, status, sizeof(status), &running), 0);
	assert_string_equal(status, "paused");
	assert_false(running);
	assert_int_equal(qmp_save_devices_state(q, "/var/lib/xen/qemu-save.7", false), 0);
	assert_int_equal(qmp_save_devices_state(q, "/tmp/dm", true), 0);
	assert_int_equal(qmp_set_global_dirty_log(q, false), 0);
	assert_int_equal(qmp_cont(q), 0);
	assert_int_equal(qmp_query_status(q, status, sizeof(status), &running), 0);
	assert_string_equal(status, "running");
	assert_true(running);
	assert_int_equal(qmp_load_devices_state(q, "/var/lib/xen/qemu-resume.9"), 0);
	/* Any command, its return value handed back. */
	assert_int_equal(qmp_execute(q, "query-block", NULL, &ret), 0);
	assert_true(json_is_array(ret));
	assert_string_equal(json_string_value(json_object_get(json_array_get(ret, 0), "device")),
	    "ide0-hd0");
	json_decref(ret);
	qmp_close(q);
	fake_finish(&f);
	assert_int_equal(f.cmds, 11);
}

/* An error reply is one line, QEMU's class and desc; the connection
 * stays usable (it was an answer). */
static void
test_error_reply_is_one_line_and_the_connection_stays(void **state)
{
	static const struct step script[] = {
		NEGOTIATE,
		{ OP_EXPECT, "xen-save-devices-state", "{\"filename\": \"/nope/x\", \"live\": false}" },
		{ OP_SEND, "{\"id\": %ID%, \"error\": {\"class\": \"GenericError\", \"desc\": "
		  "\"Could not open '/nope/x': No such file or directory\\n\\u0007\"}}\r\n", NULL },
		{ OP_EXPECT, "cont", NULL }, { OP_SEND, OK, NULL },
		/* A command QEMU could not parse is answered without its id. */
		{ OP_EXPECT, "stop", NULL },
		{ OP_SEND, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse "
		  "error\"}}\r\n", NULL },
		{ OP_END, NULL, NULL } };
	struct fake f;
	struct qmp *q;

	fake_start(&f, script);
	q = open_ok(&f, 2000, 0);
	assert_int_equal(qmp_save_devices_state(q, "/nope/x", false), XMIG_ERR_BACKEND);
	assert_string_equal(qmp_error(q), "xen-save-devices-state: GenericError: Could not open "
	    "'/nope/x': No such file or directory??");
	assert_int_equal(qmp_cont(q), 0);
	assert_int_equal(qmp_stop(q), XMIG_ERR_BACKEND);
	assert_string_equal(qmp_error(q), "stop: GenericError: JSON parse error");
	qmp_close(q);
	fake_finish(&f);
}

/* Events before the greeting's answer and before a reply, one of them in
 * the same write as the reply, are skipped. */
static void
test_events_before_the_reply_are_skipped(void **state)
{
	static const struct step script[] = {
		{ OP_SEND, GREETING, NULL }, { OP_EXPECT, "qmp_capabilities", NULL },
		{ OP_SEND, EVENT, NULL }, { OP_SEND, OK, NULL },
		{ OP_EXPECT, "query-status", NULL },
		{ OP_SEND, EVENT EVENT, NULL },
		{ OP_SEND, "{\"event\": \"STOP\", \"timestamp\": {\"seconds\": 1, "
		  "\"microseconds\": 2}}\n{\"return\": {\"status\": \"paused\", \"running\": "
		  "false, \"singlestep\": false}, \"id\": %ID%}" EVENT, NULL },
		{ OP_EXPECT, "cont", NULL }, { OP_SEND, OK, NULL },
		{ OP_END, NULL, NULL } };
	struct fake f;
	struct qmp *q;
	char status[32];
	bool running = true;

	fake_start(&f, script);
	q = open_ok(&f, 2000, 0);
	assert_int_equal(qmp_query_status(q, status, sizeof(status), &running), 0);
	assert_string_equal(status, "paused");
	/* The event that followed the reply is read before cont's reply. */
	assert_int_equal(qmp_cont(q), 0);
	qmp_close(q);
	fake_finish(&f);
}

/* A greeting and a reply a byte per write: braces and quotes inside
 * strings do not end the message early.  (The reply ends at its brace:
 * the client closes once it has it.) */
static void
test_reply_split_across_many_reads(void **state)
{
	static const struct step script[] = {
		{ OP_SEND_BYTES, GREETING, NULL }, { OP_EXPECT, "qmp_capabilities", NULL },
		{ OP_SEND, OK, NULL },
		{ OP_EXPECT, "query-status", NULL },
		{ OP_SEND_BYTES, "  {\"return\": {\"status\": \"in}{\\\"side\", \"running\": true, "
		  "\"x\": [1, {\"y\": \"]\"}]}, \"id\": %ID%}", NULL },
		{ OP_END, NULL, NULL } };
	struct fake f;
	struct qmp *q;
	char status[32];
	bool running = false;

	fake_start(&f, script);
	q = open_ok(&f, 5000, 0);
	assert_string_equal(qmp_version(q), "7.2.0");
	assert_int_equal(qmp_query_status(q, status, sizeof(status), &running), 0);
	assert_string_equal(status, "in}{\"side");
	assert_true(running);
	qmp_close(q);
	fake_finish(&f);
}

/* A message longer than the limit is refused (not read on), and the
 * connection is then unusable. */
static void
test_oversized_reply_refused(void **state)
{
	static char big[8192];
	static struct step script[] = {
		NEGOTIATE,
		{ OP_EXPECT, "query-status", NULL }, { OP_SEND, big, NULL },
		{ OP_END, NULL, NULL } };
	struct fake f;
	struct qmp *q;
	char status[32];
	bool running;

	snprintf(big, sizeof(big), "{\"return\": {\"status\": \"%0*d\", \"running\": true}, "
	    "\"id\": %%ID%%}", 4000, 0);
	fake_start(&f, script);
	q = open_ok(&f, 2000, 1024);
	assert_int_equal(qmp_query_status(q, status, sizeof(status), &running), XMIG_ERR_TOO_LONG);
	assert_string_equal(qmp_error(q), "query-status: message longer than 1024 bytes refused");
	assert_int_equal(qmp_cont(q), XMIG_ERR_STATE);
	assert_string_equal(qmp_error(q), "cont: connection unusable after an earlier failure");
	qmp_close(q);
	fake_finish(&f);
	assert_int_equal(f.cmds, 2);	/* cont was never sent */
}

/* The same limit holds for a reply that fits only with the next message:
 * a reply of exactly msg_max bytes is taken. */
static void
test_reply_of_exactly_the_limit_is_taken(void **state)
{
	static char exact[2048];
	static struct step script[] = {
		NEGOTIATE,
		{ OP_EXPECT, "query-status", NULL }, { OP_SEND, exact, NULL },
		{ OP_END, NULL, NULL } };
	struct fake f;
	struct qmp *q;
	char status[1024];
	bool running;
	int pad;

	/* 1024 bytes once "%ID%" is the id 2 (one digit). */
	pad = 1024 - (int)strlen("{\"return\": {\"status\": \"\", \"running\": true}, \"id\": 2}");
	snprintf(exact, sizeof(exact), "{\"return\": {\"status\": \"%0*d\", \"running\": true}, "
	    "\"id\": %%ID%%}", pad, 0);
	fake_start(&f, script);
	q = open_ok(&f, 2000, 1024);
	assert_int_equal(qmp_query_status(q, status, sizeof(status), &running), 0);
	assert_int_equal(strlen(status), (size_t)pad);
	qmp_close(q);
	fake_finish(&f);
}

/* A server that never answers, or answers only with events: the call
 * ends at its deadline, and says so. */
static void
test_silent_server_times_out(void **state)
{
	static const struct step script[] = {
		NEGOTIATE, { OP_EXPECT, "stop", NULL }, { OP_HOLD, NULL, NULL },
		{ OP_END, NULL, NULL } };
	static const struct step events[] = {
		NEGOTIATE, { OP_EXPECT, "stop", NULL }, { OP_EVENTS_UNTIL_EOF, NULL, NULL },
		{ OP_END, NULL, NULL } };
	const struct step *scripts[] = { script, events };
	unsigned i;

	for (i = 0; i < 2; i++) {
		struct fake f;
		struct qmp *q;
		uint64_t t0;

		fake_start(&f, scripts[i]);
		q = open_ok(&f, 2000, 0);
		qmp_set_timeout(q, 300);
		t0 = now_ms();
		assert_int_equal(qmp_stop(q), XMIG_ERR_TIMEOUT);
		assert_true(now_ms() - t0 >= 290 && now_ms() - t0 < 2000);
		assert_string_equal(qmp_error(q), "stop: no reply within 300 ms");
		assert_int_equal(qmp_cont(q), XMIG_ERR_STATE);
		qmp_close(q);
		fake_finish(&f);
	}
}

/* No greeting at all: qmp_open gives up at its deadline. */
static void
test_open_without_greeting_times_out(void **state)
{
	static const struct step script[] = { { OP_HOLD, NULL, NULL }, { OP_END, NULL, NULL } };
	char why[QMP_ERR_MAX + 160];
	struct fake f;
	char want[256];

	fake_start(&f, script);
	assert_null(qmp_open(f.path, 200, 0, why, sizeof(why)));
	snprintf(want, sizeof(want), "QMP %s: greeting: no reply within 200 ms", f.path);
	assert_string_equal(why, want);
	fake_finish(&f);
}

static void
test_server_closes_mid_reply(void **state)
{
	static const struct step script[] = {
		NEGOTIATE, { OP_EXPECT, "query-status", NULL },
		{ OP_SEND, "{\"return\": {\"status\": \"runn", NULL }, { OP_CLOSE, NULL, NULL },
		{ OP_END, NULL, NULL } };
	struct fake f;
	struct qmp *q;
	char status[32];
	bool running;

	fake_start(&f, script);
	q = open_ok(&f, 2000, 0);
	assert_int_equal(qmp_query_status(q, status, sizeof(status), &running), XMIG_ERR_EOF);
	assert_string_equal(qmp_error(q), "query-status: QEMU closed the connection in the "
	    "middle of a message (27 bytes)");
	assert_string_equal(status, "");
	qmp_close(q);
	fake_finish(&f);
}

/* What is not QMP: no socket, a greeting of something else, a reply to
 * another command, malformed JSON, a message that is not an object. */
static void
test_not_qmp_is_refused(void **state)
{
	static const struct step not_greeting[] = {
		{ OP_SEND, "{\"hello\": 1}\r\n", NULL }, { OP_END, NULL, NULL } };
	static const struct step other_id[] = {
		NEGOTIATE, { OP_EXPECT, "stop", NULL },
		{ OP_SEND, "{\"return\": {}, \"id\": 999}\r\n", NULL }, { OP_END, NULL, NULL } };
	static const struct step bad_json[] = {
		NEGOTIATE, { OP_EXPECT, "stop", NULL },
		{ OP_SEND, "{\"return\": {}, \"id\": %ID%, }\r\n", NULL }, { OP_END, NULL, NULL } };
	static const struct step not_object[] = {
		NEGOTIATE, { OP_EXPECT, "stop", NULL },
		{ OP_SEND, "[1, 2]\r\n", NULL }, { OP_END, NULL, NULL } };
	static const struct step bad_error[] = {
		NEGOTIATE, { OP_EXPECT, "stop", NULL },
		{ OP_SEND, "{\"error\": \"no\", \"id\": %ID%}\r\n", NULL }, { OP_END, NULL, NULL } };
	static const struct {
		const struct step *script;
		const char *why;
	} cases[] = {
		{ other_id, "stop: reply with id of another command, not 2" },
		{ bad_json, "stop: malformed QMP message: " },
		{ not_object, "stop: not a QMP message (starts with 0x5b)" },
		{ bad_error, "stop: malformed error reply" },
	};
	char why[QMP_ERR_MAX + 160], want[256];
	struct fake f;
	unsigned i;

	assert_null(qmp_open("/nonexistent/qmp-libxl-1", 200, 0, why, sizeof(why)));
	assert_string_equal(why, "QMP /nonexistent/qmp-libxl-1: connect: No such file or "
	    "directory");
	fake_start(&f, not_greeting);
	assert_null(qmp_open(f.path, 1000, 0, why, sizeof(why)));
	snprintf(want, sizeof(want), "QMP %s: greeting: not a QMP greeting", f.path);
	assert_string_equal(why, want);
	fake_finish(&f);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct qmp *q;

		fake_start(&f, cases[i].script);
		q = open_ok(&f, 1000, 0);
		assert_true(qmp_stop(q) < 0);
		assert_memory_equal(qmp_error(q), cases[i].why, strlen(cases[i].why));
		assert_int_equal(qmp_cont(q), XMIG_ERR_STATE);
		qmp_close(q);
		fake_finish(&f);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_greeting_and_capabilities),
		cmocka_unit_test(test_each_command_with_its_arguments),
		cmocka_unit_test(test_error_reply_is_one_line_and_the_connection_stays),
		cmocka_unit_test(test_events_before_the_reply_are_skipped),
		cmocka_unit_test(test_reply_split_across_many_reads),
		cmocka_unit_test(test_oversized_reply_refused),
		cmocka_unit_test(test_reply_of_exactly_the_limit_is_taken),
		cmocka_unit_test(test_silent_server_times_out),
		cmocka_unit_test(test_open_without_greeting_times_out),
		cmocka_unit_test(test_server_closes_mid_reply),
		cmocka_unit_test(test_not_qmp_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
