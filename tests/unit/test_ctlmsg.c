/* test_ctlmsg.c - the control protocol's messages: every one round-trips,
 * the decoders refuse what they must, one convention for "unset". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "compress.h"
#include "conf.h"
#include "ctlmsg.h"

/* ---- requests ---- */

/* Encode rq, decode it again by its own "cmd", and demand the same bytes. */
static void
request_round_trip(const struct ctl_request *rq)
{
	struct ctl_request back;
	char err[256] = "";
	json_t *o;
	int cmd;

	assert_non_null(o = ctl_request_encode(rq));
	assert_non_null(ctl_request_name(o));
	cmd = ctl_cmd_lookup(ctl_request_name(o));
	assert_int_equal(cmd, rq->cmd);
	assert_int_equal(ctl_request_decode(o, (enum ctl_cmd)cmd, &back, err, sizeof(err)), 0);
	assert_memory_equal(&back, rq, sizeof(back));
	json_decref(o);
}

static void
test_every_request_round_trips(void **state)
{
	struct ctl_request rq;
	int c;

	/* with their defaults */
	for (c = 0; c < CTL_NCMDS; c++) {
		ctl_request_init(&rq, (enum ctl_cmd)c);
		if (c == CTL_MIGRATE) {
			strcpy(rq.u.migrate.domain, "vm1");
			strcpy(rq.u.migrate.host, "b");
		} else if (c == CTL_JOB || c == CTL_WATCH || c == CTL_CANCEL) {
			rq.u.job.id = 1;
		} else if (c == CTL_PIN || c == CTL_UNPIN) {
			strcpy(rq.u.pin.domain, "vm1");
		}
		request_round_trip(&rq);
	}
	/* and with every field given */
	ctl_request_init(&rq, CTL_MIGRATE);
	strcpy(rq.u.migrate.domain, "vm\xc3\xa9");
	strcpy(rq.u.migrate.host, "fe80::1");
	rq.u.migrate.port = 65535;
	rq.u.migrate.ssl = rq.u.migrate.live = rq.u.migrate.watch = rq.u.migrate.force = true;
	rq.u.migrate.downtime_ms = CTL_DOWNTIME_MS_MAX;
	rq.u.migrate.max_rounds = CTL_MAX_ROUNDS_MAX;
	rq.u.migrate.bandwidth_mbit = 0;
	rq.u.migrate.max_factor = 2.5;
	rq.u.migrate.auto_converge = 0;
	strcpy(rq.u.migrate.compress, "zstd");
	request_round_trip(&rq);
	ctl_request_init(&rq, CTL_WATCH);
	rq.u.job.id = INT64_MAX;
	request_round_trip(&rq);
	ctl_request_init(&rq, CTL_HISTORY);
	rq.u.history.limit = CTL_HISTORY_MAX;
	request_round_trip(&rq);
	ctl_request_init(&rq, CTL_PIN);
	strcpy(rq.u.pin.domain, "db");
	rq.u.pin.manual_too = true;
	request_round_trip(&rq);
	ctl_request_init(&rq, CTL_MAINTENANCE);
	rq.u.maint.action = CTL_MAINT_ENTER;
	strcpy(rq.u.maint.to, "host-b,host-c");
	rq.u.maint.parallel = CTL_PARALLEL_MAX;
	rq.u.maint.live = false;
	rq.u.maint.shutdown_pinned = rq.u.maint.watch = true;
	strcpy(rq.u.maint.reason, "disk\tswap \xe2\x80\x94 rack 4");	/* sent as it is */
	request_round_trip(&rq);
	ctl_request_init(&rq, CTL_BALANCE);
	strcpy(rq.u.balance.policy, "power-saving");
	rq.u.balance.dry_run = true;
	rq.u.balance.max_moves = CTL_MAX_MOVES_MAX;
	request_round_trip(&rq);
}

/* Decode text as a request; returns the decoder's result, err its line. */
static int
decode_text(const char *text, struct ctl_request *rq, char *err, size_t errlen)
{
	json_error_t je;
	/* NULs allowed here: the decoder must refuse them by itself */
	json_t *o = json_loads(text, JSON_ALLOW_NUL, &je);
	int cmd, r;

	assert_non_null(o);
	cmd = ctl_cmd_lookup(ctl_request_name(o));
	assert_true(cmd >= 0);
	err[0] = '\0';
	r = ctl_request_decode(o, (enum ctl_cmd)cmd, rq, err, errlen);
	json_decref(o);
	return r;
}

/* text must be refused with a one-line error containing want. */
static void
refused(const char *text, const char *want)
{
	struct ctl_request rq;
	char err[CTL_TEXT_MAX];

	if (decode_text(text, &rq, err, sizeof(err)) == 0)
		fail_msg("accepted: %s", text);
	if (strstr(err, want) == NULL)
		fail_msg("%s: error '%s' lacks '%s'", text, err, want);
	assert_null(strchr(err, '\n'));
}

static void
test_requests_refuse_unknown_keys(void **state)
{
	refused("{\"cmd\":\"migrate\",\"domain\":\"a\",\"host\":\"b\",\"downtime\":5}",
	    "unknown key \"downtime\" in migrate request");
	refused("{\"cmd\":\"status\",\"verbose\":true}", "unknown key \"verbose\"");
	refused("{\"cmd\":\"job\",\"id\":1,\"ID\":2}", "unknown key \"ID\"");
	/* a key that would break the line comes out as one line */
	refused("{\"cmd\":\"list\",\"a\\nb\":1}", "unknown key \"a?b\"");
}

static void
test_requests_refuse_wrong_types(void **state)
{
	refused("{\"cmd\":\"migrate\",\"domain\":1,\"host\":\"b\"}", "bad \"domain\"");
	refused("{\"cmd\":\"migrate\",\"domain\":\"a\",\"host\":\"b\",\"live\":1}",
	    "bad \"live\" in migrate request: true or false expected");
	refused("{\"cmd\":\"migrate\",\"domain\":\"a\",\"host\":\"b\",\"port\":\"8002\"}",
	    "bad \"port\"");
	refused("{\"cmd\":\"migrate\",\"domain\":\"a\",\"host\":\"b\",\"max_factor\":\"2\"}",
	    "bad \"max_factor\"");
	refused("{\"cmd\":\"migrate\",\"domain\":\"a\",\"host\":\"b\",\"downtime_ms\":1.5}",
	    "bad \"downtime_ms\"");
	refused("{\"cmd\":\"maintenance\",\"action\":\"enter\",\"to\":[\"b\"]}", "bad \"to\"");
	refused("{\"cmd\":\"balance\",\"dry_run\":\"yes\"}", "bad \"dry_run\"");
	/* job ids: the daemon's messages since 64-bit ids */
	refused("{\"cmd\":\"job\",\"id\":\"1\"}", "bad job id");
	refused("{\"cmd\":\"watch\",\"id\":1.0}", "bad job id");
	refused("{\"cmd\":\"cancel\",\"id\":null}", "missing job id");
	refused("{\"cmd\":\"cancel\"}", "missing job id");
}

static void
test_requests_refuse_out_of_bounds(void **state)
{
	refused("{\"cmd\":\"migrate\",\"domain\":\"a\",\"host\":\"b\",\"downtime_ms\":0}",
	    "an integer 1-600000 expected");
	refused("{\"cmd\":\"migrate\",\"domain\":\"a\",\"host\":\"b\",\"downtime_ms\":600001}",
	    "an integer 1-600000 expected");
	refused("{\"cmd\":\"migrate\",\"domain\":\"a\",\"host\":\"b\",\"max_rounds\":100001}",
	    "bad \"max_rounds\"");
	refused("{\"cmd\":\"migrate\",\"domain\":\"a\",\"host\":\"b\",\"bandwidth_mbit\":-1}",
	    "bad \"bandwidth_mbit\"");
	refused("{\"cmd\":\"migrate\",\"domain\":\"a\",\"host\":\"b\",\"bandwidth_mbit\":10000001}",
	    "bad \"bandwidth_mbit\"");
	refused("{\"cmd\":\"migrate\",\"domain\":\"a\",\"host\":\"b\",\"port\":0}", "bad \"port\"");
	refused("{\"cmd\":\"migrate\",\"domain\":\"a\",\"host\":\"b\",\"port\":65536}",
	    "bad \"port\"");
	refused("{\"cmd\":\"migrate\",\"domain\":\"a\",\"host\":\"b\",\"max_factor\":0.99}",
	    "bad \"max_factor\"");
	refused("{\"cmd\":\"migrate\",\"domain\":\"a\",\"host\":\"b\",\"max_factor\":100.5}",
	    "bad \"max_factor\"");
	refused("{\"cmd\":\"job\",\"id\":0}", "bad job id");
	refused("{\"cmd\":\"job\",\"id\":-1}", "bad job id");
	refused("{\"cmd\":\"history\",\"limit\":0}", "bad \"limit\"");
	refused("{\"cmd\":\"history\",\"limit\":1001}", "bad \"limit\"");
	refused("{\"cmd\":\"maintenance\",\"action\":\"enter\",\"parallel\":0}",
	    "an integer 1-64 expected");
	refused("{\"cmd\":\"maintenance\",\"action\":\"enter\",\"parallel\":65}",
	    "an integer 1-64 expected");
	refused("{\"cmd\":\"balance\",\"max_moves\":100001}", "bad \"max_moves\"");
}

static void
test_requests_refuse_bad_text(void **state)
{
	char text[600];

	/* 63 bytes fit a domain name, 64 do not */
	snprintf(text, sizeof(text), "{\"cmd\":\"pin\",\"domain\":\"%063d\"}", 0);
	{
		struct ctl_request rq;
		char err[256];

		assert_int_equal(decode_text(text, &rq, err, sizeof(err)), 0);
		assert_int_equal(strlen(rq.u.pin.domain), 63);
	}
	snprintf(text, sizeof(text), "{\"cmd\":\"pin\",\"domain\":\"%064d\"}", 0);
	refused(text, "too long (at most 63 bytes)");
	refused("{\"cmd\":\"pin\",\"domain\":\"\"}", "bad \"domain\" in pin request: empty");
	refused("{\"cmd\":\"pin\"}", "pin request without \"domain\"");
	refused("{\"cmd\":\"migrate\",\"domain\":\"a\"}", "without \"host\"");
	/* an embedded NUL would cut the name the daemon looks up */
	refused("{\"cmd\":\"unpin\",\"domain\":\"a\\u0000b\"}", "bad \"domain\"");
	refused("{\"cmd\":\"migrate\",\"domain\":\"a\",\"host\":\"b\",\"compress\":\"gzip\"}",
	    "one of none, zstd, lz4, auto");
	refused("{\"cmd\":\"maintenance\",\"action\":\"leave\"}", "one of enter, exit, status");
	refused("{\"cmd\":\"maintenance\"}", "without \"action\"");
	refused("{\"cmd\":\"balance\",\"policy\":\"random\"}", "one of even, power-saving");
	refused("{\"cmd\":\"balance\",\"policy\":\"\"}", "one of even, power-saving");
}

static void
test_command_names(void **state)
{
	int c;

	for (c = 0; c < CTL_NCMDS; c++)
		assert_int_equal(ctl_cmd_lookup(ctl_cmd_name((enum ctl_cmd)c)), c);
	assert_int_equal(ctl_cmd_lookup("frobnicate"), -1);
	assert_int_equal(ctl_cmd_lookup(NULL), -1);
}

/* ---- unset and the configuration ---- */

static void
test_unset_fields_are_left_out_and_take_the_configuration(void **state)
{
	struct ctl_migrate_settings set;
	struct ctl_request rq;
	struct conf c;
	char err[256];
	json_t *o;

	ctl_request_init(&rq, CTL_MIGRATE);
	assert_int_equal(rq.u.migrate.downtime_ms, CTL_UNSET);
	assert_int_equal(rq.u.migrate.auto_converge, CTL_UNSET);
	assert_true(rq.u.migrate.max_factor == CTL_UNSET);
	strcpy(rq.u.migrate.domain, "a");
	strcpy(rq.u.migrate.host, "b");
	assert_non_null(o = ctl_request_encode(&rq));
	assert_null(json_object_get(o, "downtime_ms"));
	assert_null(json_object_get(o, "bandwidth_mbit"));
	assert_null(json_object_get(o, "auto_converge"));
	assert_null(json_object_get(o, "compress"));
	assert_null(json_object_get(o, "port"));
	json_decref(o);

	memset(&c, 0, sizeof(c));
	c.downtime_ms = 250;
	c.max_rounds = 12;
	c.bandwidth_mbit = 800;
	c.max_factor = 4;
	c.auto_converge = true;
	c.compress = COMPRESS_ZSTD;
	/* nothing given: the configuration's */
	ctl_migrate_resolve(&rq.u.migrate, &c, &set);
	assert_int_equal(set.downtime_ms, 250);
	assert_int_equal(set.max_rounds, 12);
	assert_int_equal(set.bandwidth_mbit, 800);
	assert_true(set.max_factor == 4);
	assert_true(set.auto_converge);
	assert_int_equal(set.compress, COMPRESS_ZSTD);
	/* given, "off" and 0 included: the request's */
	assert_int_equal(decode_text("{\"cmd\":\"migrate\",\"domain\":\"a\",\"host\":\"b\","
	    "\"bandwidth_mbit\":0,\"auto_converge\":false,\"compress\":\"none\","
	    "\"downtime_ms\":40,\"max_rounds\":3,\"max_factor\":1.5}", &rq, err, sizeof(err)), 0);
	ctl_migrate_resolve(&rq.u.migrate, &c, &set);
	assert_int_equal(set.bandwidth_mbit, 0);
	assert_false(set.auto_converge);
	assert_int_equal(set.compress, COMPRESS_NONE);
	assert_int_equal(set.downtime_ms, 40);
	assert_int_equal(set.max_rounds, 3);
	assert_true(set.max_factor == 1.5);
	/* and on, over a configuration that says off */
	c.auto_converge = false;
	assert_int_equal(decode_text("{\"cmd\":\"migrate\",\"domain\":\"a\",\"host\":\"b\","
	    "\"auto_converge\":true}", &rq, err, sizeof(err)), 0);
	ctl_migrate_resolve(&rq.u.migrate, &c, &set);
	assert_true(set.auto_converge);
	/* null is as if missing */
	assert_int_equal(decode_text("{\"cmd\":\"migrate\",\"domain\":\"a\",\"host\":\"b\","
	    "\"downtime_ms\":null}", &rq, err, sizeof(err)), 0);
	assert_int_equal(rq.u.migrate.downtime_ms, CTL_UNSET);
}

static void
test_fixed_defaults_come_from_the_decoder(void **state)
{
	struct ctl_request rq;
	char err[256];

	assert_int_equal(decode_text("{\"cmd\":\"maintenance\",\"action\":\"enter\"}", &rq, err,
	    sizeof(err)), 0);
	assert_int_equal(rq.u.maint.parallel, CTL_PARALLEL_DEFAULT);
	assert_true(rq.u.maint.live);
	assert_int_equal(decode_text("{\"cmd\":\"history\"}", &rq, err, sizeof(err)), 0);
	assert_int_equal(rq.u.history.limit, CTL_HISTORY_DEFAULT);
	assert_int_equal(decode_text("{\"cmd\":\"balance\"}", &rq, err, sizeof(err)), 0);
	assert_string_equal(rq.u.balance.policy, "even");
	assert_int_equal(rq.u.balance.max_moves, 0);
}

static int
parse_conf(struct conf *c, const char *text, char *err, size_t errlen)
{
	conf_init(c);
	return conf_parse_buffer(c, "t", text, strlen(text), err, errlen);
}

static void
test_configuration_limits_are_the_protocols(void **state)
{
	char text[200], err[300];
	struct conf c;

	snprintf(text, sizeof(text), "migration-downtime-ms = %d\nmigration-max-rounds = %d\n",
	    CTL_DOWNTIME_MS_MAX, CTL_MAX_ROUNDS_MAX);
	assert_int_equal(parse_conf(&c, text, err, sizeof(err)), 0);
	assert_int_equal(c.downtime_ms, CTL_DOWNTIME_MS_MAX);
	assert_int_equal(c.max_rounds, CTL_MAX_ROUNDS_MAX);
	snprintf(text, sizeof(text), "migration-downtime-ms = %d\n", CTL_DOWNTIME_MS_MAX + 1);
	assert_int_not_equal(parse_conf(&c, text, err, sizeof(err)), 0);
	snprintf(text, sizeof(text), "migration-bandwidth-mbit = %d\n", CTL_BANDWIDTH_MBIT_MAX + 1);
	assert_int_not_equal(parse_conf(&c, text, err, sizeof(err)), 0);
}

/* ---- replies ---- */

static void
fill_job(struct ctl_job *j, int64_t id)
{
	memset(j, 0, sizeof(*j));
	j->id = id;
	strcpy(j->direction, "out");
	strcpy(j->domain, "vm1");
	strcpy(j->peer, "[fe80::1]:8002");
	strcpy(j->mode, "live");
	strcpy(j->state, "done");
	strcpy(j->result, "success");
	j->iteration = 4;
	j->bytes_sent = 1ll << 33;
	j->memory_bytes = 1ll << 30;
	j->downtime_ms = 42;
	j->started = 1765000000000ll;
	strcpy(j->stop_reason, "converged");
	j->warnings = calloc(1, sizeof(*j->warnings));
	strcpy(j->warnings[0], "no toolstack configuration");
	j->nwarnings = 1;
	j->rounds = calloc(2, sizeof(*j->rounds));
	j->rounds[1].round = 1;
	j->rounds[1].pages = 77;
	j->nrounds = 2;
	j->has_phases = true;
	j->phases.commit_ms = 3;
	j->phases.suspend_ms = 5;
	j->phases.devices_ms = 6;
	j->phases.unpause_ms = 7;
}

/* o's payload decoded and encoded again gives o's payload. */
static void
test_job_replies_round_trip(void **state)
{
	struct ctl_job j, back;
	struct ctl_job_list l, lback;
	char err[256];
	json_t *o, *again;

	fill_job(&j, 7);
	assert_non_null(o = ctl_job_reply(&j));
	assert_int_equal(ctl_reply_status(o, err, sizeof(err)), 1);
	assert_int_equal(ctl_job_reply_decode(o, &back, err, sizeof(err)), 0);
	assert_int_equal(back.id, 7);
	assert_string_equal(back.peer, "[fe80::1]:8002");
	assert_string_equal(back.warnings[0], "no toolstack configuration");
	assert_int_equal(back.rounds[1].pages, 77);
	assert_true(back.has_phases);
	assert_int_equal(back.phases.commit_ms, 3);
	assert_int_equal(back.phases.suspend_ms, 5);
	assert_int_equal(back.phases.devices_ms, 6);
	assert_int_equal(back.phases.unpause_ms, 7);
	assert_string_equal(back.error, "");	/* null on the wire */
	assert_true(json_is_null(json_object_get(json_object_get(o, "job"), "error")));
	assert_non_null(again = ctl_job_reply(&back));
	assert_true(json_equal(o, again));
	json_decref(again);
	json_decref(o);
	ctl_job_free(&back);

	/* a running job: result null, no phases */
	j.result[0] = '\0';
	j.has_phases = false;
	assert_non_null(o = ctl_job_encode(&j));
	assert_true(json_is_null(json_object_get(o, "result")));
	assert_null(json_object_get(o, "phases"));
	json_decref(o);

	memset(&l, 0, sizeof(l));
	l.jobs = calloc(2, sizeof(*l.jobs));
	l.jobs[0] = j;
	fill_job(&l.jobs[1], 8);
	l.njobs = 2;
	assert_non_null(o = ctl_job_list_reply(&l));
	assert_int_equal(ctl_job_list_reply_decode(o, &lback, err, sizeof(err)), 0);
	assert_int_equal(lback.njobs, 2);
	assert_int_equal(lback.jobs[1].id, 8);
	assert_non_null(again = ctl_job_list_reply(&lback));
	assert_true(json_equal(o, again));
	json_decref(again);
	json_decref(o);
	ctl_job_list_free(&lback);
	ctl_job_list_free(&l);
}

static void
test_result_puts_the_headline_first(void **state)
{
	struct ctl_job j;
	const char *key;
	json_t *o, *v;
	int n = 0;

	fill_job(&j, 3);
	assert_non_null(o = ctl_job_result_encode(&j));
	json_object_foreach(o, key, v) {
		if (n == 0)
			assert_string_equal(key, "result");
		if (n == 5)
			assert_string_equal(key, "iterations");
		n++;
	}
	assert_int_equal(json_integer_value(json_object_get(o, "iterations")), 4);
	assert_non_null(json_object_get(o, "iteration"));	/* the rest follows */
	json_decref(o);
	ctl_job_free(&j);
}

static void
test_old_history_records_decode(void **state)
{
	/* a record from before rounds, phases, warnings and the QEMU names */
	static const char old[] = "{\"id\":3,\"direction\":\"out\",\"domain\":\"vm1\","
	    "\"peer\":\"b:8002\",\"mode\":\"offline\",\"state\":\"failed\",\"result\":\"failed\","
	    "\"error\":\"b refused\",\"iteration\":0,\"bytes_sent\":0,\"total_ms\":12,"
	    "\"started\":1700000000000}";
	struct ctl_job j;
	char err[256];
	json_t *o = json_loads(old, 0, NULL);

	assert_non_null(o);
	assert_int_equal(ctl_job_decode(o, &j, err, sizeof(err)), 0);
	assert_int_equal(j.id, 3);
	assert_string_equal(j.error, "b refused");
	assert_int_equal(j.nrounds, 0);
	assert_false(j.has_phases);
	json_decref(o);
	/* phases from before suspend, devices and unpause were split out */
	o = json_loads("{\"id\":4,\"phases\":{\"connect_ms\":1,\"destination_build_ms\":2,"
	    "\"precopy_ms\":3,\"final_round_ms\":4,\"restore_ms\":5,\"commit_ms\":6}}", 0, NULL);
	assert_non_null(o);
	assert_int_equal(ctl_job_decode(o, &j, err, sizeof(err)), 0);
	assert_true(j.has_phases);
	assert_int_equal(j.phases.commit_ms, 6);
	assert_int_equal(j.phases.suspend_ms + j.phases.devices_ms + j.phases.unpause_ms, 0);
	ctl_job_free(&j);
	json_decref(o);
	/* devices_wait_ms: absent in older records (0), carried when set */
	o = json_loads("{\"id\":5,\"devices_wait_ms\":1500}", 0, NULL);
	assert_non_null(o);
	assert_int_equal(ctl_job_decode(o, &j, err, sizeof(err)), 0);
	assert_int_equal(j.devices_wait_ms, 1500);
	json_decref(o);
	o = ctl_job_encode(&j);
	assert_non_null(o);
	assert_int_equal(json_integer_value(json_object_get(o, "devices_wait_ms")), 1500);
	ctl_job_free(&j);
	json_decref(o);
	/* but not a damaged one */
	o = json_loads("{\"id\":3,\"rounds\":[{\"round\":\"x\"}]}", 0, NULL);
	assert_int_equal(ctl_job_decode(o, &j, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "bad \"round\""));
	assert_null(j.rounds);
	json_decref(o);
	o = json_loads("{\"id\":3,\"colour\":\"red\"}", 0, NULL);
	assert_int_equal(ctl_job_decode(o, &j, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown key \"colour\" in job"));
	json_decref(o);
}

static void
test_list_status_pin_round_trip(void **state)
{
	struct ctl_domain_list l, lb;
	struct ctl_status st, sb;
	struct ctl_pin_reply p, pb;
	char err[256];
	json_t *o, *again;

	memset(&l, 0, sizeof(l));
	l.domains = calloc(2, sizeof(*l.domains));
	l.ndomains = 2;
	strcpy(l.domains[0].name, "vm1");
	strcpy(l.domains[0].pinned, "all");
	l.domains[1].id = 5;
	strcpy(l.domains[1].uuid, "00000000-0000-0000-0000-000000000005");
	assert_non_null(o = ctl_domain_list_reply(&l));
	assert_true(json_is_null(json_object_get(json_array_get(json_object_get(o, "domains"), 1),
	    "pinned")));
	assert_int_equal(ctl_domain_list_reply_decode(o, &lb, err, sizeof(err)), 0);
	assert_string_equal(lb.domains[0].pinned, "all");
	assert_int_equal(lb.domains[1].id, 5);
	assert_non_null(again = ctl_domain_list_reply(&lb));
	assert_true(json_equal(o, again));
	json_decref(again);
	json_decref(o);
	ctl_domain_list_free(&lb);
	ctl_domain_list_free(&l);

	memset(&st, 0, sizeof(st));
	strcpy(st.host, "a");
	strcpy(st.host_state, "active");
	st.relocation_port = 8002;
	st.relocation_ssl_server = true;
	st.pid = 99;
	assert_non_null(o = ctl_status_reply(&st));
	memset(&sb, 0, sizeof(sb));	/* padding, for the comparison */
	assert_int_equal(ctl_status_reply_decode(o, &sb, err, sizeof(err)), 0);
	assert_memory_equal(&st, &sb, sizeof(st));
	json_decref(o);
	/* --json prints the status without "ok" */
	assert_non_null(o = ctl_status_encode(&st));
	assert_null(json_object_get(o, "ok"));
	json_decref(o);

	memset(&p, 0, sizeof(p));
	strcpy(p.domain, "vm1");
	assert_non_null(o = ctl_pin_reply(&p));
	assert_true(json_is_null(json_object_get(o, "pinned")));
	memset(&pb, 0, sizeof(pb));
	assert_int_equal(ctl_pin_reply_decode(o, &pb, err, sizeof(err)), 0);
	assert_memory_equal(&p, &pb, sizeof(p));
	json_decref(o);
}

static void
fill_batch(struct ctl_batch *b)
{
	strcpy(b->state, "running");
	b->total = 3;
	b->moved = 1;
	b->parallel = 2;
	b->live = true;
	b->shut_down = CTL_UNSET;
}

static void
test_maintenance_replies_round_trip(void **state)
{
	struct ctl_maint_status m, mb;
	char err[256];
	json_t *o, *again, *ev;

	memset(&m, 0, sizeof(m));
	strcpy(m.state, "active");
	assert_non_null(o = ctl_maint_status_reply(&m));
	assert_null(json_object_get(o, "evacuation"));
	assert_int_equal(ctl_maint_status_reply_decode(o, &mb, err, sizeof(err)), 0);
	assert_false(mb.has_evacuation);
	json_decref(o);

	strcpy(m.state, "preparing-for-maintenance");
	strcpy(m.reason, "disk swap");
	m.has_evacuation = true;
	fill_batch(&m.evacuation.batch);
	strcpy(m.evacuation.host_state, "preparing-for-maintenance");
	m.evacuation.domains = calloc(2, sizeof(*m.evacuation.domains));
	m.evacuation.ndomains = 2;
	strcpy(m.evacuation.domains[0].name, "vm1");
	strcpy(m.evacuation.domains[0].status, "migrating");
	strcpy(m.evacuation.domains[0].dest, "host-b");
	m.evacuation.domains[0].job = 4;
	strcpy(m.evacuation.domains[1].name, "vm2");
	strcpy(m.evacuation.domains[1].status, "pending");
	m.evacuation.domains[1].job = CTL_UNSET;
	assert_non_null(o = ctl_maint_status_reply(&m));
	ev = json_object_get(o, "evacuation");
	/* optional fields: left out when unset */
	assert_null(json_object_get(ev, "error"));
	assert_null(json_object_get(ev, "shut_down"));
	assert_null(json_object_get(json_array_get(json_object_get(ev, "domains"), 1), "job"));
	assert_null(json_object_get(json_array_get(json_object_get(ev, "domains"), 1), "dest"));
	assert_int_equal(json_integer_value(json_object_get(ev, "total")), 3);
	assert_int_equal(ctl_maint_status_reply_decode(o, &mb, err, sizeof(err)), 0);
	assert_true(mb.has_evacuation);
	assert_int_equal(mb.evacuation.domains[0].job, 4);
	assert_int_equal(mb.evacuation.domains[1].job, CTL_UNSET);
	assert_int_equal(mb.evacuation.batch.shut_down, CTL_UNSET);
	assert_non_null(again = ctl_maint_status_reply(&mb));
	assert_true(json_equal(o, again));
	json_decref(again);
	json_decref(o);

	/* the same evacuation as an event */
	assert_non_null(o = ctl_event_encode(CTL_EVENT_EVACUATION, true, &m.evacuation));
	{
		struct ctl_balance wrong;
		struct ctl_evac e;
		bool done = false;

		assert_int_equal(ctl_event_decode(o, CTL_EVENT_EVACUATION, &done, &e, err,
		    sizeof(err)), 0);
		assert_true(done);
		assert_string_equal(e.domains[0].dest, "host-b");
		assert_non_null(again = ctl_event_encode(CTL_EVENT_EVACUATION, true, &e));
		assert_true(json_equal(o, again));
		json_decref(again);
		ctl_evac_free(&e);
		/* an event of another kind is refused */
		assert_int_equal(ctl_event_decode(o, CTL_EVENT_BALANCE, &done, &wrong, err,
		    sizeof(err)), -1);
	}
	json_decref(o);
	ctl_maint_status_free(&mb);
	ctl_maint_status_free(&m);
}

static void
test_balance_replies_round_trip(void **state)
{
	struct ctl_balance b, bb;
	char err[256];
	json_t *o, *again, *jb;

	memset(&b, 0, sizeof(b));
	strcpy(b.policy, "even");
	b.dry_run = true;
	b.moves = calloc(1, sizeof(*b.moves));
	b.nmoves = 1;
	strcpy(b.moves[0].domain, "vm1");
	strcpy(b.moves[0].from, "a");
	strcpy(b.moves[0].to, "b");
	strcpy(b.moves[0].status, "planned");
	b.moves[0].job = b.moves[0].elapsed_ms = CTL_UNSET;
	b.hosts = calloc(1, sizeof(*b.hosts));
	b.nhosts = 1;
	strcpy(b.hosts[0].name, "a");
	b.hosts[0].mem_percent = 62.5;
	b.left = calloc(1, sizeof(*b.left));
	strcpy(b.left[0], "host c: nothing fits");
	b.nleft = 1;
	assert_non_null(o = ctl_balance_reply(&b));
	jb = json_object_get(o, "balance");
	/* a dry run has no batch figures */
	assert_null(json_object_get(jb, "state"));
	assert_null(json_object_get(json_array_get(json_object_get(jb, "moves"), 0), "job"));
	assert_true(json_is_real(json_object_get(json_array_get(json_object_get(jb, "hosts"), 0),
	    "mem_percent")));
	assert_int_equal(ctl_balance_reply_decode(o, &bb, err, sizeof(err)), 0);
	assert_false(bb.has_batch);
	assert_true(bb.hosts[0].mem_percent == 62.5);
	assert_string_equal(bb.left[0], "host c: nothing fits");
	assert_non_null(again = ctl_balance_reply(&bb));
	assert_true(json_equal(o, again));
	json_decref(again);
	json_decref(o);
	ctl_balance_free(&bb);

	/* a running one: the figures first, in the same object */
	b.dry_run = false;
	b.has_batch = true;
	fill_batch(&b.batch);
	b.moves[0].job = 9;
	b.moves[0].elapsed_ms = 1500;
	assert_non_null(o = ctl_event_encode(CTL_EVENT_BALANCE, false, &b));
	jb = json_object_get(o, "balance");
	assert_string_equal(json_string_value(json_object_get(jb, "state")), "running");
	assert_string_equal(json_object_iter_key(json_object_iter(jb)), "state");
	{
		bool done = true;

		assert_int_equal(ctl_event_decode(o, CTL_EVENT_BALANCE, &done, &bb, err,
		    sizeof(err)), 0);
		assert_false(done);
		assert_true(bb.has_batch);
		assert_int_equal(bb.moves[0].job, 9);
		assert_non_null(again = ctl_event_encode(CTL_EVENT_BALANCE, false, &bb));
		assert_true(json_equal(o, again));
		json_decref(again);
		ctl_balance_free(&bb);
	}
	json_decref(o);
	ctl_balance_free(&b);
}

static void
test_job_events(void **state)
{
	struct ctl_job j, back;
	char err[256];
	bool done = true;
	json_t *o;

	fill_job(&j, 11);
	assert_non_null(o = ctl_event_encode(CTL_EVENT_JOB, false, &j));
	assert_string_equal(json_string_value(json_object_get(o, "event")), "progress");
	assert_int_equal(ctl_event_decode(o, CTL_EVENT_JOB, &done, &back, err, sizeof(err)), 0);
	assert_false(done);
	assert_int_equal(back.id, 11);
	ctl_job_free(&back);
	json_object_set_new(o, "event", json_string("finished"));
	assert_int_equal(ctl_event_decode(o, CTL_EVENT_JOB, &done, &back, err, sizeof(err)), -1);
	json_object_set_new(o, "event", json_string("done"));
	json_object_set_new(o, "extra", json_true());
	assert_int_equal(ctl_event_decode(o, CTL_EVENT_JOB, &done, &back, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown key \"extra\""));
	json_object_del(o, "extra");
	assert_int_equal(ctl_event_decode(o, CTL_EVENT_JOB, &done, &back, err, sizeof(err)), 0);
	assert_true(done);
	ctl_job_free(&back);
	json_decref(o);
	ctl_job_free(&j);
}

static void
test_replies_refuse_bad_shapes(void **state)
{
	struct ctl_job_list l;
	struct ctl_status st;
	char err[256];
	json_t *o;

	o = json_loads("{\"ok\":true}", 0, NULL);
	assert_int_equal(ctl_job_list_reply_decode(o, &l, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "without \"jobs\""));
	json_decref(o);
	o = json_loads("{\"ok\":true,\"jobs\":[1]}", 0, NULL);
	assert_int_equal(ctl_job_list_reply_decode(o, &l, err, sizeof(err)), -1);
	assert_null(l.jobs);
	json_decref(o);
	o = json_loads("{\"ok\":true,\"pid\":\"1\"}", 0, NULL);
	assert_int_equal(ctl_status_reply_decode(o, &st, err, sizeof(err)), -1);
	json_decref(o);
	/* no "ok" at all: not a reply */
	o = json_loads("{\"jobs\":[]}", 0, NULL);
	assert_int_equal(ctl_reply_status(o, err, sizeof(err)), -1);
	json_decref(o);
}

static void
test_error_replies_are_one_line(void **state)
{
	char err[CTL_TEXT_MAX], big[3000];
	json_t *o;

	assert_non_null(o = ctl_reply_error("no job %d\nsecond line\x1b[31m", 4));
	assert_int_equal(ctl_reply_status(o, err, sizeof(err)), 0);
	assert_string_equal(err, "no job 4 second line [31m");
	json_decref(o);
	/* cut inside a character: still valid UTF-8 for jansson */
	memset(big, 'x', sizeof(big));
	memcpy(big + CTL_TEXT_MAX - 2, "\xc3\xa9", 2);
	big[sizeof(big) - 1] = '\0';
	assert_non_null(o = ctl_reply_error("%s", big));
	json_decref(o);
	assert_non_null(o = ctl_reply_ok());
	assert_int_equal(ctl_reply_status(o, err, sizeof(err)), 1);
	json_decref(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_request_round_trips),
		cmocka_unit_test(test_requests_refuse_unknown_keys),
		cmocka_unit_test(test_requests_refuse_wrong_types),
		cmocka_unit_test(test_requests_refuse_out_of_bounds),
		cmocka_unit_test(test_requests_refuse_bad_text),
		cmocka_unit_test(test_command_names),
		cmocka_unit_test(test_unset_fields_are_left_out_and_take_the_configuration),
		cmocka_unit_test(test_fixed_defaults_come_from_the_decoder),
		cmocka_unit_test(test_configuration_limits_are_the_protocols),
		cmocka_unit_test(test_job_replies_round_trip),
		cmocka_unit_test(test_result_puts_the_headline_first),
		cmocka_unit_test(test_old_history_records_decode),
		cmocka_unit_test(test_list_status_pin_round_trip),
		cmocka_unit_test(test_maintenance_replies_round_trip),
		cmocka_unit_test(test_balance_replies_round_trip),
		cmocka_unit_test(test_job_events),
		cmocka_unit_test(test_replies_refuse_bad_shapes),
		cmocka_unit_test(test_error_replies_are_one_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
