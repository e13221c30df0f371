/* hv/xen_devices.c - a guest's disks and network interfaces, carried.
 *
 * The sender reads what libxl wrote for each vif and vbd (the backend's
 * toolstack keys, not the drivers' run-time ones) into the configuration
 * blob; the receiver, which trusts none of it (xen_cfg_decode checks the
 * shapes, xen_devices_allowed this host's lists), writes the same frontend
 * and backend nodes for the new domain while the memory is still being
 * copied, runs the hotplug scripts as libxl does (same arguments and
 * environment) and waits for "hotplug-status = connected", all bounded by
 * device-hotplug-timeout.  Removal (after a commit on the source, a failed
 * build on the receiver, a guest that stopped) follows libxl's forced
 * removal: frontend gone, online = 0, Closing, wait for Closed, the
 * script's remove/offline, nodes gone.
 *
 * Storage order (docs/xen-backend.md): before the source says GO, every
 * block backend of the suspended guest has answered every request the
 * guest made (its rings show as many responses as requests) and file
 * images are fsync'ed, so nothing the guest wrote is still on its way;
 * before the destination unpauses, its cached pages of file images are
 * dropped, so nothing it reads is stale.
 */
#ifdef HAVE_XEN

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hv/xen_int.h"
#include "log.h"
#include "util.h"
#include "xerr.h"

#define XEN_CLOSE_MS 10000	/* libxl's LIBXL_DESTROY_TIMEOUT */
#define XEN_DRAIN_MS 10000	/* a block backend answers what is in flight */
#define XEN_POLL_MS 5

enum { XS_INITIALISING = 1, XS_INITWAIT = 2, XS_CONNECTED = 4, XS_CLOSING = 5,
	XS_CLOSED = 6 };

extern char **environ;

/* ---- reading (sender) ---- */

static char *
xen_be_read(struct xs_handle *xsh, const char *kind, uint32_t domid, uint32_t devid,
    const char *key)
{
	return xen_xs_read(xsh, XBT_NULL, "/local/domain/0/backend/%s/%u/%u/%s", kind, domid,
	    devid, key);
}

/* Copy a backend key into dst; false when it does not fit. */
static bool
xen_be_copy(struct xs_handle *xsh, const char *kind, uint32_t domid, uint32_t devid,
    const char *key, char *dst, size_t size)
{
	char *v = xen_be_read(xsh, kind, domid, devid, key);
	bool ok = v == NULL || strlen(v) < size;

	dst[0] = '\0';
	if (v != NULL && ok)
		memcpy(dst, v, strlen(v) + 1);
	free(v);
	return ok;
}

/* The name of a script libxl wrote as an absolute path into Xen's script
 * directory (or already as a bare name); NULL when it is elsewhere. */
static const char *
xen_script_name(const char *path)
{
	const char *base = path;
	size_t dl = strlen(XEN_SCRIPT_DIR);

	if (strncmp(path, XEN_SCRIPT_DIR "/", dl + 1) == 0)
		base = path + dl + 1;
	else if (strchr(path, '/') != NULL)
		return NULL;
	return dp_script_ok(base, strlen(base)) ? base : NULL;
}

static bool
xen_flag(struct xs_handle *xsh, const char *path_fmt_kind, uint32_t domid, uint32_t devid,
    const char *key, bool dflt)
{
	char *v = xen_be_read(xsh, path_fmt_kind, domid, devid, key);
	bool on = v == NULL ? dflt : strcmp(v, "1") == 0;

	free(v);
	return on;
}

static uint8_t
xen_fe_trusted(struct xs_handle *xsh, const char *kind, uint32_t domid, uint32_t devid)
{
	char *v = xen_xs_read(xsh, XBT_NULL, "/local/domain/%u/device/%s/%u/trusted", domid,
	    kind, devid);
	uint8_t t = v == NULL || strcmp(v, "0") != 0;

	free(v);
	return t;
}

int
xen_dev_read_vif(struct xs_handle *xsh, uint32_t domid, uint32_t devid,
    struct xen_cfg_vif *v, char *why, size_t whylen)
{
	char script[256], type[16], gw[64], mtu[16];
	const char *name;

	memset(v, 0, sizeof(*v));
	v->devid = devid;
	if (!xen_be_copy(xsh, "vif", domid, devid, "script", script, sizeof(script)) ||
	    !xen_be_copy(xsh, "vif", domid, devid, "type", type, sizeof(type)) ||
	    !xen_be_copy(xsh, "vif", domid, devid, "gatewaydev", gw, sizeof(gw)) ||
	    !xen_be_copy(xsh, "vif", domid, devid, "mtu", mtu, sizeof(mtu)) ||
	    !xen_be_copy(xsh, "vif", domid, devid, "mac", v->mac, sizeof(v->mac)) ||
	    !xen_be_copy(xsh, "vif", domid, devid, "bridge", v->bridge, sizeof(v->bridge)) ||
	    !xen_be_copy(xsh, "vif", domid, devid, "vifname", v->vifname, sizeof(v->vifname)) ||
	    !xen_be_copy(xsh, "vif", domid, devid, "ip", v->ip, sizeof(v->ip)) ||
	    !xen_be_copy(xsh, "vif", domid, devid, "rate", v->rate, sizeof(v->rate))) {
		snprintf(why, whylen, "its backend has a value longer than xmig carries");
		return XMIG_ERR_UNSUPPORTED;
	}
	if (script[0] == '\0' && type[0] == '\0' && v->mac[0] == '\0') {
		snprintf(why, whylen, "it has no backend in dom0");
		return XMIG_ERR_UNSUPPORTED;
	}
	if (type[0] != '\0' && strcmp(type, "vif") != 0) {
		snprintf(why, whylen, "a %s interface needs a device model; not supported", type);
		return XMIG_ERR_UNSUPPORTED;
	}
	if ((name = xen_script_name(script)) == NULL || strcmp(name, "vif-bridge") != 0) {
		snprintf(why, whylen, "hotplug script %s is not carried (only vif-bridge: a "
		    "routed or NAT'd interface depends on this host's addresses)",
		    script[0] ? script : "(none)");
		return XMIG_ERR_UNSUPPORTED;
	}
	if (gw[0] != '\0') {
		snprintf(why, whylen, "a gateway device (%s) ties it to this host; not supported",
		    gw);
		return XMIG_ERR_UNSUPPORTED;
	}
	strlcpy_x(v->script, name, sizeof(v->script));
	if (!xen_cfg_mac_ok(v->mac) || !xen_cfg_ifname_ok(v->bridge)) {
		snprintf(why, whylen, "no usable mac or bridge in its backend");
		return XMIG_ERR_UNSUPPORTED;
	}
	v->mtu = mtu[0] ? (uint32_t)strtoul(mtu, NULL, 10) : 0;
	v->trusted = xen_fe_trusted(xsh, "vif", domid, devid);
	return 0;
}

int
xen_dev_read_vbd(struct xs_handle *xsh, uint32_t domid, uint32_t devid,
    struct xen_cfg_vbd *v, char *why, size_t whylen)
{
	char script[256], type[16], mode[8], dtype[16], discard[8];
	const char *name;

	memset(v, 0, sizeof(*v));
	v->devid = devid;
	if (!xen_be_copy(xsh, "vbd", domid, devid, "script", script, sizeof(script)) ||
	    !xen_be_copy(xsh, "vbd", domid, devid, "type", type, sizeof(type)) ||
	    !xen_be_copy(xsh, "vbd", domid, devid, "mode", mode, sizeof(mode)) ||
	    !xen_be_copy(xsh, "vbd", domid, devid, "device-type", dtype, sizeof(dtype)) ||
	    !xen_be_copy(xsh, "vbd", domid, devid, "discard-enable", discard, sizeof(discard)) ||
	    !xen_be_copy(xsh, "vbd", domid, devid, "dev", v->vdev, sizeof(v->vdev)) ||
	    !xen_be_copy(xsh, "vbd", domid, devid, "params", v->params, sizeof(v->params))) {
		snprintf(why, whylen, "its backend has a value longer than xmig carries");
		return XMIG_ERR_UNSUPPORTED;
	}
	if (type[0] == '\0' && v->params[0] == '\0') {
		snprintf(why, whylen, "it has no backend in dom0");
		return XMIG_ERR_UNSUPPORTED;
	}
	if (strcmp(type, "phy") != 0) {
		snprintf(why, whylen, "a %s disk backend is not carried (phy: devices and file: "
		    "images through the block script are)", type[0] ? type : "typeless");
		return XMIG_ERR_UNSUPPORTED;
	}
	if (strcmp(dtype, "cdrom") == 0) {
		snprintf(why, whylen, "CD-ROM drives are not carried");
		return XMIG_ERR_UNSUPPORTED;
	}
	if ((name = xen_script_name(script)) == NULL ||
	    (strcmp(name, "block") != 0 && strncmp(name, "block-", 6) != 0)) {
		snprintf(why, whylen, "hotplug script %s is not carried (block and block-* "
		    "scripts are)", script[0] ? script : "(none)");
		return XMIG_ERR_UNSUPPORTED;
	}
	strlcpy_x(v->script, name, sizeof(v->script));
	if (!dp_params_ok(v->params, strlen(v->params)) || v->vdev[0] == '\0' ||
	    (strcmp(mode, "w") != 0 && strcmp(mode, "r") != 0)) {
		snprintf(why, whylen, "its backend's params, dev or mode cannot be carried");
		return XMIG_ERR_UNSUPPORTED;
	}
	v->writable = mode[0] == 'w';
	v->removable = xen_flag(xsh, "vbd", domid, devid, "removable", false);
	v->direct_io_safe = xen_flag(xsh, "vbd", domid, devid, "direct-io-safe", false);
	v->discard = discard[0] == '\0' ? XEN_CFG_DISCARD_UNSET : strcmp(discard, "1") == 0;
	v->trusted = xen_fe_trusted(xsh, "vbd", domid, devid);
	return 0;
}

/* ---- hotplug scripts ---- */

/* Run path with argv and envp: stdin /dev/null, stdout and stderr into
 * out (its tail when longer), no other descriptor of xmigd's (a program
 * that stays, like xl's domain monitor, must not hold its sockets), in its
 * own process group, killed with it after timeout_ms.  *status as
 * waitpid's.  0 when it ran and ended; why gets one line otherwise. */
int
xen_spawn(const char *path, char *const argv[], char *const envp[], unsigned timeout_ms,
    char *out, size_t outlen, int *status, char *why, size_t whylen)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t def, none;
	size_t used = 0;
	int pfd[2], r;
	pid_t pid;
	uint64_t deadline = now_ms() + timeout_ms;
	bool done = false;

	*status = 0;
	out[0] = '\0';
	if (pipe2(pfd, O_CLOEXEC) != 0) {
		snprintf(why, whylen, "pipe: %s", strerror(errno));
		return XMIG_ERR_SYSTEM;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], 2);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_init(&at);
	/* xmigd ignores SIGPIPE; a shell script must not inherit that.  Nor
	 * the mask that keeps SIGTERM, SIGINT and SIGHUP for xmigd's signal
	 * thread: what the program leaves behind (xl create's domain monitor,
	 * libxl's QEMU) would outlive every SIGTERM. */
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	posix_spawnattr_setsigdefault(&at, &def);
	sigemptyset(&none);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETPGROUP);
	r = posix_spawn(&pid, path, &fa, &at, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(pfd[1]);
	if (r != 0) {
		close(pfd[0]);
		snprintf(why, whylen, "cannot run %s: %s", path, strerror(r));
		return XMIG_ERR_SYSTEM;
	}
	while (!done) {
		uint64_t now = now_ms();
		struct pollfd pf = { .fd = pfd[0], .events = POLLIN };
		ssize_t k;

		if (now >= deadline) {
			kill(-pid, SIGKILL);
			waitpid(pid, status, 0);
			close(pfd[0]);
			snprintf(why, whylen, "%s did not finish within %u s; killed", path,
			    timeout_ms / 1000);
			return XMIG_ERR_TIMEOUT;
		}
		if (poll(&pf, 1, (int)(deadline - now)) <= 0)
			continue;
		k = read(pfd[0], out + used, outlen - 1 - used);
		if (k <= 0) {
			done = k == 0 || errno != EINTR;
			continue;
		}
		used += (size_t)k;
		if (used == outlen - 1)	/* keep the tail */
			used = 0;
	}
	close(pfd[0]);
	out[used] = '\0';
	while (waitpid(pid, status, 0) < 0 && errno == EINTR)
		;
	return 0;
}

/* Run NAME ACTION [type_if=vif] as libxl does (libxl_linux.c: the same
 * arguments and environment), its output to the log, bounded by
 * timeout_ms.  0 when it exited 0. */
static int
xen_hotplug_run(const char *name, const char *action, const char *kind, uint32_t domid,
    uint32_t devid, const char *vifname, unsigned timeout_ms, char *why, size_t whylen)
{
	char path[300], e_script[320], e_type[32], e_path[96], e_vif[48], e_pathvar[512];
	char *argv[4], *envp[10], out[2048];
	const char *p = getenv("PATH");
	int status = 0, n = 0, r;

	snprintf(path, sizeof(path), "%s/%s", XEN_SCRIPT_DIR, name);
	snprintf(e_script, sizeof(e_script), "script=%s", path);
	snprintf(e_type, sizeof(e_type), "XENBUS_TYPE=%s", kind);
	snprintf(e_path, sizeof(e_path), "XENBUS_PATH=backend/%s/%u/%u", kind, domid, devid);
	snprintf(e_pathvar, sizeof(e_pathvar), "PATH=%s", p != NULL && strlen(p) < 400 ? p :
	    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	argv[0] = path;
	argv[1] = (char *)action;
	argv[2] = strcmp(kind, "vif") == 0 ? "type_if=vif" : NULL;
	argv[3] = NULL;
	envp[n++] = e_script;
	envp[n++] = e_type;
	envp[n++] = e_path;
	envp[n++] = "XENBUS_BASE_PATH=backend";
	envp[n++] = e_pathvar;
	envp[n++] = "LANG=C";
	if (strcmp(kind, "vif") == 0) {
		snprintf(e_vif, sizeof(e_vif), "vif=%s", vifname);
		envp[n++] = e_vif;
		envp[n++] = "netdev=";
	}
	envp[n] = NULL;
	log_verbose("domain %u: %s %s %u: %s %s", domid, kind, action, devid, path, action);
	if ((r = xen_spawn(path, argv, envp, timeout_ms, out, sizeof(out), &status, why,
	    whylen)) != 0) {
		if (r == XMIG_ERR_TIMEOUT)
			snprintf(why, whylen, "%s %s did not finish within %u s; killed", path,
			    action, timeout_ms / 1000);
		return r;
	}
	if (out[0] != '\0')
		log_verbose("domain %u: %s %s %u said: %s", domid, kind, action, devid, out);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	snprintf(why, whylen, "%s %s failed (%s %d)", path, action,
	    WIFEXITED(status) ? "exit" : "signal",
	    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	return XMIG_ERR_BACKEND;
}

/* The backend's state, -1 when the node is gone. */
static int
xen_be_state(struct xs_handle *xsh, const char *kind, uint32_t domid, uint32_t devid)
{
	char *v = xen_be_read(xsh, kind, domid, devid, "state");
	int s = v != NULL ? atoi(v) : -1;

	free(v);
	return s;
}

/* Wait until the backend's state is one of want/want2 (or gone, when
 * gone_ok), until deadline. */
static bool
xen_be_wait(struct xs_handle *xsh, const char *kind, uint32_t domid, uint32_t devid,
    int want, bool gone_ok, uint64_t deadline)
{
	for (;;) {
		int s = xen_be_state(xsh, kind, domid, devid);

		if (s == want || (s < 0 && gone_ok))
			return true;
		if (now_ms() >= deadline)
			return false;
		xen_sleep_ms(XEN_POLL_MS);
	}
}

/* ---- creating (receiver) ---- */

struct xen_dev_tx {
	uint32_t domid;
	const struct xen_cfg *cfg;
};

static bool
xen_kv(struct xs_handle *xsh, xs_transaction_t t, const char *dir, const char *key,
    const char *val)
{
	return xen_xs_write(xsh, t, val, "%s/%s", dir, key);
}

static bool
xen_kvu(struct xs_handle *xsh, xs_transaction_t t, const char *dir, const char *key,
    unsigned long long u)
{
	char v[24];

	snprintf(v, sizeof(v), "%llu", u);
	return xen_kv(xsh, t, dir, key, v);
}

/* A backend key, also in libxl's own record of the device
 * (/libxl/DOMID/device/KIND/DEVID): libxl reads the device back from
 * there (xl list -l, xl save, xl migrate), as libxl__device_generic_add
 * writes it. */
static bool
xen_bkv(struct xs_handle *xsh, xs_transaction_t t, const char *be, const char *lx,
    const char *key, const char *val)
{
	return xen_kv(xsh, t, be, key, val) && xen_kv(xsh, t, lx, key, val);
}

static bool
xen_bkvu(struct xs_handle *xsh, xs_transaction_t t, const char *be, const char *lx,
    const char *key, unsigned long long u)
{
	return xen_kvu(xsh, t, be, key, u) && xen_kvu(xsh, t, lx, key, u);
}

/* The frontend and backend directories with libxl's permissions
 * (libxl__device_generic_add), the common keys, and libxl's record. */
static bool
xen_dev_dirs(struct xs_handle *xsh, xs_transaction_t t, uint32_t domid, const char *kind,
    uint32_t devid, char *fe, char *be, char *lx, size_t size)
{
	struct xs_permissions feperm[2] = { { .id = domid, .perms = XS_PERM_NONE },
	    { .id = 0, .perms = XS_PERM_READ } };
	struct xs_permissions beperm[2] = { { .id = 0, .perms = XS_PERM_NONE },
	    { .id = domid, .perms = XS_PERM_READ } };
	bool ok;

	snprintf(fe, size, "/local/domain/%u/device/%s/%u", domid, kind, devid);
	snprintf(be, size, "/local/domain/0/backend/%s/%u/%u", kind, domid, devid);
	snprintf(lx, size, "/libxl/%u/device/%s/%u", domid, kind, devid);
	xs_rm(xsh, t, fe);
	xs_rm(xsh, t, be);
	xs_rm(xsh, t, lx);
	ok = xs_mkdir(xsh, t, fe) && xs_set_permissions(xsh, t, fe, feperm, 2) &&
	    xs_mkdir(xsh, t, be) && xs_set_permissions(xsh, t, be, beperm, 2);
	ok = ok && xen_kv(xsh, t, lx, "frontend", fe) && xen_kv(xsh, t, lx, "backend", be);
	ok = ok && xen_kv(xsh, t, fe, "backend", be) && xen_kv(xsh, t, fe, "backend-id", "0") &&
	    xen_kv(xsh, t, fe, "state", "1");
	ok = ok && xen_bkv(xsh, t, be, lx, "frontend", fe) &&
	    xen_bkvu(xsh, t, be, lx, "frontend-id", domid) &&
	    xen_bkv(xsh, t, be, lx, "online", "1") && xen_bkv(xsh, t, be, lx, "state", "1");
	return ok;
}

static bool
xen_vif_tx(struct xs_handle *xsh, xs_transaction_t t, uint32_t domid,
    const struct xen_cfg_vif *v)
{
	struct xs_permissions roperm[2] = { { .id = 0, .perms = XS_PERM_NONE },
	    { .id = domid, .perms = XS_PERM_READ } };
	char fe[XEN_PATH_MAX], be[XEN_PATH_MAX], lx[XEN_PATH_MAX], script[300];
	char p[XEN_PATH_MAX + 8];
	bool ok = xen_dev_dirs(xsh, t, domid, "vif", v->devid, fe, be, lx, sizeof(fe));

	snprintf(script, sizeof(script), "%s/%s", XEN_SCRIPT_DIR, v->script);
	ok = ok && xen_bkv(xsh, t, be, lx, "script", script) &&
	    xen_bkv(xsh, t, be, lx, "mac", v->mac) &&
	    xen_bkv(xsh, t, be, lx, "bridge", v->bridge) &&
	    xen_bkvu(xsh, t, be, lx, "handle", v->devid) &&
	    xen_bkv(xsh, t, be, lx, "type", "vif") && xen_kv(xsh, t, be, "hotplug-status", "");
	if (ok && v->vifname[0])
		ok = xen_bkv(xsh, t, be, lx, "vifname", v->vifname);
	if (ok && v->ip[0])
		ok = xen_bkv(xsh, t, be, lx, "ip", v->ip);
	if (ok && v->rate[0])
		ok = xen_bkv(xsh, t, be, lx, "rate", v->rate);
	if (ok && v->mtu)
		ok = xen_bkvu(xsh, t, be, lx, "mtu", v->mtu);
	ok = ok && xen_kvu(xsh, t, fe, "handle", v->devid) && xen_kv(xsh, t, fe, "mac", v->mac) &&
	    xen_kv(xsh, t, fe, "trusted", v->trusted ? "1" : "0");
	if (ok && v->mtu) {	/* read-only for the guest, as libxl writes it */
		snprintf(p, sizeof(p), "%s/mtu", fe);
		ok = xen_kvu(xsh, t, fe, "mtu", v->mtu) &&
		    xs_set_permissions(xsh, t, p, roperm, 2);
	}
	return ok;
}

static bool
xen_vbd_tx(struct xs_handle *xsh, xs_transaction_t t, uint32_t domid,
    const struct xen_cfg_vbd *v)
{
	char fe[XEN_PATH_MAX], be[XEN_PATH_MAX], lx[XEN_PATH_MAX], script[300];
	bool ok = xen_dev_dirs(xsh, t, domid, "vbd", v->devid, fe, be, lx, sizeof(fe));

	snprintf(script, sizeof(script), "%s/%s", XEN_SCRIPT_DIR, v->script);
	ok = ok && xen_bkv(xsh, t, be, lx, "params", v->params) &&
	    xen_bkv(xsh, t, be, lx, "script", script) &&
	    xen_bkv(xsh, t, be, lx, "removable", v->removable ? "1" : "0") &&
	    xen_bkv(xsh, t, be, lx, "bootable", "1") && xen_bkv(xsh, t, be, lx, "dev", v->vdev) &&
	    xen_bkv(xsh, t, be, lx, "type", "phy") &&
	    xen_bkv(xsh, t, be, lx, "mode", v->writable ? "w" : "r") &&
	    xen_bkv(xsh, t, be, lx, "device-type", "disk") &&
	    xen_bkv(xsh, t, be, lx, "specification", "xen");
	if (ok && v->direct_io_safe)
		ok = xen_bkv(xsh, t, be, lx, "direct-io-safe", "1");
	if (ok && v->discard != XEN_CFG_DISCARD_UNSET)
		ok = xen_bkv(xsh, t, be, lx, "discard-enable", v->discard ? "1" : "0");
	ok = ok && xen_kvu(xsh, t, fe, "virtual-device", v->devid) &&
	    xen_kv(xsh, t, fe, "device-type", "disk") &&
	    xen_kv(xsh, t, fe, "trusted", v->trusted ? "1" : "0");
	return ok;
}

/* Every device's nodes, in one transaction. */
static int
xen_devices_write(struct xs_handle *xsh, uint32_t domid, const struct xen_cfg *cfg)
{
	unsigned try;

	for (try = 0; try < XEN_XS_RETRIES; try++) {
		xs_transaction_t t = xs_transaction_start(xsh);
		bool ok = t != XBT_NULL;
		uint32_t i;

		for (i = 0; ok && i < cfg->nvifs; i++)
			ok = xen_vif_tx(xsh, t, domid, &cfg->vifs[i]);
		for (i = 0; ok && i < cfg->nvbds; i++)
			ok = xen_vbd_tx(xsh, t, domid, &cfg->vbds[i]);
		if (!ok) {
			int e = errno;

			if (t != XBT_NULL)
				xs_transaction_end(xsh, t, true);
			log_error("xenstore: writing the devices of domain %u failed: %s", domid,
			    strerror(e));
			return XMIG_ERR_BACKEND;
		}
		if (xs_transaction_end(xsh, t, false))
			return 0;
		if (errno != EAGAIN)
			break;
	}
	log_error("xenstore: cannot commit the devices of domain %u: %s", domid, strerror(errno));
	return XMIG_ERR_BACKEND;
}

/* What a failed hotplug script left as its reason (xen-hotplug-common.sh
 * writes hotplug-error), appended to why. */
static void
xen_hotplug_reason(struct xs_handle *xsh, const char *kind, uint32_t domid, uint32_t devid,
    char *why, size_t whylen)
{
	char *e = xen_be_read(xsh, kind, domid, devid, "hotplug-error");
	size_t n = strlen(why);

	if (e != NULL && e[0] != '\0' && n < whylen)
		snprintf(why + n, whylen - n, ": %s", e);
	free(e);
}

/* One device: backend waiting for its frontend, script run, connected. */
static int
xen_device_plug(struct xs_handle *xsh, uint32_t domid, const char *kind, uint32_t devid,
    const char *script, const char *vifname, unsigned timeout_s, char *why, size_t whylen)
{
	uint64_t deadline = now_ms() + timeout_s * 1000ull;
	char *hs;
	int r;

	if (!xen_be_wait(xsh, kind, domid, devid, XS_INITWAIT, false, deadline)) {
		snprintf(why, whylen, "its backend did not come up within %u s (is xen-%s "
		    "loaded?)", timeout_s, strcmp(kind, "vif") == 0 ? "netback" : "blkback");
		return XMIG_ERR_TIMEOUT;
	}
	if ((r = xen_hotplug_run(script, strcmp(kind, "vif") == 0 ? "online" : "add", kind,
	    domid, devid, vifname, (unsigned)(deadline - now_ms()), why, whylen)) != 0) {
		xen_hotplug_reason(xsh, kind, domid, devid, why, whylen);
		return r;
	}
	for (;;) {
		hs = xen_be_read(xsh, kind, domid, devid, "hotplug-status");
		if (hs != NULL && strcmp(hs, "connected") == 0)
			break;
		if ((hs != NULL && strcmp(hs, "error") == 0) || now_ms() >= deadline) {
			snprintf(why, whylen, "%s/%s add: hotplug-status %s", XEN_SCRIPT_DIR, script,
			    hs != NULL && hs[0] ? hs : "never connected");
			free(hs);
			xen_hotplug_reason(xsh, kind, domid, devid, why, whylen);
			return XMIG_ERR_BACKEND;
		}
		free(hs);
		xen_sleep_ms(XEN_POLL_MS);
	}
	free(hs);
	return 0;
}

int
xen_devices_add(struct xs_handle *xsh, uint32_t domid, const struct xen_cfg *cfg,
    unsigned timeout_s, struct xen_images **images, char *why, size_t whylen)
{
	char sub[400], vifname[XEN_CFG_IFNAME_LEN + 8];
	uint64_t t0 = now_ms();
	uint32_t i;
	int r;

	*images = NULL;
	if (cfg->nvifs == 0 && cfg->nvbds == 0)
		return 0;
	if ((r = xen_devices_write(xsh, domid, cfg)) != 0) {
		snprintf(why, whylen, "cannot write the devices' xenstore nodes");
		return r;
	}
	for (i = 0; i < cfg->nvifs; i++) {
		const struct xen_cfg_vif *v = &cfg->vifs[i];

		snprintf(vifname, sizeof(vifname), "vif%u.%u", domid, v->devid);
		if ((r = xen_device_plug(xsh, domid, "vif", v->devid, v->script, vifname,
		    timeout_s, sub, sizeof(sub))) != 0) {
			snprintf(why, whylen, "vif %u (%s on %s): %s", v->devid, v->mac, v->bridge,
			    sub);
			return r;
		}
	}
	for (i = 0; i < cfg->nvbds; i++) {
		const struct xen_cfg_vbd *v = &cfg->vbds[i];

		if ((r = xen_device_plug(xsh, domid, "vbd", v->devid, v->script, "", timeout_s,
		    sub, sizeof(sub))) != 0) {
			snprintf(why, whylen, "vbd %u (%s, %s): %s", v->devid, v->vdev, v->params,
			    sub);
			return r;
		}
	}
	/* What this host cached of a file image (when it last ran the guest,
	 * or the block script's probe) goes now, while the memory streams:
	 * the drop before the unpause, inside the downtime, then finds little
	 * and needs no xenstore walk (the caller keeps *images for it). */
	if ((*images = xen_images_find(xsh, domid)) != NULL)
		xen_images_drop(*images);
	log_info("domain %u: %u network interface%s and %u disk%s set up in %llu ms", domid,
	    cfg->nvifs, cfg->nvifs == 1 ? "" : "s", cfg->nvbds, cfg->nvbds == 1 ? "" : "s",
	    (unsigned long long)(now_ms() - t0));
	return 0;
}

/* ---- removing ---- */

/* libxl's forced removal of one backend: frontend gone, online 0,
 * Closing (unless Closed). */
static void
xen_device_close(struct xs_handle *xsh, uint32_t domid, const char *kind, uint32_t devid)
{
	char fe[XEN_PATH_MAX], be[XEN_PATH_MAX];
	unsigned try;

	snprintf(fe, sizeof(fe), "/local/domain/%u/device/%s/%u", domid, kind, devid);
	snprintf(be, sizeof(be), "/local/domain/0/backend/%s/%u/%u", kind, domid, devid);
	for (try = 0; try < XEN_XS_RETRIES; try++) {
		xs_transaction_t t = xs_transaction_start(xsh);
		char *st;

		if (t == XBT_NULL)
			return;
		xs_rm(xsh, t, fe);
		st = xen_xs_read(xsh, t, "%s/state", be);
		if (st != NULL) {
			xen_kv(xsh, t, be, "online", "0");
			if (atoi(st) != XS_CLOSED)
				xen_kv(xsh, t, be, "state", "5");
		}
		free(st);
		if (xs_transaction_end(xsh, t, false) || errno != EAGAIN)
			return;
	}
}

/* The devid directories of one kind of backend of domid (caller frees). */
static char **
xen_be_ids(struct xs_handle *xsh, const char *kind, uint32_t domid, unsigned *n)
{
	char path[XEN_PATH_MAX];

	*n = 0;
	snprintf(path, sizeof(path), "/local/domain/0/backend/%s/%u", kind, domid);
	return xs_directory(xsh, XBT_NULL, path, n);
}

void
xen_devices_remove(uint32_t domid, unsigned timeout_s)
{
	static const char *const kinds[] = { "vif", "vbd" };
	struct xs_handle *xsh = xs_open(0);
	uint64_t deadline = now_ms() + XEN_CLOSE_MS;
	unsigned k, i, n;

	if (xsh == NULL) {
		log_error("domain %u: cannot open xenstore to remove its devices: %s", domid,
		    strerror(errno));
		return;
	}
	for (k = 0; k < 2; k++) {
		char **ids = xen_be_ids(xsh, kinds[k], domid, &n);

		for (i = 0; ids != NULL && i < n; i++)
			xen_device_close(xsh, domid, kinds[k], (uint32_t)strtoul(ids[i], NULL, 10));
		free(ids);
	}
	for (k = 0; k < 2; k++) {
		char **ids = xen_be_ids(xsh, kinds[k], domid, &n);

		for (i = 0; ids != NULL && i < n; i++) {
			uint32_t devid = (uint32_t)strtoul(ids[i], NULL, 10);
			char *script = xen_be_read(xsh, kinds[k], domid, devid, "script");
			const char *name = script != NULL ? xen_script_name(script) : NULL;
			char why[300], vifname[32], p[XEN_PATH_MAX];

			if (!xen_be_wait(xsh, kinds[k], domid, devid, XS_CLOSED, true, deadline))
				log_warn("domain %u: %s %u did not close within %u s; removing it "
				    "anyway", domid, kinds[k], devid, XEN_CLOSE_MS / 1000);
			snprintf(vifname, sizeof(vifname), "vif%u.%u", domid, devid);
			if (name != NULL && xen_hotplug_run(name, k == 0 ? "offline" : "remove",
			    kinds[k], domid, devid, vifname, timeout_s * 1000, why,
			    sizeof(why)) != 0)
				log_warn("domain %u: %s %u: %s", domid, kinds[k], devid, why);
			free(script);
			snprintf(p, sizeof(p), "/local/domain/0/backend/%s/%u/%u", kinds[k], domid,
			    devid);
			xs_rm(xsh, XBT_NULL, p);
			snprintf(p, sizeof(p), "/libxl/%u/device/%s/%u", domid, kinds[k], devid);
			xs_rm(xsh, XBT_NULL, p);
		}
		free(ids);
	}
	xs_close(xsh);
}

/* ---- storage order ---- */

/* params of a file-backed vbd when it is a regular file here. */
static bool
xen_vbd_file(struct xs_handle *xsh, uint32_t domid, uint32_t devid, char *path, size_t size)
{
	struct stat st;

	return xen_be_copy(xsh, "vbd", domid, devid, "params", path, size) && path[0] == '/' &&
	    stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Wait until the ring whose first page the guest granted as ref has a
 * response for every request (blkif's shared ring starts with req_prod,
 * req_event, rsp_prod). */
static int
xen_ring_drain(xengnttab_handle *xgt, uint32_t domid, uint32_t ref, uint64_t deadline)
{
	volatile uint32_t *ring = xengnttab_map_grant_ref(xgt, domid, ref, PROT_READ);
	int r = XMIG_ERR_TIMEOUT;

	if (ring == NULL)
		return XMIG_ERR_BACKEND;
	do {
		if (ring[0] == ring[2]) {
			r = 0;
			break;
		}
		xen_sleep_ms(1);
	} while (now_ms() < deadline);
	xengnttab_unmap(xgt, (void *)ring, 1);
	return r;
}

/* The first page of each of a vbd frontend's rings (one per queue; a
 * multi-page ring names its pages ring-ref0..). */
static int
xen_vbd_drain(struct xs_handle *xsh, xengnttab_handle *xgt, uint32_t domid, uint32_t devid,
    uint64_t deadline)
{
	char *st = xen_xs_read(xsh, XBT_NULL, "/local/domain/%u/device/vbd/%u/state", domid, devid);
	char *nq = xen_xs_read(xsh, XBT_NULL, "/local/domain/%u/device/vbd/%u/"
	    "multi-queue-num-queues", domid, devid);
	unsigned q, queues = nq != NULL ? (unsigned)strtoul(nq, NULL, 10) : 0;
	bool connected = st != NULL && atoi(st) == XS_CONNECTED;
	int r = 0;

	free(st);
	free(nq);
	if (!connected)		/* no ring: nothing in flight */
		return 0;
	if (queues > 64)
		return XMIG_ERR_INVALID;
	for (q = 0; q < (queues ? queues : 1) && r == 0; q++) {
		char qdir[32] = "", *ref;

		if (queues)
			snprintf(qdir, sizeof(qdir), "queue-%u/", q);
		ref = xen_xs_read(xsh, XBT_NULL, "/local/domain/%u/device/vbd/%u/%sring-ref", domid,
		    devid, qdir);
		if (ref == NULL)
			ref = xen_xs_read(xsh, XBT_NULL, "/local/domain/%u/device/vbd/%u/%sring-ref0",
			    domid, devid, qdir);
		r = ref != NULL ? xen_ring_drain(xgt, domid, (uint32_t)strtoul(ref, NULL, 10),
		    deadline) : XMIG_ERR_INVALID;
		free(ref);
	}
	return r;
}

int
xen_devices_quiesce(struct xs_handle *xsh, uint32_t domid, char *why, size_t whylen)
{
	uint64_t t0 = now_ms(), deadline = t0 + XEN_DRAIN_MS;
	xengnttab_handle *xgt = NULL;
	unsigned i, n;
	char **ids = xen_be_ids(xsh, "vbd", domid, &n);
	int r = 0;

	if (ids == NULL || n == 0) {
		free(ids);
		return 0;
	}
	if ((xgt = xengnttab_open(NULL, 0)) == NULL) {
		snprintf(why, whylen, "cannot open the grant device to check its disks: %s",
		    strerror(errno));
		free(ids);
		return XMIG_ERR_BACKEND;
	}
	for (i = 0; i < n && r == 0; i++) {
		uint32_t devid = (uint32_t)strtoul(ids[i], NULL, 10);
		char path[DP_PARAMS_MAX];
		int fd;

		if ((r = xen_vbd_drain(xsh, xgt, domid, devid, deadline)) != 0) {
			snprintf(why, whylen, "vbd %u: %s", devid, r == XMIG_ERR_TIMEOUT ?
			    "its backend still had requests in flight after 10 s" :
			    "cannot read its ring to check that nothing is in flight");
			break;
		}
		/* A file image: what the loop device wrote sits in this host's
		 * page cache until it is flushed. */
		if (xen_vbd_file(xsh, domid, devid, path, sizeof(path))) {
			if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fsync(fd) != 0) {
				snprintf(why, whylen, "vbd %u: cannot flush %s: %s", devid, path,
				    strerror(errno));
				r = XMIG_ERR_SYSTEM;
			}
			if (fd >= 0)
				close(fd);
		}
	}
	xengnttab_close(xgt);
	free(ids);
	if (r == 0)
		log_verbose("domain %u: %u disk%s quiet and flushed in %llu ms", domid, n,
		    n == 1 ? "" : "s", (unsigned long long)(now_ms() - t0));
	return r;
}

struct xen_early_quiesce {
	struct hv_xen *x;
	uint32_t domid;
	bool done, dropped;	/* under x->eq_mu */
	int r;
	char why[320];
};

static void *
xen_quiesce_thread(void *arg)
{
	struct xen_early_quiesce *e = arg;
	struct hv_xen *x = e->x;
	struct xs_handle *xsh = xs_open(0);
	char why[sizeof(e->why)] = "";
	int r;

	if (xsh == NULL) {
		snprintf(why, sizeof(why), "cannot open xenstore to check its disks: %s",
		    strerror(errno));
		r = XMIG_ERR_BACKEND;
	} else {
		r = xen_devices_quiesce(xsh, e->domid, why, sizeof(why));
		xs_close(xsh);
	}
	pthread_mutex_lock(&x->eq_mu);
	e->r = r;
	strlcpy_x(e->why, why, sizeof(e->why));
	e->done = true;
	if (e->dropped)
		free(e);
	x->eq_running--;
	pthread_cond_broadcast(&x->eq_cv);
	pthread_mutex_unlock(&x->eq_mu);
	return NULL;
}

/* The slot of domid's quiesce, or NULL (under eq_mu). */
static struct xen_early_quiesce **
xen_quiesce_slot(struct hv_xen *x, uint32_t domid)
{
	size_t i;

	for (i = 0; i < sizeof(x->eq) / sizeof(x->eq[0]); i++)
		if (x->eq[i] != NULL && x->eq[i]->domid == domid)
			return &x->eq[i];
	return NULL;
}

void
xen_quiesce_start(struct hv_xen *x, uint32_t domid)
{
	struct xen_early_quiesce *e, **slot;
	pthread_attr_t at;
	pthread_t t;
	size_t i;

	xen_quiesce_drop(x, domid);	/* one of an earlier attempt */
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return;		/* the quiesce op does it after BUILT */
	e->x = x;
	e->domid = domid;
	pthread_mutex_lock(&x->eq_mu);
	for (i = 0, slot = NULL; i < sizeof(x->eq) / sizeof(x->eq[0]) && slot == NULL; i++)
		if (x->eq[i] == NULL)
			slot = &x->eq[i];
	if (slot == NULL) {
		pthread_mutex_unlock(&x->eq_mu);
		free(e);
		return;
	}
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &at, xen_quiesce_thread, e) == 0) {
		*slot = e;
		x->eq_running++;
	} else {
		free(e);
	}
	pthread_attr_destroy(&at);
	pthread_mutex_unlock(&x->eq_mu);
}

bool
xen_quiesce_take(struct hv_xen *x, uint32_t domid, int *r, char *why, size_t whylen)
{
	struct xen_early_quiesce *e, **slot;

	pthread_mutex_lock(&x->eq_mu);
	if ((slot = xen_quiesce_slot(x, domid)) == NULL) {
		pthread_mutex_unlock(&x->eq_mu);
		return false;
	}
	e = *slot;
	*slot = NULL;
	while (!e->done)
		pthread_cond_wait(&x->eq_cv, &x->eq_mu);
	pthread_mutex_unlock(&x->eq_mu);
	*r = e->r;
	strlcpy_x(why, e->why, whylen);
	free(e);
	return true;
}

/* Before the backend goes: the threads use x. */
void
xen_quiesce_wait_all(struct hv_xen *x)
{
	size_t i;

	pthread_mutex_lock(&x->eq_mu);
	for (i = 0; i < sizeof(x->eq) / sizeof(x->eq[0]); i++) {
		if (x->eq[i] != NULL && x->eq[i]->done)
			free(x->eq[i]);
		else if (x->eq[i] != NULL)
			x->eq[i]->dropped = true;
		x->eq[i] = NULL;
	}
	while (x->eq_running > 0)
		pthread_cond_wait(&x->eq_cv, &x->eq_mu);
	pthread_mutex_unlock(&x->eq_mu);
}

void
xen_quiesce_drop(struct hv_xen *x, uint32_t domid)
{
	struct xen_early_quiesce **slot;

	pthread_mutex_lock(&x->eq_mu);
	if ((slot = xen_quiesce_slot(x, domid)) != NULL) {
		if ((*slot)->done)
			free(*slot);
		else
			(*slot)->dropped = true;	/* the thread frees it */
		*slot = NULL;
	}
	pthread_mutex_unlock(&x->eq_mu);
}

struct xen_images *
xen_images_new(uint32_t domid)
{
	struct xen_images *img = calloc(1, sizeof(*img));

	if (img != NULL)
		img->domid = domid;
	return img;
}

struct xen_images *
xen_images_find(struct xs_handle *xsh, uint32_t domid)
{
	struct xen_images *img = xen_images_new(domid);
	unsigned i, n;
	char **ids;

	if (img == NULL)
		return NULL;
	if ((ids = xen_be_ids(xsh, "vbd", domid, &n)) == NULL && errno != ENOENT) {
		free(img);
		return NULL;
	}
	for (i = 0; ids != NULL && i < n && img->n < XEN_CFG_MAX_VBDS; i++)
		if (xen_vbd_file(xsh, domid, (uint32_t)strtoul(ids[i], NULL, 10),
		    img->path[img->n], sizeof(img->path[0])))
			img->n++;
	free(ids);
	return img;
}

void
xen_images_drop(const struct xen_images *img)
{
	unsigned i;
	int fd;

	/* Pages of an image this host cached before the source last wrote it
	 * would be read back stale through the loop device. */
	for (i = 0; i < img->n; i++) {
		if ((fd = open(img->path[i], O_RDONLY | O_CLOEXEC)) >= 0) {
			(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
			close(fd);
		} else {
			log_warn("domain %u: cannot open %s to drop its cached pages: %s",
			    img->domid, img->path[i], strerror(errno));
		}
	}
}

void
xen_devices_fresh(struct xs_handle *xsh, uint32_t domid)
{
	struct xen_images *img = xen_images_find(xsh, domid);

	if (img == NULL) {
		log_warn("domain %u: cannot list its disks to drop their cached pages: %s",
		    domid, strerror(errno));
		return;
	}
	xen_images_drop(img);
	free(img);
}

#else
typedef int hv_xen_devices_unused;	/* ISO C wants a declaration */
#endif
