#!/bin/sh
# One Xen host in QEMU: the lab builds, boots, xmigd runs in dom0 with the
# Xen backend and `xmig list` answers from the hypervisor.  ~1 min.
set -eu
. "$(dirname "$0")/lab.sh"
lab_lock
[ "${XMIG_PREBUILT:-0}" = 1 ] || "$LAB_DIR/build-xmig.sh"
"$LAB_DIR/fetch.sh"
"$LAB_DIR/mkinitrd.sh"
t0=$(date +%s)
pid=""
cleanup() {
	p=$(cat "$LAB_BUILD/logs/smoke.pid" 2>/dev/null || true)
	[ -n "$p" ] && kill "$p" 2>/dev/null || true
}
trap cleanup EXIT INT TERM
HOST_TIMEOUT=${HOST_TIMEOUT:-300} "$LAB_DIR/boot-host.sh" smoke smoke || true
LOG=$LAB_BUILD/logs/smoke.log
grep -a 'LAB\[\|LAB-RESULT\|xmigd:' "$LOG" | tail -60 >&2 || true
lab_log "smoke: $(( $(date +%s) - t0 )) s wall"
grep -aq 'LAB-RESULT smoke-list PASS' "$LOG" || lab_die "xmig list did not show the guest (see $LOG)"
lab_log "PASS: xmig list answers from Xen"
