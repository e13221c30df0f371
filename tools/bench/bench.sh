#!/usr/bin/env bash
# bench.sh - `make bench`: xmig's live migration on the sim, measured against
# this machine's own limits, measured in the same run.
#
#   1. baselines (build/bin/xmig-baseline): memcpy, raw loopback TCP between
#      two plain processes, TCP into fresh tmpfs memory, TLS if possible;
#   2. two xmigd on 127.0.0.1 with their own sim roots under /dev/shm, and a
#      list of scenarios, each one `xmig migrate -l --json` of a fresh domain;
#   3. a table on stdout, $OUT/results.json, $OUT/results.md (the table in
#      Markdown) and $OUT/bench.png (gnuplot).
#
# Environment:
#   BUILD=build         build directory (binaries in $BUILD/bin)
#   BENCH_QUICK=1       a 1-2 minute subset (256 MiB domains, fewer rates)
#   BENCH_ONLY=REGEX    only the scenarios whose name matches (for development)
#   BENCH_OUT=DIR       where the results go (default $BUILD/bench)
#   BENCH_NO_TLS=1      skip the TLS rows
# See docs/performance.md for what every column means.
set -euo pipefail

ROOTDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) BDIR=$BUILD ;; *) BDIR=$ROOTDIR/$BUILD ;; esac
BIN=$BDIR/bin
OUT=${BENCH_OUT:-$BDIR/bench}
QUICK=${BENCH_QUICK:-0}
ONLY=${BENCH_ONLY:-}
DOWNTIME_TARGET=300	# xmigd's default migration-downtime-ms, used by every scenario

. "$ROOTDIR/tests/common.sh"	# sim_host_conf, stop_daemons, destroy_sim_domains, simhv_on
die() { echo "bench: $*" >&2; exit 1; }
note() { echo "bench: $*" >&2; }

for b in xmigd xmig simhv xmig-baseline; do
	[ -x "$BIN/$b" ] || die "$BIN/$b is missing: run 'make bench' (or 'make all $BUILD/bin/xmig-baseline')"
done

# gnuplot (and openssl for the TLS certificates) are not CI dependencies:
# install them here when missing; without gnuplot the plot is skipped.
if ! command -v gnuplot >/dev/null || ! command -v openssl >/dev/null ||
    ! command -v jq >/dev/null; then
	"$ROOTDIR/tools/bench/install-deps.sh" --if-missing ||
	    note "could not install gnuplot-nox/openssl/jq (see above)"
fi
command -v jq >/dev/null || die "jq is required (apt-get install jq)"
HAVE_GNUPLOT=0
command -v gnuplot >/dev/null && HAVE_GNUPLOT=1

mkdir -p "$OUT"
T=$(mktemp -d /dev/shm/xmig-bench.XXXXXX)
DAEMONS=()
MOUNTS=()
PORT_BASE=$((30000 + (RANDOM % 2000) * 10))

cleanup() {
	local rc=$? f
	trap - EXIT INT TERM
	stop_daemons "${DAEMONS[@]}"
	destroy_sim_domains
	for f in "${MOUNTS[@]}"; do umount "$f" 2>/dev/null || umount -l "$f" || true; done
	if [ "$rc" -ne 0 ]; then
		for f in "$T"/*.log; do
			[ -f "$f" ] || continue
			echo "---- $(basename "$f") (last 20 lines)" >&2
			tail -n 20 "$f" >&2
		done
	fi
	rm -rf "$T"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Run private copies of the programs: a rebuild of $BUILD while the bench
# runs (other work in the same tree) must not change them under our feet.
mkdir "$T/bin"
cp -p "$BIN/xmigd" "$BIN/xmig" "$BIN/simhv" "$BIN/xmig-baseline" "$T/bin/" ||
    die "cannot copy the programs from $BIN"
BIN=$T/bin

# ---------------------------------------------------------------- features

MIGRATE_HELP=$("$BIN/xmig" help migrate 2>&1 || true)
has_opt() { grep -q -- "$1" <<<"$MIGRATE_HELP"; }
HAVE_AC=0; has_opt '--auto-converge' && HAVE_AC=1
HAVE_COMPRESS=0; has_opt '--compress' && HAVE_COMPRESS=1
HAVE_TLS=0; has_opt '--ssl' && HAVE_TLS=1
[ "${BENCH_NO_TLS:-0}" = 1 ] && HAVE_TLS=0

# TLS: a CA and one key/cert pair per host naming 127.0.0.1, made by
# scripts/xmig-certs (or, without it, by the openssl command alike).
make_certs() {
	local d=$T/pki h
	if [ -x "$ROOTDIR/scripts/xmig-certs" ]; then
		"$ROOTDIR/scripts/xmig-certs" init "$d" >/dev/null || return 1
		for h in a b; do
			"$ROOTDIR/scripts/xmig-certs" host "$d" "$h" 127.0.0.1 localhost >/dev/null ||
			    return 1
		done
		return 0
	fi
	mkdir -p "$d"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	    -subj /CN=xmig-bench-ca -keyout "$d/ca.key" -out "$d/ca.pem" 2>/dev/null || return 1
	for h in a b; do
		openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		    -subj "/CN=$h" -keyout "$d/$h.key" -out "$d/$h.csr" 2>/dev/null || return 1
		printf '%s\n' "subjectAltName=DNS:$h,DNS:localhost,IP:127.0.0.1" \
		    "extendedKeyUsage=serverAuth,clientAuth" >"$d/$h.ext"
		openssl x509 -req -in "$d/$h.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
		    -CAcreateserial -days 2 -extfile "$d/$h.ext" -out "$d/$h.pem" 2>/dev/null ||
		    return 1
	done
}
if [ "$HAVE_TLS" = 1 ] && ! { command -v openssl >/dev/null && make_certs; }; then
	note "cannot make TLS certificates: TLS rows skipped"
	HAVE_TLS=0
fi

# ---------------------------------------------------------------- daemons

# a and b: the scenarios' hosts; c and d: the same on 2 MiB pages (below)
# e, f, g: the maintenance rows (e is evacuated to f and g)
port_of() { case $1 in a) echo "$PORT_BASE" ;; b) echo $((PORT_BASE + 1)) ;;
	c) echo $((PORT_BASE + 4)) ;; d) echo $((PORT_BASE + 5)) ;;
	e) echo $((PORT_BASE + 8)) ;; f) echo $((PORT_BASE + 9)) ;;
	g) echo $((PORT_BASE + 10)) ;; esac; }
ssl_port_of() { case $1 in a) echo $((PORT_BASE + 2)) ;; b) echo $((PORT_BASE + 3)) ;;
	c) echo $((PORT_BASE + 6)) ;; d) echo $((PORT_BASE + 7)) ;;
	e) echo $((PORT_BASE + 11)) ;; f) echo $((PORT_BASE + 12)) ;;
	g) echo $((PORT_BASE + 13)) ;; esac; }
declare -A HOST_CONF=()	# extra xmigd.conf lines of a host

start_xmigd() {
	local h=$1 pid pki=$1
	case $h in c|e) pki=a ;; d|f|g) pki=b ;; esac	# certificates name 127.0.0.1
	{
		sim_host_conf "$h" "$(port_of "$h")" 127.0.0.1
		if [ "$HAVE_TLS" = 1 ]; then
			echo "relocation-ssl-server = yes"
			echo "relocation-ssl-port = $(ssl_port_of "$h")"
			echo "ssl-key-file = $T/pki/$pki.key"
			echo "ssl-cert-file = $T/pki/$pki.pem"
			echo "ssl-ca-file = $T/pki/ca.pem"
		fi
		[ -n "${HOST_CONF[$h]:-}" ] && printf '%s\n' "${HOST_CONF[$h]}"
		true
	} >"$T/$h.conf"
	XMIG_SIMHV="$BIN/simhv" "$BIN/xmigd" -f -c "$T/$h.conf" >>"$T/$h.log" 2>&1 &
	pid=$!
	DAEMONS+=("$pid")
	eval "PID_$h=$pid"
	for _ in $(seq 100); do
		[ -S "$T/$h.sock" ] && "$BIN/xmig" -S "$T/$h.sock" status >/dev/null 2>&1 && return 0
		kill -0 "$pid" 2>/dev/null || die "xmigd $h exited at start-up (log: see below)"
		sleep 0.05
	done
	die "xmigd $h did not come up within 5 s"
}

# ---------------------------------------------------------------- baselines

if [ "$QUICK" = 1 ]; then
	MEM=256M; MEM_BIG=512M; HUGE_SIZE=1G; BL_ARGS=(--tcp 512M --memcpy 128M --runs 3 --region 128M)
else
	MEM=1G; MEM_BIG=2G; HUGE_SIZE=3G; BL_ARGS=(--tcp 1G --memcpy 256M --runs 5 --region 256M)
fi
BL_ARGS+=(--shm "$T")
# the suite xmigd prefers (lib/tls.c), so that the two TLS figures compare
[ "$HAVE_TLS" = 1 ] && BL_ARGS+=(--tls-cert "$T/pki/a.pem" --tls-key "$T/pki/a.key" \
    --tls-ciphers TLS_AES_256_GCM_SHA384)

note "baselines: xmig-baseline ${BL_ARGS[*]}"
"$BIN/xmig-baseline" "${BL_ARGS[@]}" >"$T/baseline.json" || die "xmig-baseline failed"
jq -e .tcp.median_Bps "$T/baseline.json" >/dev/null || die "xmig-baseline: no TCP figure"
TCP_BPS=$(jq .tcp.median_Bps "$T/baseline.json")
jq -r 'to_entries[] | "  \(.key | . + " " * (10 - length)) median \(.value.median_Bps / 1e6 | floor) MB/s, best \(.value.best_Bps / 1e6 | floor) MB/s"' \
    "$T/baseline.json" >&2

start_xmigd a
start_xmigd b

# Guest memory in 2 MiB pages, as Xen backs a guest with superpages where
# it can: hosts c and d keep their sim roots on a tmpfs of their own mounted
# with huge=within_size (root only; BENCH_NO_HUGE=1 skips it).  With 4 KiB
# pages the sender pays for page table entries of guest memory (or a copy
# to avoid them) on every page; see docs/performance.md.
HAVE_HUGE=0
if [ "${BENCH_NO_HUGE:-0}" != 1 ] && [ "$(id -u)" = 0 ] &&
    [ -e /sys/kernel/mm/transparent_hugepage/enabled ]; then
	HAVE_HUGE=1
	for h in c d; do
		mkdir -p "$T/$h"
		if mount -t tmpfs -o "huge=within_size,size=$HUGE_SIZE" xmig-bench "$T/$h" \
		    2>"$T/mount.err"; then
			MOUNTS+=("$T/$h")
		else
			note "cannot mount a tmpfs with huge pages ($(cat "$T/mount.err")): 2 MiB rows skipped"
			HAVE_HUGE=0
			break
		fi
	done
fi
# a kernel without THP for tmpfs mounts it all the same: see that it works
shmem_huge_kb() { awk '/^ShmemHugePages:/ { print $2 }' /proc/meminfo; }
if [ "$HAVE_HUGE" = 1 ]; then
	before=$(shmem_huge_kb)
	truncate -s 4M "$T/c/probe"	# (within_size: as the sim sizes its memory file first)
	dd if=/dev/zero of="$T/c/probe" bs=1M count=4 conv=notrunc status=none
	if [ "$(shmem_huge_kb)" -le "$before" ]; then
		note "the kernel gave no 2 MiB pages to a huge=within_size tmpfs: 2 MiB rows skipped"
		HAVE_HUGE=0
	fi
	rm -f "$T/c/probe"
fi
if [ "$HAVE_HUGE" = 1 ]; then
	start_xmigd c
	start_xmigd d
fi

# ---------------------------------------------------------------- scenarios

# One scenario a line: NAME GROUP REPS FILL WWS RATE CAP_MBIT [xmig options...]
#   GROUP  idle | idle-cap | grid | grid-cap | ac | ac-cap | tls | compress
#   REPS   runs of the scenario; the table shows the median run (by stream
#          throughput for idle domains, by downtime for busy ones)
#   WWS, RATE (pages/s) and CAP are "-" when not used.
SCEN=()
add() { SCEN+=("$*"); }
if [ "$QUICK" = 1 ]; then
	WWS_LIST=(16M 64M); RATES=(5000 50000); CAP_RATES=(20000)
	R=1
else
	WWS_LIST=(16M 64M 256M); RATES=(5000 20000 50000 100000); CAP_RATES=(5000 20000 50000)
	R=3
fi
add "idle-zero idle 1 zero - - -"
add "idle-random idle $R random - - -"
# twice the memory (a scenario named *-big runs on $MEM_BIG): the total
# time, set-up included, of a guest twice as big
add "idle-random-big idle $R random - - -"
# the stream again with guest memory in 2 MiB pages (hosts c and d), early:
# later, after minutes of 4 KiB churn, 2 MiB pages are harder to find
if [ "$HAVE_HUGE" = 1 ]; then
	add "idle-random-2m huge $R random - - -"
	[ "$HAVE_TLS" = 1 ] && add "idle-random-tls-2m huge-tls $R random - - - -s"
fi
add "idle-random-r1000 idle-cap 1 random - - 1000"
for w in "${WWS_LIST[@]}"; do
	for r in "${RATES[@]}"; do add "busy-$w-$((r / 1000))k grid $R random $w $r -"; done
done
for w in "${WWS_LIST[@]}"; do
	for r in "${CAP_RATES[@]}"; do add "busy-$w-$((r / 1000))k-r1000 grid-cap 1 random $w $r 1000"; done
done
# Auto-converge only where pre-copy has something to fight: the higher dirty
# rates, and (capped) the working sets that do not fit the link easily.
if [ "$HAVE_AC" = 1 ]; then
	for w in "${WWS_LIST[@]}"; do
		for r in "${RATES[@]}"; do
			[ "$r" -ge 50000 ] || continue
			add "busy-$w-$((r / 1000))k-ac ac $R random $w $r - --auto-converge"
		done
	done
	for w in "${WWS_LIST[@]}"; do
		[ "$w" = 16M ] && [ "$QUICK" != 1 ] && continue
		for r in "${CAP_RATES[@]}"; do
			[ "$r" -ge 20000 ] || continue
			add "busy-$w-$((r / 1000))k-r1000-ac ac-cap 1 random $w $r 1000 --auto-converge"
		done
	done
fi
if [ "$HAVE_COMPRESS" = 1 ]; then
	for c in lz4 zstd auto; do
		add "idle-random-$c compress $R random - - - --compress $c"
		add "busy-64M-20k-$c compress $R random 64M 20000 - --compress $c"
	done
fi
[ "$HAVE_TLS" = 1 ] && add "idle-random-tls tls $R random - - - -s"

# ---------------------------------------------------------------- one run

SEQ=0
run_one() {
	local name=$1 group=$2 fill=$3 wws=$4 rate=$5 cap=$6; shift 6
	local dom port o rc=0 t0 t1 create_s src=a dst=b huge_mib
	local mem=$MEM
	case $name in *-big) mem=$MEM_BIG ;; esac
	local -a cargs=(--memory "$mem" --fill "$fill" --vcpus 1) margs=(migrate -l --json)
	SEQ=$((SEQ + 1))
	dom=bench$SEQ
	[ "$rate" != - ] && cargs+=(--dirty-rate "$rate" --wws "$wws")
	[ "$cap" != - ] && margs+=(-r "$cap")
	case $group in huge*) src=c dst=d ;; esac
	port=$(port_of $dst)
	for o in "$@"; do [ "$o" = -s ] && port=$(ssl_port_of $dst); done
	margs+=("$@" "$dom" "127.0.0.1:$port")

	t0=$(date +%s.%N)
	simhv_on $src create "$dom" "${cargs[@]}" >/dev/null || die "$name: simhv create $dom failed"
	t1=$(date +%s.%N)
	create_s=$(echo "$t1 - $t0" | bc)
	# let the workload reach its dirty rate
	[ "$rate" != - ] && sleep 0.3
	"$BIN/xmig" -S "$T/$src.sock" "${margs[@]}" >"$T/run.json" 2>"$T/run.err" || rc=$?
	# (2 MiB rows: how much of the two copies did get 2 MiB pages)
	huge_mib=$(($(shmem_huge_kb) / 1024))
	if ! jq -e .id "$T/run.json" >/dev/null 2>&1; then
		note "$name: xmig exited $rc without a result: $(head -c 300 "$T/run.err")"
		echo '{}' >"$T/run.json"
	fi
	simhv_on $dst destroy "$dom" >/dev/null 2>&1 || true
	simhv_on $src destroy "$dom" >/dev/null 2>&1 || true
	jq -c -n --slurpfile m "$T/run.json" \
	    --arg name "$name" --arg group "$group" --arg fill "$fill" --arg wws "$wws" \
	    --arg rate "$rate" --arg cap "$cap" --arg opts "$*" --argjson rc "$rc" \
	    --argjson create_s "$create_s" --argjson tcp "$TCP_BPS" --argjson huge_mib "$huge_mib" \
	    --arg err "$(head -c 300 "$T/run.err")" '
	def size: if . == "-" then null else
	    (capture("^(?<n>[0-9]+)(?<u>[KMG]?)$") | (.n | tonumber) *
	     ({"": 1, "K": 1024, "M": 1048576, "G": 1073741824}[.u])) end;
	($m[0]) as $j |
	# the memory stream, PREPARE_OK to STREAM_END, and what went after the
	# suspension: the figures of the job itself (xmig migrate --json)
	(if ($j.stream_ms // 0) > 0 then $j.stream_ms / 1000 else null end) as $stream_s |
	($j.throughput_bps // 0) as $bw |
	# (with no page left to send, only the vCPU context and end frames go:
	# count that as nothing, as the old runs without these fields did)
	(if $j.final_pages == null then null elif $j.final_pages > 0 then $j.final_bytes
	    else 0 end) as $final_bytes |
	(if $final_bytes != null and $bw > 0 then $final_bytes / $bw * 1000 else null end) as $tmin |
	{
	  name: $name, group: $group, fill: $fill, wws_bytes: ($wws | size),
	  dirty_rate_set: (if $rate == "-" then 0 else ($rate | tonumber) end),
	  cap_mbit: (if $cap == "-" then null else ($cap | tonumber) end),
	  options: $opts, exit: $rc, error: (if $rc != 0 then ($j.error // $err) else null end),
	  create_s: $create_s, shmem_huge_mib: $huge_mib,
	  result: $j.result, stop_reason: $j.stop_reason,
	  memory_bytes: $j.memory_bytes, total_ms: $j.total_ms, setup_ms: $j.setup_ms,
	  downtime_ms: $j.downtime_ms, rounds: $j.iterations, bytes_sent: $j.bytes_sent,
	  zero_pages: $j.zero_pages, normal_pages: $j.normal_pages,
	  throughput_bps: $j.throughput_bps,
	  stream_s: $stream_s, precopy_ms: $j.precopy_ms,
	  rounds_log: $j.rounds,
	  final_pages: $j.final_pages, final_bytes: $final_bytes,
	  wire_ratio: (if ($j.memory_bytes // 0) > 0 then $j.bytes_sent / $j.memory_bytes else null end),
	  stream_Bps: (if $stream_s != null and $stream_s > 0 and ($j.bytes_sent // 0) >= 1048576
	      then $j.bytes_sent / $stream_s else null end),
	  tmin_ms: $tmin,
	  job: $j
	} |
	.stream_vs_tcp = (if .stream_Bps != null then .stream_Bps / $tcp else null end) |
	# what the user waits for: the guest RAM over the whole job, set-up and
	# commit included, against the time raw TCP takes to move as many bytes
	.total_vs_tcp = (if (.total_ms // 0) > 0 and (.memory_bytes // 0) > 0
	    then .memory_bytes / (.total_ms / 1000) / $tcp else null end) |
	.rate_mbit = (if .stream_Bps != null then .stream_Bps * 8 / 1e6 else null end) |
	.rate_err = (if .cap_mbit != null and .rate_mbit != null then .rate_mbit / .cap_mbit - 1 else null end) |
	.downtime_vs_min = (if .tmin_ms != null and .tmin_ms > 0 then .downtime_ms / .tmin_ms else null end) |
	.tmin_raw_ms = (if .final_bytes != null then .final_bytes / $tcp * 1000 else null end) |
	.downtime_vs_raw = (if .tmin_raw_ms != null and .tmin_raw_ms > 0 then .downtime_ms / .tmin_raw_ms else null end) |
	.downtime_ok = (if .stop_reason == "converged" and .tmin_ms != null
	    then .downtime_ms <= 1.2 * .tmin_ms + 5 else null end)'
}

# run_scenario NAME GROUP REPS ARGS...: REPS runs, the median one goes to the
# results (with every run's headline figures in .reps).
run_scenario() {
	local name=$1 group=$2 reps=$3; shift 3
	: >"$T/reps.jsonl"
	for _ in $(seq "$reps"); do run_one "$name" "$group" "$@" >>"$T/reps.jsonl"; done
	jq -c -s '. as $all | (.[0].dirty_rate_set == 0) as $idle |
	    sort_by(if $idle then (.stream_Bps // 0) else (.downtime_ms // 1e12) end) |
	    .[(length - 1) / 2 | floor] + {reps: ($all | map({total_ms, downtime_ms, rounds,
	        stream_Bps, total_vs_tcp, setup_ms, result, stop_reason}))}' "$T/reps.jsonl" >>"$T/runs.jsonl"
	print_row "$(tail -n 1 "$T/runs.jsonl")"
}

# ---------------------------------------------------------------- table

# The table: one format for the terminal; results.md is made from the same rows.
FMT='%-24s %5s %6s %5s %7s %7s %4s %8s %6s %5s %7s %6s %7s %7s %7s %7s %s\n'
NCOL=16		# fixed columns before the last one (stop reason, or the error)
# shellcheck disable=SC2059
HDR=$(printf "$FMT" scenario wws p/s cap total_s down_ms rnds wire/RAM MB/s xTCP totxTCP vs_cap \
    fin_MiB tmin_ms dt/tmin dt/traw stop)
print_row() {
	jq -r '
	def f(n): if . == null then "-" else (. * pow(10; n) | round / pow(10; n) | tostring) end;
	def mib: if . == null then "-" else (. / 1048576 | tostring) + "M" end;
	[ .name, (.wws_bytes | mib), (if .dirty_rate_set > 0 then .dirty_rate_set else "-" end),
	  (.cap_mbit // "-"), (.total_ms | if . == null then null else . / 1000 end | f(2)),
	  (.downtime_ms | f(0)), (.rounds | f(0)), (.wire_ratio | f(3)),
	  (.stream_Bps | if . == null then null else . / 1e6 end | f(0)), (.stream_vs_tcp | f(2)),
	  (.total_vs_tcp | f(2)),
	  (.rate_err | if . == null then "-" else (. * 1000 | round / 10 |
	      (if . >= 0 then "+" else "" end) + tostring + "%") end),
	  (.final_bytes | if . == null then null else . / 1048576 end | f(1)),
	  (.tmin_ms | f(1)), (.downtime_vs_min | f(2)), (.downtime_vs_raw | f(2)),
	  (if .result == "success" then .stop_reason else "FAILED: " + (.error // "?") end)
	] | map(tostring) | @tsv' <<<"$1" |
	    awk -F'\t' -v fmt="$FMT" '{ printf fmt, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17 }'
}

# ---------------------------------------------------------------- run

: >"$T/runs.jsonl"
START=$(date +%s)
WARM=0
echo "$HDR"
for s in "${SCEN[@]}"; do
	# shellcheck disable=SC2086
	set -- $s
	if [ -n "$ONLY" ] && ! [[ $1 =~ $ONLY ]]; then continue; fi
	# The first 1 GiB of 2 MiB pages costs 2-3 s here (the VM's host
	# takes freed memory back): a run that is not recorded pays it.
	if [[ $2 == huge* ]] && [ "$WARM" = 0 ]; then
		run_one warm-up huge random - - - >/dev/null
		WARM=1
	fi
	run_scenario "$@"
done
ELAPSED=$(($(date +%s) - START))

# ---------------------------------------------------------------- maintenance

# Evacuation speed (issue 17): host e with MAINT_N busy domains and two
# peers, f and g, evacuated by `xmig maintenance enter --parallel P` for P
# in 1 2 4; against it, the same domains migrated one at a time with `xmig
# migrate -l` (alternately to f and g), whose total_ms add up to the "sum
# of single migrations".  P = 4 runs twice: with cluster-incoming-per-peer
# 1 (the default: with two peers at most two migrations can run at once)
# and with 2.  Each repetition starts from fresh domains, left 0.3 s to
# reach their dirty rate.  BENCH_NO_MAINT=1 skips it.
: >"$T/maint.jsonl"
if [ "$QUICK" = 1 ]; then
	MAINT_N=8; MAINT_MEM=64M; MAINT_REPS=1
else
	MAINT_N=8; MAINT_MEM=256M; MAINT_REPS=5
fi
MAINT_RATE=10000; MAINT_WWS=64M
[ "$QUICK" = 1 ] && MAINT_WWS=16M
maint_create() {
	local i
	for i in $(seq "$MAINT_N"); do
		simhv_on e create "ev$i" --memory "$MAINT_MEM" --fill random --vcpus 1 \
		    --dirty-rate "$MAINT_RATE" --wws "$MAINT_WWS" >/dev/null ||
		    die "maintenance: simhv create ev$i failed"
	done
	sleep 0.3
}
maint_clean() {
	local h i
	for h in e f g; do
		for i in $(seq "$MAINT_N"); do simhv_on $h destroy "ev$i" >/dev/null 2>&1 || true; done
	done
}
maint_restart_e() {	# extra conf lines for e
	local pid
	if [ -n "${PID_e:-}" ]; then
		stop_daemons "$PID_e"
		for pid in "${!DAEMONS[@]}"; do [ "${DAEMONS[$pid]}" = "$PID_e" ] && unset "DAEMONS[$pid]"; done
		PID_e=
	fi
	HOST_CONF[e]=$(printf '%s\n' "cluster-peers = 127.0.0.1:$(port_of f) 127.0.0.1:$(port_of g)" "$@")
	start_xmigd e
}
maint_singles() {
	local i to t0 t1 sum=0 tot
	t0=$(date +%s.%N)
	for i in $(seq "$MAINT_N"); do
		to=f; [ $((i % 2)) = 0 ] && to=g
		"$BIN/xmig" -S "$T/e.sock" migrate -l --json "ev$i" "127.0.0.1:$(port_of $to)" \
		    >"$T/single.json" 2>"$T/single.err" ||
		    die "maintenance: single migration of ev$i failed: $(head -c 300 "$T/single.err")"
		tot=$(jq .total_ms "$T/single.json")
		sum=$((sum + tot))
	done
	t1=$(date +%s.%N)
	jq -c -n --argjson sum "$sum" --argjson wall "$(echo "($t1 - $t0) * 1000" | bc)" \
	    '{mode: "single", parallel: 1, per_peer: null, sum_total_ms: $sum, wall_ms: ($wall | floor)}'
}
maint_evac() {	# PARALLEL PER_PEER
	local t0 t1 rc=0 jobs sum
	t0=$(date +%s.%N)
	"$BIN/xmig" -S "$T/e.sock" maintenance enter --parallel "$1" --json >"$T/evac.json" \
	    2>"$T/evac.err" || rc=$?
	t1=$(date +%s.%N)
	[ "$rc" = 0 ] || note "maintenance: --parallel $1 ended with status $rc: $(head -c 300 "$T/evac.err")"
	# the evacuation's own migrations, as the jobs on e recorded them
	sum=0
	for j in $(jq -r '.. | objects | select(has("job")) | .job // empty' "$T/evac.json"); do
		sum=$((sum + $("$BIN/xmig" -S "$T/e.sock" job "$j" --json | jq '.job.total_ms // .total_ms // 0')))
	done
	jq -c --argjson p "$1" --argjson pp "$2" --argjson rc "$rc" --argjson sum "$sum" \
	    --argjson wall "$(echo "($t1 - $t0) * 1000" | bc)" '
	    {mode: "evacuation", parallel: $p, per_peer: $pp, exit: $rc,
	     elapsed_ms: ([.. | objects | .elapsed_ms? // empty] | max),
	     moved: ([.. | objects | .moved? // empty] | max),
	     sum_total_ms: $sum, wall_ms: ($wall | floor), evacuation: .}' "$T/evac.json"
	"$BIN/xmig" -S "$T/e.sock" maintenance exit >/dev/null 2>&1 ||
	    note "maintenance: exit failed"
}
MAINT_START=$(date +%s)
if [ "${BENCH_NO_MAINT:-0}" != 1 ] && { [ -z "$ONLY" ] || [[ maintenance =~ $ONLY ]]; }; then
	note "maintenance: $MAINT_N domains of $MAINT_MEM (dirty rate $MAINT_RATE, wws $MAINT_WWS), $MAINT_REPS repetitions"
	start_xmigd f
	start_xmigd g
	for rep in $(seq "$MAINT_REPS"); do
		maint_restart_e
		maint_create; maint_singles >>"$T/maint.jsonl"; maint_clean
		for p in 1 2 4; do
			maint_create; maint_evac "$p" 1 >>"$T/maint.jsonl"; maint_clean
		done
		maint_restart_e "cluster-incoming-per-peer = 2"
		maint_create; maint_evac 4 2 >>"$T/maint.jsonl"; maint_clean
	done
	echo
	echo "maintenance: $MAINT_N x $MAINT_MEM busy domains, host e to peers f and g (ms; median of $MAINT_REPS):"
	jq -r -s '
	    def med: sort | .[(length - 1) / 2 | floor];
	    (map(select(.mode == "single")) | map(.sum_total_ms) | med) as $single |
	    group_by([.mode, .parallel, .per_peer]) | map({mode: .[0].mode, parallel: .[0].parallel,
	        per_peer: .[0].per_peer, t: (map(.elapsed_ms // .sum_total_ms) | med),
	        jobs: (map(.sum_total_ms) | med)}) |
	    .[] | "  \(if .mode == "single" then "one at a time (sum of total_ms)" else
	        "--parallel \(.parallel), \(.per_peer) per peer" end): \(.t) ms, \(.t / $single * 100 | round / 100) x the singles sum\(
	        if .mode == "evacuation" then " (its migrations: \(.jobs) ms in all)" else "" end)"' \
	    "$T/maint.jsonl"
fi
MAINT_ELAPSED=$(($(date +%s) - MAINT_START))

# ---------------------------------------------------------------- QEMU, the peer

# QEMU's own pre-copy (tools/bench/qemu_busy.sh: a real guest under TCG that
# dirties its wws at the same rate, downtime-limit 300 ms, no bandwidth
# cap) for each busy-W-Rk scenario xmig ran above, one run each, after
# xmig's runs (both want the 2 cores).  A run that QEMU before 9.0's TCG
# bug spoils (lost writes: docs/qemu-comparison.md) is retried once with
# the guest-side work-around.  BENCH_NO_QEMU=1 skips it; so does a missing
# qemu-system-x86_64 (tools/bench/install-deps.sh) or guest (its build
# downloads Debian's kernel package once).
: >"$T/qemu.jsonl"
run_qemu() {
	local name=$1 wws=$2 rate=$3 flush rc
	for flush in off on; do
		rc=0
		BUILD=$BDIR "$ROOTDIR/tools/bench/qemu_busy.sh" --mem "$MEM" --wws "$wws" \
		    --rate "$rate" --fill random --tlb-flush "$flush" --dir "$T" \
		    >"$T/qemu.json" 2>"$T/qemu.err" || rc=$?
		jq -e .tool "$T/qemu.json" >/dev/null 2>&1 || return 77	# never got to migrate
		jq -c --arg name "$name" --argjson rc "$rc" '. + {name: $name, rc: $rc}' \
		    "$T/qemu.json" >>"$T/qemu.jsonl"
		[ "$rc" = 0 ] && return 0
		note "$name: QEMU's run is not valid with --tlb-flush $flush (status $(jq -r .status \
		    "$T/qemu.json"), lost writes $(jq -r .lost_writes "$T/qemu.json"))"
	done
	return 1
}
QEMU_START=$(date +%s)
if [ "${BENCH_NO_QEMU:-0}" != 1 ]; then
	while read -r name wws rate; do
		note "QEMU peer: $name"
		rc=0
		run_qemu "$name" "$wws" "$rate" || rc=$?
		if [ "$rc" = 77 ]; then
			note "QEMU peer skipped: $(tail -n 1 "$T/qemu.err")"
			break
		fi
	done < <(jq -r 'select(.group == "grid" and .cap_mbit == null and .options == "") |
	    "\(.name) \(.wws_bytes / 1048576 | floor)M \(.dirty_rate_set)"' "$T/runs.jsonl")
fi
QEMU_ELAPSED=$(($(date +%s) - QEMU_START))

# ---------------------------------------------------------------- results

jq -n --slurpfile b "$T/baseline.json" --slurpfile r "$T/runs.jsonl" --slurpfile q "$T/qemu.jsonl" \
    --slurpfile m "$T/maint.jsonl" --argjson maint_elapsed "$MAINT_ELAPSED" \
    --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg host "$(uname -srm)" \
    --argjson cores "$(nproc)" --arg cpu "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')" \
    --argjson quick "$([ "$QUICK" = 1 ] && echo true || echo false)" --argjson elapsed "$ELAPSED" \
    --argjson qemu_elapsed "$QEMU_ELAPSED" \
    --argjson features "{\"auto_converge\": $HAVE_AC, \"compress\": $HAVE_COMPRESS, \"tls\": $HAVE_TLS}" '
	($b[0]) as $bl | $r as $runs |
	def ok(c): if c == null then "n/a" elif c then "met" else "NOT met" end;
	($runs | map(select(.name == "idle-random") | .stream_vs_tcp) | first) as $plain |
	($runs | map(select(.name == "idle-random") | .stream_Bps) | first) as $plain_Bps |
	($runs | map(select(.group == "tls") | .stream_vs_tcp) | first) as $tls |
	($runs | map(select(.name == "idle-random-2m") | .stream_vs_tcp) | first) as $plain2m |
	($runs | map(select(.group == "huge-tls") | .stream_vs_tcp) | first) as $tls2m |
	($runs | map(select(.name == "idle-zero") | .wire_ratio) | first) as $zero |
	($runs | map(select(.name == "idle-random") | .wire_ratio) | first) as $rnd |
	# (the median over the repetitions: the shown run is the median stream)
	def med_total(n): $runs | map(select(.name == n) | .reps | map(.total_vs_tcp // empty) |
	    sort | if length == 0 then null else .[(length - 1) / 2 | floor] end) | first;
	med_total("idle-random") as $tot |
	# the same against TCP into memory populated as it arrives (tcp_pwrite)
	(if $tot == null or $bl.tcp_pwrite == null then null
	    else $tot * $bl.tcp.median_Bps / $bl.tcp_pwrite.median_Bps end) as $tot_pw |
	med_total("idle-random-big") as $totbig |
	($runs | map(select(.stop_reason == "converged" and .downtime_ok != null))) as $conv |
	($runs | map(select(.cap_mbit != null and .rate_err != null) | .rate_err)) as $caps |
	# xmig beside QEMU: the same scenario, the valid QEMU run (or none)
	[ $runs[] | . as $x | ($q | map(select(.name == $x.name))) as $all |
	  select($all | length > 0) | ($all | map(select(.valid == true)) | last) as $v | {
	    name, memory_bytes, wws_bytes, dirty_rate_set,
	    xmig_total_ms: .total_ms, xmig_downtime_ms: .downtime_ms, xmig_rounds: .rounds,
	    xmig_bytes: .bytes_sent,
	    qemu_total_ms: $v.total_ms, qemu_downtime_ms: $v.downtime_ms,
	    qemu_iterations: $v.iterations, qemu_bytes: $v.transferred,
	    qemu_tlb_flush: $v.tlb_flush, qemu_dirty_rate_guest: $v.dirty_rate_guest,
	    qemu_valid_runs: "\($all | map(select(.valid == true)) | length)/\($all | length)",
	    total_ratio: (if $v == null or (.total_ms // 0) == 0 then null
	        else $v.total_ms / .total_ms end),
	    # (downtime in whole ms: a 0 of xmig counts as 1)
	    downtime_ratio: (if $v == null or .downtime_ms == null then null
	        else $v.downtime_ms / ([.downtime_ms, 1] | max) end),
	    qemu_runs: $all } ] as $peer |
	($peer | map(select(.total_ratio != null and .downtime_ratio != null))) as $pv |
	{
	  date: $date, host: $host, cpu: $cpu, cores: $cores, quick: $quick, elapsed_s: $elapsed,
	  features: $features, baseline: $bl, runs: $runs,
	  qemu_peer: $peer, qemu_elapsed_s: $qemu_elapsed,
	  maintenance: $m, maintenance_elapsed_s: $maint_elapsed,
	  targets: [
	    { target: "plaintext stream >= 0.9 x raw loopback TCP (4 KiB pages)", value: $plain,
	      vs_tcp_shm: (if $plain_Bps == null or $bl.tcp_shm == null then null
	          else $plain_Bps / $bl.tcp_shm.median_Bps end),
	      status: ok(if $plain == null then null else $plain >= 0.9 end) },
	    { target: "TLS stream >= 0.6 x raw loopback TCP (4 KiB pages)", value: $tls,
	      vs_raw_tls: ($runs | map(select(.group == "tls") | .stream_Bps) | first |
	          if . == null or $bl.tls == null then null else . / $bl.tls.median_Bps end),
	      status: ok(if $tls == null then null else $tls >= 0.6 end) },
	    { target: "plaintext stream >= 0.9 x raw loopback TCP, guest memory in 2 MiB pages",
	      value: $plain2m,
	      status: ok(if $plain2m == null then null else $plain2m >= 0.9 end) },
	    { target: "TLS stream >= 0.6 x raw loopback TCP, guest memory in 2 MiB pages",
	      value: $tls2m,
	      vs_raw_tls: ($runs | map(select(.group == "huge-tls") | .stream_Bps) | first |
	          if . == null or $bl.tls == null then null else . / $bl.tls.median_Bps end),
	      status: ok(if $tls2m == null then null else $tls2m >= 0.6 end) },
	    { target: "idle random domain: RAM / total time (set-up included) >= 0.8 x raw loopback TCP (median of runs)",
	      value: $tot, vs_tcp_pwrite: $tot_pw,
	      status: ok(if $tot == null then null else $tot >= 0.8 end) },
	    { target: "(the same, twice the memory: idle-random-big)", value: $totbig,
	      status: ok(if $totbig == null then null else $totbig >= 0.8 end) },
	    { target: "idle zero domain: bytes on wire <= 1 % of RAM", value: $zero,
	      status: ok(if $zero == null then null else $zero <= 0.01 end) },
	    { target: "idle random domain: bytes on wire <= 1.02 x RAM", value: $rnd,
	      status: ok(if $rnd == null then null else $rnd <= 1.02 end) },
	    { target: "converged: downtime <= 1.2 x theoretical minimum + 5 ms",
	      value: "\($conv | map(select(.downtime_ok)) | length) of \($conv | length) runs",
	      status: ok(if ($conv | length) == 0 then null else ($conv | all(.downtime_ok)) end) },
	    { target: "(stricter, not in the issue) converged: downtime <= 1.2 x final bytes / raw TCP + 5 ms",
	      value: "\($conv | map(select(.downtime_ms <= 1.2 * .tmin_raw_ms + 5)) | length) of \($conv | length) runs",
	      status: ok(if ($conv | length) == 0 then null
	          else ($conv | all(.downtime_ms <= 1.2 * .tmin_raw_ms + 5)) end) },
	    { target: "converged: downtime <= 300 ms (the default target)",
	      value: "\($conv | map(select(.downtime_ms <= 300)) | length) of \($conv | length) runs\(
	          $conv | map(select(.downtime_ms > 300) | "; \(.name): \(.downtime_ms) ms (target in force \(.job.downtime_target_ms) ms)") | join(""))",
	      status: ok(if ($conv | length) == 0 then null else ($conv | all(.downtime_ms <= 300)) end) },
	    { target: "(not in the issue) converged with the target never raised (downtime_target_ms 300): downtime <= 300 ms",
	      value: "\($conv | map(select(.job.downtime_target_ms == 300)) | map(select(.downtime_ms <= 300)) | length) of \($conv | map(select(.job.downtime_target_ms == 300)) | length) runs",
	      status: ok(($conv | map(select(.job.downtime_target_ms == 300))) as $c |
	          if ($c | length) == 0 then null else ($c | all(.downtime_ms <= 300)) end) },
	    { target: "beats QEMU'"'"'s pre-copy (same memory, wws, dirty rate): shorter total time and downtime",
	      value: (if ($pv | length) == 0 then null else
	          "\($pv | map(select(.total_ratio > 1 and .downtime_ratio > 1)) | length) of \($pv | length) scenarios; QEMU/xmig total \($pv | map(.total_ratio) | min * 100 | round / 100)-\($pv | map(.total_ratio) | max * 100 | round / 100) x, downtime \($pv | map(.downtime_ratio) | min * 10 | round / 10)-\($pv | map(.downtime_ratio) | max * 10 | round / 10) x" end),
	      status: ok(if ($pv | length) == 0 then null
	          else ($pv | all(.total_ratio > 1 and .downtime_ratio > 1)) end) },
	    { target: "-r 1000: measured rate within +-5 % of 1000 Mbit/s",
	      value: (if ($caps | length) == 0 then null else
	          "\($caps | min * 1000 | round / 10)..\($caps | max * 1000 | round / 10) %" end),
	      status: ok(if ($caps | length) == 0 then null else ($caps | all((if . < 0 then -. else . end) <= 0.05)) end) }
	  ]
	}' >"$OUT/results.json"

echo
echo "baselines (median of runs):"
jq -r '.baseline | to_entries[] | "  \(.key | . + " " * (10 - length)) \(.value.median_Bps / 1e6 | round) MB/s"' \
    "$OUT/results.json"
echo "targets:"
jq -r '.targets[] | "  [\(.status)] \(.target): \(.value // "-" |
    if type == "number" then (. * 1000 | round / 1000 | tostring) else . end)\(
    if .vs_raw_tls != null then " (\(.vs_raw_tls * 1000 | round / 1000) x raw TLS)" else "" end)\(
    if .vs_tcp_shm != null then " (\(.vs_tcp_shm * 1000 | round / 1000) x TCP into fresh tmpfs)" else "" end)\(
    if .vs_tcp_pwrite != null then " (\(.vs_tcp_pwrite * 1000 | round / 1000) x TCP pwrite()n into fresh tmpfs)" else "" end)"' \
    "$OUT/results.json"
for f in auto_converge compress tls; do
	[ "$(jq ".features.$f" "$OUT/results.json")" = 1 ] ||
	    echo "  (not measured: xmig has no ${f//_/-} option yet)"
done

# xmig beside QEMU, as a table (terminal and Markdown alike)
peer_table() {
	jq -r '.qemu_peer | select(length > 0) |
	def f(n): if . == null then "-" else (. * pow(10; n) | round / pow(10; n) | tostring) end;
	"| scenario | QEMU total ms | QEMU downtime ms | QEMU syncs | QEMU MiB | xmig total ms | xmig downtime ms | xmig rounds | xmig MiB | total QEMU/xmig | downtime QEMU/xmig | QEMU valid runs |",
	"|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
	(.[] | "| \(.name) | \(.qemu_total_ms // "-") | \(.qemu_downtime_ms // "-") | \(.qemu_iterations // "-") | \(.qemu_bytes | if . == null then null else . / 1048576 end | f(0)) | \(.xmig_total_ms) | \(.xmig_downtime_ms) | \(.xmig_rounds) | \(.xmig_bytes / 1048576 | f(0)) | \(.total_ratio | f(2)) | \(.downtime_ratio | f(1)) | \(.qemu_valid_runs)\(if .qemu_tlb_flush == "on" then " (tlb-flush on)" else "" end) |")' \
	    "$OUT/results.json"
}
if [ "$(jq '.qemu_peer | length' "$OUT/results.json")" -gt 0 ]; then
	echo
	echo "QEMU $(jq -r '.qemu_peer[0].qemu_runs[0].version | capture("version (?<v>[0-9.]+)").v // "?"' \
	    "$OUT/results.json") pre-copy of a TCG guest (tools/bench/qemu_busy.sh) beside xmig, same run:"
	peer_table | grep -v '^|---' | sed 's/^| //; s/ |$//; s/ | /\t/g' | column -t -s $'\t'
fi

# The table in Markdown, for docs/performance.md.
{
	echo "| scenario | wws | dirty pages/s | cap Mbit/s | total s | downtime ms | rounds | wire/RAM | stream MB/s | × TCP | total × TCP | rate vs cap | final MiB | t_min ms | downtime/t_min | downtime/t_raw | stop |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
	jq -c '.runs[]' "$OUT/results.json" | while read -r r; do
		print_row "$r" | awk -v n="$NCOL" '{ s = "|"; for (i = 1; i <= n; i++) s = s " " $i " |";
		    rest = ""; for (i = n + 1; i <= NF; i++) rest = rest (i > n + 1 ? " " : "") $i;
		    print s " " rest " |" }'
	done
	echo
	echo "Where each run's time went (the job's phases, ms; the shown run of each scenario):"
	echo
	echo "| scenario | total | connect | destination build | pre-copy | suspend | final round | restore | devices | commit | unpause | downtime |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	jq -r '.runs[] | select(.job.phases != null) | .job as $j | $j.phases as $p |
	    "| \(.name) | \($j.total_ms) | \($p.connect_ms) | \($p.destination_build_ms) | \($p.precopy_ms) | \($p.suspend_ms // "-") | \($p.final_round_ms) | \($p.restore_ms) | \($p.devices_ms // "-") | \($p.commit_ms) | \($p.unpause_ms // "-") | \($j.downtime_ms) |"' \
	    "$OUT/results.json"
	if [ "$(jq '.maintenance | length' "$OUT/results.json")" -gt 0 ]; then
		echo
		echo "Evacuation of host e to f and g (median of the repetitions):"
		echo
		echo "| how | per peer | time to empty the host, ms | × sum of single migrations | its migrations' total_ms, summed | xmig's wall time, ms | runs (ms) |"
		echo "|---|---:|---:|---:|---:|---:|---|"
		jq -r '.maintenance | def med: sort | .[(length - 1) / 2 | floor];
		    (map(select(.mode == "single")) | map(.sum_total_ms) | med) as $single |
		    group_by([.mode, .parallel, .per_peer]) | .[] |
		    (map(.elapsed_ms // .sum_total_ms) | med) as $t |
		    "| \(if .[0].mode == "single" then "one at a time (`xmig migrate -l`)" else
		        "`--parallel \(.[0].parallel)`" end) | \(.[0].per_peer // "-") | \($t) | \($t / $single * 100 | round / 100) | \(map(.sum_total_ms) | med) | \(map(.wall_ms) | med) | \(map(.elapsed_ms // .sum_total_ms | tostring) | join(", ")) |"' \
		    "$OUT/results.json"
	fi
	if [ "$(jq '.qemu_peer | length' "$OUT/results.json")" -gt 0 ]; then
		echo
		echo "QEMU's pre-copy beside xmig (tools/bench/qemu_busy.sh, same run):"
		echo
		peer_table
	fi
} >"$OUT/results.md"

# ---------------------------------------------------------------- plot

plot() {
	local g w f any=0
	local -a series=()
	for g in grid grid-cap ac ac-cap; do
		for w in "${WWS_LIST[@]}"; do
			f=$T/plot-$g-$w.dat
			jq -r --arg g "$g" --arg w "$w" '.runs[] | select(.group == $g and
			    (.wws_bytes / 1048576 | tostring) + "M" == $w and .result == "success") |
			    "\(.dirty_rate_set / 1000) \(.downtime_ms) \(.total_ms / 1000)"' \
			    "$OUT/results.json" | sort -n >"$f"
			[ -s "$f" ] && series+=("$g:$w") && any=1
		done
	done
	[ "$any" = 1 ] || { note "no busy runs to plot"; return 0; }
	local -a kinds=()
	printf '%s\n' "${series[@]}" | grep -q -E '^(grid|ac):' && kinds+=(uncapped)
	printf '%s\n' "${series[@]}" | grep -q -E '^(grid-cap|ac-cap):' && kinds+=(capped)
	{
		echo "set terminal pngcairo size 1400,900 font 'DejaVu Sans,11'"
		echo "set output '$OUT/bench.png'"
		echo "set multiplot layout ${#kinds[@]},2 title 'xmig live migration of a $MEM sim domain, $(date -u +%Y-%m-%d), $(nproc) cores: raw TCP $(jq '.baseline.tcp.median_Bps / 1e6 | round' "$OUT/results.json") MB/s'"
		echo "set grid; set key top left Left reverse box opaque samplen 4 font ',9'"
		echo "set xlabel 'dirty rate (1000 pages/s)'"
		echo "set logscale xy; set xtics (2, 5, 10, 20, 50, 100, 200); set xrange [3:150]"
		local col title kind
		for kind in "${kinds[@]}"; do
			for col in 2 3; do
				if [ "$col" = 2 ]; then
					echo "set ylabel 'downtime (ms)'"
					title="downtime"
				else
					echo "set ylabel 'total time (s)'"
					title="total time"
				fi
				if [ "$kind" = uncapped ]; then
					echo "set title '$title, no bandwidth cap (dashed: --auto-converge)'"
				else
					echo "set title '$title, -r 1000 Mbit/s (dashed: --auto-converge)'"
				fi
				local p="" s gg ww lt=0 dt
				for s in "${series[@]}"; do
					gg=${s%%:*}; ww=${s#*:}
					case $kind:$gg in
					uncapped:grid | capped:grid-cap) dt=1 ;;
					uncapped:ac | capped:ac-cap) dt=2 ;;
					*) continue ;;
					esac
					lt=$(($(printf '%s\n' "${WWS_LIST[@]}" | grep -n -x "$ww" | cut -d: -f1)))
					p="$p${p:+, }'$T/plot-$gg-$ww.dat' using 1:$col with linespoints lc $lt dt $dt pt 7 lw 2 title 'wws $ww$([ "$dt" = 2 ] && echo ' AC')'"
				done
				[ "$col" = 2 ] && p="$p, $DOWNTIME_TARGET with lines dt 3 lc rgb 'black' title 'target $DOWNTIME_TARGET ms'"
				echo "plot $p"
			done
		done
		echo "unset multiplot"
	} >"$T/bench.gp"
	gnuplot "$T/bench.gp" || { note "gnuplot failed (script: see above)"; return 1; }
	echo "plot: $OUT/bench.png"
}
if [ "$HAVE_GNUPLOT" = 1 ]; then
	plot || true
else
	note "gnuplot not available: no plot (tools/bench/install-deps.sh installs it)"
fi
echo "results: $OUT/results.json, $OUT/results.md (${ELAPSED} s of scenarios)"
