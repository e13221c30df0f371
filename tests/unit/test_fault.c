/* test_fault.c - fault points armed by a file (fault_armed): one failure
 * for the one operation a test chooses, in a daemon that runs on. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "fault.h"

static char dir[64];

static void
arm(const char *point)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, point);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	close(fd);
}

static bool
armed_file(const char *point)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, point);
	return access(path, F_OK) == 0;
}

static void
test_named_point_fires_once_per_arming(void **state)
{
	assert_false(fault_armed("xen-fail-after-suspend"));	/* not armed */
	arm("xen-fail-after-suspend");
	assert_true(fault_armed("xen-fail-after-suspend"));
	assert_false(armed_file("xen-fail-after-suspend"));	/* disarmed */
	assert_false(fault_armed("xen-fail-after-suspend"));
	arm("xen-fail-after-suspend");
	assert_true(fault_armed("xen-fail-after-suspend"));
}

static void
test_point_not_named_ignores_its_file(void **state)
{
	arm("send-exit-after-go");
	assert_false(fault_armed("send-exit-after-go"));
	assert_true(armed_file("send-exit-after-go"));	/* left alone */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_named_point_fires_once_per_arming),
		cmocka_unit_test(test_point_not_named_ignores_its_file),
	};
	char cmd[96];
	int r;

	snprintf(dir, sizeof(dir), "/tmp/xmig-test-fault-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	setenv("XMIG_FAULT", "recv-no-done,xen-fail-after-suspend", 1);
	setenv("XMIG_FAULT_DIR", dir, 1);
	r = cmocka_run_group_tests(tests, NULL, NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	return r;
}
