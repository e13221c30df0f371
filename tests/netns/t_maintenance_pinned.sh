#!/usr/bin/env bash
# Maintenance and pins (issue 6): a pinned domain blocks `xmig maintenance
# enter` before anything moves (exit 1, the domain named, host still
# active) (--shutdown-pinned: t_maintenance_shutdown_pinned.sh); --to
# limits the destinations; after `xmig unpin` the
# evacuation goes through (offline, one at a time), but only once the one
# allowed destination has left maintenance itself.
tid=maintenance-pinned
. "$(dirname "$0")/lib.sh"
netns_hosts a b c
write_conf a "sim-memory = 1G" "cluster-peers = $(ip_of b) $(ip_of c)"
write_conf b "sim-memory = 1G"; write_conf c "sim-memory = 1G"
start_xmigd a; start_xmigd b; start_xmigd c
for i in 1 2 3; do
	simhv_on a create "vm$i" --memory $((16 * i))M --fill random --dirty-rate 1000 \
	    --wws 2M >/dev/null || fail "create vm$i"
done
xmig_on a pin vm2 >/dev/null || fail "pin"

xmig_on a maintenance enter 2>"$T/err"; rc=$?
cat "$T/err"
[ "$rc" = 1 ] || fail "enter with a pinned domain exited $rc, expected 1"
grep -q "pinned domains block maintenance.* vm2" "$T/err" || fail "vm2 not named"
[ "$(xmig_on a status --json | jq -r .host_state)" = active ] || fail "state changed"
[ "$(simhv_on a list --json | jq length)" = 3 ] || fail "something moved"
xmig_on a maintenance enter --to nohost 2>"$T/err"; rc=$?
[ "$rc" = 1 ] && grep -q "not one of cluster-peers" "$T/err" || fail "--to nohost: $rc"

xmig_on a unpin vm2 >/dev/null || fail "unpin"
# C in maintenance takes nothing: every domain is left, named with the
# reason, and A stays preparing-for-maintenance.
echo "maintenance" >"$T/c/state/host-state"
stop_xmigd c; start_xmigd c
xmig_on a maintenance enter --to "$(ip_of c)" >"$T/out" 2>"$T/err"; rc=$?
cat "$T/out" "$T/err"
[ "$rc" = 1 ] || fail "enter with only a peer in maintenance exited $rc, expected 1"
for i in 1 2 3; do
	grep -q "vm$i left on this host: .*maintenance" "$T/err" || fail "vm$i not named"
done
[ "$(xmig_on a status --json | jq -r .host_state)" = preparing-for-maintenance ] ||
    fail "A not preparing-for-maintenance"
[ "$(simhv_on a list --json | jq length)" = 3 ] || fail "something moved"
xmig_on c maintenance exit >/dev/null || fail "maintenance exit on c"
xmig_on a maintenance enter --to "$(ip_of c)" --parallel 1 --offline >"$T/out" ||
    fail "enter exited $?"
cat "$T/out"
[ "$(xmig_on a maintenance status --json | jq -r .evacuation.live)" = false ] || fail "not offline"
grep -q "vm3 (live)" "$T/a.log" && fail "--offline migrated live"
for i in 1 2 3; do
	[ "$(dom_state c "vm$i")" = running ] || fail "vm$i not on c (--to)"
	expect_verify_ok c "vm$i"
done
[ "$(xmig_on a status --json | jq -r .host_state)" = maintenance ] || fail "A not in maintenance"
