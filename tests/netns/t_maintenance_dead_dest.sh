#!/usr/bin/env bash
# Maintenance with a destination that dies (issue 6): three hosts, six
# 32 MiB busy domains on A, streams capped so that the evacuation takes a
# few seconds.  Once B has received one domain its xmigd is killed; the
# remaining domains (and one that was on its way to B, retried once) go to
# C, every domain runs exactly once and verifies, and A ends in maintenance.
tid=maintenance-dead-dest
. "$(dirname "$0")/lib.sh"
netns_hosts a b c
write_conf a "sim-memory = 1G" "cluster-peers = $(ip_of b) $(ip_of c)" \
    "migration-bandwidth-mbit = 200"
write_conf b "sim-memory = 1G"; write_conf c "sim-memory = 1G"
start_xmigd a; start_xmigd b; start_xmigd c
for i in 1 2 3 4 5 6; do
	simhv_on a create "vm$i" --memory 32M --fill random --dirty-rate 1000 --wws 2M \
	    >/dev/null || fail "create vm$i"
done
start=$(date +%s.%N)
xmig_on a maintenance enter >"$T/out" 2>"$T/err" &
enter=$!
for _ in $(seq 200); do
	n=$(xmig_on a maintenance status --json |
	    jq --arg b "$(ip_of b)" '[.evacuation.domains[]? | select(.dest == $b and .status == "done")] | length')
	[ "${n:-0}" -ge 1 ] && break
	sleep 0.05
done
[ "${n:-0}" -ge 1 ] || fail "no domain reached B"
kill_xmigd b
trace "killed B's xmigd after $n domain(s) reached it"
wait "$enter"; rc=$?
secs=$(echo "$(date +%s.%N) - $start" | bc)
cat "$T/out" "$T/err"
[ "$rc" = 0 ] || fail "maintenance enter exited $rc"
[ "$(xmig_on a status --json | jq -r .host_state)" = maintenance ] || fail "A not in maintenance"
onb=0; onc=0
for i in 1 2 3 4 5 6; do
	sb=$(dom_state b "vm$i"); sc=$(dom_state c "vm$i")
	if [ "$sb" = running ] && [ -z "$sc" ]; then
		onb=$((onb + 1)); expect_verify_ok b "vm$i" >/dev/null
	elif [ "$sc" = running ] && [ -z "$sb" ]; then
		onc=$((onc + 1)); expect_verify_ok c "vm$i" >/dev/null
	else
		fail "vm$i: b '$sb', c '$sc'"
	fi
done
[ "$(simhv_on a list --json | jq length)" = 0 ] || fail "domains left on A"
trace "evacuated in ${secs}s: $onb on B before it died, $onc on C"
[ "$onc" -ge 3 ] || fail "only $onc domains went to C"
