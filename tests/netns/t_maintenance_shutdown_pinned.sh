#!/usr/bin/env bash
# `xmig maintenance enter --shutdown-pinned` (issue 6): the unpinned
# domains are evacuated, then the pinned one is asked to shut down cleanly
# (its guest powers off) instead of blocking; its remains are destroyed, it
# runs nowhere, and the host reaches maintenance (exit 0), saying which
# domain was shut down.
tid=maintenance-shutdown-pinned
. "$(dirname "$0")/lib.sh"
netns_hosts a b
write_conf a "sim-memory = 1G" "cluster-peers = $(ip_of b)"
write_conf b "sim-memory = 1G"
start_xmigd a; start_xmigd b
for i in 1 2 3; do
	simhv_on a create "vm$i" --memory 16M --fill random --dirty-rate 1000 --wws 2M \
	    >/dev/null || fail "create vm$i"
done
xmig_on a pin vm2 >/dev/null || fail "pin"
xmig_on a maintenance enter --shutdown-pinned >"$T/out" 2>"$T/err"; rc=$?
cat "$T/out" "$T/err"
[ "$rc" = 0 ] || fail "enter --shutdown-pinned exited $rc, expected 0"
grep -q "vm2 .*shut down in .* s (pinned)" "$T/out" || fail "vm2 not shown as shut down"
grep -q "evacuation complete: 2 of 3 domains moved, 1 shut down" "$T/out" ||
    fail "summary does not count the shut-down domain"
for i in 1 3; do
	[ "$(dom_state b "vm$i")" = running ] || fail "vm$i not on b"
	expect_verify_ok b "vm$i"
done
[ "$(simhv_on a list --json | jq length)" = 0 ] || fail "a still has domains: $(simhv_on a list)"
[ "$(dom_state b vm2)" = "" ] || fail "the pinned vm2 was migrated"
grep -q "maintenance: vm2 has shut down" "$T/a.log" || fail "a does not log vm2's shutdown"
ev=$(xmig_on a maintenance status --json) || fail "status --json"
[ "$(jq -r .evacuation.shut_down <<<"$ev")" = 1 ] || fail "evacuation.shut_down is not 1"
[ "$(jq -r '.evacuation.domains[] | select(.name=="vm2") | .status' <<<"$ev")" = shut-down ] ||
    fail "vm2's status is not shut-down"
[ "$(jq -r .state <<<"$ev")" = maintenance ] || fail "a is not in maintenance"
