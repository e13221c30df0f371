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
