/* test_ctl.c - control messages: framing, limits, timeouts, the socket file. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "ctl.h"
#include "util.h"
#include "xerr.h"

static void
pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
}

static void
raw_write(int fd, const void *p, size_t n)
{
	assert_int_equal(write(fd, p, n), (ssize_t)n);
}

static void
raw_header(int fd, uint32_t len)
{
	uint8_t h[4] = { (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
		(uint8_t)len };

	raw_write(fd, h, 4);
}

/* A whole frame with arbitrary bytes as the body. */
static void
raw_frame(int fd, const char *body)
{
	raw_header(fd, (uint32_t)strlen(body));
	raw_write(fd, body, strlen(body));
}

static void
test_messages_round_trip_over_socketpair(void **state)
{
	const char *texts[] = {
		"{\"cmd\":\"status\"}",
		"{\"ok\":true,\"domains\":[{\"id\":1,\"name\":\"vm1\",\"memory_bytes\":1073741824}]}",
		"{\"ok\":false,\"error\":\"no domain 'v\\u00e9' on this host\"}",
		"{}",
	};
	size_t i;
	int sv[2];

	pair(sv);
	/* All sent before any is read: messages must not run into each other. */
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		json_t *m = json_loads(texts[i], 0, NULL);

		assert_non_null(m);
		assert_int_equal(ctl_send(sv[0], m), 0);
		json_decref(m);
	}
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		json_t *want = json_loads(texts[i], 0, NULL), *got = NULL;

		assert_int_equal(ctl_recv(sv[1], &got, 1000), 0);
		assert_true(json_equal(want, got));
		json_decref(want);
		json_decref(got);
	}
	close(sv[0]);
	{
		json_t *got = (json_t *)1;

		assert_int_equal(ctl_recv(sv[1], &got, 1000), XMIG_ERR_EOF);
		assert_null(got);
	}
	close(sv[1]);
}

struct big_send {
	int fd;
	json_t *msg;
	int r;
};

static void *
big_sender(void *arg)
{
	struct big_send *b = arg;

	b->r = ctl_send(b->fd, b->msg);
	return NULL;
}

static void
test_message_bigger_than_socket_buffer_survives_short_io(void **state)
{
	size_t n = CTL_MSG_MAX - 64;
	char *s = malloc(n + 1);
	struct big_send b;
	json_t *got = NULL;
	pthread_t t;
	int sv[2], small = 4096;

	assert_non_null(s);
	memset(s, 'x', n);
	s[n] = '\0';
	pair(sv);
	/* Tiny buffers force many partial sends and receives. */
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	b.fd = sv[0];
	b.msg = json_pack("{s:s}", "blob", s);
	assert_non_null(b.msg);
	assert_int_equal(pthread_create(&t, NULL, big_sender, &b), 0);
	assert_int_equal(ctl_recv(sv[1], &got, 10000), 0);
	pthread_join(t, NULL);
	assert_int_equal(b.r, 0);
	assert_string_equal(json_string_value(json_object_get(got, "blob")), s);
	json_decref(got);
	json_decref(b.msg);
	free(s);
	close(sv[0]);
	close(sv[1]);
}

static void
test_send_refuses_non_objects_and_oversized_messages(void **state)
{
	size_t n = CTL_MSG_MAX;
	char *s = malloc(n + 1);
	json_t *arr = json_array(), *big;
	int sv[2];

	assert_non_null(s);
	memset(s, 'y', n);
	s[n] = '\0';
	big = json_pack("{s:s}", "blob", s);
	pair(sv);
	assert_int_equal(ctl_send(sv[0], NULL), XMIG_ERR_INVALID);
	assert_int_equal(ctl_send(sv[0], arr), XMIG_ERR_INVALID);
	assert_int_equal(ctl_send(sv[0], big), XMIG_ERR_TOO_LONG);
	/* Nothing reached the peer. */
	{
		json_t *got = NULL;

		assert_int_equal(ctl_recv(sv[1], &got, 0), XMIG_ERR_TIMEOUT);
		assert_null(got);
	}
	json_decref(arr);
	json_decref(big);
	free(s);
	close(sv[0]);
	close(sv[1]);
}

/* The length is checked before the body is read or memory allocated for
 * it: with no body in the socket and no timeout, a receiver that went on
 * would block instead of returning. */
static void
test_length_over_max_is_refused_without_allocating(void **state)
{
	const uint32_t lens[] = { CTL_MSG_MAX + 1, 0xffffffffu };
	size_t i;

	for (i = 0; i < 2; i++) {
		json_t *got = NULL;
		uint64_t t0 = now_ms();
		int sv[2];

		pair(sv);
		raw_header(sv[0], lens[i]);
		assert_int_equal(ctl_recv(sv[1], &got, 5000), XMIG_ERR_TOO_LONG);
		assert_null(got);
		assert_true(now_ms() - t0 < 1000);
		close(sv[0]);
		close(sv[1]);
	}
}

static void
test_length_of_exactly_max_is_accepted(void **state)
{
	/* {"b":"..."} filling CTL_MSG_MAX bytes exactly. */
	size_t n = CTL_MSG_MAX;
	char *body = malloc(n + 1);
	struct big_send b = { .r = 0 };
	json_t *got = NULL;
	pthread_t t;
	int sv[2];

	assert_non_null(body);
	memcpy(body, "{\"b\":\"", 6);
	memset(body + 6, 'z', n - 8);
	memcpy(body + n - 2, "\"}", 3);
	b.msg = json_loads(body, 0, NULL);
	assert_non_null(b.msg);
	pair(sv);
	b.fd = sv[0];
	assert_int_equal(pthread_create(&t, NULL, big_sender, &b), 0);
	assert_int_equal(ctl_recv(sv[1], &got, 10000), 0);
	pthread_join(t, NULL);
	assert_int_equal(b.r, 0);
	assert_int_equal(strlen(json_string_value(json_object_get(got, "b"))), n - 8);
	json_decref(got);
	json_decref(b.msg);
	free(body);
	close(sv[0]);
	close(sv[1]);
}

static void
test_truncated_message_is_an_error(void **state)
{
	json_t *got = NULL;
	int sv[2];

	/* Body cut short by a close. */
	pair(sv);
	raw_header(sv[0], 100);
	raw_write(sv[0], "{\"cmd\":", 7);
	close(sv[0]);
	assert_int_equal(ctl_recv(sv[1], &got, 1000), XMIG_ERR_TRUNCATED);
	assert_null(got);
	close(sv[1]);

	/* Header cut short: not a clean end of stream either. */
	pair(sv);
	raw_write(sv[0], "\0\0", 2);
	close(sv[0]);
	assert_int_equal(ctl_recv(sv[1], &got, 1000), XMIG_ERR_TRUNCATED);
	close(sv[1]);
}

static void
test_non_object_or_bad_json_is_an_error(void **state)
{
	const char *bodies[] = { "[1,2]", "\"text\"", "42", "null", "{\"a\":", "{} trailing",
		"{\"a\":1,\"a\":2}", "{\"a\":\"nul\\u0000\"}", "\xff\xfe" };
	size_t i;

	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		json_t *got = NULL;
		int sv[2];

		pair(sv);
		raw_frame(sv[0], bodies[i]);
		assert_int_equal(ctl_recv(sv[1], &got, 1000), XMIG_ERR_INVALID);
		assert_null(got);
		close(sv[0]);
		close(sv[1]);
	}
	{
		/* An empty message is no object either. */
		json_t *got = NULL;
		int sv[2];

		pair(sv);
		raw_header(sv[0], 0);
		assert_int_equal(ctl_recv(sv[1], &got, 1000), XMIG_ERR_INVALID);
		close(sv[0]);
		close(sv[1]);
	}
}

static void
test_timeout_is_honoured(void **state)
{
	json_t *got = NULL;
	uint64_t t0, dt;
	int sv[2];

	pair(sv);
	t0 = now_ms();
	assert_int_equal(ctl_recv(sv[1], &got, 150), XMIG_ERR_TIMEOUT);
	dt = now_ms() - t0;
	assert_true(dt >= 140 && dt < 2000);
	assert_null(got);

	/* The timeout covers the whole message, not each read. */
	raw_header(sv[0], 50);
	raw_write(sv[0], "{", 1);
	t0 = now_ms();
	assert_int_equal(ctl_recv(sv[1], &got, 150), XMIG_ERR_TIMEOUT);
	dt = now_ms() - t0;
	assert_true(dt >= 140 && dt < 2000);

	/* 0 is a poll, not "forever". */
	close(sv[0]);
	close(sv[1]);
	pair(sv);
	assert_int_equal(ctl_recv(sv[1], &got, 0), XMIG_ERR_TIMEOUT);
	close(sv[0]);
	close(sv[1]);
}

static void
on_alarm(int sig)
{
	(void)sig;
}

struct delayed {
	int fd;
	int r;
};

static void *
delayed_sender(void *arg)
{
	struct delayed *d = arg;
	json_t *m = json_pack("{s:s}", "event", "done");

	usleep(200 * 1000);
	d->r = ctl_send(d->fd, m);
	json_decref(m);
	return NULL;
}

static void
test_signals_do_not_break_a_wait(void **state)
{
	struct itimerval it = { { 0, 10000 }, { 0, 10000 } }, off = { { 0, 0 }, { 0, 0 } };
	struct sigaction sa, old;
	sigset_t block;
	struct delayed d = { .r = -99 };
	json_t *got = NULL;
	pthread_t t;
	int sv[2];

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;	/* no SA_RESTART: poll() sees EINTR */
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGALRM, &sa, &old), 0);
	pair(sv);
	d.fd = sv[0];
	/* The sender thread inherits a blocked SIGALRM, so every alarm
	 * interrupts the receiver. */
	sigemptyset(&block);
	sigaddset(&block, SIGALRM);
	pthread_sigmask(SIG_BLOCK, &block, NULL);
	assert_int_equal(pthread_create(&t, NULL, delayed_sender, &d), 0);
	pthread_sigmask(SIG_UNBLOCK, &block, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	assert_int_equal(ctl_recv(sv[1], &got, 5000), 0);
	setitimer(ITIMER_REAL, &off, NULL);
	pthread_join(t, NULL);
	sigaction(SIGALRM, &old, NULL);
	assert_int_equal(d.r, 0);
	assert_string_equal(json_string_value(json_object_get(got, "event")), "done");
	json_decref(got);
	close(sv[0]);
	close(sv[1]);
}

static void
test_send_to_closed_peer_fails_without_sigpipe(void **state)
{
	json_t *m = json_pack("{s:s}", "cmd", "status");
	int sv[2];

	pair(sv);
	close(sv[1]);
	/* SIGPIPE would kill the test; MSG_NOSIGNAL makes it EPIPE. */
	errno = 0;
	assert_int_equal(ctl_send(sv[0], m), XMIG_ERR_SYSTEM);
	assert_int_equal(errno, EPIPE);
	json_decref(m);
	close(sv[0]);
}

/* A private directory for socket files, removed by the test. */
static char *
tmpdir(void)
{
	char *d = strdup("/tmp/xmig-test-ctl.XXXXXX");

	assert_non_null(d);
	assert_non_null(mkdtemp(d));
	return d;
}

static void
sock_path(char *buf, size_t n, const char *dir)
{
	snprintf(buf, n, "%s/ctl.sock", dir);
}

static void
test_listen_and_connect_on_temp_path_with_mode_0600(void **state)
{
	char *dir = tmpdir(), path[256];
	json_t *m = json_pack("{s:s}", "cmd", "list"), *got = NULL;
	struct stat st;
	int lfd, cfd, afd;

	sock_path(path, sizeof(path), dir);
	lfd = ctl_listen(path, 0600);
	assert_true(lfd >= 0);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);

	cfd = ctl_connect(path);
	assert_true(cfd >= 0);
	afd = accept(lfd, NULL, NULL);
	assert_true(afd >= 0);
	assert_int_equal(ctl_send(cfd, m), 0);
	assert_int_equal(ctl_recv(afd, &got, 1000), 0);
	assert_true(json_equal(m, got));
	json_decref(m);
	json_decref(got);
	close(afd);
	close(cfd);
	close(lfd);

	/* Another mode is honoured too (the umask does not get a say). */
	unlink(path);
	lfd = ctl_listen(path, 0660);
	assert_true(lfd >= 0);
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0660);
	close(lfd);
	unlink(path);
	rmdir(dir);
	free(dir);
}

/* A socket file nobody listens on, as a crashed daemon leaves behind. */
static void
make_stale_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
}

static void
test_connect_without_daemon_keeps_errno(void **state)
{
	char *dir = tmpdir(), path[256], longp[200];

	sock_path(path, sizeof(path), dir);
	errno = 0;
	assert_int_equal(ctl_connect(path), XMIG_ERR_SYSTEM);
	assert_int_equal(errno, ENOENT);

	make_stale_socket(path);
	errno = 0;
	assert_int_equal(ctl_connect(path), XMIG_ERR_SYSTEM);
	assert_int_equal(errno, ECONNREFUSED);

	/* A path too long for sun_path is not silently cut. */
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	errno = 0;
	assert_int_equal(ctl_connect(longp), XMIG_ERR_SYSTEM);
	assert_int_equal(errno, ENAMETOOLONG);
	unlink(path);
	rmdir(dir);
	free(dir);
}

static void
test_listen_replaces_only_a_stale_socket(void **state)
{
	char *dir = tmpdir(), path[256];
	struct stat st;
	FILE *f;
	int lfd, lfd2;

	sock_path(path, sizeof(path), dir);
	/* A stale socket is replaced. */
	make_stale_socket(path);
	lfd = ctl_listen(path, 0600);
	assert_true(lfd >= 0);

	/* A live one is not: a second daemon must not steal the first's. */
	errno = 0;
	lfd2 = ctl_listen(path, 0600);
	assert_int_equal(lfd2, XMIG_ERR_SYSTEM);
	assert_int_equal(errno, EADDRINUSE);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	close(lfd);
	unlink(path);

	/* Nor is a file that is not a socket. */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("precious\n", f);
	fclose(f);
	errno = 0;
	assert_int_equal(ctl_listen(path, 0600), XMIG_ERR_SYSTEM);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_size, 9);
	unlink(path);
	rmdir(dir);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_messages_round_trip_over_socketpair),
		cmocka_unit_test(test_message_bigger_than_socket_buffer_survives_short_io),
		cmocka_unit_test(test_send_refuses_non_objects_and_oversized_messages),
		cmocka_unit_test(test_length_over_max_is_refused_without_allocating),
		cmocka_unit_test(test_length_of_exactly_max_is_accepted),
		cmocka_unit_test(test_truncated_message_is_an_error),
		cmocka_unit_test(test_non_object_or_bad_json_is_an_error),
		cmocka_unit_test(test_timeout_is_honoured),
		cmocka_unit_test(test_signals_do_not_break_a_wait),
		cmocka_unit_test(test_send_to_closed_peer_fails_without_sigpipe),
		cmocka_unit_test(test_listen_and_connect_on_temp_path_with_mode_0600),
		cmocka_unit_test(test_connect_without_daemon_keeps_errno),
		cmocka_unit_test(test_listen_replaces_only_a_stale_socket),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
