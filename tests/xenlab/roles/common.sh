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
device-bridges-allow = br0
device-disks-allow = /dev/vda /shared/
domain-kernels-allow = /lab/
EOC
	# (a fault point that does nothing until a scenario arms it: hostA.sh 1b)
	XMIG_FAULT=xen-fail-after-suspend xmigd -f -c /etc/xmig/xmigd.conf \
	    > /var/log/xmigd.log 2>&1 &
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
create_guest() {	# name, pv|pvh, [more configuration, e.g. on_reboot="..."]
	for i in 1 2; do
		xl -vv create "/lab/guest-$2.cfg" "name=\"$1\"" ${3:+"$3"} > "/tmp/create-$1.log" 2>&1 &&
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
	# every save's pump figures (docs/performance.md: the copy-free pump)
	grep -a 'saved in' /var/log/xmigd.log | sed "s/^/LAB-PUMP $(hostname) /"
	# the receiver's restore and unpause, step by step
	grep -a "unpaused: \|after the stream's end: \|built .* as domain" /var/log/xmigd.log |
	    sed "s/^/LAB-STEPS $(hostname) /"
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
# The device guest moved live by xmig, judged at the source: LAB-RESULT
# LABEL (rc, ms, its last tick and disk writes here, its shape), then
# LABEL-source-gone and LABEL-source-clean.  MOVE_T0 and MOVE_T1: the
# move's start and end (ms of uptime).
# xmig migrate [FLAGS] DOMAIN HOST as LABEL: the facts run-lab.sh compares
# and the last tick before and after, and the domain judged gone from here.
xmig_move() {	# label, domain, host, migrate flags...
	mv_l=$1 mv_d=$2 mv_h=$3
	shift 3
	facts=$(dom_facts "$mv_d")
	uuid=$(dom_uuid "$mv_d")
	before=$(last_tick "$mv_d")
	xmig_migrate "$mv_l" "$@" "$mv_d" "$mv_h"
	result "$mv_l rc=$MIG_RC ms=$MIG_MS tick_at_start=$before tick_at_end=$(tick_at_end "$mv_d") $facts"
	judge_gone "$mv_l-source-gone" "$mv_d" "$uuid"
}
xmig_move_dev() {	# label, domain, host
	id=$(xl domid "$2")
	facts=$(dom_facts "$2")
	uuid=$(dom_uuid "$2")
	before=$(last_tick "$2")
	MOVE_T0=$(ms)
	xmig_migrate "$1" -l "$2" "$3"
	MOVE_T1=$((MOVE_T0 + MIG_MS))
	result "$1 rc=$MIG_RC ms=$MIG_MS tick_at_start=$before tick_at_end=$(tick_at_end "$2") disk_at_end=$(last_disk "$2") file_at_end=$(last_disk "$2" FILE) $facts"
	judge_gone "$1-source-gone" "$2" "$uuid"
	judge_clean "$1-source-clean" "$id"
}
# xl migrate DOMAIN to the other host's one-shot receiver (hostB.sh, port
# 5000): LAB-RESULT LABEL rc=.. ms=.. tick_at_start=.. tick_at_end=..
# [disk_at_end=..].  Sets XL_RC, XL_T0 and XL_T1 (ms of uptime).
xl_migrate_to() {	# label, domain, host
	XL_BEFORE=$(last_tick "$2")
	XL_T0=$(ms)
	xl migrate -s "" "$2" "socat -b 262144 - TCP:$3:5000" > /tmp/xlmig.out 2>&1
	XL_RC=$?
	XL_T1=$(ms)
	d=$(last_disk "$2") fd=$(last_disk "$2" FILE)
	result "$1 rc=$XL_RC ms=$((XL_T1 - XL_T0)) tick_at_start=$XL_BEFORE tick_at_end=$(tick_at_end "$2")${d:+ disk_at_end=$d}${fd:+ file_at_end=$fd}"
	tail -3 /tmp/xlmig.out | sed 's/^/  xl: /'
}
# The last tick the source logged for a guest that just left: read 1 s
# after the move ended, so that xenconsoled has written out whatever it
# had read from the guest's console ring before the domain went away.
tick_at_end() {	# domain
	sleep 1
	last_tick "$1"
}
# An HVM guest's QEMU: its pid (libxl's and xmigd's image/device-model-pid).
dm_pid() { xenstore-read "/local/domain/$(xl domid "$1")/image/device-model-pid" 2>/dev/null; }
# The QEMU of domain ID is gone: no process (a zombie that nobody reaped
# counts as gone), no QMP socket, no device-model node.
dm_gone() {	# pid, domid
	{ [ ! -d "/proc/$1" ] || grep -q '^State:[[:space:]]*Z' "/proc/$1/status"; } &&
	    [ ! -e "/var/run/xen/qmp-libxl-$2" ] &&
	    ! xenstore-exists "/local/domain/0/device-model/$2" 2>/dev/null
}
# The end of the QEMU log of a guest that did not arrive here.
dm_log() { tail -5 "/var/log/xen/qemu-dm-$1.log" 2>/dev/null | sed "s/^/  qemu-dm-$1: /"; }
# LAB-RESULT LABEL PASS when the source's QEMU went with the guest (15 s).
judge_dm_gone() {	# label, pid, domid (read before the move)
	if [ -z "$2" ]; then
		result "$1 FAIL no device model pid was read before the move"
	elif wait_for 15 "device model $2 gone" dm_gone "$2" "$3"; then
		result "$1 PASS"
	else
		result "$1 FAIL pid $2 state=$(grep '^State' "/proc/$2/status" 2>/dev/null | tr -s '\t ' ' ') qmp=$(ls /var/run/xen/qmp-libxl-"$3" 2>/dev/null)"
	fi
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
	result "$1 first_tick=${first:-none} last_tick=${last:-none} span_ms=$span boots=${boots:-0} $(dom_facts "$2") $(disk_facts "$2") log=$f"
}
# The device guest's disk writers (mkinitrd.sh), from its console log:
# DISK lines for xvdb (phy:), FILE lines for xvdd (file:).
last_disk() {	# domain, [tag]
	f=$(console_log "$1")
	[ -n "$f" ] && grep -o "${2:-DISK} [0-9]* ok" "$f" | tail -1 | cut -d' ' -f2
}
disk_ok() {	# domain, good writes at least (on both disks)
	f=$(console_log "$1")
	[ -n "$f" ] && [ "$(grep -c 'DISK [0-9]* ok' "$f")" -ge "$2" ] &&
	    [ "$(grep -c 'FILE [0-9]* ok' "$f")" -ge "$2" ]
}
disk_facts() {	# domain
	f=$(console_log "$1")
	[ -n "$f" ] || { echo "disk_first=none disk_last=none disk_bad=none"; return; }
	for t in DISK FILE; do
		case $t in DISK) p=disk ;; *) p=file ;; esac
		printf '%s ' "${p}_first=$(grep -o "$t [0-9]*" "$f" | head -1 | cut -d' ' -f2)" \
		    "${p}_last=$(grep -o "$t [0-9]* ok" "$f" | tail -1 | cut -d' ' -f2)" \
		    "${p}_bad=$(grep -c "$t [0-9]* BAD\|$t none" "$f")"
	done
	echo
}
# What dom0 still holds of a domain's devices: backend and libxl nodes, vif
# interfaces; nothing when it is all gone.
dev_leftovers() {	# domid
	for p in /local/domain/0/backend/vif/$1 /local/domain/0/backend/vbd/$1 /libxl/$1; do
		xenstore-read "$p" >/dev/null 2>&1 && printf '%s ' "$p"
	done
	ip -o link 2>/dev/null | grep -o "vif$1\.[0-9]*" | tr '\n' ' '
	# (a loop device on the shared folder: the device guest's file: disk,
	# which only the host running it may hold)
	losetup -a 2>/dev/null | grep -o '/shared/[^ )]*' | sed 's/^/loop:/' | tr '\n' ' '
}
# Why a guest stopped answering, from its console: the first panic, BUG,
# oops or OOM report, else its last lines.
guest_trouble() {	# domain
	f=$(console_log "$1")
	[ -n "$f" ] || return 0
	log "$1: $(xl list "$1" 2>&1 | tail -1)"
	{ grep -a -m1 -B2 -A30 'Kernel panic\|BUG:\|Oops\|Out of memory\|invoked oom' "$f" ||
	    tail -15 "$f"; } | sed "s/^/  $1 console: /"
}
clean_here() { [ -z "$(dev_leftovers "$1")" ]; }
judge_clean() {	# label, domid (the guest's, here, before it left)
	if wait_for 15 "domain $2's devices gone" clean_here "$2"; then
		result "$1 PASS"
	else
		result "$1 FAIL left: $(dev_leftovers "$2")"
	fi
}
# The device guest's TCP stream as the client here logged it ("UPTIME SEQ
# n"): whether every number came once and in order, and the longest silence
# within each of two windows (ms of uptime): what the guest's users saw of
# each move.
tcp_report() {	# log, from1 to1 from2 to2
	awk -v now="$(ms)" -v a0="$2" -v a1="$3" -v b0="$4" -v b1="$5" '
	$2 == "SEQ" {
		t = $1 * 1000; n = $3 + 0
		if (cnt) {
			if (n != prev + 1) bad++
			g = t - pt
			if (t >= a0 && pt <= a1 && g > ga) ga = g
			if (t >= b0 && pt <= b1 && g > gb) gb = g
		} else first = n
		cnt++; prev = n; pt = t
	}
	END {	# (a line stamped after "now" was taken: age 0)
		age = now - pt; if (age < 0) age = 0
		printf "first=%d last=%d lines=%d out_of_order=%d gap_ab_ms=%d gap_ba_ms=%d last_line_age_ms=%d",
		    first, prev, cnt, bad, ga, gb, age }' "$1"
}
# Lost pings within two windows (ms of uptime), from a log of ping's
# replies stamped as above: the sequence numbers missing between replies.
ping_report() {	# log, from1 to1 from2 to2
	awk -v a0="$2" -v a1="$3" -v b0="$4" -v b1="$5" '
	{ for (i = 2; i <= NF; i++) if ($i ~ /^seq=/) { n = substr($i, 5) + 0; break }
	  if (i > NF) next
	  t = $1 * 1000
	  if (cnt) {
		lost = n - prev - 1
		if (t >= a0 && pt <= a1) la += lost
		if (t >= b0 && pt <= b1) lb += lost
	  }
	  cnt++; prev = n; pt = t }
	END { printf "ping_replies=%d ping_lost_ab=%d ping_lost_ba=%d", cnt, la, lb }' "$1"
}
# Stamp each line of stdin with this host's uptime (no fork per line).
stamp() {
	while read -r l; do
		read -r up _ < /proc/uptime
		echo "$up $l"
	done
}
# The device guest up: ticking, reachable, writing its disk; then a TCP
# client here reads its SEQ stream into TCPLOG and ping asks it every
# 100 ms into PINGLOG, each line stamped.  The client's stdin never ends: a
# busybox nc whose stdin ends closes the connection.
start_dev_guest() {	# name, tcplog, pinglog, [configuration: dev; s to tick: 90]
	create_guest "$1" "${4:-dev}"
	wait_for "${5:-90}" "$1 ticking" ticked "$1" 5
	wait_for 60 "$1 answering ping" ping -c 1 -W 1 10.99.0.10 ||
	    abort "$1 not reachable at 10.99.0.10 over br0"
	wait_for 60 "$1 writing its disks" disk_ok "$1" 3 || abort "$1 does not write its disks"
	(sleep 100000 | nc 10.99.0.10 7000 | stamp > "$2") &
	(ping -i 0.1 10.99.0.10 | stamp > "$3") &
	wait_for 30 "$1's TCP stream" grep -q SEQ "$2" || abort "no TCP stream from $1"
}
# A guest that rebooted here: xmigd built it again (xl create) under a new
# id, with the same UUID, and it booted once more (its new console log
# starts with GUEST-UP) and ticks.  Prints "old_id=.. new_id=.. uuid=..
# boots=.."; 0 when all that holds within 150 s.
rebuilt() {	# domain, old id, uuid, [s to tick again: 90; an HVM guest's BIOS takes longer]
	wait_for 150 "$1 built again" sh -c "id=\$(xl domid $1 2>/dev/null) && [ -n \"\$id\" ] && [ \"\$id\" != $2 ]"
	wait_for "${4:-90}" "$1 ticking again" ticked "$1" 3
	nid=$(xl domid "$1" 2>/dev/null)
	nu=$(dom_uuid "$1")
	f=$(console_log "$1")
	nb=$(grep -c GUEST-UP "$f" 2>/dev/null)
	echo "old_id=$2 new_id=${nid:-none} uuid_same=$([ "$nu" = "$3" ] && echo yes || echo no) boots=${nb:-0} log=$f"
	[ -n "$nid" ] && [ "$nid" != "$2" ] && [ "$nu" = "$3" ] && [ "${nb:-0}" = 1 ] && ticked "$1" 3
}
# xmigd's error lines, for run-lab.sh to judge (each must be one it
# expects), then a line saying they are all there.
report_xmigd_errors() {
	h=$(hostname)
	grep 'xmigd: error: ' /var/log/xmigd.log 2>/dev/null | sed "s/^/LAB-XMIGD-ERROR $h /"
	echo "LAB-XMIGD-ERRORS-END $h $(grep -c 'xmigd: error: ' /var/log/xmigd.log 2>/dev/null)"
}
