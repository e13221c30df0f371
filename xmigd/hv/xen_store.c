/* hv/xen_store.c - the xenstore side of the Xen backend.
 *
 * A domain built by xc_domain_restore is bare: the toolstack owns its
 * xenstore tree.  This writes what libxl__domain_make and the build step
 * write (so xl list / console / destroy / sysrq work on it), renames, and
 * removes every node again on destroy or a failed restore.
 */
#ifdef HAVE_XEN

#include <errno.h>
#include <glob.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hv/xen_int.h"
#include "log.h"
#include "util.h"
#include "xerr.h"

#define XEN_XMIG_NODE "/tool/xmig"

static bool
xen_xs_vpath(char *path, size_t size, const char *fmt, va_list ap)
{
	int n = vsnprintf(path, size, fmt, ap);

	return n > 0 && (size_t)n < size;
}

char *
xen_xs_read(struct xs_handle *xsh, xs_transaction_t t, const char *fmt, ...)
{
	char path[XEN_PATH_MAX];
	unsigned len = 0;
	va_list ap;
	bool ok;

	va_start(ap, fmt);
	ok = xen_xs_vpath(path, sizeof(path), fmt, ap);
	va_end(ap);
	return ok ? xs_read(xsh, t, path, &len) : NULL;
}

bool
xen_xs_write(struct xs_handle *xsh, xs_transaction_t t, const char *val, const char *fmt, ...)
{
	char path[XEN_PATH_MAX];
	va_list ap;
	bool ok;

	va_start(ap, fmt);
	ok = xen_xs_vpath(path, sizeof(path), fmt, ap);
	va_end(ap);
	return ok && xs_write(xsh, t, path, val, (unsigned)strlen(val));
}

/* An empty node with explicit permissions (libxl__xs_mknod). */
static bool
xen_xs_mknod(struct xs_handle *xsh, xs_transaction_t t, struct xs_permissions *perms,
    unsigned nperms, const char *path)
{
	return xs_write(xsh, t, path, "", 0) && xs_set_permissions(xsh, t, path, perms, nperms);
}

uint32_t
xen_xs_backend_domid(struct xs_handle *xsh, const char *tool)
{
	char *v = xen_xs_read(xsh, XBT_NULL, "/tool/%s/domid", tool);
	unsigned long id = 0;

	if (v != NULL) {
		id = strtoul(v, NULL, 10);
		free(v);
	}
	return id < DOMID_FIRST_RESERVED ? (uint32_t)id : 0;
}

/* Run fn in a transaction, again while xenstored says EAGAIN. */
static int
xen_xs_transact(struct xs_handle *xsh, bool (*fn)(struct xs_handle *, xs_transaction_t,
    const struct xen_xs_dom *), const struct xen_xs_dom *d, const char *what)
{
	unsigned i;

	for (i = 0; i < XEN_XS_RETRIES; i++) {
		xs_transaction_t t = xs_transaction_start(xsh);

		if (t == XBT_NULL) {
			log_error("xenstore: cannot start a transaction for %s of domain %u: %s",
			    what, d->domid, strerror(errno));
			return XMIG_ERR_BACKEND;
		}
		if (!fn(xsh, t, d)) {
			int e = errno;

			xs_transaction_end(xsh, t, true);
			log_error("xenstore: %s of domain %u failed: %s", what, d->domid,
			    strerror(e));
			return XMIG_ERR_BACKEND;
		}
		if (xs_transaction_end(xsh, t, false))
			return 0;
		if (errno != EAGAIN) {
			log_error("xenstore: committing %s of domain %u failed: %s", what,
			    d->domid, strerror(errno));
			return XMIG_ERR_BACKEND;
		}
	}
	log_error("xenstore: %s of domain %u kept conflicting; gave up", what, d->domid);
	return XMIG_ERR_BUSY;
}

static const char *
xen_type_word(uint8_t type)
{
	return type == HV_TYPE_PV ? "pv" : type == HV_TYPE_PVH ? "pvh" : "hvm";
}

/* The store's port and the console's nodes that xenconsoled and `xl
 * console` read, all but the ring references (xen_xs_connect, after the
 * stream).  The guest owns the console directory, as with libxl; name is
 * already written, so xenconsoled's log file gets the right name. */
static bool
xen_xs_console_tx(struct xs_handle *xsh, xs_transaction_t t, const struct xen_xs_dom *d,
    const char *dom, const char *uuid)
{
	struct xs_permissions conperm[2] = { { .id = d->domid, .perms = XS_PERM_NONE },
	    { .id = d->console_domid, .perms = XS_PERM_READ } };
	char p[XEN_PATH_MAX], v[32];
	bool ok = true;

	snprintf(v, sizeof(v), "%u", d->store_port);
	ok = ok && xen_xs_write(xsh, t, v, "%s/store/port", dom);
	snprintf(p, sizeof(p), "%s/console", dom);
	ok = ok && xen_xs_mknod(xsh, t, conperm, 2, p);
	snprintf(v, sizeof(v), "%u", d->console_port);
	ok = ok && xen_xs_write(xsh, t, v, "%s/console/port", dom);
	snprintf(v, sizeof(v), "%u", d->console_domid);
	ok = ok && xen_xs_write(xsh, t, v, "%s/console/backend-id", dom);
	snprintf(v, sizeof(v), "%llu", (unsigned long long)(d->cfg->console_limit ?
	    d->cfg->console_limit : 1048576));
	ok = ok && xen_xs_write(xsh, t, v, "%s/console/limit", dom);
	ok = ok && xen_xs_write(xsh, t, "xenconsoled", "%s/console/type", dom);
	ok = ok && xen_xs_write(xsh, t, "pty", "%s/console/output", dom);
	ok = ok && xen_xs_write(xsh, t, "", "%s/console/tty", dom);
	snprintf(v, sizeof(v), "%lld.00", (long long)time(NULL));
	ok = ok && xen_xs_write(xsh, t, v, "/vm/%s/start_time", uuid);
	return ok;
}

static bool
xen_xs_skeleton_tx(struct xs_handle *xsh, xs_transaction_t t, const struct xen_xs_dom *d)
{
	static const char *const guest_rw[] = {
		"control/shutdown", "control/feature-poweroff", "control/feature-reboot",
		"control/feature-suspend", "control/sysrq", "data", "drivers", "feature",
		"attr", "error", "device/suspend/event-channel",
	};
	static const char *const guest_ro[] = { "cpu", "memory", "device", "control" };
	struct xs_permissions noperm[1] = { { .id = 0, .perms = XS_PERM_NONE } };
	struct xs_permissions roperm[2] = { { .id = 0, .perms = XS_PERM_NONE },
	    { .id = d->domid, .perms = XS_PERM_READ } };
	struct xs_permissions rwperm[1] = { { .id = d->domid, .perms = XS_PERM_NONE } };
	const struct xen_cfg *c = d->cfg;
	char dom[64], vm[64], lx[64], p[XEN_PATH_MAX], uuid[37], v[32];
	unsigned i;
	bool ok = true;

	uuid_format(c->uuid, uuid);
	snprintf(dom, sizeof(dom), "/local/domain/%u", d->domid);
	snprintf(vm, sizeof(vm), "/vm/%s", uuid);
	snprintf(lx, sizeof(lx), "/libxl/%u", d->domid);
	xs_rm(xsh, t, dom);
	xs_rm(xsh, t, vm);
	xs_rm(xsh, t, lx);
	ok = ok && xen_xs_mknod(xsh, t, roperm, 2, dom) && xen_xs_mknod(xsh, t, roperm, 2, vm);
	snprintf(p, sizeof(p), "%s/device", lx);
	ok = ok && xen_xs_mknod(xsh, t, noperm, 1, lx) && xen_xs_mknod(xsh, t, noperm, 1, p);
	ok = ok && xen_xs_write(xsh, t, xen_type_word(c->type), "%s/type", lx);
	ok = ok && xen_xs_write(xsh, t, vm, "%s/vm", dom);
	ok = ok && xen_xs_write(xsh, t, d->name, "%s/name", dom);
	snprintf(v, sizeof(v), "%u", d->domid);
	ok = ok && xen_xs_write(xsh, t, v, "%s/domid", dom);
	ok = ok && xen_xs_write(xsh, t, d->name, "%s/name", vm);
	ok = ok && xen_xs_write(xsh, t, uuid, "%s/uuid", vm);
	for (i = 0; ok && i < sizeof(guest_ro) / sizeof(guest_ro[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dom, guest_ro[i]);
		ok = xen_xs_mknod(xsh, t, roperm, 2, p);
	}
	for (i = 0; ok && i < sizeof(guest_rw) / sizeof(guest_rw[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dom, guest_rw[i]);
		ok = xen_xs_mknod(xsh, t, rwperm, 1, p);
	}
	ok = ok && xen_xs_write(xsh, t, "1",
	    "%s/control/platform-feature-multiprocessor-suspend", dom);
	ok = ok && xen_xs_write(xsh, t, "1", "%s/control/platform-feature-xs_reset_watches", dom);
	snprintf(v, sizeof(v), "%llu", (unsigned long long)c->static_max_kb);
	ok = ok && xen_xs_write(xsh, t, v, "%s/memory/static-max", dom);
	snprintf(v, sizeof(v), "%llu", (unsigned long long)c->target_kb);
	ok = ok && xen_xs_write(xsh, t, v, "%s/memory/target", dom);
	ok = ok && xen_xs_write(xsh, t, "0", "%s/memory/videoram", dom);
	for (i = 0; ok && i < c->max_vcpus; i++)
		ok = xen_xs_write(xsh, t, (c->online[i / 8] & (1u << (i % 8))) ? "online" :
		    "offline", "%s/cpu/%u/availability", dom, i);
	return ok && xen_xs_console_tx(xsh, t, d, dom, uuid);
}

int
xen_xs_skeleton(struct xs_handle *xsh, const struct xen_xs_dom *d)
{
	return xen_xs_transact(xsh, xen_xs_skeleton_tx, d, "the skeleton");
}

/* What the stream decides: the two rings' frames.  Everything else a
 * guest's store and console need is in the skeleton, written before the
 * stream starts, so this runs inside the downtime with two plain writes
 * (no transaction to conflict with the device backends' nodes, which
 * xenstored is busy with at the same moment). */
int
xen_xs_connect(struct xs_handle *xsh, const struct xen_xs_dom *d)
{
	char v[32];

	snprintf(v, sizeof(v), "%lu", d->store_mfn);
	if (!xen_xs_write(xsh, XBT_NULL, v, "/local/domain/%u/store/ring-ref", d->domid))
		goto fail;
	/* xenconsoled watches the console directory and maps the ring when
	 * this node appears (before it, its attempts fail quietly). */
	snprintf(v, sizeof(v), "%lu", d->console_mfn);
	if (!xen_xs_write(xsh, XBT_NULL, v, "/local/domain/%u/console/ring-ref", d->domid))
		goto fail;
	return 0;
fail:
	log_error("xenstore: writing the ring references of domain %u failed: %s", d->domid,
	    strerror(errno));
	return XMIG_ERR_BACKEND;
}

static bool
xen_xs_rename_tx(struct xs_handle *xsh, xs_transaction_t t, const struct xen_xs_dom *d)
{
	char *vm = xen_xs_read(xsh, t, "/local/domain/%u/vm", d->domid);
	bool ok = xen_xs_write(xsh, t, d->name, "/local/domain/%u/name", d->domid);

	if (ok && vm != NULL && strncmp(vm, "/vm/", 4) == 0)
		ok = xen_xs_write(xsh, t, d->name, "%s/name", vm);
	free(vm);
	return ok;
}

/* Plain writes, no transaction: a migration's renames fall inside its
 * downtime (the source's before GO, the destination's after it), and on a
 * busy xenstored each request costs milliseconds.  xl reads only
 * /local/domain/<id>/name; should the second write fail, /vm's copy is
 * merely stale. */
int
xen_xs_rename(struct xs_handle *xsh, uint32_t domid, const char *name)
{
	if (!xen_xs_rename_tx(xsh, XBT_NULL, &(struct xen_xs_dom){ .domid = domid,
	    .name = name })) {
		log_error("xenstore: the rename of domain %u to %s failed: %s", domid, name,
		    strerror(errno));
		return XMIG_ERR_BACKEND;
	}
	return 0;
}

/* rename-restart, as libxl_domain_preserve: the stopped domain stays,
 * renamed, under a new /vm/<uuid> of its own, so that the domain built
 * again can take its name and UUID. */
static bool
xen_xs_preserve_tx(struct xs_handle *xsh, xs_transaction_t t, const struct xen_xs_dom *d)
{
	struct xs_permissions roperm[2] = { { .id = 0, .perms = XS_PERM_NONE },
	    { .id = d->domid, .perms = XS_PERM_READ } };
	char vm[64], u[37];
	bool ok;

	uuid_format(d->uuid, u);
	snprintf(vm, sizeof(vm), "/vm/%s", u);
	xs_rm(xsh, t, vm);
	ok = xen_xs_mknod(xsh, t, roperm, 2, vm);
	ok = ok && xen_xs_write(xsh, t, u, "%s/uuid", vm);
	ok = ok && xen_xs_write(xsh, t, vm, "/local/domain/%u/vm", d->domid);
	return ok && xen_xs_rename_tx(xsh, t, d);
}

int
xen_xs_preserve_renamed(struct xs_handle *xsh, uint32_t domid, const char *name,
    const uint8_t uuid[16])
{
	struct xen_xs_dom d = { .domid = domid, .name = name, .uuid = uuid };

	return xen_xs_transact(xsh, xen_xs_preserve_tx, &d, "the rename for rename-restart");
}

void
xen_xs_cleanup(struct xs_handle *xsh, uint32_t domid)
{
	char *vm = xen_xs_read(xsh, XBT_NULL, "/local/domain/%u/vm", domid);
	char **types, p[XEN_PATH_MAX];
	unsigned n = 0, i;
	glob_t g;

	snprintf(p, sizeof(p), "/local/domain/%u", domid);
	xs_rm(xsh, XBT_NULL, p);
	/* Only a /vm/<uuid> path: the value came from a guest-readable tree
	 * written by a toolstack, but never remove anything else with it. */
	if (vm != NULL && strncmp(vm, "/vm/", 4) == 0 && strchr(vm + 4, '/') == NULL)
		xs_rm(xsh, XBT_NULL, vm);
	free(vm);
	snprintf(p, sizeof(p), "/libxl/%u", domid);
	xs_rm(xsh, XBT_NULL, p);
	snprintf(p, sizeof(p), "%s/%u", XEN_XMIG_NODE, domid);
	xs_rm(xsh, XBT_NULL, p);
	/* Backend halves in dom0 (console, vif, vbd...). */
	if ((types = xs_directory(xsh, XBT_NULL, "/local/domain/0/backend", &n)) != NULL) {
		for (i = 0; i < n; i++) {
			snprintf(p, sizeof(p), "/local/domain/0/backend/%s/%u", types[i], domid);
			xs_rm(xsh, XBT_NULL, p);
		}
		free(types);
	}
	/* libxl's saved configuration of the domain (libxl__userdata_destroyall). */
	snprintf(p, sizeof(p), "/var/lib/xen/userdata-d.%u.*", domid);
	if (glob(p, 0, NULL, &g) == 0) {
		for (i = 0; i < g.gl_pathc; i++)
			unlink(g.gl_pathv[i]);
		globfree(&g);
	}
}

void
xen_xs_mark_ours(struct xs_handle *xsh, uint32_t domid)
{
	if (!xen_xs_write(xsh, XBT_NULL, "restored", XEN_XMIG_NODE "/%u", domid))
		log_warn("xenstore: cannot record domain %u as restored by xmigd: %s", domid,
		    strerror(errno));
}

/* A stopped domain left as its configuration says (on_crash = preserve):
 * the watcher does not act on it again. */
void
xen_xs_mark_preserved(struct xs_handle *xsh, uint32_t domid)
{
	if (!xen_xs_write(xsh, XBT_NULL, "preserved", XEN_XMIG_NODE "/%u", domid))
		log_warn("xenstore: cannot record domain %u as preserved: %s", domid,
		    strerror(errno));
}

bool
xen_xs_is_preserved(struct xs_handle *xsh, uint32_t domid)
{
	char *v = xen_xs_read(xsh, XBT_NULL, XEN_XMIG_NODE "/%u", domid);
	bool p = v != NULL && strcmp(v, "preserved") == 0;

	free(v);
	return p;
}

bool
xen_xs_is_ours(struct xs_handle *xsh, uint32_t domid)
{
	char *v = xen_xs_read(xsh, XBT_NULL, XEN_XMIG_NODE "/%u", domid);
	bool ours = v != NULL;

	free(v);
	return ours;
}

#else
typedef int hv_xen_store_unused;	/* ISO C wants a declaration */
#endif
