#!/usr/bin/env bash
# make demo: two xmigd daemons on loopback, a busy 256 MiB sim domain,
# a live migration with progress, and a memory check on the destination.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-build/bin}
D=$(mktemp -d /dev/shm/xmig-demo.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for h in a b; do
		for id in $("$BIN/simhv" -r "$D/$h" list --json 2>/dev/null | jq -r '.[].id'); do
			"$BIN/simhv" -r "$D/$h" destroy "$id" >/dev/null 2>&1 || true
		done
	done
	sleep 0.2
	rm -rf "$D"
}
trap cleanup EXIT
port=$((30000 + RANDOM % 10000))
for h in a b; do
	p=$port; [ $h = b ] && p=$((port + 1))
	mkdir -p "$D/$h"
	cat >"$D/$h.conf" <<CONF
relocation-port = $p
relocation-address = 127.0.0.1
control-socket = $D/$h.sock
state-dir = $D/$h.state
backend = sim
sim-root = $D/$h
host-name = demo-$h
CONF
	XMIG_SIMHV=$BIN/simhv "$BIN/xmigd" -f -c "$D/$h.conf" 2>"$D/$h.log" &
	pids+=($!)
done
for h in a b; do
	for _ in $(seq 100); do [ -S "$D/$h.sock" ] && break; sleep 0.05; done
done
echo "== two daemons: demo-a (port $port) and demo-b (port $((port + 1)))"
echo "== creating a busy 256 MiB domain on demo-a (all RAM non-zero, 20000 pages/s into a 32 MiB working set)"
"$BIN/simhv" -r "$D/a" create demo --memory 256M --fill random --vcpus 2 --dirty-rate 20000 --wws 32M
"$BIN/xmig" -S "$D/a.sock" list
echo "== xmig migrate -l demo 127.0.0.1:$((port + 1))"
"$BIN/xmig" -S "$D/a.sock" migrate -l demo "127.0.0.1:$((port + 1))"
echo "== on demo-b:"
"$BIN/xmig" -S "$D/b.sock" list
echo "== verifying every page of demo on demo-b"
"$BIN/simhv" -r "$D/b" verify demo
