/* test_hv_xen.c - the Xen backend's configuration blob (no Xen needed):
 * round trip, and every kind of hostile or truncated input refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "devpolicy.h"
#include "hv/xen.h"
#include "xbuf.h"
#include "xerr.h"
#ifdef HAVE_XEN
#include <signal.h>

#include "hv/xen_int.h"
#endif

static void
sample(struct xen_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->type = HV_TYPE_PVH;
	strcpy(c->name, "domu");
	memset(c->uuid, 0xab, 16);
	c->max_vcpus = 2;
	c->online[0] = 0x3;
	c->max_memkb = 99328;
	c->target_kb = 98304;
	c->static_max_kb = 98304;
	c->cdf_flags = 3;
	c->emulation_flags = 1;
	c->paging_pool = 1441792;
	c->timer_mode = 1;
	c->console_limit = 1048576;
	c->nvifs = 1;
	c->vifs[0].devid = 0;
	strcpy(c->vifs[0].mac, "00:16:3e:01:02:03");
	strcpy(c->vifs[0].bridge, "xenbr0");
	strcpy(c->vifs[0].script, "vif-bridge");
	strcpy(c->vifs[0].ip, "10.0.0.5 fe80::1");
	strcpy(c->vifs[0].rate, "12500000,50000");
	c->vifs[0].mtu = 1500;
	c->vifs[0].trusted = 1;
	c->nvbds = 2;
	c->vbds[0].devid = 51728;
	strcpy(c->vbds[0].vdev, "xvdb");
	strcpy(c->vbds[0].params, "/dev/disk/by-id/wwn-0x5000c500a1b2c3d4");
	strcpy(c->vbds[0].script, "block");
	c->vbds[0].writable = 1;
	c->vbds[0].trusted = 1;
	c->vbds[0].discard = XEN_CFG_DISCARD_UNSET;
	c->vbds[1].devid = 51744;
	strcpy(c->vbds[1].vdev, "xvdc");
	strcpy(c->vbds[1].params, "iqn.2026-01.com.example:lun1,192.0.2.7");
	strcpy(c->vbds[1].script, "block-iscsi");
	c->vbds[1].discard = 1;
}

static void
test_round_trip(void **state)
{
	struct xen_cfg in, out;
	void *blob = NULL;
	size_t len = 0;
	char why[256] = "";

	(void)state;
	sample(&in);
	assert_int_equal(xen_cfg_encode(&in, &blob, &len), 0);
	assert_true(len > 0 && len < 4096);
	assert_int_equal(xen_cfg_decode(blob, len, &out, why, sizeof(why)), 0);
	assert_memory_equal(&in, &out, sizeof(in));
	free(blob);
}

/* A guest without devices is described in version 1, which xmigds from
 * before devices were carried read; a version 1 description with a vif
 * (all such an xmigd sent) reads as vif-bridge. */
static void
test_deviceless_guest_speaks_version_1(void **state)
{
	struct xen_cfg in, out;
	void *blob = NULL;
	size_t len = 0;
	char why[256] = "";

	(void)state;
	sample(&in);
	in.nvifs = 0;
	in.nvbds = 0;
	memset(in.vifs, 0, sizeof(in.vifs));
	memset(in.vbds, 0, sizeof(in.vbds));
	assert_int_equal(xen_cfg_encode(&in, &blob, &len), 0);
	assert_int_equal(((uint8_t *)blob)[5], XEN_CFG_VERSION_MIN);
	assert_int_equal(xen_cfg_decode(blob, len, &out, why, sizeof(why)), 0);
	assert_memory_equal(&in, &out, sizeof(in));
	free(blob);
	sample(&in);
	in.nvbds = 0;
	assert_int_equal(xen_cfg_encode(&in, &blob, &len), 0);
	assert_int_equal(((uint8_t *)blob)[5], XEN_CFG_VERSION_DEVICES);
	free(blob);
}

/* xl's configuration travels in version 3, byte for byte; a NUL inside it
 * or a length over the bound is refused. */
static void
test_toolstack_configuration_round_trips(void **state)
{
	static struct xen_cfg in, out;
	void *blob = NULL;
	size_t len = 0;
	char why[256] = "";
	uint8_t *p;

	(void)state;
	sample(&in);
	strcpy(in.toolcfg, "{ \"c_info\": { \"name\": \"vm1\" } }");
	in.toolcfg_len = (uint32_t)strlen(in.toolcfg);
	assert_int_equal(xen_cfg_encode(&in, &blob, &len), 0);
	assert_int_equal(((uint8_t *)blob)[5], XEN_CFG_VERSION);
	assert_int_equal(xen_cfg_decode(blob, len, &out, why, sizeof(why)), 0);
	assert_memory_equal(&in, &out, sizeof(in));
	/* the JSON is the blob's tail: a NUL in it */
	p = (uint8_t *)blob + len - 3;
	*p = 0;
	assert_int_equal(xen_cfg_decode(blob, len, &out, why, sizeof(why)), XMIG_ERR_INVALID);
	assert_non_null(strstr(why, "NUL"));
	/* a length over the bound, before the bytes */
	p = (uint8_t *)blob + len - in.toolcfg_len - 4;
	p[0] = 0x7f;
	assert_int_equal(xen_cfg_decode(blob, len, &out, why, sizeof(why)), XMIG_ERR_INVALID);
	assert_non_null(strstr(why, "too long"));
	free(blob);
	in.toolcfg_len = XEN_TOOLCFG_MAX + 1;
	assert_int_equal(xen_cfg_encode(&in, &blob, &len), XMIG_ERR_TOO_LONG);
}

/* Every strict prefix is refused, never read past. */
static void
test_every_truncation_is_refused(void **state)
{
	struct xen_cfg in, out;
	void *blob = NULL;
	size_t len = 0, n;
	char why[256];

	(void)state;
	sample(&in);
	assert_int_equal(xen_cfg_encode(&in, &blob, &len), 0);
	for (n = 0; n < len; n++) {
		uint8_t *copy = malloc(n ? n : 1);

		assert_non_null(copy);
		memcpy(copy, blob, n);
		assert_int_not_equal(xen_cfg_decode(copy, n, &out, why, sizeof(why)), 0);
		free(copy);
	}
	free(blob);
}

static void
test_trailing_bytes_are_refused(void **state)
{
	struct xen_cfg in, out;
	void *blob = NULL;
	uint8_t *big;
	size_t len = 0;
	char why[256];

	(void)state;
	sample(&in);
	assert_int_equal(xen_cfg_encode(&in, &blob, &len), 0);
	big = calloc(1, len + 1);
	assert_non_null(big);
	memcpy(big, blob, len);
	assert_int_equal(xen_cfg_decode(big, len + 1, &out, why, sizeof(why)), XMIG_ERR_INVALID);
	assert_non_null(strstr(why, "trailing"));
	free(big);
	free(blob);
}

/* Encode a mutated config bypassing encode's checks where needed. */
static int
decode_mutated(void (*mutate)(struct xen_cfg *), char *why, size_t whylen)
{
	struct xen_cfg c, out;
	void *blob = NULL;
	size_t len = 0;
	int r;

	sample(&c);
	mutate(&c);
	if ((r = xen_cfg_encode(&c, &blob, &len)) != 0)
		return r;
	r = xen_cfg_decode(blob, len, &out, why, whylen);
	free(blob);
	return r;
}

static void m_type(struct xen_cfg *c) { c->type = HV_TYPE_SIM; }
static void m_bridge_slash(struct xen_cfg *c) { strcpy(c->vifs[0].bridge, "../etc"); }
static void m_bridge_dotdot(struct xen_cfg *c) { strcpy(c->vifs[0].bridge, ".."); }
static void m_mac(struct xen_cfg *c) { strcpy(c->vifs[0].mac, "00:16:3e:01:02:0g"); }
static void m_target_over_max(struct xen_cfg *c) { c->target_kb = c->max_memkb + 1; }
static void m_huge(struct xen_cfg *c) { c->max_memkb = XEN_CFG_MAX_KB + 1; }
static void m_zero_target(struct xen_cfg *c) { c->target_kb = 0; }
static void m_no_online(struct xen_cfg *c) { c->online[0] = 0; }
static void m_online_beyond(struct xen_cfg *c) { c->online[0] = 0x7; }
static void m_pool(struct xen_cfg *c) { c->paging_pool = (c->max_memkb + 1) * 1024; }
static void m_params_dotdot(struct xen_cfg *c) { strcpy(c->vbds[0].params, "/dev/../etc/shadow"); }
static void m_params_space(struct xen_cfg *c) { strcpy(c->vbds[0].params, "/dev/sda; rm"); }
static void m_params_empty(struct xen_cfg *c) { c->vbds[0].params[0] = '\0'; }
static void m_vdev_slash(struct xen_cfg *c) { strcpy(c->vbds[0].vdev, "../x"); }
static void m_vbd_script_path(struct xen_cfg *c) { strcpy(c->vbds[0].script, "/tmp/evil"); }
static void m_vif_script_dot(struct xen_cfg *c) { strcpy(c->vifs[0].script, ".hidden"); }
static void m_vbd_dup(struct xen_cfg *c) { c->vbds[1].devid = c->vbds[0].devid; }
static void m_vbd_dup_vdev(struct xen_cfg *c) { strcpy(c->vbds[1].vdev, c->vbds[0].vdev); }
static void m_vbd_flag(struct xen_cfg *c) { c->vbds[0].writable = 2; }
static void m_vif_ip(struct xen_cfg *c) { strcpy(c->vifs[0].ip, "10.0.0.1;reboot"); }
static void m_vif_rate(struct xen_cfg *c) { strcpy(c->vifs[0].rate, "1e9"); }
static void m_vif_mtu(struct xen_cfg *c) { c->vifs[0].mtu = 70000; }
static void m_vif_name(struct xen_cfg *c) { strcpy(c->vifs[0].vifname, "a/b"); }

static void
test_hostile_values_are_refused(void **state)
{
	void (*m[])(struct xen_cfg *) = { m_params_dotdot, m_params_space, m_params_empty,
		m_vdev_slash, m_vbd_script_path, m_vif_script_dot, m_vbd_dup, m_vbd_dup_vdev,
		m_vbd_flag, m_vif_ip, m_vif_rate, m_vif_mtu, m_vif_name,
		m_type, m_bridge_slash, m_bridge_dotdot, m_mac,
		m_target_over_max, m_huge, m_zero_target, m_no_online, m_online_beyond, m_pool };
	char why[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		why[0] = '\0';
		assert_int_not_equal(decode_mutated(m[i], why, sizeof(why)), 0);
		assert_non_null(strstr(why, "malformed"));
	}
}

static void
test_bad_magic_and_version(void **state)
{
	struct xen_cfg in, out;
	void *blob = NULL;
	size_t len = 0;
	char why[256];
	uint8_t *p;

	(void)state;
	sample(&in);
	assert_int_equal(xen_cfg_encode(&in, &blob, &len), 0);
	p = blob;
	p[0] ^= 0xff;
	assert_int_equal(xen_cfg_decode(blob, len, &out, why, sizeof(why)), XMIG_ERR_INVALID);
	assert_non_null(strstr(why, "not from a Xen host"));
	p[0] ^= 0xff;
	p[5] = 99;	/* version, low byte */
	assert_int_equal(xen_cfg_decode(blob, len, &out, why, sizeof(why)), XMIG_ERR_VERSION);
	free(blob);
}

static void
test_vcpu_limits(void **state)
{
	struct xen_cfg c;
	void *blob = NULL;
	size_t len = 0;
	uint8_t buf[64];
	struct xbuf b;
	struct xen_cfg out;
	char why[256];

	(void)state;
	sample(&c);
	c.max_vcpus = 0;
	assert_int_not_equal(xen_cfg_encode(&c, &blob, &len), 0);
	c.max_vcpus = XEN_CFG_MAX_VCPUS + 1;
	assert_int_not_equal(xen_cfg_encode(&c, &blob, &len), 0);
	assert_null(blob);
	/* A decoder must not trust a huge count to size its read. */
	xbuf_writer(&b, buf, sizeof(buf));
	xbuf_put_u32(&b, XEN_CFG_MAGIC);
	xbuf_put_u16(&b, XEN_CFG_VERSION);
	xbuf_put_u8(&b, HV_TYPE_PV);
	xbuf_put_str(&b, "x");
	xbuf_put_bytes(&b, c.uuid, 16);
	xbuf_put_u32(&b, 0xffffffffu);
	assert_int_equal(b.err, 0);
	assert_int_equal(xen_cfg_decode(buf, b.len, &out, why, sizeof(why)), XMIG_ERR_INVALID);
	assert_non_null(strstr(why, "vCPU"));
}

static void
test_name_checks(void **state)
{
	(void)state;
	assert_true(xen_cfg_ifname_ok("xenbr0"));
	assert_true(xen_cfg_ifname_ok("br-lab_1.2"));
	assert_false(xen_cfg_ifname_ok(""));
	assert_false(xen_cfg_ifname_ok("."));
	assert_false(xen_cfg_ifname_ok("a/b"));
	assert_false(xen_cfg_ifname_ok("0123456789abcdef"));
	assert_true(xen_cfg_mac_ok("00:16:3E:aa:bb:cc"));
	assert_false(xen_cfg_mac_ok("00:16:3e:aa:bb"));
	assert_false(xen_cfg_mac_ok("00-16-3e-aa-bb-cc"));
}

/* ---- the device preflight ---- */

static void
collect(const char *line, void *arg)
{
	unsigned *n = arg;

	(void)line;
	(*n)++;
}

/* A console-only guest (the primary console's backend) moves. */
static void
test_devices_primary_console_is_carried(void **state)
{
	struct xen_dev d[1] = { { "console", 0, 0, "" } };
	char why[512] = "x";
	unsigned lines = 0;

	assert_int_equal(xen_devices_check(d, 1, false, why, sizeof(why), collect, &lines), 0);
	assert_int_equal(lines, 0);
	assert_string_equal(why, "");
	assert_int_equal(xen_devices_check(NULL, 0, false, why, sizeof(why), NULL, NULL), 0);
}

/* Each device not carried is named with kind, devid and why, one line each;
 * a secondary console, a device of a driver domain and an unknown kind are
 * refused too: nothing is ever dropped silently. */
static void
test_devices_every_other_device_is_refused_by_name(void **state)
{
	struct xen_dev d[] = {
		{ "console", 0, 0, "" }, { "vbd", 51712, 0, "a qdisk disk backend is not carried" },
		{ "vif", 0, 0, "hotplug script vif-route is not carried" }, { "vfb", 0, 0, "" },
		{ "console", 1, 0, "" }, { "vif", 1, 3, "" }, { "frobnicator", 7, 0, "" },
		{ "vif", 2, 0, "" }, { "vbd", 51728, 0, "" },
	};
	char why[2048];
	unsigned lines = 0;

	assert_int_equal(xen_devices_check(d, sizeof(d) / sizeof(d[0]), false, why, sizeof(why),
	    collect, &lines), XMIG_ERR_UNSUPPORTED);
	assert_int_equal(lines, 6);
	assert_non_null(strstr(why, "vbd 51712: a qdisk disk backend is not carried"));
	assert_non_null(strstr(why, "; vif 0: hotplug script vif-route is not carried"));
	/* a vif and a vbd of dom0's with nothing against them are carried */
	assert_null(strstr(why, "vif 2"));
	assert_null(strstr(why, "vbd 51728"));
	assert_non_null(strstr(why, "vfb 0: a framebuffer needs a device model; not supported"));
	assert_non_null(strstr(why, "console 1: secondary consoles"));
	assert_non_null(strstr(why, "vif 1: its backend runs in a driver domain"));
	assert_non_null(strstr(why, "frobnicator 7: unknown device kind; not supported"));
	assert_null(strstr(why, "console 0"));
}

/* More devices than the walk holds is a refusal, not a partial check; a
 * short buffer cuts the text, never the verdict. */
static void
test_devices_overflow_and_short_buffer_still_refuse(void **state)
{
	struct xen_dev d[1] = { { "console", 0, 0, "" } },
	    v[1] = { { "vbd", 768, 0, "CD-ROM drives are not carried" } };
	char why[16];

	assert_int_equal(xen_devices_check(d, 1, true, why, sizeof(why), NULL, NULL),
	    XMIG_ERR_UNSUPPORTED);
	assert_int_equal(xen_devices_check(v, 1, false, why, sizeof(why), NULL, NULL),
	    XMIG_ERR_UNSUPPORTED);
	assert_int_equal(strlen(why), sizeof(why) - 1);
}

/* ---- the receiver's lists ---- */

/* Every bridge, disk and script of the guest must be on this host's lists;
 * the refusal names the device and the key to change. */
static void
test_devices_allowed_only_by_this_hosts_lists(void **state)
{
	struct xen_cfg c;
	char why[512];
	const char *br = "xenbr0 br1", *sc = "vif-bridge block block-iscsi";
	const char *dk = "/dev/disk/by-id/ iqn.2026-01.com.example:lun1,192.0.2.7";

	(void)state;
	sample(&c);
	assert_int_equal(xen_devices_allowed(&c, br, dk, sc, why, sizeof(why)), 0);
	assert_int_equal(xen_devices_allowed(&c, "br1", dk, sc, why, sizeof(why)),
	    XMIG_ERR_DENIED);
	assert_non_null(strstr(why, "vif 0 (00:16:3e:01:02:03): bridge xenbr0 is not in "
	    "device-bridges-allow"));
	assert_int_equal(xen_devices_allowed(&c, br, dk, "vif-bridge block", why, sizeof(why)),
	    XMIG_ERR_DENIED);
	assert_non_null(strstr(why, "vbd 51744 (xvdc): hotplug script block-iscsi is not in "
	    "device-scripts-allow"));
	assert_int_equal(xen_devices_allowed(&c, br, "/dev/disk/by-id", sc, why, sizeof(why)),
	    XMIG_ERR_DENIED);
	assert_non_null(strstr(why, "vbd 51728 (xvdb): /dev/disk/by-id/wwn-0x5000c500a1b2c3d4 "
	    "is not allowed by device-disks-allow"));
	/* an empty list allows nothing */
	assert_int_equal(xen_devices_allowed(&c, "", dk, sc, why, sizeof(why)), XMIG_ERR_DENIED);
	assert_int_equal(xen_devices_allowed(&c, br, "", sc, why, sizeof(why)), XMIG_ERR_DENIED);
	assert_int_equal(xen_devices_allowed(&c, br, dk, "", why, sizeof(why)), XMIG_ERR_DENIED);
}

/* Shapes: nothing that could climb out of a directory or split a word. */
static void
test_devpolicy_shapes_and_prefixes(void **state)
{
	(void)state;
	assert_true(dp_path_clean("/dev/vda", 8));
	assert_true(dp_path_clean("/srv/xen/", 9));
	assert_false(dp_path_clean("dev/vda", 7));
	assert_false(dp_path_clean("/srv//x", 7));
	assert_false(dp_path_clean("/srv/./x", 8));
	assert_false(dp_path_clean("/srv/x/..", 9));
	assert_false(dp_path_clean("/srv/a b", 8));
	assert_true(dp_params_ok("nbd:192.0.2.1:10809", 19));
	assert_false(dp_params_ok("", 0));
	assert_true(dp_script_ok("block-iscsi", 11));
	assert_false(dp_script_ok("../block", 8));
	assert_false(dp_script_ok(".block", 6));
	/* a prefix allows what is under it, never itself's siblings */
	assert_true(dp_disk_allowed("/srv/xen/ /dev/vda", "/srv/xen/a.img"));
	assert_true(dp_disk_allowed("/srv/xen/ /dev/vda", "/dev/vda"));
	assert_false(dp_disk_allowed("/srv/xen/ /dev/vda", "/dev/vda1"));
	assert_false(dp_disk_allowed("/srv/xen/ /dev/vda", "/srv/xen2/a.img"));
	assert_false(dp_disk_allowed("/srv/xen/ /dev/vda", "/srv/xen/"));
	assert_false(dp_disk_allowed("/srv/xen/", "/srv/xen/../../etc/shadow"));
	assert_true(dp_listed("vif-bridge  block", "block"));
	assert_false(dp_listed("vif-bridge block", "bloc"));
	assert_false(dp_listed("", "block"));
}

#ifdef HAVE_XEN
/* xmigd's threads block SIGTERM, SIGINT and SIGHUP for its signal thread;
 * a program run from one (xl create, a hotplug script) must not inherit
 * that mask: what it leaves running, xl's monitor or libxl's QEMU, would
 * ignore SIGTERM for good.  (cat, not a shell: dash clears its own mask.) */
static void
test_spawned_program_has_no_signal_blocked(void **state)
{
	char *const argv[] = { "cat", "/proc/self/status", NULL };
	char *const envp[] = { NULL };
	char out[8192], why[256];
	sigset_t mask, old;
	int status = -1;

	(void)state;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &mask, &old);
	assert_int_equal(xen_spawn("/bin/cat", argv, envp, 10000, out, sizeof(out), &status, why,
	    sizeof(why)), 0);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	assert_int_equal(status, 0);
	if (strstr(out, "SigBlk:\t0000000000000000\n") == NULL)
		fail_msg("the program ran with signals blocked:\n%s", out);
}
#endif

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_devices_primary_console_is_carried),
		cmocka_unit_test(test_devices_every_other_device_is_refused_by_name),
		cmocka_unit_test(test_devices_overflow_and_short_buffer_still_refuse),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_deviceless_guest_speaks_version_1),
		cmocka_unit_test(test_toolstack_configuration_round_trips),
		cmocka_unit_test(test_devices_allowed_only_by_this_hosts_lists),
		cmocka_unit_test(test_devpolicy_shapes_and_prefixes),
		cmocka_unit_test(test_every_truncation_is_refused),
		cmocka_unit_test(test_trailing_bytes_are_refused),
		cmocka_unit_test(test_hostile_values_are_refused),
		cmocka_unit_test(test_bad_magic_and_version),
		cmocka_unit_test(test_vcpu_limits),
		cmocka_unit_test(test_name_checks),
#ifdef HAVE_XEN
		cmocka_unit_test(test_spawned_program_has_no_signal_blocked),
#endif
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
