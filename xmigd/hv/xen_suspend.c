/* hv/xen_suspend.c - asking a guest to suspend, without waiting on it.
 *
 * A PV-aware guest suspends itself: it takes the request (clears
 * control/shutdown, or is notified on its suspend event channel), freezes
 * its tasks, lets its frontends settle and then makes the suspend
 * hypercall.  Under TCG the lab's guests take 90-500 ms for that, and they
 * write to their memory all along (the freezer, the frontends, a task's
 * last I/O).  So the save asks as soon as its policy says stop and goes on
 * sending what the guest dirties while it suspends (xen_save.c); the
 * final round after the suspend carries only what the last of those
 * rounds missed.  This file keeps the request's state between those
 * rounds: asked, taken, suspended, and what to do when a save ends with
 * the guest half-way (withdraw the request, or wait for the suspend to
 * finish, so that the resume finds the guest in a known state).
 */
#ifdef HAVE_XEN

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hv/xen_int.h"
#include "log.h"
#include "util.h"
#include "xerr.h"

/* A guest that advertises a suspend event channel is asked through it
 * (no xenstore round trip), as libxl does; otherwise control/shutdown. */
void
xen_susp_init(struct xen_susp *p, struct xen_handles *h, uint32_t domid)
{
	char *v;
	long port;

	memset(p, 0, sizeof(*p));
	p->h = h;
	p->domid = domid;
	p->port = -1;
	p->lockfd = -1;
	v = xen_xs_read(h->xsh, XBT_NULL, "/local/domain/%u/device/suspend/event-channel",
	    domid);
	port = v != NULL && *v ? strtol(v, NULL, 10) : -1;
	free(v);
	if (port <= 0)
		return;
	if ((p->xce = xenevtchn_open(NULL, 0)) == NULL) {
		log_warn("domain %u: cannot open the event channel device: %s", domid,
		    strerror(errno));
		return;
	}
	p->port = xc_suspend_evtchn_init_exclusive(h->xch, p->xce, domid, (int)port, &p->lockfd);
	if (p->port < 0) {
		log_warn("domain %u: its suspend event channel %ld is unusable; using "
		    "control/shutdown", domid, port);
		xenevtchn_close(p->xce);
		p->xce = NULL;
		p->port = -1;
	}
}

void
xen_susp_release(struct xen_susp *p)
{
	if (p->xce == NULL)
		return;
	if (p->port >= 0)
		xc_suspend_evtchn_release(p->h->xch, p->xce, p->domid, p->port, &p->lockfd);
	xenevtchn_close(p->xce);
	p->xce = NULL;
}

int
xen_susp_ask(struct xen_susp *p)
{
	p->asked_ms = now_ms();
	p->asked = true;
	if (p->port >= 0) {
		if (xenevtchn_notify(p->xce, (evtchn_port_t)p->port) < 0) {
			log_error("domain %u: notifying its suspend event channel failed: %s",
			    p->domid, strerror(errno));
			p->asked = false;
			return XMIG_ERR_BACKEND;
		}
		p->taken = true;	/* no acknowledgement on this path */
		p->taken_ms = p->asked_ms;
		return 0;
	}
	if (!xen_xs_write(p->h->xsh, XBT_NULL, "suspend", "/local/domain/%u/control/shutdown",
	    p->domid)) {
		log_error("domain %u: cannot write control/shutdown: %s", p->domid,
		    strerror(errno));
		p->asked = false;
		return XMIG_ERR_BACKEND;
	}
	return 0;
}

/* Has the guest taken the request (cleared control/shutdown)? */
static bool
susp_node_taken(struct xen_susp *p, xs_transaction_t t)
{
	char *v = xen_xs_read(p->h->xsh, t, "/local/domain/%u/control/shutdown", p->domid);
	bool taken = v == NULL || strcmp(v, "suspend") != 0;

	free(v);
	return taken;
}

/* Withdraw a request the guest has not taken, unless it takes it at the
 * last moment (libxl does the same in one transaction).  True when it is
 * withdrawn. */
static bool
susp_withdraw(struct xen_susp *p)
{
	struct xs_handle *xsh = p->h->xsh;
	unsigned i;

	for (i = 0; i < XEN_XS_RETRIES; i++) {
		xs_transaction_t t = xs_transaction_start(xsh);

		if (t == XBT_NULL)
			break;
		if (susp_node_taken(p, t)) {
			xs_transaction_end(xsh, t, true);
			p->taken = true;
			p->taken_ms = now_ms();
			return false;
		}
		xen_xs_write(xsh, t, "", "/local/domain/%u/control/shutdown", p->domid);
		if (xs_transaction_end(xsh, t, false) || errno != EAGAIN)
			break;
	}
	p->asked = false;
	return true;
}

int
xen_susp_poll(struct xen_susp *p)
{
	xc_domaininfo_t di;
	uint64_t now = now_ms();
	int r, why;

	if (p->suspended)
		return 1;
	if (!p->asked)
		return XMIG_ERR_STATE;
	if (!p->taken) {
		if (susp_node_taken(p, XBT_NULL)) {
			p->taken = true;
			p->taken_ms = now;
		} else if (now - p->asked_ms < XEN_SUSPEND_ACK_MS) {
			return 0;
		} else if (susp_withdraw(p)) {
			log_error("domain %u did not acknowledge the suspend request within %u ms; "
			    "request withdrawn", p->domid, XEN_SUSPEND_ACK_MS);
			return XMIG_ERR_TIMEOUT;
		}
	}
	if ((r = xen_getinfo(p->h->xch, p->domid, &di)) != 0) {
		log_error("domain %u vanished while suspending", p->domid);
		return r;
	}
	why = xen_shutdown_reason(&di);
	if (why == SHUTDOWN_suspend) {
		p->suspended = true;
		return 1;
	}
	if (why >= 0) {
		log_error("domain %u shut down (reason %d) instead of suspending", p->domid, why);
		return XMIG_ERR_STATE;
	}
	if (now - p->taken_ms >= XEN_SUSPEND_WAIT_MS) {
		log_error("domain %u did not suspend within %u ms", p->domid, XEN_SUSPEND_WAIT_MS);
		return XMIG_ERR_TIMEOUT;
	}
	return 0;
}

int
xen_susp_wait(struct xen_susp *p)
{
	unsigned i;
	int r;

	for (i = 0; (r = xen_susp_poll(p)) == 0; i++)
		xen_sleep_ms(i < 100 ? 1 : 10);
	return r > 0 ? 0 : r;
}

void
xen_susp_settle(struct xen_susp *p)
{
	if (!p->asked || p->suspended)
		return;
	/* not taken yet: withdrawn, or taken at the last moment */
	if (!p->taken && susp_withdraw(p))
		return;
	/* taken: the guest is on its way down; the resume needs it there */
	if (xen_susp_wait(p) == 0)
		log_info("domain %u: the save ended while it suspended; waited for the suspend "
		    "to complete so that it can be resumed", p->domid);
}

#endif /* HAVE_XEN */
