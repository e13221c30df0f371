/* cmd.c - xmig's commands: check the arguments, ask xmigd, print.
 *
 * Arguments are validated here, before any connection, so that a typo is
 * a usage error (exit 2) naming the argument rather than a refusal from the
 * daemon; the limits are the protocol's (lib/ctlmsg.h), which xmigd checks
 * again.  Requests and replies go through lib/ctlmsg.c's structs.  Every
 * failure prints exactly one line to stderr.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "compress.h"
#include "ctl.h"
#include "ctlmsg.h"
#include "proto.h"
#include "util.h"
#include "xerr.h"
#include "xmig.h"

/* How long xmigd may take to answer a request. */
#define REPLY_TIMEOUT_MS 60000
/* Progress events come every 200 ms; this much silence means xmigd is stuck. */
#define WATCH_IDLE_MS 60000
/* How often the watch loop looks at the Ctrl-C flag. */
#define WATCH_TICK_MS 200

enum { OPT_JSON = 1000, OPT_DOWNTIME, OPT_MAX_ROUNDS, OPT_COMPRESS, OPT_AUTOCONV, OPT_NO_AUTOCONV, OPT_MAXFACTOR,
	OPT_FORCE, OPT_MANUAL_TOO, OPT_TO, OPT_PARALLEL, OPT_OFFLINE, OPT_REASON,
	OPT_SHUTDOWN_PINNED, OPT_POLICY, OPT_DRY_RUN, OPT_MAX_MOVES };

static const struct opt opts_json[] = {
	{ 0, "json", false, OPT_JSON },
	{ 0, NULL, false, 0 },
};

static volatile sig_atomic_t got_sigint;

static void
on_sigint(int sig)
{
	(void)sig;
	got_sigint = 1;
}

/* ---- talking to xmigd ---- */

static int
daemon_connect(const struct cli *cli, int *fd)
{
	int r = ctl_connect(cli->socket);

	if (r >= 0) {
		*fd = r;
		return EXIT_OK;
	}
	if (r == XMIG_ERR_SYSTEM && (errno == ENOENT || errno == ECONNREFUSED))
		fprintf(stderr, "xmig: cannot connect to xmigd at %s: %s; xmigd may not be "
		    "running (or give its socket with -S)\n", cli->socket, strerror(errno));
	else if (r == XMIG_ERR_SYSTEM && errno == EACCES)
		fprintf(stderr, "xmig: cannot connect to xmigd at %s: %s; run xmig as root\n",
		    cli->socket, strerror(errno));
	else
		fprintf(stderr, "xmig: cannot connect to xmigd at %s: %s\n", cli->socket,
		    xmig_strerror(r));
	return EXIT_NO_DAEMON;
}

/* Send rq and read the first reply, which says whether xmigd agreed.
 * Returns an exit code; *reply is set on EXIT_OK. */
static int
daemon_request(const struct cli *cli, int fd, const struct ctl_request *rq, json_t **reply)
{
	char err[8];
	json_t *req = ctl_request_encode(rq);
	int r;

	*reply = NULL;
	r = req ? ctl_send(fd, req) : XMIG_ERR_NOMEM;
	json_decref(req);
	if (r != 0) {
		fprintf(stderr, "xmig: cannot send to xmigd at %s: %s\n", cli->socket,
		    xmig_strerror(r));
		return EXIT_NO_DAEMON;
	}
	if ((r = ctl_recv(fd, reply, REPLY_TIMEOUT_MS)) != 0) {
		fprintf(stderr, "xmig: no reply from xmigd at %s: %s\n", cli->socket,
		    xmig_strerror(r));
		return EXIT_NO_DAEMON;
	}
	if (ctl_reply_status(*reply, err, sizeof(err)) < 0) {
		fprintf(stderr, "xmig: unexpected reply from xmigd at %s (no \"ok\")\n",
		    cli->socket);
		json_decref(*reply);
		*reply = NULL;
		return EXIT_NO_DAEMON;
	}
	return EXIT_OK;
}

/* One request, one reply, connection closed. */
static int
daemon_call(const struct cli *cli, const struct ctl_request *rq, json_t **reply)
{
	int fd, rc;

	*reply = NULL;
	if ((rc = daemon_connect(cli, &fd)) != EXIT_OK)
		return rc;
	rc = daemon_request(cli, fd, rq, reply);
	close(fd);
	return rc;
}

/* Whether xmigd said yes. */
static bool
agreed(const json_t *reply)
{
	char err[8];

	return ctl_reply_status(reply, err, sizeof(err)) == 1;
}

/* xmigd said no: "xmig: [what: ]reason", exit 1. */
static int
refused(const json_t *reply, const char *what)
{
	char err[600], text[CTL_TEXT_MAX];

	ctl_reply_status(reply, text, sizeof(text));
	clean(err, sizeof(err), text);
	if (what)
		fprintf(stderr, "xmig: %s: %s\n", what, err[0] ? err : "refused by xmigd");
	else
		fprintf(stderr, "xmig: %s\n", err[0] ? err : "refused by xmigd");
	return EXIT_FAILED;
}

/* A reply of the wrong shape: one line, exit 3. */
static int
unexpected(const struct cli *cli, const char *err)
{
	char e[CTL_TEXT_MAX];

	fprintf(stderr, "xmig: unexpected reply from xmigd at %s (%s)\n", cli->socket,
	    clean(e, sizeof(e), err));
	return EXIT_NO_DAEMON;
}

/* Open a session for a request whose events follow its reply: connect,
 * send rq, and demand that xmigd agrees.  EXIT_OK with *fd open and *reply
 * set, else an exit code with the reason printed and nothing left open. */
static int
daemon_open_session(const struct cli *cli, const struct ctl_request *rq, const char *what,
    int *fd, json_t **reply)
{
	int rc;

	*reply = NULL;
	if ((rc = daemon_connect(cli, fd)) != EXIT_OK)
		return rc;
	if ((rc = daemon_request(cli, *fd, rq, reply)) != EXIT_OK) {
		close(*fd);
		return rc;
	}
	if (!agreed(*reply)) {
		rc = refused(*reply, what);
		json_decref(*reply);
		*reply = NULL;
		close(*fd);
		return rc;
	}
	return EXIT_OK;
}

/* ---- argument checks ---- */

/* Job ids are 64-bit (the largest a JSON integer carries here); anything
 * else is refused, never cut down to name another job. */
static int
parse_job_id(const char *cmd, const char *s, uint64_t *id)
{
	if (s == NULL)
		return usage_error(cmd, "missing JOB (a job number from 'xmig jobs')");
	if (parse_u64(s, 1, INT64_MAX, id) != 0)
		return usage_error(cmd, "bad job number '%s' (a whole number from 1 to %" PRId64 ")",
		    s, INT64_MAX);
	return EXIT_OK;
}

/* Commands of the form "xmig CMD [--json] [JOB]" (json NULL: no --json).
 * Returns EXIT_OK, EXIT_USAGE, or -1 when help was printed. */
static int
parse_simple(const char *cmd, int argc, char **argv, bool want_job, bool *json, uint64_t *id)
{
	const char *v, *job = NULL;
	struct argp p;
	int c;

	argp_init(&p, cmd, argc, argv);
	while ((c = argp_next(&p, json ? opts_json : opts_json + 1, &v)) != ARGP_END) {
		switch (c) {
		case ARGP_ERROR:
			return EXIT_USAGE;
		case ARGP_HELP:
			print_usage(stdout, cmd);
			return -1;
		case OPT_JSON:
			*json = true;
			break;
		case ARGP_POS:
			if (!want_job || job)
				return usage_error(cmd, "unexpected argument '%s'", v);
			job = v;
			break;
		}
	}
	return want_job ? parse_job_id(cmd, job, id) : EXIT_OK;
}

/* ---- watching a job ---- */

static void
send_cancel(const struct cli *cli, uint64_t id)
{
	struct ctl_request rq;
	json_t *reply;
	int rc;

	ctl_request_init(&rq, CTL_CANCEL);
	rq.u.job.id = (int64_t)id;
	rc = daemon_call(cli, &rq, &reply);
	if (rc == EXIT_OK && !agreed(reply)) {
		char what[48];

		snprintf(what, sizeof(what), "cannot cancel job %" PRIu64, id);
		refused(reply, what);
	}
	json_decref(reply);
}

/* What xmigd said the operator should know before the domain moves
 * ("warnings", e.g. no toolstack configuration to reboot it from). */
static void
print_warnings(const struct ctl_job *j)
{
	char line[300];
	size_t i;

	for (i = 0; i < j->nwarnings; i++)
		fprintf(stderr, "xmig: warning: %s\n", clean(line, sizeof(line), j->warnings[i]));
}

/* Follow the event stream on fd until the job's "done" event.  job is the
 * first reply's job, taken over (freed here).  Returns the exit code for
 * the result. */
static int
watch_stream(const struct cli *cli, int fd, struct ctl_job *job, const char *peer, bool json,
    bool cancel_on_sigint)
{
	bool progress = !json && isatty(STDERR_FILENO);
	uint64_t id = u64(job->id);
	bool in = strcmp(job->direction, "in") == 0;
	char dom[80], pr[300], err[CTL_TEXT_MAX];
	struct ctl_job last = *job, next;
	uint64_t last_msg = now_ms();
	bool cancelled = false;
	json_t *m;
	int rc, r;

	if (peer == NULL)
		peer = job->peer;
	/* Keep our own copy of the peer: it goes with the job it came in. */
	snprintf(pr, sizeof(pr), "%s", peer);
	clean(dom, sizeof(dom), job->domain);
	print_warnings(job);
	if (progress)
		progress_show(&last, pr);
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		bool done;
		int n;

		if (cancel_on_sigint && got_sigint && !cancelled) {
			cancelled = true;
			progress_clear();
			fprintf(stderr, "xmig: cancelling job %" PRIu64 "; %s stays on this host "
			    "(Ctrl-C again to stop waiting)\n", id, dom);
			send_cancel(cli, id);
		}
		n = poll(&pfd, 1, WATCH_TICK_MS);
		if (n < 0 && errno != EINTR) {
			r = XMIG_ERR_SYSTEM;
			goto lost;
		}
		if (n <= 0) {
			if (now_ms() - last_msg > WATCH_IDLE_MS) {
				r = XMIG_ERR_TIMEOUT;
				goto lost;
			}
			continue;
		}
		/* Events are small and sent whole: once one starts, it is there. */
		if ((r = ctl_recv(fd, &m, 10000)) != 0)
			goto lost;
		last_msg = now_ms();
		r = ctl_event_decode(m, CTL_EVENT_JOB, &done, &next, err, sizeof(err));
		json_decref(m);
		if (r != 0) {
			r = XMIG_ERR_UNEXPECTED;
			goto lost;
		}
		ctl_job_free(&last);
		last = next;
		if (done)
			break;
		if (progress)
			progress_show(&last, pr);
	}
	progress_clear();
	rc = print_result(&last, pr, json);
	ctl_job_free(&last);
	return rc;

lost:
	progress_clear();
	if (r == XMIG_ERR_EOF) {
		/* xmigd went away (crashed, killed, restarted): the job and its id
		 * are gone with it, its records are not. */
		fprintf(stderr, "xmig: xmigd stopped while %s %s %s %s (job %" PRIu64 "); when it starts "
		    "again it settles %s from its records: then check 'xmig list' here and on "
		    "%s\n", in ? "receiving" : "migrating", dom, in ? "from" : "to", pr, id, dom,
		    pr);
	} else {
		fprintf(stderr, "xmig: lost contact with xmigd while watching job %" PRIu64 " (%s); "
		    "the migration may go on: see 'xmig job %" PRIu64 "'\n", id,
		    r == XMIG_ERR_UNEXPECTED ? "unexpected message" : xmig_strerror(r), id);
	}
	ctl_job_free(&last);
	return EXIT_NO_DAEMON;
}

/* ---- the commands ---- */

/* How the destination is shown: as typed, with the port when it is not
 * the default (8003 with --ssl). */
static void
peer_display(char *buf, size_t n, const char *host, uint16_t port, bool ssl)
{
	bool v6 = strchr(host, ':') != NULL;

	if (port == (ssl ? CONF_DEFAULT_SSL_PORT : CONF_DEFAULT_PORT))
		snprintf(buf, n, "%s", host);
	else
		snprintf(buf, n, v6 ? "[%s]:%u" : "%s:%u", host, (unsigned)port);
}

int
cmd_migrate(const struct cli *cli, int argc, char **argv)
{
	static const struct opt opts[] = {
		{ 'l', "live", false, 'l' },
		{ 's', "ssl", false, 's' },
		{ 'p', "port", true, 'p' },
		{ 'r', "resource", true, 'r' },
		{ 0, "json", false, OPT_JSON },
		{ 0, "downtime", true, OPT_DOWNTIME },
		{ 0, "max-rounds", true, OPT_MAX_ROUNDS },
		{ 0, "compress", true, OPT_COMPRESS },
		{ 0, "auto-converge", false, OPT_AUTOCONV },
		{ 0, "no-auto-converge", false, OPT_NO_AUTOCONV },
		{ 0, "max-factor", true, OPT_MAXFACTOR },
		{ 0, "force", false, OPT_FORCE },
		{ 0, NULL, false, 0 },
	};
	const char *compress = NULL;
	int autoconv = -1;	/* -1: xmigd's configuration decides */
	bool force = false, mbit_set = false;
	double maxfactor = 0;
	const char *pos[2] = { NULL, NULL }, *v;
	const char *port_arg = NULL;
	char host[PROTO_HOST_MAX], shown[PROTO_HOST_MAX + 16];
	uint64_t downtime = 0, rounds = 0, mbit = 0, u;
	uint16_t port = CONF_DEFAULT_PORT;
	bool live = false, json = false, ssl = false;
	struct sigaction sa;
	struct ctl_request rq;
	struct ctl_job job;
	char err[CTL_TEXT_MAX];
	json_t *reply;
	struct argp p;
	int npos = 0, c, fd, rc;
	size_t i;

	argp_init(&p, "migrate", argc, argv);
	while ((c = argp_next(&p, opts, &v)) != ARGP_END) {
		switch (c) {
		case ARGP_ERROR:
			return EXIT_USAGE;
		case ARGP_HELP:
			print_usage(stdout, "migrate");
			return EXIT_OK;
		case ARGP_POS:
			if (npos == 2)
				return usage_error("migrate", "unexpected argument '%s'", v);
			pos[npos++] = v;
			break;
		case 'l':
			live = true;
			break;
		case 's':
			ssl = true;
			break;
		case 'p':
			port_arg = v;
			break;
		case OPT_JSON:
			json = true;
			break;
		case 'r':
			/* 0: no cap, whatever xmigd's configuration says */
			if (parse_u64(v, 0, CTL_BANDWIDTH_MBIT_MAX, &mbit) != 0)
				return usage_error("migrate", "bad rate '%s' (0-%u Mbit/s, 0 for no "
				    "cap)", v, CTL_BANDWIDTH_MBIT_MAX);
			mbit_set = true;
			break;
		case OPT_DOWNTIME:
			if (parse_u64(v, CTL_DOWNTIME_MS_MIN, CTL_DOWNTIME_MS_MAX, &downtime) != 0)
				return usage_error("migrate", "bad downtime '%s' (%u-%u ms)", v,
				    CTL_DOWNTIME_MS_MIN, CTL_DOWNTIME_MS_MAX);
			break;
		case OPT_MAX_ROUNDS:
			if (parse_u64(v, CTL_MAX_ROUNDS_MIN, CTL_MAX_ROUNDS_MAX, &rounds) != 0)
				return usage_error("migrate", "bad round count '%s' (%u-%u)", v,
				    CTL_MAX_ROUNDS_MIN, CTL_MAX_ROUNDS_MAX);
			break;
		case OPT_COMPRESS:
			if (compress_mode_parse(v) < 0)
				return usage_error("migrate", "bad compression '%s' (zstd, lz4, none "
				    "or auto)", v);
			compress = v;
			break;
		case OPT_AUTOCONV:
		case OPT_NO_AUTOCONV:
			if (autoconv >= 0 && autoconv != (c == OPT_AUTOCONV))
				return usage_error("migrate", "--auto-converge and --no-auto-converge "
				    "contradict each other");
			autoconv = c == OPT_AUTOCONV;
			break;
		case OPT_FORCE:
			force = true;
			break;
		case OPT_MAXFACTOR: {
			char *end;

			maxfactor = strtod(v, &end);
			if (*v == '\0' || *end != '\0' || !(maxfactor >= CTL_MAX_FACTOR_MIN &&
			    maxfactor <= CTL_MAX_FACTOR_MAX))
				return usage_error("migrate", "bad factor '%s' (%g-%g)", v,
				    CTL_MAX_FACTOR_MIN, CTL_MAX_FACTOR_MAX);
			break;
		}
		}
	}
	if (npos < 2)
		return usage_error("migrate", npos == 0 ? "missing DOM and HOST" : "missing HOST");
	if (pos[0][0] == '\0')
		return usage_error("migrate", "empty domain name");
	if (strlen(pos[0]) >= CTL_NAME_MAX)
		return usage_error("migrate", "domain name '%s' is too long (at most %d characters)",
		    pos[0], CTL_NAME_MAX - 1);
	for (i = 0; pos[0][i]; i++)
		if ((unsigned char)pos[0][i] < ' ' || pos[0][i] == 0x7f)
			return usage_error("migrate", "bad character in domain name");
	if (pos[1][0] == '\0')
		return usage_error("migrate", "empty host name");
	if (ssl)
		port = CONF_DEFAULT_SSL_PORT;	/* HOST:PORT and -p still win */
	if (parse_hostport(pos[1], host, sizeof(host), &port) != 0)
		return usage_error("migrate", "bad host '%s' (HOST, HOST:PORT, IPv6 or "
		    "[IPv6]:PORT; ports 1-65535)", pos[1]);
	if (port_arg) {
		if (parse_u64(port_arg, 1, 65535, &u) != 0)
			return usage_error("migrate", "bad port '%s' (1-65535)", port_arg);
		port = (uint16_t)u;
	}
	peer_display(shown, sizeof(shown), host, port, ssl);

	/* What is not given stays unset: xmigd's configuration decides. */
	ctl_request_init(&rq, CTL_MIGRATE);
	strlcpy_x(rq.u.migrate.domain, pos[0], sizeof(rq.u.migrate.domain));
	strlcpy_x(rq.u.migrate.host, host, sizeof(rq.u.migrate.host));
	rq.u.migrate.port = port;
	rq.u.migrate.live = live;
	rq.u.migrate.watch = true;
	rq.u.migrate.ssl = ssl;
	rq.u.migrate.force = force;
	if (downtime)
		rq.u.migrate.downtime_ms = (int64_t)downtime;
	if (rounds)
		rq.u.migrate.max_rounds = (int64_t)rounds;
	if (mbit_set)
		rq.u.migrate.bandwidth_mbit = (int64_t)mbit;
	if (compress)
		strlcpy_x(rq.u.migrate.compress, compress, sizeof(rq.u.migrate.compress));
	if (autoconv >= 0)
		rq.u.migrate.auto_converge = autoconv;
	if (maxfactor > 0)
		rq.u.migrate.max_factor = maxfactor;

	/* Ctrl-C from here on cancels the job once it has an id; a second
	 * one kills xmig (SA_RESETHAND) and xmigd goes on cancelling.  An
	 * ignored SIGINT (nohup, a script's background job) stays ignored. */
	if (sigaction(SIGINT, NULL, &sa) == 0 && sa.sa_handler != SIG_IGN) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_sigint;
		sa.sa_flags = SA_RESETHAND;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
	}

	if ((rc = daemon_connect(cli, &fd)) != EXIT_OK)
		return rc;
	if ((rc = daemon_request(cli, fd, &rq, &reply)) != EXIT_OK) {
		/* xmigd went away with the request: it may have started the job. */
		fprintf(stderr, "xmig: if xmigd had started migrating %s before it stopped, "
		    "it settles %s from its records when it starts again: then check 'xmig "
		    "list' here and on %s\n", pos[0], pos[0], shown);
		close(fd);
		return rc;
	}
	if (!agreed(reply)) {
		char what[400];

		snprintf(what, sizeof(what), "cannot migrate %s to %s", pos[0], shown);
		rc = refused(reply, what);
	} else if (ctl_job_reply_decode(reply, &job, err, sizeof(err)) != 0) {
		rc = unexpected(cli, err);
	} else {
		rc = watch_stream(cli, fd, &job, shown, json, true);
	}
	json_decref(reply);
	close(fd);
	return rc;
}

int
cmd_watch(const struct cli *cli, int argc, char **argv)
{
	struct ctl_request rq;
	struct ctl_job job;
	char err[CTL_TEXT_MAX];
	json_t *reply;
	bool json = false;
	uint64_t id = 0;
	int fd, rc;

	if ((rc = parse_simple("watch", argc, argv, true, &json, &id)) != EXIT_OK)
		return rc < 0 ? EXIT_OK : rc;
	if ((rc = daemon_connect(cli, &fd)) != EXIT_OK)
		return rc;
	ctl_request_init(&rq, CTL_WATCH);
	rq.u.job.id = (int64_t)id;
	rc = daemon_request(cli, fd, &rq, &reply);
	if (rc == EXIT_OK) {
		if (!agreed(reply))
			rc = refused(reply, NULL);
		else if (ctl_job_reply_decode(reply, &job, err, sizeof(err)) != 0)
			rc = unexpected(cli, err);
		else
			rc = watch_stream(cli, fd, &job, NULL, json, false);
	}
	json_decref(reply);
	close(fd);
	return rc;
}

/* Ask xmigd for the payload of a command of the form "xmig CMD [--json]
 * [JOB]": decode the reply (0), or say why not and set *rc. */
static int
fetch(const struct cli *cli, const struct ctl_request *rq, void *out,
    int (*decode)(const json_t *o, void *out, char *err, size_t errlen), int *rc)
{
	char err[CTL_TEXT_MAX];
	json_t *reply;

	if ((*rc = daemon_call(cli, rq, &reply)) != EXIT_OK)
		return -1;
	if (!agreed(reply))
		*rc = refused(reply, NULL);
	else if (decode(reply, out, err, sizeof(err)) != 0)
		*rc = unexpected(cli, err);
	json_decref(reply);
	return *rc == EXIT_OK ? 0 : -1;
}

static int
decode_domains(const json_t *o, void *out, char *err, size_t errlen)
{
	return ctl_domain_list_reply_decode(o, out, err, errlen);
}

static int
decode_jobs(const json_t *o, void *out, char *err, size_t errlen)
{
	return ctl_job_list_reply_decode(o, out, err, errlen);
}

static int
decode_job(const json_t *o, void *out, char *err, size_t errlen)
{
	return ctl_job_reply_decode(o, out, err, errlen);
}

static int
decode_status(const json_t *o, void *out, char *err, size_t errlen)
{
	return ctl_status_reply_decode(o, out, err, errlen);
}

/* Print o (stolen) as --json does. */
static void
print_json_new(json_t *o)
{
	if (o != NULL)
		print_json(o);
	json_decref(o);
}

int
cmd_list(const struct cli *cli, int argc, char **argv)
{
	struct ctl_domain_list l;
	struct ctl_request rq;
	bool json = false;
	int rc;

	if ((rc = parse_simple("list", argc, argv, false, &json, NULL)) != EXIT_OK)
		return rc < 0 ? EXIT_OK : rc;
	ctl_request_init(&rq, CTL_LIST);
	if (fetch(cli, &rq, &l, decode_domains, &rc) != 0)
		return rc;
	if (json)
		print_json_new(ctl_domain_list_encode(&l));
	else
		print_domains(&l);
	ctl_domain_list_free(&l);
	return EXIT_OK;
}

/* jobs, history: a table of jobs, or their JSON array. */
static int
cmd_job_list(const struct cli *cli, int argc, char **argv, enum ctl_cmd cmd,
    void (*print)(const struct ctl_job_list *))
{
	struct ctl_job_list l;
	struct ctl_request rq;
	bool json = false;
	int rc;

	if ((rc = parse_simple(ctl_cmd_name(cmd), argc, argv, false, &json, NULL)) != EXIT_OK)
		return rc < 0 ? EXIT_OK : rc;
	ctl_request_init(&rq, cmd);
	if (fetch(cli, &rq, &l, decode_jobs, &rc) != 0)
		return rc;
	if (l.left_out > 0)
		fprintf(stderr, "xmig: the %lld oldest %s left out: a reply is limited to 1 MiB\n",
		    (long long)l.left_out, cmd == CTL_HISTORY ? "records" : "jobs");
	if (json)
		print_json_new(ctl_job_list_encode(&l));
	else
		print(&l);
	ctl_job_list_free(&l);
	return EXIT_OK;
}

int
cmd_jobs(const struct cli *cli, int argc, char **argv)
{
	return cmd_job_list(cli, argc, argv, CTL_JOBS, print_jobs);
}

/* Finished jobs, from the records xmigd keeps in its state dir. */
int
cmd_history(const struct cli *cli, int argc, char **argv)
{
	return cmd_job_list(cli, argc, argv, CTL_HISTORY, print_history);
}

int
cmd_job(const struct cli *cli, int argc, char **argv)
{
	struct ctl_request rq;
	struct ctl_job j;
	bool json = false;
	uint64_t id = 0;
	int rc;

	if ((rc = parse_simple("job", argc, argv, true, &json, &id)) != EXIT_OK)
		return rc < 0 ? EXIT_OK : rc;
	ctl_request_init(&rq, CTL_JOB);
	rq.u.job.id = (int64_t)id;
	if (fetch(cli, &rq, &j, decode_job, &rc) != 0)
		return rc;
	if (json)
		print_json_new(ctl_job_encode(&j));
	else
		print_job(&j);
	ctl_job_free(&j);
	return EXIT_OK;
}

int
cmd_cancel(const struct cli *cli, int argc, char **argv)
{
	struct ctl_request rq;
	json_t *reply;
	uint64_t id = 0;
	char what[48];
	int rc;

	if ((rc = parse_simple("cancel", argc, argv, true, NULL, &id)) != EXIT_OK)
		return rc < 0 ? EXIT_OK : rc;
	ctl_request_init(&rq, CTL_CANCEL);
	rq.u.job.id = (int64_t)id;
	if ((rc = daemon_call(cli, &rq, &reply)) != EXIT_OK)
		return rc;
	snprintf(what, sizeof(what), "cannot cancel job %" PRIu64, id);
	if (!agreed(reply))
		rc = refused(reply, what);
	else
		printf("job %" PRIu64 ": cancel requested\n", id);
	json_decref(reply);
	return rc;
}

int
cmd_status(const struct cli *cli, int argc, char **argv)
{
	struct ctl_request rq;
	struct ctl_status st;
	bool json = false;
	int rc;

	if ((rc = parse_simple("status", argc, argv, false, &json, NULL)) != EXIT_OK)
		return rc < 0 ? EXIT_OK : rc;
	ctl_request_init(&rq, CTL_STATUS);
	if (fetch(cli, &rq, &st, decode_status, &rc) != 0)
		return rc;
	if (json)
		print_json_new(ctl_status_encode(&st));
	else
		print_status(&st, cli->socket);
	return EXIT_OK;
}

/* ---- pins and maintenance ---- */

static int
cmd_pin_common(const struct cli *cli, int argc, char **argv, bool pin)
{
	static const struct opt opts[] = {
		{ 0, "manual-too", false, OPT_MANUAL_TOO },
		{ 0, NULL, false, 0 },
	};
	const char *cmd = pin ? "pin" : "unpin", *dom = NULL, *v;
	bool manual_too = false;
	struct ctl_pin_reply pr;
	struct ctl_request rq;
	char err[CTL_TEXT_MAX];
	json_t *reply;
	struct argp p;
	int c, rc;

	argp_init(&p, cmd, argc, argv);
	while ((c = argp_next(&p, pin ? opts : opts + 1, &v)) != ARGP_END) {
		switch (c) {
		case ARGP_ERROR:
			return EXIT_USAGE;
		case ARGP_HELP:
			print_usage(stdout, cmd);
			return EXIT_OK;
		case OPT_MANUAL_TOO:
			manual_too = true;
			break;
		case ARGP_POS:
			if (dom)
				return usage_error(cmd, "unexpected argument '%s'", v);
			dom = v;
			break;
		}
	}
	if (dom == NULL || *dom == '\0')
		return usage_error(cmd, "missing DOM");
	if (strlen(dom) >= CTL_NAME_MAX)
		return usage_error(cmd, "domain name '%s' is too long", dom);
	ctl_request_init(&rq, pin ? CTL_PIN : CTL_UNPIN);
	strlcpy_x(rq.u.pin.domain, dom, sizeof(rq.u.pin.domain));
	rq.u.pin.manual_too = manual_too;
	if ((rc = daemon_call(cli, &rq, &reply)) != EXIT_OK)
		return rc;
	if (!agreed(reply)) {
		rc = refused(reply, NULL);
	} else if (ctl_pin_reply_decode(reply, &pr, err, sizeof(err)) != 0) {
		rc = unexpected(cli, err);
	} else {
		char name[80];

		clean(name, sizeof(name), pr.domain);
		if (pin)
			printf("%s pinned to this host%s\n", name, manual_too ?
			    " (manual migrations need --force)" : " (no automatic migration)");
		else
			printf("%s unpinned\n", name);
	}
	json_decref(reply);
	return rc;
}

int
cmd_pin(const struct cli *cli, int argc, char **argv)
{
	return cmd_pin_common(cli, argc, argv, true);
}

int
cmd_unpin(const struct cli *cli, int argc, char **argv)
{
	return cmd_pin_common(cli, argc, argv, false);
}

/* One item of a batch as the progress lines show it: an evacuation's
 * domain or a balance's move. */
struct batch_item {
	const char *status, *name, *dest, *why;
	int64_t job, mem_mib, elapsed_ms;
};

/* A batch's last event: an evacuation or a balance. */
union batch_event {
	struct ctl_evac evac;
	struct ctl_balance balance;
};

/* How a batch's events read. */
struct batch_view {
	enum ctl_event_kind kind;
	const char *verb;	/* progress line: "evacuating", "balancing" */
	const char *lost;	/* what to look at when xmigd goes away */
	size_t (*nitems)(const union batch_event *ev);
	void (*item)(const union batch_event *ev, size_t i, struct batch_item *it);
	const struct ctl_batch *(*batch)(const union batch_event *ev);
	void (*release)(union batch_event *ev);
};

static size_t
evac_nitems(const union batch_event *ev)
{
	return ev->evac.ndomains;
}

static void
evac_item(const union batch_event *ev, size_t i, struct batch_item *it)
{
	const struct ctl_evac_item *d = &ev->evac.domains[i];

	it->status = d->status;
	it->name = d->name;
	it->dest = d->dest;
	it->why = d->why;
	it->job = d->job;
	it->mem_mib = d->mem_mib;
	it->elapsed_ms = d->elapsed_ms;
}

static const struct ctl_batch *
evac_batch(const union batch_event *ev)
{
	return &ev->evac.batch;
}

static void
evac_release(union batch_event *ev)
{
	ctl_evac_free(&ev->evac);
}

static size_t
balance_nitems(const union batch_event *ev)
{
	return ev->balance.nmoves;
}

static void
balance_item(const union batch_event *ev, size_t i, struct batch_item *it)
{
	const struct ctl_balance_move *m = &ev->balance.moves[i];

	it->status = m->status;
	it->name = m->domain;
	it->dest = m->to;
	it->why = m->reason;
	it->job = m->job;
	it->mem_mib = m->mem_mib;
	it->elapsed_ms = m->elapsed_ms;
}

static const struct ctl_batch *
balance_batch(const union batch_event *ev)
{
	return &ev->balance.batch;
}

static void
balance_release(union batch_event *ev)
{
	ctl_balance_free(&ev->balance);
}

static const struct batch_view evac_view = {
	CTL_EVENT_EVACUATION, "evacuating",
	"the evacuation goes on: see 'xmig maintenance status'",
	evac_nitems, evac_item, evac_batch, evac_release,
};

static const struct batch_view balance_view = {
	CTL_EVENT_BALANCE, "balancing",
	"the migrations go on: see 'xmig jobs'",
	balance_nitems, balance_item, balance_batch, balance_release,
};

/* Per-item lines as a batch goes: one when an item starts moving and one
 * when it ends (seen[] remembers what was already printed).  Items another
 * host runs, or that wait, are for the final report. */
static void
batch_show_changes(const struct batch_view *v, const union batch_event *ev, char *seen,
    uint64_t *seen_job, size_t nseen)
{
	size_t i, n = v->nitems(ev);

	for (i = 0; i < n; i++) {
		struct batch_item d;
		const char *st;
		char name[80], dest[260], why[400], mark;

		v->item(ev, i, &d);
		st = d.status;
		if (i >= nseen)
			break;
		mark = strcmp(st, "migrating") == 0 ? 'm' : strcmp(st, "shutting-down") == 0 ?
		    's' : strcmp(st, "pending") == 0 ||
		    strcmp(st, "other-host") == 0 || strcmp(st, "held") == 0 ||
		    strcmp(st, "planned") == 0 ? 'p' : 'e';
		/* A retry elsewhere is a new job: shown again. */
		if ((seen[i] == mark && (mark != 'm' || seen_job[i] == u64(d.job))) ||
		    mark == 'p')
			continue;
		seen[i] = mark;
		seen_job[i] = u64(d.job);
		clean(name, sizeof(name), d.name);
		clean(dest, sizeof(dest), d.dest);
		clean(why, sizeof(why), d.why);
		progress_clear();
		if (mark == 'm')
			printf("  %-20s %5" PRIu64 " MiB -> %s (job %" PRIu64 ")\n", name,
			    u64(d.mem_mib), dest, u64(d.job));
		else if (strcmp(st, "done") == 0)
			printf("  %-20s done on %s in %.1f s\n", name, dest,
			    (double)u64(d.elapsed_ms) / 1000.0);
		else if (strcmp(st, "shut-down") == 0)
			printf("  %-20s shut down in %.1f s (pinned)\n", name,
			    (double)u64(d.elapsed_ms) / 1000.0);
		else if (mark == 's')
			printf("  %-20s pinned: shutting down\n", name);
		else
			printf("  %-20s %s%s%s\n", name, st, why[0] ? ": " : "", why);
		fflush(stdout);
	}
}

/* Follow a batch's events on fd until "done"; *last is its final state
 * (v->release it).  EXIT_OK, or EXIT_NO_DAEMON (said why) when xmigd went
 * away. */
static int
batch_follow(const struct batch_view *v, int fd, bool json, union batch_event *last)
{
	bool progress = !json && isatty(STDERR_FILENO), have = false;
	char seen[1024], err[CTL_TEXT_MAX];
	uint64_t seen_job[1024];

	memset(seen, 0, sizeof(seen));
	memset(seen_job, 0, sizeof(seen_job));
	/* Events until "done"; the batch goes on in xmigd if we leave. */
	for (;;) {
		union batch_event next;
		const struct ctl_batch *b;
		json_t *m;
		bool done;
		int r;

		if ((r = ctl_recv(fd, &m, WATCH_IDLE_MS)) != 0) {
			progress_clear();
			fprintf(stderr, "xmig: lost contact with xmigd (%s); %s\n",
			    xmig_strerror(r), v->lost);
			if (have)
				v->release(last);
			return EXIT_NO_DAEMON;
		}
		r = ctl_event_decode(m, v->kind, &done, &next, err, sizeof(err));
		json_decref(m);
		if (r != 0)
			continue;
		if (have)
			v->release(last);
		*last = next;
		have = true;
		if (!json)
			batch_show_changes(v, last, seen, seen_job, sizeof(seen));
		if (done)
			break;
		if (progress) {
			b = v->batch(last);
			fprintf(stderr, "\r\033[K%s: %" PRIu64 "/%" PRIu64 " moved, %" PRIu64
			    " migrating, %" PRIu64 " failed, %.0f s", v->verb, u64(b->moved),
			    u64(b->total), u64(b->migrating), u64(b->failed),
			    (double)u64(b->elapsed_ms) / 1000.0);
			fflush(stderr);
		}
	}
	if (progress)
		fputs("\r\033[K", stderr);
	return EXIT_OK;
}

/* The end of an evacuation: 0 when the host reached maintenance, else 1
 * with one stderr line per domain left. */
static int
maint_result(const struct ctl_evac *ev, bool json)
{
	const char *state = ev->host_state;
	bool ok = strcmp(state, "maintenance") == 0;
	size_t i;

	if (json) {
		print_json_new(ctl_evac_encode(ev));
		return ok ? EXIT_OK : EXIT_FAILED;
	}
	if (u64(ev->batch.shut_down) > 0)
		printf("evacuation %s: %" PRIu64 " of %" PRIu64 " domains moved, %" PRIu64
		    " shut down, in %.1f s; host %s\n", ok ? "complete" : "incomplete",
		    u64(ev->batch.moved), u64(ev->batch.total), u64(ev->batch.shut_down),
		    (double)u64(ev->batch.elapsed_ms) / 1000.0, state[0] ? state : "?");
	else
		printf("evacuation %s: %" PRIu64 " of %" PRIu64 " domains moved in %.1f s; "
		    "host %s\n", ok ? "complete" : "incomplete", u64(ev->batch.moved),
		    u64(ev->batch.total), (double)u64(ev->batch.elapsed_ms) / 1000.0,
		    state[0] ? state : "?");
	if (ok)
		return EXIT_OK;
	if (ev->batch.error[0]) {
		char err[400];

		fprintf(stderr, "xmig: maintenance: %s\n", clean(err, sizeof(err),
		    ev->batch.error));
	}
	for (i = 0; i < ev->ndomains; i++) {
		const struct ctl_evac_item *d = &ev->domains[i];
		char name[80], why[400];

		if (strcmp(d->status, "done") == 0)
			continue;
		fprintf(stderr, "xmig: maintenance: %s left on this host: %s\n",
		    clean(name, sizeof(name), d->name), clean(why, sizeof(why), d->why));
	}
	return EXIT_FAILED;
}

static int
maint_enter(const struct cli *cli, int argc, char **argv)
{
	static const struct opt opts[] = {
		{ 0, "to", true, OPT_TO },
		{ 0, "parallel", true, OPT_PARALLEL },
		{ 'l', "live", false, 'l' },
		{ 0, "offline", false, OPT_OFFLINE },
		{ 0, "reason", true, OPT_REASON },
		{ 0, "shutdown-pinned", false, OPT_SHUTDOWN_PINNED },
		{ 0, "json", false, OPT_JSON },
		{ 0, NULL, false, 0 },
	};
	const char *to = NULL, *reason = NULL, *v;
	bool live = true, json = false, shutdown_pinned = false;
	uint64_t parallel = CTL_PARALLEL_DEFAULT;
	union batch_event last;
	struct ctl_request rq;
	json_t *reply;
	struct argp p;
	int c, fd, rc;

	argp_init(&p, "maintenance", argc, argv);
	while ((c = argp_next(&p, opts, &v)) != ARGP_END) {
		switch (c) {
		case ARGP_ERROR:
			return EXIT_USAGE;
		case ARGP_HELP:
			print_usage(stdout, "maintenance");
			return EXIT_OK;
		case OPT_TO:
			if (strlen(v) >= CTL_TEXT_MAX)
				return usage_error("maintenance", "--to is too long (at most %d "
				    "characters)", CTL_TEXT_MAX - 1);
			to = v;
			break;
		case OPT_PARALLEL:
			if (parse_u64(v, CTL_PARALLEL_MIN, CTL_PARALLEL_MAX, &parallel) != 0)
				return usage_error("maintenance", "bad --parallel '%s' (%d-%d)", v,
				    CTL_PARALLEL_MIN, CTL_PARALLEL_MAX);
			break;
		case 'l':
			live = true;
			break;
		case OPT_OFFLINE:
			live = false;
			break;
		case OPT_REASON:
			if (strlen(v) >= CTL_TEXT_MAX)
				return usage_error("maintenance", "--reason is too long (at most %d "
				    "characters)", CTL_TEXT_MAX - 1);
			reason = v;
			break;
		case OPT_SHUTDOWN_PINNED:
			shutdown_pinned = true;
			break;
		case OPT_JSON:
			json = true;
			break;
		case ARGP_POS:
			return usage_error("maintenance", "unexpected argument '%s'", v);
		}
	}
	ctl_request_init(&rq, CTL_MAINTENANCE);
	rq.u.maint.action = CTL_MAINT_ENTER;
	rq.u.maint.parallel = (int64_t)parallel;
	rq.u.maint.live = live;
	rq.u.maint.shutdown_pinned = shutdown_pinned;
	rq.u.maint.watch = true;
	if (to)
		strlcpy_x(rq.u.maint.to, to, sizeof(rq.u.maint.to));
	if (reason)
		strlcpy_x(rq.u.maint.reason, reason, sizeof(rq.u.maint.reason));
	if ((rc = daemon_open_session(cli, &rq, "cannot enter maintenance", &fd,
	    &reply)) != EXIT_OK)
		return rc;
	json_decref(reply);
	rc = batch_follow(&evac_view, fd, json, &last);
	close(fd);
	if (rc != EXIT_OK)
		return rc;
	rc = maint_result(&last.evac, json);
	evac_view.release(&last);
	return rc;
}

int
cmd_maintenance(const struct cli *cli, int argc, char **argv)
{
	const char *sub = argc > 0 ? argv[0] : NULL;
	struct ctl_maint_status st;
	struct ctl_request rq;
	json_t *reply;
	bool json = false;
	int rc;

	if (sub == NULL)
		return usage_error("maintenance", "missing enter, exit or status");
	if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0) {
		print_usage(stdout, "maintenance");
		return EXIT_OK;
	}
	if (strcmp(sub, "enter") == 0)
		return maint_enter(cli, argc - 1, argv + 1);
	if (strcmp(sub, "exit") != 0 && strcmp(sub, "status") != 0)
		return usage_error("maintenance", "unknown action '%s' (enter, exit, status)", sub);
	if ((rc = parse_simple("maintenance", argc - 1, argv + 1, false, &json, NULL)) != EXIT_OK)
		return rc < 0 ? EXIT_OK : rc;
	ctl_request_init(&rq, CTL_MAINTENANCE);
	rq.u.maint.action = strcmp(sub, "exit") == 0 ? CTL_MAINT_EXIT : CTL_MAINT_STATUS;
	if ((rc = daemon_call(cli, &rq, &reply)) != EXIT_OK)
		return rc;
	if (!agreed(reply)) {
		rc = refused(reply, "maintenance");
	} else {
		char err[CTL_TEXT_MAX];

		if (ctl_maint_status_reply_decode(reply, &st, err, sizeof(err)) != 0) {
			rc = unexpected(cli, err);
		} else {
			if (json)
				print_json_new(ctl_maint_status_encode(&st));
			else
				print_maint(&st);
			ctl_maint_status_free(&st);
		}
	}
	json_decref(reply);
	return rc;
}

/* ---- balance ---- */

/* The end of a balance: 0 when every move this host ran is done, else 1
 * with one stderr line per domain that stayed. */
static int
balance_result(const struct ctl_balance *b, bool json)
{
	unsigned here = 0, done = 0;
	size_t i;

	for (i = 0; i < b->nmoves; i++) {
		const char *st = b->moves[i].status;

		if (strcmp(st, "other-host") == 0 || strcmp(st, "held") == 0)
			continue;
		here++;
		done += strcmp(st, "done") == 0;
	}
	if (json) {
		print_json_new(ctl_balance_encode(b));
		return done == here ? EXIT_OK : EXIT_FAILED;
	}
	if (here == 0)
		printf("balance: no move to run from this host\n");
	else
		printf("balance %s: %u of %u moves done in %.1f s\n", done == here ? "complete" :
		    "incomplete", done, here, (double)u64(b->batch.elapsed_ms) / 1000.0);
	print_balance_notes(b);
	if (done == here)
		return EXIT_OK;
	if (b->batch.error[0]) {
		char err[400];

		fprintf(stderr, "xmig: balance: %s\n", clean(err, sizeof(err), b->batch.error));
	}
	for (i = 0; i < b->nmoves; i++) {
		const struct ctl_balance_move *m = &b->moves[i];
		char name[80], why[400];

		if (strcmp(m->status, "done") == 0 || strcmp(m->status, "other-host") == 0 ||
		    strcmp(m->status, "held") == 0)
			continue;
		fprintf(stderr, "xmig: balance: %s stays on this host: %s\n",
		    clean(name, sizeof(name), m->domain), clean(why, sizeof(why), m->reason));
	}
	return EXIT_FAILED;
}

int
cmd_balance(const struct cli *cli, int argc, char **argv)
{
	static const struct opt opts[] = {
		{ 0, "policy", true, OPT_POLICY },
		{ 0, "dry-run", false, OPT_DRY_RUN },
		{ 0, "max-moves", true, OPT_MAX_MOVES },
		{ 0, "json", false, OPT_JSON },
		{ 0, NULL, false, 0 },
	};
	const char *policy = "even", *v;
	bool dry_run = false, json = false;
	uint64_t max_moves = 0;
	union batch_event last;
	struct ctl_balance plan;
	struct ctl_request rq;
	char err[CTL_TEXT_MAX];
	json_t *reply;
	struct argp p;
	int c, fd, rc;

	argp_init(&p, "balance", argc, argv);
	while ((c = argp_next(&p, opts, &v)) != ARGP_END) {
		switch (c) {
		case ARGP_ERROR:
			return EXIT_USAGE;
		case ARGP_HELP:
			print_usage(stdout, "balance");
			return EXIT_OK;
		case OPT_POLICY:
			if (strcmp(v, "even") != 0 && strcmp(v, "power-saving") != 0)
				return usage_error("balance", "unknown policy '%s' (even or "
				    "power-saving)", v);
			policy = v;
			break;
		case OPT_DRY_RUN:
			dry_run = true;
			break;
		case OPT_MAX_MOVES:
			if (parse_u64(v, 1, CTL_MAX_MOVES_MAX, &max_moves) != 0)
				return usage_error("balance", "bad --max-moves '%s' (1-%d)", v,
				    CTL_MAX_MOVES_MAX);
			break;
		case OPT_JSON:
			json = true;
			break;
		case ARGP_POS:
			return usage_error("balance", "unexpected argument '%s'", v);
		}
	}
	ctl_request_init(&rq, CTL_BALANCE);
	strlcpy_x(rq.u.balance.policy, policy, sizeof(rq.u.balance.policy));
	rq.u.balance.dry_run = dry_run;
	rq.u.balance.max_moves = (int64_t)max_moves;
	rq.u.balance.watch = !dry_run;
	if ((rc = daemon_open_session(cli, &rq, "balance", &fd, &reply)) != EXIT_OK)
		return rc;
	rc = ctl_balance_reply_decode(reply, &plan, err, sizeof(err));
	json_decref(reply);
	if (rc != 0) {
		close(fd);
		return unexpected(cli, err);
	}
	if (dry_run) {
		close(fd);
		if (json)
			print_json_new(ctl_balance_encode(&plan));
		else
			print_balance_plan(&plan);
		ctl_balance_free(&plan);
		return EXIT_OK;
	}
	if (!json)
		print_balance_head(&plan);
	ctl_balance_free(&plan);
	rc = batch_follow(&balance_view, fd, json, &last);
	close(fd);
	if (rc != EXIT_OK)
		return rc;
	rc = balance_result(&last.balance, json);
	balance_view.release(&last);
	return rc;
}
