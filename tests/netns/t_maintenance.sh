#!/usr/bin/env bash
# Maintenance evacuation (issue 6): four hosts, twelve busy sim domains of
# mixed sizes (16-64 MiB, 448 MiB in all) on A.  `xmig maintenance enter`
# moves every one of them live to B, C and D (each destination chosen when
# its migration starts, at most 2 at once, one incoming per peer), every
# domain verifies on its destination, A ends in `maintenance` (also after a
# restart of its xmigd), refuses incoming migrations, and the memory the
# domains take on B (which starts with 96 MiB of its own), C and D differs
# by at most MAX_SPREAD_MIB (two of the largest domains).  Prints the evacuation time and the final spread.
tid=maintenance
MAX_SPREAD_MIB=128
. "$(dirname "$0")/lib.sh"
netns_hosts a b c d
peers="$(ip_of b) $(ip_of c):$NETNS_PORT $(ip_of d)"
write_conf a "sim-memory = 2G" "cluster-peers = $peers"
for h in b c d; do write_conf "$h" "sim-memory = 1G"; done
for h in a b c d; do start_xmigd "$h"; done

# B starts with 96 MiB of its own, so an even spread must give it less.
simhv_on b create base --memory 96M --fill random >/dev/null || fail "create base on b"
declare -A used=([b]=96)
sizes=(64 64 48 48 48 32 32 32 32 16 16 16)
for i in "${!sizes[@]}"; do
	simhv_on a create "vm$i" --memory "${sizes[$i]}M" --fill random --vcpus $((1 + i % 2)) \
	    --dirty-rate 2000 --wws 4M >/dev/null || fail "create vm$i"
done
start=$(date +%s.%N)
xmig_on a maintenance enter --reason "new fans" >"$T/enter.out" 2>"$T/enter.err"; rc=$?
secs=$(echo "$(date +%s.%N) - $start" | bc)
cat "$T/enter.out" "$T/enter.err"
[ "$rc" = 0 ] || fail "maintenance enter exited $rc"
[ "$(xmig_on a status --json | jq -r .host_state)" = maintenance ] || fail "A not in maintenance"
[ "$(simhv_on a list --json | jq length)" = 0 ] || fail "domains left on A: $(simhv_on a list)"

for i in "${!sizes[@]}"; do
	where=""
	for h in b c d; do
		if [ "$(dom_state "$h" "vm$i")" = running ]; then
			[ -z "$where" ] || fail "vm$i runs on $where and $h"
			where=$h
		fi
	done
	[ -n "$where" ] || fail "vm$i runs nowhere"
	expect_verify_ok "$where" "vm$i" >/dev/null
	used[$where]=$(( ${used[$where]:-0} + ${sizes[$i]} ))
done
min=100000; max=0
for h in b c d; do
	u=${used[$h]:-0}
	[ "$u" -lt "$min" ] && min=$u
	[ "$u" -gt "$max" ] && max=$u
done
trace "evacuated 12 domains (448 MiB) in ${secs}s; MiB of domains on b/c/d (b's own 96 included): ${used[b]:-0}/${used[c]:-0}/${used[d]:-0}, spread $((max - min)) MiB (bound $MAX_SPREAD_MIB)"
[ $((max - min)) -le $MAX_SPREAD_MIB ] || fail "spread $((max - min)) MiB above $MAX_SPREAD_MIB"
xmig_on a maintenance status --json >"$T/st.json"
[ "$(jq -r .evacuation.moved "$T/st.json")" = 12 ] || fail "status does not say 12 moved"
[ "$(jq -r .reason "$T/st.json")" = "new fans" ] || fail "reason lost"

# A in maintenance refuses incoming, also after a restart.
stop_xmigd a; start_xmigd a
[ "$(xmig_on a status --json | jq -r .host_state)" = maintenance ] || fail "state lost on restart"
h0=$(for h in b c d; do [ "$(dom_state "$h" vm0)" = running ] && echo "$h"; done)
xmig_on "$h0" migrate -l vm0 "$(ip_of a)" 2>"$T/err" &&
    fail "A accepted a migration in maintenance"
grep -q "maintenance" "$T/err" || fail "refusal does not say maintenance: $(cat "$T/err")"
xmig_on a maintenance exit >/dev/null || fail "maintenance exit"
xmig_on "$h0" migrate -l vm0 "$(ip_of a)" >/dev/null || fail "A refused a migration after exit"
expect_verify_ok a vm0
