/* hv/xen_dm.h - the QEMU device model of an HVM guest, started as libxl does.
 *
 * A migrated HVM guest needs its device model at the destination, loading
 * the device state the source's QEMU saved.  From the guest's (untrusted)
 * libxl configuration this decides whether xmig can start that QEMU (a small
 * subset: no display, no emulated disks or NICs, no USB or sound; every
 * refusal one line naming the setting) and builds the command line libxl
 * 4.17's libxl__build_device_model_args_new would build for the guest, in
 * its order, with -incoming.  Plain C and jansson, no Xen headers, so it is
 * unit-tested everywhere (tests/unit/test_xen_dm.c).
 */
#ifndef XMIG_HV_XEN_DM_H
#define XMIG_HV_XEN_DM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#define XEN_DM_QEMU "/usr/libexec/xen-qemu-system-i386"	/* Debian's qemu-xen */
#define XEN_DM_RUN_DIR "/var/run/xen"			/* libxl's XEN_RUN_DIR */
#define XEN_DM_DOMID_MAX 0x7fefu			/* below DOMID_FIRST_RESERVED */

/* What to exec: argv[0] is XEN_DM_QEMU; envp holds "NAME=VALUE" strings to
 * add to the caller's environment (libxl's dm_envs).  Both NULL-terminated,
 * every string malloc'ed. */
struct xen_dm_cmd {
	char **argv;
	char **envp;
};

/* Whether xmig can start the device model of the HVM guest this libxl JSON
 * configuration describes.  0, or XMIG_ERR_UNSUPPORTED (a setting outside
 * the subset) / XMIG_ERR_INVALID (a malformed or hostile value) with one
 * line in why: "NAME: vnc: a VNC display is not supported by ...; set vnc=0". */
int xen_dm_check(const char *json, char *why, size_t whylen);

/* The device model's command for domain domid, loading its state from
 * incoming_fd (-incoming fd:N; the caller keeps it open across exec).
 * Checks as xen_dm_check first; on success the caller frees with
 * xen_dm_cmd_free. */
int xen_dm_cmd_build(const char *json, uint32_t domid, int incoming_fd, struct xen_dm_cmd *cmd,
    char *why, size_t whylen);
void xen_dm_cmd_free(struct xen_dm_cmd *cmd);

/* The HVM parameters libxl sets at creation from the configuration and the
 * save stream does not carry: HPET_ENABLED and VPT_ALIGN (libxl's default
 * for both: on).  0, or XMIG_ERR_INVALID for JSON it cannot read. */
int xen_dm_hvm_params(const char *json, bool *hpet, bool *vpt_align);

/* For xen_toolcfg_reduce: check the configuration in (as xen_dm_check) and
 * set in b_info (the reduced build information) the fields the device
 * model and a later xl create need, and nothing else. */
int xen_dm_reduce(const json_t *in, json_t *b_info, char *why, size_t whylen);

/* For xen_toolcfg_to_xl: the xl.cfg(5) lines that make `xl create` build
 * the same machine and device model (vga, videoram, vnc, boot, serial,
 * acpi, the type.hvm booleans it carries ...), written to out.  Checks as
 * xen_dm_check first. */
int xen_dm_xl_lines(const char *json, FILE *out, char *why, size_t whylen);

#endif
