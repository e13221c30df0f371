#!/usr/bin/env bash
# qemu_busy.sh - the busy peer baseline of `make bench` (issue 5): QEMU's own
# pre-copy migration of a guest that dirties memory at a known rate, to set
# beside xmig's busy-WWS-RATE scenarios on the sim.
#
# A real guest under TCG (no KVM on this machine): Debian's kernel and an
# initramfs whose /init is qemu_guest/dirtier.c, which allocates the
# writable working set (wws), writes one word into a random page of it at
# RATE pages/s (paced like the sim's workload), checks once a second that
# no write was lost, and prints what it did on ttyS0.  With --fill random
# it first fills the rest of the guest's free memory with random data, as
# the sim's `--fill random` domains are; with --fill zero the rest stays
# untouched.  After --measure seconds at its rate, the guest is migrated to
# a second QEMU on 127.0.0.1 (same command line, -incoming) by QMP:
# max-bandwidth unlimited, downtime-limit 300 ms (xmigd's default target),
# as qemu_peer.sh does.  RAM is a file in a private directory of --dir
# (tmpfs by default) on both sides, like the sim's domains.  Then the guest
# must go on at the destination without a lost write.  Prints one JSON
# object (fields: docs/qemu-comparison.md).
#
#   qemu_busy.sh --mem 1G --wws 64M --rate 20000 [--fill zero|random]
#       [--pattern random|seq] [--tlb-flush on|off] [--multifd N]
#       [--measure S] [--dir DIR] [--boot-timeout S] [--timeout S]
#
# QEMU before 9.0 loses writes of a TCG guest during pre-copy (see
# qemu_guest/dirtier.c and docs/qemu-comparison.md): here the guest then
# panicked at the destination in 1 of 47 runs on a quiet host, 2 of 3 with
# a core busy.  --tlb-flush off (the default) measures QEMU as shipped, and
# a run the bug spoils says so ("valid": false, exit 1); --tlb-flush on has
# the guest flush its TLB every 1 ms, which works around the bug for
# 10-25 % more of a host core.
# The guest (kernel download, dirtier build) is made by qemu_guest/build.sh
# in $QEMU_GUEST_DIR (default $BUILD/bench/qemu-guest, BUILD=build).
# Exit: 0 migrated, guest running, nothing lost; 1 otherwise (a JSON object
# is still printed once the migration has started: "status",
# "guest_running_after", "lost_writes" say what happened); 2 bad
# arguments; 77 a tool is missing (tools/bench/install-deps.sh).
# Traffic: 127.0.0.1 only.  Everything it starts or creates is removed on
# exit (the guest's build folder stays, as a cache; QEMU_BUSY_KEEP=1 keeps
# the consoles and logs for a post-mortem).
set -euo pipefail

ROOTDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOTDIR/$BUILD ;; esac
GUEST=${QEMU_GUEST_DIR:-$BUILD/bench/qemu-guest}

mem=1G wws=64M rate=20000 fill=random pattern=random multifd=0 measure=5 dir=/dev/shm flush_tlb=off
boot_timeout=300 mig_timeout=600
usage() {
	echo "usage: qemu_busy.sh --mem SIZE --wws SIZE --rate PAGES_PER_S [--fill zero|random]" \
	    "[--pattern random|seq] [--tlb-flush on|off] [--multifd N] [--measure S] [--dir DIR]" \
	    "[--boot-timeout S]" \
	    "[--timeout S]" >&2
	exit 2
}
bad() { echo "qemu_busy.sh: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
	[ $# -ge 2 ] || case $1 in -h|--help) usage ;; *) bad "$1 needs a value" ;; esac
	case $1 in
	--mem) mem=$2 ;;
	--wws) wws=$2 ;;
	--rate) rate=$2 ;;
	--fill) fill=$2 ;;
	--pattern) pattern=$2 ;;
	--tlb-flush) flush_tlb=$2 ;;
	--multifd) multifd=$2 ;;
	--measure) measure=$2 ;;
	--dir) dir=$2 ;;
	--boot-timeout) boot_timeout=$2 ;;
	--timeout) mig_timeout=$2 ;;
	*) echo "qemu_busy.sh: unknown argument '$1'" >&2; usage ;;
	esac
	shift 2
done
mib() {	# 256M, 1G -> MiB
	[[ $1 =~ ^([0-9]+)([MG])$ ]] || return 1
	if [ "${BASH_REMATCH[2]}" = G ]; then echo $((BASH_REMATCH[1] << 10)); else echo "${BASH_REMATCH[1]}"; fi
}
mem_mib=$(mib "$mem") || bad "--mem is like 512M or 1G"
wws_mib=$(mib "$wws") || bad "--wws is like 64M or 1G"
[[ $rate =~ ^[0-9]+$ ]] && [ "$rate" -le 10000000 ] || bad "--rate is pages/s, 0..10000000"
case $fill in zero|random) ;; *) bad "--fill is zero or random" ;; esac
case $pattern in random|seq) ;; *) bad "--pattern is random or seq" ;; esac
case $flush_tlb in on|off) ;; *) bad "--tlb-flush is on or off" ;; esac
[[ $multifd =~ ^[0-9]+$ ]] || bad "--multifd is a number"
[[ $measure =~ ^[0-9]+$ ]] && [ "$measure" -ge 1 ] || bad "--measure is a number of seconds >= 1"
[[ $boot_timeout =~ ^[0-9]+$ ]] || bad "--boot-timeout is a number of seconds"
[[ $mig_timeout =~ ^[0-9]+$ ]] || bad "--timeout is a number of seconds"
[ "$mem_mib" -ge 256 ] || bad "--mem must be at least 256M (the guest kernel needs about 100 MiB)"
[ "$wws_mib" -ge 1 ] && [ "$wws_mib" -le $((mem_mib - 192)) ] ||
    bad "--wws must be 1M..--mem minus 192M (the kernel's and the reserve's share)"
[ -d "$dir" ] || bad "--dir $dir is not a directory"

for c in qemu-system-x86_64 socat jq cpio gcc apt-get dpkg-deb flock; do
	command -v "$c" >/dev/null && continue
	"$ROOTDIR/tools/bench/install-deps.sh" --if-missing >&2 || true
	command -v "$c" >/dev/null ||
	    { echo "qemu_busy.sh: $c is not installed (tools/bench/install-deps.sh)" >&2; exit 77; }
done
"$ROOTDIR/tools/bench/qemu_guest/build.sh" "$GUEST" ||
    { echo "qemu_busy.sh: cannot build the guest in $GUEST" >&2; exit 1; }

T=$(mktemp -d "$dir/xmig-qemu-busy.XXXXXX")
pids=()
QMP_PID=""	# set by coproc
cleanup() {
	local p
	[ -n "${QMP_PID:-}" ] && kill "$QMP_PID" 2>/dev/null
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null || true
	done
	if [ -n "${QEMU_BUSY_KEEP:-}" ]; then
		rm -f "$T"/*.ram
		echo "qemu_busy.sh: kept $T" >&2
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
die() {
	local f
	echo "qemu_busy.sh: $*" >&2
	for f in "$T"/*.log "$T"/*.console; do
		[ -s "$f" ] || continue
		echo "---- $(basename "$f") (last 10 lines)" >&2
		tail -n 10 "$f" >&2
	done
	exit 1
}
now() { echo "$EPOCHREALTIME"; }

# Every console line, prefixed with the host's clock: the guest's own clock
# could run slow under TCG, the host's says what rate it really reached.
stamp() {
	local l
	while IFS= read -r l; do printf '%s %s\n' "$EPOCHREALTIME" "${l%$'\r'}"; done
}
truncate -s "${mem_mib}M" "$T/src.ram" "$T/dst.ram"
port=$((30000 + RANDOM % 20000))
append="console=ttyS0 quiet panic=-1 -- --wws $wws_mib --rate $rate --fill $fill --pattern $pattern --flush-tlb $([ "$flush_tlb" = on ] && echo 1 || echo 0)"
qemu() {	# side, extra args...
	local side=$1
	shift
	qemu-system-x86_64 -nodefaults -display none -accel tcg -machine pc,memory-backend=ram \
	    -m "${mem_mib}M" -smp 1 -no-reboot \
	    -object "memory-backend-file,id=ram,size=${mem_mib}M,mem-path=$T/$side.ram,share=on" \
	    -kernel "$GUEST/vmlinuz" -initrd "$GUEST/initramfs.cpio.gz" -append "$append" \
	    -serial stdio -qmp "unix:$T/$side.qmp,server=on,wait=off" "$@" \
	    </dev/null 2>"$T/$side.log" > >(stamp >"$T/$side.console") &
	pids+=($!)
}
: >"$T/src.console"
: >"$T/dst.console"
t_start=$(now)
qemu dst -incoming "tcp:127.0.0.1:$port"
qemu src
alive() { kill -0 "${pids[1]}" 2>/dev/null; }

# Per-second lines of a console, after the READY line (the destination's
# has none: it starts when the guest arrives): "host_time pages ns total lost".
samples() {
	awk -v r="$([[ $1 == */dst.console ]] && echo 1 || echo 0)" '/XMIG-DIRTIER READY/ { r = 1; next }
	    r && / XMIG-DIRTIER sec=/ { for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	        print $1, v["pages"], v["ns"], v["total"], v["lost"] }' "$1"
}
# rates FILE FROM_LINE COUNT [HOST_FROM HOST_TO]: "guest host n": the rate
# over COUNT samples (0: all) in the guest's clock, the same in the host's
# (from the line before the first; null without one), how many samples.
rates() {
	samples "$1" | awk -v from="$2" -v cnt="$3" -v h0="${4:-0}" -v h1="${5:-1e30}" '
	    NR >= from && (cnt == 0 || n < cnt) && $1 >= h0 && $1 <= h1 {
	        if (n == 0) { th = pt; tt = ptot; hasprev = NR > 1 }
	        n++; p += $2; ns += $3; lh = $1; ltot = $4 }
	    { pt = $1; ptot = $4 }
	    END { if (n == 0) { print "null null 0"; exit }
	        hr = (hasprev && lh > th) ? sprintf("%.0f", (ltot - tt) / (lh - th)) : "null"
	        printf "%.0f %s %d\n", p * 1e9 / ns, hr, n }'
}

# ---- boot, fill, then --measure seconds at the rate (after 2 to settle)
deadline=$(( ${t_start%.*} + boot_timeout ))
t_ready="" cpu0="" cpu0_t=""
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/${pids[1]}/stat"; }
while :; do
	alive || die "the source QEMU exited while the guest booted"
	grep -q 'XMIG-DIRTIER ERROR' "$T/src.console" && die "the guest failed"
	if [ -z "$t_ready" ] && grep -q 'XMIG-DIRTIER READY' "$T/src.console"; then
		t_ready=$(grep -m1 'XMIG-DIRTIER READY' "$T/src.console" | cut -d' ' -f1)
	fi
	n=0
	[ -n "$t_ready" ] && n=$(samples "$T/src.console" | wc -l)
	# what the source QEMU (the guest's vCPU, mostly) costs the host
	[ "$n" -ge 2 ] && [ -z "$cpu0" ] && { cpu0=$(cpu_ticks); cpu0_t=$(now); }
	[ "$n" -ge $((measure + 2)) ] && break
	[ "${EPOCHSECONDS}" -lt "$deadline" ] ||
	    die "the guest did not run its workload within --boot-timeout $boot_timeout s"
	sleep 0.2
done
src_cpu=$(awk -v a="$cpu0" -v b="$(cpu_ticks)" -v t0="$cpu0_t" -v t1="$(now)" -v hz="$(getconf CLK_TCK)" \
    'BEGIN { printf "%.0f", (b - a) / hz / (t1 - t0) * 100 }')
fill_ms=$(grep -m1 -o 'fill_ms=[0-9]*' "$T/src.console" | cut -d= -f2)
read -r rate_guest rate_host nsamp < <(rates "$T/src.console" 3 "$measure")
[ "$nsamp" -ge "$measure" ] || die "only $nsamp samples of the guest's rate"
if [ "$rate" -gt 0 ] && [ $((rate_guest * 100)) -lt $((rate * 95)) ]; then
	echo "qemu_busy.sh: the guest reaches only $rate_guest of $rate pages/s under TCG" >&2
fi

# ---- migrate: one QMP session to the source, queries every 0.2 s
coproc QMP { exec socat - "UNIX-CONNECT:$T/src.qmp"; }
qmp() {	# JSON -> the reply line in REPLY_LINE (events are skipped)
	local l
	printf '%s\n' "$1" >&"${QMP[1]}"
	while IFS= read -r -t 30 l <&"${QMP[0]}"; do
		case $l in '{"return"'* | '{"error"'*) REPLY_LINE=$l; return 0 ;; esac
	done
	die "no QMP reply to $1"
}
qmp_dst() {	# one-shot session with the destination; prints the reply
	{ echo '{"execute":"qmp_capabilities"}'; echo "$1"; sleep 0.2; } |
	    socat - "UNIX-CONNECT:$T/dst.qmp" 2>/dev/null | grep -E '^\{"(return|error)"' | tail -n +2
}
qmp '{"execute":"qmp_capabilities"}'
if [ "$multifd" -gt 0 ]; then
	caps='{"execute":"migrate-set-capabilities","arguments":{"capabilities":[{"capability":"multifd","state":true}]}}'
	chans="{\"execute\":\"migrate-set-parameters\",\"arguments\":{\"multifd-channels\":$multifd}}"
	qmp_dst "$caps" >/dev/null
	qmp_dst "$chans" >/dev/null
	qmp "$caps"
	qmp "$chans"
fi
# max-bandwidth in bytes/s: QEMU's default caps it at 128 MiB/s.
qmp '{"execute":"migrate-set-parameters","arguments":{"max-bandwidth":100000000000,"downtime-limit":300}}'
t_mig=$(now)
qmp "{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"tcp:127.0.0.1:$port\"}}"
case $REPLY_LINE in '{"error"'*) die "migrate refused: $REPLY_LINE" ;; esac
status="" r=""
mig_deadline=$(( EPOCHSECONDS + mig_timeout ))
while :; do
	qmp '{"execute":"query-migrate"}'
	r=$REPLY_LINE
	[[ $r =~ \"status\":\ *\"([a-z-]+)\" ]] && status=${BASH_REMATCH[1]}
	case $status in completed|failed|cancelled) break ;; esac
	if [ "$EPOCHSECONDS" -ge "$mig_deadline" ]; then
		status=timeout
		printf '%s\n' '{"execute":"migrate_cancel"}' >&"${QMP[1]}"
		break
	fi
	alive || { status=source-exited; break; }
	sleep 0.2
done
t_end=$(now)

# ---- the guest goes on at the destination
# (the dirtier checks its wws once a second: a write the migration lost
# shows in its "lost" count; a lost write elsewhere may crash the kernel)
running_after=false rate_after=null lost=null panic=false
if [ "$status" = completed ]; then
	for _ in $(seq 150); do		# 30 s for 3 lines of the dirtier's
		[ "$(samples "$T/dst.console" | wc -l)" -ge 3 ] && break
		grep -q 'Kernel panic' "$T/dst.console" && break
		sleep 0.2
	done
	qmp_dst '{"execute":"query-status"}' | grep -q '"status": *"running"' && running_after=true
	grep -q 'Kernel panic' "$T/dst.console" && { panic=true; running_after=false; }
	read -r rate_after _ _ < <(rates "$T/dst.console" 1 0)
	if [ "$(samples "$T/dst.console" | wc -l)" -ge 2 ]; then
		lost=$(( $(samples "$T/dst.console" | tail -n 1 | cut -d' ' -f5) -
		    $(samples "$T/src.console" | tail -n 1 | cut -d' ' -f5) ))
	fi
fi
read -r rate_during _ _ < <(rates "$T/src.console" 1 0 "$t_mig" "$t_end")

jq -c -n --argjson q "$(jq -c '.return' <<<"$r")" --arg status "$status" \
    --arg version "$(qemu-system-x86_64 --version | head -1)" --arg kernel "$(cat "$GUEST/kver")" \
    --argjson mem $((mem_mib << 20)) --argjson wws $((wws_mib << 20)) --argjson rate "$rate" \
    --arg fill "$fill" --arg pattern "$pattern" --argjson multifd "$multifd" \
    --argjson rg "$rate_guest" --argjson rh "$rate_host" --argjson rd "$rate_during" \
    --argjson ra "$rate_after" --argjson running "$running_after" --argjson measure "$measure" \
    --argjson lost "$lost" --argjson panic "$panic" --arg tlb_flush "$flush_tlb" \
    --argjson src_cpu "$src_cpu" \
    --argjson boot_s "$(awk -v a="$t_start" -v b="$t_ready" 'BEGIN { printf "%.1f", b - a }')" \
    --argjson fill_ms "${fill_ms:-null}" '{
	tool: "qemu", version: $version, accel: "tcg", guest_kernel: $kernel, status: $status,
	valid: ($status == "completed" and $running and $lost == 0),
	memory_bytes: $mem, wws_bytes: $wws, fill: $fill, pattern: $pattern,
	dirty_rate_set: $rate, dirty_rate_guest: $rg, dirty_rate_host_clock: $rh,
	rate_reached: ($rate == 0 or ($rg != null and $rg >= 0.95 * $rate)),
	dirty_rate_during_migration: $rd, dirty_rate_after: $ra, guest_running_after: $running,
	guest_panic: $panic, lost_writes: $lost, tlb_flush: $tlb_flush,
	measure_s: $measure, src_cpu_pct: $src_cpu, boot_s: $boot_s, fill_ms: $fill_ms, multifd: $multifd,
	total_ms: $q["total-time"], downtime_ms: $q.downtime, setup_ms: $q["setup-time"],
	transferred: $q.ram.transferred, zero_pages: $q.ram.duplicate, normal_pages: $q.ram.normal,
	mbps: $q.ram.mbps, iterations: $q.ram["dirty-sync-count"],
	wire_ratio: (if $q.ram.transferred == null then null else $q.ram.transferred / $mem end)
}'
[ "$status" = completed ] && [ "$running_after" = true ] && [ "$lost" = 0 ]
