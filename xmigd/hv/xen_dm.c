/* hv/xen_dm.c - decide whether xmig can start an HVM guest's QEMU, and its
 * command line as libxl 4.17 builds it.
 *
 * The source's QEMU saved its device state; the QEMU started here must
 * have the same devices or the load fails (or, worse, a device is
 * silently missing).  So the command line is libxl's
 * (libxl__build_device_model_args_new for qemu-xen without stubdomain,
 * dm_restrict or channels), argument for argument and in the same order,
 * and a configuration is accepted only when every setting that changes
 * that command line is one handled here.  A setting this file does not
 * know is refused, not ignored: a later libxl's field may add a device.
 *
 * libxl's JSON leaves out what is at its default (defbools, memory sizes,
 * enums); where libxl's default differs from "off" it is spelled out
 * below (VNC on, cirrus VGA, emulated NICs for HVM).
 */
#include "hv/xen_dm.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devpolicy.h"
#include "hv/xen.h"
#include "xerr.h"

#define DM_MAX_SERIAL 4		/* libxl has no limit; four ISA ports is what a PC has */
#define DM_STR_MAX 1024

enum dm_vga { DM_VGA_NONE, DM_VGA_STD, DM_VGA_CIRRUS };

/* The device model's inputs, checked; strings point into the JSON tree. */
struct dm {
	const char *name;
	const char *kernel, *ramdisk, *cmdline;
	const char *boot;
	const char *serial[DM_MAX_SERIAL];
	size_t nserial;
	bool serial_list;	/* serial given as a list (kept as one) */
	enum dm_vga vga;
	json_int_t max_memkb, video_memkb;
	json_int_t max_vcpus, navail;
	bool acpi, hvm_acpi, platform_pci, nographic;
};

static int __attribute__((format(printf, 5, 6)))
refuse(char *why, size_t whylen, int code, const char *name, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(why, whylen, "%s: ", name);

	if (n >= 0 && (size_t)n < whylen) {
		va_start(ap, fmt);
		vsnprintf(why + n, whylen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return code;
}

#define UNSUP(...) refuse(why, whylen, XMIG_ERR_UNSUPPORTED, d->name, __VA_ARGS__)
#define BAD(...) refuse(why, whylen, XMIG_ERR_INVALID, d->name, __VA_ARGS__)

/* libxl's defbool in JSON: "True", "False" or "<default>"; absent is the
 * default. */
static int
defbool(const json_t *o, const char *key, bool def, bool *out)
{
	const json_t *v = json_object_get(o, key);
	const char *s;

	*out = def;
	if (v == NULL)
		return 0;
	if (!json_is_string(v))
		return -1;
	s = json_string_value(v);
	if (strcmp(s, "True") == 0)
		*out = true;
	else if (strcmp(s, "False") == 0)
		*out = false;
	else if (strcmp(s, "<default>") != 0)
		return -1;
	return 0;
}

/* A string field: absent (NULL), or a string without NUL of at most
 * DM_STR_MAX bytes; -1 otherwise. */
static int
str(const json_t *o, const char *key, const char **out)
{
	const json_t *v = json_object_get(o, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v) ||
	    json_string_length(v) > DM_STR_MAX)
		return -1;
	*out = json_string_value(v);
	return 0;
}

/* An integer field in [min, max]; absent leaves *out. */
static int
num(const json_t *o, const char *key, json_int_t min, json_int_t max, json_int_t *out)
{
	const json_t *v = json_object_get(o, key);

	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return -1;
	*out = json_integer_value(v);
	return 0;
}

/* Absent, null or an empty list (libxl leaves out empty lists). */
static bool
none(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return v == NULL || json_is_null(v) || (json_is_array(v) && json_array_size(v) == 0);
}

/* Printable ASCII: what a command-line argument from a peer may hold (no
 * newline to split a log line, no escape sequence). */
static bool
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s < 0x20 || *s > 0x7e)
			return false;
	return true;
}

/* A kernel or ramdisk QEMU opens: absolute and clean.  No ',' either:
 * QEMU splits -initrd at commas for a multiboot kernel's modules. */
static bool
dm_path_ok(const char *s)
{
	return dp_path_clean(s, strlen(s)) && strchr(s, ',') == NULL;
}

/* libxl's disk numbering (libxl__device_disk_dev_number) for the names
 * xmig reads: "xvd" and letters in bijective base 26 (xvda = 0, xvdz = 25,
 * xvdaa = 26), then an optional partition number.  -1 if not of that form. */
static long
xvd_index(const char *vdev)
{
	const char *p = vdev + 3;
	long n = 0;

	if (strncmp(vdev, "xvd", 3) != 0 || *p < 'a' || *p > 'z')
		return -1;
	for (; *p >= 'a' && *p <= 'z'; p++) {
		n = n * 26 + (*p - 'a' + 1);
		if (n > (1L << 20))
			return -1;
	}
	if (*p != '\0') {
		if (*p == '0')
			return -1;
		for (; *p >= '0' && *p <= '9'; p++)
			;
		if (*p != '\0' || strlen(vdev) > 16)
			return -1;
	}
	return n - 1;
}

/* The guest's disks: libxl gives QEMU every disk it can number below 4 as
 * an emulated IDE disk (hd*, xvda..xvdd), every sd* as SCSI, and CD-ROMs;
 * the guest then sees them twice until its PV drivers unplug them.  Only
 * disks QEMU never sees are accepted. */
static int
check_disks(const struct dm *d, const json_t *disks, char *why, size_t whylen)
{
	const json_t *disk;
	size_t i;

	if (disks == NULL || json_is_null(disks))
		return 0;
	if (!json_is_array(disks) || json_array_size(disks) > XEN_CFG_MAX_VBDS * 4)
		return BAD("disks: not a list xmig reads");
	json_array_foreach(disks, i, disk) {
		const char *vdev, *backend, *format;
		json_int_t cdrom = 0;
		long idx;

		if (!json_is_object(disk) || str(disk, "vdev", &vdev) != 0 || vdev == NULL ||
		    !printable(vdev) || strlen(vdev) > 32)
			return BAD("disk %zu: no virtual device name xmig reads", i);
		if (num(disk, "is_cdrom", 0, 1, &cdrom) != 0 || cdrom != 0)
			return UNSUP("disk %s: a CD-ROM is emulated by QEMU, which xmig's device "
			    "model start does not support", vdev);
		if (str(disk, "backend", &backend) != 0 ||
		    (backend != NULL && strcmp(backend, "phy") != 0))
			return UNSUP("disk %s: backend %s is not supported by xmig's device model "
			    "start; only phy (blkback)", vdev, backend ? backend : "?");
		if (str(disk, "format", &format) != 0 ||
		    (format != NULL && strcmp(format, "raw") != 0))
			return UNSUP("disk %s: format %s would be served by QEMU; only raw",
			    vdev, format ? format : "?");
		if (strncmp(vdev, "hd", 2) == 0 || strncmp(vdev, "sd", 2) == 0)
			return UNSUP("disk %s: libxl gives it to QEMU as an emulated %s disk, which "
			    "xmig's device model start does not support; name it xvde or later",
			    vdev, vdev[0] == 'h' ? "IDE" : "SCSI");
		if ((idx = xvd_index(vdev)) < 0)
			return UNSUP("disk %s: not a name xmig reads (xvdX)", vdev);
		if (idx < 4)
			return UNSUP("disk %s: libxl gives the first four disks to QEMU as emulated "
			    "IDE disks too, which xmig's device model start does not support; name "
			    "it xvde or later", vdev);
	}
	return 0;
}

/* NICs: libxl's default for an HVM guest is vif_ioemu, a PV interface and
 * an emulated one in QEMU on a tap; only PV ones (type=vif) are accepted. */
static int
check_nics(const struct dm *d, const json_t *nics, char *why, size_t whylen)
{
	const json_t *nic;
	size_t i;

	if (nics == NULL || json_is_null(nics))
		return 0;
	if (!json_is_array(nics) || json_array_size(nics) > XEN_CFG_MAX_VIFS * 4)
		return BAD("nics: not a list xmig reads");
	json_array_foreach(nics, i, nic) {
		const char *type;
		json_int_t devid = (json_int_t)i;

		if (!json_is_object(nic) || num(nic, "devid", 0, 0xffff, &devid) != 0 ||
		    str(nic, "nictype", &type) != 0)
			return BAD("nic %zu: not one xmig reads", i);
		if (type == NULL || strcmp(type, "vif") != 0)
			return UNSUP("nic %lld: an emulated NIC (type ioemu, libxl's default for "
			    "HVM) is not supported by xmig's device model start; set type=vif",
			    (long long)devid);
	}
	return 0;
}

/* Configuration lists whose devices QEMU serves or libxl hands to it. */
static const char *const dm_lists[] = { "pcidevs", "rdms", "dtdevs", "vfbs", "vkbs", "vtpms",
	"p9s", "pvcallsifs", "vdispls", "vsnds", "channels", "usbctrls", "usbdevs" };

/* type.hvm: each field libxl 4.17 has, and what it does to the device
 * model; fields not here are refused. */
static const char *const hvm_kept[] = { "pae", "nx", "hpet", "vpt_align", "acpi_s3", "acpi_s4",
	"acpi_laptop_slate", "viridian", "apic", "vkb_device" };	/* not QEMU's: carried */
static const char *const hvm_dm[] = { "bios", "acpi", "xen_platform_pci", "nographic", "vga",
	"vnc", "sdl", "spice", "serial", "serial_list", "boot", "usb", "usbversion",
	"usbdevice", "usbdevice_list", "soundhw", "keymap", "gfx_passthru",
	"gfx_passthru_kind", "hdtype", "vendor_device", "mmio_hole_memkb", "rdm" };

static bool
listed(const char *const *list, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(list[i], key) == 0)
			return true;
	return false;
}

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* A display (vnc, sdl, spice) must be off; libxl turns VNC on by default. */
static int
display_off(const struct dm *d, const json_t *h, const char *key, bool def, const char *what,
    char *why, size_t whylen)	/* what: "a VNC" */
{
	const json_t *o = json_object_get(h, key);
	bool on;

	if (o != NULL && !json_is_object(o))
		return BAD("%s: not an object", key);
	if (defbool(o, "enable", def, &on) != 0)
		return BAD("%s: enable is not a boolean", key);
	if (on)
		return UNSUP("%s: %s display is not supported by xmig's device model start; "
		    "set %s=0", key, what, key);
	return 0;
}

static int
serial_ok(const char *s)
{
	return s != NULL && (strcmp(s, "pty") == 0 || strcmp(s, "none") == 0);
}

static int
read_hvm(struct dm *d, const json_t *h, char *why, size_t whylen)
{
	const json_t *v, *vga;
	const char *key, *s;
	json_int_t n = 0;
	bool b;
	size_t i;
	int r;

	if (!json_is_object(h))
		return BAD("type.hvm: its HVM build information is missing");
	json_object_foreach((json_t *)h, key, v) {
		if (!listed(hvm_kept, NELEM(hvm_kept), key) && !listed(hvm_dm, NELEM(hvm_dm), key))
			return UNSUP("%s: a setting xmig's device model start does not know",
			    printable(key) && strlen(key) < 64 ? key : "?");
	}
	for (i = 0; i < NELEM(hvm_kept); i++)
		if (defbool(h, hvm_kept[i], false, &b) != 0)
			return BAD("%s: not a boolean", hvm_kept[i]);
	if (str(h, "bios", &s) != 0 || (s != NULL && strcmp(s, "seabios") != 0))
		return UNSUP("bios: only SeaBIOS is supported by xmig's device model start");
	if (defbool(h, "acpi", true, &d->hvm_acpi) != 0 ||
	    defbool(h, "xen_platform_pci", true, &d->platform_pci) != 0 ||
	    defbool(h, "nographic", false, &d->nographic) != 0)
		return BAD("%s", "acpi, xen_platform_pci or nographic: not a boolean");

	/* libxl's default VGA for HVM is cirrus */
	d->vga = DM_VGA_CIRRUS;
	if ((vga = json_object_get(h, "vga")) != NULL) {
		if (!json_is_object(vga) || str(vga, "kind", &s) != 0 || json_object_size(vga) >
		    (s != NULL ? 1u : 0u))
			return BAD("%s", "vga: not one xmig reads");
		if (s == NULL || strcmp(s, "cirrus") == 0)
			d->vga = DM_VGA_CIRRUS;
		else if (strcmp(s, "std") == 0)
			d->vga = DM_VGA_STD;
		else if (strcmp(s, "none") == 0)
			d->vga = DM_VGA_NONE;
		else
			return UNSUP("vga: %s is not supported by xmig's device model start; set "
			    "vga=\"none\", \"stdvga\" or \"cirrus\"", printable(s) ? s : "?");
	}
	if ((r = display_off(d, h, "vnc", true, "a VNC", why, whylen)) != 0 ||
	    (r = display_off(d, h, "sdl", false, "an SDL", why, whylen)) != 0 ||
	    (r = display_off(d, h, "spice", false, "a SPICE", why, whylen)) != 0)
		return r;
	if (str(h, "keymap", &s) != 0 || s != NULL)
		return UNSUP("%s", "keymap: a keyboard layout is for a display, which xmig's device "
		    "model start does not support");
	if (defbool(h, "gfx_passthru", false, &b) != 0 || b)
		return UNSUP("%s", "gfx_passthru: graphics passthrough cannot move");

	/* serial: one string or a list, not both (libxl refuses both) */
	if (json_object_get(h, "serial") != NULL && json_object_get(h, "serial_list") != NULL)
		return BAD("%s", "serial: both serial and serial_list are set");
	if (json_object_get(h, "serial") != NULL) {
		if (str(h, "serial", &s) != 0 || !serial_ok(s))
			return UNSUP("serial: %s is not supported by xmig's device model start; "
			    "only \"pty\" or \"none\"", s != NULL && printable(s) ? s : "this");
		d->serial[d->nserial++] = s;
	} else if ((v = json_object_get(h, "serial_list")) != NULL) {
		const json_t *e;

		if (!json_is_array(v) || json_array_size(v) > DM_MAX_SERIAL)
			return UNSUP("serial: more than %d ports, or not a list", DM_MAX_SERIAL);
		d->serial_list = true;
		json_array_foreach(v, i, e) {
			s = json_is_string(e) ? json_string_value(e) : NULL;
			if (!serial_ok(s))
				return UNSUP("serial: %s is not supported by xmig's device model "
				    "start; only \"pty\" or \"none\"",
				    s != NULL && printable(s) && strlen(s) < 64 ? s : "this");
			d->serial[d->nserial++] = s;
		}
	}

	/* libxl's default boot order; QEMU refuses a letter given twice */
	if (str(h, "boot", &d->boot) != 0)
		return BAD("%s", "boot: not a string");
	if (d->boot == NULL)
		d->boot = "cda";
	if (d->boot[0] == '\0' || strlen(d->boot) > 4 || strspn(d->boot, "acdn") != strlen(d->boot))
		return BAD("%s", "boot: not a boot order of a, c, d and n");
	for (i = 0; d->boot[i] != '\0'; i++)
		if (strchr(d->boot + i + 1, d->boot[i]) != NULL)
			return BAD("%s", "boot: a device given twice");

	if (defbool(h, "usb", false, &b) != 0 || b || num(h, "usbversion", 0, 0, &n) != 0 ||
	    json_object_get(h, "usbdevice") != NULL || !none(h, "usbdevice_list"))
		return UNSUP("%s", "usb: USB controllers and devices are not supported by xmig's "
		    "device model start; remove usb, usbversion and usbdevice");
	if (json_object_get(h, "soundhw") != NULL)
		return UNSUP("%s", "soundhw: sound hardware is not supported by xmig's device model "
		    "start");
	if (str(h, "hdtype", &s) != 0 || (s != NULL && strcmp(s, "ide") != 0))
		return UNSUP("%s", "hdtype: an AHCI controller is not supported by xmig's device "
		    "model start");
	if (str(h, "vendor_device", &s) != 0 || (s != NULL && strcmp(s, "none") != 0))
		return UNSUP("%s", "vendor_device: the XenServer PV device is not supported by xmig's "
		    "device model start");
	if (num(h, "mmio_hole_memkb", 0, 0, &n) != 0)
		return UNSUP("%s", "mmio_hole: a custom MMIO hole is not supported by xmig's device "
		    "model start");
	if ((v = json_object_get(h, "rdm")) != NULL && (!json_is_object(v) || json_object_size(v)))
		return UNSUP("%s", "rdm: reserved device memory is for passthrough, which cannot move");
	return 0;
}

/* The build information around type.hvm: vCPUs, memory, direct kernel
 * boot, and what must be off (stubdomain, a peer's device model, its extra
 * arguments). */
static int
read_build(struct dm *d, const json_t *b, char *why, size_t whylen)
{
	static const char *const refused[] = { "device_model", "device_model_user",
		"device_model_ssid_label", "stubdomain_kernel", "stubdomain_ramdisk",
		"stubdomain_cmdline", "stubdomain_memkb", "bootloader", "bootloader_args" };
	const json_t *av, *e;
	const char *s;
	json_int_t n = 0;
	bool b2;
	size_t i;

	if (!json_is_object(b))
		return BAD("%s", "it has no build information");
	if (str(b, "device_model_version", &s) != 0 || (s != NULL && strcmp(s, "qemu_xen") != 0))
		return UNSUP("device_model_version: %s is not supported by xmig's device model "
		    "start; only qemu_xen", s != NULL && printable(s) ? s : "this");
	if (defbool(b, "device_model_stubdomain", false, &b2) != 0 || b2)
		return UNSUP("%s", "device_model_stubdomain_override: a stub domain is not supported "
		    "by xmig's device model start");
	for (i = 0; i < NELEM(refused); i++)
		if (json_object_get(b, refused[i]) != NULL && !json_is_null(json_object_get(b,
		    refused[i])) && !(json_is_array(json_object_get(b, refused[i])) &&
		    json_array_size(json_object_get(b, refused[i])) == 0))
			return UNSUP("%s: not supported for an HVM guest by xmig's device model "
			    "start", refused[i]);
	if (num(b, "device_model_ssidref", 0, 0, &n) != 0)
		return UNSUP("%s", "device_model_ssidref: not supported by xmig's device model start");
	if (defbool(b, "dm_restrict", false, &b2) != 0 || b2)
		return UNSUP("%s", "dm_restrict: a deprivileged device model is not supported by "
		    "xmig's device model start");
	if (!none(b, "extra") || !none(b, "extra_hvm") || !none(b, "extra_pv"))
		return UNSUP("%s", "device_model_args: QEMU arguments from the configuration are not "
		    "passed by xmig's device model start");
	if (defbool(b, "acpi", true, &d->acpi) != 0)
		return BAD("%s", "acpi: not a boolean");
	if (defbool(b, "apic", true, &b2) != 0)
		return BAD("%s", "apic: not a boolean");

	/* memory: required (xl always writes it); QEMU gets maxmem minus video
	 * RAM, in MiB through libxl's 32-bit rounding, which must not wrap */
	d->max_memkb = -1;
	if (num(b, "max_memkb", 1024, (json_int_t)XEN_CFG_MAX_KB, &d->max_memkb) != 0 ||
	    d->max_memkb < 0)
		return BAD("%s", "maxmem: missing or out of range");
	d->video_memkb = d->vga == DM_VGA_STD ? 16 * 1024 : d->vga == DM_VGA_CIRRUS ? 8 * 1024 : 0;
	if (num(b, "video_memkb", 0, d->max_memkb - 1024, &d->video_memkb) != 0)
		return BAD("%s", "videoram: out of range");
	if ((d->vga == DM_VGA_STD && d->video_memkb < 16 * 1024) ||
	    (d->vga == DM_VGA_CIRRUS && d->video_memkb < 8 * 1024))
		return BAD("videoram: at least %d MiB for this VGA (libxl refuses less)",
		    d->vga == DM_VGA_STD ? 16 : 8);
	if (d->max_memkb - d->video_memkb > (json_int_t)UINT32_MAX - 1023)
		return UNSUP("%s", "maxmem: 4 TiB or more, which libxl cannot give QEMU");

	d->max_vcpus = 1;
	if (num(b, "max_vcpus", 1, XEN_CFG_MAX_VCPUS, &d->max_vcpus) != 0)
		return BAD("maxvcpus: not 1..%d", XEN_CFG_MAX_VCPUS);
	d->navail = 1;
	if ((av = json_object_get(b, "avail_vcpus")) != NULL) {
		if (!json_is_array(av) || json_array_size(av) == 0 ||
		    json_array_size(av) > (size_t)d->max_vcpus)
			return BAD("%s", "vcpus: not a list of online vCPUs within maxvcpus");
		json_array_foreach(av, i, e)
			if (!json_is_integer(e) || json_integer_value(e) < 0 ||
			    json_integer_value(e) >= d->max_vcpus ||
			    (i > 0 && json_integer_value(e) <=
			    json_integer_value(json_array_get(av, i - 1))))
				return BAD("%s", "vcpus: not a list of online vCPUs within maxvcpus");
		d->navail = (json_int_t)json_array_size(av);
	}

	if (str(b, "kernel", &d->kernel) != 0 || str(b, "ramdisk", &d->ramdisk) != 0 ||
	    str(b, "cmdline", &d->cmdline) != 0)
		return BAD("%s", "kernel, ramdisk or cmdline: not a string");
	if (d->kernel != NULL && !dm_path_ok(d->kernel))
		return BAD("%s", "kernel: not an absolute, clean path without commas");
	if (d->ramdisk != NULL && !dm_path_ok(d->ramdisk))
		return BAD("%s", "ramdisk: not an absolute, clean path without commas");
	/* QEMU 7.2 takes -append's value as it is (no option parsing), so
	 * commas are fine; control characters are not */
	if (d->cmdline != NULL && !printable(d->cmdline))
		return BAD("%s", "cmdline: has characters xmig does not pass (control or non-ASCII)");
	if (d->kernel == NULL && (d->ramdisk != NULL || d->cmdline != NULL))
		return BAD("%s", "ramdisk or cmdline: without a kernel (libxl refuses it)");
	return 0;
}

/* The whole check; the tree root must outlive d. */
static int
dm_read(const json_t *root, struct dm *d, char *why, size_t whylen)
{
	const json_t *ci, *b;
	const char *type;
	size_t i;
	int r;

	memset(d, 0, sizeof(*d));
	d->name = "the guest";
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (!json_is_object(root))
		return BAD("%s", "its configuration is not a JSON object");
	ci = json_object_get(root, "c_info");
	if (str(ci, "type", &type) != 0 || type == NULL || strcmp(type, "hvm") != 0)
		return BAD("%s", "not an HVM guest");
	if (str(ci, "name", &d->name) != 0 || d->name == NULL || d->name[0] == '\0' ||
	    strlen(d->name) >= HV_NAME_MAX || !printable(d->name)) {
		d->name = "the guest";
		return BAD("%s", "name: missing, or not printable ASCII");
	}
	/* QEMU reads -name as options (guest=NAME,...): a ',' is escaped as
	 * ",,", but an '=' would make it an option's name */
	if (strchr(d->name, '=') != NULL)
		return BAD("%s", "name: an '=' which QEMU's -name cannot take");
	b = json_object_get(root, "b_info");
	if ((r = read_hvm(d, json_object_get(b, "type.hvm"), why, whylen)) != 0 ||
	    (r = read_build(d, b, why, whylen)) != 0)
		return r;
	for (i = 0; i < NELEM(dm_lists); i++)
		if (!none(root, dm_lists[i]))
			return UNSUP("%s: not supported by xmig's device model start", dm_lists[i]);
	if ((r = check_disks(d, json_object_get(root, "disks"), why, whylen)) != 0)
		return r;
	return check_nics(d, json_object_get(root, "nics"), why, whylen);
}

static json_t *
parse(const char *json, char *why, size_t whylen)
{
	json_t *root;

	if (strlen(json) > XEN_TOOLCFG_MAX || (root = json_loads(json, JSON_REJECT_DUPLICATES,
	    NULL)) == NULL) {
		snprintf(why, whylen, "the guest: its configuration is not JSON xmig reads");
		return NULL;
	}
	return root;
}

int
xen_dm_check(const char *json, char *why, size_t whylen)
{
	struct dm d;
	json_t *root = parse(json, why, whylen);
	int r;

	if (root == NULL)
		return XMIG_ERR_INVALID;
	r = dm_read(root, &d, why, whylen);
	json_decref(root);
	return r;
}

int
xen_dm_hvm_params(const char *json, bool *hpet, bool *vpt_align)
{
	char why[256];
	json_t *root = parse(json, why, sizeof(why));
	const json_t *h;
	int r = XMIG_ERR_INVALID;

	*hpet = *vpt_align = true;
	if (root == NULL)
		return r;
	h = json_object_get(json_object_get(root, "b_info"), "type.hvm");
	if (defbool(h, "hpet", true, hpet) == 0 && defbool(h, "vpt_align", true, vpt_align) == 0)
		r = 0;
	json_decref(root);
	return r;
}

int
xen_dm_reduce(const json_t *in, json_t *b_info, char *why, size_t whylen)
{
	static const char *const vga[] = { [DM_VGA_NONE] = "none", [DM_VGA_STD] = "std",
		[DM_VGA_CIRRUS] = "cirrus" };
	const json_t *ib = json_object_get(in, "b_info"), *ih = json_object_get(ib, "type.hvm");
	struct dm d;
	json_t *h, *o;
	bool bv;
	size_t i;
	int r;

	if ((r = dm_read(in, &d, why, whylen)) != 0)
		return r;

	/* what libxl would otherwise default differently: written out */
	json_object_set_new(b_info, "device_model_version", json_string("qemu_xen"));
	json_object_set_new(b_info, "video_memkb", json_integer(d.video_memkb));
	json_object_set_new(b_info, "acpi", json_string(d.acpi ? "True" : "False"));
	if (defbool(ib, "apic", true, &bv) == 0 && json_object_get(ib, "apic") != NULL)
		json_object_set_new(b_info, "apic", json_string(bv ? "True" : "False"));
	h = json_object();
	json_object_set_new(b_info, "type.hvm", h);
	for (i = 0; i < NELEM(hvm_kept); i++)
		if (json_object_get(ih, hvm_kept[i]) != NULL && defbool(ih, hvm_kept[i], false,
		    &bv) == 0)
			json_object_set_new(h, hvm_kept[i], json_string(bv ? "True" : "False"));
	json_object_set_new(h, "acpi", json_string(d.hvm_acpi ? "True" : "False"));
	json_object_set_new(h, "nographic", json_string(d.nographic ? "True" : "False"));
	json_object_set_new(h, "xen_platform_pci", json_string(d.platform_pci ? "True" : "False"));
	json_object_set_new(h, "vga", json_pack("{s:s}", "kind", vga[d.vga]));
	json_object_set_new(h, "vnc", json_pack("{s:s}", "enable", "False"));
	json_object_set_new(h, "sdl", json_pack("{s:s}", "enable", "False"));
	json_object_set_new(h, "boot", json_string(d.boot));
	if (d.serial_list) {
		o = json_array();
		for (i = 0; i < d.nserial; i++)
			json_array_append_new(o, json_string(d.serial[i]));
		json_object_set_new(h, "serial_list", o);
	} else if (d.nserial == 1) {
		json_object_set_new(h, "serial", json_string(d.serial[0]));
	}
	return 0;
}

int
xen_dm_xl_lines(const char *json, FILE *out, char *why, size_t whylen)
{
	/* xl.cfg's names of libxl's VGA kinds */
	static const char *const vga[] = { [DM_VGA_NONE] = "none", [DM_VGA_STD] = "stdvga",
		[DM_VGA_CIRRUS] = "cirrus" };
	const json_t *ib, *ih;
	json_t *root;
	struct dm d;
	bool bv;
	size_t i;
	int r;

	if ((root = parse(json, why, whylen)) == NULL)
		return XMIG_ERR_INVALID;
	if ((r = dm_read(root, &d, why, whylen)) != 0) {
		json_decref(root);
		return r;
	}
	ib = json_object_get(root, "b_info");
	ih = json_object_get(ib, "type.hvm");
	/* every value below was checked by dm_read (paths, boot letters,
	 * serial kinds): none needs quoting */
	fprintf(out, "device_model_version = \"qemu-xen\"\n");
	fprintf(out, "vga = \"%s\"\n", vga[d.vga]);
	if (d.vga != DM_VGA_NONE)
		fprintf(out, "videoram = %lld\n", (long long)(d.video_memkb / 1024));
	fprintf(out, "vnc = 0\nsdl = 0\n");
	fprintf(out, "acpi = %d\n", d.acpi && d.hvm_acpi);
	fprintf(out, "xen_platform_pci = %d\n", d.platform_pci);
	fprintf(out, "nographic = %d\n", d.nographic);
	fprintf(out, "boot = \"%s\"\n", d.boot);
	if (d.serial_list) {
		fprintf(out, "serial = [");
		for (i = 0; i < d.nserial; i++)
			fprintf(out, "%s \"%s\"", i ? "," : "", d.serial[i]);
		fprintf(out, " ]\n");
	} else if (d.nserial == 1) {
		fprintf(out, "serial = \"%s\"\n", d.serial[0]);
	}
	/* the booleans given (left out: libxl's default, as when created) */
	for (i = 0; i < NELEM(hvm_kept); i++)
		if (json_object_get(ih, hvm_kept[i]) != NULL &&
		    defbool(ih, hvm_kept[i], false, &bv) == 0)
			fprintf(out, "%s = %d\n", hvm_kept[i], bv);
	if (json_object_get(ih, "apic") == NULL && json_object_get(ib, "apic") != NULL &&
	    defbool(ib, "apic", true, &bv) == 0)
		fprintf(out, "apic = %d\n", bv);
	json_decref(root);
	return 0;
}

/* A growing NULL-terminated vector of malloc'ed strings; a failed append
 * is sticky and reported at the end. */
struct vec {
	char **v;
	size_t n, cap;
	bool failed;
};

static void __attribute__((format(printf, 2, 3)))
add(struct vec *a, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int r;

	if (a->failed)
		return;
	if (a->n + 2 > a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 32;
		char **nv = realloc(a->v, cap * sizeof(*nv));

		if (nv == NULL) {
			a->failed = true;
			return;
		}
		a->v = nv;
		a->cap = cap;
	}
	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0) {
		a->failed = true;
		return;
	}
	a->v[a->n++] = s;
	a->v[a->n] = NULL;
}

static void
vec_free(char **v)
{
	size_t i;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* -name NAME with QEMU's option escaping: ',' doubled. */
static void
add_name(struct vec *a, const char *name)
{
	char buf[2 * HV_NAME_MAX];
	size_t i, j = 0;

	for (i = 0; name[i] != '\0' && j + 2 < sizeof(buf); i++) {
		buf[j++] = name[i];
		if (name[i] == ',')
			buf[j++] = ',';
	}
	buf[j] = '\0';
	add(a, "%s", buf);
}

int
xen_dm_cmd_build(const char *json, uint32_t domid, int incoming_fd, struct xen_dm_cmd *cmd,
    char *why, size_t whylen)
{
	struct vec a = { 0 }, e = { 0 };
	struct dm d;
	json_t *root;
	size_t i;
	int r;

	cmd->argv = cmd->envp = NULL;
	if (domid == 0 || domid > XEN_DM_DOMID_MAX || incoming_fd < 0) {
		snprintf(why, whylen, "the guest: domain %u or descriptor %d cannot have a device "
		    "model", domid, incoming_fd);
		return XMIG_ERR_INVALID;
	}
	if ((root = parse(json, why, whylen)) == NULL)
		return XMIG_ERR_INVALID;
	if ((r = dm_read(root, &d, why, whylen)) != 0) {
		json_decref(root);
		return r;
	}

	/* XSA-180: qemu-xen limits what the guest can make it write to its
	 * log; libxl sets 1 MiB unless the administrator chose a limit */
	if (getenv("XEN_QEMU_CONSOLE_LIMIT") == NULL)
		add(&e, "XEN_QEMU_CONSOLE_LIMIT=1048576");
	add(&a, "%s", XEN_DM_QEMU);
	add(&a, "-xen-domid");
	add(&a, "%u", domid);
	add(&a, "-no-shutdown");
	add(&a, "-chardev");
	add(&a, "socket,id=libxl-cmd,path=%s/qmp-libxl-%u,server=on,wait=off", XEN_DM_RUN_DIR,
	    domid);
	add(&a, "-mon");
	add(&a, "chardev=libxl-cmd,mode=control");
	add(&a, "-chardev");
	add(&a, "socket,id=libxenstat-cmd,path=%s/qmp-libxenstat-%u,server=on,wait=off",
	    XEN_DM_RUN_DIR, domid);
	add(&a, "-mon");
	add(&a, "chardev=libxenstat-cmd,mode=control");
	add(&a, "-nodefaults");
	add(&a, "-no-user-config");
	add(&a, "-name");
	add_name(&a, d.name);
	add(&a, "-vnc");
	add(&a, "none");
	add(&a, "-display");
	add(&a, "none");
	if (d.kernel != NULL) {
		add(&a, "-kernel");
		add(&a, "%s", d.kernel);
	}
	if (d.ramdisk != NULL) {
		add(&a, "-initrd");
		add(&a, "%s", d.ramdisk);
	}
	if (d.cmdline != NULL) {
		add(&a, "-append");
		add(&a, "%s", d.cmdline);
	}
	for (i = 0; i < d.nserial; i++) {
		add(&a, "-serial");
		add(&a, "%s", d.serial[i]);
	}
	if (d.nographic)
		add(&a, "-nographic");
	if (d.vga != DM_VGA_NONE) {
		add(&a, "-device");
		add(&a, "%s,vgamem_mb=%u", d.vga == DM_VGA_STD ? "VGA" : "cirrus-vga",
		    (unsigned)((d.video_memkb + 1023) / 1024));
	}
	add(&a, "-boot");
	add(&a, "order=%s", d.boot);
	if (!(d.acpi && d.hvm_acpi))
		add(&a, "-no-acpi");
	if (d.max_vcpus > 1) {
		add(&a, "-smp");
		add(&a, "%lld,maxcpus=%lld", (long long)d.navail, (long long)d.max_vcpus);
	}
	add(&a, "-net");	/* no emulated NIC */
	add(&a, "none");
	add(&a, "-incoming");
	add(&a, "fd:%d", incoming_fd);
	add(&a, "-machine");
	add(&a, "%s", d.platform_pci ? "xenfv,suppress-vmdesc=on" :
	    "pc,accel=xen,suppress-vmdesc=on");
	add(&a, "-m");
	add(&a, "%llu", (unsigned long long)((d.max_memkb - d.video_memkb + 1023) / 1024));
	add(&e, "XEN_DOMAIN_ID=%u", domid);
	json_decref(root);
	if (a.failed || e.failed || a.v == NULL || e.v == NULL) {
		vec_free(a.v);
		vec_free(e.v);
		snprintf(why, whylen, "the guest: out of memory building its device model's command");
		return XMIG_ERR_NOMEM;
	}
	cmd->argv = a.v;
	cmd->envp = e.v;
	return 0;
}

void
xen_dm_cmd_free(struct xen_dm_cmd *cmd)
{
	if (cmd == NULL)
		return;
	vec_free(cmd->argv);
	vec_free(cmd->envp);
	cmd->argv = cmd->envp = NULL;
}
