/* main.c - xmigd: options, start-up, the accept loop, shutdown.
 *
 * The main thread only accepts: relocation connections (allow-list checked
 * on the peer's address before a single byte is read) and control clients
 * (peer credentials checked).  Every migration and every control client
 * runs in its own thread.  Signals arrive through a signalfd in the same
 * poll loop.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cluster/balance.h"
#include "ctl.h"
#include "ctlmsg.h"
#include "ctlsrv.h"
#include "daemon.h"
#include "engine/engine.h"
#include "engine/incoming.h"
#include "engine/outgoing.h"
#include "store/history.h"
#include "store/hoststate.h"
#include "log.h"
#include "namecheck.h"
#include "service.h"
#include "tls.h"
#include "util.h"
#include "xerr.h"
#include "xfer.h"

#define MAX_LISTEN 4
#define SHUTDOWN_WAIT_S 15

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: xmigd [-f] [-c FILE] [-p PIDFILE]\n"
	    "       xmigd --check-config [-c FILE]\n"
	    "       xmigd --dump-config [-c FILE]\n"
	    "\n"
	    "  -c, --config FILE   configuration (default /etc/xmig/xmigd.conf)\n"
	    "  -f, --foreground    stay in the foreground and log to stderr (to syslog\n"
	    "                      when stderr is the systemd journal)\n"
	    "  -p, --pidfile FILE  write the daemon's pid to FILE once it serves\n"
	    "  -n, --check-config  check the configuration, print \"configuration OK\"\n"
	    "  -T, --dump-config   print the effective configuration\n"
	    "  -v, --verbose       log level verbose (twice: debug)\n"
	    "  -V, --version       print the version\n");
}

/* Connections over max-connections that may still ask the outcome of an
 * earlier migration (QUERY) or this host's facts (HOST_INFO), never start
 * one: a sender that lost its connection after GO must learn the outcome
 * even while this host is busy. */
#define QUERY_RESERVE 4

static struct log_ratelimit refuse_rl;

/* The last step of an accepted connection: its peer is allowed. */
static void
admit_relocation(struct xmigd *d, int fd, const char *full, bool tls)
{
	unsigned open = engine_recv_open();

	/* After the allow-list, so strangers cannot use up the slots; an
	 * allowed peer that floods is bounded by the handshake deadline. */
	if (open >= d->conf.max_connections + QUERY_RESERVE) {
		log_ratelimited(&refuse_rl, 10, LOG_LVL_WARN, "refused relocation connection "
		    "from %s: %u connections already open (max-connections %u, and %d more "
		    "for queries)", full, open, d->conf.max_connections, QUERY_RESERVE);
		close(fd);
		return;
	}
	log_verbose("relocation connection from %s%s%s", full, tls ? " on the TLS port" : "",
	    open >= d->conf.max_connections ? ", over max-connections: queries only" : "");
	engine_recv_start(d, fd, full, tls, open >= d->conf.max_connections);
}

/* Relocation accept: the allow-list decides before anything is read (on
 * the TLS port too: the handshake comes after it, in the job's thread).
 * A peer only a host name entry could admit waits for its name
 * (namecheck.c), without holding this loop. */
static void
accept_relocation(struct xmigd *d, int lfd, bool tls)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char addr[64], full[128];
	int fd;

	fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	sockaddr_str((struct sockaddr *)&ss, sl, addr, sizeof(addr), full, sizeof(full));
	if (allow_match(d->allow, (struct sockaddr *)&ss, sl, NULL)) {
		admit_relocation(d, fd, full, tls);
		return;
	}
	if (!allow_wants_name(d->allow)) {
		log_ratelimited(&refuse_rl, 10, LOG_LVL_WARN, "refused relocation connection "
		    "from %s: not in relocation-hosts-allow", full);
		close(fd);
		return;
	}
	namecheck_submit(fd, &ss, sl, full, tls);
}

/* Whether the peer of fd runs with group gid, as its primary or one of its
 * supplementary groups (the credentials the socket's mode was checked
 * against, not the user's entry in /etc/group). */
static bool
peer_in_group(int fd, gid_t primary, gid_t gid)
{
	gid_t groups[256];
	socklen_t len = sizeof(groups);
	size_t i;

	if (primary == gid)
		return true;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) != 0)
		return false;
	for (i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == gid)
			return true;
	return false;
}

/* Control accept: root, the daemon's own user, and members of
 * control-socket-group when one is set. */
static void
accept_control(struct xmigd *d, int lfd, gid_t ctl_gid)
{
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) != 0 ||
	    (cred.uid != 0 && cred.uid != geteuid() &&
	    (ctl_gid == (gid_t)-1 || !peer_in_group(fd, cred.gid, ctl_gid)))) {
		char why[160];
		json_t *req = NULL, *rep;

		snprintf(why, sizeof(why), "permission denied: uid %u is not root%s%s",
		    (unsigned)cred.uid, ctl_gid == (gid_t)-1 ? "" : " or in control-socket-group ",
		    ctl_gid == (gid_t)-1 ? "" : d->conf.control_socket_group);
		log_warn("control connection from uid %u refused%s", (unsigned)cred.uid,
		    ctl_gid == (gid_t)-1 ? "" : ": not in control-socket-group");
		/* Say why to the client (after its request, briefly: a client
		 * that sends nothing must not hold the accept loop). */
		if (ctl_recv(fd, &req, 200) == 0 &&
		    (rep = ctl_reply_error("%s", why)) != NULL) {
			ctl_send(fd, rep);
			json_decref(rep);
		}
		json_decref(req);
		close(fd);
		return;
	}
	ctlsrv_client_start(d, fd);
}

/* control-socket-group: a name or a number; (gid_t)-1 when unset. */
static int
control_group(const struct conf *c, gid_t *gid, char *err, size_t errlen)
{
	struct group gr, *grp = NULL;
	char buf[4096], *end;
	unsigned long n;

	*gid = (gid_t)-1;
	if (c->control_socket_group[0] == '\0')
		return 0;
	if (getgrnam_r(c->control_socket_group, &gr, buf, sizeof(buf), &grp) == 0 &&
	    grp != NULL) {
		*gid = grp->gr_gid;
		return 0;
	}
	n = strtoul(c->control_socket_group, &end, 10);
	if (*end == '\0' && c->control_socket_group[0] >= '0' &&
	    c->control_socket_group[0] <= '9' && n < (unsigned long)(gid_t)-1) {
		*gid = (gid_t)n;
		return 0;
	}
	snprintf(err, errlen, "control-socket-group: no group \"%s\" on this host",
	    c->control_socket_group);
	return XMIG_ERR_INVALID;
}

/* Build the TLS contexts once, before serving: a bad key, certificate or
 * CA stops xmigd with one line naming the key. */
static int
tls_setup(struct xmigd *d, char *err, size_t errlen)
{
	const struct tls_cfg tc = {
		.key_file = d->conf.ssl_key_file,
		.cert_file = d->conf.ssl_cert_file,
		.ca_file = d->conf.ssl_ca_file,
		.fingerprints = d->conf.ssl_peer_fingerprints,
		.min_version = d->conf.ssl_min_version,
	};
	int r;

	if (!conf_tls_configured(&d->conf))
		return 0;
	if ((r = tls_ctx_new(&d->tls_client, false, &tc, err, errlen)) != 0)
		return r;
	if (d->conf.relocation_ssl_server &&
	    (r = tls_ctx_new(&d->tls_server, true, &tc, err, errlen)) != 0)
		return r;
	return 0;
}

static void
wait_for_jobs(void)
{
	unsigned i;

	for (i = 0; i < SHUTDOWN_WAIT_S * 10; i++) {
		if (jobs_unfinished() == 0)
			return;
		usleep(100000);
	}
	log_warn("jobs still running at shutdown");
}

/* What main() works with: the command line and the daemon's descriptors. */
struct xmigd_opts {
	const char *cfgpath, *pidfile;
	bool foreground, check, dump;
	int verbose;
};

struct xmigd_fds {
	int lfds[2 * MAX_LISTEN];	/* relocation listeners: nl plain, then nt TLS */
	int nl, nt;
	int cfd;			/* control socket */
	int sfd;			/* signalfd */
	gid_t ctl_gid;			/* control-socket-group, or -1 */
};

/* The command line: -1 to go on, else the exit code. */
static int
parse_args(int argc, char **argv, struct xmigd_opts *o)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "check-config", no_argument, NULL, 'n' },
		{ "dump-config", no_argument, NULL, 'T' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "pidfile", required_argument, NULL, 'p' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	memset(o, 0, sizeof(*o));
	o->cfgpath = "/etc/xmig/xmigd.conf";
	while ((opt = getopt_long(argc, argv, "c:fnp:TvVh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': o->cfgpath = optarg; break;
		case 'f': o->foreground = true; break;
		case 'p': o->pidfile = optarg; break;
		case 'n': o->check = true; break;
		case 'T': o->dump = true; break;
		case 'v': o->verbose++; break;
		case 'V': printf("xmigd %s\n", XMIG_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "xmigd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	return -1;
}

/* The configuration, checked (and the TLS material loaded) before anything
 * starts; --check-config and --dump-config end here.  -1 to go on, else
 * the exit code. */
static int
load_config(struct xmigd *d, const struct xmigd_opts *o, gid_t *ctl_gid)
{
	char err[1024];

	log_init("xmigd", false, LOG_LVL_INFO);
	conf_init(&d->conf);
	if (conf_load(&d->conf, o->cfgpath, err, sizeof(err)) != 0) {
		fprintf(stderr, "xmigd: %s\n", err);
		return 1;
	}
	if (conf_check(&d->conf, err, sizeof(err)) != 0 ||
	    (!o->dump && control_group(&d->conf, ctl_gid, err, sizeof(err)) != 0) ||
	    (!o->dump && tls_setup(d, err, sizeof(err)) != 0)) {
		fprintf(stderr, "xmigd: %s: %s\n", o->cfgpath, err);
		return 1;
	}
	if (o->check) {
		printf("configuration OK\n");
		return 0;
	}
	if (o->dump) {
		conf_dump(&d->conf, stdout);
		return 0;
	}
	return -1;
}

/* Logging, the allow-list, signals, the backend and the state directory's
 * stores.  0, or -1 (logged). */
static int
start_services(struct xmigd *d, const struct xmigd_opts *o, struct xmigd_fds *f)
{
	bool foreground_journal = false;
	char err[1024];
	sigset_t mask;

	if (o->verbose)
		d->conf.log_level = o->verbose > 1 ? LOG_LVL_DEBUG : LOG_LVL_VERBOSE;
	/* Under systemd (xmigd -f, stderr to the journal) log through syslog so
	 * that the journal keeps each line's priority; it stamps its own time. */
	if (o->foreground && service_stderr_is_journal())
		foreground_journal = true;
	log_init("xmigd", !o->foreground || foreground_journal, (enum log_level)d->conf.log_level);
	log_set_timestamps(o->foreground && !foreground_journal);
	if (allow_compile(d->conf.relocation_hosts_allow, &d->allow, err, sizeof(err)) != 0) {
		log_error("relocation-hosts-allow: %s", err);
		return -1;
	}
	if (allow_is_open(d->allow))
		log_warn("relocation-hosts-allow is empty: any host may connect");
	if (namecheck_init(d, admit_relocation, err, sizeof(err)) != 0) {
		log_error("%s", err);
		return -1;
	}
	if (d->tls_client != NULL && !tls_ctx_self_check(d->tls_client, err, sizeof(err)))
		log_warn("ssl-cert-file %s does not verify against ssl-ca-file %s (%s): peers "
		    "will refuse this host", d->conf.ssl_cert_file, d->conf.ssl_ca_file, err);
	if (d->conf.host_name[0])
		strlcpy_x(d->host_name, d->conf.host_name, sizeof(d->host_name));
	else if (gethostname(d->host_name, sizeof(d->host_name) - 1) != 0)
		strlcpy_x(d->host_name, "localhost", sizeof(d->host_name));
	jobs_init();

	/* Block the signals in every thread; the main loop reads them. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((f->sfd = signalfd(-1, &mask, SFD_CLOEXEC)) < 0) {
		log_error("signalfd: %s", strerror(errno));
		return -1;
	}
	if (hv_open(&d->conf, &d->hv, err, sizeof(err)) != 0 ||
	    state_init(d->conf.state_dir, err, sizeof(err)) != 0 ||
	    hoststate_init(d->conf.state_dir, err, sizeof(err)) != 0) {
		log_error("%s", err);
		return -1;
	}
	if (history_init(d->conf.state_dir, err, sizeof(err)) != 0)
		log_warn("%s; finished jobs are not recorded", err);
	return 0;
}

/* The relocation ports and the control socket.  0, or -1 (logged). */
static int
open_listeners(struct xmigd *d, struct xmigd_fds *f)
{
	char err[1024], dir[sizeof(d->conf.control_socket)], *slash;

	if (d->conf.relocation_server &&
	    xconn_listen(d->conf.relocation_address, d->conf.relocation_port, f->lfds,
	    MAX_LISTEN, &f->nl, err, sizeof(err)) != 0) {
		log_error("%s", err);
		return -1;
	}
	if (d->conf.relocation_ssl_server &&
	    xconn_listen(d->conf.relocation_address, d->conf.relocation_ssl_port,
	    f->lfds + f->nl, MAX_LISTEN, &f->nt, err, sizeof(err)) != 0) {
		log_error("relocation-ssl-port: %s", err);
		return -1;
	}
	strlcpy_x(dir, d->conf.control_socket, sizeof(dir));
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		mkdir_p(dir, 0755);
	}
	if ((f->cfd = ctl_listen(d->conf.control_socket,
	    f->ctl_gid == (gid_t)-1 ? 0600 : 0660)) < 0) {
		log_error("control-socket %s: %s", d->conf.control_socket, xmig_strerror(f->cfd));
		return -1;
	}
	/* Connecting needs write permission on the socket: the group's. */
	if (f->ctl_gid != (gid_t)-1 &&
	    chown(d->conf.control_socket, (uid_t)-1, f->ctl_gid) != 0) {
		log_error("control-socket %s: cannot give it to group %s: %s",
		    d->conf.control_socket, d->conf.control_socket_group, strerror(errno));
		unlink(d->conf.control_socket);
		return -1;
	}
	return 0;
}

/* Settle what a crash left, go to the background, start the threads and
 * tell the init system.  0, or -1 (logged). */
static int
go_live(struct xmigd *d, const struct xmigd_opts *o)
{
	char err[1024], tls[32] = "off";
	int r;

	state_reconcile(d);
	if (resolve_init(d->conf.state_dir, err, sizeof(err)) != 0) {
		log_error("%s", err);
		return -1;
	}
	if (!o->foreground && daemon(0, 0) != 0) {
		log_error("cannot daemonize: %s", strerror(errno));
		return -1;
	}
	if (o->pidfile != NULL && service_write_pidfile(o->pidfile) != 0) {
		log_error("cannot write pid file %s: %s", o->pidfile, strerror(errno));
		return -1;
	}
	if (d->conf.relocation_ssl_server)
		snprintf(tls, sizeof(tls), "on port %u", d->conf.relocation_ssl_port);
	log_info("xmigd %s on %s: backend %s, relocation %s port %u, TLS relocation %s, "
	    "control %s", XMIG_VERSION, d->host_name, d->hv->ops->name,
	    d->conf.relocation_server ? "on" : "off", d->conf.relocation_port, tls,
	    d->conf.control_socket);
	/* After daemon(): threads do not survive the fork. */
	resolve_start(d);
	balance_timer_start(d);
	/* Listening and reconciled: tell systemd (Type=notify) we are ready. */
	if ((r = service_notify("READY=1")) < 0)
		log_warn("cannot notify systemd of readiness (NOTIFY_SOCKET): %s", xmig_strerror(r));
	return 0;
}

/* SIGTERM and SIGINT stop the daemon; SIGHUP is only reported. */
static void
on_signal(struct xmigd *d, int sfd)
{
	struct signalfd_siginfo si;

	if (read(sfd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGHUP) {
		log_info("SIGHUP: configuration reload is not supported yet; restart xmigd "
		    "to apply changes");
	} else {
		log_info("signal %u: shutting down", si.ssi_signo);
		atomic_store(&d->stopping, true);
	}
}

/* The accept loop: the main thread only accepts and never waits on the
 * network (name lookups run in threads of their own). */
static void
accept_loop(struct xmigd *d, const struct xmigd_fds *f)
{
	struct pollfd pfd[2 * MAX_LISTEN + 3];
	int i;

	while (!atomic_load(&d->stopping)) {
		int np = 0, wait_ms = namecheck_run();

		for (i = 0; i < f->nl + f->nt; i++)
			pfd[np++] = (struct pollfd){ .fd = f->lfds[i], .events = POLLIN };
		pfd[np++] = (struct pollfd){ .fd = f->cfd, .events = POLLIN };
		pfd[np++] = (struct pollfd){ .fd = f->sfd, .events = POLLIN };
		/* Answered lookups wake the loop; namecheck_run() acts on them. */
		pfd[np++] = (struct pollfd){ .fd = namecheck_fd(), .events = POLLIN };
		if (poll(pfd, (nfds_t)np, wait_ms < 0 || wait_ms > 10000 ? 10000 : wait_ms) < 0) {
			if (errno == EINTR)
				continue;
			log_error("poll: %s", strerror(errno));
			break;
		}
		for (i = 0; i < f->nl + f->nt; i++)
			if (pfd[i].revents & POLLIN)
				accept_relocation(d, f->lfds[i], i >= f->nl);
		if (pfd[f->nl + f->nt].revents & POLLIN)
			accept_control(d, f->cfd, f->ctl_gid);
		if (pfd[f->nl + f->nt + 1].revents & POLLIN)
			on_signal(d, f->sfd);
		jobs_trim(64);
	}
}

int
main(int argc, char **argv)
{
	static struct xmigd d;
	struct xmigd_opts o;
	struct xmigd_fds f = { .cfd = -1, .sfd = -1, .ctl_gid = (gid_t)-1 };
	int r, i;

	if ((r = parse_args(argc, argv, &o)) >= 0 || (r = load_config(&d, &o, &f.ctl_gid)) >= 0)
		return r;
	if (start_services(&d, &o, &f) != 0 || open_listeners(&d, &f) != 0 || go_live(&d, &o) != 0)
		return 1;
	accept_loop(&d, &f);

	(void)service_notify("STOPPING=1");
	for (i = 0; i < f.nl + f.nt; i++)
		close(f.lfds[i]);
	close(f.cfd);
	unlink(d.conf.control_socket);
	jobs_cancel_all();
	wait_for_jobs();
	/* The TLS contexts stay: a job that outlived the wait may still use
	 * them, and the process ends here anyway. */
	if (o.pidfile != NULL)
		unlink(o.pidfile);
	log_info("stopped");
	return 0;
}
