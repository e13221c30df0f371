#!/usr/bin/env bash
# The periodic balance (issue 6, balance-interval): three hosts of 1 GiB;
# A runs "even" every second with a 50 % threshold and a 100 Mbit/s stream
# cap (so a move takes seconds), and holds 640 MiB (62 %) of busy sim
# domains.  Without any command, A's xmigd moves domains until A is at or
# under 50 %, each verifying on its destination.  While that periodic
# balance runs, `xmig balance` and `xmig maintenance enter` are refused
# (never two batches at once).  Once A is preparing-for-maintenance (an
# evacuation that could place nothing), the periodic runs are skipped and
# logged, and nothing moves.
tid=balance-interval
. "$(dirname "$0")/lib.sh"
netns_hosts a b c
write_conf a "sim-memory = 1G" "host-vcpus = 32" "balance-high-percent = 50" \
    "balance-interval = 1" "migration-bandwidth-mbit = 100" \
    "cluster-peers = $(ip_of b) $(ip_of c)"
write_conf b "sim-memory = 1G" "host-vcpus = 32"
write_conf c "sim-memory = 1G" "host-vcpus = 32" "cluster-peers = $(ip_of b)"
start_xmigd b; start_xmigd c
for i in $(seq 0 9); do
	simhv_on a create "vm$i" --memory 64M --fill random --dirty-rate 500 --wws 2M \
	    >/dev/null || fail "create vm$i"
done
start_xmigd a
used_mib() { simhv_on "$1" list --json | jq '[.[].memory_bytes] | add // 0 | . / 1048576'; }

# The first periodic run starts moving within a few seconds.
for _ in $(seq 300); do
	grep -q "balance: vm[0-9] (64 MiB) -> .*, job" "$T/a.log" && break
	sleep 0.1
done
grep -q "balance (even, periodic, high 50%, low 20%): 2 moves planned, 2 run here" "$T/a.log" ||
    fail "no periodic plan in A's log"
# A 64 MiB move takes about 5 s at 100 Mbit/s: these are asked meanwhile.
xmig_on a balance 2>"$T/err"; rc=$?
[ "$rc" = 1 ] && grep -q "a balance is running" "$T/err" ||
    fail "xmig balance during a periodic balance: exit $rc, $(cat "$T/err")"
xmig_on a maintenance enter 2>"$T/err"; rc=$?
[ "$rc" = 1 ] && grep -q "a balance is running" "$T/err" ||
    fail "maintenance enter during a periodic balance: exit $rc, $(cat "$T/err")"
[ "$(xmig_on a status --json | jq -r .host_state)" = active ] || fail "A changed state"

for _ in $(seq 600); do
	[ "$(used_mib a)" -le 512 ] && [ "$(xmig_on a jobs --json |
	    jq '[.[] | select(.state != "done" and .state != "failed")] | length')" = 0 ] && break
	sleep 0.1
done
[ "$(used_mib a)" = 512 ] || fail "A holds $(used_mib a) MiB after the periodic balance"
for i in $(seq 0 9); do
	for h in b c; do
		[ "$(dom_state "$h" "vm$i")" = running ] && expect_verify_ok "$h" "vm$i"
	done
done
grep -q "balance: 2 of 2 moves done" "$T/a.log" || fail "the end of the run is not logged"

# Preparing-for-maintenance (C in maintenance, the only --to: nothing can
# be placed): the periodic runs are skipped, and say so.
xmig_on c maintenance enter >/dev/null || fail "maintenance enter on c"
xmig_on a maintenance enter --to "$(ip_of c)" >/dev/null 2>&1 && fail "A's evacuation succeeded"
[ "$(xmig_on a status --json | jq -r .host_state)" = preparing-for-maintenance ] ||
    fail "A is not preparing-for-maintenance"
before=$(grep -c "periodic run skipped: host-a is preparing-for-maintenance" "$T/a.log")
for _ in $(seq 100); do
	[ "$(grep -c "periodic run skipped: host-a is preparing-for-maintenance" "$T/a.log")" -ge \
	    $((before + 2)) ] && break
	sleep 0.1
done
[ "$(grep -c "periodic run skipped: host-a is preparing-for-maintenance" "$T/a.log")" -ge \
    $((before + 2)) ] || fail "periodic runs while preparing are not skipped and logged"
[ "$(used_mib a)" = 512 ] || fail "something moved while A was preparing"
[ "$(grep -c "balance (even, periodic, high" "$T/a.log")" = 1 ] || fail "more than one periodic plan"
trace "periodic balance moved 128 MiB off A; refused overlaps; skipped while preparing"
