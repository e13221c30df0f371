#!/usr/bin/env bash
# -r caps the memory stream at that many Mbit/s on the wire, and the stream
# runs at the cap, not below it: for an offline and a live migration of
# guests large enough to measure (about 2.7 s of stream each, page data
# that does not compress and is not zero), the rate measured from the job's
# JSON -- bytes_sent over stream_ms, and round 0's bytes over its ms -- is
# within 0.95-1.10 x the cap.  Two caps (300 and 120 Mbit/s) so that a rate
# that ignored -r, or a fixed one, cannot pass both.
tid=rate-cap
. "$(dirname "$0")/lib.sh"
start_xmigd a; start_xmigd b

# check_rate FILE CAP: the job's JSON in FILE shows a stream at CAP Mbit/s.
check_rate() {
	local f=$1 cap=$2
	jq -c --argjson cap "$cap" '{bytes_sent, stream_ms, round0: .rounds[0],
	    mbit: (.bytes_sent * 8 / .stream_ms / 1000), x: (.bytes_sent * 8 / .stream_ms / 1000 / $cap)}' "$f"
	[ "$(json_get "$f" result)" = success ] || fail "result not success"
	jq -e '.stream_ms >= 2000' "$f" >/dev/null || fail "stream too short to measure: $(json_get "$f" stream_ms) ms"
	# Mbit/s = bytes * 8 / ms / 1000
	jq -e --argjson cap "$cap" '(.bytes_sent * 8 / .stream_ms / 1000) as $r |
	    $r >= 0.95 * $cap and $r <= 1.10 * $cap' "$f" >/dev/null ||
	    fail "stream rate $(jq '.bytes_sent * 8 / .stream_ms / 1000' "$f") Mbit/s not within 0.95-1.10 x -r $cap"
	jq -e --argjson cap "$cap" '.rounds[0] | (.bytes * 8 / .ms / 1000) as $r |
	    $r >= 0.95 * $cap and $r <= 1.10 * $cap' "$f" >/dev/null ||
	    fail "round 0 rate $(jq '.rounds[0] | .bytes * 8 / .ms / 1000' "$f") Mbit/s not within 0.95-1.10 x -r $cap"
}

# Offline, 96 MiB of random pages at 300 Mbit/s (100 MB: 2.7 s).
simhv_on a create vm1 --memory 96M --fill random --vcpus 1 >/dev/null || fail "create vm1"
xmig_on a migrate --json -r 300 vm1 "127.0.0.1:$(port_of b)" >"$T/off.json" ||
    fail "offline migrate exited $?"
check_rate "$T/off.json" 300
expect_verify_ok b vm1

# Live, 40 MiB at 120 Mbit/s (42 MB: 2.8 s), a guest that dirties a little.
simhv_on b create vm2 --memory 40M --fill random --vcpus 1 --dirty-rate 200 --wws 1M \
    >/dev/null || fail "create vm2"
xmig_on b migrate -l --json -r 120 vm2 "127.0.0.1:$(port_of a)" >"$T/live.json" ||
    fail "live migrate exited $?"
check_rate "$T/live.json" 120
expect_verify_ok a vm2
