# common.sh - shell helpers shared by tests/integ/lib.sh and
# tests/netns/lib.sh (sourced by them, after they set tid, T and BIN).
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

# Destroy every sim domain the test made: their processes outlive their
# daemon, as Xen domains outlive xend.
destroy_sim_domains() {
	local r
	for r in "$T"/*/sim; do
		[ -d "$r" ] || continue
		"$BIN/simhv" -r "$r" list --json 2>/dev/null | jq -r '.[].id' 2>/dev/null |
		    while read -r id; do
			"$BIN/simhv" -r "$r" destroy "$id" >/dev/null 2>&1
		done
	done
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
