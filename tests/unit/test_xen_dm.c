/* test_xen_dm.c - an HVM guest's device model: which configurations xmig
 * can start QEMU for, each refusal's line, and the exact command libxl
 * 4.17 would build (hv/xen_dm.c); through xen_toolcfg_reduce too. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hv/xen.h"
#include "hv/xen_dm.h"
#include "hv/xen_toolcfg.h"
#include "xerr.h"

#define UUID "0b7a3f52-7c1e-4a4e-9d3c-2f9e8c1a5d60"

/* The lab's HVM guest (../shared/xenlab/hvm-recipe.md) as `xl list -l`
 * prints it: type="hvm" kernel="/lab/vmlinuz" ramdisk="/lab/guest.cpio.gz"
 * cmdline="console=hvc0 quiet" memory=128 vcpus=1 vga="none" vnc=0 sdl=0
 * on_crash="preserve".  libxl leaves out what is at its default, but
 * always prints its structs (spice, rdm) even when empty. */
static const char *const lab_json =
    "{ \"c_info\": { \"type\": \"hvm\", \"name\": \"hvm1\", \"uuid\": \"" UUID "\","
    "    \"run_hotplug_scripts\": \"True\" },"
    "  \"b_info\": { \"max_vcpus\": 1, \"avail_vcpus\": [ 0 ], \"max_memkb\": 131072,"
    "    \"target_memkb\": 131072, \"video_memkb\": 0, \"claim_mode\": \"True\","
    "    \"sched_params\": { \"sched\": \"credit2\", \"weight\": 256, \"cap\": 0 },"
    "    \"kernel\": \"/lab/vmlinuz\", \"cmdline\": \"console=hvc0 quiet\","
    "    \"ramdisk\": \"/lab/guest.cpio.gz\","
    "    \"type.hvm\": { \"vga\": { \"kind\": \"none\" }, \"vnc\": { \"enable\": \"False\" },"
    "      \"sdl\": { \"enable\": \"False\" }, \"spice\": { }, \"rdm\": { } },"
    "    \"arch_arm\": { }, \"arch_x86\": { } },"
    "  \"on_crash\": \"preserve\" }";

/* A BIOS-booted guest: type="hvm" name="win1" memory=1024 maxmem=2048
 * vcpus=2 maxvcpus=4 vga="stdvga" videoram=16 vnc=0 serial="pty" boot="c"
 * viridian=1 disk=["phy:/dev/vg0/win1,xvde,w"]
 * vif=["type=vif,bridge=br0,mac=00:16:3e:00:00:21"]. */
static const char *const bios_json =
    "{ \"c_info\": { \"type\": \"hvm\", \"name\": \"win1\", \"uuid\": \"" UUID "\" },"
    "  \"b_info\": { \"max_vcpus\": 4, \"avail_vcpus\": [ 0, 1 ], \"max_memkb\": 2097152,"
    "    \"target_memkb\": 1048576, \"video_memkb\": 16384,"
    "    \"sched_params\": { },"
    "    \"type.hvm\": { \"viridian\": \"True\", \"vga\": { \"kind\": \"std\" },"
    "      \"vnc\": { \"enable\": \"False\" }, \"sdl\": { }, \"spice\": { },"
    "      \"serial\": \"pty\", \"boot\": \"c\", \"rdm\": { } },"
    "    \"arch_arm\": { }, \"arch_x86\": { } },"
    "  \"disks\": [ { \"backend_domid\": 0, \"pdev_path\": \"/dev/vg0/win1\","
    "    \"vdev\": \"xvde\", \"backend\": \"phy\", \"format\": \"raw\", \"readwrite\": 1 } ],"
    "  \"nics\": [ { \"backend_domid\": 0, \"devid\": 0, \"mac\": \"00:16:3e:00:00:21\","
    "    \"bridge\": \"br0\", \"nictype\": \"vif\" } ] }";

/* base with its first occurrence of from replaced by to (caller frees);
 * a from that is not there fails the test rather than testing base. */
static char *
patch(const char *base, const char *from, const char *to)
{
	const char *at = strstr(base, from);
	char *out;

	if (at == NULL)
		fail_msg("\"%s\" is not in the configuration", from);
	out = malloc(strlen(base) - strlen(from) + strlen(to) + 1);
	assert_non_null(out);
	sprintf(out, "%.*s%s%s", (int)(at - base), base, to, at + strlen(from));
	return out;
}

static void
assert_vec(char **got, const char *const *want)
{
	size_t i;

	assert_non_null(got);
	for (i = 0; want[i] != NULL; i++) {
		assert_non_null(got[i]);
		assert_string_equal(got[i], want[i]);
	}
	assert_null(got[i]);
}

static void
test_lab_guest_argv(void **state)
{
	static const char *const argv[] = { XEN_DM_QEMU, "-xen-domid", "7", "-no-shutdown",
		"-chardev", "socket,id=libxl-cmd,path=/var/run/xen/qmp-libxl-7,server=on,wait=off",
		"-mon", "chardev=libxl-cmd,mode=control",
		"-chardev",
		"socket,id=libxenstat-cmd,path=/var/run/xen/qmp-libxenstat-7,server=on,wait=off",
		"-mon", "chardev=libxenstat-cmd,mode=control",
		"-nodefaults", "-no-user-config", "-name", "hvm1", "-vnc", "none",
		"-display", "none", "-kernel", "/lab/vmlinuz", "-initrd", "/lab/guest.cpio.gz",
		"-append", "console=hvc0 quiet", "-boot", "order=cda", "-net", "none",
		"-incoming", "fd:23", "-machine", "xenfv,suppress-vmdesc=on", "-m", "128", NULL };
	static const char *const envp[] = { "XEN_QEMU_CONSOLE_LIMIT=1048576", "XEN_DOMAIN_ID=7",
		NULL };
	struct xen_dm_cmd cmd;
	char why[256] = "";

	(void)state;
	unsetenv("XEN_QEMU_CONSOLE_LIMIT");
	assert_int_equal(xen_dm_check(lab_json, why, sizeof(why)), 0);
	assert_int_equal(xen_dm_cmd_build(lab_json, 7, 23, &cmd, why, sizeof(why)), 0);
	assert_vec(cmd.argv, argv);
	assert_vec(cmd.envp, envp);
	xen_dm_cmd_free(&cmd);
	assert_null(cmd.argv);
	xen_dm_cmd_free(&cmd);	/* twice is harmless */

	/* an administrator's own console limit is left to stand, as libxl does */
	setenv("XEN_QEMU_CONSOLE_LIMIT", "4096", 1);
	assert_int_equal(xen_dm_cmd_build(lab_json, 7, 23, &cmd, why, sizeof(why)), 0);
	assert_vec(cmd.envp, envp + 1);
	xen_dm_cmd_free(&cmd);
	unsetenv("XEN_QEMU_CONSOLE_LIMIT");
}

static void
test_bios_guest_argv(void **state)
{
	static const char *const argv[] = { XEN_DM_QEMU, "-xen-domid", "12", "-no-shutdown",
		"-chardev", "socket,id=libxl-cmd,path=/var/run/xen/qmp-libxl-12,server=on,wait=off",
		"-mon", "chardev=libxl-cmd,mode=control",
		"-chardev",
		"socket,id=libxenstat-cmd,path=/var/run/xen/qmp-libxenstat-12,server=on,wait=off",
		"-mon", "chardev=libxenstat-cmd,mode=control",
		"-nodefaults", "-no-user-config", "-name", "win1", "-vnc", "none",
		"-display", "none", "-serial", "pty", "-device", "VGA,vgamem_mb=16",
		"-boot", "order=c", "-smp", "2,maxcpus=4", "-net", "none",
		"-incoming", "fd:5", "-machine", "xenfv,suppress-vmdesc=on", "-m", "2032", NULL };
	struct xen_dm_cmd cmd;
	char why[256] = "";

	(void)state;
	assert_int_equal(xen_dm_cmd_build(bios_json, 12, 5, &cmd, why, sizeof(why)), 0);
	assert_vec(cmd.argv, argv);
	xen_dm_cmd_free(&cmd);
}

/* The arguments that follow from single settings, each against the lab's
 * guest: argument index and value. */
static void
test_settings_change_the_argv(void **state)
{
	static const struct {
		const char *from, *to;
		const char *const want[4];	/* consecutive arguments that must appear */
		const char *from2, *to2;	/* a second change, if any */
	} cases[] = {
		/* libxl's default VGA is cirrus, with 8 MiB (that libxl then
		 * stores) taken off QEMU's RAM */
		{ "\"vga\": { \"kind\": \"none\" },", "",
		  { "-device", "cirrus-vga,vgamem_mb=8", "-boot", NULL },
		  "\"video_memkb\": 0", "\"video_memkb\": 8192" },
		{ "\"vga\": { \"kind\": \"none\" },", "",
		  { "-m", "120", NULL }, "\"video_memkb\": 0", "\"video_memkb\": 8192" },
		{ "\"video_memkb\": 0", "\"video_memkb\": 8192",
		  { "-m", "120", NULL }, NULL, NULL },
		{ "\"rdm\": { }", "\"rdm\": { }, \"xen_platform_pci\": \"False\"",
		  { "-machine", "pc,accel=xen,suppress-vmdesc=on", NULL }, NULL, NULL },
		{ "\"rdm\": { }", "\"rdm\": { }, \"acpi\": \"False\"",
		  { "-boot", "order=cda", "-no-acpi", NULL }, NULL, NULL },
		{ "\"claim_mode\"", "\"acpi\": \"False\", \"claim_mode\"",
		  { "-boot", "order=cda", "-no-acpi", NULL }, NULL, NULL },
		{ "\"rdm\": { }", "\"rdm\": { }, \"nographic\": \"True\"",
		  { "-append", "console=hvc0 quiet", "-nographic", NULL }, NULL, NULL },
		{ "\"rdm\": { }", "\"rdm\": { }, \"serial_list\": [ \"pty\", \"none\" ]",
		  { "-serial", "pty", "-serial", "none" }, NULL, NULL },
		{ "\"rdm\": { }", "\"rdm\": { }, \"boot\": \"dc\"", { "-boot", "order=dc", NULL }, NULL, NULL },
		{ "\"hvm1\"", "\"a,b\"", { "-name", "a,,b", NULL }, NULL, NULL },
		/* QEMU 7.2 takes -append literally: a comma stays one */
		{ "quiet\"", "quiet console=ttyS0,115200\"",
		  { "-append", "console=hvc0 quiet console=ttyS0,115200", NULL }, NULL, NULL },
		{ "\"max_vcpus\": 1, \"avail_vcpus\": [ 0 ]",
		  "\"max_vcpus\": 2, \"avail_vcpus\": [ 0, 1 ]", { "-smp", "2,maxcpus=2", NULL }, NULL, NULL },
		{ "\"max_vcpus\": 1, \"avail_vcpus\": [ 0 ]", "\"max_vcpus\": 3",
		  { "-smp", "1,maxcpus=3", NULL }, NULL, NULL },
	};
	size_t i, j, k;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *json = patch(lab_json, cases[i].from, cases[i].to), why[256] = "";
		struct xen_dm_cmd cmd;
		bool found = false;

		if (cases[i].from2 != NULL) {
			char *j2 = patch(json, cases[i].from2, cases[i].to2);

			free(json);
			json = j2;
		}

		if (xen_dm_cmd_build(json, 7, 23, &cmd, why, sizeof(why)) != 0)
			fail_msg("case %zu: %s", i, why);
		for (j = 0; cmd.argv[j] != NULL && !found; j++) {
			for (k = 0; k < 4 && cases[i].want[k] != NULL; k++)
				if (cmd.argv[j + k] == NULL ||
				    strcmp(cmd.argv[j + k], cases[i].want[k]) != 0)
					break;
			found = k == 4 || cases[i].want[k] == NULL;
		}
		if (!found)
			fail_msg("case %zu: %s %s not in the command", i, cases[i].want[0],
			    cases[i].want[1] ? cases[i].want[1] : "");
		xen_dm_cmd_free(&cmd);
		free(json);
	}
}

/* Every refusal, as one line naming the setting and why. */
static void
test_refusals(void **state)
{
	static const struct {
		const char *from, *to;
		int code;
		const char *why;
	} cases[] = {
		{ "\"vnc\": { \"enable\": \"False\" }", "\"vnc\": { }", XMIG_ERR_UNSUPPORTED,
		  "hvm1: vnc: a VNC display is not supported by xmig's device model start; "
		  "set vnc=0" },
		{ "\"vnc\": { \"enable\": \"False\" },", "", XMIG_ERR_UNSUPPORTED,
		  "hvm1: vnc: a VNC display is not supported by xmig's device model start; "
		  "set vnc=0" },
		{ "\"sdl\": { \"enable\": \"False\" }", "\"sdl\": { \"enable\": \"True\" }",
		  XMIG_ERR_UNSUPPORTED, "hvm1: sdl: an SDL display is not supported by xmig's "
		  "device model start; set sdl=0" },
		{ "\"spice\": { }", "\"spice\": { \"enable\": \"True\", \"port\": 6000 }",
		  XMIG_ERR_UNSUPPORTED, "hvm1: spice: a SPICE display is not supported by xmig's "
		  "device model start; set spice=0" },
		{ "\"kind\": \"none\"", "\"kind\": \"qxl\"", XMIG_ERR_UNSUPPORTED,
		  "hvm1: vga: qxl is not supported by xmig's device model start; set "
		  "vga=\"none\", \"stdvga\" or \"cirrus\"" },
		{ "\"claim_mode\"", "\"device_model_version\": \"qemu_xen_traditional\", "
		  "\"claim_mode\"", XMIG_ERR_UNSUPPORTED, "hvm1: device_model_version: "
		  "qemu_xen_traditional is not supported by xmig's device model start; only "
		  "qemu_xen" },
		{ "\"claim_mode\"", "\"device_model_stubdomain\": \"True\", \"claim_mode\"",
		  XMIG_ERR_UNSUPPORTED, "hvm1: device_model_stubdomain_override: a stub domain is "
		  "not supported by xmig's device model start" },
		{ "\"claim_mode\"", "\"device_model\": \"/usr/bin/evil\", \"claim_mode\"",
		  XMIG_ERR_UNSUPPORTED, "hvm1: device_model: not supported for an HVM guest by "
		  "xmig's device model start" },
		{ "\"claim_mode\"", "\"extra\": [ \"-monitor\", \"stdio\" ], \"claim_mode\"",
		  XMIG_ERR_UNSUPPORTED, "hvm1: device_model_args: QEMU arguments from the "
		  "configuration are not passed by xmig's device model start" },
		{ "\"claim_mode\"", "\"extra_hvm\": [ \"-S\" ], \"claim_mode\"",
		  XMIG_ERR_UNSUPPORTED, "hvm1: device_model_args: QEMU arguments from the "
		  "configuration are not passed by xmig's device model start" },
		{ "\"claim_mode\"", "\"dm_restrict\": \"True\", \"claim_mode\"",
		  XMIG_ERR_UNSUPPORTED, "hvm1: dm_restrict: a deprivileged device model is not "
		  "supported by xmig's device model start" },
		{ "\"claim_mode\"", "\"bootloader\": \"pygrub\", \"claim_mode\"",
		  XMIG_ERR_UNSUPPORTED, "hvm1: bootloader: not supported for an HVM guest by "
		  "xmig's device model start" },
		{ "\"rdm\": { }", "\"rdm\": { }, \"usb\": \"True\"", XMIG_ERR_UNSUPPORTED,
		  "hvm1: usb: USB controllers and devices are not supported by xmig's device model "
		  "start; remove usb, usbversion and usbdevice" },
		{ "\"rdm\": { }", "\"rdm\": { }, \"usbdevice\": \"tablet\"", XMIG_ERR_UNSUPPORTED,
		  "hvm1: usb: USB controllers and devices are not supported by xmig's device model "
		  "start; remove usb, usbversion and usbdevice" },
		{ "\"rdm\": { }", "\"rdm\": { }, \"usbdevice_list\": [ \"tablet\" ]",
		  XMIG_ERR_UNSUPPORTED, "hvm1: usb: USB controllers and devices are not supported "
		  "by xmig's device model start; remove usb, usbversion and usbdevice" },
		{ "\"rdm\": { }", "\"rdm\": { }, \"usbversion\": 2", XMIG_ERR_UNSUPPORTED,
		  "hvm1: usb: USB controllers and devices are not supported by xmig's device model "
		  "start; remove usb, usbversion and usbdevice" },
		{ "\"rdm\": { }", "\"rdm\": { }, \"soundhw\": \"hda\"", XMIG_ERR_UNSUPPORTED,
		  "hvm1: soundhw: sound hardware is not supported by xmig's device model start" },
		{ "\"rdm\": { }", "\"rdm\": { }, \"serial\": \"tcp:10.0.0.1:4555\"",
		  XMIG_ERR_UNSUPPORTED, "hvm1: serial: tcp:10.0.0.1:4555 is not supported by "
		  "xmig's device model start; only \"pty\" or \"none\"" },
		{ "\"rdm\": { }", "\"rdm\": { }, \"serial_list\": [ \"pty\", \"/dev/ttyS0\" ]",
		  XMIG_ERR_UNSUPPORTED, "hvm1: serial: /dev/ttyS0 is not supported by xmig's "
		  "device model start; only \"pty\" or \"none\"" },
		{ "\"rdm\": { }", "\"rdm\": { }, \"keymap\": \"de\"", XMIG_ERR_UNSUPPORTED,
		  "hvm1: keymap: a keyboard layout is for a display, which xmig's device model "
		  "start does not support" },
		{ "\"rdm\": { }", "\"rdm\": { }, \"hdtype\": \"ahci\"", XMIG_ERR_UNSUPPORTED,
		  "hvm1: hdtype: an AHCI controller is not supported by xmig's device model "
		  "start" },
		{ "\"rdm\": { }", "\"rdm\": { }, \"vendor_device\": \"xenserver\"",
		  XMIG_ERR_UNSUPPORTED, "hvm1: vendor_device: the XenServer PV device is not "
		  "supported by xmig's device model start" },
		{ "\"rdm\": { }", "\"rdm\": { }, \"bios\": \"ovmf\"", XMIG_ERR_UNSUPPORTED,
		  "hvm1: bios: only SeaBIOS is supported by xmig's device model start" },
		{ "\"rdm\": { }", "\"rdm\": { }, \"gfx_passthru\": \"True\"", XMIG_ERR_UNSUPPORTED,
		  "hvm1: gfx_passthru: graphics passthrough cannot move" },
		{ "\"rdm\": { }", "\"rdm\": { }, \"mmio_hole_memkb\": 1048576",
		  XMIG_ERR_UNSUPPORTED, "hvm1: mmio_hole: a custom MMIO hole is not supported by "
		  "xmig's device model start" },
		{ "\"rdm\": { }", "\"rdm\": { \"strategy\": \"host\" }", XMIG_ERR_UNSUPPORTED,
		  "hvm1: rdm: reserved device memory is for passthrough, which cannot move" },
		{ "\"rdm\": { }", "\"rdm\": { }, \"timeoffset\": \"3600\"", XMIG_ERR_UNSUPPORTED,
		  "hvm1: timeoffset: a setting xmig's device model start does not know" },
		{ "\"rdm\": { }", "\"rdm\": { }, \"smbios_firmware\": \"/etc/shadow\"",
		  XMIG_ERR_UNSUPPORTED, "hvm1: smbios_firmware: a setting xmig's device model "
		  "start does not know" },
		{ "\"on_crash\"", "\"nics\": [ { \"devid\": 0, \"mac\": \"00:16:3e:00:00:22\", "
		  "\"nictype\": \"vif_ioemu\", \"model\": \"e1000\" } ], \"on_crash\"",
		  XMIG_ERR_UNSUPPORTED, "hvm1: nic 0: an emulated NIC (type ioemu, libxl's default "
		  "for HVM) is not supported by xmig's device model start; set type=vif" },
		{ "\"on_crash\"", "\"nics\": [ { \"devid\": 1, \"bridge\": \"br0\" } ], \"on_crash\"",
		  XMIG_ERR_UNSUPPORTED, "hvm1: nic 1: an emulated NIC (type ioemu, libxl's default "
		  "for HVM) is not supported by xmig's device model start; set type=vif" },
		{ "\"on_crash\"", "\"disks\": [ { \"pdev_path\": \"/dev/vg0/a\", \"vdev\": \"xvda\","
		  " \"backend\": \"phy\", \"format\": \"raw\" } ], \"on_crash\"", XMIG_ERR_UNSUPPORTED,
		  "hvm1: disk xvda: libxl gives the first four disks to QEMU as emulated IDE disks "
		  "too, which xmig's device model start does not support; name it xvde or later" },
		{ "\"on_crash\"", "\"disks\": [ { \"pdev_path\": \"/dev/vg0/a\", \"vdev\": \"xvdd1\""
		  " } ], \"on_crash\"", XMIG_ERR_UNSUPPORTED,
		  "hvm1: disk xvdd1: libxl gives the first four disks to QEMU as emulated IDE disks "
		  "too, which xmig's device model start does not support; name it xvde or later" },
		{ "\"on_crash\"", "\"disks\": [ { \"pdev_path\": \"/dev/vg0/a\", \"vdev\": \"hdc\""
		  " } ], \"on_crash\"", XMIG_ERR_UNSUPPORTED,
		  "hvm1: disk hdc: libxl gives it to QEMU as an emulated IDE disk, which xmig's "
		  "device model start does not support; name it xvde or later" },
		{ "\"on_crash\"", "\"disks\": [ { \"pdev_path\": \"/dev/vg0/a\", \"vdev\": \"sdf\""
		  " } ], \"on_crash\"", XMIG_ERR_UNSUPPORTED,
		  "hvm1: disk sdf: libxl gives it to QEMU as an emulated SCSI disk, which xmig's "
		  "device model start does not support; name it xvde or later" },
		{ "\"on_crash\"", "\"disks\": [ { \"pdev_path\": \"/srv/d.iso\", \"vdev\": \"xvdf\","
		  " \"is_cdrom\": 1 } ], \"on_crash\"", XMIG_ERR_UNSUPPORTED,
		  "hvm1: disk xvdf: a CD-ROM is emulated by QEMU, which xmig's device model start "
		  "does not support" },
		{ "\"on_crash\"", "\"disks\": [ { \"pdev_path\": \"/srv/d.img\", \"vdev\": \"xvdf\","
		  " \"backend\": \"qdisk\" } ], \"on_crash\"", XMIG_ERR_UNSUPPORTED,
		  "hvm1: disk xvdf: backend qdisk is not supported by xmig's device model start; "
		  "only phy (blkback)" },
		{ "\"on_crash\"", "\"disks\": [ { \"pdev_path\": \"/srv/d.qcow2\", \"vdev\": "
		  "\"xvdf\", \"format\": \"qcow2\" } ], \"on_crash\"", XMIG_ERR_UNSUPPORTED,
		  "hvm1: disk xvdf: format qcow2 would be served by QEMU; only raw" },
		{ "\"on_crash\"", "\"disks\": [ { \"pdev_path\": \"/dev/vg0/a\", \"vdev\": \"51712\""
		  " } ], \"on_crash\"", XMIG_ERR_UNSUPPORTED,
		  "hvm1: disk 51712: not a name xmig reads (xvdX)" },
		{ "\"on_crash\"", "\"pcidevs\": [ { \"func\": 0, \"dev\": 2, \"bus\": 3 } ], "
		  "\"on_crash\"", XMIG_ERR_UNSUPPORTED,
		  "hvm1: pcidevs: not supported by xmig's device model start" },
		{ "\"on_crash\"", "\"channels\": [ { \"name\": \"org.qemu.guest_agent.0\", "
		  "\"connection\": \"pty\" } ], \"on_crash\"", XMIG_ERR_UNSUPPORTED,
		  "hvm1: channels: not supported by xmig's device model start" },
		{ "\"on_crash\"", "\"vfbs\": [ { \"devid\": 0 } ], \"on_crash\"",
		  XMIG_ERR_UNSUPPORTED, "hvm1: vfbs: not supported by xmig's device model start" },
		{ "\"on_crash\"", "\"usbctrls\": [ { \"version\": 2 } ], \"on_crash\"",
		  XMIG_ERR_UNSUPPORTED,
		  "hvm1: usbctrls: not supported by xmig's device model start" },
		/* hostile or malformed values */
		{ "\"/lab/vmlinuz\"", "\"/lab/vm,linuz\"", XMIG_ERR_INVALID,
		  "hvm1: kernel: not an absolute, clean path without commas" },
		{ "\"/lab/vmlinuz\"", "\"lab/vmlinuz\"", XMIG_ERR_INVALID,
		  "hvm1: kernel: not an absolute, clean path without commas" },
		{ "\"/lab/guest.cpio.gz\"", "\"/lab/../etc/shadow\"", XMIG_ERR_INVALID,
		  "hvm1: ramdisk: not an absolute, clean path without commas" },
		{ "\"/lab/guest.cpio.gz\"", "\"/lab/a,b\"", XMIG_ERR_INVALID,
		  "hvm1: ramdisk: not an absolute, clean path without commas" },
		{ "quiet\"", "quiet\\n-monitor stdio\"", XMIG_ERR_INVALID,
		  "hvm1: cmdline: has characters xmig does not pass (control or non-ASCII)" },
		{ "\"kernel\": \"/lab/vmlinuz\", ", "", XMIG_ERR_INVALID,
		  "hvm1: ramdisk or cmdline: without a kernel (libxl refuses it)" },
		{ "\"max_memkb\": 131072", "\"max_memkb\": 1152921504606846976", XMIG_ERR_INVALID,
		  "hvm1: maxmem: missing or out of range" },
		{ "\"max_memkb\": 131072,", "", XMIG_ERR_INVALID,
		  "hvm1: maxmem: missing or out of range" },
		{ "\"max_memkb\": 131072", "\"max_memkb\": 4294967296", XMIG_ERR_UNSUPPORTED,
		  "hvm1: maxmem: 4 TiB or more, which libxl cannot give QEMU" },
		{ "\"video_memkb\": 0", "\"video_memkb\": 131072", XMIG_ERR_INVALID,
		  "hvm1: videoram: out of range" },
		{ "\"kind\": \"none\"", "\"kind\": \"std\"", XMIG_ERR_INVALID,
		  "hvm1: videoram: at least 16 MiB for this VGA (libxl refuses less)" },
		{ "\"max_vcpus\": 1", "\"max_vcpus\": 100000", XMIG_ERR_INVALID,
		  "hvm1: maxvcpus: not 1..128" },
		{ "\"avail_vcpus\": [ 0 ]", "\"avail_vcpus\": [ 0, 5 ]", XMIG_ERR_INVALID,
		  "hvm1: vcpus: not a list of online vCPUs within maxvcpus" },
		{ "\"avail_vcpus\": [ 0 ]", "\"avail_vcpus\": [ ]", XMIG_ERR_INVALID,
		  "hvm1: vcpus: not a list of online vCPUs within maxvcpus" },
		{ "\"rdm\": { }", "\"rdm\": { }, \"boot\": \"cc\"", XMIG_ERR_INVALID,
		  "hvm1: boot: a device given twice" },
		{ "\"rdm\": { }", "\"rdm\": { }, \"boot\": \"c,menu=on\"", XMIG_ERR_INVALID,
		  "hvm1: boot: not a boot order of a, c, d and n" },
		{ "\"rdm\": { }", "\"rdm\": { }, \"nx\": \"yes\"", XMIG_ERR_INVALID,
		  "hvm1: nx: not a boolean" },
		{ "\"hvm1\"", "\"a=b\"", XMIG_ERR_INVALID,
		  "a=b: name: an '=' which QEMU's -name cannot take" },
		{ "\"hvm1\"", "\"hvm1\\nx\"", XMIG_ERR_INVALID,
		  "the guest: name: missing, or not printable ASCII" },
		{ "\"type\": \"hvm\"", "\"type\": \"pvh\"", XMIG_ERR_INVALID,
		  "the guest: not an HVM guest" },
		{ "\"type.hvm\"", "\"type.pvh\"", XMIG_ERR_INVALID,
		  "hvm1: type.hvm: its HVM build information is missing" },
		{ "\"on_crash\": \"preserve\" }", "\"on_crash\": \"preserve\", \"c_info\": 1 }",
		  XMIG_ERR_INVALID, "the guest: its configuration is not JSON xmig reads" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *json = patch(lab_json, cases[i].from, cases[i].to), why[512] = "";
		struct xen_dm_cmd cmd = { (char **)1, (char **)1 };
		int r = xen_dm_check(json, why, sizeof(why));

		if (r != cases[i].code || strcmp(why, cases[i].why) != 0)
			fail_msg("case %zu: %d \"%s\"", i, r, why);
		/* the builder refuses the same, with the same line, and leaves
		 * nothing to free */
		why[0] = '\0';
		assert_int_equal(xen_dm_cmd_build(json, 7, 23, &cmd, why, sizeof(why)), r);
		assert_string_equal(why, cases[i].why);
		assert_null(cmd.argv);
		assert_null(cmd.envp);
		free(json);
	}
}

static void
test_build_refuses_bad_domid_and_fd(void **state)
{
	struct xen_dm_cmd cmd;
	char why[256];

	(void)state;
	assert_int_equal(xen_dm_cmd_build(lab_json, 0, 23, &cmd, why, sizeof(why)),
	    XMIG_ERR_INVALID);
	assert_int_equal(xen_dm_cmd_build(lab_json, 0x7ff0, 23, &cmd, why, sizeof(why)),
	    XMIG_ERR_INVALID);
	assert_int_equal(xen_dm_cmd_build(lab_json, 7, -1, &cmd, why, sizeof(why)),
	    XMIG_ERR_INVALID);
	assert_string_equal(why, "the guest: domain 7 or descriptor -1 cannot have a device model");
	assert_null(cmd.argv);
	assert_int_equal(xen_dm_cmd_build(lab_json, XEN_DM_DOMID_MAX, 3, &cmd, why, sizeof(why)),
	    0);
	xen_dm_cmd_free(&cmd);
	assert_int_not_equal(xen_dm_check("", why, sizeof(why)), 0);
	assert_int_not_equal(xen_dm_check("[]", why, sizeof(why)), 0);
}

/* What xmigd carries besides the JSON (hv/xen.h): the guest's devices as
 * dom0's backends describe them. */
static void
carried(struct xen_cfg *c, const char *json, const char *name)
{
	memset(c, 0, sizeof(*c));
	c->type = HV_TYPE_HVM;
	strcpy(c->name, name);
	snprintf(c->toolcfg, sizeof(c->toolcfg), "%s", json);
	c->toolcfg_len = (uint32_t)strlen(c->toolcfg);
}

/* Through the receiver's reduction: the reduced copy keeps what the
 * device model needs (so the same command comes out of it), drops the
 * rest, and the carried devices are held to the same rules. */
static void
test_reduction_keeps_what_the_device_model_needs(void **state)
{
	struct xen_dm_cmd a, b;
	struct xen_cfg *c = calloc(1, sizeof(*c));
	char *out = NULL, why[256] = "";
	size_t i;

	(void)state;
	assert_non_null(c);
	unsetenv("XEN_QEMU_CONSOLE_LIMIT");
	carried(c, bios_json, "win1");
	c->nvbds = 1;
	c->vbds[0].devid = 51776;
	strcpy(c->vbds[0].vdev, "xvde");
	strcpy(c->vbds[0].params, "/dev/vg0/win1");
	strcpy(c->vbds[0].script, "block");
	c->vbds[0].writable = 1;
	c->nvifs = 1;
	strcpy(c->vifs[0].mac, "00:16:3e:00:00:21");
	strcpy(c->vifs[0].bridge, "br0");
	strcpy(c->vifs[0].script, "vif-bridge");
	if (xen_toolcfg_reduce(c, UUID, "/lab/", &out, why, sizeof(why)) != 0)
		fail_msg("%s", why);
	assert_non_null(strstr(out, "\"viridian\": \"True\""));
	assert_non_null(strstr(out, "\"nictype\": \"vif\""));
	assert_null(strstr(out, "sched_params"));
	assert_int_equal(xen_dm_cmd_build(bios_json, 12, 5, &a, why, sizeof(why)), 0);
	assert_int_equal(xen_dm_cmd_build(out, 12, 5, &b, why, sizeof(why)), 0);
	for (i = 0; a.argv[i] != NULL; i++)
		assert_string_equal(a.argv[i], b.argv[i]);
	assert_null(b.argv[i]);
	xen_dm_cmd_free(&a);
	xen_dm_cmd_free(&b);
	free(out);

	/* the lab's guest: its kernel must be on this host's list */
	carried(c, lab_json, "hvm1");
	assert_int_equal(xen_toolcfg_reduce(c, UUID, "/lab/", &out, why, sizeof(why)), 0);
	assert_non_null(strstr(out, "\"kind\": \"none\""));
	free(out);
	assert_int_equal(xen_toolcfg_reduce(c, UUID, "/boot/", &out, why, sizeof(why)),
	    XMIG_ERR_DENIED);
	assert_string_equal(why, "its kernel /lab/vmlinuz is not allowed by domain-kernels-allow "
	    "on this host");

	/* a refusal in the configuration comes out of the reduction as is */
	{
		char *json = patch(lab_json, "\"vnc\": { \"enable\": \"False\" }", "\"vnc\": { }");

		carried(c, json, "hvm1");
		assert_int_equal(xen_toolcfg_reduce(c, UUID, "/lab/", &out, why, sizeof(why)),
		    XMIG_ERR_UNSUPPORTED);
		assert_null(out);
		assert_string_equal(why, "hvm1: vnc: a VNC display is not supported by xmig's "
		    "device model start; set vnc=0");
		free(json);
	}

	/* a disk the domain carries that QEMU would also have emulated, though
	 * the configuration's list does not name it */
	carried(c, lab_json, "hvm1");
	c->nvbds = 1;
	strcpy(c->vbds[0].vdev, "xvda");
	strcpy(c->vbds[0].params, "/dev/vg0/a");
	strcpy(c->vbds[0].script, "block");
	assert_int_equal(xen_toolcfg_reduce(c, UUID, "/lab/", &out, why, sizeof(why)),
	    XMIG_ERR_UNSUPPORTED);
	assert_null(out);
	assert_string_equal(why, "hvm1: disk xvda: libxl gives the first four disks to QEMU as "
	    "emulated IDE disks too, which xmig's device model start does not support; name it "
	    "xvde or later");

	/* and the xl configuration a reboot builds it again from: the same
	 * machine spelled out (xl's defaults for HVM are VNC on and cirrus) */
	carried(c, lab_json, "hvm1");
	assert_int_equal(xen_toolcfg_reduce(c, UUID, "/lab/", &out, why, sizeof(why)), 0);
	{
		static const char *const want[] = { "type = \"hvm\"\n",
			"kernel = \"/lab/vmlinuz\"\n", "ramdisk = \"/lab/guest.cpio.gz\"\n",
			"cmdline = \"console=hvc0 quiet\"\n", "memory = 128\n",
			"device_model_version = \"qemu-xen\"\n", "vga = \"none\"\n",
			"vnc = 0\nsdl = 0\n", "acpi = 1\n", "xen_platform_pci = 1\n",
			"nographic = 0\n", "boot = \"cda\"\n", "on_crash = \"preserve\"\n" };
		char *text = NULL;
		size_t k;

		assert_int_equal(xen_toolcfg_to_xl(out, &text, why, sizeof(why)), 0);
		for (k = 0; k < sizeof(want) / sizeof(want[0]); k++)
			if (strstr(text, want[k]) == NULL)
				fail_msg("no \"%s\" in:\n%s", want[k], text);
		assert_null(strstr(text, "videoram"));
		assert_null(strstr(text, "serial"));
		free(text);
	}
	free(out);
	free(c);
}

/* A BIOS guest's xl configuration keeps its VGA, video RAM, serial port,
 * boot order and the type.hvm booleans it was given; its NIC stays PV
 * only (type=vif: xl's HVM default would add an emulated one). */
static void
test_xl_config_of_a_bios_guest(void **state)
{
	static const char *const want[] = { "vga = \"stdvga\"\n", "videoram = 16\n",
		"serial = \"pty\"\n", "boot = \"c\"\n", "viridian = 1\n", "maxvcpus = 4\n",
		"vcpus = 2\n", "mac=00:16:3e:00:00:21,devid=0,type=vif\"",
		"vdev=xvde,access=rw,target=/dev/vg0/win1\"" };
	char why[256], *text = NULL;
	/* as the reduction leaves it: the NIC's script named */
	char *json = patch(bios_json, "\"nictype\": \"vif\"",
	    "\"nictype\": \"vif\", \"script\": \"vif-bridge\"");
	size_t i;

	(void)state;
	if (xen_toolcfg_to_xl(json, &text, why, sizeof(why)) != 0)
		fail_msg("%s", why);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (strstr(text, want[i]) == NULL)
			fail_msg("no \"%s\" in:\n%s", want[i], text);
	assert_null(strstr(text, "kernel"));
	free(text);
	/* what xmig cannot start is not written either */
	{
		char *j = patch(json, "\"serial\": \"pty\"", "\"serial\": \"vc\"");

		assert_int_equal(xen_toolcfg_to_xl(j, &text, why, sizeof(why)), XMIG_ERR_UNSUPPORTED);
		assert_null(text);
		free(j);
	}
	free(json);
}

/* HPET and VPT_ALIGN: libxl's defaults (on) unless the configuration
 * says otherwise; JSON that does not parse, or a value that is not a
 * defbool, is an error. */
static void
test_hvm_params(void **state)
{
	bool hpet = false, vpt = false;
	char *j;

	(void)state;
	assert_int_equal(xen_dm_hvm_params(lab_json, &hpet, &vpt), 0);
	assert_true(hpet);
	assert_true(vpt);
	j = patch(lab_json, "\"rdm\": { } }", "\"rdm\": { }, \"hpet\": \"False\" }");
	assert_int_equal(xen_dm_hvm_params(j, &hpet, &vpt), 0);
	assert_false(hpet);
	assert_true(vpt);
	free(j);
	j = patch(lab_json, "\"rdm\": { } }", "\"rdm\": { }, \"vpt_align\": 0 }");
	assert_int_equal(xen_dm_hvm_params(j, &hpet, &vpt), XMIG_ERR_INVALID);
	free(j);
	assert_int_equal(xen_dm_hvm_params("{ not json", &hpet, &vpt), XMIG_ERR_INVALID);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lab_guest_argv),
		cmocka_unit_test(test_bios_guest_argv),
		cmocka_unit_test(test_settings_change_the_argv),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_build_refuses_bad_domid_and_fd),
		cmocka_unit_test(test_reduction_keeps_what_the_device_model_needs),
		cmocka_unit_test(test_hvm_params),
		cmocka_unit_test(test_xl_config_of_a_bios_guest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
