/* hv/xen_save.c - the sending half of the Xen backend.
 *
 * xc_domain_save() drives the migration, as it does for xl: it runs the
 * pre-copy rounds, asks our precopy_policy after each one, calls our
 * suspend callback, and writes the libxenguest stream to a file
 * descriptor.  That descriptor is a pipe; a pump thread reads it and hands
 * the bytes to the engine as RAW records, so TLS, bandwidth caps and
 * progress work as with the sim.  The pump thread is the only one writing
 * to the connection: round-end records produced by the policy (which runs
 * in libxenguest's thread) are posted to it.
 *
 * When the pump fails it closes the pipe, so libxenguest's next write
 * fails with EPIPE (xmigd ignores SIGPIPE) and the save ends promptly.
 */
#ifdef HAVE_XEN

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hv/qmp.h"
#include "hv/xen_int.h"
#include "fault.h"
#include "log.h"
#include "util.h"
#include "xerr.h"

struct xen_save {
	struct hv_xen *x;
	struct xen_handles h;
	uint32_t domid;
	enum hv_dom_type type;
	struct hv_save_io *io;
	const struct hv_save_opts *opts;
	uint64_t nr_pages;		/* clamps libxenguest's p2m-sized counts */
	/* the guest's suspend event channel, if it has one */
	xenevtchn_handle *xce;
	int sev_port;			/* local port, -1 = use control/shutdown */
	int sev_lockfd;
	/* control/shutdown and @releaseDomain watched on h.xsh: the suspend
	 * is waited for asleep, not by polling (false: polling) */
	bool watching;
	/* the pump (mu guards what both threads touch) */
	int rfd, wfd;
	pthread_t pump;
	pthread_mutex_t mu;
	uint64_t pumped;		/* bytes handed to io->raw */
	uint64_t pump_holding;		/* bytes read from the pipe, not yet handed */
	/* where the pump's time went (its own thread; read after the join):
	 * what a copy-free pump (splice) could save: docs/performance.md */
	uint64_t pump_wait_us, pump_read_us, pump_send_us, pump_cpu_us;
	int pump_err;
	bool re_pending;
	unsigned re_round;
	uint64_t re_sent, re_dirty;
	/* policy bookkeeping (libxenguest's thread only) */
	unsigned last_round;
	uint64_t last_sent;
	unsigned policy_calls;
	/* an HVM guest's QEMU (opts->device_model): stopped and saved once
	 * the guest is suspended, sent after the stream */
	struct qmp *qmp;
	bool dm_saved;
	char dm_file[XEN_PATH_MAX];
};

/* A reason the save ends: logged, and the first one is the job's (the
 * engine puts it in the error xmig prints).  Said here, it needs no echo
 * from libxenguest, which only adds that its save failed. */
static void __attribute__((format(printf, 2, 3)))
save_fail(struct xen_save *s, const char *fmt, ...)
{
	char line[sizeof(s->io->why)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_error("%s", line);
	if (s->io->why[0] == '\0')
		strlcpy_x(s->io->why, line, sizeof(s->io->why));
	atomic_store(&s->h.xtl.quiet, true);
}

/* ---- the pump ---- */

static int
xen_pump_error(struct xen_save *s)
{
	int e;

	pthread_mutex_lock(&s->mu);
	e = s->pump_err;
	pthread_mutex_unlock(&s->mu);
	return e;
}

static int
xen_pump_flush_round(struct xen_save *s)
{
	unsigned round;
	uint64_t sent, dirty;

	pthread_mutex_lock(&s->mu);
	if (!s->re_pending) {
		pthread_mutex_unlock(&s->mu);
		return 0;
	}
	s->re_pending = false;
	round = s->re_round;
	sent = s->re_sent;
	dirty = s->re_dirty;
	pthread_mutex_unlock(&s->mu);
	return s->io->round_end(s->io, round, sent, dirty);
}

static uint64_t
thread_cpu_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void *
xen_pump(void *arg)
{
	struct xen_save *s = arg;
	uint8_t *buf = malloc(XEN_PUMP_CHUNK);
	int r = buf != NULL ? 0 : XMIG_ERR_NOMEM;
	uint64_t cpu0 = thread_cpu_us(), t;

	while (r == 0) {
		struct pollfd pf = { .fd = s->rfd, .events = POLLIN };
		int pr;
		ssize_t n;

		t = now_us();
		pr = poll(&pf, 1, 100);
		s->pump_wait_us += now_us() - t;

		if (pr < 0 && errno != EINTR) {
			r = XMIG_ERR_SYSTEM;
			break;
		}
		/* A round's end goes out between stream chunks, never inside one;
		 * and this thread, the connection's only writer, reads what the
		 * receiver sent meanwhile (DEVICES_READY, ABORT) between them. */
		if ((r = xen_pump_flush_round(s)) != 0 || (r = s->io->poll_peer(s->io)) != 0 ||
		    pr <= 0)
			continue;
		t = now_us();
		n = read(s->rfd, buf, XEN_PUMP_CHUNK);
		s->pump_read_us += now_us() - t;
		if (n == 0)
			break;
		if (n < 0) {
			if (errno != EINTR && errno != EAGAIN)
				r = XMIG_ERR_SYSTEM;
			continue;
		}
		pthread_mutex_lock(&s->mu);
		s->pump_holding = (uint64_t)n;
		pthread_mutex_unlock(&s->mu);
		t = now_us();
		r = s->io->raw(s->io, buf, (size_t)n);
		s->pump_send_us += now_us() - t;
		pthread_mutex_lock(&s->mu);
		s->pump_holding = 0;
		if (r == 0)
			s->pumped += (uint64_t)n;
		pthread_mutex_unlock(&s->mu);
	}
	if (r != 0) {
		pthread_mutex_lock(&s->mu);
		s->pump_err = r;
		pthread_mutex_unlock(&s->mu);
		/* libxenguest's broken pipe is ours: the job's error says why. */
		atomic_store(&s->h.xtl.quiet, true);
	}
	s->pump_cpu_us = thread_cpu_us() - cpu0;
	close(s->rfd);		/* a writer still in libxenguest gets EPIPE */
	s->rfd = -1;
	free(buf);
	return NULL;
}

/* What libxenguest wrote that has not reached the network: in the pipe,
 * in the pump's hands, in the socket's queue; 0 once the pump failed
 * (nothing more will leave). */
static uint64_t
xen_pump_backlog(void *arg)
{
	struct xen_save *s = arg;
	uint64_t held;
	int inpipe = 0;

	if (xen_pump_error(s) != 0)
		return 0;
	/* the write end: libxenguest's thread owns it, the pump may close
	 * the read end */
	if (ioctl(s->wfd, FIONREAD, &inpipe) != 0 || inpipe < 0)
		inpipe = 0;
	pthread_mutex_lock(&s->mu);
	held = s->pump_holding;
	pthread_mutex_unlock(&s->mu);
	return (uint64_t)inpipe + held + s->io->unsent(s->io);
}

/* Live, right before the suspend request (after the policy said stop,
 * libxenguest still sends that round's dirty pages, then calls the
 * suspend callback): let the pre-copy's last megabytes (up to a pipe, a
 * pump chunk and a socket buffer: tens of ms on a link slower than
 * libxenguest) go while the guest still runs, so that after the suspend
 * only the final pages cross.  Pages the guest dirties meanwhile go in
 * the final round; they are fewer than the bytes waited for, or pre-copy
 * would not have converged.  Bounded: a stalled link is the stream's
 * error to find. */
static void
xen_drain_before_suspend(struct xen_save *s)
{
	uint64_t t0 = now_ms(), b0 = xen_pump_backlog(s), b;

	b = hv_save_drain(s->io, xen_pump_backlog, s);
	log_verbose("domain %u: %llu KiB of pre-copy sent before the suspend in %llu ms, "
	    "%llu KiB left", s->domid, (unsigned long long)(b0 >> 10),
	    (unsigned long long)(now_ms() - t0), (unsigned long long)(b >> 10));
}

/* ---- libxenguest's callbacks ---- */

static int
xen_precopy_cb(struct precopy_stats st, void *data)
{
	struct xen_save *s = data;
	struct hv_precopy_stats hs;
	uint64_t dirty, pumped;
	int d;

	s->policy_calls++;
	if (s->io->cancelled(s->io) || xen_pump_error(s) != 0)
		return XGS_POLICY_ABORT;
	/* Called twice a round: after sending (count unknown: continue, so
	 * libxenguest fetches the dirty bitmap) and with the real count. */
	if (st.dirty_count < 0)
		return XGS_POLICY_CONTINUE_PRECOPY;
	/* Counts are pfns of the whole p2m (0xff000 for a PVH guest on the
	 * first call), not guest pages: clamp to the guest's size. */
	dirty = (uint64_t)st.dirty_count < s->nr_pages ? (uint64_t)st.dirty_count : s->nr_pages;
	pthread_mutex_lock(&s->mu);
	if (st.iteration > 0) {
		s->re_pending = true;
		s->re_round = st.iteration - 1;
		s->re_sent = s->last_sent;
		s->re_dirty = dirty;
	}
	pumped = s->pumped;
	pthread_mutex_unlock(&s->mu);
	s->last_round = st.iteration;
	s->last_sent = dirty;
	hs.iteration = st.iteration;
	hs.total_written = (unsigned long)(pumped / XC_PAGE_SIZE);
	hs.dirty_count = (long)dirty;
	d = s->opts->policy(hs, s->opts->policy_opaque);
	log_verbose("domain %u: precopy round %u, %llu pages dirty -> %s", s->domid,
	    st.iteration, (unsigned long long)dirty, d == HV_POLICY_ABORT ? "abort" :
	    d == HV_POLICY_STOP_AND_COPY ? "stop and copy" : "continue");
	return d == HV_POLICY_ABORT ? XGS_POLICY_ABORT : d == HV_POLICY_STOP_AND_COPY ?
	    XGS_POLICY_STOP_AND_COPY : XGS_POLICY_CONTINUE_PRECOPY;
}

/* libxenguest asserts this exists for PVH/HVM (a PVH guest has no QEMU).
 * For an HVM guest QEMU's own writes to guest memory (emulated DMA, VRAM)
 * are logged dirty too while the pre-copy runs, as libxl does. */
static int
xen_logdirty_cb(uint32_t domid, unsigned enable, void *data)
{
	struct xen_save *s = data;

	if (s->qmp == NULL)
		return 0;
	if (qmp_set_global_dirty_log(s->qmp, enable != 0) != 0) {
		save_fail(s, "domain %u: cannot turn its device model's log-dirty %s: %s", domid,
		    enable ? "on" : "off", qmp_error(s->qmp));
		return -1;
	}
	return 0;
}

/* The guest is suspended: stop its QEMU and have it save its devices
 * (libxl's order: after the suspend, before the last memory round, so
 * what QEMU wrote until it stopped is in that round). */
static int
xen_dm_save(struct xen_save *s)
{
	uint64_t t0 = now_ms();

	if (qmp_stop(s->qmp) != 0) {
		save_fail(s, "domain %u: cannot stop its device model: %s", s->domid,
		    qmp_error(s->qmp));
		return XMIG_ERR_BACKEND;
	}
	s->dm_saved = true;	/* stopped: a failure from here must "cont" it */
	unlink(s->dm_file);
	if (qmp_save_devices_state(s->qmp, s->dm_file, s->opts->live) != 0) {
		save_fail(s, "domain %u: its device model cannot save its state: %s", s->domid,
		    qmp_error(s->qmp));
		return XMIG_ERR_BACKEND;
	}
	log_verbose("domain %u: device model stopped and saved in %llu ms", s->domid,
	    (unsigned long long)(now_ms() - t0));
	return 0;
}

static int
xen_read_all(int fd, uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* After the memory stream: QEMU's physmap and state to the engine. */
static int
xen_dm_send(struct xen_save *s)
{
	struct msg_dm_physmap *m = malloc(sizeof(*m));
	char why[256];
	uint8_t *buf = NULL;
	struct stat st;
	int fd = -1, r;

	if (m == NULL)
		return XMIG_ERR_NOMEM;
	if ((r = xen_qemu_physmap_read(s->h.xsh, s->domid, m, why, sizeof(why))) != 0) {
		save_fail(s, "domain %u: %s", s->domid, why);
		goto out;
	}
	if (m->count > 0 && (r = s->io->dm_physmap(s->io, m)) != 0)
		goto out;
	if ((fd = open(s->dm_file, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) != 0) {
		save_fail(s, "domain %u: cannot read its device model's state %s: %s", s->domid,
		    s->dm_file, strerror(errno));
		r = XMIG_ERR_SYSTEM;
		goto out;
	}
	if (st.st_size <= 0 || st.st_size > PROTO_DM_STATE_MAX) {
		save_fail(s, "domain %u: its device model's state is %lld bytes; xmig carries "
		    "1..%u", s->domid, (long long)st.st_size, PROTO_DM_STATE_MAX);
		r = XMIG_ERR_TOO_LONG;
		goto out;
	}
	if ((buf = malloc((size_t)st.st_size)) == NULL) {
		r = XMIG_ERR_NOMEM;
		goto out;
	}
	if (xen_read_all(fd, buf, (size_t)st.st_size) != 0) {
		save_fail(s, "domain %u: reading %s: %s", s->domid, s->dm_file, strerror(errno));
		r = XMIG_ERR_SYSTEM;
		goto out;
	}
	r = s->io->dm_state(s->io, buf, (size_t)st.st_size);
	if (r == 0)
		log_verbose("domain %u: device model sent: %u physmap entries, %lld bytes of "
		    "state", s->domid, m->count, (long long)st.st_size);
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	free(m);
	return r;
}

/* Forget the watch events queued so far (only their firing matters). */
static void
xen_suspend_events_drop(struct xen_save *s)
{
	char **ev;

	while ((ev = xs_check_watch(s->h.xsh)) != NULL)
		free(ev);
}

/* Until a watch fires or XEN_SUSPEND_POLL_MS pass.  Polling xenstore and
 * the hypervisor every millisecond instead takes CPU time from the
 * guest's own suspend path on a host with few CPUs, where dom0 and the
 * guest share one. */
static void
xen_suspend_sleep(struct xen_save *s, unsigned i)
{
	struct pollfd p = { .fd = -1, .events = POLLIN };

	if (!s->watching) {
		xen_sleep_ms(i < 100 ? 1 : 10);
		return;
	}
	p.fd = xs_fileno(s->h.xsh);
	(void)poll(&p, 1, XEN_SUSPEND_POLL_MS);
	xen_suspend_events_drop(s);
}

/* Ask through control/shutdown and wait for the guest to take the request
 * (it clears the node).  On timeout withdraw it, unless the guest took it
 * at the last moment (libxl does the same in one transaction). */
static int
xen_suspend_request(struct xen_save *s)
{
	struct xs_handle *xsh = s->h.xsh;
	uint64_t t0 = now_ms();
	unsigned i;
	char *v;

	if (!xen_xs_write(xsh, XBT_NULL, "suspend", "/local/domain/%u/control/shutdown",
	    s->domid)) {
		save_fail(s, "domain %u: cannot write control/shutdown: %s", s->domid,
		    strerror(errno));
		return XMIG_ERR_BACKEND;
	}
	for (i = 0; now_ms() - t0 < XEN_SUSPEND_ACK_MS; i++) {
		v = xen_xs_read(xsh, XBT_NULL, "/local/domain/%u/control/shutdown", s->domid);
		if (v == NULL || strcmp(v, "suspend") != 0) {
			free(v);
			return 0;
		}
		free(v);
		xen_suspend_sleep(s, i);
	}
	for (i = 0; i < XEN_XS_RETRIES; i++) {
		xs_transaction_t t = xs_transaction_start(xsh);
		bool taken;

		if (t == XBT_NULL)
			break;
		v = xen_xs_read(xsh, t, "/local/domain/%u/control/shutdown", s->domid);
		taken = v == NULL || strcmp(v, "suspend") != 0;
		free(v);
		if (taken) {
			xs_transaction_end(xsh, t, true);
			return 0;
		}
		xen_xs_write(xsh, t, "", "/local/domain/%u/control/shutdown", s->domid);
		if (xs_transaction_end(xsh, t, false) || errno != EAGAIN)
			break;
	}
	save_fail(s, "domain %u did not acknowledge the suspend request within %u ms; "
	    "request withdrawn", s->domid, XEN_SUSPEND_ACK_MS);
	return XMIG_ERR_TIMEOUT;
}

static int
xen_wait_suspended(struct xen_save *s)
{
	uint64_t t0 = now_ms();
	xc_domaininfo_t di;
	unsigned i;
	int r, why;

	for (i = 0; now_ms() - t0 < XEN_SUSPEND_WAIT_MS; i++) {
		if ((r = xen_getinfo(s->h.xch, s->domid, &di)) != 0) {
			save_fail(s, "domain %u vanished while suspending", s->domid);
			return r;
		}
		why = xen_shutdown_reason(&di);
		if (why == SHUTDOWN_suspend)
			return 0;
		if (why >= 0) {
			save_fail(s, "domain %u shut down (reason %d) instead of suspending",
			    s->domid, why);
			return XMIG_ERR_STATE;
		}
		xen_suspend_sleep(s, i);
	}
	save_fail(s, "domain %u did not suspend within %u ms", s->domid, XEN_SUSPEND_WAIT_MS);
	return XMIG_ERR_TIMEOUT;
}

/* Returns 1 on success: libxenguest's convention for this callback. */
static int
xen_suspend_cb(void *data)
{
	struct xen_save *s = data;
	uint64_t t0;

	if (xen_pump_error(s) != 0)
		return 0;
	if (s->opts->live)
		xen_drain_before_suspend(s);
	t0 = now_ms();
	if (s->watching)	/* what the pre-copy's time queued (and the first firing) */
		xen_suspend_events_drop(s);
	s->io->suspending(s->io);
	if (s->sev_port >= 0) {
		if (xenevtchn_notify(s->xce, (evtchn_port_t)s->sev_port) < 0) {
			save_fail(s, "domain %u: notifying its suspend event channel failed: %s",
			    s->domid, strerror(errno));
			return 0;
		}
	} else if (xen_suspend_request(s) != 0) {
		return 0;
	}
	if (xen_wait_suspended(s) != 0)
		return 0;
	s->io->suspended(s->io);
	/* The guest issues no more disk requests: wait for those in flight
	 * while the last pages go (the quiesce op collects it after BUILT;
	 * a failed save drops it with the resume). */
	xen_quiesce_start(s->x, s->domid);
	if (s->qmp != NULL && xen_dm_save(s) != 0)
		return 0;
	log_verbose("domain %u suspended in %llu ms (%s)", s->domid,
	    (unsigned long long)(now_ms() - t0), s->sev_port >= 0 ? "event channel" :
	    "control/shutdown");
	if (fault_armed("xen-fail-after-suspend")) {
		save_fail(s, "domain %u: fault injection: the save fails with the guest suspended",
		    s->domid);
		return 0;
	}
	return 1;
}

/* ---- set-up ---- */

/* A guest that advertises a suspend event channel is asked through it
 * (faster than xenstore); any failure falls back to control/shutdown. */
static void
xen_suspend_evtchn_setup(struct xen_save *s)
{
	char *v = xen_xs_read(s->h.xsh, XBT_NULL,
	    "/local/domain/%u/device/suspend/event-channel", s->domid);
	long port = v != NULL && *v ? strtol(v, NULL, 10) : -1;

	free(v);
	if (port <= 0)
		return;
	if ((s->xce = xenevtchn_open(NULL, 0)) == NULL) {
		log_warn("domain %u: cannot open the event channel device: %s", s->domid,
		    strerror(errno));
		return;
	}
	s->sev_port = xc_suspend_evtchn_init_exclusive(s->h.xch, s->xce, s->domid, (int)port,
	    &s->sev_lockfd);
	if (s->sev_port < 0) {
		log_warn("domain %u: its suspend event channel %ld is unusable; using "
		    "control/shutdown", s->domid, port);
		xenevtchn_close(s->xce);
		s->xce = NULL;
		s->sev_port = -1;
	}
}

/* The guest's ack (it clears control/shutdown) and its shutdown (xenstored
 * fires @releaseDomain; xs_resume_domain re-arms that after a resume), as
 * libxl waits for them.  Set up before the pre-copy: a watch costs a
 * xenstore round trip, which must not fall inside the downtime. */
static void
xen_suspend_watch_setup(struct xen_save *s)
{
	char path[64];

	snprintf(path, sizeof(path), "/local/domain/%u/control/shutdown", s->domid);
	s->watching = xs_watch(s->h.xsh, path, "xmig-suspend-ack") &&
	    xs_watch(s->h.xsh, "@releaseDomain", "xmig-suspended") && xs_fileno(s->h.xsh) >= 0;
	if (!s->watching)
		log_warn("domain %u: cannot watch its suspend (%s): polling for it instead",
		    s->domid, strerror(errno));
}

static void
xen_suspend_evtchn_release(struct xen_save *s)
{
	if (s->xce == NULL)
		return;
	if (s->sev_port >= 0)
		xc_suspend_evtchn_release(s->h.xch, s->xce, s->domid, s->sev_port, &s->sev_lockfd);
	xenevtchn_close(s->xce);
	s->xce = NULL;
}

/* What cannot work must fail before the guest is touched, saying why. */
static int
xen_save_check(struct xen_save *s, const xc_domaininfo_t *di)
{
	uint64_t cb_irq = 0;

	if (s->type == HV_TYPE_HVM && !s->opts->device_model) {
		save_fail(s, "domain %u is an HVM guest: its QEMU device model would have to move "
		    "too, which the peer cannot take (PV and PVH guests can be migrated)",
		    s->domid);
		return XMIG_ERR_UNSUPPORTED;
	}
	if (xen_shutdown_reason(di) >= 0 || (di->flags & XEN_DOMINF_dying)) {
		save_fail(s, "domain %u has shut down; nothing to migrate", s->domid);
		return XMIG_ERR_STATE;
	}
	/* PV log-dirty is built on shadow paging (Debian's Xen has none). */
	if (s->opts->live && s->type == HV_TYPE_PV && !(s->x->caps & XEN_SYSCTL_PHYSCAP_shadow)) {
		save_fail(s, "domain %u is a PV guest and cannot be migrated live: this host's Xen "
		    "is built without shadow paging, which PV log-dirty tracking needs "
		    "(Debian's Xen is); migrate it offline (without -l), or use a PVH guest",
		    s->domid);
		return XMIG_ERR_UNSUPPORTED;
	}
	/* PVH answers control/shutdown only with its PV drivers up, which
	 * shows as an event-channel callback. */
	if (s->type == HV_TYPE_PVH && s->sev_port < 0 &&
	    (xc_hvm_param_get(s->h.xch, s->domid, HVM_PARAM_CALLBACK_IRQ, &cb_irq) != 0 ||
	    cb_irq == 0)) {
		save_fail(s, "domain %u has no PV drivers running to answer a suspend request",
		    s->domid);
		return XMIG_ERR_STATE;
	}
	return 0;
}

int
xen_save(struct hv *hv, uint32_t domid, struct hv_save_io *io, const struct hv_save_opts *opts)
{
	struct xen_save s;
	struct save_callbacks cb;
	xc_domaininfo_t di;
	char err[256];
	int pfd[2], r, rc;
	bool pumping = false;
	uint64_t t0;

	if (domid == 0)
		return XMIG_ERR_INVALID;	/* libxenguest would try, on Domain-0 */
	memset(&s, 0, sizeof(s));
	s.x = xen_priv(hv);
	s.domid = domid;
	s.io = io;
	s.opts = opts;
	s.sev_port = -1;
	s.sev_lockfd = -1;
	s.rfd = s.wfd = -1;
	pthread_mutex_init(&s.mu, NULL);
	if ((r = xen_handles_open(&s.h, err, sizeof(err))) != 0) {
		save_fail(&s, "%s", err);
		goto out;
	}
	if ((r = xen_getinfo(s.h.xch, domid, &di)) != 0)
		goto out;
	s.type = xen_dom_type(&di);
	s.nr_pages = di.tot_pages;
	xen_suspend_evtchn_setup(&s);
	if ((r = xen_save_check(&s, &di)) != 0)
		goto out;
	xen_suspend_watch_setup(&s);
	if (s.type == HV_TYPE_HVM) {
		if ((s.qmp = xen_qemu_qmp(domid, err, sizeof(err))) == NULL) {
			save_fail(&s, "domain %u: %s", domid, err);
			r = XMIG_ERR_BACKEND;
			goto out;
		}
		xen_qemu_state_path(s.dm_file, sizeof(s.dm_file), "save", domid);
	}
	if (pipe2(pfd, O_CLOEXEC) != 0) {
		save_fail(&s, "pipe: %s", strerror(errno));
		r = XMIG_ERR_SYSTEM;
		goto out;
	}
	s.rfd = pfd[0];
	s.wfd = pfd[1];
	/* Bigger than the default 64 KiB: fewer wake-ups under TCG. */
	(void)fcntl(s.wfd, F_SETPIPE_SZ, XEN_PIPE_SIZE);
	if (pthread_create(&s.pump, NULL, xen_pump, &s) != 0) {
		save_fail(&s, "cannot start the save pump thread");
		close(s.rfd);
		s.rfd = -1;
		r = XMIG_ERR_SYSTEM;
		goto out;
	}
	pumping = true;
	memset(&cb, 0, sizeof(cb));
	cb.suspend = xen_suspend_cb;
	cb.precopy_policy = xen_precopy_cb;
	cb.switch_qemu_logdirty = xen_logdirty_cb;
	cb.data = &s;
	log_info("saving domain %u (%s, %llu MiB, %s)", domid, hv_type_name(s.type),
	    (unsigned long long)(s.nr_pages * XC_PAGE_SIZE >> 20), opts->live ? "live" : "offline");
	t0 = now_ms();
	rc = xc_domain_save(s.h.xch, s.wfd, domid, opts->live ? XCFLAGS_LIVE : 0, &cb,
	    XC_STREAM_PLAIN, -1);
	close(s.wfd);
	s.wfd = -1;
	pthread_join(s.pump, NULL);
	pumping = false;
	if (rc != 0) {
		if ((r = s.pump_err) == 0)
			r = io->cancelled(io) ? XMIG_ERR_INTERRUPTED : XMIG_ERR_BACKEND;
		/* A failure of the connection (the peer aborted, the link went)
		 * is the job's error, said once there; so is a reason save_fail
		 * gave. */
		log_msg(r == XMIG_ERR_BACKEND && io->why[0] == '\0' ? LOG_LVL_ERROR :
		    LOG_LVL_VERBOSE,
		    "xc_domain_save of domain %u failed after %llu ms: %s", domid,
		    (unsigned long long)(now_ms() - t0), r == XMIG_ERR_BACKEND ?
		    xen_last_error(&s.h.xtl) : xmig_strerror(r));
		goto out;
	}
	/* The stop-and-copy round, now that every byte is out. */
	if ((r = io->round_end(io, opts->live ? s.last_round : 0, opts->live ? s.last_sent :
	    s.nr_pages, 0)) != 0)
		goto out;
	if (s.qmp != NULL && (r = xen_dm_send(&s)) != 0)
		goto out;
	log_info("domain %u saved in %llu ms: %llu bytes, %u policy calls; the pump waited "
	    "%llu ms for libxenguest, read %llu ms, sent %llu ms, on CPU %llu ms", domid,
	    (unsigned long long)(now_ms() - t0), (unsigned long long)s.pumped, s.policy_calls,
	    (unsigned long long)s.pump_wait_us / 1000, (unsigned long long)s.pump_read_us / 1000,
	    (unsigned long long)s.pump_send_us / 1000, (unsigned long long)s.pump_cpu_us / 1000);
out:
	if (pumping) {
		close(s.wfd);
		pthread_join(s.pump, NULL);
	}
	xen_suspend_evtchn_release(&s);
	if (s.qmp != NULL) {
		/* A failed save leaves QEMU as the guest was: resume (xen_resume)
		 * lets it run again; the source's commit kills it. */
		if (r != 0 && s.dm_saved && qmp_cont(s.qmp) != 0)
			log_error("domain %u: cannot let its device model run again: %s", domid,
			    qmp_error(s.qmp));
		qmp_close(s.qmp);
	}
	if (s.dm_file[0] != '\0')
		unlink(s.dm_file);
	xen_handles_close(&s.h);
	pthread_mutex_destroy(&s.mu);
	return r;
}

#else
typedef int hv_xen_save_unused;	/* ISO C wants a declaration */
#endif
