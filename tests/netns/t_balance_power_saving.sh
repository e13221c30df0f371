#!/usr/bin/env bash
# `xmig balance --policy power-saving` (issue 6): four hosts of 1 GiB, each
# with the other three as cluster-peers, default thresholds (80 %, 20 %).
# A holds 384 MiB, C 288 MiB, B 96 MiB (9 %) and D 48 MiB (5 %) of busy sim
# domains: the policy empties D, then B, packing their domains onto A (the
# busiest host that stays under 80 %).  Each daemon runs only its own
# moves: on A every move is left to its host (nothing moves, exit 0); on D
# D empties itself; on B B does.  Every moved domain verifies on A, B and D
# are empty, A and C keep theirs, and D and B then enter maintenance with
# nothing to move.
tid=balance-power-saving
. "$(dirname "$0")/lib.sh"
netns_hosts a b c d
for h in a b c d; do
	peers=$(for p in a b c d; do [ "$p" = "$h" ] || printf '%s ' "$(ip_of "$p")"; done)
	write_conf "$h" "sim-memory = 1G" "host-vcpus = 32" "cluster-peers = $peers"
	start_xmigd "$h"
done
mk() { simhv_on "$1" create "$2" --memory "$3" --fill random --dirty-rate 2000 --wws 4M \
    >/dev/null || fail "create $2 on $1"; }
for i in 1 2 3 4; do mk a "a$i" 96M; done
for i in 1 2 3; do mk c "c$i" 96M; done
mk b b1 64M; mk b b2 32M
mk d d1 48M
used_mib() { simhv_on "$1" list --json | jq '[.[].memory_bytes] | add // 0 | . / 1048576'; }

# On A: the plan empties D and B, but those moves are theirs to run.
xmig_on a balance --policy power-saving >"$T/a.out" 2>&1 || fail "balance on A exited $?"
cat "$T/a.out"
grep -q "^emptied by the plan: $(ip_of d) " "$T/a.out" || fail "A's plan does not empty D"
grep -q "^emptied by the plan: $(ip_of b) " "$T/a.out" || fail "A's plan does not empty B"
grep -q "^not run here: d1 ($(ip_of d) -> host-a): left to $(ip_of d): run 'xmig balance' there" \
    "$T/a.out" || fail "A does not say D's move is left to D"
[ "$(xmig_on a jobs --json | jq length)" = 0 ] || fail "A ran jobs"
[ "$(used_mib d)" = 48 ] && [ "$(used_mib b)" = 96 ] || fail "something moved from A's run"

xmig_on d balance --policy power-saving --json >"$T/d.json" || fail "balance on D exited $?"
jq -c '.moves[] | {domain, from, to, status}' "$T/d.json"
jq -e '[.moves[] | select(.from == "host-d" and .status == "done")] | length == 1' \
    "$T/d.json" >/dev/null || fail "D's move not done"
jq -e '[.moves[] | select(.from != "host-d" and .status != "other-host")] | length == 0' \
    "$T/d.json" >/dev/null || fail "D ran moves of other hosts"
xmig_on b balance --policy power-saving >"$T/b.out" || fail "balance on B exited $?"
cat "$T/b.out"

[ "$(used_mib d)" = 0 ] || fail "D not emptied: $(simhv_on d list)"
[ "$(used_mib b)" = 0 ] || fail "B not emptied: $(simhv_on b list)"
[ "$(used_mib c)" = 288 ] || fail "C changed: $(simhv_on c list)"
[ "$(used_mib a)" = 528 ] || fail "A holds $(used_mib a) MiB, expected 528"
for dom in b1 b2 d1; do
	[ "$(dom_state a "$dom")" = running ] || fail "$dom is not on A"
	expect_verify_ok a "$dom" >/dev/null
done
for h in d b; do
	xmig_on "$h" maintenance enter >"$T/m.out" || fail "maintenance enter on $h exited $?"
	grep -q "evacuation complete: 0 of 0 domains moved" "$T/m.out" ||
	    fail "$h's evacuation: $(cat "$T/m.out")"
	[ "$(xmig_on "$h" status --json | jq -r .host_state)" = maintenance ] ||
	    fail "$h not in maintenance"
done
trace "power-saving emptied D and B onto A ($(used_mib a) MiB, C $(used_mib c) MiB); both entered maintenance with nothing to move"
