/* hv/xen_toolcfg.h - the toolstack's configuration of a migrated domain.
 *
 * xl keeps each domain's libxl configuration (JSON) in
 * /var/lib/xen/userdata-d.DOMID.UUID.libxl-json; `xl list -l`, `xl save`
 * and `xl migrate` read it, and it says what to do when the guest reboots,
 * crashes or powers off.  xmig carries it with the domain.  The receiver
 * trusts nothing in it: it keeps only the fields listed here, checks the
 * kernel against its own list, takes the disks and NICs from what it
 * carries (checked on their own) rather than from it, and derives
 * from that reduced copy both the userdata it writes and the xl
 * configuration it restarts the domain from.  Plain C and jansson, so it
 * is unit-tested without Xen.
 */
#ifndef XMIG_HV_XEN_TOOLCFG_H
#define XMIG_HV_XEN_TOOLCFG_H

#include <stddef.h>

#define XEN_TOOLCFG_MAX 32768	/* bytes of JSON carried; libxl's are a few KiB */

/* libxl's actions on shutdown (libxl_action_on_shutdown). */
enum xen_action {
	XA_DESTROY,
	XA_RESTART,
	XA_RESTART_RENAME,
	XA_PRESERVE,
	XA_COREDUMP_DESTROY,
	XA_COREDUMP_RESTART,
	XA_SOFT_RESET,
};

/* What the guest asked for, with xl's defaults where its config says
 * nothing (destroy, restart, destroy, destroy). */
struct xen_lifecycle {
	enum xen_action on_poweroff;
	enum xen_action on_reboot;
	enum xen_action on_crash;
	enum xen_action on_watchdog;
};

struct xen_cfg;

/* Check the configuration a peer sent with cfg (cfg->toolcfg, for the
 * domain cfg->name with UUID, canonical 36-character form) and reduce it to
 * the fields xmig knows, with the disks and NICs cfg carries (caller frees
 * *out).  kernels: this host's domain-kernels-allow.  why gets one line,
 * e.g. "its kernel /x is not allowed by domain-kernels-allow on this host". */
int xen_toolcfg_reduce(const struct xen_cfg *cfg, const char *uuid, const char *kernels,
    char **out, char *why, size_t whylen);
/* The shutdown actions of a (reduced) configuration. */
int xen_toolcfg_lifecycle(const char *json, struct xen_lifecycle *lc);
/* An xl configuration file that builds the domain again (caller frees
 * *text); only from a reduced configuration. */
int xen_toolcfg_to_xl(const char *json, char **text, char *why, size_t whylen);
const char *xen_action_name(enum xen_action a);

#endif
