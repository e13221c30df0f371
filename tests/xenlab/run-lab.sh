#!/bin/bash
# The full lab: two Xen hosts in QEMU on one virtual network (a QEMU socket
# netdev on 127.0.0.1), xmigd in each dom0 allowing only the other, and the
# scenario of roles/hostA.sh + roles/hostB.sh:
#   PVH guest  xmig migrate -l  A->B->A   (counter must continue; B->A with
#                                          --compress lz4)
#   PV guest   xmig migrate -l  refused (no shadow paging), offline A->B->A
#   PVH guest  xl migrate       A->B      (for the time table)
# Passes only if every step did; prints the xmig-vs-xl table.
# usage: run-lab.sh [--report]   (--report: only judge the last run's logs)
# Env: XMIG_PREBUILT=1 uses build/xenlab/bin as it is; HOST_TIMEOUT (s,
# default 900) bounds each QEMU; LAB_PORT.
set -euo pipefail
. "$(dirname "$0")/lab.sh"
LOGS=$LAB_BUILD/logs
t0=$(date +%s)
if [ "${1:-}" != --report ]; then
	lab_lock
	! lab_port_busy || lab_die "127.0.0.1:$LAB_PORT is in use (a lab left running?): ss -ltnp 'sport = :$LAB_PORT'"
	[ "${XMIG_PREBUILT:-0}" = 1 ] || "$LAB_DIR/build-xmig.sh"
	"$LAB_DIR/fetch.sh"
	"$LAB_DIR/mkinitrd.sh"
	mkdir -p "$LOGS"
	rm -f "$LOGS/A.log" "$LOGS/B.log"
	pidA="" pidB=""
	kill_host() {	# name: its QEMU, by the pid QEMU wrote
		local p
		p=$(cat "$LOGS/$1.pid" 2>/dev/null || true)
		[ -n "$p" ] && kill "$p" 2>/dev/null || true
	}
	alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }
	cleanup() {
		kill_host A
		kill_host B
		for p in $pidA $pidB; do kill "$p" 2>/dev/null || true; done
	}
	trap cleanup EXIT INT TERM
	export HOST_TIMEOUT=${HOST_TIMEOUT:-900}
	# B listens on the lab network, so it starts first.
	"$LAB_DIR/boot-host.sh" B hostB 10.99.0.2 listen & pidB=$!
	sleep 2
	alive "$pidB" || { head -3 "$LOGS/B.log" >&2; lab_die "host B's QEMU did not start"; }
	"$LAB_DIR/boot-host.sh" A hostA 10.99.0.1 connect & pidA=$!
	# A drives the scenario and is the last to finish: once A is off, B
	# has nothing left to do (30 s to end on its own).  A role that aborted
	# (LAB-ABORT) ends the other host's too, instead of minutes of waiting.
	tA="" tB=""
	while alive "$pidA" || alive "$pidB"; do
		now=$(date +%s)
		if [ -z "$tB" ] && alive "$pidB" && { ! alive "$pidA" ||
		    grep -aq '^LAB-ABORT' "$LOGS/A.log" 2>/dev/null; }; then
			tB=$((now + 30))
		fi
		if [ -z "$tA" ] && alive "$pidA" && { ! alive "$pidB" ||
		    grep -aq '^LAB-ABORT' "$LOGS/B.log" 2>/dev/null; } &&
		    ! grep -aq 'role hostB finished rc=0' "$LOGS/B.log" 2>/dev/null; then
			tA=$((now + 30))
		fi
		[ -n "$tB" ] && [ "$now" -ge "$tB" ] && alive "$pidB" &&
		    { lab_log "A is done: stopping B"; kill_host B; tB=$((now + 3600)); }
		[ -n "$tA" ] && [ "$now" -ge "$tA" ] && alive "$pidA" &&
		    { lab_log "B is done or aborted: stopping A"; kill_host A; tA=$((now + 3600)); }
		sleep 1
	done
	wait || true
	pidA="" pidB=""
	lab_log "both hosts powered off after $(( $(date +%s) - t0 )) s"
fi

# Serial lines end in \r.
res() { grep -ah "^LAB-RESULT $1 " "$LOGS/A.log" "$LOGS/B.log" | head -1 | cut -d' ' -f3- | tr -d '\r'; }
field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<< "$2"; }
json() { grep -ah "^LAB-JSON $1 " "$LOGS/A.log" "$LOGS/B.log" | head -1 | cut -d' ' -f3- | tr -d '\r'; }
jq_or() { local j; j=$(json "$1"); [ -n "$j" ] && jq -r "$2 // \"-\"" <<< "$j" 2>/dev/null || echo "-"; }
grep -ah '^LAB-RESULT\|^LAB-JSON' "$LOGS/A.log" "$LOGS/B.log" | sed 's/^/  /' >&2 || true
{ grep -ah '^LAB-ABORT' "$LOGS/A.log" "$LOGS/B.log" || true; } | tr -d '\r' |
    while read -r _ why; do lab_log "scenario aborted on $why"; done

fails=0
check() {	# description, condition result
	if [ "$2" = yes ]; then lab_log "ok   $1"; else lab_log "FAIL $1"; fails=$((fails + 1)); fi
}
yes_if() { if "$@"; then echo yes; else echo no; fi; }
pass() { [[ "$(res "$1")" == PASS* ]]; }
ok_rc() { [ "$(field rc "$(res "$1")")" = 0 ]; }
# The counter at the destination continues from the source's.
continues() {	# migration label, arrival label
	local start first boots
	start=$(field tick_at_start "$(res "$1")")
	first=$(field first_tick "$(res "$2")")
	boots=$(field boots "$(res "$2")")
	[ -n "$start" ] && [ -n "$first" ] && [ "$first" != none ] &&
	    [ "$first" -gt "$start" ] && [ "${boots:-1}" = 0 ]
}
check "PVH xmig live A->B succeeded" "$(yes_if ok_rc pvh-live-AB)"
check "PVH gone from A after A->B" "$(yes_if pass pvh-live-AB-source-gone)"
check "PVH counter continued on B" "$(yes_if continues pvh-live-AB pvh-live-AB-arrived)"
check "PVH xmig live B->A succeeded" "$(yes_if ok_rc pvh-live-BA)"
check "PVH gone from B after B->A" "$(yes_if pass pvh-live-BA-source-gone)"
check "PVH counter continued on A" "$(yes_if continues pvh-live-BA pvh-live-BA-arrived)"
check "PV live refused, guest kept running" "$(yes_if pass pv-live-refused)"
check "PV xmig offline A->B succeeded" "$(yes_if ok_rc pv-offline-AB)"
check "PV gone from A after A->B" "$(yes_if pass pv-offline-AB-source-gone)"
check "PV counter continued on B" "$(yes_if continues pv-offline-AB pv-offline-AB-arrived)"
check "PV xmig offline B->A succeeded" "$(yes_if ok_rc pv-offline-BA)"
check "PV counter continued on A" "$(yes_if continues pv-offline-BA pv-offline-BA-arrived)"
check "xmig --json reports the figures" "$(yes_if test "$(jq_or pvh-live-AB .total_ms)" != -)"
# (B->A ran with --compress lz4: the stream's chunks went compressed)
check "--compress lz4 shrank the libxenguest stream B->A" \
    "$(yes_if test "$(jq_or pvh-live-BA '.compressed_bytes > 0 and .compressed_wire_bytes < .compressed_bytes')" = true)"
check "xl migrate A->B (reference) succeeded" "$(yes_if ok_rc xl-live-AB)"
check "xl destroy works on a domain xmigd restored" "$(yes_if pass xl-destroy-restored)"
check "a restored domain that powers off is reaped" "$(yes_if pass poweroff-reaped)"

printf '\n%-22s %-5s %-8s %10s %10s %8s %12s\n' migration tool mode "wall ms" "total ms" \
    "down ms" "bytes" >&2
row() {	# label, tool, mode
	printf '%-22s %-5s %-8s %10s %10s %8s %12s\n' "$1" "$2" "$3" \
	    "$(field ms "$(res "$1")")" "$(jq_or "$1" .total_ms)" "$(jq_or "$1" .downtime_ms)" \
	    "$(jq_or "$1" .bytes_sent)" >&2
}
row pvh-live-AB xmig live
row pvh-live-BA xmig live
row pv-offline-AB xmig offline
row pv-offline-BA xmig offline
row xl-live-AB xl live
lab_log "lab: $(( $(date +%s) - t0 )) s wall, $fails failed"
[ "$fails" = 0 ]
