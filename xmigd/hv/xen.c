/* hv/xen.c - the Xen backend: domains of the hypervisor xmigd runs on.
 *
 * Talks to Xen the way xend did, without libxl: libxenctrl for domains,
 * libxenguest for the save/restore stream (hv/xen_save.c,
 * hv/xen_restore.c), libxenstore for names and the toolstack's tree
 * (hv/xen_store.c).  Short operations share one set of handles under a
 * lock; save and restore open their own.  Domains restored here have no
 * `xl` process watching them, so a watcher thread handles their poweroff,
 * reboot and crash on @releaseDomain, as xl would.
 *
 * Supported Xen versions: see hv/xen_int.h (4.17 tested, 4.17..4.20 build).
 */
#ifdef HAVE_XEN

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hv/qmp.h"
#include "hv/xen_dm.h"
#include "hv/xen_int.h"
#include "log.h"
#include "util.h"
#include "xerr.h"

#define XEN_LIST_BATCH 256

/* ---- logging and handles ---- */

static void xen_xtl_vmessage(struct xentoollog_logger *lg, xentoollog_level level,
    int errnoval, const char *context, const char *fmt, va_list ap)
	__attribute__((format(printf, 5, 0)));

static void
xen_xtl_vmessage(struct xentoollog_logger *lg, xentoollog_level level, int errnoval,
    const char *context, const char *fmt, va_list ap)
{
	struct xen_xtl *x = (struct xen_xtl *)lg;
	enum log_level lvl;
	char msg[512];
	int n;

	/* libxc is chatty at detail level: its progress is our debug. */
	if (level >= XTL_ERROR)
		lvl = atomic_load(&x->quiet) ? LOG_LVL_VERBOSE : LOG_LVL_ERROR;
	else if (level == XTL_WARN)
		lvl = LOG_LVL_WARN;
	else if (level >= XTL_PROGRESS)
		lvl = LOG_LVL_VERBOSE;
	else
		lvl = LOG_LVL_DEBUG;
	if (lvl > log_get_level() && level < XTL_ERROR)
		return;
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n > 0 && errnoval >= 0 && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - (size_t)n, " (%s)", strerror(errnoval));
	if (level >= XTL_ERROR)
		strlcpy_x(x->last, msg, sizeof(x->last));
	log_msg(lvl, "%s: %s", context ? context : "xen", msg);
}

static void
xen_xtl_destroy(struct xentoollog_logger *lg)
{
	(void)lg;	/* embedded in its owner, nothing to free */
}

void
xen_xtl_init(struct xen_xtl *x)
{
	memset(x, 0, sizeof(*x));
	x->vtable.vmessage = xen_xtl_vmessage;
	x->vtable.progress = NULL;
	x->vtable.destroy = xen_xtl_destroy;
}

const char *
xen_last_error(const struct xen_xtl *x)
{
	return x->last[0] ? x->last : "no detail from libxc";
}

int
xen_handles_open(struct xen_handles *h, char *err, size_t errlen)
{
	xen_xtl_init(&h->xtl);
	h->xsh = NULL;
	h->xch = xc_interface_open(&h->xtl.vtable, &h->xtl.vtable, 0);
	if (h->xch == NULL) {
		snprintf(err, errlen, "cannot open the Xen control interface (/dev/xen/privcmd): "
		    "%s; is this Xen's dom0?", strerror(errno));
		return XMIG_ERR_BACKEND;
	}
	if ((h->xsh = xs_open(0)) == NULL) {
		snprintf(err, errlen, "cannot connect to xenstored: %s", strerror(errno));
		xc_interface_close(h->xch);
		h->xch = NULL;
		return XMIG_ERR_BACKEND;
	}
	return 0;
}

void
xen_handles_close(struct xen_handles *h)
{
	if (h->xsh != NULL)
		xs_close(h->xsh);
	if (h->xch != NULL)
		xc_interface_close(h->xch);
	h->xsh = NULL;
	h->xch = NULL;
}

void
xen_sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* ---- domain facts ---- */

int
xen_getinfo(xc_interface *xch, uint32_t domid, xc_domaininfo_t *di)
{
	/* getinfolist returns the next domain at or after domid. */
	int n = xc_domain_getinfolist(xch, domid, 1, di);

	if (n < 0)
		return XMIG_ERR_BACKEND;
	if (n == 0 || di->domain != domid)
		return XMIG_ERR_NOT_FOUND;
	return 0;
}

enum hv_dom_type
xen_dom_type(const xc_domaininfo_t *di)
{
	if (!(di->flags & XEN_DOMINF_hvm_guest))
		return HV_TYPE_PV;
	/* A PVH domU emulates only the local APIC; HVM has the PIT and the
	 * rest of a PC. */
	return (di->arch_config.emulation_flags & XEN_X86_EMU_PIT) ? HV_TYPE_HVM : HV_TYPE_PVH;
}

int
xen_shutdown_reason(const xc_domaininfo_t *di)
{
	if (!(di->flags & XEN_DOMINF_shutdown))
		return -1;
	return (int)((di->flags >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask);
}

static enum hv_dom_state
xen_dom_state(const xc_domaininfo_t *di)
{
	int why = xen_shutdown_reason(di);

	if (di->flags & XEN_DOMINF_dying)
		return HV_SHUTDOWN;
	if (why == SHUTDOWN_suspend)
		return HV_SUSPENDED;
	if (why == SHUTDOWN_crash)
		return HV_CRASHED;
	if (why >= 0)
		return HV_SHUTDOWN;
	if (di->flags & XEN_DOMINF_paused)
		return HV_PAUSED;
	return HV_RUNNING;
}

static void
xen_fill_info(struct xs_handle *xsh, const xc_domaininfo_t *di, struct hv_dominfo *out)
{
	char *name = xen_xs_read(xsh, XBT_NULL, "/local/domain/%u/name", di->domain);

	memset(out, 0, sizeof(*out));
	out->id = di->domain;
	if (name != NULL)
		strlcpy_x(out->name, name, sizeof(out->name));
	else if (di->domain == 0)
		strlcpy_x(out->name, "Domain-0", sizeof(out->name));
	else	/* no toolstack entry: still listable, by id */
		snprintf(out->name, sizeof(out->name), "(domain %u)", di->domain);
	free(name);
	memcpy(out->uuid, di->handle, 16);
	out->memory = di->tot_pages * XC_PAGE_SIZE;
	out->maxmem = di->max_pages * XC_PAGE_SIZE;
	out->vcpus = di->nr_online_vcpus;
	out->state = xen_dom_state(di);
	out->type = xen_dom_type(di);
}

/* All domains; caller holds the lock. */
static int
xen_list_locked(struct hv_xen *x, struct hv_dominfo **out, size_t *n)
{
	xc_domaininfo_t batch[XEN_LIST_BATCH];
	struct hv_dominfo *di = NULL, *grown;
	size_t cnt = 0, cap = 0;
	uint32_t next = 0;
	int got, i;

	*out = NULL;
	*n = 0;
	for (;;) {
		if ((got = xc_domain_getinfolist(x->h.xch, next, XEN_LIST_BATCH, batch)) < 0) {
			log_error("xc_domain_getinfolist failed: %s", strerror(errno));
			free(di);
			return XMIG_ERR_BACKEND;
		}
		if (cnt + (size_t)got > cap) {
			cap = cnt + (size_t)got + 16;
			if ((grown = realloc(di, cap * sizeof(*di))) == NULL) {
				free(di);
				return XMIG_ERR_NOMEM;
			}
			di = grown;
		}
		for (i = 0; i < got; i++)
			xen_fill_info(x->h.xsh, &batch[i], &di[cnt++]);
		if (got < XEN_LIST_BATCH)
			break;
		next = batch[got - 1].domain + 1u;
	}
	if (di == NULL && (di = calloc(1, sizeof(*di))) == NULL)
		return XMIG_ERR_NOMEM;
	*out = di;
	*n = cnt;
	return 0;
}

static int
xen_list(struct hv *hv, struct hv_dominfo **out, size_t *n)
{
	struct hv_xen *x = xen_priv(hv);
	int r;

	pthread_mutex_lock(&x->lock);
	r = xen_list_locked(x, out, n);
	pthread_mutex_unlock(&x->lock);
	return r;
}

static bool
xen_all_digits(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static int
xen_lookup(struct hv *hv, const char *name_or_id, struct hv_dominfo *out)
{
	struct hv_xen *x = xen_priv(hv);
	struct hv_dominfo *doms = NULL;
	size_t n = 0, i;
	int r;

	if (xen_all_digits(name_or_id)) {
		unsigned long id = strtoul(name_or_id, NULL, 10);
		xc_domaininfo_t di;

		if (id >= DOMID_FIRST_RESERVED)
			return XMIG_ERR_NOT_FOUND;
		pthread_mutex_lock(&x->lock);
		if ((r = xen_getinfo(x->h.xch, (uint32_t)id, &di)) == 0)
			xen_fill_info(x->h.xsh, &di, out);
		pthread_mutex_unlock(&x->lock);
		return r;
	}
	if ((r = xen_list(hv, &doms, &n)) != 0)
		return r;
	r = XMIG_ERR_NOT_FOUND;
	for (i = 0; i < n; i++)
		if (strcmp(doms[i].name, name_or_id) == 0) {
			*out = doms[i];
			r = 0;
			break;
		}
	free(doms);
	return r;
}

static int
xen_host_info(struct hv *hv, struct hv_host_info *out)
{
	struct hv_xen *x = xen_priv(hv);
	xen_extraversion_t extra;
	xc_physinfo_t pi;
	const char *arch;
	int ver, r = 0;

	memset(out, 0, sizeof(*out));
	memset(&pi, 0, sizeof(pi));
	memset(extra, 0, sizeof(extra));
	strlcpy_x(out->hv, "xen", sizeof(out->hv));
	pthread_mutex_lock(&x->lock);
	ver = xc_version(x->h.xch, XENVER_version, NULL);
	if (ver < 0 || xc_version(x->h.xch, XENVER_extraversion, &extra) < 0 ||
	    xc_physinfo(x->h.xch, &pi) != 0) {
		log_error("cannot read Xen's version or physinfo: %s", strerror(errno));
		r = XMIG_ERR_BACKEND;
	}
	pthread_mutex_unlock(&x->lock);
	if (r != 0)
		return r;
	extra[sizeof(extra) - 1] = '\0';
	snprintf(out->hv_version, sizeof(out->hv_version), "%d.%d%s", ver >> 16, ver & 0xffff,
	    extra);
	/* "xen-3.0-x86_64 hvm-3.0-x86_32 ...": the first word names the
	 * hypervisor's own architecture. */
	arch = strncmp(x->xen_caps, "xen-3.0-", 8) == 0 ? x->xen_caps + 8 : x->xen_caps;
	snprintf(out->arch, sizeof(out->arch), "%.*s", (int)strcspn(arch, " "), arch);
	out->page_size = XC_PAGE_SIZE;
	out->mem_total = pi.total_pages * XC_PAGE_SIZE;
	out->mem_free = pi.free_pages * XC_PAGE_SIZE;
	return 0;
}

/* ---- state changes ---- */

static int
xen_refuse_dom0(uint32_t domid)
{
	if (domid == 0) {
		log_error("refusing to touch Domain-0");
		return XMIG_ERR_INVALID;
	}
	return 0;
}

static int
xen_pause(struct hv *hv, uint32_t domid)
{
	struct hv_xen *x = xen_priv(hv);
	int r;

	if ((r = xen_refuse_dom0(domid)) != 0)
		return r;
	pthread_mutex_lock(&x->lock);
	if (xc_domain_pause(x->h.xch, domid) != 0) {
		log_error("xc_domain_pause(%u) failed: %s", domid, strerror(errno));
		r = errno == ESRCH ? XMIG_ERR_NOT_FOUND : XMIG_ERR_BACKEND;
	}
	pthread_mutex_unlock(&x->lock);
	return r;
}

/* Unlink domid's record (x->lock held). */
static struct xen_images *
xen_images_take(struct hv_xen *x, uint32_t domid)
{
	struct xen_images **p, *img;

	for (p = &x->images; (img = *p) != NULL; p = &img->next)
		if (img->domid == domid) {
			*p = img->next;
			img->next = NULL;
			return img;
		}
	return NULL;
}

static void
xen_images_free(struct xen_images *img)
{
	while (img != NULL) {
		struct xen_images *next = img->next;

		free(img);
		img = next;
	}
}

void
xen_images_keep(struct hv_xen *x, struct xen_images *img)
{
	pthread_mutex_lock(&x->lock);
	xen_images_free(xen_images_take(x, img->domid));
	img->next = x->images;
	x->images = img;
	pthread_mutex_unlock(&x->lock);
}

static int
xen_unpause(struct hv *hv, uint32_t domid)
{
	struct hv_xen *x = xen_priv(hv);
	struct xen_images *img;
	xc_domaininfo_t di;
	uint64_t t[4], cpu0 = 0, ran = 0;
	bool verbose;
	int r;

	if ((r = xen_refuse_dom0(domid)) != 0)
		return r;
	t[0] = now_us();
	/* A restored HVM guest's QEMU runs once it loaded its state; should
	 * it have stopped, it must run before the guest does (nothing to do
	 * for a domain without one). */
	if ((r = xen_qemu_cont(domid)) != 0)
		return r;
	pthread_mutex_lock(&x->lock);
	t[1] = now_us();
	/* A domain restored here has its images on record; any other walks. */
	if ((img = xen_images_take(x, domid)) != NULL)
		xen_images_drop(img);
	else
		xen_devices_fresh(x->h.xsh, domid);
	xen_images_free(img);
	verbose = log_get_level() >= LOG_LVL_VERBOSE && xen_getinfo(x->h.xch, domid, &di) == 0;
	if (verbose)
		cpu0 = di.cpu_time;
	t[2] = now_us();
	if (xc_domain_unpause(x->h.xch, domid) != 0) {
		log_error("xc_domain_unpause(%u) failed: %s", domid, strerror(errno));
		r = errno == ESRCH ? XMIG_ERR_NOT_FOUND : XMIG_ERR_BACKEND;
	}
	t[3] = now_us();
	/* The guest's own CPU time while dom0 waited in the unpause: on a
	 * host with few CPUs the woken guest runs before dom0 gets back. */
	if (verbose && xen_getinfo(x->h.xch, domid, &di) == 0)
		ran = (di.cpu_time - cpu0) / 1000;
	pthread_mutex_unlock(&x->lock);
	/* the downtime's last part, as the sender's phases show it */
	log_verbose("domain %u unpaused: device model and lock %llu us, cached images %llu us, "
	    "unpause %llu us (the guest ran %llu us of it)", domid,
	    (unsigned long long)(t[1] - t[0]), (unsigned long long)(t[2] - t[1]),
	    (unsigned long long)(t[3] - t[2]), (unsigned long long)ran);
	return r;
}

/* Destroy and remove every xenstore node a toolstack keeps for it (also
 * for domains xl created: their xl process then sees the death and
 * exits).  Its devices go first, as libxl removes them: called without
 * the lock, which xen_destroy_locked then takes. */
static int
xen_destroy_locked(struct hv_xen *x, uint32_t domid)
{
	int r = 0;

	/* An HVM guest's QEMU first, as libxl's destroy does: it maps the
	 * guest's memory, which Xen frees only once no one does. */
	xen_qemu_kill(x->h.xsh, domid);
	if (xc_domain_destroy(x->h.xch, domid) != 0 && errno != ESRCH) {
		log_error("xc_domain_destroy(%u) failed: %s", domid, strerror(errno));
		r = XMIG_ERR_BACKEND;
	}
	if (r == 0) {
		xen_xs_cleanup(x->h.xsh, domid);
		xen_images_free(xen_images_take(x, domid));
	}
	return r;
}

int
xen_destroy_domain(struct hv_xen *x, uint32_t domid)
{
	xc_domaininfo_t di;
	bool have;
	int r;

	pthread_mutex_lock(&x->lock);
	have = xen_getinfo(x->h.xch, domid, &di) == 0;
	pthread_mutex_unlock(&x->lock);
	xen_devices_remove(domid, x->hotplug_timeout_s);
	pthread_mutex_lock(&x->lock);
	r = xen_destroy_locked(x, domid);
	pthread_mutex_unlock(&x->lock);
	/* From now on xl (or nobody) keeps its configuration. */
	if (r == 0 && have)
		xen_toolcfg_forget(x, di.handle);
	return r;
}

static int
xen_destroy(struct hv *hv, uint32_t domid)
{
	struct hv_xen *x = xen_priv(hv);
	int r;

	if ((r = xen_refuse_dom0(domid)) != 0)
		return r;
	xen_quiesce_drop(x, domid);	/* a domid Xen may give again */
	/* Paused first, so that the guest does not see its devices go. */
	pthread_mutex_lock(&x->lock);
	(void)xc_domain_pause(x->h.xch, domid);
	pthread_mutex_unlock(&x->lock);
	return xen_destroy_domain(x, domid);
}

static int
xen_quiesce(struct hv *hv, uint32_t domid, char *why, size_t whylen)
{
	struct hv_xen *x = xen_priv(hv);
	int r;

	if ((r = xen_refuse_dom0(domid)) != 0)
		return r;
	/* Started when the guest acknowledged its suspension (xen_save). */
	if (xen_quiesce_take(x, domid, &r, why, whylen))
		return r;
	pthread_mutex_lock(&x->lock);
	r = xen_devices_quiesce(x->h.xsh, domid, why, whylen);
	pthread_mutex_unlock(&x->lock);
	return r;
}

/* As xl shutdown does for a guest with PV control: the request goes
 * through xenstore and the guest powers itself off. */
static int
xen_shutdown(struct hv *hv, uint32_t domid)
{
	struct hv_xen *x = xen_priv(hv);
	int r = 0;

	if ((r = xen_refuse_dom0(domid)) != 0)
		return r;
	pthread_mutex_lock(&x->lock);
	if (!xen_xs_write(x->h.xsh, XBT_NULL, "poweroff", "/local/domain/%u/control/shutdown",
	    domid))
		r = XMIG_ERR_BACKEND;
	pthread_mutex_unlock(&x->lock);
	return r;
}

static int
xen_rename(struct hv *hv, uint32_t domid, const char *newname)
{
	struct hv_xen *x = xen_priv(hv);
	int r;

	if ((r = xen_refuse_dom0(domid)) != 0)
		return r;
	if (*newname == '\0' || strchr(newname, '/') != NULL)
		return XMIG_ERR_INVALID;
	pthread_mutex_lock(&x->lock);
	r = xen_xs_rename(x->h.xsh, domid, newname);
	pthread_mutex_unlock(&x->lock);
	return r;
}

/* After a save that did not complete.  libxenguest turns log-dirty off on
 * every exit of xc_domain_save, so what is left is a guest suspended by
 * us: a cooperative resume makes its suspend hypercall return "cancelled"
 * and it carries on where it was (xl migrate's failure path does the
 * same). */
static int
xen_resume(struct hv *hv, uint32_t domid)
{
	struct hv_xen *x = xen_priv(hv);
	xc_domaininfo_t di;
	char *req;
	int r;

	if ((r = xen_refuse_dom0(domid)) != 0)
		return r;
	xen_quiesce_drop(x, domid);
	pthread_mutex_lock(&x->lock);
	if ((r = xen_getinfo(x->h.xch, domid, &di)) != 0)
		goto out;
	if (xen_shutdown_reason(&di) == SHUTDOWN_suspend) {
		if (xc_domain_resume(x->h.xch, domid, 1) != 0) {
			log_error("xc_domain_resume(%u) failed: %s", domid,
			    xen_last_error(&x->h.xtl));
			r = XMIG_ERR_BACKEND;
			goto out;
		}
		if (!xs_resume_domain(x->h.xsh, domid))
			log_warn("xs_resume_domain(%u) failed: %s", domid, strerror(errno));
		log_info("domain %u resumed after a cancelled suspend", domid);
	} else if (xen_shutdown_reason(&di) >= 0) {
		log_error("domain %u has shut down (reason %d) and cannot be resumed", domid,
		    xen_shutdown_reason(&di));
		r = XMIG_ERR_STATE;
		goto out;
	}
	/* A request the guest never acknowledged must not fire later. */
	req = xen_xs_read(x->h.xsh, XBT_NULL, "/local/domain/%u/control/shutdown", domid);
	if (req != NULL && strcmp(req, "suspend") == 0)
		xen_xs_write(x->h.xsh, XBT_NULL, "", "/local/domain/%u/control/shutdown", domid);
	free(req);
	if ((di.flags & XEN_DOMINF_paused) && xc_domain_unpause(x->h.xch, domid) != 0) {
		log_error("xc_domain_unpause(%u) failed: %s", domid, strerror(errno));
		r = XMIG_ERR_BACKEND;
	}
out:
	pthread_mutex_unlock(&x->lock);
	/* an HVM guest's QEMU, stopped by the save, runs again */
	if (r == 0 && xen_dom_type(&di) == HV_TYPE_HVM && xen_qemu_cont(domid) != 0)
		r = XMIG_ERR_BACKEND;
	return r;
}

/* The slot holding domid's saved cap, or with `take` a free one. */
static struct xen_saved_cap *
saved_cap(struct hv_xen *x, uint32_t domid, bool take)
{
	size_t i;

	for (i = 0; i < sizeof(x->saved_caps) / sizeof(x->saved_caps[0]); i++)
		if (x->saved_caps[i].used && x->saved_caps[i].domid == domid)
			return &x->saved_caps[i];
	for (i = 0; take && i < sizeof(x->saved_caps) / sizeof(x->saved_caps[0]); i++)
		if (!x->saved_caps[i].used)
			return &x->saved_caps[i];
	return NULL;
}

/* Auto-converge through the scheduler's cap (percent of one pCPU per
 * vCPU); credit2 is Xen's default scheduler, credit the older one.  The
 * cap an administrator had set is remembered at the first throttle, never
 * loosened while throttling, and put back when pct returns to 0. */
static int
xen_throttle(struct hv *hv, uint32_t domid, unsigned pct)
{
	struct hv_xen *x = xen_priv(hv);
	struct xen_domctl_sched_credit2 c2;
	struct xen_domctl_sched_credit c1;
	struct xen_saved_cap *sc;
	xc_domaininfo_t di;
	unsigned cap, old;
	bool credit2;
	int r;

	if ((r = xen_refuse_dom0(domid)) != 0)
		return r;
	if (pct > 99)
		pct = 99;
	pthread_mutex_lock(&x->lock);
	if ((r = xen_getinfo(x->h.xch, domid, &di)) != 0) {
		/* Gone (migrated away, destroyed): forget its saved cap. */
		if (pct == 0 && (sc = saved_cap(x, domid, false)) != NULL)
			sc->used = false;
		goto out;
	}
	if (xc_sched_credit2_domain_get(x->h.xch, domid, &c2) == 0) {
		credit2 = true;
		old = c2.cap;
	} else if (xc_sched_credit_domain_get(x->h.xch, domid, &c1) == 0) {
		credit2 = false;
		old = c1.cap;
	} else {
		r = XMIG_ERR_UNSUPPORTED;	/* a scheduler without caps */
		goto out;
	}
	sc = saved_cap(x, domid, pct > 0);
	if (pct == 0) {
		if (sc == NULL)
			goto out;	/* never throttled by us: leave it */
		cap = sc->cap;
		sc->used = false;
	} else {
		if (sc == NULL) {
			r = XMIG_ERR_BUSY;	/* more throttled domains than slots */
			goto out;
		}
		if (!sc->used)
			*sc = (struct xen_saved_cap){ .domid = domid, .cap = (uint16_t)old,
			    .used = true };
		cap = (100 - pct) * (di.max_vcpu_id + 1);
		if (cap > 65535)
			cap = 65535;
		if (sc->cap != 0 && sc->cap < cap)
			cap = sc->cap;
	}
	if (credit2) {
		c2.cap = (uint16_t)cap;
		if (xc_sched_credit2_domain_set(x->h.xch, domid, &c2) != 0)
			r = XMIG_ERR_BACKEND;
	} else {
		c1.cap = (uint16_t)cap;
		if (xc_sched_credit_domain_set(x->h.xch, domid, &c1) != 0)
			r = XMIG_ERR_BACKEND;
	}
out:
	pthread_mutex_unlock(&x->lock);
	return r;
}

/* ---- configuration ---- */

/* /local/domain/<domid>/<rel> as a number, dflt when absent or not one. */
static uint64_t
xen_dom_u64(struct xs_handle *xsh, uint32_t domid, const char *rel, uint64_t dflt)
{
	char *v = xen_xs_read(xsh, XBT_NULL, "/local/domain/%u/%s", domid, rel);
	char *end = NULL;
	unsigned long long u;

	if (v == NULL)
		return dflt;
	errno = 0;
	u = strtoull(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0')
		u = dflt;
	free(v);
	return u;
}

static bool xen_devices_list(struct xs_handle *xsh, uint32_t domid, struct xen_dev *devs,
    size_t *n);

/* The vifs and vbds that travel in the configuration; every other kind
 * was refused by the preflight (check_outgoing), and one that cannot be
 * carried now (it changed since) fails the migration. */
int
xen_read_devices(struct xs_handle *xsh, uint32_t domid, struct xen_cfg *cfg)
{
	struct xen_dev devs[XEN_DEV_MAX];
	char why[256];
	size_t n = 0, i;
	int r = 0;

	if (!xen_devices_list(xsh, domid, devs, &n))
		return XMIG_ERR_UNSUPPORTED;
	for (i = 0; i < n && r == 0; i++) {
		if (strcmp(devs[i].kind, "vif") == 0) {
			if (cfg->nvifs == XEN_CFG_MAX_VIFS) {
				snprintf(why, sizeof(why), "more than %u", XEN_CFG_MAX_VIFS);
				r = XMIG_ERR_UNSUPPORTED;
			} else if ((r = xen_dev_read_vif(xsh, domid, devs[i].devid,
			    &cfg->vifs[cfg->nvifs], why, sizeof(why))) == 0) {
				cfg->nvifs++;
			}
		} else if (strcmp(devs[i].kind, "vbd") == 0) {
			if (cfg->nvbds == XEN_CFG_MAX_VBDS) {
				snprintf(why, sizeof(why), "more than %u", XEN_CFG_MAX_VBDS);
				r = XMIG_ERR_UNSUPPORTED;
			} else if ((r = xen_dev_read_vbd(xsh, domid, devs[i].devid,
			    &cfg->vbds[cfg->nvbds], why, sizeof(why))) == 0) {
				cfg->nvbds++;
			}
		}
		if (r != 0)
			log_error("domain %u: %s %u: %s", domid, devs[i].kind, devs[i].devid, why);
	}
	return r;
}

static int
xen_get_config(struct hv *hv, uint32_t domid, void **blob, size_t *len)
{
	struct hv_xen *x = xen_priv(hv);
	struct xs_handle *xsh = x->h.xsh;
	xc_interface *xch = x->h.xch;
	struct xen_cfg cfg;
	xc_domaininfo_t di;
	uint32_t tsc_mode = 0, khz = 0, inc = 0, i;
	uint64_t ns = 0;
	char *s;
	int r;

	*blob = NULL;
	*len = 0;
	if ((r = xen_refuse_dom0(domid)) != 0)
		return r;
	memset(&cfg, 0, sizeof(cfg));
	pthread_mutex_lock(&x->lock);
	if ((r = xen_getinfo(xch, domid, &di)) != 0)
		goto out;
	cfg.type = (uint8_t)xen_dom_type(&di);
	memcpy(cfg.uuid, di.handle, 16);
	if ((s = xen_xs_read(xsh, XBT_NULL, "/local/domain/%u/name", domid)) != NULL) {
		strlcpy_x(cfg.name, s, sizeof(cfg.name));
		free(s);
	}
	cfg.max_vcpus = di.max_vcpu_id == XEN_INVALID_MAX_VCPU_ID ? 0 : di.max_vcpu_id + 1;
	if (cfg.max_vcpus == 0 || cfg.max_vcpus > XEN_CFG_MAX_VCPUS) {
		log_error("domain %u has %u vCPUs; xmig moves 1..%u", domid, cfg.max_vcpus,
		    XEN_CFG_MAX_VCPUS);
		r = XMIG_ERR_UNSUPPORTED;
		goto out;
	}
	for (i = 0; i < cfg.max_vcpus; i++) {
		s = xen_xs_read(xsh, XBT_NULL, "/local/domain/%u/cpu/%u/availability", domid, i);
		if (s != NULL ? strcmp(s, "online") == 0 : i < di.nr_online_vcpus)
			cfg.online[i / 8] |= (uint8_t)(1u << (i % 8));
		free(s);
	}
	cfg.max_memkb = di.max_pages * XEN_KIB_PER_PAGE;
	cfg.target_kb = xen_dom_u64(xsh, domid, "memory/target",
	    di.tot_pages * XEN_KIB_PER_PAGE);
	cfg.static_max_kb = xen_dom_u64(xsh, domid, "memory/static-max", cfg.max_memkb);
	cfg.cdf_flags = (di.flags & XEN_DOMINF_hvm_guest ? XEN_DOMCTL_CDF_hvm : 0) |
	    (di.flags & XEN_DOMINF_hap ? XEN_DOMCTL_CDF_hap : 0);
	cfg.emulation_flags = di.arch_config.emulation_flags;
	cfg.misc_flags = di.arch_config.misc_flags;
	if (cfg.type != HV_TYPE_PV) {
		if (xc_get_paging_mempool_size(xch, domid, &cfg.paging_pool) != 0 ||
		    xc_hvm_param_get(xch, domid, HVM_PARAM_TIMER_MODE, &cfg.timer_mode) != 0) {
			log_error("domain %u: cannot read its paging pool or timer mode: %s", domid,
			    strerror(errno));
			r = XMIG_ERR_BACKEND;
			goto out;
		}
	}
	if (xc_domain_get_tsc_info(xch, domid, &tsc_mode, &ns, &khz, &inc) != 0) {
		log_error("domain %u: cannot read its TSC mode: %s", domid, strerror(errno));
		r = XMIG_ERR_BACKEND;
		goto out;
	}
	cfg.tsc_mode = tsc_mode;
	cfg.console_limit = xen_dom_u64(xsh, domid, "console/limit", 0);
	if ((r = xen_read_devices(xsh, domid, &cfg)) == 0) {
		int tr = xen_toolcfg_read(domid, cfg.uuid, &cfg);

		if (tr != 0 && tr != XMIG_ERR_NOT_FOUND)
			log_warn("domain %u: its libxl configuration cannot be carried: %s", domid,
			    tr == XMIG_ERR_TOO_LONG ? "longer than xmig carries" : xmig_strerror(tr));
		r = xen_cfg_encode(&cfg, blob, len);
	}
out:
	pthread_mutex_unlock(&x->lock);
	return r;
}

/* What the devices name exists here: the bridge (its MAC and IP move
 * with the guest, so it must be on the same L2), the hotplug script, and
 * for the block script the device or image. */
static int
xen_devices_here(const struct xen_cfg *cfg, char *why, size_t whylen)
{
	char path[PATH_MAX];
	struct stat st;
	uint32_t i;

	for (i = 0; i < cfg->nvifs; i++) {
		const struct xen_cfg_vif *v = &cfg->vifs[i];

		snprintf(path, sizeof(path), "/sys/class/net/%s/bridge", v->bridge);
		if (stat(path, &st) != 0) {
			snprintf(why, whylen, "vif %u (%s): bridge %s does not exist on this host",
			    v->devid, v->mac, v->bridge);
			return XMIG_ERR_INCOMPATIBLE;
		}
		snprintf(path, sizeof(path), XEN_SCRIPT_DIR "/%s", v->script);
		if (access(path, X_OK) != 0) {
			snprintf(why, whylen, "vif %u (%s): no hotplug script %s on this host",
			    v->devid, v->mac, path);
			return XMIG_ERR_INCOMPATIBLE;
		}
	}
	for (i = 0; i < cfg->nvbds; i++) {
		const struct xen_cfg_vbd *v = &cfg->vbds[i];

		snprintf(path, sizeof(path), XEN_SCRIPT_DIR "/%s", v->script);
		if (access(path, X_OK) != 0) {
			snprintf(why, whylen, "vbd %u (%s): no hotplug script %s on this host",
			    v->devid, v->vdev, path);
			return XMIG_ERR_INCOMPATIBLE;
		}
		if (strcmp(v->script, "block") == 0 && (stat(v->params, &st) != 0 ||
		    !(S_ISBLK(st.st_mode) || S_ISREG(st.st_mode)))) {
			snprintf(why, whylen, "vbd %u (%s): %s is not a block device or file on "
			    "this host", v->devid, v->vdev, v->params);
			return XMIG_ERR_INCOMPATIBLE;
		}
	}
	return 0;
}

/* The receiver's preflight, on Xen's own facts.  Also run again by
 * restore: the spec is the same, the host may have changed. */
int
xen_check_cfg(struct hv_xen *x, const struct hv_dom_spec *spec, struct xen_cfg *cfg,
    char *why, size_t whylen)
{
	xc_physinfo_t pi;
	uint64_t need, have;
	int r;

	if ((r = xen_cfg_decode(spec->cfg, spec->cfg_len, cfg, why, whylen)) != 0)
		return r;
	if (cfg->type != (uint8_t)spec->type || memcmp(cfg->uuid, spec->uuid, 16) != 0) {
		snprintf(why, whylen, "the Xen configuration does not match the domain announced");
		return XMIG_ERR_INVALID;
	}
	if (cfg->type == HV_TYPE_HVM && (!spec->device_model || !xen_qemu_installed())) {
		snprintf(why, whylen, "HVM guests need their QEMU device model moved too, which "
		    "%s; PV and PVH guests can be migrated", !xen_qemu_installed() ?
		    "this host cannot start (no " XEN_DM_QEMU ")" :
		    "the sender did not offer to carry");
		return XMIG_ERR_INCOMPATIBLE;
	}
	if (cfg->type == HV_TYPE_HVM) {
		char w[256];

		/* the machine libxl builds for HVM, and a device model xmig can
		 * start from the configuration that came with it */
		if (cfg->emulation_flags != (XEN_X86_EMU_ALL & ~XEN_X86_EMU_VPCI) ||
		    (cfg->cdf_flags & (XEN_DOMCTL_CDF_hvm | XEN_DOMCTL_CDF_hap)) !=
		    (XEN_DOMCTL_CDF_hvm | XEN_DOMCTL_CDF_hap)) {
			snprintf(why, whylen, "an HVM guest with emulation flags %#x and creation "
			    "flags %#x is not one libxl builds on HAP; not supported",
			    cfg->emulation_flags, cfg->cdf_flags);
			return XMIG_ERR_INCOMPATIBLE;
		}
		if (cfg->toolcfg_len == 0) {
			snprintf(why, whylen, "an HVM guest must come with its libxl configuration: "
			    "its device model is started from it");
			return XMIG_ERR_INCOMPATIBLE;
		}
		if ((r = xen_dm_check(cfg->toolcfg, w, sizeof(w))) != 0) {
			snprintf(why, whylen, "%s", w);
			return r;
		}
	}
	memset(&pi, 0, sizeof(pi));
	pthread_mutex_lock(&x->lock);
	r = xc_physinfo(x->h.xch, &pi);
	pthread_mutex_unlock(&x->lock);
	if (r != 0) {
		snprintf(why, whylen, "cannot read this host's Xen facts: %s", strerror(errno));
		return XMIG_ERR_BACKEND;
	}
	if (cfg->type == HV_TYPE_PV && (!(pi.capabilities & XEN_SYSCTL_PHYSCAP_pv) ||
	    strstr(x->xen_caps, "xen-3.0-x86_64") == NULL)) {
		snprintf(why, whylen, "this host's Xen cannot run 64-bit PV guests "
		    "(xen_caps: %s)", x->xen_caps);
		return XMIG_ERR_INCOMPATIBLE;
	}
	if (cfg->type == HV_TYPE_PVH && (!(pi.capabilities & XEN_SYSCTL_PHYSCAP_hvm) ||
	    !(pi.capabilities & XEN_SYSCTL_PHYSCAP_hap))) {
		snprintf(why, whylen, "PVH guests need HVM with hardware-assisted paging (HAP), "
		    "which this host's Xen does not offer (xen_caps: %s%s)", x->xen_caps,
		    (pi.capabilities & XEN_SYSCTL_PHYSCAP_hvm) ? ", no HAP" : "");
		return XMIG_ERR_INCOMPATIBLE;
	}
	/* What the stream will populate plus the HAP pool. */
	need = spec->nr_pages * XC_PAGE_SIZE + cfg->paging_pool;
	have = pi.free_pages * XC_PAGE_SIZE;
	if (need > have) {
		snprintf(why, whylen, "not enough free memory in Xen: the domain needs %llu MiB, "
		    "%llu MiB free", (unsigned long long)(need >> 20),
		    (unsigned long long)(have >> 20));
		return XMIG_ERR_NO_SPACE;
	}
	if ((r = xen_devices_allowed(cfg, x->bridges_allow, x->disks_allow, x->scripts_allow,
	    why, whylen)) != 0 || (r = xen_toolcfg_check(x, cfg, why, whylen)) != 0)
		return r;
	return xen_devices_here(cfg, why, whylen);
}

/* Add KIND/DEVID to the list once (a frontend and its backend are one
 * device); false when the list is full. */
static bool
xen_dev_add(struct xen_dev *devs, size_t *n, const char *kind, const char *devid,
    uint32_t backend_domid)
{
	uint32_t id = (uint32_t)strtoul(devid, NULL, 10);
	size_t i;

	for (i = 0; i < *n; i++)
		if (strcmp(devs[i].kind, kind) == 0 && devs[i].devid == id) {
			if (backend_domid != 0)
				devs[i].backend_domid = backend_domid;
			return true;
		}
	if (*n >= XEN_DEV_MAX)
		return false;
	memset(&devs[*n], 0, sizeof(devs[*n]));
	strlcpy_x(devs[*n].kind, kind, sizeof(devs[*n].kind));
	devs[*n].devid = id;
	devs[*n].backend_domid = backend_domid;
	(*n)++;
	return true;
}

/* Every device of domid: its frontends (device/KIND/DEVID, with the
 * domain their backend runs in) and dom0's backends for it.  Returns
 * false when there were more than XEN_DEV_MAX. */
static bool
xen_devices_list(struct xs_handle *xsh, uint32_t domid, struct xen_dev *devs, size_t *n)
{
	char **kinds, **ids, path[XEN_PATH_MAX];
	unsigned nk = 0, ni, k, i;
	bool fits = true;

	*n = 0;
	snprintf(path, sizeof(path), "/local/domain/%u/device", domid);
	if ((kinds = xs_directory(xsh, XBT_NULL, path, &nk)) != NULL) {
		for (k = 0; k < nk; k++) {
			/* device/suspend holds the suspend event channel, not a device */
			if (strcmp(kinds[k], "suspend") == 0)
				continue;
			snprintf(path, sizeof(path), "/local/domain/%u/device/%s", domid, kinds[k]);
			ni = 0;
			if ((ids = xs_directory(xsh, XBT_NULL, path, &ni)) == NULL)
				continue;
			for (i = 0; i < ni; i++) {
				char rel[XEN_PATH_MAX];
				uint64_t be;

				snprintf(rel, sizeof(rel), "device/%s/%s/backend-id", kinds[k], ids[i]);
				be = xen_dom_u64(xsh, domid, rel, 0);
				fits = fits && xen_dev_add(devs, n, kinds[k], ids[i], (uint32_t)be);
			}
			free(ids);
		}
		free(kinds);
	}
	nk = 0;
	if ((kinds = xs_directory(xsh, XBT_NULL, "/local/domain/0/backend", &nk)) != NULL) {
		for (k = 0; k < nk; k++) {
			snprintf(path, sizeof(path), "/local/domain/0/backend/%s/%u", kinds[k], domid);
			ni = 0;
			if ((ids = xs_directory(xsh, XBT_NULL, path, &ni)) == NULL)
				continue;
			for (i = 0; i < ni; i++)
				fits = fits && xen_dev_add(devs, n, kinds[k], ids[i], 0);
			free(ids);
		}
		free(kinds);
	}
	return fits;
}

static void
xen_dev_log(const char *line, void *arg)
{
	log_warn("domain %s: %s", (const char *)arg, line);
}

/* Every device is carried or the migration is refused, one line per
 * device in the log, before anything is sent. */
static int
xen_check_devices(struct hv_xen *x, const struct hv_dominfo *dom, char *why, size_t whylen)
{
	struct xen_dev devs[XEN_DEV_MAX];
	char list[900];
	size_t n = 0, i;
	bool fits;
	int r;

	pthread_mutex_lock(&x->lock);
	fits = xen_devices_list(x->h.xsh, dom->id, devs, &n);
	/* A vif or vbd is carried when what its backend says allows it. */
	for (i = 0; i < n; i++) {
		struct xen_cfg_vif vif;
		struct xen_cfg_vbd vbd;

		if (devs[i].backend_domid != 0)
			continue;
		if (strcmp(devs[i].kind, "vif") == 0)
			(void)xen_dev_read_vif(x->h.xsh, dom->id, devs[i].devid, &vif,
			    devs[i].refusal, sizeof(devs[i].refusal));
		else if (strcmp(devs[i].kind, "vbd") == 0)
			(void)xen_dev_read_vbd(x->h.xsh, dom->id, devs[i].devid, &vbd,
			    devs[i].refusal, sizeof(devs[i].refusal));
	}
	pthread_mutex_unlock(&x->lock);
	if ((r = xen_devices_check(devs, n, !fits, list, sizeof(list), xen_dev_log,
	    (void *)dom->name)) != 0)
		snprintf(why, whylen, "%s has devices xmig cannot carry: %s", dom->name, list);
	return r;
}

/* What xen_save would refuse, said before the connection is even made. */
static int
xen_check_outgoing(struct hv *hv, const struct hv_dominfo *dom, bool live, char *why,
    size_t whylen)
{
	struct hv_xen *x = xen_priv(hv);

	if (dom->id == 0) {
		snprintf(why, whylen, "Domain-0 cannot be migrated");
		return XMIG_ERR_UNSUPPORTED;
	}
	if (dom->type == HV_TYPE_HVM && !hv->device_model) {
		snprintf(why, whylen, "%s is an HVM guest: its QEMU device model would have to "
		    "move too, which xmig does not do (PV and PVH guests can be migrated)",
		    dom->name);
		return XMIG_ERR_UNSUPPORTED;
	}
	if (dom->type == HV_TYPE_HVM) {
		struct xen_cfg *cfg = malloc(sizeof(*cfg));
		char w[256];
		int r;

		if (!xen_qemu_present(dom->id)) {
			free(cfg);
			snprintf(why, whylen, "%s is an HVM guest without a QEMU device model "
			    "xmig can reach (no " QMP_LIBXL_SOCKET_FMT "); not supported",
			    dom->name, dom->id);
			return XMIG_ERR_UNSUPPORTED;
		}
		/* the destination starts its QEMU from its libxl configuration */
		r = cfg == NULL ? XMIG_ERR_NOMEM : xen_toolcfg_read(dom->id, dom->uuid, cfg);
		if (r == 0 && (r = xen_dm_check(cfg->toolcfg, w, sizeof(w))) != 0)
			snprintf(why, whylen, "%s", w);
		else if (r != 0)
			snprintf(why, whylen, "%s is an HVM guest without a libxl configuration "
			    "xmig can carry: its device model is started from it", dom->name);
		free(cfg);
		if (r != 0)
			return r == XMIG_ERR_INVALID ? r : XMIG_ERR_UNSUPPORTED;
	}
	if (live && dom->type == HV_TYPE_PV && !(x->caps & XEN_SYSCTL_PHYSCAP_shadow)) {
		snprintf(why, whylen, "%s is a PV guest and cannot be migrated live: this host's "
		    "Xen is built without shadow paging, which PV log-dirty tracking needs "
		    "(Debian's Xen is); migrate it offline (without -l), or use a PVH guest",
		    dom->name);
		return XMIG_ERR_UNSUPPORTED;
	}
	return xen_check_devices(x, dom, why, whylen);
}

/* A domain without xl's configuration cannot be built again when it
 * reboots at the destination: say so before it moves. */
static void
xen_warn_outgoing(struct hv *hv, const struct hv_dominfo *dom, char *note, size_t notelen)
{
	struct xen_cfg *cfg = malloc(sizeof(*cfg));
	int r;

	note[0] = '\0';
	if (cfg == NULL)
		return;
	if ((r = xen_toolcfg_read(dom->id, dom->uuid, cfg)) == XMIG_ERR_NOT_FOUND)
		snprintf(note, notelen, "%s has no toolstack configuration: at the destination a "
		    "reboot will power it off", dom->name);
	else if (r != 0)
		snprintf(note, notelen, "%s's toolstack configuration cannot be carried (%s): at "
		    "the destination a reboot will power it off", dom->name,
		    r == XMIG_ERR_TOO_LONG ? "longer than xmig carries" : xmig_strerror(r));
	free(cfg);
}

static int
xen_check_incoming(struct hv *hv, const struct hv_dom_spec *spec, char *why, size_t whylen)
{
	struct hv_xen *x = xen_priv(hv);
	struct hv_dominfo *doms = NULL;
	struct xen_cfg cfg;
	size_t n = 0, i;
	int r;

	if (spec->type != HV_TYPE_PV && spec->type != HV_TYPE_PVH && spec->type != HV_TYPE_HVM) {
		snprintf(why, whylen, "this host runs Xen and cannot build a %s domain",
		    hv_type_name(spec->type));
		return XMIG_ERR_INCOMPATIBLE;
	}
	if ((r = xen_check_cfg(x, spec, &cfg, why, whylen)) != 0)
		return r;
	if ((r = xen_list(hv, &doms, &n)) != 0) {
		snprintf(why, whylen, "cannot list this host's domains");
		return r;
	}
	for (i = 0; i < n && r == 0; i++)
		if (memcmp(doms[i].uuid, spec->uuid, 16) == 0) {
			snprintf(why, whylen, "a domain with the same UUID already exists here "
			    "(%s, id %u)", doms[i].name, doms[i].id);
			r = XMIG_ERR_EXISTS;
		}
	free(doms);
	return r;
}

/* ---- the @releaseDomain watcher ---- */

/* A domain restored here died or shut down: do what its configuration
 * says (hv/xen_lifecycle.c: restart, preserve, dump its core, destroy), as
 * xl does for its own.  A suspended one is being saved by us again and is
 * left alone, and so is one already preserved. */
static void
xen_reap(struct hv_xen *x)
{
	struct { uint32_t domid; int why; } doomed[64];
	char **ids;
	unsigned n = 0, i, nd = 0;

	pthread_mutex_lock(&x->lock);
	ids = xs_directory(x->h.xsh, XBT_NULL, "/tool/xmig", &n);
	for (i = 0; ids != NULL && i < n; i++) {
		uint32_t domid = (uint32_t)strtoul(ids[i], NULL, 10);
		xc_domaininfo_t di;
		int r = xen_getinfo(x->h.xch, domid, &di), why;

		if (domid == 0)
			continue;
		if (r == XMIG_ERR_NOT_FOUND) {
			log_info("domain %u is gone; removing its xenstore entries", domid);
			xen_xs_cleanup(x->h.xsh, domid);
			continue;
		}
		if (r != 0 || (why = xen_shutdown_reason(&di)) < 0 || why == SHUTDOWN_suspend ||
		    xen_xs_is_preserved(x->h.xsh, domid))
			continue;
		if (nd < sizeof(doomed) / sizeof(doomed[0])) {
			doomed[nd].domid = domid;
			doomed[nd++].why = why;
		}
	}
	free(ids);
	pthread_mutex_unlock(&x->lock);
	/* Devices, scripts and xl take time: without the lock. */
	for (i = 0; i < nd; i++)
		xen_lifecycle_handle(x, doomed[i].domid, doomed[i].why);
}

static void *
xen_watcher(void *arg)
{
	struct hv_xen *x = arg;
	struct xs_handle *wh = xs_open(0);

	if (wh == NULL || !xs_watch(wh, "@releaseDomain", "xmig")) {
		log_error("cannot watch @releaseDomain: %s; domains restored here will not be "
		    "cleaned up when they stop", strerror(errno));
		if (wh != NULL)
			xs_close(wh);
		return NULL;
	}
	for (;;) {
		struct pollfd pf[2] = { { .fd = xs_fileno(wh), .events = POLLIN },
		    { .fd = x->wake[0], .events = POLLIN } };
		char **ev;
		unsigned num;

		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pf[1].revents)
			break;
		/* One event per read; the watch fires once at registration too,
		 * which reaps what died while xmigd was down. */
		if ((ev = xs_read_watch(wh, &num)) == NULL)
			break;
		free(ev);
		xen_reap(x);
	}
	xs_unwatch(wh, "@releaseDomain", "xmig");
	xs_close(wh);
	return NULL;
}

/* ---- open and close ---- */

static void
xen_close(struct hv *hv)
{
	struct hv_xen *x = xen_priv(hv);

	if (x->watcher_started) {
		ssize_t w = write(x->wake[1], "x", 1);

		(void)w;
		pthread_join(x->watcher, NULL);
	}
	if (x->wake[0] >= 0)
		close(x->wake[0]);
	if (x->wake[1] >= 0)
		close(x->wake[1]);
	xen_quiesce_wait_all(x);
	xen_handles_close(&x->h);
	xen_images_free(x->images);
	pthread_mutex_destroy(&x->lock);
	pthread_mutex_destroy(&x->eq_mu);
	pthread_cond_destroy(&x->eq_cv);
	free(x);
	free(hv);
}

static const struct hv_ops xen_ops = {
	.name = "xen",
	.devices_ready = true,
	.host_info = xen_host_info,
	.list = xen_list,
	.lookup = xen_lookup,
	.pause = xen_pause,
	.unpause = xen_unpause,
	.destroy = xen_destroy,
	.shutdown = xen_shutdown,
	.rename = xen_rename,
	.resume = xen_resume,
	.get_config = xen_get_config,
	.check_outgoing = xen_check_outgoing,
	.warn_outgoing = xen_warn_outgoing,
	.check_incoming = xen_check_incoming,
	.throttle = xen_throttle,
	.quiesce = xen_quiesce,
	.save = xen_save,
	.restore = xen_restore,
	.close = xen_close,
};

int
hv_xen_open(const struct conf *c, struct hv **out, char *err, size_t errlen)
{
	xen_capabilities_info_t caps;
	struct hv_xen *x;
	xc_physinfo_t pi;
	struct hv *hv;
	size_t n;
	int r;

	*out = NULL;
	x = calloc(1, sizeof(*x));
	hv = calloc(1, sizeof(*hv));
	if (x == NULL || hv == NULL) {
		free(x);
		free(hv);
		snprintf(err, errlen, "out of memory");
		return XMIG_ERR_NOMEM;
	}
	x->wake[0] = x->wake[1] = -1;
	pthread_mutex_init(&x->lock, NULL);
	pthread_mutex_init(&x->eq_mu, NULL);
	pthread_cond_init(&x->eq_cv, NULL);
	strlcpy_x(x->bridges_allow, c->device_bridges_allow, sizeof(x->bridges_allow));
	strlcpy_x(x->disks_allow, c->device_disks_allow, sizeof(x->disks_allow));
	strlcpy_x(x->scripts_allow, c->device_scripts_allow, sizeof(x->scripts_allow));
	strlcpy_x(x->kernels_allow, c->domain_kernels_allow, sizeof(x->kernels_allow));
	strlcpy_x(x->state_dir, c->state_dir, sizeof(x->state_dir));
	x->hotplug_timeout_s = c->hotplug_timeout_s;
	hv->ops = &xen_ops;
	hv->priv = x;
	if ((r = xen_handles_open(&x->h, err, errlen)) != 0)
		goto fail;
	memset(&pi, 0, sizeof(pi));
	memset(caps, 0, sizeof(caps));
	if (xc_physinfo(x->h.xch, &pi) != 0 ||
	    xc_version(x->h.xch, XENVER_capabilities, &caps) < 0) {
		snprintf(err, errlen, "cannot read Xen's capabilities: %s", strerror(errno));
		r = XMIG_ERR_BACKEND;
		goto fail;
	}
	caps[sizeof(caps) - 1] = '\0';
	x->caps = pi.capabilities;
	/* HVM guests with their device model (HELLO_F_DEVICE_MODEL) need
	 * libxl's QEMU here, and HVM with HAP; without them HVM guests are
	 * refused before they are touched. */
	hv->device_model = xen_qemu_installed() && (pi.capabilities & XEN_SYSCTL_PHYSCAP_hvm) &&
	    (pi.capabilities & XEN_SYSCTL_PHYSCAP_hap);
	strlcpy_x(x->xen_caps, caps, sizeof(x->xen_caps));
	for (n = strlen(x->xen_caps); n > 0 && isspace((unsigned char)x->xen_caps[n - 1]); n--)
		x->xen_caps[n - 1] = '\0';
	if (pipe2(x->wake, O_CLOEXEC) != 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		r = XMIG_ERR_SYSTEM;
		goto fail;
	}
	if (pthread_create(&x->watcher, NULL, xen_watcher, x) != 0) {
		snprintf(err, errlen, "cannot start the domain watcher thread");
		r = XMIG_ERR_SYSTEM;
		goto fail;
	}
	x->watcher_started = true;
	log_info("xen backend: %s, %s%s%s", x->xen_caps,
	    (x->caps & XEN_SYSCTL_PHYSCAP_hap) ? "HAP" : "no HAP",
	    (x->caps & XEN_SYSCTL_PHYSCAP_shadow) ? ", shadow paging" : ", no shadow paging",
	    (x->caps & XEN_SYSCTL_PHYSCAP_shadow) ? "" : " (PV guests migrate offline only)");
	*out = hv;
	return 0;
fail:
	xen_close(hv);
	return r;
}

#else
typedef int hv_xen_unused;	/* ISO C wants a declaration */
#endif
