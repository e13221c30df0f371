/* test_toolcfg.c - a peer's libxl configuration: reduced to listed fields,
 * checked against this host's lists, turned into an xl configuration and
 * into shutdown actions. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "hv/xen.h"
#include "hv/xen_toolcfg.h"
#include "xerr.h"

#define UUID "6270b78f-a357-43e0-87a4-96d0a31f7f7f"

/* Shaped as xl create stored it in the lab for a PVH guest (xl list -l),
 * with a NIC and a disk, a disk detached since (libxl keeps it listed),
 * and fields a hostile peer could add. */
static const char *const cfg_json =
    "{ \"c_info\": { \"type\": \"pvh\", \"name\": \"dev1\", \"uuid\": \"" UUID "\","
    "    \"domid\": 4294967295, \"run_hotplug_scripts\": \"True\", \"driver_domain\": \"False\" },"
    "  \"b_info\": { \"max_vcpus\": 2, \"avail_vcpus\": [0, 1], \"max_memkb\": 98304,"
    "    \"target_memkb\": 98304, \"video_memkb\": 0, \"claim_mode\": \"True\","
    "    \"sched_params\": { \"sched\": \"credit2\", \"weight\": 256, \"cap\": 0 },"
    "    \"kernel\": \"/lab/vmlinuz\","
    "    \"ramdisk\": \"/lab/guest.cpio.gz\", \"cmdline\": \"console=hvc0 quiet lab.dev=1\","
    "    \"device_model\": \"/usr/bin/evil\", \"extra\": [\"-monitor\", \"stdio\"],"
    "    \"bootloader_args\": [\"--output=/etc/shadow\"],"
    "    \"type.pvh\": { \"pvshim_path\": \"/x\" }, \"arch_x86\": { \"msr_relaxed\": \"False\" } },"
    "  \"disks\": [ { \"backend_domid\": 0, \"pdev_path\": \"/dev/vda\", \"vdev\": \"xvdb\","
    "    \"backend\": \"phy\", \"format\": \"raw\", \"removable\": 0, \"readwrite\": 1,"
    "    \"is_cdrom\": 0, \"colo_host\": \"x\" },"
    "    { \"pdev_path\": \"/var/lib/xen/extra.img\", \"vdev\": \"xvdc\" } ],"
    "  \"nics\": [ { \"backend_domid\": 0, \"devid\": 0, \"mac\": \"00:16:3e:00:00:10\","
    "    \"bridge\": \"br0\", \"script\": \"/etc/xen/scripts/vif-bridge\", \"nictype\": \"vif\","
    "    \"coloft_forwarddev\": \"eth9\" } ],"
    "  \"on_reboot\": \"restart\", \"on_crash\": \"preserve\", \"on_poweroff\": \"destroy\","
    "  \"on_soft_reset\": \"soft_reset\" }";

#define KERNELS "/lab/ /boot/"

/* What the domain carries besides: its NIC and its disk, as read from
 * dom0's backends. */
static struct xen_cfg *
carried(const char *json)
{
	static struct xen_cfg c;

	memset(&c, 0, sizeof(c));
	strcpy(c.name, "dev1");
	c.nvifs = 1;
	c.vifs[0].devid = 0;
	strcpy(c.vifs[0].mac, "00:16:3e:00:00:10");
	strcpy(c.vifs[0].bridge, "br0");
	strcpy(c.vifs[0].script, "vif-bridge");
	strcpy(c.vifs[0].rate, "1250000,50000");
	c.nvbds = 1;
	c.vbds[0].devid = 51728;
	strcpy(c.vbds[0].vdev, "xvdb");
	strcpy(c.vbds[0].params, "/dev/vda");
	strcpy(c.vbds[0].script, "block");
	c.vbds[0].writable = 1;
	snprintf(c.toolcfg, sizeof(c.toolcfg), "%s", json);
	c.toolcfg_len = (uint32_t)strlen(c.toolcfg);
	return &c;
}

static int
reduce(const char *json, const char *name, const char *uuid, char **out, char *why,
    size_t whylen)
{
	struct xen_cfg *c = carried(json);

	strcpy(c->name, name);
	return xen_toolcfg_reduce(c, uuid, KERNELS, out, why, whylen);
}

static char *
reduce_ok(const char *json)
{
	char *out = NULL, why[256] = "";

	assert_int_equal(reduce(json, "dev1", UUID, &out, why, sizeof(why)), 0);
	assert_non_null(out);
	return out;
}

/* Only listed fields survive: whatever runs programs in dom0 is gone. */
static void
test_reduction_keeps_only_listed_fields(void **state)
{
	char *out = reduce_ok(cfg_json);
	json_t *j = json_loads(out, 0, NULL), *b, *d, *n;

	(void)state;
	assert_non_null(j);
	b = json_object_get(j, "b_info");
	assert_string_equal(json_string_value(json_object_get(b, "kernel")), "/lab/vmlinuz");
	assert_int_equal(json_integer_value(json_object_get(b, "max_memkb")), 98304);
	assert_null(json_object_get(b, "device_model"));
	assert_null(json_object_get(b, "extra"));
	assert_null(json_object_get(b, "bootloader_args"));
	/* libxl's key for the build type stays, its fields go */
	assert_true(json_is_object(json_object_get(b, "type.pvh")));
	assert_int_equal(json_object_size(json_object_get(b, "type.pvh")), 0);
	assert_null(json_object_get(json_object_get(j, "c_info"), "driver_domain"));

	/* the devices are what the domain has, not what the file lists */
	assert_int_equal(json_array_size(json_object_get(j, "disks")), 1);
	d = json_array_get(json_object_get(j, "disks"), 0);
	assert_string_equal(json_string_value(json_object_get(d, "pdev_path")), "/dev/vda");
	assert_string_equal(json_string_value(json_object_get(d, "vdev")), "xvdb");
	assert_null(json_object_get(d, "colo_host"));
	assert_null(json_object_get(d, "script"));
	assert_int_equal(json_array_size(json_object_get(j, "nics")), 1);
	n = json_array_get(json_object_get(j, "nics"), 0);
	assert_string_equal(json_string_value(json_object_get(n, "script")), "vif-bridge");
	assert_int_equal(json_integer_value(json_object_get(n, "rate_bytes_per_interval")), 1250000);
	assert_null(json_object_get(n, "coloft_forwarddev"));
	assert_null(json_object_get(j, "on_soft_reset"));
	json_decref(j);
	free(out);
}

/* The name is the domain's, whatever the file says: xl migrate-receive
 * leaves its temporary NAME--incoming there. */
static void
test_name_is_the_domains(void **state)
{
	char *out = NULL, why[256];
	json_t *j;

	(void)state;
	assert_int_equal(reduce(cfg_json, "renamed", UUID, &out, why, sizeof(why)), 0);
	j = json_loads(out, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "c_info"),
	    "name")), "renamed");
	json_decref(j);
	free(out);
}

static void
refused(const char *from, const char *to, const char *name, const char *uuid,
    const char *expect)
{
	char *json = strdup(cfg_json), *p, *out = (char *)1, why[256] = "";
	size_t n;

	assert_non_null(json);
	if (from != NULL) {
		p = strstr(cfg_json, from);
		assert_non_null(p);
		n = (size_t)(p - cfg_json);
		free(json);
		json = malloc(strlen(cfg_json) + strlen(to) + 1);
		assert_non_null(json);
		memcpy(json, cfg_json, n);
		strcpy(json + n, to);
		strcat(json, p + strlen(from));
	}
	assert_int_not_equal(reduce(json, name, uuid, &out, why, sizeof(why)), 0);
	assert_null(out);
	if (strstr(why, expect) == NULL)
		fail_msg("refusal \"%s\" does not say \"%s\"", why, expect);
	free(json);
}

/* Each refusal names what is wrong; this host's kernel list rules.  (The
 * disks and NICs are checked as the domain carries them: test_hv_xen.) */
static void
test_reduction_refuses_what_this_host_does_not_allow(void **state)
{
	(void)state;
	refused(NULL, NULL, "dev1", "00000000-0000-0000-0000-000000000000", "UUID");
	refused("/lab/vmlinuz", "/etc/shadow", "dev1", UUID,
	    "kernel /etc/shadow is not allowed by domain-kernels-allow");
	refused("/lab/guest.cpio.gz", "/lab/../etc/shadow", "dev1", UUID, "clean path");
	refused("quiet lab.dev=1", "quiet\\\" evil=\\\"1", "dev1", UUID, "command line");
	refused("\"pvh\"", "\"hvm\"", "dev1", UUID, "type.hvm: its HVM build information is "
	    "missing");
	refused("\"pvh\"", "\"hvm2\"", "dev1", UUID, "not a PV, PVH or HVM domain");
	refused("\"preserve\"", "\"explode\"", "dev1", UUID, "on_crash");
	refused("\"device_model\"", "\"bootloader\": \"/bin/sh\", \"x\"", "dev1", UUID,
	    "bootloader /bin/sh is not pygrub");
	refused(NULL, NULL, "dev1", UUID "x", "UUID");
}

static void
test_non_json_is_refused(void **state)
{
	char *out = NULL, why[256];

	(void)state;
	assert_int_not_equal(reduce("[1,2]", "dev1", UUID, &out, why, sizeof(why)), 0);
	assert_int_not_equal(reduce("{\"c_info\": ", "dev1", UUID, &out, why, sizeof(why)), 0);
	assert_int_not_equal(reduce("{\"a\": 1, \"a\": 2}", "dev1", UUID, &out, why, sizeof(why)),
	    0);
	assert_null(out);
}

/* The xl configuration a restart uses says what the guest was built with. */
static void
test_xl_configuration_rebuilds_the_same_guest(void **state)
{
	char *out = reduce_ok(cfg_json), *text = NULL, why[256];

	(void)state;
	assert_int_equal(xen_toolcfg_to_xl(out, &text, why, sizeof(why)), 0);
	assert_non_null(strstr(text, "name = \"dev1\"\n"));
	assert_non_null(strstr(text, "uuid = \"" UUID "\"\n"));
	assert_non_null(strstr(text, "type = \"pvh\"\n"));
	assert_non_null(strstr(text, "kernel = \"/lab/vmlinuz\"\n"));
	assert_non_null(strstr(text, "cmdline = \"console=hvc0 quiet lab.dev=1\"\n"));
	assert_non_null(strstr(text, "memory = 96\n"));
	assert_non_null(strstr(text, "maxvcpus = 2\nvcpus = 2\n"));
	assert_non_null(strstr(text, "on_crash = \"preserve\"\n"));
	assert_non_null(strstr(text, "vif = [ \"bridge=br0,script=vif-bridge,mac=00:16:3e:00:00:10,"
	    "devid=0,rate=25000000B/s@50000us\" ]\n"));
	assert_non_null(strstr(text,
	    "disk = [ \"format=raw,backendtype=phy,vdev=xvdb,access=rw,target=/dev/vda\" ]\n"));
	assert_null(strstr(text, "evil"));
	assert_null(strstr(text, "device_model"));
	free(text);
	free(out);
	/* only from a reduced configuration */
	assert_int_not_equal(xen_toolcfg_to_xl("{}", &text, why, sizeof(why)), 0);
	assert_null(text);
}

/* A disk path with a quote (a peer's, allowed by a prefix entry) would
 * end the xl string and add keys of its own: no xl configuration then. */
static void
test_xl_configuration_refuses_what_would_break_its_quoting(void **state)
{
	struct xen_cfg *c = carried(cfg_json);
	char *out = NULL, *text = NULL, why[256] = "";

	(void)state;
	strcpy(c->vbds[0].params, "/srv/x\",bootloader=\"/bin/sh");
	assert_int_equal(xen_toolcfg_reduce(c, UUID, KERNELS, &out, why, sizeof(why)), 0);
	assert_int_not_equal(xen_toolcfg_to_xl(out, &text, why, sizeof(why)), 0);
	assert_null(text);
	assert_non_null(strstr(why, "quote"));
	free(out);
	c = carried(cfg_json);
	strcpy(c->vifs[0].bridge, "br0,script=x");
	assert_int_equal(xen_toolcfg_reduce(c, UUID, KERNELS, &out, why, sizeof(why)), 0);
	assert_int_not_equal(xen_toolcfg_to_xl(out, &text, why, sizeof(why)), 0);
	free(out);
}

/* Shutdown actions: the configuration's, xl's defaults for the rest. */
static void
test_lifecycle_follows_the_configuration(void **state)
{
	char *out = reduce_ok(cfg_json);
	struct xen_lifecycle lc;

	(void)state;
	assert_int_equal(xen_toolcfg_lifecycle(out, &lc), 0);
	assert_int_equal(lc.on_reboot, XA_RESTART);
	assert_int_equal(lc.on_crash, XA_PRESERVE);
	assert_int_equal(lc.on_poweroff, XA_DESTROY);
	assert_int_equal(lc.on_watchdog, XA_DESTROY);
	free(out);
	assert_int_equal(xen_toolcfg_lifecycle("{ \"on_crash\": \"coredump_restart\" }", &lc), 0);
	assert_int_equal(lc.on_crash, XA_COREDUMP_RESTART);
	assert_int_equal(lc.on_reboot, XA_RESTART);
	assert_string_equal(xen_action_name(XA_COREDUMP_RESTART), "coredump-restart");
	assert_int_not_equal(xen_toolcfg_lifecycle("nope", &lc), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reduction_keeps_only_listed_fields),
		cmocka_unit_test(test_name_is_the_domains),
		cmocka_unit_test(test_reduction_refuses_what_this_host_does_not_allow),
		cmocka_unit_test(test_non_json_is_refused),
		cmocka_unit_test(test_xl_configuration_refuses_what_would_break_its_quoting),
		cmocka_unit_test(test_xl_configuration_rebuilds_the_same_guest),
		cmocka_unit_test(test_lifecycle_follows_the_configuration),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
