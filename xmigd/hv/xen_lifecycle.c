/* hv/xen_lifecycle.c - a migrated domain lives on: its configuration and
 * what happens when it reboots, crashes or powers off.
 *
 * xl keeps each domain's libxl configuration as a userdata file and an xl
 * process that watches the domain and follows its on_poweroff, on_reboot,
 * on_crash and on_watchdog.  A domain xmigd restored has no such process,
 * so the sender carries the file (xen_toolcfg_read), the receiver writes
 * a reduced copy for the new domain id (xen_toolcfg_install: `xl list -l`,
 * `xl save`, `xl migrate` then work), and xmigd's watcher does what the
 * configuration says when the guest stops (xen_lifecycle_handle).  A
 * restart is `xl create` of an xl configuration derived from the reduced
 * copy (hv/xen_toolcfg.c): the new domain is then an ordinary xl domain,
 * with its own xl process, the same name, UUID and devices.
 */
#ifdef HAVE_XEN

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hv/xen_int.h"
#include "log.h"
#include "util.h"
#include "xerr.h"

#define XEN_LIB_DIR "/var/lib/xen"
#define XEN_DUMP_DIR "/var/lib/xen/dump"
#define XL_CREATE_TIMEOUT_MS 120000u

static void
userdata_path(char *p, size_t n, uint32_t domid, const uint8_t uuid[16])
{
	char u[37];

	uuid_format(uuid, u);
	snprintf(p, n, XEN_LIB_DIR "/userdata-d.%u.%s.libxl-json", domid, u);
}

static void
state_path(const struct hv_xen *x, char *p, size_t n, const uint8_t uuid[16])
{
	char u[37];

	uuid_format(uuid, u);
	snprintf(p, n, "%s/xen-config/%s.libxl-json", x->state_dir, u);
}

/* At most max bytes of a file, NUL-terminated; XMIG_ERR_TOO_LONG beyond.
 * libxl stores its JSON with the terminating NUL: one at the end is
 * dropped, any other is XMIG_ERR_INVALID. */
static int
read_small(const char *path, char *buf, size_t max, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	size_t used = 0;
	ssize_t k;

	*len = 0;
	if (fd < 0)
		return errno == ENOENT ? XMIG_ERR_NOT_FOUND : XMIG_ERR_SYSTEM;
	while ((k = read(fd, buf + used, max + 1 - used)) > 0 && used + (size_t)k <= max)
		used += (size_t)k;
	close(fd);
	if (k > 0)
		return XMIG_ERR_TOO_LONG;
	if (k < 0)
		return XMIG_ERR_SYSTEM;
	if (used > 0 && buf[used - 1] == '\0')
		used--;
	buf[used] = '\0';
	*len = used;
	return strlen(buf) == used ? 0 : XMIG_ERR_INVALID;
}

int
xen_toolcfg_read(uint32_t domid, const uint8_t uuid[16], struct xen_cfg *cfg)
{
	char p[256];
	size_t n = 0;
	int r;

	userdata_path(p, sizeof(p), domid, uuid);
	r = read_small(p, cfg->toolcfg, XEN_TOOLCFG_MAX, &n);
	cfg->toolcfg_len = r == 0 ? (uint32_t)n : 0;
	if (r != 0)
		cfg->toolcfg[0] = '\0';
	return r;
}

static int
reduce(struct hv_xen *x, const struct xen_cfg *cfg, char **out, char *why, size_t whylen)
{
	char u[37], w[256];
	int r;

	uuid_format(cfg->uuid, u);
	if ((r = xen_toolcfg_reduce(cfg, u, x->kernels_allow, out, w, sizeof(w))) != 0)
		snprintf(why, whylen, "its libxl configuration cannot be used here: %s", w);
	return r;
}

int
xen_toolcfg_reduced(struct hv_xen *x, const struct xen_cfg *cfg, char **out, char *why,
    size_t whylen)
{
	*out = NULL;
	if (cfg->toolcfg_len == 0) {
		snprintf(why, whylen, "it came without its libxl configuration");
		return XMIG_ERR_INVALID;
	}
	return reduce(x, cfg, out, why, whylen);
}

int
xen_toolcfg_check(struct hv_xen *x, const struct xen_cfg *cfg, char *why, size_t whylen)
{
	char *out = NULL;
	int r;

	if (cfg->toolcfg_len == 0)
		return 0;
	r = reduce(x, cfg, &out, why, whylen);
	free(out);
	return r;
}

int
xen_toolcfg_install(struct hv_xen *x, uint32_t domid, const struct xen_cfg *cfg, char *why,
    size_t whylen)
{
	char p[1200], *out = NULL;
	int r;

	if (cfg->toolcfg_len == 0)
		return 0;
	if ((r = reduce(x, cfg, &out, why, whylen)) != 0)
		return r;
	/* with its NUL, as libxl__userdata_store writes it */
	userdata_path(p, sizeof(p), domid, cfg->uuid);
	if (write_file_atomic_bytes(p, out, strlen(out) + 1) != 0) {
		snprintf(why, whylen, "cannot write %s: %s", p, strerror(errno));
		free(out);
		return XMIG_ERR_SYSTEM;
	}
	/* The copy that outlives a wiped /var/lib/xen (and tells the watcher
	 * what to do should the userdata file be gone). */
	snprintf(p, sizeof(p), "%s/xen-config", x->state_dir);
	if (mkdir_p(p, 0700) == 0) {
		state_path(x, p, sizeof(p), cfg->uuid);
		if (write_file_atomic(p, out) != 0)
			log_warn("cannot write %s: %s", p, strerror(errno));
	}
	free(out);
	return 0;
}

void
xen_toolcfg_forget(struct hv_xen *x, const uint8_t uuid[16])
{
	char p[1200];

	state_path(x, p, sizeof(p), uuid);
	(void)unlink(p);
}

/* xl as Debian installs it (a wrapper in /usr/sbin, the real one under
 * /usr/lib/xen-VERSION/bin), else the first on PATH. */
static int
find_xl(char *path, size_t n)
{
	glob_t g;
	int found = 0;

	if (access("/usr/sbin/xl", X_OK) == 0) {
		snprintf(path, n, "/usr/sbin/xl");
		return 0;
	}
	if (glob("/usr/lib/xen-*/bin/xl", 0, NULL, &g) == 0) {
		if (g.gl_pathc > 0 && access(g.gl_pathv[g.gl_pathc - 1], X_OK) == 0) {
			snprintf(path, n, "%s", g.gl_pathv[g.gl_pathc - 1]);
			found = 1;
		}
		globfree(&g);
	}
	return found ? 0 : XMIG_ERR_NOT_FOUND;
}

/* xl create FILE: the domain built again, handed to an xl process. */
static int
xl_create(struct hv_xen *x, const char *name, const uint8_t uuid[16], const char *text)
{
	char cfgpath[1200], xl[256], out[2048], why[300];
	char *argv[] = { xl, "create", cfgpath, NULL };
	char *envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C", NULL };
	char u[37];
	int status = 0, r;

	if (find_xl(xl, sizeof(xl)) != 0) {
		log_error("%s cannot be built again: no xl found (/usr/sbin/xl, "
		    "/usr/lib/xen-*/bin/xl)", name);
		return XMIG_ERR_NOT_FOUND;
	}
	uuid_format(uuid, u);
	snprintf(cfgpath, sizeof(cfgpath), "%s/xen-config/%s.cfg", x->state_dir, u);
	if (write_file_atomic(cfgpath, text) != 0) {
		log_error("%s cannot be built again: cannot write %s: %s", name, cfgpath,
		    strerror(errno));
		return XMIG_ERR_SYSTEM;
	}
	r = xen_spawn(xl, argv, envp, XL_CREATE_TIMEOUT_MS, out, sizeof(out), &status, why,
	    sizeof(why));
	(void)unlink(cfgpath);
	if (r == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		log_info("%s built again by xl create from its carried configuration", name);
		return 0;
	}
	/* xl's own last line says why */
	{
		char *nl, *last = out;

		while ((nl = strchr(last, '\n')) != NULL && nl[1] != '\0')
			last = nl + 1;
		if ((nl = strchr(last, '\n')) != NULL)
			*nl = '\0';
		log_error("%s could not be built again: %s", name, r != 0 ? why :
		    last[0] ? last : "xl create failed");
	}
	return XMIG_ERR_BACKEND;
}

static void
dump_core(struct hv_xen *x, uint32_t domid, const char *name)
{
	char p[512];
	int r;

	if (mkdir_p(XEN_DUMP_DIR, 0700) != 0) {
		log_error("domain %u: cannot create %s: %s", domid, XEN_DUMP_DIR, strerror(errno));
		return;
	}
	snprintf(p, sizeof(p), XEN_DUMP_DIR "/%s", name);
	pthread_mutex_lock(&x->lock);
	r = xc_domain_dumpcore(x->h.xch, domid, p);
	pthread_mutex_unlock(&x->lock);
	if (r != 0)
		log_error("domain %u: core dump to %s failed: %s", domid, p, strerror(errno));
	else
		log_info("domain %u: core dumped to %s", domid, p);
}

/* The xl configuration to build the domain again from: the stored one
 * (libxl may have changed it since: xl network-attach, block-detach...)
 * reduced once more, with the disks and NICs the domain has now, as xl's
 * own restart takes them from xenstore (caller frees). */
static char *
restart_config(struct hv_xen *x, uint32_t domid, const char *name, const uint8_t uuid[16],
    const char *json, char *why, size_t whylen)
{
	struct xen_cfg *cfg = calloc(1, sizeof(*cfg));
	char *reduced = NULL, *text = NULL, u[37];
	int r;

	if (cfg == NULL) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	strlcpy_x(cfg->name, name ? name : "", sizeof(cfg->name));
	strlcpy_x(cfg->toolcfg, json, sizeof(cfg->toolcfg));
	cfg->toolcfg_len = (uint32_t)strlen(cfg->toolcfg);
	uuid_format(uuid, u);
	pthread_mutex_lock(&x->lock);
	r = xen_read_devices(x->h.xsh, domid, cfg);
	pthread_mutex_unlock(&x->lock);
	if (r != 0)
		snprintf(why, whylen, "it has a device xmig does not carry");
	else if (xen_toolcfg_reduce(cfg, u, x->kernels_allow, &reduced, why, whylen) == 0)
		(void)xen_toolcfg_to_xl(reduced, &text, why, whylen);
	free(reduced);
	free(cfg);
	return text;
}

/* rename-restart keeps the stopped domain as NAME-<UTC time> with a new
 * UUID (xl's preserve_domain), marked so that the watcher leaves it. */
static int
preserve_renamed(struct hv_xen *x, uint32_t domid, const char *name)
{
	char stamp[24], newname[HV_NAME_MAX + 24];
	uint8_t uuid[16];
	time_t now = time(NULL);
	struct tm tm;
	bool named;
	int r;

	named = gmtime_r(&now, &tm) != NULL &&
	    strftime(stamp, sizeof(stamp), "-%Y%m%dT%H%MZ", &tm) != 0 && uuid_random(uuid) == 0;
	if (named)
		snprintf(newname, sizeof(newname), "%s%s", name, stamp);
	pthread_mutex_lock(&x->lock);
	r = named ? xen_xs_preserve_renamed(x->h.xsh, domid, newname, uuid) : XMIG_ERR_SYSTEM;
	xen_xs_mark_preserved(x->h.xsh, domid);	/* either way: left for the operator */
	pthread_mutex_unlock(&x->lock);
	if (!named)
		log_error("domain %u: rename-restart: no time or no random UUID; it is left "
		    "as it is", domid);
	else if (r != 0)
		log_error("domain %u: rename-restart: cannot rename it to %s; it is left as it is",
		    domid, newname);
	else
		log_info("domain %u: rename-restart: kept as %s", domid, newname);
	return r;
}

static const char *
reason_name(int reason)
{
	switch (reason) {
	case SHUTDOWN_poweroff: return "powered off";
	case SHUTDOWN_reboot: return "asked to reboot";
	case SHUTDOWN_crash: return "crashed";
	case SHUTDOWN_watchdog: return "was stopped by its watchdog";
	default: return "shut down";
	}
}

void
xen_lifecycle_handle(struct hv_xen *x, uint32_t domid, int reason)
{
	char p[1200], *json = NULL, *text = NULL, *name = NULL, why[300];
	struct xen_lifecycle lc;
	enum xen_action a;
	xc_domaininfo_t di;
	uint8_t uuid[16];
	size_t n;
	bool have;

	pthread_mutex_lock(&x->lock);
	if (xen_getinfo(x->h.xch, domid, &di) != 0) {
		pthread_mutex_unlock(&x->lock);
		return;
	}
	memcpy(uuid, di.handle, 16);
	name = xen_xs_read(x->h.xsh, XBT_NULL, "/local/domain/%u/name", domid);
	pthread_mutex_unlock(&x->lock);
	if ((json = malloc(XEN_TOOLCFG_MAX + 1)) == NULL)
		goto out;
	/* What xmigd wrote when it restored the domain: the userdata file,
	 * else the copy under state-dir. */
	userdata_path(p, sizeof(p), domid, uuid);
	have = read_small(p, json, XEN_TOOLCFG_MAX, &n) == 0;
	if (!have) {
		state_path(x, p, sizeof(p), uuid);
		have = read_small(p, json, XEN_TOOLCFG_MAX, &n) == 0;
	}
	if (!have || xen_toolcfg_lifecycle(json, &lc) != 0)
		lc.on_poweroff = lc.on_reboot = lc.on_crash = lc.on_watchdog = XA_DESTROY;
	a = reason == SHUTDOWN_poweroff ? lc.on_poweroff : reason == SHUTDOWN_reboot ?
	    lc.on_reboot : reason == SHUTDOWN_crash ? lc.on_crash :
	    reason == SHUTDOWN_watchdog ? lc.on_watchdog : XA_DESTROY;
	log_info("domain %u (%s) %s; %s%s", domid, name ? name : "?", reason_name(reason),
	    have ? "its configuration says " : "it has no carried configuration: ",
	    xen_action_name(a));
	if (a == XA_PRESERVE) {
		pthread_mutex_lock(&x->lock);
		xen_xs_mark_preserved(x->h.xsh, domid);
		pthread_mutex_unlock(&x->lock);
		goto out;
	}
	if (a == XA_COREDUMP_DESTROY || a == XA_COREDUMP_RESTART)
		dump_core(x, domid, name ? name : "unnamed");
	if ((a == XA_RESTART || a == XA_RESTART_RENAME || a == XA_COREDUMP_RESTART) &&
	    (text = restart_config(x, domid, name, uuid, json, why, sizeof(why))) == NULL)
		log_error("domain %u cannot be built again: %s", domid, why);
	if (a == XA_RESTART_RENAME && text != NULL) {
		/* As xl: the stopped domain stays, renamed, for the operator. */
		if (preserve_renamed(x, domid, name ? name : "unnamed") != 0) {
			free(text);
			text = NULL;	/* as xl, which then leaves the old domain */
			goto out;
		}
	} else {
		(void)xen_destroy_domain(x, domid);
	}
	if (text != NULL)
		(void)xl_create(x, name ? name : "?", uuid, text);
out:
	free(json);
	free(text);
	free(name);
}

#else
typedef int hv_xen_lifecycle_unused;	/* ISO C wants a declaration */
#endif
