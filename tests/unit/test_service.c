/* test_service.c - service manager integration (xmigd/service.c): the
 * datagram reaches a path socket and an abstract one exactly as systemd
 * reads it, and nothing is sent without $NOTIFY_SOCKET. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "service.h"
#include "xerr.h"

/* A datagram socket bound to name ("@..." abstract); returns the fd. */
static int
listener(const char *name)
{
	struct sockaddr_un sa;
	size_t n = strlen(name);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, name, n);
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	assert_int_equal(bind(fd, (struct sockaddr *)&sa,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (name[0] == '/'))), 0);
	return fd;
}

static void
expect_datagram(int fd, const char *want)
{
	char buf[256];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	assert_true(n >= 0);
	buf[n] = '\0';
	assert_string_equal(buf, want);
}

static void
test_ready_reaches_path_socket(void **state)
{
	char dir[] = "/tmp/xmig-sdnotify.XXXXXX", path[128];
	int fd;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/notify", dir);
	fd = listener(path);
	setenv("NOTIFY_SOCKET", path, 1);
	assert_int_equal(service_notify("READY=1"), 1);
	expect_datagram(fd, "READY=1");
	assert_int_equal(service_notify("STOPPING=1"), 1);
	expect_datagram(fd, "STOPPING=1");
	close(fd);
	unlink(path);
	rmdir(dir);
	unsetenv("NOTIFY_SOCKET");
}

static void
test_ready_reaches_abstract_socket(void **state)
{
	char name[64];
	int fd;

	snprintf(name, sizeof(name), "@xmig-test-notify-%d", (int)getpid());
	fd = listener(name);
	setenv("NOTIFY_SOCKET", name, 1);
	assert_int_equal(service_notify("READY=1"), 1);
	expect_datagram(fd, "READY=1");
	close(fd);
	unsetenv("NOTIFY_SOCKET");
}

static void
test_no_variable_sends_nothing_and_bad_values_fail(void **state)
{
	char longname[200];

	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(service_notify("READY=1"), 0);
	setenv("NOTIFY_SOCKET", "", 1);
	assert_int_equal(service_notify("READY=1"), 0);
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	assert_int_equal(service_notify("READY=1"), XMIG_ERR_INVALID);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[0] = '/';
	longname[sizeof(longname) - 1] = '\0';
	setenv("NOTIFY_SOCKET", longname, 1);
	assert_int_equal(service_notify("READY=1"), XMIG_ERR_INVALID);
	/* nobody listening: an error, not a hang or a crash */
	setenv("NOTIFY_SOCKET", "/nonexistent/xmig/notify", 1);
	assert_int_equal(service_notify("READY=1"), XMIG_ERR_SYSTEM);
	unsetenv("NOTIFY_SOCKET");
}

static void
test_journal_stream_matches_only_stderr(void **state)
{
	char buf[64];
	int saved = dup(STDERR_FILENO), fd;

	assert_true(saved >= 0);
	assert_true((fd = open("/dev/null", O_WRONLY)) >= 0);
	assert_true(dup2(fd, STDERR_FILENO) >= 0);
	unsetenv("JOURNAL_STREAM");
	assert_false(service_stderr_is_journal());
	setenv("JOURNAL_STREAM", "1:2", 1);
	assert_false(service_stderr_is_journal());
	{
		struct stat st;

		assert_int_equal(fstat(STDERR_FILENO, &st), 0);
		snprintf(buf, sizeof(buf), "%llu:%llu", (unsigned long long)st.st_dev,
		    (unsigned long long)st.st_ino);
	}
	setenv("JOURNAL_STREAM", buf, 1);
	assert_true(service_stderr_is_journal());
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fd);
	assert_false(service_stderr_is_journal());	/* stderr is something else again */
	unsetenv("JOURNAL_STREAM");
}

static void
test_pidfile_holds_our_pid_and_replaces_old_one(void **state)
{
	char dir[] = "/tmp/xmig-pidfile.XXXXXX", path[128], buf[64];
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/xmigd.pid", dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("999999999 stale\n", f);
	fclose(f);
	assert_int_equal(service_write_pidfile(path), 0);
	assert_non_null(f = fopen(path, "r"));
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_int_equal(strtol(buf, NULL, 10), (long)getpid());
	assert_string_equal(strchr(buf, '\n'), "\n");
	unlink(path);
	rmdir(dir);
	/* a directory that does not exist: an error with errno, nothing left */
	assert_int_equal(service_write_pidfile("/nonexistent/xmig/xmigd.pid"), XMIG_ERR_SYSTEM);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ready_reaches_path_socket),
		cmocka_unit_test(test_ready_reaches_abstract_socket),
		cmocka_unit_test(test_no_variable_sends_nothing_and_bad_values_fail),
		cmocka_unit_test(test_journal_stream_matches_only_stderr),
		cmocka_unit_test(test_pidfile_holds_our_pid_and_replaces_old_one),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
