#!/usr/bin/env bash
# `xmig balance --policy even` (issue 6): four hosts of 1 GiB, A's
# threshold set to 50 %; fourteen busy sim domains (16-96 MiB, 832 MiB, 81 %)
# are piled on A and B already holds 96 MiB.  One `xmig balance` on A moves
# live, from A only, until every host is at or under 50 % of its memory;
# every moved domain verifies on its destination, the others still run on
# A, the JSON report lists each move as done with domain, from, to and why,
# and the command exits 0.  Prints the moves, the time and the final loads.
tid=balance-even
. "$(dirname "$0")/lib.sh"
netns_hosts a b c d
write_conf a "sim-memory = 1G" "host-vcpus = 32" "balance-high-percent = 50" \
    "cluster-peers = $(ip_of b) $(ip_of c) $(ip_of d)"
for h in b c d; do write_conf "$h" "sim-memory = 1G" "host-vcpus = 32"; done
for h in a b c d; do start_xmigd "$h"; done

simhv_on b create base --memory 96M --fill random >/dev/null || fail "create base on b"
sizes=(96 96 64 64 64 64 64 64 48 48 48 48 32 32)
for i in "${!sizes[@]}"; do
	simhv_on a create "vm$i" --memory "${sizes[$i]}M" --fill random --dirty-rate 2000 \
	    --wws 4M >/dev/null || fail "create vm$i"
done

# used_mib HOST: MiB of the domains on HOST (the sim host's used memory).
used_mib() { simhv_on "$1" list --json | jq '[.[].memory_bytes] | add // 0 | . / 1048576'; }
[ "$(used_mib a)" = 832 ] || fail "A holds $(used_mib a) MiB, expected 832"

start=$(date +%s.%N)
xmig_on a balance --policy even --json >"$T/bal.json" 2>"$T/bal.err"; rc=$?
secs=$(echo "$(date +%s.%N) - $start" | bc)
cat "$T/bal.err"
jq -c '.moves[] | {domain, from, to, status}' "$T/bal.json"
[ "$rc" = 0 ] || fail "balance exited $rc"
moves=$(jq '.moves | length' "$T/bal.json")
[ "$moves" -ge 2 ] || fail "only $moves moves planned"
[ "$(jq '[.moves[] | select(.status == "done" and .from == "host-a")] | length' \
    "$T/bal.json")" = "$moves" ] || fail "not every move is done from host-a"
jq -e '[.moves[] | select((.why | length) == 0 or (.to | length) == 0)] | length == 0' \
    "$T/bal.json" >/dev/null || fail "a move without its destination or reason"

moved=()
for i in "${!sizes[@]}"; do
	where=""
	for h in a b c d; do
		if [ "$(dom_state "$h" "vm$i")" = running ]; then
			[ -z "$where" ] || fail "vm$i runs on $where and $h"
			where=$h
		fi
	done
	[ -n "$where" ] || fail "vm$i runs nowhere"
	want=$(jq -r --arg d "vm$i" '.moves[] | select(.domain == $d) | .to' "$T/bal.json")
	if [ -n "$want" ]; then
		[ "$want" = "$(ip_of "$where")" ] || fail "vm$i is on $where, the plan said $want"
		expect_verify_ok "$where" "vm$i" >/dev/null
		moved+=("vm$i->$where")
	else
		[ "$where" = a ] || fail "vm$i moved to $where without being in the plan"
	fi
done
loads=""
for h in a b c d; do
	u=$(used_mib "$h")
	loads+="$h=${u}MiB "
	[ "$u" -le 512 ] || fail "host $h holds $u MiB, above 50 % of 1 GiB"
done
trace "balance even: ${#moved[@]} moves (${moved[*]}) in ${secs}s; loads: $loads"
grep -q "balance (even, high 50%, low 20%): $moves moves planned, $moves run here" "$T/a.log" ||
    fail "the plan is not logged"

# Balanced now: a second run has nothing to do.
xmig_on a balance >"$T/again.out" || fail "second balance exited $?"
grep -q "no move to run from this host" "$T/again.out" || fail "second run: $(cat "$T/again.out")"
