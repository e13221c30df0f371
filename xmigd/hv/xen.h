/* hv/xen.h - the Xen backend (libxenctrl, libxenguest, libxenstore).
 *
 * hv_xen_open() exists only in builds with -DHAVE_XEN (libxen-dev present).
 * The configuration blob that travels in PREPARE is plain C with no Xen
 * headers, so it is built and unit-tested everywhere (hv/xen_cfg.c).
 */
#ifndef XMIG_HV_XEN_H
#define XMIG_HV_XEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "devpolicy.h"
#include "hv/hv.h"
#include "hv/xen_toolcfg.h"

struct hv;

#ifdef HAVE_XEN
int hv_xen_open(const struct conf *c, struct hv **out, char *err, size_t errlen);
#endif

#define XEN_CFG_MAGIC 0x58454e43u	/* "XENC" */
#define XEN_CFG_VERSION 3		/* with the toolstack's configuration */
#define XEN_CFG_VERSION_DEVICES 2	/* with disks and network interfaces */
#define XEN_CFG_VERSION_MIN 1		/* a guest with neither: what older xmigds send */
#define XEN_CFG_MAX_VCPUS 128		/* HVM-container limit in Xen 4.17 */
#define XEN_CFG_MAX_VIFS 8
#define XEN_CFG_MAX_VBDS 16
#define XEN_CFG_MAC_LEN 18		/* "aa:bb:cc:dd:ee:ff" + NUL */
#define XEN_CFG_IFNAME_LEN DP_IFNAME_MAX
#define XEN_CFG_MAX_KB (1ull << 40)	/* 1 PiB: anything larger is garbage */
#define XEN_CFG_DISCARD_UNSET 2

/* A network interface as libxl writes it (libxl__set_xenstore_nic): what
 * the receiver needs to write the same frontend and backend nodes. */
struct xen_cfg_vif {
	uint32_t devid;
	char mac[XEN_CFG_MAC_LEN];
	char bridge[XEN_CFG_IFNAME_LEN];
	char script[DP_SCRIPT_MAX];	/* in Xen's script directory: "vif-bridge" */
	char vifname[XEN_CFG_IFNAME_LEN];	/* "" = vifDOMID.DEVID */
	char ip[64];			/* "" = none: vif-bridge's anti-spoofing list */
	char rate[32];			/* "" = none: "BYTES,MICROSECONDS" */
	uint32_t mtu;			/* 0 = not set */
	uint8_t trusted;		/* frontend "trusted" */
};

/* A disk served by blkback from dom0 (libxl's PHY backend: a block
 * device, or a file through the block script's loop device). */
struct xen_cfg_vbd {
	uint32_t devid;			/* virtual-device number */
	char vdev[16];			/* "xvdb" */
	char params[DP_PARAMS_MAX];	/* the path, or a block-* script's argument */
	char script[DP_SCRIPT_MAX];	/* "block", "block-iscsi", ... */
	uint8_t writable;
	uint8_t removable;
	uint8_t trusted;
	uint8_t discard;		/* 0, 1 or XEN_CFG_DISCARD_UNSET */
	uint8_t direct_io_safe;
};

/* What the receiver needs to build the same domain, beyond PREPARE's
 * fields: read from the hypervisor and xenstore on the sender. */
struct xen_cfg {
	uint8_t type;			/* enum hv_dom_type: PV, PVH or HVM */
	char name[HV_NAME_MAX];		/* name at the source */
	uint8_t uuid[16];
	uint32_t max_vcpus;		/* max_vcpu_id + 1 */
	uint8_t online[XEN_CFG_MAX_VCPUS / 8];	/* cpu/N/availability, bit N */
	uint64_t max_memkb;		/* maxmem (xc_domain_setmaxmem) */
	uint64_t target_kb;		/* memory/target */
	uint64_t static_max_kb;		/* memory/static-max */
	uint32_t cdf_flags;		/* XEN_DOMCTL_CDF_* at creation */
	uint32_t emulation_flags;	/* XEN_X86_EMU_* */
	uint32_t misc_flags;
	uint64_t paging_pool;		/* HAP pool bytes (HVM containers) */
	uint64_t timer_mode;		/* HVM_PARAM_TIMER_MODE */
	uint32_t tsc_mode;
	uint64_t console_limit;		/* console/limit, 0 = xenconsoled's default */
	uint32_t nvifs;
	struct xen_cfg_vif vifs[XEN_CFG_MAX_VIFS];
	uint32_t nvbds;
	struct xen_cfg_vbd vbds[XEN_CFG_MAX_VBDS];
	/* libxl's JSON configuration of the domain (hv/xen_toolcfg.h), as the
	 * sender's xl stored it; "" = none.  Untrusted at the receiver. */
	uint32_t toolcfg_len;
	char toolcfg[XEN_TOOLCFG_MAX + 1];
};

/* Encode into a malloc'ed buffer (caller frees *blob). */
int xen_cfg_encode(const struct xen_cfg *cfg, void **blob, size_t *len);
/* Decode and validate untrusted bytes; why gets one line on failure. */
int xen_cfg_decode(const void *blob, size_t len, struct xen_cfg *cfg, char *why,
    size_t whylen);
/* A MAC of the form aa:bb:cc:dd:ee:ff; an interface name safe to put in
 * a path (letters, digits, '.', '-', '_', 1..15 characters). */
int xen_cfg_mac_ok(const char *mac);
int xen_cfg_ifname_ok(const char *name);

/* The receiver's policy on a decoded configuration: every bridge, disk and
 * hotplug script its devices name is on this host's lists (xmigd.conf's
 * device-bridges-allow, device-disks-allow, device-scripts-allow).  why
 * gets "KIND DEVID: what" for the first that is not. */
int xen_devices_allowed(const struct xen_cfg *cfg, const char *bridges, const char *disks,
    const char *scripts, char *why, size_t whylen);

/* One device of a guest, as the sender's preflight found it in xenstore:
 * a frontend under /local/domain/ID/device/KIND/DEVID, a backend under
 * /local/domain/0/backend/KIND/ID/DEVID, or both. */
#define XEN_DEV_MAX 64
struct xen_dev {
	char kind[16];
	uint32_t devid;
	uint32_t backend_domid;	/* the frontend's backend-id */
	/* vif and vbd: why this one cannot be carried although its kind can
	 * (read from its backend; "" = nothing against it) */
	char refusal[160];
};
/* Every device is carried or refused.  Returns XMIG_ERR_UNSUPPORTED when
 * any is refused (or the walk found more than it could hold: truncated),
 * with "KIND DEVID: why" for each, joined by "; ", in why; each (if set)
 * gets every such line, for the log. */
int xen_devices_check(const struct xen_dev *devs, size_t n, bool truncated, char *why,
    size_t whylen, void (*each)(const char *line, void *arg), void *arg);

#endif
