/* hv/xen_toolcfg.c - carry, check and use a domain's libxl configuration.
 *
 * The reduction is a copy of listed fields only, not a filter of known bad
 * ones: libxl's schema has many fields that run programs in dom0
 * (bootloader arguments, device-model paths and arguments), and a field a
 * later libxl adds must not slip through.  What is not listed is dropped:
 * libxl uses its defaults for it.
 */
#include "hv/xen_toolcfg.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "devpolicy.h"
#include "hv/xen.h"
#include "hv/xen_dm.h"
#include "util.h"
#include "xerr.h"

static const struct {
	const char *json;	/* libxl's JSON */
	const char *xl;		/* xl.cfg(5) */
} xen_actions[] = {
	[XA_DESTROY] = { "destroy", "destroy" },
	[XA_RESTART] = { "restart", "restart" },
	[XA_RESTART_RENAME] = { "restart_rename", "rename-restart" },
	[XA_PRESERVE] = { "preserve", "preserve" },
	[XA_COREDUMP_DESTROY] = { "coredump_destroy", "coredump-destroy" },
	[XA_COREDUMP_RESTART] = { "coredump_restart", "coredump-restart" },
	[XA_SOFT_RESET] = { "soft_reset", "soft-reset" },
};
#define NACTIONS (sizeof(xen_actions) / sizeof(xen_actions[0]))

static const char *const xen_on_keys[] = { "on_poweroff", "on_reboot", "on_crash",
	"on_watchdog" };

const char *
xen_action_name(enum xen_action a)
{
	return (unsigned)a < NACTIONS ? xen_actions[a].xl : "?";
}

static int
xen_action_parse(const char *s, enum xen_action *a)
{
	size_t i;

	for (i = 0; i < NACTIONS; i++)
		if (strcasecmp(s, xen_actions[i].json) == 0) {
			*a = (enum xen_action)i;
			return 0;
		}
	return -1;
}

static int
bad(char *why, size_t whylen, const char *fmt, const char *what)
{
	snprintf(why, whylen, fmt, what);
	return XMIG_ERR_DENIED;
}

/* Text that can stand between double quotes in an xl configuration file
 * and in a device spec there: printable ASCII without '"' or '\'. */
static bool
xl_text_ok(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s < 0x20 || *s > 0x7e || *s == '"' || *s == '\\')
			return false;
	return true;
}

/* A value of a device spec ("key=value,key=value"): no ',' or '=' either. */
static bool
spec_word_ok(const char *s)
{
	return xl_text_ok(s) && strpbrk(s, ",=") == NULL;
}

static int
copy_int(json_t *dst, const json_t *src, const char *key, json_int_t max)
{
	json_t *v = json_object_get(src, key);

	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max)
		return -1;
	return json_object_set_new(dst, key, json_integer(json_integer_value(v)));
}

static int
copy_str(json_t *dst, const json_t *src, const char *key, bool (*ok)(const char *),
    const char **out)
{
	json_t *v = json_object_get(src, key);

	if (out)
		*out = NULL;
	if (v == NULL)
		return 0;
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v) ||
	    json_string_length(v) > 1024 || (ok && !ok(json_string_value(v))))
		return -1;
	if (out)
		*out = json_string_value(v);
	return json_object_set_new(dst, key, json_string(json_string_value(v)));
}

static bool
path_ok(const char *s)
{
	return dp_path_clean(s, strlen(s)) && xl_text_ok(s);
}

/* The disks and NICs: those the domain has, as carried and already
 * checked against this host's lists (xen_devices_allowed), not the
 * configuration's lists, which keep what was detached since. */
static void
devices_from_cfg(json_t *out, const struct xen_cfg *cfg)
{
	json_t *arr;
	uint32_t i;

	if (cfg->nvbds > 0) {
		arr = json_array();
		json_object_set_new(out, "disks", arr);
		for (i = 0; i < cfg->nvbds; i++) {
			const struct xen_cfg_vbd *v = &cfg->vbds[i];
			json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:i, s:i}", "pdev_path", v->params,
			    "vdev", v->vdev, "backend", "phy", "format", "raw",
			    "readwrite", v->writable ? 1 : 0, "removable", v->removable ? 1 : 0);

			/* file images and devices: libxl picks the block script itself */
			if (o != NULL && strcmp(v->script, "block") != 0)
				json_object_set_new(o, "script", json_string(v->script));
			json_array_append_new(arr, o);
		}
	}
	if (cfg->nvifs > 0) {
		arr = json_array();
		json_object_set_new(out, "nics", arr);
		for (i = 0; i < cfg->nvifs; i++) {
			const struct xen_cfg_vif *v = &cfg->vifs[i];
			unsigned long long bytes;
			unsigned long usecs;
			json_t *o = json_pack("{s:i, s:s, s:s, s:s, s:s}", "devid", (int)v->devid,
			    "mac", v->mac, "bridge", v->bridge, "script", v->script, "nictype", "vif");

			if (o == NULL)
				continue;
			if (v->ip[0] != '\0')
				json_object_set_new(o, "ip", json_string(v->ip));
			if (v->vifname[0] != '\0')
				json_object_set_new(o, "ifname", json_string(v->vifname));
			if (v->mtu > 0)
				json_object_set_new(o, "mtu", json_integer(v->mtu));
			if (sscanf(v->rate, "%llu,%lu", &bytes, &usecs) == 2 && bytes > 0 && usecs > 0) {
				json_object_set_new(o, "rate_bytes_per_interval",
				    json_integer((json_int_t)bytes));
				json_object_set_new(o, "rate_interval_usecs", json_integer((json_int_t)usecs));
			}
			json_array_append_new(arr, o);
		}
	}
}

static int
reduce_b_info(json_t *out, const json_t *in, const char *type, const char *kernels,
    char *why, size_t whylen)
{
	const json_t *b = json_object_get(in, "b_info");
	static const char *const ints[] = { "max_vcpus", "max_memkb", "target_memkb",
		"event_channels", "max_grant_frames", "max_maptrack_frames" };
	json_t *o = json_object(), *av, *v;
	const char *k;
	size_t i;

	json_object_set_new(out, "b_info", o);
	if (!json_is_object(b))
		return bad(why, whylen, "%s", "it has no build information");
	/* libxl reads the domain type of its build information from this
	 * key (and aborts printing a configuration without it); PV and PVH
	 * fields are left to libxl's defaults, an HVM guest's are those its
	 * device model needs (hv/xen_dm.c). */
	if (strcmp(type, "hvm") == 0) {
		int r = xen_dm_reduce(in, o, why, whylen);

		if (r != 0)
			return r;
	} else {
		json_object_set_new(o, strcmp(type, "pv") == 0 ? "type.pv" : "type.pvh",
		    json_object());
	}
	for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
		if (copy_int(o, b, ints[i], 1LL << 50) != 0)
			return bad(why, whylen, "its %s is out of range", ints[i]);
	if ((av = json_object_get(b, "avail_vcpus")) != NULL) {
		json_t *a = json_array();

		json_object_set_new(o, "avail_vcpus", a);
		if (!json_is_array(av) || json_array_size(av) > 4096)
			return bad(why, whylen, "%s", "its avail_vcpus is not a list");
		json_array_foreach(av, i, v) {
			if (!json_is_integer(v) || json_integer_value(v) < 0 ||
			    json_integer_value(v) >= 4096)
				return bad(why, whylen, "%s", "its avail_vcpus is out of range");
			json_array_append_new(a, json_integer(json_integer_value(v)));
		}
	}
	if (copy_str(o, b, "cmdline", xl_text_ok, NULL) != 0)
		return bad(why, whylen, "%s", "its kernel command line has characters xmig does "
		    "not carry");
	for (i = 0; i < 2; i++) {
		const char *key = i == 0 ? "kernel" : "ramdisk";

		if (copy_str(o, b, key, path_ok, &k) != 0)
			return bad(why, whylen, "its %s is not an absolute, clean path", key);
		if (k != NULL && !dp_disk_allowed(kernels, k)) {
			snprintf(why, whylen, "its %s %s is not allowed by domain-kernels-allow on "
			    "this host", key, k);
			return XMIG_ERR_DENIED;
		}
	}
	/* pygrub reads the kernel from the guest's own disk; any other program
	 * would run in dom0 with arguments from the peer. */
	if ((v = json_object_get(b, "bootloader")) != NULL && !json_is_null(v)) {
		const char *bl = json_is_string(v) ? json_string_value(v) : "?";
		const char *slash = strrchr(bl, '/');

		if (strcmp(slash ? slash + 1 : bl, "pygrub") != 0)
			return bad(why, whylen, "its bootloader %s is not pygrub", bl);
		json_object_set_new(o, "bootloader", json_string("pygrub"));
	}
	return 0;
}

int
xen_toolcfg_reduce(const struct xen_cfg *cfg, const char *uuid, const char *kernels, char **out,
    char *why, size_t whylen)
{
	const char *json = cfg->toolcfg, *name = cfg->name;
	json_error_t jerr;
	json_t *in, *res = NULL, *ci, *c, *v;
	const char *s;
	size_t i;
	int r = XMIG_ERR_DENIED;

	*out = NULL;
	if (strlen(json) > XEN_TOOLCFG_MAX)
		return bad(why, whylen, "%s", "it is longer than xmig carries");
	if ((in = json_loads(json, JSON_REJECT_DUPLICATES, &jerr)) == NULL ||
	    !json_is_object(in)) {
		json_decref(in);
		return bad(why, whylen, "%s", "it is not a JSON object");
	}
	res = json_object();
	ci = json_object_get(in, "c_info");
	c = json_object();
	json_object_set_new(res, "c_info", c);
	if (!json_is_object(ci)) {
		bad(why, whylen, "%s", "it has no c_info");
		goto out;
	}
	/* The domain's name, not the file's: xl migrate-receive leaves its
	 * temporary NAME--incoming there. */
	json_object_set_new(c, "name", json_string(name));
	if (copy_str(c, ci, "uuid", NULL, &s) != 0 || s == NULL || strcasecmp(s, uuid) != 0) {
		bad(why, whylen, "its UUID is not %s", uuid);
		goto out;
	}
	if (copy_str(c, ci, "type", NULL, &s) != 0 || s == NULL ||
	    (strcmp(s, "pv") != 0 && strcmp(s, "pvh") != 0 && strcmp(s, "hvm") != 0)) {
		bad(why, whylen, "%s", "it is not a PV, PVH or HVM domain");
		goto out;
	}
	if ((r = reduce_b_info(res, in, s, kernels, why, whylen)) != 0)
		goto out;
	devices_from_cfg(res, cfg);
	r = XMIG_ERR_DENIED;
	for (i = 0; i < sizeof(xen_on_keys) / sizeof(xen_on_keys[0]); i++) {
		enum xen_action a;

		if ((v = json_object_get(in, xen_on_keys[i])) == NULL)
			continue;
		if (!json_is_string(v) || xen_action_parse(json_string_value(v), &a) != 0) {
			bad(why, whylen, "its %s is not an action libxl knows", xen_on_keys[i]);
			goto out;
		}
		json_object_set_new(res, xen_on_keys[i], json_string(xen_actions[a].json));
	}
	if ((*out = json_dumps(res, JSON_INDENT(4) | JSON_PRESERVE_ORDER)) == NULL) {
		r = XMIG_ERR_NOMEM;
		goto out;
	}
	/* The disks and NICs the domain carries, which the configuration's
	 * lists need not match, must suit its device model too. */
	if (strcmp(json_string_value(json_object_get(c, "type")), "hvm") == 0 &&
	    (r = xen_dm_check(*out, why, whylen)) != 0) {
		free(*out);
		*out = NULL;
		goto out;
	}
	r = 0;
out:
	json_decref(in);
	json_decref(res);
	return r;
}

int
xen_toolcfg_lifecycle(const char *json, struct xen_lifecycle *lc)
{
	enum xen_action *slot[] = { &lc->on_poweroff, &lc->on_reboot, &lc->on_crash,
		&lc->on_watchdog };
	json_t *in, *v;
	size_t i;

	lc->on_poweroff = XA_DESTROY;
	lc->on_reboot = XA_RESTART;
	lc->on_crash = XA_DESTROY;
	lc->on_watchdog = XA_DESTROY;
	if ((in = json_loads(json, 0, NULL)) == NULL)
		return XMIG_ERR_INVALID;
	for (i = 0; i < 4; i++)
		if ((v = json_object_get(in, xen_on_keys[i])) != NULL && json_is_string(v))
			(void)xen_action_parse(json_string_value(v), slot[i]);
	json_decref(in);
	return 0;
}

static const char *
jstr(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static bool
jint(const json_t *o, const char *key, json_int_t *out)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		return false;
	*out = json_integer_value(v);
	return true;
}

/* Every string the xl configuration will hold can stand where it goes:
 * between double quotes, and inside a device spec without ',' or '='
 * (a disk's target is last in its spec and may hold ','). */
static bool
xl_safe(const json_t *in)
{
	static const char *const top[] = { "name", "uuid", "type" };
	static const char *const build[] = { "kernel", "ramdisk", "cmdline", "bootloader" };
	static const char *const nic[] = { "bridge", "script", "mac", "ifname", "ip" };
	static const char *const disk[] = { "vdev", "script" };
	const json_t *ci = json_object_get(in, "c_info"), *bi = json_object_get(in, "b_info"), *d;
	const char *s;
	size_t i, k;

	for (k = 0; k < 3; k++)
		if ((s = jstr(ci, top[k])) == NULL || !spec_word_ok(s))
			return false;
	for (k = 0; k < 4; k++)
		if ((s = jstr(bi, build[k])) != NULL && !xl_text_ok(s))
			return false;
	json_array_foreach(json_object_get(in, "nics"), i, d)
		for (k = 0; k < 5; k++)
			if ((s = jstr(d, nic[k])) != NULL ? !spec_word_ok(s) : k < 2)
				return false;
	json_array_foreach(json_object_get(in, "disks"), i, d) {
		for (k = 0; k < 2; k++)
			if ((s = jstr(d, disk[k])) != NULL ? !spec_word_ok(s) : k == 0)
				return false;
		if ((s = jstr(d, "pdev_path")) == NULL || !xl_text_ok(s))
			return false;
	}
	return true;
}

int
xen_toolcfg_to_xl(const char *json, char **text, char *why, size_t whylen)
{
	/* the same names in libxl's build information and in xl.cfg(5) */
	static const char *const strs[] = { "kernel", "ramdisk", "cmdline", "bootloader" };
	char *out = NULL;
	size_t outlen = 0;
	FILE *mem;
	int werr, r;
	bool hvm;
	json_t *in, *ci, *bi, *arr, *d;
	json_int_t n, m;
	const char *s;
	size_t i;

	*text = NULL;
	if ((in = json_loads(json, 0, NULL)) == NULL || !json_is_object(in)) {
		json_decref(in);
		return bad(why, whylen, "%s", "the stored configuration is not JSON");
	}
	ci = json_object_get(in, "c_info");
	bi = json_object_get(in, "b_info");
	if (!xl_safe(in)) {
		json_decref(in);
		return bad(why, whylen, "%s", "the stored configuration cannot be written as an xl "
		    "configuration (a missing name, or a quote, backslash or control character)");
	}
	/* An HVM guest's device model settings (vga, vnc, serial, boot) are
	 * spelled out below and its NICs are PV only (type=vif), or xl would
	 * build another machine (VNC on, cirrus, emulated NICs). */
	hvm = jstr(ci, "type") != NULL && strcmp(jstr(ci, "type"), "hvm") == 0;
	if ((mem = open_memstream(&out, &outlen)) == NULL) {
		json_decref(in);
		return XMIG_ERR_NOMEM;
	}
	fprintf(mem, "# built again by xmigd from the configuration carried with the domain\n");
	fprintf(mem, "name = \"%s\"\nuuid = \"%s\"\ntype = \"%s\"\n", jstr(ci, "name"),
	    jstr(ci, "uuid"), jstr(ci, "type"));
	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		if ((s = jstr(bi, strs[i])) != NULL)
			fprintf(mem, "%s = \"%s\"\n", strs[i], s);
	if (jint(bi, "target_memkb", &n))
		fprintf(mem, "memory = %lld\n", (long long)(n / 1024));
	if (jint(bi, "max_memkb", &n))
		fprintf(mem, "maxmem = %lld\n", (long long)(n / 1024));
	if (jint(bi, "max_vcpus", &n))
		fprintf(mem, "maxvcpus = %lld\n", (long long)n);
	if (json_is_array(json_object_get(bi, "avail_vcpus")))
		fprintf(mem, "vcpus = %zu\n", json_array_size(json_object_get(bi, "avail_vcpus")));
	for (i = 0; i < sizeof(xen_on_keys) / sizeof(xen_on_keys[0]); i++) {
		enum xen_action a;

		if ((s = jstr(in, xen_on_keys[i])) != NULL && xen_action_parse(s, &a) == 0)
			fprintf(mem, "%s = \"%s\"\n", xen_on_keys[i], xen_actions[a].xl);
	}
	if (json_is_array(arr = json_object_get(in, "nics")) && json_array_size(arr) > 0) {
		fprintf(mem, "vif = [");
		json_array_foreach(arr, i, d) {
			fprintf(mem, "%s \"bridge=%s,script=%s", i ? "," : "", jstr(d, "bridge"),
			    jstr(d, "script"));
			if ((s = jstr(d, "mac")) != NULL)
				fprintf(mem, ",mac=%s", s);
			if ((s = jstr(d, "ifname")) != NULL)
				fprintf(mem, ",vifname=%s", s);
			if ((s = jstr(d, "ip")) != NULL && spec_word_ok(s))
				fprintf(mem, ",ip=%s", s);
			if (jint(d, "mtu", &n) && n > 0)
				fprintf(mem, ",mtu=%lld", (long long)n);
			if (jint(d, "devid", &n))
				fprintf(mem, ",devid=%lld", (long long)n);
			if (jint(d, "rate_bytes_per_interval", &n) && n > 0 &&
			    jint(d, "rate_interval_usecs", &m) && m > 0)
				fprintf(mem, ",rate=%lldB/s@%lldus",
				    (long long)(n * 1000000 / m), (long long)m);
			fprintf(mem, "%s\"", hvm ? ",type=vif" : "");
		}
		fprintf(mem, " ]\n");
	}
	if (json_is_array(arr = json_object_get(in, "disks")) && json_array_size(arr) > 0) {
		fprintf(mem, "disk = [");
		json_array_foreach(arr, i, d) {
			fprintf(mem, "%s \"format=raw,backendtype=phy,vdev=%s,access=%s", i ? "," : "",
			    jstr(d, "vdev"), jint(d, "readwrite", &n) && n == 0 ? "ro" : "rw");
			if ((s = jstr(d, "script")) != NULL)
				fprintf(mem, ",script=%s", s);
			fprintf(mem, ",target=%s\"", jstr(d, "pdev_path"));
		}
		fprintf(mem, " ]\n");
	}
	json_decref(in);
	if (hvm && (r = xen_dm_xl_lines(json, mem, why, whylen)) != 0) {
		fclose(mem);
		free(out);
		return r;
	}
	werr = ferror(mem);
	if (fclose(mem) != 0 || werr != 0) {
		free(out);
		return XMIG_ERR_NOMEM;
	}
	*text = out;
	return 0;
}
