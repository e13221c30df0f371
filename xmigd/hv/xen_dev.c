/* hv/xen_dev.c - which of a guest's devices xmig can carry (plain C, no
 * Xen headers: the Xen backend walks xenstore, this decides).
 *
 * A device that is not carried and not refused would be dropped: the guest
 * arrives without its disk or NIC while the source's backend (a loop
 * device, a vif on a bridge) is left behind.  So every device kind is
 * refused unless it is known to be carried, unknown kinds included, and the
 * refusal comes before the guest is touched.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "devpolicy.h"
#include "hv/xen.h"
#include "xerr.h"

/* Why each kind is not carried (vif and vbd are, unless what their
 * backend says rules them out: xen_dev.refusal). */
static const struct {
	const char *kind, *why;
} xen_dev_refusals[] = {
	{ "qdisk", "a disk served by QEMU needs its device model moved; not supported" },
	{ "vfb", "a framebuffer needs a device model; not supported" },
	{ "vkbd", "a virtual keyboard needs a device model; not supported" },
	{ "vtpm", "a vTPM keeps its state in its backend domain; not supported" },
	{ "9pfs", "9pfs shares are served by a device model; not supported" },
	{ "pci", "PCI passthrough devices cannot be migrated" },
	{ "vusb", "USB devices are not carried; not supported" },
	{ "qusb", "USB devices served by QEMU are not carried; not supported" },
	{ "vsnd", "virtual sound devices are not carried; not supported" },
	{ "vdispl", "virtual displays are not carried; not supported" },
	{ "vinput", "virtual input devices are not carried; not supported" },
	{ "console", "secondary consoles and channels are not carried; not supported" },
};

static const char *
xen_dev_why(const struct xen_dev *d)
{
	size_t i;

	if (d->backend_domid != 0)
		return "its backend runs in a driver domain, which xmig does not reach; "
		    "not supported";
	if (d->refusal[0] != '\0')
		return d->refusal;
	for (i = 0; i < sizeof(xen_dev_refusals) / sizeof(xen_dev_refusals[0]); i++)
		if (strcmp(d->kind, xen_dev_refusals[i].kind) == 0)
			return xen_dev_refusals[i].why;
	return "unknown device kind; not supported";
}

/* The primary console (backend console/DOMID/0 in dom0, served by
 * xenconsoled from the guest's console/ nodes) is recreated by restore;
 * network interfaces and disks served by dom0 are re-created by the
 * receiver from the configuration (hv/xen_devices.c). */
static bool
xen_dev_carried(const struct xen_dev *d)
{
	if (d->backend_domid != 0)
		return false;
	if (strcmp(d->kind, "console") == 0)
		return d->devid == 0;
	return (strcmp(d->kind, "vif") == 0 || strcmp(d->kind, "vbd") == 0) &&
	    d->refusal[0] == '\0';
}

int
xen_devices_check(const struct xen_dev *devs, size_t n, bool truncated, char *why,
    size_t whylen, void (*each)(const char *line, void *arg), void *arg)
{
	size_t i, used = 0;
	int refused = 0;

	if (whylen > 0)
		why[0] = '\0';
	for (i = 0; i < n; i++) {
		char line[256];
		int k;

		if (xen_dev_carried(&devs[i]))
			continue;
		snprintf(line, sizeof(line), "%s %u: %s", devs[i].kind, devs[i].devid,
		    xen_dev_why(&devs[i]));
		if (each != NULL)
			each(line, arg);
		/* The first lines, joined, for the one-line error; all of them
		 * went to `each`. */
		if (used < whylen) {
			k = snprintf(why + used, whylen - used, "%s%s", refused ? "; " : "", line);
			used += k > 0 ? (size_t)k : 0;
		}
		refused++;
	}
	if (truncated) {
		if (used < whylen)
			snprintf(why + used, whylen - used, "%smore devices than xmig checks (%u)",
			    refused ? "; " : "", XEN_DEV_MAX);
		refused++;
	}
	return refused ? XMIG_ERR_UNSUPPORTED : 0;
}

int
xen_devices_allowed(const struct xen_cfg *cfg, const char *bridges, const char *disks,
    const char *scripts, char *why, size_t whylen)
{
	uint32_t i;

	for (i = 0; i < cfg->nvifs; i++) {
		const struct xen_cfg_vif *v = &cfg->vifs[i];

		if (!dp_listed(scripts, v->script)) {
			snprintf(why, whylen, "vif %u: hotplug script %s is not in "
			    "device-scripts-allow on this host", v->devid, v->script);
			return XMIG_ERR_DENIED;
		}
		if (!dp_listed(bridges, v->bridge)) {
			snprintf(why, whylen, "vif %u (%s): bridge %s is not in "
			    "device-bridges-allow on this host", v->devid, v->mac, v->bridge);
			return XMIG_ERR_DENIED;
		}
	}
	for (i = 0; i < cfg->nvbds; i++) {
		const struct xen_cfg_vbd *v = &cfg->vbds[i];

		if (!dp_listed(scripts, v->script)) {
			snprintf(why, whylen, "vbd %u (%s): hotplug script %s is not in "
			    "device-scripts-allow on this host", v->devid, v->vdev, v->script);
			return XMIG_ERR_DENIED;
		}
		if (!dp_disk_allowed(disks, v->params)) {
			snprintf(why, whylen, "vbd %u (%s): %s is not allowed by "
			    "device-disks-allow on this host", v->devid, v->vdev, v->params);
			return XMIG_ERR_DENIED;
		}
	}
	return 0;
}
