/* cmd.c - xmig's commands: check the arguments, ask xmigd, print.
 *
 * Arguments are validated here, before any connection, so that a typo is
 * a usage error (exit 2) naming the argument rather than a refusal from the
 * daemon.  Every failure prints exactly one line to stderr.
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

enum { OPT_JSON = 1000, OPT_DOWNTIME, OPT_MAX_ROUNDS, OPT_COMPRESS, OPT_AUTOCONV, OPT_MAXFACTOR,
	OPT_FORCE, OPT_MANUAL_TOO, OPT_TO, OPT_PARALLEL, OPT_OFFLINE, OPT_REASON,
	OPT_SHUTDOWN_PINNED, OPT_POLICY, OPT_DRY_RUN, OPT_MAX_MOVES };

/* xmigd's limits for the migrate request's numbers (ctlsrv.c). */
#define MAX_DOWNTIME_MS 600000
#define MAX_ROUNDS 100000
#define MAX_MBIT 10000000

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

/* Send req (the reference is consumed) and read the first reply, which
 * has a boolean "ok".  Returns an exit code; *reply is set on EXIT_OK. */
static int
daemon_request(const struct cli *cli, int fd, json_t *req, json_t **reply)
{
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
	if (!json_is_boolean(json_object_get(*reply, "ok"))) {
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
daemon_call(const struct cli *cli, json_t *req, json_t **reply)
{
	int fd, rc;

	*reply = NULL;
	if ((rc = daemon_connect(cli, &fd)) != EXIT_OK) {
		json_decref(req);
		return rc;
	}
	rc = daemon_request(cli, fd, req, reply);
	close(fd);
	return rc;
}

/* xmigd said no: "xmig: [what: ]reason", exit 1. */
static int
refused(const json_t *reply, const char *what)
{
	char err[600];

	clean(err, sizeof(err), jstr(reply, "error"));
	if (what)
		fprintf(stderr, "xmig: %s: %s\n", what, err[0] ? err : "refused by xmigd");
	else
		fprintf(stderr, "xmig: %s\n", err[0] ? err : "refused by xmigd");
	return EXIT_FAILED;
}

/* Open a session for a request whose events follow its reply: connect,
 * send req (consumed), and demand "ok" (and, if need is set, an object
 * under that key).  EXIT_OK with *fd open and *reply set, else an exit code
 * with the reason printed and nothing left open. */
static int
daemon_open_session(const struct cli *cli, json_t *req, const char *what, const char *need,
    int *fd, json_t **reply)
{
	int rc;

	*reply = NULL;
	if ((rc = daemon_connect(cli, fd)) != EXIT_OK) {
		json_decref(req);
		return rc;
	}
	if ((rc = daemon_request(cli, *fd, req, reply)) != EXIT_OK) {
		close(*fd);
		return rc;
	}
	if (!json_is_true(json_object_get(*reply, "ok")) ||
	    (need != NULL && !json_is_object(json_object_get(*reply, need)))) {
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
	json_t *reply;
	int rc;

	rc = daemon_call(cli, json_pack("{s:s, s:I}", "cmd", "cancel", "id", (json_int_t)id),
	    &reply);
	if (rc == EXIT_OK && !json_is_true(json_object_get(reply, "ok"))) {
		char what[48];

		snprintf(what, sizeof(what), "cannot cancel job %" PRIu64, id);
		refused(reply, what);
	}
	json_decref(reply);
}

/* What xmigd said the operator should know before the domain moves
 * ("warnings", e.g. no toolstack configuration to reboot it from). */
static void
print_warnings(const json_t *job)
{
	json_t *w = json_object_get(job, "warnings"), *v;
	char line[300];
	size_t i;

	json_array_foreach(w, i, v)
		if (json_is_string(v))
			fprintf(stderr, "xmig: warning: %s\n",
			    clean(line, sizeof(line), json_string_value(v)));
}

/* Follow the event stream on fd until the job's "done" event.  job is the
 * first reply's job.  Returns the exit code for the result. */
static int
watch_stream(const struct cli *cli, int fd, const json_t *job, const char *peer, bool json,
    bool cancel_on_sigint)
{
	bool progress = !json && isatty(STDERR_FILENO);
	uint64_t id = ju64(job, "id");
	char dom[80], pr[300];
	json_t *last = json_deep_copy(job), *m;
	uint64_t last_msg = now_ms();
	bool cancelled = false;
	int rc, r;

	if (peer == NULL)
		peer = jstr(job, "peer") ? jstr(job, "peer") : "?";
	/* Keep our own copy of the peer: job references die with their message. */
	snprintf(pr, sizeof(pr), "%s", peer);
	clean(dom, sizeof(dom), jstr(job, "domain"));
	print_warnings(job);
	if (progress && last)
		progress_show(last, pr);
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		const char *ev;
		json_t *jo;
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
		ev = jstr(m, "event");
		jo = json_object_get(m, "job");
		if (ev == NULL || !json_is_object(jo) ||
		    (strcmp(ev, "progress") != 0 && strcmp(ev, "done") != 0)) {
			json_decref(m);
			r = XMIG_ERR_UNEXPECTED;
			goto lost;
		}
		json_decref(last);
		last = json_incref(jo);
		done = strcmp(ev, "done") == 0;
		json_decref(m);	/* ev points into m */
		if (done)
			break;
		if (progress)
			progress_show(last, pr);
	}
	progress_clear();
	rc = print_result(last, pr, json);
	json_decref(last);
	return rc;

lost:
	progress_clear();
	if (r == XMIG_ERR_EOF) {
		/* xmigd went away (crashed, killed, restarted): the job and its id
		 * are gone with it, its records are not. */
		bool in = jstr(job, "direction") && strcmp(jstr(job, "direction"), "in") == 0;

		fprintf(stderr, "xmig: xmigd stopped while %s %s %s %s (job %" PRIu64 "); when it starts "
		    "again it settles %s from its records: then check 'xmig list' here and on "
		    "%s\n", in ? "receiving" : "migrating", dom, in ? "from" : "to", pr, id, dom,
		    pr);
	} else {
		fprintf(stderr, "xmig: lost contact with xmigd while watching job %" PRIu64 " (%s); "
		    "the migration may go on: see 'xmig job %" PRIu64 "'\n", id,
		    r == XMIG_ERR_UNEXPECTED ? "unexpected message" : xmig_strerror(r), id);
	}
	json_decref(last);
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
		{ 0, "max-factor", true, OPT_MAXFACTOR },
		{ 0, "force", false, OPT_FORCE },
		{ 0, NULL, false, 0 },
	};
	const char *compress = NULL;
	bool autoconv = false, force = false;
	double maxfactor = 0;
	const char *pos[2] = { NULL, NULL }, *v;
	const char *port_arg = NULL;
	char host[PROTO_HOST_MAX], shown[PROTO_HOST_MAX + 16];
	uint64_t downtime = 0, rounds = 0, mbit = 0, u;
	uint16_t port = CONF_DEFAULT_PORT;
	bool live = false, json = false, ssl = false;
	struct sigaction sa;
	json_t *req, *reply;
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
			if (parse_u64(v, 1, MAX_MBIT, &mbit) != 0)
				return usage_error("migrate", "bad rate '%s' (1-%u Mbit/s)", v, MAX_MBIT);
			break;
		case OPT_DOWNTIME:
			if (parse_u64(v, 1, MAX_DOWNTIME_MS, &downtime) != 0)
				return usage_error("migrate", "bad downtime '%s' (1-%u ms)", v,
				    MAX_DOWNTIME_MS);
			break;
		case OPT_MAX_ROUNDS:
			if (parse_u64(v, 1, MAX_ROUNDS, &rounds) != 0)
				return usage_error("migrate", "bad round count '%s' (1-%u)", v, MAX_ROUNDS);
			break;
		case OPT_COMPRESS:
			if (compress_mode_parse(v) < 0)
				return usage_error("migrate", "bad compression '%s' (zstd, lz4, none "
				    "or auto)", v);
			compress = v;
			break;
		case OPT_AUTOCONV:
			autoconv = true;
			break;
		case OPT_FORCE:
			force = true;
			break;
		case OPT_MAXFACTOR: {
			char *end;

			maxfactor = strtod(v, &end);
			if (*v == '\0' || *end != '\0' || !(maxfactor >= 1.0 && maxfactor <= 100.0))
				return usage_error("migrate", "bad factor '%s' (1-100)", v);
			break;
		}
		}
	}
	if (npos < 2)
		return usage_error("migrate", npos == 0 ? "missing DOM and HOST" : "missing HOST");
	if (pos[0][0] == '\0')
		return usage_error("migrate", "empty domain name");
	if (strlen(pos[0]) >= PROTO_NAME_MAX)
		return usage_error("migrate", "domain name '%s' is too long (at most %d characters)",
		    pos[0], PROTO_NAME_MAX - 1);
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

	req = json_pack("{s:s, s:s, s:s, s:i, s:b, s:b}", "cmd", "migrate", "domain", pos[0],
	    "host", host, "port", (int)port, "live", live, "watch", 1);
	if (req && downtime)
		json_object_set_new(req, "downtime_ms", json_integer((json_int_t)downtime));
	if (req && rounds)
		json_object_set_new(req, "max_rounds", json_integer((json_int_t)rounds));
	if (req && mbit)
		json_object_set_new(req, "bandwidth_mbit", json_integer((json_int_t)mbit));
	if (req && ssl)
		json_object_set_new(req, "ssl", json_true());
	if (req && compress)
		json_object_set_new(req, "compress", json_string(compress));
	if (req && autoconv)
		json_object_set_new(req, "auto_converge", json_true());
	if (req && force)
		json_object_set_new(req, "force", json_true());
	if (req && maxfactor > 0)
		json_object_set_new(req, "max_factor", json_real(maxfactor));

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

	if ((rc = daemon_connect(cli, &fd)) != EXIT_OK) {
		json_decref(req);
		return rc;
	}
	if ((rc = daemon_request(cli, fd, req, &reply)) != EXIT_OK) {
		/* xmigd went away with the request: it may have started the job. */
		fprintf(stderr, "xmig: if xmigd had started migrating %s before it stopped, "
		    "it settles %s from its records when it starts again: then check 'xmig "
		    "list' here and on %s\n", pos[0], pos[0], shown);
		close(fd);
		return rc;
	}
	if (!json_is_true(json_object_get(reply, "ok"))) {
		char what[400];

		snprintf(what, sizeof(what), "cannot migrate %s to %s", pos[0], shown);
		rc = refused(reply, what);
	} else if (!json_is_object(json_object_get(reply, "job"))) {
		fprintf(stderr, "xmig: unexpected reply from xmigd at %s (no job)\n", cli->socket);
		rc = EXIT_NO_DAEMON;
	} else {
		rc = watch_stream(cli, fd, json_object_get(reply, "job"), shown, json, true);
	}
	json_decref(reply);
	close(fd);
	return rc;
}

int
cmd_watch(const struct cli *cli, int argc, char **argv)
{
	json_t *reply;
	bool json = false;
	uint64_t id = 0;
	int fd, rc;

	if ((rc = parse_simple("watch", argc, argv, true, &json, &id)) != EXIT_OK)
		return rc < 0 ? EXIT_OK : rc;
	if ((rc = daemon_connect(cli, &fd)) != EXIT_OK)
		return rc;
	rc = daemon_request(cli, fd, json_pack("{s:s, s:I}", "cmd", "watch", "id",
	    (json_int_t)id), &reply);
	if (rc == EXIT_OK) {
		if (!json_is_true(json_object_get(reply, "ok")))
			rc = refused(reply, NULL);
		else if (!json_is_object(json_object_get(reply, "job"))) {
			fprintf(stderr, "xmig: unexpected reply from xmigd at %s (no job)\n",
			    cli->socket);
			rc = EXIT_NO_DAEMON;
		} else
			rc = watch_stream(cli, fd, json_object_get(reply, "job"), NULL, json, false);
	}
	json_decref(reply);
	close(fd);
	return rc;
}

/* Print reply[key] (an array, or an object when !array) as a table or
 * JSON; a refusal or a reply of the wrong shape gives one line and its exit
 * code.  Consumes reply. */
static int
show_reply(const struct cli *cli, json_t *reply, const char *key, bool array, bool json,
    void (*print)(const json_t *))
{
	json_t *v = json_object_get(reply, key);
	int rc = EXIT_OK;

	if (!json_is_true(json_object_get(reply, "ok")))
		rc = refused(reply, NULL);
	else if (array ? !json_is_array(v) : !json_is_object(v)) {
		fprintf(stderr, "xmig: unexpected reply from xmigd at %s (no %s)\n", cli->socket,
		    key);
		rc = EXIT_NO_DAEMON;
	} else if (json)
		print_json(v);
	else
		print(v);
	json_decref(reply);
	return rc;
}

/* The commands that fetch one array and print it as a table or JSON. */
static int
cmd_fetch_list(const struct cli *cli, int argc, char **argv, const char *name,
    const char *key, void (*print)(const json_t *))
{
	json_t *reply;
	bool json = false;
	int rc;

	if ((rc = parse_simple(name, argc, argv, false, &json, NULL)) != EXIT_OK)
		return rc < 0 ? EXIT_OK : rc;
	if ((rc = daemon_call(cli, json_pack("{s:s}", "cmd", name), &reply)) != EXIT_OK)
		return rc;
	return show_reply(cli, reply, key, true, json, print);
}

int
cmd_list(const struct cli *cli, int argc, char **argv)
{
	return cmd_fetch_list(cli, argc, argv, "list", "domains", print_domains);
}

int
cmd_jobs(const struct cli *cli, int argc, char **argv)
{
	return cmd_fetch_list(cli, argc, argv, "jobs", "jobs", print_jobs);
}

/* Finished jobs, from the records xmigd keeps in its state dir. */
int
cmd_history(const struct cli *cli, int argc, char **argv)
{
	return cmd_fetch_list(cli, argc, argv, "history", "jobs", print_history);
}

int
cmd_job(const struct cli *cli, int argc, char **argv)
{
	json_t *reply;
	bool json = false;
	uint64_t id = 0;
	int rc;

	if ((rc = parse_simple("job", argc, argv, true, &json, &id)) != EXIT_OK)
		return rc < 0 ? EXIT_OK : rc;
	if ((rc = daemon_call(cli, json_pack("{s:s, s:I}", "cmd", "job", "id", (json_int_t)id),
	    &reply)) != EXIT_OK)
		return rc;
	return show_reply(cli, reply, "job", false, json, print_job);
}

int
cmd_cancel(const struct cli *cli, int argc, char **argv)
{
	json_t *reply;
	uint64_t id = 0;
	char what[48];
	int rc;

	if ((rc = parse_simple("cancel", argc, argv, true, NULL, &id)) != EXIT_OK)
		return rc < 0 ? EXIT_OK : rc;
	if ((rc = daemon_call(cli, json_pack("{s:s, s:I}", "cmd", "cancel", "id",
	    (json_int_t)id), &reply)) != EXIT_OK)
		return rc;
	snprintf(what, sizeof(what), "cannot cancel job %" PRIu64, id);
	if (!json_is_true(json_object_get(reply, "ok")))
		rc = refused(reply, what);
	else
		printf("job %" PRIu64 ": cancel requested\n", id);
	json_decref(reply);
	return rc;
}

int
cmd_status(const struct cli *cli, int argc, char **argv)
{
	json_t *reply;
	bool json = false;
	int rc;

	if ((rc = parse_simple("status", argc, argv, false, &json, NULL)) != EXIT_OK)
		return rc < 0 ? EXIT_OK : rc;
	if ((rc = daemon_call(cli, json_pack("{s:s}", "cmd", "status"), &reply)) != EXIT_OK)
		return rc;
	if (!json_is_true(json_object_get(reply, "ok"))) {
		rc = refused(reply, NULL);
	} else if (json) {
		json_object_del(reply, "ok");
		print_json(reply);
	} else {
		print_status(reply, cli->socket);
	}
	json_decref(reply);
	return rc;
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
	json_t *reply, *req;
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
	if (strlen(dom) >= PROTO_NAME_MAX)
		return usage_error(cmd, "domain name '%s' is too long", dom);
	req = json_pack("{s:s, s:s, s:b}", "cmd", cmd, "domain", dom, "manual_too", manual_too);
	if ((rc = daemon_call(cli, req, &reply)) != EXIT_OK)
		return rc;
	if (!json_is_true(json_object_get(reply, "ok"))) {
		rc = refused(reply, NULL);
	} else {
		char name[80];

		clean(name, sizeof(name), jstr(reply, "domain"));
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

/* How a batch's events read: an evacuation's domains or a balance's moves. */
struct batch_view {
	const char *key;	/* the event's object: "evacuation", "balance" */
	const char *items;	/* its array: "domains", "moves" */
	const char *name, *dest, *reason;	/* item fields */
	const char *verb;	/* progress line: "evacuating", "balancing" */
	const char *lost;	/* what to look at when xmigd goes away */
};

static const struct batch_view evac_view = {
	"evacuation", "domains", "name", "dest", "why", "evacuating",
	"the evacuation goes on: see 'xmig maintenance status'",
};

static const struct batch_view balance_view = {
	"balance", "moves", "domain", "to", "reason", "balancing",
	"the migrations go on: see 'xmig jobs'",
};

/* Per-item lines as a batch goes: one when an item starts moving and one
 * when it ends (seen[] remembers what was already printed).  Items another
 * host runs, or that wait, are for the final report. */
static void
batch_show_changes(const struct batch_view *v, const json_t *ev, char *seen, uint64_t *seen_job,
    size_t nseen)
{
	const json_t *d;
	size_t i;

	json_array_foreach(json_object_get(ev, v->items), i, d) {
		const char *st = jstr(d, "status");
		char name[80], dest[260], why[400], mark;

		if (i >= nseen || st == NULL)
			break;
		mark = strcmp(st, "migrating") == 0 ? 'm' : strcmp(st, "shutting-down") == 0 ?
		    's' : strcmp(st, "pending") == 0 ||
		    strcmp(st, "other-host") == 0 || strcmp(st, "held") == 0 ||
		    strcmp(st, "planned") == 0 ? 'p' : 'e';
		/* A retry elsewhere is a new job: shown again. */
		if ((seen[i] == mark && (mark != 'm' || seen_job[i] == ju64(d, "job"))) ||
		    mark == 'p')
			continue;
		seen[i] = mark;
		seen_job[i] = ju64(d, "job");
		clean(name, sizeof(name), jstr(d, v->name));
		clean(dest, sizeof(dest), jstr(d, v->dest));
		clean(why, sizeof(why), jstr(d, v->reason));
		progress_clear();
		if (mark == 'm')
			printf("  %-20s %5" PRIu64 " MiB -> %s (job %" PRIu64 ")\n", name,
			    ju64(d, "mem_mib"), dest, ju64(d, "job"));
		else if (strcmp(st, "done") == 0)
			printf("  %-20s done on %s in %.1f s\n", name, dest,
			    (double)ju64(d, "elapsed_ms") / 1000.0);
		else if (strcmp(st, "shut-down") == 0)
			printf("  %-20s shut down in %.1f s (pinned)\n", name,
			    (double)ju64(d, "elapsed_ms") / 1000.0);
		else if (mark == 's')
			printf("  %-20s pinned: shutting down\n", name);
		else
			printf("  %-20s %s%s%s\n", name, st, why[0] ? ": " : "", why);
		fflush(stdout);
	}
}

/* Follow a batch's events on fd until "done"; *last is its final state.
 * EXIT_OK, or EXIT_NO_DAEMON (said why) when xmigd went away. */
static int
batch_follow(const struct batch_view *v, int fd, bool json, json_t **last)
{
	bool progress = !json && isatty(STDERR_FILENO);
	char seen[1024];
	uint64_t seen_job[1024];

	memset(seen, 0, sizeof(seen));
	memset(seen_job, 0, sizeof(seen_job));
	*last = NULL;
	/* Events until "done"; the batch goes on in xmigd if we leave. */
	for (;;) {
		const char *evname;
		json_t *m, *ev;
		bool done;
		int r;

		if ((r = ctl_recv(fd, &m, WATCH_IDLE_MS)) != 0) {
			progress_clear();
			fprintf(stderr, "xmig: lost contact with xmigd (%s); %s\n",
			    xmig_strerror(r), v->lost);
			json_decref(*last);
			*last = NULL;
			return EXIT_NO_DAEMON;
		}
		evname = jstr(m, "event");
		ev = json_object_get(m, v->key);
		if (evname == NULL || !json_is_object(ev)) {
			json_decref(m);
			continue;
		}
		json_decref(*last);
		*last = json_incref(ev);
		done = strcmp(evname, "done") == 0;
		json_decref(m);
		if (!json)
			batch_show_changes(v, *last, seen, seen_job, sizeof(seen));
		if (done)
			break;
		if (progress) {
			fprintf(stderr, "\r\033[K%s: %" PRIu64 "/%" PRIu64 " moved, %" PRIu64
			    " migrating, %" PRIu64 " failed, %.0f s", v->verb, ju64(*last, "moved"),
			    ju64(*last, "total"), ju64(*last, "migrating"), ju64(*last, "failed"),
			    (double)ju64(*last, "elapsed_ms") / 1000.0);
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
maint_result(const json_t *ev, bool json)
{
	const char *state = jstr(ev, "host_state");
	bool ok = state && strcmp(state, "maintenance") == 0;
	const json_t *d;
	size_t i;

	if (json) {
		print_json(ev);
		return ok ? EXIT_OK : EXIT_FAILED;
	}
	if (ju64(ev, "shut_down") > 0)
		printf("evacuation %s: %" PRIu64 " of %" PRIu64 " domains moved, %" PRIu64
		    " shut down, in %.1f s; host %s\n", ok ? "complete" : "incomplete",
		    ju64(ev, "moved"), ju64(ev, "total"), ju64(ev, "shut_down"),
		    (double)ju64(ev, "elapsed_ms") / 1000.0, state ? state : "?");
	else
		printf("evacuation %s: %" PRIu64 " of %" PRIu64 " domains moved in %.1f s; "
		    "host %s\n", ok ? "complete" : "incomplete", ju64(ev, "moved"),
		    ju64(ev, "total"), (double)ju64(ev, "elapsed_ms") / 1000.0, state ? state : "?");
	if (ok)
		return EXIT_OK;
	if (jstr(ev, "error")) {
		char err[400];

		fprintf(stderr, "xmig: maintenance: %s\n", clean(err, sizeof(err),
		    jstr(ev, "error")));
	}
	json_array_foreach(json_object_get(ev, "domains"), i, d) {
		const char *st = jstr(d, "status");
		char name[80], why[400];

		if (st && strcmp(st, "done") == 0)
			continue;
		fprintf(stderr, "xmig: maintenance: %s left on this host: %s\n",
		    clean(name, sizeof(name), jstr(d, "name")),
		    clean(why, sizeof(why), jstr(d, "why")));
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
	uint64_t parallel = 2;
	json_t *req, *reply, *last = NULL;
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
			to = v;
			break;
		case OPT_PARALLEL:
			if (parse_u64(v, 1, 64, &parallel) != 0)
				return usage_error("maintenance", "bad --parallel '%s' (1-64)", v);
			break;
		case 'l':
			live = true;
			break;
		case OPT_OFFLINE:
			live = false;
			break;
		case OPT_REASON:
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
	req = json_pack("{s:s, s:s, s:i, s:b, s:b, s:b}", "cmd", "maintenance", "action", "enter",
	    "parallel", (int)parallel, "live", live, "shutdown_pinned", shutdown_pinned,
	    "watch", 1);
	if (req && to)
		json_object_set_new(req, "to", json_string(to));
	if (req && reason)
		json_object_set_new(req, "reason", json_string(reason));
	if ((rc = daemon_open_session(cli, req, "cannot enter maintenance", NULL, &fd,
	    &reply)) != EXIT_OK)
		return rc;
	json_decref(reply);
	rc = batch_follow(&evac_view, fd, json, &last);
	close(fd);
	if (rc != EXIT_OK)
		return rc;
	rc = maint_result(last, json);
	json_decref(last);
	return rc;
}

int
cmd_maintenance(const struct cli *cli, int argc, char **argv)
{
	const char *sub = argc > 0 ? argv[0] : NULL;
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
	if ((rc = daemon_call(cli, json_pack("{s:s, s:s}", "cmd", "maintenance", "action", sub),
	    &reply)) != EXIT_OK)
		return rc;
	if (!json_is_true(json_object_get(reply, "ok")))
		rc = refused(reply, "maintenance");
	else if (json) {
		json_object_del(reply, "ok");
		print_json(reply);
	} else
		print_maint(reply);
	json_decref(reply);
	return rc;
}

/* ---- balance ---- */

/* The end of a balance: 0 when every move this host ran is done, else 1
 * with one stderr line per domain that stayed. */
static int
balance_result(const json_t *b, bool json)
{
	const json_t *m;
	unsigned here = 0, done = 0;
	size_t i;

	json_array_foreach(json_object_get(b, "moves"), i, m) {
		const char *st = jstr(m, "status");

		if (st == NULL || strcmp(st, "other-host") == 0 || strcmp(st, "held") == 0)
			continue;
		here++;
		done += strcmp(st, "done") == 0;
	}
	if (json) {
		print_json(b);
		return done == here ? EXIT_OK : EXIT_FAILED;
	}
	if (here == 0)
		printf("balance: no move to run from this host\n");
	else
		printf("balance %s: %u of %u moves done in %.1f s\n", done == here ? "complete" :
		    "incomplete", done, here, (double)ju64(b, "elapsed_ms") / 1000.0);
	print_balance_notes(b);
	if (done == here)
		return EXIT_OK;
	if (jstr(b, "error")) {
		char err[400];

		fprintf(stderr, "xmig: balance: %s\n", clean(err, sizeof(err), jstr(b, "error")));
	}
	json_array_foreach(json_object_get(b, "moves"), i, m) {
		const char *st = jstr(m, "status");
		char name[80], why[400];

		if (st == NULL || strcmp(st, "done") == 0 || strcmp(st, "other-host") == 0 ||
		    strcmp(st, "held") == 0)
			continue;
		fprintf(stderr, "xmig: balance: %s stays on this host: %s\n",
		    clean(name, sizeof(name), jstr(m, "domain")),
		    clean(why, sizeof(why), jstr(m, "reason")));
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
	json_t *req, *reply, *last = NULL;
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
			if (parse_u64(v, 1, 100000, &max_moves) != 0)
				return usage_error("balance", "bad --max-moves '%s' (1-100000)", v);
			break;
		case OPT_JSON:
			json = true;
			break;
		case ARGP_POS:
			return usage_error("balance", "unexpected argument '%s'", v);
		}
	}
	req = json_pack("{s:s, s:s, s:b, s:I, s:b}", "cmd", "balance", "policy", policy,
	    "dry_run", dry_run, "max_moves", (json_int_t)max_moves, "watch", !dry_run);
	if ((rc = daemon_open_session(cli, req, "balance", "balance", &fd, &reply)) != EXIT_OK)
		return rc;
	if (dry_run) {
		close(fd);
		if (json)
			print_json(json_object_get(reply, "balance"));
		else
			print_balance_plan(json_object_get(reply, "balance"));
		json_decref(reply);
		return EXIT_OK;
	}
	if (!json)
		print_balance_head(json_object_get(reply, "balance"));
	json_decref(reply);
	rc = batch_follow(&balance_view, fd, json, &last);
	close(fd);
	if (rc != EXIT_OK)
		return rc;
	rc = balance_result(last, json);
	json_decref(last);
	return rc;
}
