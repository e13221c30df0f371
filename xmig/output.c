/* output.c - what xmig prints: tables, job details, the progress line,
 * summaries and --json objects.
 *
 * Text from xmigd (names, errors) goes through clean() so that one message
 * is always one line on the operator's terminal.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "xmig.h"

#define MiB (1024.0 * 1024.0)

uint64_t
ju64(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) && json_integer_value(v) > 0 ?
	    (uint64_t)json_integer_value(v) : 0;
}

const char *
jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

const char *
clean(char *buf, size_t n, const char *s)
{
	size_t i;

	if (n == 0)
		return "";
	if (s == NULL)
		s = "";
	for (i = 0; s[i] && i + 1 < n; i++)
		buf[i] = ((unsigned char)s[i] < ' ' || s[i] == 0x7f) ? '?' : s[i];
	buf[i] = '\0';
	return buf;
}

const char *
fmt_bytes(char *buf, size_t n, uint64_t bytes)
{
	if (bytes >= (1ull << 30))
		snprintf(buf, n, "%.2f GiB", (double)bytes / (1024.0 * MiB));
	else if (bytes >= (1ull << 20))
		snprintf(buf, n, "%.1f MiB", (double)bytes / MiB);
	else if (bytes >= 1024)
		snprintf(buf, n, "%" PRIu64 " KiB", bytes / 1024);
	else
		snprintf(buf, n, "%" PRIu64 " B", bytes);
	return buf;
}

void
print_json(const json_t *v)
{
	json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
}

/* Width of the widest string field `key` in an array of objects. */
static int
col_width(const json_t *a, const char *key, int min, int max)
{
	const json_t *o;
	size_t i;
	int w = min;

	json_array_foreach(a, i, o) {
		const char *s = jstr(o, key);
		int n = s ? (int)strlen(s) : 1;

		if (n > w)
			w = n;
	}
	return w > max ? max : w;
}

void
print_domains(const json_t *domains)
{
	int nw = col_width(domains, "name", 4, 64);
	const json_t *d;
	size_t i;

	printf("%5s  %-*s  %8s  %5s  %-8s  %-4s  %s\n", "ID", nw, "NAME", "MEM(MiB)", "VCPUS",
	    "STATE", "TYPE", "PINNED");
	json_array_foreach(domains, i, d) {
		char name[80], state[32], type[32], pinned[16];

		/* PINNED: "auto" (no automatic migration), "all" (manual too), "-". */
		clean(pinned, sizeof(pinned), jstr(d, "pinned"));
		printf("%5" PRIu64 "  %-*s  %8" PRIu64 "  %5" PRIu64 "  %-8s  %-4s  %s\n",
		    ju64(d, "id"), nw, clean(name, sizeof(name), jstr(d, "name")),
		    ju64(d, "memory_bytes") >> 20, ju64(d, "vcpus"),
		    clean(state, sizeof(state), jstr(d, "state")),
		    clean(type, sizeof(type), jstr(d, "type")), pinned[0] ? pinned : "-");
	}
}

/* "failed: no route to host", "success", or "-" while running. */
static const char *
result_text(char *buf, size_t n, const json_t *job)
{
	const char *res = jstr(job, "result"), *err = jstr(job, "error");
	char e[512];

	if (res == NULL)
		return "-";
	/* A cancelled job's error is just "cancelled": no need to say it twice. */
	if (err && *err && strcmp(err, res) != 0)
		snprintf(buf, n, "%s: %s", res, clean(e, sizeof(e), err));
	else
		snprintf(buf, n, "%s", res);
	return buf;
}

void
print_jobs(const json_t *jobs)
{
	int dw = col_width(jobs, "domain", 6, 64), pw = col_width(jobs, "peer", 4, 64);
	int sw = col_width(jobs, "state", 5, 16);
	const json_t *j;
	size_t i;

	printf("%4s  %-3s  %-*s  %-*s  %-7s  %-*s  %5s  %9s  %8s  %12s  %s\n", "ID", "DIR", dw,
	    "DOMAIN", pw, "PEER", "MODE", sw, "STATE", "ROUND", "SENT(MiB)", "TOTAL(s)",
	    "DOWNTIME(ms)", "RESULT/ERROR");
	json_array_foreach(jobs, i, j) {
		char dom[80], peer[80], dir[8], mode[16], state[32], res[600];

		printf("%4" PRIu64 "  %-3s  %-*s  %-*s  %-7s  %-*s  %5" PRIu64 "  %9.1f  %8.2f  "
		    "%12" PRIu64 "  %s\n", ju64(j, "id"), clean(dir, sizeof(dir), jstr(j, "direction")),
		    dw, clean(dom, sizeof(dom), jstr(j, "domain")),
		    pw, clean(peer, sizeof(peer), jstr(j, "peer")),
		    clean(mode, sizeof(mode), jstr(j, "mode")),
		    sw, clean(state, sizeof(state), jstr(j, "state")), ju64(j, "iteration"),
		    (double)ju64(j, "bytes_sent") / MiB, (double)ju64(j, "total_ms") / 1000.0,
		    ju64(j, "downtime_ms"), result_text(res, sizeof(res), j));
	}
}

/* Finished jobs from xmigd's records: job ids restart with the daemon, so
 * each line starts with the job's start time. */
void
print_history(const json_t *jobs)
{
	int dw = col_width(jobs, "domain", 6, 64), pw = col_width(jobs, "peer", 4, 64);
	const json_t *j;
	size_t i;

	printf("%-19s  %4s  %-3s  %-*s  %-*s  %-7s  %9s  %8s  %12s  %s\n", "STARTED", "ID", "DIR",
	    dw, "DOMAIN", pw, "PEER", "MODE", "SENT(MiB)", "TOTAL(s)", "DOWNTIME(ms)",
	    "RESULT/ERROR");
	json_array_foreach(jobs, i, j) {
		char dom[80], peer[80], dir[8], mode[16], res[600], when[32];
		time_t started = (time_t)(ju64(j, "started") / 1000);
		struct tm tm;

		if (started == 0 || localtime_r(&started, &tm) == NULL ||
		    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm) == 0)
			snprintf(when, sizeof(when), "-");
		printf("%-19s  %4" PRIu64 "  %-3s  %-*s  %-*s  %-7s  %9.1f  %8.2f  %12" PRIu64 "  %s\n",
		    when, ju64(j, "id"), clean(dir, sizeof(dir), jstr(j, "direction")),
		    dw, clean(dom, sizeof(dom), jstr(j, "domain")),
		    pw, clean(peer, sizeof(peer), jstr(j, "peer")),
		    clean(mode, sizeof(mode), jstr(j, "mode")), (double)ju64(j, "bytes_sent") / MiB,
		    (double)ju64(j, "total_ms") / 1000.0, ju64(j, "downtime_ms"),
		    result_text(res, sizeof(res), j));
	}
}

void
print_job(const json_t *j)
{
	char dom[80], peer[320], mode[16], state[32], res[600], b1[32], b2[32], when[64];
	const json_t *ph;
	bool in = strcmp(jstr(j, "direction") ? jstr(j, "direction") : "", "in") == 0;
	time_t started = (time_t)(ju64(j, "started") / 1000);
	struct tm tm;

	if (started == 0 || localtime_r(&started, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %z", &tm) == 0)
		snprintf(when, sizeof(when), "-");
	printf("job %" PRIu64 ": %s %s %s (%s)\n", ju64(j, "id"),
	    clean(dom, sizeof(dom), jstr(j, "domain")), in ? "from" : "to",
	    clean(peer, sizeof(peer), jstr(j, "peer")), clean(mode, sizeof(mode), jstr(j, "mode")));
	printf("  state:              %s\n", clean(state, sizeof(state), jstr(j, "state")));
	printf("  result:             %s\n", result_text(res, sizeof(res), j));
	printf("  started:            %s\n", when);
	printf("  round:              %" PRIu64 "\n", ju64(j, "iteration"));
	printf("  %s           %s of %s memory\n", in ? "received:" : "sent:    ",
	    fmt_bytes(b1, sizeof(b1), ju64(j, "bytes_sent")),
	    fmt_bytes(b2, sizeof(b2), ju64(j, "memory_bytes")));
	printf("  pages:              %" PRIu64 " (%" PRIu64 " zero)\n", ju64(j, "pages_sent"),
	    ju64(j, "zero_pages"));
	printf("  remaining:          %" PRIu64 " pages\n", ju64(j, "remaining_pages"));
	printf("  dirty rate:         %" PRIu64 " pages/s\n", ju64(j, "dirty_rate"));
	printf("  throughput:         %.1f MiB/s\n", (double)ju64(j, "throughput_bps") / MiB);
	printf("  expected downtime:  %" PRIu64 " ms\n", ju64(j, "expected_downtime_ms"));
	printf("  setup:              %" PRIu64 " ms\n", ju64(j, "setup_ms"));
	printf("  downtime:           %" PRIu64 " ms\n", ju64(j, "downtime_ms"));
	if (ju64(j, "stream_ms"))
		printf("  memory stream:      %" PRIu64 " ms (%" PRIu64 " ms live), %" PRIu64
		    " pages (%s) after the suspension\n", ju64(j, "stream_ms"),
		    ju64(j, "precopy_ms"), ju64(j, "final_pages"),
		    fmt_bytes(b1, sizeof(b1), ju64(j, "final_bytes")));
	if ((ph = json_object_get(j, "phases")) != NULL)
		printf("  downtime, by phase: final round %" PRIu64 " ms, destination restore %"
		    PRIu64 " ms, commit %" PRIu64 " ms\n", ju64(ph, "final_round_ms"),
		    ju64(ph, "restore_ms"), ju64(ph, "commit_ms"));
	printf("  total:              %.2f s\n", (double)ju64(j, "total_ms") / 1000.0);
	if (ju64(j, "dest_domid"))
		printf("  destination domid:  %" PRIu64 "\n", ju64(j, "dest_domid"));
}

void
print_status(const json_t *st, const char *socket)
{
	char host[260], backend[32], version[32];
	json_t *srv = json_object_get(st, "relocation_server");

	printf("xmigd %s on %s (pid %" PRIu64 ")\n",
	    clean(version, sizeof(version), jstr(st, "version")),
	    clean(host, sizeof(host), jstr(st, "host")), ju64(st, "pid"));
	printf("  backend:          %s\n", clean(backend, sizeof(backend), jstr(st, "backend")));
	if (jstr(st, "host_state")) {
		char hs[64], why[220];

		clean(hs, sizeof(hs), jstr(st, "host_state"));
		clean(why, sizeof(why), jstr(st, "host_state_reason"));
		printf("  host state:       %s%s%s%s\n", hs, why[0] ? " (" : "", why,
		    why[0] ? ")" : "");
	}
	if (json_is_false(srv))
		printf("  relocation:       off (port %" PRIu64 " for outgoing migrations)\n",
		    ju64(st, "relocation_port"));
	else
		printf("  relocation:       port %" PRIu64 "\n", ju64(st, "relocation_port"));
	if (json_is_true(json_object_get(st, "relocation_ssl_server")))
		printf("  TLS relocation:   port %" PRIu64 " (mutual TLS)\n",
		    ju64(st, "relocation_ssl_port"));
	else
		printf("  TLS relocation:   off%s\n", json_is_true(json_object_get(st, "tls")) ?
		    " (TLS set up for outgoing --ssl migrations)" : "");
	printf("  control socket:   %s\n", socket);
}

static bool progress_shown;

void
progress_show(const json_t *j, const char *peer)
{
	const char *state = jstr(j, "state") ? jstr(j, "state") : "";
	const char *dir = jstr(j, "direction"), *mode = jstr(j, "mode");
	bool in = dir && strcmp(dir, "in") == 0, live = mode && strcmp(mode, "live") == 0;
	bool copying = strcmp(state, "precopy") == 0, final = strcmp(state, "stop-and-copy") == 0 ||
	    strcmp(state, "committing") == 0;
	char line[512], dom[80], st[32], pr[300];
	uint64_t thr = ju64(j, "throughput_bps");
	struct winsize ws;
	int n;

	n = snprintf(line, sizeof(line), "%s %s %s: ", clean(dom, sizeof(dom), jstr(j, "domain")),
	    in ? "<-" : "->", clean(pr, sizeof(pr), peer));
	if (!copying && !final) {
		snprintf(line + n, sizeof(line) - (size_t)n, "%s", clean(st, sizeof(st), state));
	} else {
		if (final)
			n += snprintf(line + n, sizeof(line) - (size_t)n, "%s, ", state);
		/* iteration counts finished rounds; show the one under way. */
		if (live)
			n += snprintf(line + n, sizeof(line) - (size_t)n, "round %" PRIu64 ", ",
			    ju64(j, "iteration") + 1);
		n += snprintf(line + n, sizeof(line) - (size_t)n, "%" PRIu64 "/%" PRIu64 " MiB %s",
		    ju64(j, "bytes_sent") >> 20, ju64(j, "memory_bytes") >> 20,
		    in ? "received" : "sent");
		/* The dirty rate is measured at the end of each round and means
		 * nothing once the domain is paused. */
		if (live && copying && ju64(j, "iteration") > 0)
			n += snprintf(line + n, sizeof(line) - (size_t)n, ", dirty %" PRIu64 " pages/s",
			    ju64(j, "dirty_rate"));
		if (thr > 0)
			snprintf(line + n, sizeof(line) - (size_t)n, ", %.0f MiB/s", (double)thr / MiB);
	}
	/* A line that wraps can no longer be redrawn with \r. */
	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1 &&
	    strlen(line) >= ws.ws_col)
		line[ws.ws_col - 1] = '\0';
	fprintf(stderr, "\r%s\033[K", line);
	fflush(stderr);
	progress_shown = true;
}

void
progress_clear(void)
{
	if (!progress_shown)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	progress_shown = false;
}

/* The --json result: the headline fields first, then the rest of the job. */
static void
print_result_json(const json_t *j)
{
	static const char *const head[] = { "result", "domain", "mode", "total_ms",
		"downtime_ms", "iterations", "bytes_sent", "pages_sent", "memory_bytes" };
	json_t *o = json_object();
	size_t i;

	if (o == NULL)
		return;
	for (i = 0; i < sizeof(head) / sizeof(head[0]); i++) {
		json_t *v = json_object_get(j, strcmp(head[i], "iterations") == 0 ?
		    "iteration" : head[i]);

		if (v)
			json_object_set(o, head[i], v);
	}
	json_object_update_missing(o, (json_t *)j);
	print_json(o);
	json_decref(o);
}

int
print_result(const json_t *j, const char *peer, bool json)
{
	const char *res = jstr(j, "result") ? jstr(j, "result") : "";
	const char *dir = jstr(j, "direction"), *mode = jstr(j, "mode");
	bool in = dir && strcmp(dir, "in") == 0;
	char dom[80], pr[300], err[600], md[16], sent[32];
	uint64_t rounds = ju64(j, "iteration");

	clean(dom, sizeof(dom), jstr(j, "domain"));
	clean(pr, sizeof(pr), peer);
	clean(err, sizeof(err), jstr(j, "error"));
	clean(md, sizeof(md), mode);
	if (json)
		print_result_json(j);
	if (strcmp(res, "success") == 0) {
		if (json)
			return EXIT_OK;
		fmt_bytes(sent, sizeof(sent), ju64(j, "bytes_sent"));
		printf("%s migrated %s %s %s in %.2f s (downtime %" PRIu64 " ms, ", dom, md,
		    in ? "from" : "to", pr, (double)ju64(j, "total_ms") / 1000.0,
		    ju64(j, "downtime_ms"));
		if (mode && strcmp(mode, "live") == 0)
			printf("%" PRIu64 " round%s, ", rounds, rounds == 1 ? "" : "s");
		printf("%s %s)\n", sent, in ? "received" : "sent");
		return EXIT_OK;
	}
	if (in) {
		if (strcmp(res, "cancelled") == 0)
			fprintf(stderr, "xmig: incoming migration of %s from %s was cancelled\n", dom, pr);
		else if (strcmp(res, "ambiguous") == 0)
			fprintf(stderr, "xmig: incoming migration of %s from %s has an unknown "
			    "outcome: %s\n", dom, pr, *err ? err : "no reason given");
		else
			fprintf(stderr, "xmig: incoming migration of %s from %s failed: %s\n", dom, pr,
			    *err ? err : "no reason given");
		return strcmp(res, "ambiguous") == 0 ? EXIT_AMBIGUOUS : EXIT_FAILED;
	}
	if (strcmp(res, "cancelled") == 0) {
		fprintf(stderr, "xmig: migration of %s to %s was cancelled; %s is still running "
		    "on this host\n", dom, pr, dom);
		return EXIT_FAILED;
	}
	if (strcmp(res, "ambiguous") == 0) {
		/* xmigd's reason normally says where the copy is and what to do;
		 * say it ourselves when it does not. */
		if (strstr(err, "--migratedaway"))
			fprintf(stderr, "xmig: migration of %s to %s has an unknown outcome: %s\n",
			    dom, pr, err);
		else
			fprintf(stderr, "xmig: migration of %s to %s has an unknown outcome%s%s; %s "
			    "is left paused on this host as %s--migratedaway until it is known: "
			    "check 'xmig list' on %s, then destroy or unpause the copy here\n",
			    dom, pr, *err ? ": " : "", err, dom, dom, pr);
		return EXIT_AMBIGUOUS;
	}
	if (strcmp(res, "failed") == 0)
		fprintf(stderr, "xmig: migration of %s to %s failed: %s; %s is still running on "
		    "this host\n", dom, pr, *err ? err : "no reason given", dom);
	else
		fprintf(stderr, "xmig: migration of %s to %s ended without a known result "
		    "(state %s); see 'xmig job %" PRIu64 "'\n", dom, pr,
		    clean(md, sizeof(md), jstr(j, "state")), ju64(j, "id"));
	return EXIT_FAILED;
}

void
print_maint(const json_t *st)
{
	const json_t *ev = json_object_get(st, "evacuation"), *d;
	char state[64], why[220];
	size_t i;

	clean(state, sizeof(state), jstr(st, "state"));
	clean(why, sizeof(why), jstr(st, "reason"));
	printf("host state: %s%s%s%s\n", state, why[0] ? " (" : "", why, why[0] ? ")" : "");
	if (!json_is_object(ev))
		return;
	printf("evacuation: %s, %" PRIu64 "/%" PRIu64 " moved, %" PRIu64 " migrating, %" PRIu64
	    " failed, %.1f s\n", jstr(ev, "state") ? jstr(ev, "state") : "?", ju64(ev, "moved"),
	    ju64(ev, "total"), ju64(ev, "migrating"), ju64(ev, "failed"),
	    (double)ju64(ev, "elapsed_ms") / 1000.0);
	json_array_foreach(json_object_get(ev, "domains"), i, d) {
		char name[80], dest[260], status[32], dwhy[400];

		printf("  %-20s %6" PRIu64 " MiB  %-10s %-16s %s\n",
		    clean(name, sizeof(name), jstr(d, "name")), ju64(d, "mem_mib"),
		    clean(status, sizeof(status), jstr(d, "status")),
		    jstr(d, "dest") ? clean(dest, sizeof(dest), jstr(d, "dest")) : "-",
		    clean(dwhy, sizeof(dwhy), jstr(d, "why")));
	}
}

void
print_balance_head(const json_t *b)
{
	char policy[32];

	printf("balance (%s; high %" PRIu64 "%%, low %" PRIu64 "%%): %" PRIu64 " moves planned, %"
	    PRIu64 " run from this host\n", clean(policy, sizeof(policy), jstr(b, "policy")),
	    ju64(b, "high_percent"), ju64(b, "low_percent"), ju64(b, "planned"), ju64(b, "here"));
	fflush(stdout);
}

/* A number of a reply that may be fractional. */
static double
jnum(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_number(v) ? json_number_value(v) : 0;
}

void
print_balance_plan(const json_t *b)
{
	const json_t *m, *h;
	size_t i;

	print_balance_head(b);
	if (json_array_size(json_object_get(b, "moves")) > 0)
		printf("  %-20s %6s  %-16s %-16s %-5s %s\n", "DOMAIN", "MiB", "FROM", "TO", "RUN",
		    "WHY");
	json_array_foreach(json_object_get(b, "moves"), i, m) {
		const char *st = jstr(m, "status");
		char name[80], from[80], to[80], why[300];

		printf("  %-20s %6" PRIu64 "  %-16s %-16s %-5s %s\n",
		    clean(name, sizeof(name), jstr(m, "domain")), ju64(m, "mem_mib"),
		    clean(from, sizeof(from), jstr(m, "from")), clean(to, sizeof(to), jstr(m, "to")),
		    st && strcmp(st, "other-host") == 0 ? "there" :
		    st && strcmp(st, "held") == 0 ? "held" : "here",
		    clean(why, sizeof(why), jstr(m, "why")));
	}
	printf("hosts (memory and vCPU load, now -> after the plan):\n");
	json_array_foreach(json_object_get(b, "hosts"), i, h) {
		char name[80], state[40];

		clean(name, sizeof(name), jstr(h, "name"));
		clean(state, sizeof(state), jstr(h, "state"));
		if (!json_is_true(json_object_get(h, "reachable")))
			printf("  %-16s does not answer\n", name);
		else
			printf("  %-16s %-26s memory %3.0f%% -> %3.0f%%   vCPU %3.0f%% -> %3.0f%%\n",
			    name, state, jnum(h, "mem_percent"), jnum(h, "mem_percent_after"),
			    jnum(h, "vcpu_percent"), jnum(h, "vcpu_percent_after"));
	}
	print_balance_notes(b);
}

void
print_balance_notes(const json_t *b)
{
	const json_t *m, *l;
	size_t i;

	json_array_foreach(json_object_get(b, "moves"), i, m) {
		const char *st = jstr(m, "status");
		char name[80], from[80], to[80], why[400];

		if (st == NULL || (strcmp(st, "other-host") != 0 && strcmp(st, "held") != 0))
			continue;
		printf("not run here: %s (%s -> %s): %s\n", clean(name, sizeof(name),
		    jstr(m, "domain")), clean(from, sizeof(from), jstr(m, "from")),
		    clean(to, sizeof(to), jstr(m, "to")), clean(why, sizeof(why),
		    jstr(m, "reason")));
	}
	json_array_foreach(json_object_get(b, "left"), i, l) {
		char why[300];

		printf("left as it is: %s\n", clean(why, sizeof(why), json_string_value(l)));
	}
	json_array_foreach(json_object_get(b, "emptied"), i, l) {
		char name[80];

		printf("emptied by the plan: %s (then it can enter maintenance)\n", clean(name,
		    sizeof(name),
		    json_string_value(l)));
	}
	if (json_array_size(json_object_get(b, "moves")) == 0 &&
	    json_array_size(json_object_get(b, "left")) == 0)
		printf("nothing to do: every host is as the %s policy wants it\n",
		    jstr(b, "policy") ? jstr(b, "policy") : "?");
}
