#!/usr/bin/env bash
# Once what is left fits the downtime target, the policy takes one more
# round when the guest, at its measured rate, would dirty fewer than half
# as many pages meanwhile.  A 16 MiB working set dirtied at 5000 pages/s
# over a 400 Mbit/s link fits the 300 ms target after round 1 (~1300
# pages, ~110 ms) and a ~110 ms round sees ~550 writes: the job takes an
# extra round (extra_rounds, a log line), that round's dirty set is under
# half of the one before it, and the guest verifies at the destination.
# An idle domain, with nothing left to halve, takes none.
tid=policy-extra-round
. "$(dirname "$0")/lib.sh"
start_xmigd a; start_xmigd b
simhv_on a create vm1 --memory 128M --fill random --vcpus 1 --dirty-rate 5000 --wws 16M \
    >/dev/null || fail "create"
xmig_on a migrate -l --json -r 400 vm1 "127.0.0.1:$(port_of b)" >"$T/out.json" ||
    fail "migrate exited $?"
jq -c '{result,iterations,extra_rounds,downtime_ms,stop_reason,
    rounds: [.rounds[] | {pages, dirty, ms}]}' "$T/out.json"

check() { jq -e "$1" "$T/out.json" >/dev/null || fail "$2"; }
check '.result == "success" and .stop_reason == "converged"' "not a converged success"
check '.extra_rounds >= 1 and .extra_rounds <= 2' "no extra round, or more than two"
check '(.rounds | length) >= 3' "fewer than three rounds with an extra one"
# rounds[-1] is the stop-and-copy, rounds[-2] the (last) extra round
check '.rounds[-2].dirty * 2 <= .rounds[-3].dirty' "the extra round did not halve the dirty set"
grep -q 'one more round pays' "$T/a.log" || fail "no log line for the extra round"
expect_verify_ok b vm1

simhv_on a create vm2 --memory 64M --fill random --vcpus 1 >/dev/null || fail "create vm2"
xmig_on a migrate -l --json vm2 "127.0.0.1:$(port_of b)" >"$T/idle.json" ||
    fail "idle migrate exited $?"
[ "$(json_get "$T/idle.json" extra_rounds)" = 0 ] || fail "an idle domain took an extra round"
expect_verify_ok b vm2
