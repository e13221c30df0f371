/* hv/xen_qemu.c - an HVM guest's QEMU device model, on either end.
 *
 * The sender reads what QEMU registered in xenstore (its physmap), and
 * after the commit kills the source's QEMU and removes what libxl would;
 * a failed save lets it run on ("cont").  The receiver writes the physmap
 * back, starts QEMU as libxl does (hv/xen_dm.c builds the command line)
 * loading the saved state with -incoming, and waits for QEMU to say
 * "running" in device-model/<domid>/state, as libxl's spawn does.
 */
#ifdef HAVE_XEN

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hv/qmp.h"
#include "hv/xen_dm.h"
#include "hv/xen_int.h"
#include "log.h"
#include "util.h"
#include "xerr.h"

extern char **environ;

#define QEMU_START_MS 60000	/* libxl's LIBXL_DEVICE_MODEL_START_TIMEOUT */
#define QEMU_KILL_MS 5000
#define QEMU_QMP_MS 10000

bool
xen_qemu_installed(void)
{
	return access(XEN_DM_QEMU, X_OK) == 0;
}

void
xen_qemu_state_path(char *p, size_t n, const char *what, uint32_t domid)
{
	snprintf(p, n, "/var/lib/xen/qemu-%s.%u", what, domid);
}

int
xen_qemu_physmap_read(struct xs_handle *xsh, uint32_t domid, struct msg_dm_physmap *m,
    char *why, size_t whylen)
{
	char path[XEN_PATH_MAX], **keys;
	unsigned n = 0, i;
	int r = 0;

	memset(m, 0, sizeof(*m));
	snprintf(path, sizeof(path), "/local/domain/0/device-model/%u/physmap", domid);
	if ((keys = xs_directory(xsh, XBT_NULL, path, &n)) == NULL)
		return 0;	/* none: QEMU mapped nothing (no VGA) */
	for (i = 0; i < n && r == 0; i++) {
		char *sa = xen_xs_read(xsh, XBT_NULL, "%s/%s/start_addr", path, keys[i]);
		char *sz = xen_xs_read(xsh, XBT_NULL, "%s/%s/size", path, keys[i]);
		char *nm = xen_xs_read(xsh, XBT_NULL, "%s/%s/name", path, keys[i]);

		if (sa == NULL || sz == NULL ||
		    (r = dm_physmap_add(m, keys[i], sa, sz, nm != NULL ? nm : "")) != 0) {
			snprintf(why, whylen, "its device model's physmap entry %s cannot be "
			    "carried (%s)", keys[i], sa == NULL || sz == NULL ? "incomplete" :
			    xmig_strerror(r));
			r = r != 0 ? r : XMIG_ERR_INVALID;
		}
		free(sa);
		free(sz);
		free(nm);
	}
	free(keys);
	return r;
}

int
xen_qemu_physmap_write(struct xs_handle *xsh, uint32_t domid, const struct msg_dm_physmap *m)
{
	char base[XEN_PATH_MAX], v[32];
	uint32_t i;
	bool ok = true;

	snprintf(base, sizeof(base), "/local/domain/0/device-model/%u", domid);
	ok = xs_mkdir(xsh, XBT_NULL, base);
	for (i = 0; ok && m != NULL && i < m->count; i++) {
		const struct msg_dm_physmap_ent *e = &m->ents[i];
		/* the text QEMU itself writes: hex without 0x */
		snprintf(v, sizeof(v), "%llx", (unsigned long long)e->start_addr);
		ok = xen_xs_write(xsh, XBT_NULL, v, "%s/physmap/%llx/start_addr", base,
		    (unsigned long long)e->phys_offset);
		snprintf(v, sizeof(v), "%llx", (unsigned long long)e->size);
		ok = ok && xen_xs_write(xsh, XBT_NULL, v, "%s/physmap/%llx/size", base,
		    (unsigned long long)e->phys_offset);
		ok = ok && xen_xs_write(xsh, XBT_NULL, e->name, "%s/physmap/%llx/name", base,
		    (unsigned long long)e->phys_offset);
	}
	if (!ok) {
		log_error("domain %u: cannot write its device model's xenstore entries: %s",
		    domid, strerror(errno));
		return XMIG_ERR_BACKEND;
	}
	return 0;
}

/* /proc/PID/NAME into buf (NUL-terminated); its length, or -1. */
static ssize_t
proc_read(pid_t pid, const char *name, char *buf, size_t size)
{
	char p[64];
	size_t n;
	FILE *f;

	snprintf(p, sizeof(p), "/proc/%d/%s", (int)pid, name);
	if ((f = fopen(p, "r")) == NULL)
		return -1;
	n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = '\0';
	return (ssize_t)n;
}

/* Is pid a live process (not gone, not a zombie)? */
static bool
proc_alive(pid_t pid)
{
	char st[512], *rp;

	if (proc_read(pid, "stat", st, sizeof(st)) < 0)
		return false;
	return !((rp = strrchr(st, ')')) != NULL && rp[1] == ' ' && rp[2] == 'Z');
}

/* Is pid the device model of domid (it may have gone and its pid been
 * reused: look before killing)?  A zombie counts as gone. */
static bool
qemu_is_ours(pid_t pid, uint32_t domid)
{
	char buf[4096], want[32];
	ssize_t n;
	size_t i;

	if (!proc_alive(pid) || (n = proc_read(pid, "cmdline", buf, sizeof(buf))) < 0)
		return false;
	snprintf(want, sizeof(want), "%u", domid);
	for (i = 0; i < (size_t)n; i += strlen(buf + i) + 1)
		if (strcmp(buf + i, "-xen-domid") == 0 && i + 11 < (size_t)n &&
		    strcmp(buf + i + 11, want) == 0)
			return true;
	return false;
}

void
xen_qemu_kill(struct xs_handle *xsh, uint32_t domid)
{
	char *v = xen_xs_read(xsh, XBT_NULL, "/local/domain/%u/image/device-model-pid", domid);
	char p[XEN_PATH_MAX];
	long pid = v != NULL ? strtol(v, NULL, 10) : 0;
	uint64_t t0;

	free(v);
	if (pid > 1 && qemu_is_ours((pid_t)pid, domid)) {
		kill((pid_t)pid, SIGTERM);
		for (t0 = now_ms(); now_ms() - t0 < QEMU_KILL_MS; xen_sleep_ms(20)) {
			(void)waitpid((pid_t)pid, NULL, WNOHANG);	/* if it is our child */
			if (!qemu_is_ours((pid_t)pid, domid))
				break;
		}
		if (qemu_is_ours((pid_t)pid, domid)) {
			log_warn("domain %u: its device model (pid %ld) ignored SIGTERM; killed",
			    domid, pid);
			kill((pid_t)pid, SIGKILL);
		}
		log_verbose("domain %u: device model (pid %ld) stopped", domid, pid);
	}
	snprintf(p, sizeof(p), "/local/domain/0/device-model/%u", domid);
	xs_rm(xsh, XBT_NULL, p);
	snprintf(p, sizeof(p), XEN_DM_RUN_DIR "/qmp-libxl-%u", domid);
	unlink(p);
	snprintf(p, sizeof(p), XEN_DM_RUN_DIR "/qmp-libxenstat-%u", domid);
	unlink(p);
	xen_qemu_state_path(p, sizeof(p), "save", domid);
	unlink(p);
	xen_qemu_state_path(p, sizeof(p), "resume", domid);
	unlink(p);
}

bool
xen_qemu_present(uint32_t domid)
{
	char p[XEN_PATH_MAX];
	struct stat st;

	snprintf(p, sizeof(p), QMP_LIBXL_SOCKET_FMT, domid);
	return stat(p, &st) == 0 && S_ISSOCK(st.st_mode);
}

struct qmp *
xen_qemu_qmp(uint32_t domid, char *why, size_t whylen)
{
	char p[XEN_PATH_MAX], w[QMP_ERR_MAX];
	struct qmp *q;

	snprintf(p, sizeof(p), QMP_LIBXL_SOCKET_FMT, domid);
	if ((q = qmp_open(p, QEMU_QMP_MS, 0, w, sizeof(w))) == NULL)
		snprintf(why, whylen, "cannot reach its device model at %s: %s", p, w);
	return q;
}

int
xen_qemu_cont(uint32_t domid)
{
	char why[QMP_ERR_MAX + 64], st[32];
	bool running = true;
	struct qmp *q;
	int r;

	if (!xen_qemu_present(domid))
		return 0;
	if ((q = xen_qemu_qmp(domid, why, sizeof(why))) == NULL) {
		log_error("domain %u: %s", domid, why);
		return XMIG_ERR_BACKEND;
	}
	if ((r = qmp_query_status(q, st, sizeof(st), &running)) == 0 && !running &&
	    (r = qmp_cont(q)) == 0)
		log_info("domain %u: its device model runs again (was %s)", domid, st);
	if (r != 0)
		log_error("domain %u: cannot let its device model run: %s", domid, qmp_error(q));
	qmp_close(q);
	return r;
}

/* The last line of QEMU's log, for the one-line error (printable only). */
static void
qemu_log_tail(const char *path, char *out, size_t n)
{
	char buf[512];
	ssize_t k = 0;
	off_t end;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *line, *q;

	out[0] = '\0';
	if (fd < 0)
		return;
	end = lseek(fd, 0, SEEK_END);
	if (end > 0 && lseek(fd, end > (off_t)sizeof(buf) - 1 ? end - (off_t)sizeof(buf) + 1 : 0,
	    SEEK_SET) >= 0)
		k = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (k <= 0)
		return;
	buf[k] = '\0';
	while (k > 0 && (buf[k - 1] == '\n' || buf[k - 1] == '\r'))
		buf[--k] = '\0';
	line = (q = strrchr(buf, '\n')) != NULL ? q + 1 : buf;
	for (q = line; *q; q++)
		if ((unsigned char)*q < 0x20 || (unsigned char)*q > 0x7e)
			*q = '?';
	strlcpy_x(out, line, n);	/* cut to fit */
}

/* fork twice so that init, not xmigd, reaps QEMU; only async-signal-safe
 * calls after the fork.  The grandchild's pid comes back through a pipe;
 * a second one, closed by the exec, says that QEMU's image runs (until
 * then /proc/PID is still a copy of xmigd). */
static int
qemu_spawn(char **argv, char **envp, int state_fd, int log_fd, pid_t *pid)
{
	int pfd[2], efd[2], st, e = 0;
	pid_t child, got = -1;
	ssize_t k;

	if (pipe2(pfd, O_CLOEXEC) != 0)
		return XMIG_ERR_SYSTEM;
	if (pipe2(efd, O_CLOEXEC) != 0) {
		close(pfd[0]);
		close(pfd[1]);
		return XMIG_ERR_SYSTEM;
	}
	if ((child = fork()) < 0) {
		close(pfd[0]);
		close(pfd[1]);
		close(efd[0]);
		close(efd[1]);
		return XMIG_ERR_SYSTEM;
	}
	if (child == 0) {
		pid_t g = fork();
		sigset_t none;
		int nul;

		if (g != 0) {
			(void)!write(pfd[1], &g, sizeof(g));
			_exit(g < 0);
		}
		setsid();
		nul = open("/dev/null", O_RDONLY);
		if (nul < 0 || dup2(nul, 0) < 0 || dup2(log_fd, 1) < 0 || dup2(log_fd, 2) < 0)
			_exit(127);
		/* the state's descriptor, named in -incoming fd:N, stays open;
		 * nothing else of xmigd's (a listening socket would outlive it) */
		if (fcntl(state_fd, F_SETFD, 0) != 0)
			_exit(127);
		for (int fd = 3; fd < 4096; fd++)
			if (fd != state_fd && fd != efd[1])
				close(fd);
		signal(SIGPIPE, SIG_DFL);
		/* xmigd's threads block SIGTERM for its signal thread: QEMU
		 * would inherit that mask and outlive every SIGTERM (measured:
		 * each source teardown then waited QEMU_KILL_MS for SIGKILL) */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execve(argv[0], argv, envp);
		e = errno;
		(void)!write(efd[1], &e, sizeof(e));
		_exit(127);
	}
	close(pfd[1]);
	close(efd[1]);
	while ((k = read(pfd[0], &got, sizeof(got))) < 0 && errno == EINTR)
		;
	close(pfd[0]);
	while (waitpid(child, &st, 0) < 0 && errno == EINTR)
		;
	if (k != (ssize_t)sizeof(got) || got <= 0) {
		close(efd[0]);
		return XMIG_ERR_SYSTEM;
	}
	/* EOF: the exec happened; an errno: it failed */
	while ((k = read(efd[0], &e, sizeof(e))) < 0 && errno == EINTR)
		;
	close(efd[0]);
	if (k > 0) {
		errno = e;
		return XMIG_ERR_SYSTEM;
	}
	*pid = got;
	return 0;
}

int
xen_qemu_start(struct xs_handle *xsh, uint32_t domid, const char *json, const char *name,
    const char *state_file, char *why, size_t whylen)
{
	struct xen_dm_cmd cmd = { NULL, NULL };
	char p[XEN_PATH_MAX], v[32], **envp = NULL, *st = NULL;
	size_t ne = 0, nx = 0, i;
	int sfd = -1, lfd = -1, r;
	pid_t pid = 0;
	uint64_t t0;

	if ((sfd = open(state_file, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(why, whylen, "cannot open the device model's state %s: %s", state_file,
		    strerror(errno));
		return XMIG_ERR_SYSTEM;
	}
	if ((r = xen_dm_cmd_build(json, domid, sfd, &cmd, why, whylen)) != 0)
		goto out;
	while (environ[ne] != NULL)
		ne++;
	while (cmd.envp[nx] != NULL)
		nx++;
	if ((envp = calloc(ne + nx + 1, sizeof(*envp))) == NULL) {
		r = XMIG_ERR_NOMEM;
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	/* libxl's dm_envs over xmigd's environment */
	for (i = 0; i < nx; i++)
		envp[i] = cmd.envp[i];
	for (i = 0; i < ne; i++)
		envp[nx + i] = environ[i];
	mkdir_p("/var/log/xen", 0755);
	snprintf(p, sizeof(p), "/var/log/xen/qemu-dm-%s.log", name);
	if ((lfd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) < 0) {
		snprintf(why, whylen, "cannot open %s: %s", p, strerror(errno));
		r = XMIG_ERR_SYSTEM;
		goto out;
	}
	if ((r = qemu_spawn(cmd.argv, envp, sfd, lfd, &pid)) != 0) {
		snprintf(why, whylen, "cannot start %s: %s", XEN_DM_QEMU, strerror(errno));
		goto out;
	}
	snprintf(v, sizeof(v), "%d", (int)pid);
	xen_xs_write(xsh, XBT_NULL, v, "/local/domain/%u/image/device-model-pid", domid);
	/* libxl reads the version of a running device model from here */
	xen_xs_write(xsh, XBT_NULL, "qemu_xen", "/libxl/%u/dm-version", domid);
	for (t0 = now_ms(); ; xen_sleep_ms(20)) {
		free(st);
		st = xen_xs_read(xsh, XBT_NULL, "/local/domain/0/device-model/%u/state", domid);
		if (st != NULL && strcmp(st, "running") == 0)
			break;
		if (!proc_alive(pid)) {
			char last[200];

			qemu_log_tail(p, last, sizeof(last));
			snprintf(why, whylen, "its device model exited while loading its state "
			    "(%s: %s)", p, last[0] != '\0' ? last : "empty");
			r = XMIG_ERR_BACKEND;
			goto out;
		}
		if (now_ms() - t0 > QEMU_START_MS) {
			snprintf(why, whylen, "its device model did not start within %u s (state "
			    "%s)", QEMU_START_MS / 1000, st != NULL ? st : "unset");
			r = XMIG_ERR_TIMEOUT;
			goto out;
		}
	}
	log_info("domain %u: device model (pid %d) loaded its state in %llu ms", domid,
	    (int)pid, (unsigned long long)(now_ms() - t0));
out:
	free(st);
	free(envp);
	xen_dm_cmd_free(&cmd);
	if (sfd >= 0)
		close(sfd);
	if (lfd >= 0)
		close(lfd);
	return r;
}

#else
typedef int hv_xen_qemu_unused;	/* ISO C wants a declaration */
#endif
