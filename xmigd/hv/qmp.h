/* hv/qmp.h - a small synchronous client for QEMU's machine protocol (QMP).
 *
 * The Xen backend talks to an HVM guest's device model over the Unix
 * socket libxl gives it (/var/run/xen/qmp-libxl-<domid>): open reads the
 * greeting and negotiates capabilities, then each command is sent with an
 * id and its reply awaited; asynchronous events that arrive meanwhile are
 * skipped.  QEMU is trusted no more than a peer: every message is bounded
 * in size (a longer one is an error, never a bigger buffer) and every
 * call in time (one deadline per call, so a server that trickles bytes or
 * events cannot hold it).  After a failure the connection is unusable: a
 * late reply could otherwise be taken for the next command's.  One caller
 * at a time per connection.  Plain C and jansson, so it is unit-tested
 * without Xen or QEMU.
 */
#ifndef XMIG_HV_QMP_H
#define XMIG_HV_QMP_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#define QMP_LIBXL_SOCKET_FMT "/var/run/xen/qmp-libxl-%u"	/* libxl's, by domid */
#define QMP_MSG_MAX_DEFAULT (64u << 10)	/* bytes of one message from QEMU */
#define QMP_ERR_MAX 256

struct qmp;

/* Connect to the socket at path, read the greeting, send qmp_capabilities.
 * timeout_ms bounds the whole of it and, until qmp_set_timeout, each later
 * call; msg_max bounds each message read (0: QMP_MSG_MAX_DEFAULT).  NULL on
 * failure, with one line in why. */
struct qmp *qmp_open(const char *path, int timeout_ms, size_t msg_max, char *why,
    size_t whylen);
void qmp_close(struct qmp *q);
void qmp_set_timeout(struct qmp *q, int timeout_ms);
/* The QEMU version the greeting announced ("7.2.0"). */
const char *qmp_version(const struct qmp *q);
/* One line about the last failure: "stop: GenericError: ...", or the
 * transport's ("xen-save-devices-state: no reply within 5000 ms"). */
const char *qmp_error(const struct qmp *q);

/* Run cmd with args (a JSON object, or NULL; borrowed).  0 and, if ret is
 * not NULL, the reply's "return" value (a new reference); or a negative
 * XMIG_ERR_*: _BACKEND for an error reply (QEMU's class and desc in
 * qmp_error), _TIMEOUT, _EOF, _TOO_LONG (a message over msg_max), _INVALID
 * (not QMP), _STATE (an earlier failure left the connection unusable). */
int qmp_execute(struct qmp *q, const char *cmd, json_t *args, json_t **ret);

/* The commands the Xen backend needs. */
int qmp_stop(struct qmp *q);
int qmp_cont(struct qmp *q);
/* xen-save-devices-state: QEMU writes its device state to filename.  live
 * tells QEMU the save is part of a live migration: it then releases its
 * disk images (libxl passes true when migrating, false for a save);
 * "cont" takes them back. */
int qmp_save_devices_state(struct qmp *q, const char *filename, bool live);
int qmp_load_devices_state(struct qmp *q, const char *filename);
/* xen-set-global-dirty-log: QEMU's own writes to guest memory (emulated
 * devices, VRAM) are logged dirty for the pre-copy (libxenguest's
 * switch_qemu_logdirty). */
int qmp_set_global_dirty_log(struct qmp *q, bool enable);
/* query-status: QEMU's run state ("running", "paused", ...) and whether
 * it runs. */
int qmp_query_status(struct qmp *q, char *status, size_t size, bool *running);

#endif
