/* test_jobs.c - the job table: references, 64-bit ids, JSON of peer text.
 *
 * Run under SAN=1 these also prove the memory side: a held job read after
 * jobs_trim() would be a use-after-free, a missing last free a leak.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "store/history.h"
#include "store/jobs.h"
#include "log.h"
#include "util.h"

/* A job as an engine thread leaves it: ended, its thread gone. */
static uint64_t
ended_job(bool incoming)
{
	struct job *j = job_new(incoming);
	uint64_t id;

	assert_non_null(j);
	id = j->id;
	assert_true(job_set_state(j, -1, JOB_FAILED));
	job_thread_exit(j);
	return id;
}

static void
test_held_job_outlives_trim(void **state)
{
	struct job *j = job_new(true), *held;
	uint64_t id;

	assert_non_null(j);
	id = j->id;
	/* a control client looks the job up and watches it */
	assert_non_null(held = job_get(id));
	assert_ptr_equal(held, j);
	job_set_error(j, "refused");
	assert_true(job_set_state(j, -1, JOB_FAILED));
	job_thread_exit(j);
	/* the main loop trims: unlisted, not freed */
	jobs_trim(0);
	assert_null(job_get(id));
	job_lock();
	assert_true(job_finished(held));
	job_unlock();
	json_decref(job_to_json(held));
	assert_string_equal(held->error, "refused");
	job_put(held);	/* the last reference: freed here (LeakSanitizer checks) */
	job_put(NULL);	/* ignored */
}

static void
test_trim_keeps_running_jobs_and_the_most_recent_finished(void **state)
{
	struct job *running = job_new(false), *g;
	uint64_t a, b, c;
	bool done;

	assert_non_null(running);
	a = ended_job(false);
	b = ended_job(false);
	c = ended_job(true);
	jobs_trim(2);
	assert_null(job_get(a));
	assert_non_null(g = job_get(b));
	job_put(g);
	assert_non_null(g = job_get(c));
	job_put(g);
	/* a job whose thread still runs is never trimmed, finished or not */
	assert_true(job_set_state(running, -1, JOB_CANCELLED));
	jobs_trim(0);
	assert_non_null(g = job_get(running->id));
	job_lock();
	done = g->thread_done;
	job_unlock();
	assert_false(done);	/* its thread still runs */
	job_put(g);
	job_thread_exit(running);
	jobs_trim(0);
}

static void
test_ids_are_64_bit_and_not_cut_to_32(void **state)
{
	struct job *j = job_new(false), *g;

	assert_non_null(j);
	assert_null(job_get(j->id + (UINT64_C(1) << 32)));
	assert_null(job_get(UINT64_MAX));
	assert_non_null(g = job_get(j->id));
	job_put(g);
	assert_true(job_set_state(j, -1, JOB_FAILED));
	job_thread_exit(j);
	jobs_trim(0);
}

static void
test_job_to_json_of_invalid_peer_text_succeeds(void **state)
{
	struct job *j = job_new(true);
	json_t *o, *a;
	size_t i, n;

	assert_non_null(j);
	/* as an engine would quote a hostile peer's ABORT reason */
	job_set_error(j, "sender aborted: %s", "\xff\xfe no \xc3\xa9\x1b[31m \xc3");
	assert_string_equal(j->error, "sender aborted: ?? no \xc3\xa9?[31m ?");
	/* a field set past the checks: job_to_json still yields the job */
	job_lock();
	strcpy(j->domain, "vm\xff");
	strcpy(j->peer, "10.0.0.9:8002\xc0\xaf");
	job_unlock();
	assert_non_null(o = job_to_json(j));
	assert_string_equal(json_string_value(json_object_get(o, "error")),
	    "sender aborted: ?? no \xc3\xa9?[31m ?");
	assert_string_equal(json_string_value(json_object_get(o, "domain")), "vm?");
	assert_string_equal(json_string_value(json_object_get(o, "peer")), "10.0.0.9:8002??");
	json_decref(o);
	/* and it stays in 'xmig jobs' */
	assert_non_null(a = jobs_to_json());
	n = 0;
	for (i = 0; i < json_array_size(a); i++)
		if (json_is_object(json_array_get(a, i)) &&
		    (uint64_t)json_integer_value(json_object_get(json_array_get(a, i), "id")) == j->id)
			n++;
	assert_int_equal(n, 1);
	json_decref(a);
	assert_true(job_set_state(j, -1, JOB_FAILED));
	job_thread_exit(j);
	jobs_trim(0);
}

static void
test_long_error_is_cut_at_a_character_boundary(void **state)
{
	char text[1200];
	struct job *j = job_new(false);
	json_t *o;
	size_t i, len;

	assert_non_null(j);
	/* 'x' then 2-byte characters: the 511-byte limit falls inside one */
	text[0] = 'x';
	for (i = 1; i + 2 < sizeof(text); i += 2)
		memcpy(text + i, "\xc3\xa9", 2);
	text[i] = '\0';
	job_set_error(j, "%s", text);
	len = strlen(j->error);
	assert_true(len < sizeof(j->error));
	assert_true(len >= sizeof(j->error) - 4);
	assert_true(len % 2 == 1);	/* 'x' and whole characters only */
	assert_true(utf8_valid(j->error));
	assert_non_null(o = job_to_json(j));
	json_decref(o);
	assert_true(job_set_state(j, -1, JOB_FAILED));
	job_thread_exit(j);
	jobs_trim(0);
}

/* A job of very many rounds keeps JOB_ROUNDS_KEPT records: the first
 * half and the latest, in order; its record stays small enough for history
 * (HISTORY_RECORD_MAX). */
static void
test_round_records_are_bounded_first_and_latest_kept(void **state)
{
	struct job *j = job_new(false);
	struct job_round r = { .pages = 1, .bytes = 4096, .dirty = 1, .ms = 1 };
	unsigned i;
	json_t *o, *rounds;
	char *text;

	assert_non_null(j);
	job_lock();
	for (i = 0; i < 3 * JOB_ROUNDS_KEPT + 7; i++) {
		r.round = i;
		job_add_round_locked(j, &r);
	}
	job_unlock();
	assert_int_equal(j->nrounds, JOB_ROUNDS_KEPT);
	assert_int_equal(j->rounds[0].round, 0);
	assert_int_equal(j->rounds[JOB_ROUNDS_KEPT / 2 - 1].round, JOB_ROUNDS_KEPT / 2 - 1);
	/* the recent half: consecutive, ending with the last round added */
	for (i = JOB_ROUNDS_KEPT / 2; i < JOB_ROUNDS_KEPT; i++)
		assert_int_equal(j->rounds[i].round,
		    3 * JOB_ROUNDS_KEPT + 7 - JOB_ROUNDS_KEPT + i);
	assert_non_null(o = job_to_json(j));
	assert_non_null(rounds = json_object_get(o, "rounds"));
	assert_int_equal(json_array_size(rounds), JOB_ROUNDS_KEPT);
	assert_non_null(text = json_dumps(o, JSON_COMPACT));
	assert_true(strlen(text) < HISTORY_RECORD_MAX);
	free(text);
	json_decref(o);
	assert_true(job_set_state(j, -1, JOB_FAILED));
	job_thread_exit(j);
	jobs_trim(0);
}

/* The phases add up to the time from start to DONE, split where the
 * moments say, with the receiver's unpause taken out of the commit (and
 * never more than all of it). */
static void
test_phases_add_up_and_split_the_downtime(void **state)
{
	struct job j;
	struct ctl_phases ph;
	const uint64_t t0 = 1000000000ull;	/* us */

	memset(&j, 0, sizeof(j));
	j.t_start_us = t0;
	j.t_prepare_us = t0 + 2400;		/* connect 2 */
	j.t_stream_us = t0 + 5100;		/* build 3 (5 - 2) */
	j.t_suspend_us = t0 + 905000;		/* precopy 900 */
	j.t_pause_us = t0 + 907900;		/* suspend 2 */
	j.t_end_us = t0 + 920000;		/* final round 13 */
	j.t_built_us = t0 + 931000;		/* restore 11 */
	j.t_quiesced_us = t0 + 935500;		/* devices 4 */
	j.t_done_us = t0 + 950000;		/* commit + unpause 15 */
	j.unpause_us = 6000;
	job_phases(&j, &ph);
	assert_int_equal(ph.connect_ms, 2);
	assert_int_equal(ph.destination_build_ms, 3);
	assert_int_equal(ph.precopy_ms, 900);
	assert_int_equal(ph.suspend_ms, 2);
	assert_int_equal(ph.final_round_ms, 13);
	assert_int_equal(ph.restore_ms, 11);
	assert_int_equal(ph.devices_ms, 4);
	assert_int_equal(ph.commit_ms, 9);
	assert_int_equal(ph.unpause_ms, 6);
	assert_int_equal(ph.connect_ms + ph.destination_build_ms + ph.precopy_ms +
	    ph.suspend_ms + ph.final_round_ms + ph.restore_ms + ph.devices_ms +
	    ph.commit_ms + ph.unpause_ms, 950);
	/* an unpause longer than the whole commit (another host's clock) */
	j.unpause_us = 60000;
	job_phases(&j, &ph);
	assert_int_equal(ph.commit_ms, 0);
	assert_int_equal(ph.unpause_ms, 15);
	/* an older receiver (no unpause), no quiesce, a backend that never
	 * said it was about to suspend: their time goes to the phase before */
	j.unpause_us = 0;
	j.t_quiesced_us = 0;
	j.t_suspend_us = 0;
	job_phases(&j, &ph);
	assert_int_equal(ph.precopy_ms, 902);
	assert_int_equal(ph.suspend_ms, 0);
	assert_int_equal(ph.devices_ms, 0);
	assert_int_equal(ph.commit_ms, 19);
	assert_int_equal(ph.unpause_ms, 0);
	/* offline: suspended before the stream began */
	memset(&j, 0, sizeof(j));
	j.t_start_us = t0;
	j.t_prepare_us = t0 + 1000;
	j.t_stream_us = t0 + 2000;
	j.t_suspend_us = t0 + 2000;
	j.t_pause_us = t0 + 3000;
	j.t_end_us = t0 + 500000;
	j.t_built_us = t0 + 510000;
	j.t_quiesced_us = t0 + 510000;
	j.t_done_us = t0 + 520000;
	job_phases(&j, &ph);
	assert_int_equal(ph.precopy_ms, 0);
	assert_int_equal(ph.suspend_ms, 1);
	assert_int_equal(ph.final_round_ms, 497);
}

static void *
finish_later(void *arg)
{
	struct job *j = arg;

	usleep(50 * 1000);
	assert_true(job_set_state(j, -1, JOB_DONE));
	return NULL;
}

/* A batch waiting for a slot wakes when a job finishes, not at its timeout;
 * with nothing finishing, it waits the timeout out. */
static void
test_wait_finished_wakes_on_a_finish_and_times_out_without(void **state)
{
	struct job *j = job_new(false);
	uint64_t seen = jobs_finished_count(), t0;
	pthread_t t;

	assert_non_null(j);
	t0 = now_ms();
	jobs_wait_finished(seen, 100);
	assert_true(now_ms() - t0 >= 90);
	assert_int_equal(jobs_finished_count(), seen);
	assert_int_equal(pthread_create(&t, NULL, finish_later, j), 0);
	t0 = now_ms();
	jobs_wait_finished(seen, 10000);
	assert_true(now_ms() - t0 < 5000);
	assert_int_equal(jobs_finished_count(), seen + 1);
	pthread_join(t, NULL);
	/* a count already past `seen` returns at once */
	t0 = now_ms();
	jobs_wait_finished(seen, 10000);
	assert_true(now_ms() - t0 < 1000);
	job_thread_exit(j);
	jobs_trim(0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_held_job_outlives_trim),
		cmocka_unit_test(test_trim_keeps_running_jobs_and_the_most_recent_finished),
		cmocka_unit_test(test_ids_are_64_bit_and_not_cut_to_32),
		cmocka_unit_test(test_job_to_json_of_invalid_peer_text_succeeds),
		cmocka_unit_test(test_long_error_is_cut_at_a_character_boundary),
		cmocka_unit_test(test_round_records_are_bounded_first_and_latest_kept),
		cmocka_unit_test(test_phases_add_up_and_split_the_downtime),
		cmocka_unit_test(test_wait_finished_wakes_on_a_finish_and_times_out_without),
	};

	log_init("test_jobs", false, LOG_LVL_WARN);
	jobs_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
