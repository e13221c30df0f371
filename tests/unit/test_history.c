/* test_history.c - job records (xmigd/store/history.c): a job that ends leaves
 * exactly one record with its final figures, running jobs leave none, the
 * list is oldest first and bounded, damaged files are skipped, and the
 * oldest records go beyond HISTORY_KEEP. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/history.h"
#include "store/jobs.h"
#include "log.h"

static char state_dir[64];

static unsigned
count_records(void)
{
	char path[128];
	struct dirent *de;
	unsigned n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/jobs", state_dir);
	assert_non_null(d = opendir(path));
	while ((de = readdir(d)) != NULL)
		if (strstr(de->d_name, ".json") != NULL)
			n++;
	closedir(d);
	return n;
}

static int
setup(void **state)
{
	char err[256];

	/* tmpfs when there is one: the test writes (and fsyncs) 1000 records */
	snprintf(state_dir, sizeof(state_dir), "/dev/shm/xmig-history.XXXXXX");
	if (mkdtemp(state_dir) == NULL) {
		snprintf(state_dir, sizeof(state_dir), "/tmp/xmig-history.XXXXXX");
		assert_non_null(mkdtemp(state_dir));
	}
	jobs_init();
	assert_int_equal(history_init(state_dir, err, sizeof(err)), 0);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	jobs_trim(0);	/* every test's jobs have ended: free them */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", state_dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void
finished_job(const char *domain, enum job_state end, uint64_t started)
{
	struct job *j = job_new(false);

	assert_non_null(j);
	snprintf(j->domain, sizeof(j->domain), "%s", domain);
	snprintf(j->peer, sizeof(j->peer), "10.0.0.2:8002");
	j->started_wall_ms = started;
	j->bytes_sent = 123456;
	j->downtime_ms = 42;
	assert_true(job_set_state(j, JOB_CONNECTING, JOB_PRECOPY));
	if (end == JOB_FAILED)
		job_set_error(j, "connection refused by %s", "10.0.0.2");
	assert_true(job_set_state(j, -1, end));
	job_thread_exit(j);	/* as the engine thread does: trimmable now */
}

static void
test_finished_job_leaves_one_record_with_final_figures(void **state)
{
	struct job *j = job_new(false);
	json_t *a, *o;

	assert_non_null(j);
	assert_true(job_set_state(j, JOB_CONNECTING, JOB_PRECOPY));
	assert_int_equal(count_records(), 0);	/* not finished: no record */
	assert_false(job_set_state(j, JOB_CONNECTING, JOB_DONE));
	assert_int_equal(count_records(), 0);
	finished_job("vm1", JOB_DONE, 1700000000000ULL);
	finished_job("vm2", JOB_FAILED, 1700000001000ULL);
	assert_int_equal(count_records(), 2);
	assert_non_null(a = history_list(50));
	assert_int_equal(json_array_size(a), 2);
	o = json_array_get(a, 0);
	assert_string_equal(json_string_value(json_object_get(o, "domain")), "vm1");
	assert_string_equal(json_string_value(json_object_get(o, "result")), "success");
	assert_int_equal(json_integer_value(json_object_get(o, "bytes_sent")), 123456);
	assert_int_equal(json_integer_value(json_object_get(o, "downtime_ms")), 42);
	o = json_array_get(a, 1);
	assert_string_equal(json_string_value(json_object_get(o, "result")), "failed");
	assert_string_equal(json_string_value(json_object_get(o, "error")),
	    "connection refused by 10.0.0.2");
	json_decref(a);
	/* the first job ends now, cancelled: its record; a later change is
	 * refused and writes nothing */
	assert_true(job_set_state(j, -1, JOB_CANCELLED));
	assert_int_equal(count_records(), 3);
	assert_false(job_set_state(j, -1, JOB_FAILED));
	assert_int_equal(count_records(), 3);
	job_thread_exit(j);
}

static void
test_list_is_oldest_first_bounded_and_skips_damaged_files(void **state)
{
	char path[128];
	json_t *a;
	FILE *f;
	int i;

	for (i = 0; i < 5; i++) {
		char name[16];

		snprintf(name, sizeof(name), "d%d", i);
		finished_job(name, JOB_DONE, 1700000000000ULL + (uint64_t)(4 - i) * 1000);
	}
	snprintf(path, sizeof(path), "%s/jobs/1600000000000-9.json", state_dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("{\"domain\": ", f);	/* cut short */
	fclose(f);
	assert_non_null(a = history_list(3));
	assert_int_equal(json_array_size(a), 3);
	/* by start time, not by job id: d4 started first */
	assert_string_equal(json_string_value(json_object_get(json_array_get(a, 0), "domain")),
	    "d2");
	assert_string_equal(json_string_value(json_object_get(json_array_get(a, 2), "domain")),
	    "d0");
	json_decref(a);
	assert_non_null(a = history_list(100));
	assert_int_equal(json_array_size(a), 5);	/* the damaged file is skipped */
	json_decref(a);
}

static void
test_oldest_records_go_beyond_keep(void **state)
{
	json_t *a;
	unsigned i;

	for (i = 0; i < HISTORY_KEEP + 3; i++) {
		finished_job("vm", JOB_DONE, 1700000000000ULL + i);
		if (i % 100 == 0)
			jobs_trim(8);
	}
	assert_int_equal(count_records(), HISTORY_KEEP);
	assert_non_null(a = history_list(1));
	assert_int_equal(json_integer_value(json_object_get(json_array_get(a, 0), "started")),
	    1700000000000LL + HISTORY_KEEP + 2);
	json_decref(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_finished_job_leaves_one_record_with_final_figures,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_is_oldest_first_bounded_and_skips_damaged_files,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_oldest_records_go_beyond_keep, setup, teardown),
	};

	log_init("test_history", false, LOG_LVL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
