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
u64(int64_t v)
{
	return v > 0 ? (uint64_t)v : 0;
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

/* Width of the widest of n names, each len(i) long. */
#define COL_WIDTH(w, arr, n, field, min, max) do {			\
	size_t i_;							\
									\
	(w) = (min);							\
	for (i_ = 0; i_ < (n); i_++)					\
		if ((int)strlen((arr)[i_].field) > (w))			\
			(w) = (int)strlen((arr)[i_].field);		\
	if ((w) > (max))						\
		(w) = (max);						\
} while (0)

void
print_domains(const struct ctl_domain_list *l)
{
	size_t i;
	int nw;

	COL_WIDTH(nw, l->domains, l->ndomains, name, 4, 64);
	printf("%5s  %-*s  %8s  %5s  %-8s  %-4s  %s\n", "ID", nw, "NAME", "MEM(MiB)", "VCPUS",
	    "STATE", "TYPE", "PINNED");
	for (i = 0; i < l->ndomains; i++) {
		const struct ctl_domain *d = &l->domains[i];
		char name[80], state[32], type[32], pinned[16];

		/* PINNED: "auto" (no automatic migration), "all" (manual too), "-". */
		clean(pinned, sizeof(pinned), d->pinned);
		printf("%5" PRIu64 "  %-*s  %8" PRIu64 "  %5" PRIu64 "  %-8s  %-4s  %s\n",
		    u64(d->id), nw, clean(name, sizeof(name), d->name),
		    u64(d->memory_bytes) >> 20, u64(d->vcpus),
		    clean(state, sizeof(state), d->state),
		    clean(type, sizeof(type), d->type), pinned[0] ? pinned : "-");
	}
}

/* "failed: no route to host", "success", or "-" while running. */
static const char *
result_text(char *buf, size_t n, const struct ctl_job *j)
{
	char e[512];

	if (j->result[0] == '\0')
		return "-";
	/* A cancelled job's error is just "cancelled": no need to say it twice. */
	if (j->error[0] && strcmp(j->error, j->result) != 0)
		snprintf(buf, n, "%s: %s", j->result, clean(e, sizeof(e), j->error));
	else
		snprintf(buf, n, "%s", j->result);
	return buf;
}

void
print_jobs(const struct ctl_job_list *l)
{
	size_t i;
	int dw, pw, sw;

	COL_WIDTH(dw, l->jobs, l->njobs, domain, 6, 64);
	COL_WIDTH(pw, l->jobs, l->njobs, peer, 4, 64);
	COL_WIDTH(sw, l->jobs, l->njobs, state, 5, 16);
	printf("%4s  %-3s  %-*s  %-*s  %-7s  %-*s  %5s  %9s  %8s  %12s  %s\n", "ID", "DIR", dw,
	    "DOMAIN", pw, "PEER", "MODE", sw, "STATE", "ROUND", "SENT(MiB)", "TOTAL(s)",
	    "DOWNTIME(ms)", "RESULT/ERROR");
	for (i = 0; i < l->njobs; i++) {
		const struct ctl_job *j = &l->jobs[i];
		char dom[80], peer[80], dir[8], mode[16], state[32], res[600];

		printf("%4" PRIu64 "  %-3s  %-*s  %-*s  %-7s  %-*s  %5" PRIu64 "  %9.1f  %8.2f  "
		    "%12" PRIu64 "  %s\n", u64(j->id), clean(dir, sizeof(dir), j->direction),
		    dw, clean(dom, sizeof(dom), j->domain),
		    pw, clean(peer, sizeof(peer), j->peer),
		    clean(mode, sizeof(mode), j->mode),
		    sw, clean(state, sizeof(state), j->state), u64(j->iteration),
		    (double)u64(j->bytes_sent) / MiB, (double)u64(j->total_ms) / 1000.0,
		    u64(j->downtime_ms), result_text(res, sizeof(res), j));
	}
}

/* Finished jobs from xmigd's records: job ids restart with the daemon, so
 * each line starts with the job's start time. */
void
print_history(const struct ctl_job_list *l)
{
	size_t i;
	int dw, pw;

	COL_WIDTH(dw, l->jobs, l->njobs, domain, 6, 64);
	COL_WIDTH(pw, l->jobs, l->njobs, peer, 4, 64);
	printf("%-19s  %4s  %-3s  %-*s  %-*s  %-7s  %9s  %8s  %12s  %s\n", "STARTED", "ID", "DIR",
	    dw, "DOMAIN", pw, "PEER", "MODE", "SENT(MiB)", "TOTAL(s)", "DOWNTIME(ms)",
	    "RESULT/ERROR");
	for (i = 0; i < l->njobs; i++) {
		const struct ctl_job *j = &l->jobs[i];
		char dom[80], peer[80], dir[8], mode[16], res[600], when[32];
		time_t started = (time_t)(u64(j->started) / 1000);
		struct tm tm;

		if (started == 0 || localtime_r(&started, &tm) == NULL ||
		    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm) == 0)
			snprintf(when, sizeof(when), "-");
		printf("%-19s  %4" PRIu64 "  %-3s  %-*s  %-*s  %-7s  %9.1f  %8.2f  %12" PRIu64 "  %s\n",
		    when, u64(j->id), clean(dir, sizeof(dir), j->direction),
		    dw, clean(dom, sizeof(dom), j->domain),
		    pw, clean(peer, sizeof(peer), j->peer),
		    clean(mode, sizeof(mode), j->mode), (double)u64(j->bytes_sent) / MiB,
		    (double)u64(j->total_ms) / 1000.0, u64(j->downtime_ms),
		    result_text(res, sizeof(res), j));
	}
}

void
print_job(const struct ctl_job *j)
{
	char dom[80], peer[320], mode[16], state[32], res[600], b1[32], b2[32], when[64];
	bool in = strcmp(j->direction, "in") == 0;
	time_t started = (time_t)(u64(j->started) / 1000);
	struct tm tm;

	if (started == 0 || localtime_r(&started, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %z", &tm) == 0)
		snprintf(when, sizeof(when), "-");
	printf("job %" PRIu64 ": %s %s %s (%s)\n", u64(j->id),
	    clean(dom, sizeof(dom), j->domain), in ? "from" : "to",
	    clean(peer, sizeof(peer), j->peer), clean(mode, sizeof(mode), j->mode));
	printf("  state:              %s\n", clean(state, sizeof(state), j->state));
	printf("  result:             %s\n", result_text(res, sizeof(res), j));
	printf("  started:            %s\n", when);
	printf("  round:              %" PRIu64 "\n", u64(j->iteration));
	printf("  %s           %s of %s memory\n", in ? "received:" : "sent:    ",
	    fmt_bytes(b1, sizeof(b1), u64(j->bytes_sent)),
	    fmt_bytes(b2, sizeof(b2), u64(j->memory_bytes)));
	printf("  pages:              %" PRIu64 " (%" PRIu64 " zero)\n", u64(j->pages_sent),
	    u64(j->zero_pages));
	printf("  remaining:          %" PRIu64 " pages\n", u64(j->remaining_pages));
	printf("  dirty rate:         %" PRIu64 " pages/s\n", u64(j->dirty_rate));
	printf("  throughput:         %.1f MiB/s\n", (double)u64(j->throughput_bps) / MiB);
	printf("  expected downtime:  %" PRIu64 " ms\n", u64(j->expected_downtime_ms));
	printf("  setup:              %" PRIu64 " ms\n", u64(j->setup_ms));
	printf("  downtime:           %" PRIu64 " ms\n", u64(j->downtime_ms));
	if (u64(j->devices_wait_ms) > 0)
		printf("  devices wait:       %" PRIu64 " ms (pre-copy until the destination's "
		    "devices were up)\n", u64(j->devices_wait_ms));
	if (u64(j->stream_ms))
		printf("  memory stream:      %" PRIu64 " ms (%" PRIu64 " ms live), %" PRIu64
		    " pages (%s) after the suspension\n", u64(j->stream_ms),
		    u64(j->precopy_ms), u64(j->final_pages),
		    fmt_bytes(b1, sizeof(b1), u64(j->final_bytes)));
	if (j->has_phases)
		printf("  downtime, by phase: suspend %" PRIu64 " ms, final round %" PRIu64
		    " ms, destination restore %" PRIu64 " ms, devices %" PRIu64 " ms, commit %"
		    PRIu64 " ms, unpause %" PRIu64 " ms\n", u64(j->phases.suspend_ms),
		    u64(j->phases.final_round_ms), u64(j->phases.restore_ms),
		    u64(j->phases.devices_ms), u64(j->phases.commit_ms),
		    u64(j->phases.unpause_ms));
	printf("  total:              %.2f s\n", (double)u64(j->total_ms) / 1000.0);
	if (u64(j->dest_domid))
		printf("  destination domid:  %" PRIu64 "\n", u64(j->dest_domid));
}

void
print_status(const struct ctl_status *st, const char *socket)
{
	char host[260], backend[32], version[32];

	printf("xmigd %s on %s (pid %" PRIu64 ")\n",
	    clean(version, sizeof(version), st->version),
	    clean(host, sizeof(host), st->host), u64(st->pid));
	printf("  backend:          %s\n", clean(backend, sizeof(backend), st->backend));
	if (st->host_state[0]) {
		char hs[64], why[220];

		clean(hs, sizeof(hs), st->host_state);
		clean(why, sizeof(why), st->host_state_reason);
		printf("  host state:       %s%s%s%s\n", hs, why[0] ? " (" : "", why,
		    why[0] ? ")" : "");
	}
	if (!st->relocation_server)
		printf("  relocation:       off (port %" PRIu64 " for outgoing migrations)\n",
		    u64(st->relocation_port));
	else
		printf("  relocation:       port %" PRIu64 "\n", u64(st->relocation_port));
	if (st->relocation_ssl_server)
		printf("  TLS relocation:   port %" PRIu64 " (mutual TLS)\n",
		    u64(st->relocation_ssl_port));
	else
		printf("  TLS relocation:   off%s\n", st->tls ?
		    " (TLS set up for outgoing --ssl migrations)" : "");
	printf("  control socket:   %s\n", socket);
}

static bool progress_shown;

void
progress_show(const struct ctl_job *j, const char *peer)
{
	const char *state = j->state;
	bool in = strcmp(j->direction, "in") == 0, live = strcmp(j->mode, "live") == 0;
	bool copying = strcmp(state, "precopy") == 0, final = strcmp(state, "stop-and-copy") == 0 ||
	    strcmp(state, "committing") == 0;
	char line[512], dom[80], st[32], pr[300];
	uint64_t thr = u64(j->throughput_bps);
	struct winsize ws;
	int n;

	n = snprintf(line, sizeof(line), "%s %s %s: ", clean(dom, sizeof(dom), j->domain),
	    in ? "<-" : "->", clean(pr, sizeof(pr), peer));
	if (!copying && !final) {
		snprintf(line + n, sizeof(line) - (size_t)n, "%s", clean(st, sizeof(st), state));
	} else {
		if (final)
			n += snprintf(line + n, sizeof(line) - (size_t)n, "%s, ", state);
		/* iteration counts finished rounds; show the one under way. */
		if (live)
			n += snprintf(line + n, sizeof(line) - (size_t)n, "round %" PRIu64 ", ",
			    u64(j->iteration) + 1);
		n += snprintf(line + n, sizeof(line) - (size_t)n, "%" PRIu64 "/%" PRIu64 " MiB %s",
		    u64(j->bytes_sent) >> 20, u64(j->memory_bytes) >> 20,
		    in ? "received" : "sent");
		/* The dirty rate is measured at the end of each round and means
		 * nothing once the domain is paused. */
		if (live && copying && u64(j->iteration) > 0)
			n += snprintf(line + n, sizeof(line) - (size_t)n, ", dirty %" PRIu64 " pages/s",
			    u64(j->dirty_rate));
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

int
print_result(const struct ctl_job *j, const char *peer, bool json)
{
	const char *res = j->result, *mode = j->mode;
	bool in = strcmp(j->direction, "in") == 0;
	char dom[80], pr[300], err[600], md[16], sent[32];
	uint64_t rounds = u64(j->iteration);

	clean(dom, sizeof(dom), j->domain);
	clean(pr, sizeof(pr), peer);
	clean(err, sizeof(err), j->error);
	clean(md, sizeof(md), mode);
	if (json) {
		/* The headline fields first, then the rest of the job. */
		json_t *o = ctl_job_result_encode(j);

		if (o != NULL)
			print_json(o);
		json_decref(o);
	}
	if (strcmp(res, "success") == 0) {
		if (json)
			return EXIT_OK;
		fmt_bytes(sent, sizeof(sent), u64(j->bytes_sent));
		printf("%s migrated %s %s %s in %.2f s (downtime %" PRIu64 " ms, ", dom, md,
		    in ? "from" : "to", pr, (double)u64(j->total_ms) / 1000.0,
		    u64(j->downtime_ms));
		if (strcmp(mode, "live") == 0)
			printf("%" PRIu64 " round%s, ", rounds, rounds == 1 ? "" : "s");
		printf("%s %s", sent, in ? "received" : "sent");
		/* Only when it happened: pre-copy went on for the destination's
		 * devices, so the downtime did not wait for them. */
		if (u64(j->devices_wait_ms) > 0)
			printf(", %" PRIu64 " ms waiting for the destination's devices",
			    u64(j->devices_wait_ms));
		printf(")\n");
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
		    clean(md, sizeof(md), j->state), u64(j->id));
	return EXIT_FAILED;
}

void
print_maint(const struct ctl_maint_status *st)
{
	const struct ctl_evac *ev = &st->evacuation;
	char state[64], why[220];
	size_t i;

	clean(state, sizeof(state), st->state);
	clean(why, sizeof(why), st->reason);
	printf("host state: %s%s%s%s\n", state, why[0] ? " (" : "", why, why[0] ? ")" : "");
	if (!st->has_evacuation)
		return;
	printf("evacuation: %s, %" PRIu64 "/%" PRIu64 " moved, %" PRIu64 " migrating, %" PRIu64
	    " failed, %.1f s\n", ev->batch.state[0] ? ev->batch.state : "?", u64(ev->batch.moved),
	    u64(ev->batch.total), u64(ev->batch.migrating), u64(ev->batch.failed),
	    (double)u64(ev->batch.elapsed_ms) / 1000.0);
	for (i = 0; i < ev->ndomains; i++) {
		const struct ctl_evac_item *d = &ev->domains[i];
		char name[80], dest[260], status[32], dwhy[400];

		printf("  %-20s %6" PRIu64 " MiB  %-10s %-16s %s\n",
		    clean(name, sizeof(name), d->name), u64(d->mem_mib),
		    clean(status, sizeof(status), d->status),
		    d->dest[0] ? clean(dest, sizeof(dest), d->dest) : "-",
		    clean(dwhy, sizeof(dwhy), d->why));
	}
}

void
print_balance_head(const struct ctl_balance *b)
{
	char policy[32];

	printf("balance (%s; high %" PRIu64 "%%, low %" PRIu64 "%%): %" PRIu64 " moves planned, %"
	    PRIu64 " run from this host\n", clean(policy, sizeof(policy), b->policy),
	    u64(b->high_percent), u64(b->low_percent), u64(b->planned), u64(b->here));
	fflush(stdout);
}

void
print_balance_plan(const struct ctl_balance *b)
{
	size_t i;

	print_balance_head(b);
	if (b->nmoves > 0)
		printf("  %-20s %6s  %-16s %-16s %-5s %s\n", "DOMAIN", "MiB", "FROM", "TO", "RUN",
		    "WHY");
	for (i = 0; i < b->nmoves; i++) {
		const struct ctl_balance_move *m = &b->moves[i];
		char name[80], from[80], to[80], why[300];

		printf("  %-20s %6" PRIu64 "  %-16s %-16s %-5s %s\n",
		    clean(name, sizeof(name), m->domain), u64(m->mem_mib),
		    clean(from, sizeof(from), m->from), clean(to, sizeof(to), m->to),
		    strcmp(m->status, "other-host") == 0 ? "there" :
		    strcmp(m->status, "held") == 0 ? "held" : "here",
		    clean(why, sizeof(why), m->why));
	}
	printf("hosts (memory and vCPU load, now -> after the plan):\n");
	for (i = 0; i < b->nhosts; i++) {
		const struct ctl_balance_host *h = &b->hosts[i];
		char name[80], state[40];

		clean(name, sizeof(name), h->name);
		clean(state, sizeof(state), h->state);
		if (!h->reachable)
			printf("  %-16s does not answer\n", name);
		else
			printf("  %-16s %-26s memory %3.0f%% -> %3.0f%%   vCPU %3.0f%% -> %3.0f%%\n",
			    name, state, h->mem_percent, h->mem_percent_after, h->vcpu_percent,
			    h->vcpu_percent_after);
	}
	print_balance_notes(b);
}

void
print_balance_notes(const struct ctl_balance *b)
{
	size_t i;

	for (i = 0; i < b->nmoves; i++) {
		const struct ctl_balance_move *m = &b->moves[i];
		char name[80], from[80], to[80], why[400];

		if (strcmp(m->status, "other-host") != 0 && strcmp(m->status, "held") != 0)
			continue;
		printf("not run here: %s (%s -> %s): %s\n", clean(name, sizeof(name), m->domain),
		    clean(from, sizeof(from), m->from), clean(to, sizeof(to), m->to),
		    clean(why, sizeof(why), m->reason));
	}
	for (i = 0; i < b->nleft; i++) {
		char why[300];

		printf("left as it is: %s\n", clean(why, sizeof(why), b->left[i]));
	}
	for (i = 0; i < b->nemptied; i++) {
		char name[80];

		printf("emptied by the plan: %s (then it can enter maintenance)\n", clean(name,
		    sizeof(name), b->emptied[i]));
	}
	if (b->nmoves == 0 && b->nleft == 0)
		printf("nothing to do: every host is as the %s policy wants it\n",
		    b->policy[0] ? b->policy : "?");
}
