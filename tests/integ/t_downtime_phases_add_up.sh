#!/usr/bin/env bash
# Every finished outgoing migration says where its time went (--json
# "phases", `xmig job N`): connect, destination build, pre-copy, and the
# downtime's parts (suspend, final round, the destination's restore, the
# source's devices, the commit, the destination's unpause), which add up
# to downtime_ms within rounding, all of them to no more than total_ms;
# connect and the destination's build add up to setup_ms; offline, there
# is no pre-copy.  b's unpause is made 100 ms slower (recv-slow-unpause):
# its DONE reports it and the sender shows it apart from the commit.
tid=downtime-phases-add-up
. "$(dirname "$0")/lib.sh"
start_xmigd a
XMIG_FAULT=recv-slow-unpause start_xmigd b
simhv_on a create vm1 --memory 64M --fill random --dirty-rate 5000 --wws 8M >/dev/null ||
    fail "create vm1"
simhv_on a create vm2 --memory 32M --fill random >/dev/null || fail "create vm2"
check() {	# JSON-FILE LIVE
	local f=$1 sum all down total setup cs pre unp
	jq -c .phases "$f"
	[ "$(jq '.phases | length' "$f")" = 9 ] || fail "no phases in $(cat "$f")"
	[ "$(jq '[.phases[] | select(. < 0)] | length' "$f")" = 0 ] || fail "a negative phase"
	sum=$(jq '.phases | .suspend_ms + .final_round_ms + .restore_ms + .devices_ms +
	    .commit_ms + .unpause_ms' "$f")
	down=$(jq .downtime_ms "$f")
	[ "$sum" -le $((down + 1)) ] && [ "$sum" -ge $((down - 1)) ] ||
	    fail "downtime phases add up to $sum ms, downtime_ms is $down"
	all=$(jq '[.phases[]] | add' "$f")
	total=$(jq .total_ms "$f")
	[ "$all" -le "$total" ] || fail "the phases add up to $all ms, total_ms is $total"
	setup=$(jq .setup_ms "$f")
	cs=$(jq '.phases.connect_ms + .phases.destination_build_ms' "$f")
	[ "$cs" -le "$setup" ] && [ "$cs" -ge $((setup - 2)) ] ||
	    fail "connect + build = $cs ms, setup_ms is $setup"
	unp=$(jq .phases.unpause_ms "$f")
	[ "$unp" -ge 100 ] || fail "unpause_ms is $unp with b's unpause 100 ms slow"
	pre=$(jq .phases.precopy_ms "$f")
	if [ "$2" = live ]; then
		[ "$pre" -gt 0 ] || fail "a live migration without pre-copy time"
	else
		[ "$pre" = 0 ] || fail "an offline migration with $pre ms of pre-copy"
	fi
}
xmig_on a migrate -l --json vm1 "127.0.0.1:$(port_of b)" >"$T/live.json" || fail "live migrate"
check "$T/live.json" live
xmig_on a migrate --json vm2 "127.0.0.1:$(port_of b)" >"$T/off.json" || fail "offline migrate"
check "$T/off.json" offline
id=$(jq .id "$T/live.json")
xmig_on a job "$id" | grep -E "downtime, by phase: suspend [0-9]+ ms, final round [0-9]+ ms, destination restore [0-9]+ ms, devices [0-9]+ ms, commit [0-9]+ ms, unpause [0-9]+ ms" ||
    fail "xmig job does not show the phases"
trace "ok"
