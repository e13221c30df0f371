/* hv/xen_int.h - pieces shared by the Xen backend's files (HAVE_XEN only).
 *
 * Every libxenctrl/libxenguest/libxenstore call of xmig lives behind this
 * header: those libraries have no stable ABI, so the rest of xmigd never
 * sees them.
 *
 * Supported Xen versions: built and tested against Xen 4.17 (Debian 12's
 * libxen-dev, domctl interface 0x15).  The calls used here are unchanged
 * up to Xen 4.20 (domctl 0x17): no xc_domain_getinfo (gone in 4.18), only
 * xc_domain_getinfolist; xc_domain_save/restore and their callbacks have
 * the same shape.  Anything else is refused at build time.  A binary runs
 * only with the libxenctrl/libxenguest it was built against (sonames carry
 * the Xen version).
 */
#ifndef XMIG_HV_XEN_INT_H
#define XMIG_HV_XEN_INT_H

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "hv/hv.h"
#include "hv/xen.h"

/* Xen's public headers are GNU C (anonymous unions, __attribute__) and
 * refuse strict ISO mode; lift the flag for them alone.  The C library
 * headers are already in, so they keep their strict-mode shape. */
#undef __STRICT_ANSI__
#include <xenctrl.h>
#include <xenevtchn.h>
#include <xengnttab.h>
#include <xenguest.h>
#include <xenstore.h>
#include <xentoollog.h>

#if !defined(XEN_DOMCTL_INTERFACE_VERSION) || XEN_DOMCTL_INTERFACE_VERSION < 0x15 || \
    XEN_DOMCTL_INTERFACE_VERSION > 0x17
#error "xmig's Xen backend supports Xen 4.17 to 4.20 (domctl interface 0x15..0x17)"
#endif

#define XEN_KIB_PER_PAGE (XC_PAGE_SIZE / 1024)
#define XEN_PATH_MAX 256
#define XEN_PUMP_CHUNK (1u << 20)	/* bytes per RAW frame from the save pump */
#define XEN_PIPE_SIZE (1 << 20)		/* pipe buffer between libxenguest and the pump */
#define XEN_SUSPEND_ACK_MS 10000	/* guest acknowledges control/shutdown */
#define XEN_SUSPEND_WAIT_MS 10000	/* then shuts down with reason suspend */
#define XEN_SUSPEND_POLL_MS 20	/* a suspend's checks between watch firings */
#define XEN_XS_RETRIES 16		/* xenstore transactions that meet EAGAIN */

/* A libxentoollog logger that forwards to xmig's log and keeps the last
 * error line, so a failed call can be reported in one line. */
struct xen_xtl {
	xentoollog_logger vtable;	/* first: libxc gets &vtable */
	char last[256];
	/* Set when our side ended libxc's work (the save's connection
	 * failed, a restore's devices failed): its errors then are
	 * consequences, logged verbose. */
	atomic_bool quiet;
};

/* One libxc + xenstore session.  save and restore open their own, so a
 * long xc_domain_save never holds the shared one. */
struct xen_handles {
	struct xen_xtl xtl;
	xc_interface *xch;
	struct xs_handle *xsh;
};

struct hv_xen {
	pthread_mutex_t lock;		/* guards h for the short ops */
	struct xen_handles h;
	uint32_t caps;			/* XEN_SYSCTL_PHYSCAP_* */
	char xen_caps[256];		/* XENVER_capabilities, first words */
	/* the @releaseDomain watcher */
	pthread_t watcher;
	bool watcher_started;
	int wake[2];			/* close() wakes the watcher */
	/* device-*-allow, domain-kernels-allow, device-hotplug-timeout and
	 * state-dir, read at open */
	char bridges_allow[CONF_STR_MAX], disks_allow[CONF_STR_MAX], scripts_allow[CONF_STR_MAX];
	char kernels_allow[CONF_STR_MAX];
	char state_dir[1024];
	unsigned hotplug_timeout_s;
	/* Scheduler caps found on domains before auto-converge throttled
	 * them, put back when the throttle is lifted (under lock). */
	struct xen_saved_cap {
		uint32_t domid;
		uint16_t cap;
		bool used;
	} saved_caps[16];
	/* Disk quiesces started when a guest acknowledged its suspension
	 * (xen_quiesce_start), collected by the quiesce op (eq_mu). */
	pthread_mutex_t eq_mu;
	pthread_cond_t eq_cv;
	struct xen_early_quiesce *eq[8];
	unsigned eq_running;		/* threads not ended: close waits (10 s at most) */
	/* The file images of domains restored here and not yet unpaused, so
	 * that the unpause drops their cached pages without walking xenstore
	 * inside the downtime (under lock). */
	struct xen_images *images;
};

/* hv/xen.c */
void xen_xtl_init(struct xen_xtl *x);
int xen_handles_open(struct xen_handles *h, char *err, size_t errlen);
void xen_handles_close(struct xen_handles *h);
int xen_getinfo(xc_interface *xch, uint32_t domid, xc_domaininfo_t *di);
enum hv_dom_type xen_dom_type(const xc_domaininfo_t *di);
/* Shutdown reason, or -1 when the domain is not shut down. */
int xen_shutdown_reason(const xc_domaininfo_t *di);
const char *xen_last_error(const struct xen_xtl *x);
void xen_sleep_ms(unsigned ms);

/* hv/xen_store.c */
char *xen_xs_read(struct xs_handle *xsh, xs_transaction_t t, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
bool xen_xs_write(struct xs_handle *xsh, xs_transaction_t t, const char *val,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
uint32_t xen_xs_backend_domid(struct xs_handle *xsh, const char *tool);
/* What restore writes before xc_domain_restore (libxl__domain_make's
 * skeleton) and after it (store and console). */
struct xen_xs_dom {
	uint32_t domid;
	const char *name;
	const struct xen_cfg *cfg;
	const uint8_t *uuid;		/* xen_xs_preserve_renamed's new one */
	uint32_t store_port, console_port, console_domid;
	unsigned long store_mfn, console_mfn;
};
int xen_xs_skeleton(struct xs_handle *xsh, const struct xen_xs_dom *d);
int xen_xs_connect(struct xs_handle *xsh, const struct xen_xs_dom *d);
int xen_xs_rename(struct xs_handle *xsh, uint32_t domid, const char *name);
/* Rename a stopped domain and give it a /vm/<uuid> of its own (uuid). */
int xen_xs_preserve_renamed(struct xs_handle *xsh, uint32_t domid, const char *name,
    const uint8_t uuid[16]);
/* Remove every node a toolstack keeps for a dead domain. */
void xen_xs_cleanup(struct xs_handle *xsh, uint32_t domid);
/* xmig's own record of the domains it restored (/tool/xmig/<domid>). */
void xen_xs_mark_ours(struct xs_handle *xsh, uint32_t domid);
void xen_xs_mark_preserved(struct xs_handle *xsh, uint32_t domid);
bool xen_xs_is_preserved(struct xs_handle *xsh, uint32_t domid);
bool xen_xs_is_ours(struct xs_handle *xsh, uint32_t domid);

/* Where Xen's hotplug scripts are (libxl's default). */
#define XEN_SCRIPT_DIR "/etc/xen/scripts"

/* hv/xen_devices.c: vifs and vbds (see there for the order of things) */
/* Sender: one device's backend as libxl wrote it; why says what rules it
 * out (XMIG_ERR_UNSUPPORTED). */
int xen_dev_read_vif(struct xs_handle *xsh, uint32_t domid, uint32_t devid,
    struct xen_cfg_vif *v, char *why, size_t whylen);
int xen_dev_read_vbd(struct xs_handle *xsh, uint32_t domid, uint32_t devid,
    struct xen_cfg_vbd *v, char *why, size_t whylen);
/* Receiver: nodes, hotplug scripts, connected; on failure the caller
 * removes what is there with xen_devices_remove. */
int xen_devices_add(struct xs_handle *xsh, uint32_t domid, const struct xen_cfg *cfg,
    unsigned timeout_s, struct xen_images **images, char *why, size_t whylen);
/* Every dom0 backend of domid, as libxl's forced removal does it (its own
 * xenstore connection: takes seconds, no lock held). */
void xen_devices_remove(uint32_t domid, unsigned timeout_s);
/* Sender, before GO: nothing the suspended guest wrote is in flight or
 * only in this host's cache. */
int xen_devices_quiesce(struct xs_handle *xsh, uint32_t domid, char *why, size_t whylen);
/* The same, started in a thread of its own as soon as the guest is
 * suspended, so that it overlaps the final round and the restore instead
 * of following BUILT.  xen_quiesce_take waits for it and gives its result
 * (false: none was started, quiesce now); xen_quiesce_drop forgets it (the
 * source resumes: the thread ends on its own). */
void xen_quiesce_start(struct hv_xen *x, uint32_t domid);
bool xen_quiesce_take(struct hv_xen *x, uint32_t domid, int *r, char *why, size_t whylen);
void xen_quiesce_drop(struct hv_xen *x, uint32_t domid);
void xen_quiesce_wait_all(struct hv_xen *x);
/* Receiver, before the guest runs: no stale cached page of a file image.
 * xen_images_find walks the domain's vbd backends for the file images
 * (malloc'ed, n may be 0; NULL when xenstore failed); xen_images_drop
 * drops what this host caches of them; xen_devices_fresh does both. */
struct xen_images {
	struct xen_images *next;	/* hv_xen.images */
	uint32_t domid;
	unsigned n;
	char path[XEN_CFG_MAX_VBDS][DP_PARAMS_MAX];
};
/* An empty record (no file image), as for a domain without disks. */
struct xen_images *xen_images_new(uint32_t domid);
struct xen_images *xen_images_find(struct xs_handle *xsh, uint32_t domid);
/* hv/xen.c: the restore hands a built domain's record to the unpause
 * (it owns img from then; a destroy forgets it). */
void xen_images_keep(struct hv_xen *x, struct xen_images *img);
void xen_images_drop(const struct xen_images *img);
void xen_devices_fresh(struct xs_handle *xsh, uint32_t domid);
/* Run a program (hotplug script, xl) bounded by a timeout; see there. */
int xen_spawn(const char *path, char *const argv[], char *const envp[], unsigned timeout_ms,
    char *out, size_t outlen, int *status, char *why, size_t whylen);

/* hv/xen_lifecycle.c: the domain's libxl configuration and its life here */
/* Sender: xl's stored configuration of domid into cfg->toolcfg; 0, or
 * XMIG_ERR_NOT_FOUND (none) or XMIG_ERR_TOO_LONG (cfg->toolcfg_len 0).
 * Silent: read up to three times a migration, its caller says why once. */
int xen_toolcfg_read(uint32_t domid, const uint8_t uuid[16], struct xen_cfg *cfg);
/* Receiver preflight: a carried configuration is acceptable here. */
int xen_toolcfg_check(struct hv_xen *x, const struct xen_cfg *cfg, char *why, size_t whylen);
/* Receiver, before the domain runs: the reduced configuration written for
 * its new id, as xl would have (and a copy under state-dir). */
int xen_toolcfg_install(struct hv_xen *x, uint32_t domid, const struct xen_cfg *cfg,
    char *why, size_t whylen);
/* A domain leaves this host for good: its copy under state-dir goes. */
void xen_toolcfg_forget(struct hv_xen *x, const uint8_t uuid[16]);
/* The watcher found a domain of ours shut down for reason (SHUTDOWN_*):
 * do what its configuration says (no lock held; takes seconds). */
void xen_lifecycle_handle(struct hv_xen *x, uint32_t domid, int reason);

/* hv/xen.c: devices removed (no lock held), then destroyed, its nodes and
 * its configuration's copy under state-dir removed. */
int xen_destroy_domain(struct hv_xen *x, uint32_t domid);
/* The vifs and vbds domid has now, into cfg (XMIG_ERR_UNSUPPORTED: one
 * that is not carried, logged). */
int xen_read_devices(struct xs_handle *xsh, uint32_t domid, struct xen_cfg *cfg);

/* hv/xen_qemu.c: an HVM guest's QEMU device model (libxl's files and
 * xenstore nodes).  installed: this host has libxl's QEMU; present: domid
 * has a QMP socket. */
struct qmp;
bool xen_qemu_installed(void);
bool xen_qemu_present(uint32_t domid);
/* /var/lib/xen/qemu-WHAT.DOMID: "save" at the source, "resume" here */
void xen_qemu_state_path(char *p, size_t n, const char *what, uint32_t domid);
/* device-model/DOMID/physmap/ read into m (count 0: none), or written back */
int xen_qemu_physmap_read(struct xs_handle *xsh, uint32_t domid, struct msg_dm_physmap *m,
    char *why, size_t whylen);
int xen_qemu_physmap_write(struct xs_handle *xsh, uint32_t domid,
    const struct msg_dm_physmap *m);
/* Its QMP socket, opened (NULL and one line in why otherwise). */
struct qmp *xen_qemu_qmp(uint32_t domid, char *why, size_t whylen);
/* If domid has a device model that is stopped, let it run ("cont"). */
int xen_qemu_cont(uint32_t domid);
/* Start QEMU for domid from its reduced libxl configuration, loading
 * state_file, and wait until it runs; on failure xen_qemu_kill undoes it. */
int xen_qemu_start(struct xs_handle *xsh, uint32_t domid, const char *json, const char *name,
    const char *state_file, char *why, size_t whylen);
/* Stop domid's QEMU (checked to be it) and remove its sockets, state files
 * and device-model/DOMID, as libxl's destroy does. */
void xen_qemu_kill(struct xs_handle *xsh, uint32_t domid);
/* hv/xen_lifecycle.c: the peer's libxl configuration reduced (caller frees) */
int xen_toolcfg_reduced(struct hv_xen *x, const struct xen_cfg *cfg, char **out, char *why,
    size_t whylen);

/* hv/xen_save.c / hv/xen_restore.c */
int xen_save(struct hv *hv, uint32_t domid, struct hv_save_io *io,
    const struct hv_save_opts *opts);
int xen_restore(struct hv *hv, const struct hv_dom_spec *spec, struct hv_restore_io *io,
    uint32_t *domid);
/* Create-time facts the receiver needs: why gets one line on refusal. */
int xen_check_cfg(struct hv_xen *x, const struct hv_dom_spec *spec, struct xen_cfg *cfg,
    char *why, size_t whylen);

static inline struct hv_xen *
xen_priv(struct hv *hv)
{
	return hv->priv;
}

#endif
