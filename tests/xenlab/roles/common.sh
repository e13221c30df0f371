# common.sh - helpers for the role scripts run in a lab dom0 (busybox sh).
export PATH=/usr/lib/xen-4.17/bin:/usr/sbin:/usr/bin:/bin:/sbin
ts() { cut -d' ' -f1 /proc/uptime; }
log() { echo "LAB[$(ts)] $*"; }
result() { echo "LAB-RESULT $*"; }
ms() { awk '{ printf "%d", $1 * 1000 }' /proc/uptime; }

# xmigd with the Xen backend, relocation open to the peers named.
start_xmigd() {	# host-name, allow-list
	mkdir -p /etc/xmig /var/lib/xmig
	cat > /etc/xmig/xmigd.conf <<EOC
backend = xen
host-name = $1
relocation-port = 8002
relocation-hosts-allow = $2
control-socket = /run/xmig/xmigd.sock
state-dir = /var/lib/xmig
log-level = verbose
EOC
	xmigd -f -c /etc/xmig/xmigd.conf > /var/log/xmigd.log 2>&1 &
	XMIGD_PID=$!
	for i in $(seq 1 50); do
		[ -S /run/xmig/xmigd.sock ] && { log "xmigd up (pid $XMIGD_PID)"; return 0; }
		kill -0 "$XMIGD_PID" 2>/dev/null || break
		sleep 0.2
	done
	log "xmigd did not start:"; cat /var/log/xmigd.log
	return 1
}
xm() { xmig -S /run/xmig/xmigd.sock "$@"; }

# The guest's ticks as xenconsoled logged them (newest log of that name).
console_log() { ls -t /var/log/xen/guest-"$1"*.log 2>/dev/null | head -1; }
last_tick() {
	f=$(console_log "$1")
	[ -n "$f" ] && grep -o 'TICK [0-9]*' "$f" | tail -1 | cut -d' ' -f2
}
first_tick() {
	f=$(console_log "$1")
	[ -n "$f" ] && grep -o 'TICK [0-9]*' "$f" | head -1 | cut -d' ' -f2
}
# Set aside the console logs of a guest that left: when it comes back,
# xenconsoled may log it under the same file name.
retire_logs() {
	for f in /var/log/xen/guest-"$1"*.log; do [ -f "$f" ] && mv "$f" "$f.old"; done
	return 0
}
# Wait until a command succeeds: wait_for SECONDS what command...
wait_for() {
	t=$1 what=$2
	shift 2
	for i in $(seq 1 "$t"); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 1
	done
	log "timeout after ${t}s waiting for $what"
	return 1
}
has_dom() { xl list "$1" >/dev/null 2>&1; }
# A step the scenario cannot go on without failed: say why, on a line
# run-lab.sh prints, and end the role (the host powers off; run-lab.sh then
# stops the other host instead of letting it wait minutes in vain).
abort() {
	echo "LAB-ABORT $(hostname): $*"
	exit 1
}
# Xen must switch FPU state eagerly (boot-host.sh: spec-ctrl=eager-fpu):
# with lazy switching, QEMU/TCG's emulated SVM corrupts dom0's FPU/SSE state
# while a PVH guest runs, and xl create fails ("unable to XZ decompress
# kernel") - or worse, data dom0 computes is silently wrong.
check_xen() {
	l=$(xl dmesg 2>/dev/null | grep 'Support for HVM VMs' | tail -1)
	if [ -n "$l" ]; then
		case $l in *EAGER_FPU*) return 0 ;; esac
	else	# boot lines gone from the console ring: the command line then
		case " $(xl info | sed -n 's/^xen_commandline *: //p') " in
		*" spec-ctrl=eager-fpu "*) return 0 ;;
		esac
	fi
	abort "Xen switches FPU state lazily here (no spec-ctrl=eager-fpu on its command line): dom0's FPU state gets corrupted while guests run under QEMU/TCG; not running the scenario"
}
# xl create, once more on failure.  A guest that fails to start twice
# aborts the scenario with its own marker, LAB-ABORT-CREATE (run-lab.sh
# exits 3 for it, which CI may retry: software-emulated guests have shown
# rare start-up flakes under load), giving the domain builder's reason
# (xl -vv: libxenguest's detail lines).  Any other failure is no reason to
# retry, so it has no such marker.
create_guest() {	# name, pv|pvh
	for i in 1 2; do
		xl -vv create "/lab/guest-$2.cfg" "name=\"$1\"" > "/tmp/create-$1.log" 2>&1 &&
		    return 0
		CREATE_WHY=$(grep -E 'decompress|xc: error|libxl: error' "/tmp/create-$1.log" |
		    head -2 | sed 's/.*detail: //; s/.*error: //' | tr '\n' ' ')
		log "xl create $1 failed (attempt $i): $CREATE_WHY"
		grep -E 'xc: error|libxl: error|decompress|domainbuilder: detail: xc_dom_find_loader' \
		    "/tmp/create-$1.log" | sed "s/^/  xl create $1: /"
		log "dom0 memory: $(grep -E 'MemFree|MemAvailable' /proc/meminfo | tr -s ' ' | tr '\n' ' ')"
		dmesg | tail -3 | sed 's/^/  dmesg: /'
		sleep 2
	done
	echo "LAB-ABORT-CREATE $(hostname): xl create $1 ($2) failed twice: $CREATE_WHY"
	exit 1
}
ticked() { n=$(last_tick "$1"); [ -n "$n" ] && [ "$n" -ge "$2" ]; }
dump_xmigd() {
	log "xmigd log:"
	grep -v 'xc: detail' /var/log/xmigd.log | sed 's/^/  xmigd: /' | tail -"${1:-40}"
}

# xmig migrate with its --json result on one line: LAB-JSON LABEL {...}
# Sets MIG_RC and MIG_MS (wall time of the command).
xmig_migrate() {	# label, migrate args...
	label=$1
	shift
	t0=$(ms)
	xm migrate --json "$@" > /tmp/mig.json 2> /tmp/mig.err
	MIG_RC=$?
	MIG_MS=$(( $(ms) - t0 ))
	echo "LAB-JSON $label $(tr -d '\n' < /tmp/mig.json)"
	[ -s /tmp/mig.err ] && sed "s/^/  $label stderr: /" /tmp/mig.err
	log "$label: xmig migrate $* -> rc=$MIG_RC in $MIG_MS ms"
}
# The last tick the source logged for a guest that just left: read 1 s
# after the move ended, so that xenconsoled has written out whatever it
# had read from the guest's console ring before the domain went away.
tick_at_end() {	# domain
	sleep 1
	last_tick "$1"
}
# What run-lab.sh compares before and after a move: the guest's UUID, vCPUs
# and memory (MiB) as `xl list -v` shows them ("uuid=... vcpus=N mem=M").
dom_facts() {	# domain
	xl list -v "$1" 2>/dev/null | awk 'NR == 2 { print "uuid=" $7 " vcpus=" $4 " mem=" $3 }'
}
dom_uuid() { xl list -v "$1" 2>/dev/null | awk 'NR == 2 { print $7 }'; }
# Whatever is left here of a guest that moved away: any domain with its
# UUID, under any name, or called NAME or NAME--something (--migratedaway,
# --incoming), as "name(id)" words; nothing when it is all gone.
left_here() {	# name, uuid
	xl list -v 2>/dev/null | awk -v n="$1" -v u="$2" 'NR > 1 &&
	    ((u != "" && $7 == u) || $1 == n || index($1, n "--") == 1) { printf "%s(%s) ", $1, $2 }'
}
gone_here() { [ -z "$(left_here "$1" "$2")" ]; }
# LAB-RESULT LABEL PASS when nothing of the guest is left here within 15 s
# (a destroyed domain may linger while Xen frees it), FAIL naming what is.
judge_gone() {	# label, name, uuid (read before the move)
	if [ -z "$3" ]; then
		result "$1 FAIL no UUID was read before the move"
	elif wait_for 15 "$2 gone from here" gone_here "$2" "$3"; then
		result "$1 PASS"
	else
		result "$1 FAIL left: $(left_here "$2" "$3")"
	fi
}
# Counter check of a guest that just arrived: its console log here starts
# after the move, so no boot line; its first tick, the ticks it made in
# the ~6 s after that was seen (span_ms), and its UUID, vCPUs and memory.
# run-lab.sh judges them against the source's.
check_arrived() {	# label, domain
	wait_for 60 "$2 ticking here" ticked "$2" 1 || true
	t1=$(ms)
	sleep 6
	f=$(console_log "$2")
	first=$(first_tick "$2")
	last=$(last_tick "$2")
	span=$(( $(ms) - t1 ))
	boots=$(grep -c GUEST-UP "$f" 2>/dev/null)
	result "$1 first_tick=${first:-none} last_tick=${last:-none} span_ms=$span boots=${boots:-0} $(dom_facts "$2") log=$f"
}
# xmigd's error lines, for run-lab.sh to judge (each must be one it
# expects), then a line saying they are all there.
report_xmigd_errors() {
	h=$(hostname)
	grep 'xmigd: error: ' /var/log/xmigd.log 2>/dev/null | sed "s/^/LAB-XMIGD-ERROR $h /"
	echo "LAB-XMIGD-ERRORS-END $h $(grep -c 'xmigd: error: ' /var/log/xmigd.log 2>/dev/null)"
}
