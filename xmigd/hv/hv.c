/* hv/hv.c - backend selection and names. */
#include <stdio.h>
#include <unistd.h>

#include "hv/hv.h"
#include "hv/xen.h"
#include "util.h"
#include "xerr.h"

int
hv_open(const struct conf *c, struct hv **out, char *err, size_t errlen)
{
	enum conf_backend b = c->backend;

	if (b == CONF_BACKEND_AUTO)
		b = (access("/proc/xen", F_OK) == 0 || access("/dev/xen/privcmd", F_OK) == 0)
		    ? CONF_BACKEND_XEN : CONF_BACKEND_SIM;
	switch (b) {
	case CONF_BACKEND_SIM:
		return hv_sim_open(c, out, err, errlen);
	case CONF_BACKEND_XEN:
#ifdef HAVE_XEN
		return hv_xen_open(c, out, err, errlen);
#else
		snprintf(err, errlen, "backend xen: this build has no Xen backend "
		    "(install libxen-dev and rebuild, or set backend = sim)");
		return XMIG_ERR_UNSUPPORTED;
#endif
	default:
		snprintf(err, errlen, "unknown backend");
		return XMIG_ERR_INVALID;
	}
}

void
hv_close(struct hv *hv)
{
	if (hv != NULL)
		hv->ops->close(hv);
}

const char *
hv_state_name(enum hv_dom_state s)
{
	switch (s) {
	case HV_RUNNING: return "running";
	case HV_PAUSED: return "paused";
	case HV_SUSPENDED: return "suspended";
	case HV_SHUTDOWN: return "shutdown";
	case HV_CRASHED: return "crashed";
	case HV_BUILDING: return "building";
	default: return "unknown";
	}
}

const char *
hv_type_name(enum hv_dom_type t)
{
	switch (t) {
	case HV_TYPE_SIM: return "sim";
	case HV_TYPE_PV: return "pv";
	case HV_TYPE_PVH: return "pvh";
	case HV_TYPE_HVM: return "hvm";
	}
	return "unknown";
}

uint64_t
hv_save_drain(struct hv_save_io *io, uint64_t (*backlog)(void *arg), void *arg)
{
	uint64_t t0 = now_ms(), b;

	while ((b = backlog != NULL ? backlog(arg) : io->unsent(io)) > HV_DRAIN_SLACK &&
	    now_ms() - t0 < HV_DRAIN_MAX_MS && !io->cancelled(io))
		usleep(1000);
	return b;
}
