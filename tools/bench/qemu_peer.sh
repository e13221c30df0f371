#!/usr/bin/env bash
# qemu_peer.sh - the peer baseline of `make bench` (issue 5): QEMU's own
# pre-copy migration of the same amount of memory over the same loopback,
# measured in the same run as xmig, so that xmig's figures can be given as
# ratios to QEMU's.
#
# Two QEMU processes (TCG, no guest code: the source is started paused, so
# the memory does not change and the stream is what is measured) whose RAM
# is a shared file in a private tmpfs directory: the source's is filled
# beforehand (zero: a sparse file; random: from /dev/urandom), the
# destination's is a fresh empty file, so both tools pay the same first
# touch on the receiving side.  QMP over Unix sockets drives the source:
# max-bandwidth unlimited, downtime-limit 300 ms (xmigd's default target),
# optional multifd.  Prints one JSON object with query-migrate's figures.
#
#   qemu_peer.sh --mem 1G --fill random [--multifd N] [--dir DIR]
#
# Needs qemu-system-x86_64, socat and jq; exits 77 when one is missing.
# Traffic: 127.0.0.1 only.  Everything it starts or creates is removed on
# exit.
set -euo pipefail

mem=1G fill=random multifd=0 dir=/dev/shm
usage() { echo "usage: qemu_peer.sh --mem SIZE --fill zero|random [--multifd N] [--dir DIR]" >&2; exit 2; }
while [ $# -gt 0 ]; do
	case $1 in
	--mem) mem=${2:?}; shift 2 ;;
	--fill) fill=${2:?}; shift 2 ;;
	--multifd) multifd=${2:?}; shift 2 ;;
	--dir) dir=${2:?}; shift 2 ;;
	-h|--help) usage ;;
	*) echo "qemu_peer.sh: unknown argument '$1'" >&2; usage ;;
	esac
done
case $fill in zero|random) ;; *) echo "qemu_peer.sh: --fill is zero or random" >&2; exit 2 ;; esac
[[ $mem =~ ^[0-9]+[MG]$ ]] || { echo "qemu_peer.sh: --mem is like 256M or 1G" >&2; exit 2; }
[[ $multifd =~ ^[0-9]+$ ]] || { echo "qemu_peer.sh: --multifd is a number" >&2; exit 2; }
for c in qemu-system-x86_64 socat jq; do
	command -v "$c" >/dev/null || { echo "qemu_peer.sh: $c is not installed" >&2; exit 77; }
done

T=$(mktemp -d "$dir/xmig-qemu-peer.XXXXXX")
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

shift_bits=20
[ "${mem: -1}" = G ] && shift_bits=30
bytes=$(( ${mem%[MG]} << shift_bits ))
if [ "$fill" = random ]; then
	head -c "$bytes" /dev/urandom >"$T/src.ram"
else
	truncate -s "$bytes" "$T/src.ram"
fi
truncate -s "$bytes" "$T/dst.ram"
port=$((30000 + RANDOM % 20000))

qemu() {	# side, extra args...
	local side=$1
	shift
	qemu-system-x86_64 -nodefaults -display none -accel tcg -machine pc,memory-backend=ram \
	    -m "$mem" -object "memory-backend-file,id=ram,size=$mem,mem-path=$T/$side.ram,share=on" \
	    -qmp "unix:$T/$side.qmp,server=on,wait=off" "$@" >"$T/$side.log" 2>&1 &
	pids+=($!)
}
qemu dst -incoming "tcp:127.0.0.1:$port"
qemu src -S
for _ in $(seq 100); do
	[ -S "$T/src.qmp" ] && [ -S "$T/dst.qmp" ] && break
	sleep 0.05
done

# qmp SIDE JSON...: run the commands in one session; print each reply's
# "return" (events are skipped).
qmp() {
	local side=$1 cmd
	shift
	{
		echo '{"execute":"qmp_capabilities"}'
		for cmd in "$@"; do echo "$cmd"; done
		sleep 0.1
	} | socat - "UNIX-CONNECT:$T/$side.qmp" | jq -c 'select(has("return") or has("error"))' |
	    tail -n +2
}
caps='{"execute":"migrate-set-capabilities","arguments":{"capabilities":[{"capability":"multifd","state":true}]}}'
chans="{\"execute\":\"migrate-set-parameters\",\"arguments\":{\"multifd-channels\":$multifd}}"
if [ "$multifd" -gt 0 ]; then
	qmp dst "$caps" "$chans" >/dev/null
	qmp src "$caps" "$chans" >/dev/null
fi
# max-bandwidth in bytes/s: QEMU's default caps it at 128 MiB/s.
out=$(qmp src '{"execute":"migrate-set-parameters","arguments":{"max-bandwidth":100000000000,"downtime-limit":300}}' \
    "{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"tcp:127.0.0.1:$port\"}}")
if grep -q '"error"' <<<"$out"; then
	echo "qemu_peer.sh: migrate refused: $out" >&2
	exit 1
fi
status=""
for _ in $(seq 6000); do	# 10 min at most
	r=$(qmp src '{"execute":"query-migrate"}' | jq -c '.return')
	status=$(jq -r '.status // ""' <<<"$r")
	case $status in completed|failed|cancelled) break ;; esac
	sleep 0.05
done
[ "$status" = completed ] || { echo "qemu_peer.sh: migration $status: $r" >&2; exit 1; }
jq -c --arg fill "$fill" --argjson bytes "$bytes" --argjson multifd "$multifd" \
    --arg version "$(qemu-system-x86_64 --version | head -1)" '{
	tool: "qemu", version: $version, memory_bytes: $bytes, fill: $fill, multifd: $multifd,
	total_ms: .["total-time"], downtime_ms: .downtime, setup_ms: .["setup-time"],
	transferred: .ram.transferred, zero_pages: .ram.duplicate, normal_pages: .ram.normal,
	mbps: .ram.mbps, iterations: .ram["dirty-sync-count"]
}' <<<"$r"
