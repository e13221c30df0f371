# common.sh - shell helpers shared by tests/integ/lib.sh,
# tests/netns/lib.sh and tools/bench/bench.sh (sourced after they set T and
# BIN; the test harnesses also set tid).  Safe under set -eu.
# A "host" is a short name (a, b, ...) whose sim root is $T/NAME/sim.

trace() { echo "[$tid] $*"; }

dump_logs() {
	local f
	for f in "$T"/*.log; do
		[ -f "$f" ] || continue
		echo "---- $(basename "$f") (last 30 lines)"
		tail -n 30 "$f"
	done
}

# sim_host_conf NAME PORT ADDRESS: the xmigd.conf lines of a sim host whose
# files live under $T (socket $T/NAME.sock, sim root and state dir in
# $T/NAME/, created here).
sim_host_conf() {
	mkdir -p "$T/$1/sim" "$T/$1/state"
	printf '%s\n' "relocation-server = yes" "relocation-port = $2" \
	    "relocation-address = $3" "control-socket = $T/$1.sock" \
	    "state-dir = $T/$1/state" "backend = sim" "sim-root = $T/$1/sim" \
	    "host-name = host-$1" "log-level = verbose"
}

# stop_daemons PID...: SIGTERM, up to 5 s to exit, then SIGKILL.
stop_daemons() {
	local pid
	for pid in "$@"; do kill "$pid" 2>/dev/null || true; done
	for pid in "$@"; do
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$pid" 2>/dev/null || true
	done
}

# Destroy every sim domain made under $T: their processes outlive their
# daemon, as Xen domains outlive xend.
destroy_sim_domains() {
	local r
	for r in "$T"/*/sim; do
		[ -d "$r" ] || continue
		"$BIN/simhv" -r "$r" list --json 2>/dev/null | jq -r '.[].id' 2>/dev/null |
		    while read -r id; do
			"$BIN/simhv" -r "$r" destroy "$id" >/dev/null 2>&1 || true
		done || true
	done
}

# The journals of every sim root under $T, merged (simhv(1) journal-check):
# returns 1, with the overlap printed, when two copies of a guest ever ran
# at once -- between a destination's unpause and a source's destroy too,
# not only at the end.  Run after destroy_sim_domains, which ends every
# copy's running interval.
check_sim_journal() {
	local roots=() r out
	for r in "$T"/*/sim; do [ -d "$r" ] && roots+=("$r"); done
	[ ${#roots[@]} -gt 0 ] || return 0
	out=$("$BIN/simhv" journal-check "${roots[@]}" 2>&1) && { trace "${out##*$'\n'}"; return 0; }
	echo "FAIL [$tid]: the sim journal: two copies of a guest ran at once, or it is unreadable"
	echo "$out"
	echo "---- the sim journals, merged (last 60 events)"
	for r in "${roots[@]}"; do [ -f "$r/journal" ] && cat "$r/journal"; done | sort -n | tail -n 60
	return 1
}

# Under SAN=1 a sanitizer report in any daemon's log fails the test:
# print it and return 1.
sanitizer_reports() {
	grep -q -E "AddressSanitizer|LeakSanitizer|runtime error:" "$T"/*.log 2>/dev/null ||
	    return 0
	echo "FAIL [$tid]: sanitizer report in a daemon log"
	grep -h -A 20 -E "AddressSanitizer|LeakSanitizer|runtime error:" "$T"/*.log | head -60
	return 1
}

fail() {
	echo "FAIL [$tid]: $*"
	dump_logs
	exit 1
}

# simhv_on NAME args...: run simhv on host NAME's sim root.
simhv_on() { local h=$1; shift; "$BIN/simhv" -r "$T/$h/sim" "$@"; }

# A domain's state on a host ("" when absent).
dom_state() {
	simhv_on "$1" list --json | jq -r --arg n "$2" '.[] | select(.name == $n) | .state'
}

# json_get FILE KEY: a top-level field of a JSON object.
json_get() { jq -r --arg k "$2" '.[$k]' "$1"; }

# The domain verifies (every page against its version table, running).
expect_verify_ok() {
	local h=$1 d=$2 out
	out=$(simhv_on "$h" verify "$d" 2>&1) || fail "verify of $d on $h failed: $out"
	trace "$h: $out"
}
