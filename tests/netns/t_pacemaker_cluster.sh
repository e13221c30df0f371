#!/usr/bin/env bash
# xmig under a real Pacemaker cluster (issue 16): three nodes, each a network
# namespace on the test's bridge plus mount and UTS namespaces of its own
# (tests/netns/pcmk.sh), running corosync (knet), pacemaker and an xmigd on
# the sim backend; busy 256 MiB domains as ocf:xmig:domain resources with
# allow-migrate=true and placement-strategy=balanced.
#   1. standby of the node holding two domains: both move live (xmig's
#      records on the destinations say so; simhv verify passes there) and
#      the node ends empty; the time it took is printed; unstandby.
#   2. the agent's monitor corrects a domain's memory utilization
#      (autoset_utilization_memory); a new domain lands on the node with the
#      most free memory capacity.
#   3. kill -9 of the source's xmigd during a migrate_to: when the cluster
#      has settled, and again after xmigd is back and has reconciled,
#      exactly one copy of the domain runs, where Pacemaker says.
# On exit the sim journals of the three nodes, merged (simhv journal-check,
# run by lib.sh's cleanup), must show that no two copies of a domain ever
# ran at the same time, during the live moves and the kill -9 alike; and
# everything (daemons, namespaces, mounts, sim domains, libqb files) goes
# away, whatever happened.  Skips without root, namespaces, or the
# cluster packages.
tid=pacemaker-cluster
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pcmk.sh"
if why=$(pcmk_unavailable); then netns_skip "$why"; fi
command -v jq >/dev/null || netns_skip "no jq"
MEM=256		# MiB per domain
CAP=1024	# MiB of memory capacity per node

netns_hosts a b c
for h in a b c; do write_conf "$h"; done
pcmk_nodes a b c
for h in a b c; do start_xmigd "$h"; done
for h in a b c; do pcmk_start "$h"; done
t0=$(date +%s)
pcmk_wait_online 3 180 || fail "the cluster did not come up: $(tail -n 20 "$T"/*/pcmk/log/pacemaker.log)"
trace "cluster of 3 online with quorum in $(($(date +%s) - t0))s"

# crm NODE... : cluster commands, from node a.
crm() { on_node a "$@"; }
dump_cluster() {
	crm crm_mon -1 -r -f 2>&1 | sed 's/^/    crm_mon: /'
	grep -h "xmig\|domain" "$T"/*/pcmk/log/pacemaker.log 2>/dev/null | grep -i "error\|fail\|warn" |
	    tail -n 30 | sed 's/^/    log: /'
}
cfail() { dump_cluster; fail "$@"; }
settle() { crm crm_resource --wait --timeout "${1:-180}" >/dev/null 2>&1; }

# No fencing device in a test (docs/pacemaker.md: fence in production).
crm crm_attribute --type crm_config --name stonith-enabled --update false || fail "stonith-enabled"
crm crm_attribute --type crm_config --name placement-strategy --update balanced ||
    fail "placement-strategy"
crm crm_attribute --type rsc_defaults --name resource-stickiness --update 100 ||
    fail "resource-stickiness"
for h in a b c; do
	crm crm_attribute --node "node-$h" --utilization --name memory --update "$CAP" ||
	    fail "utilization of node-$h"
	# migrate_to resolves the target node to its relocation address.
	crm crm_attribute --node "node-$h" --name xmig-relocation-address --update "$(ip_of "$h")" ||
	    fail "relocation address of node-$h"
done

# domain_rsc NAME [extra nvpairs [memory utilization]]: an ocf:xmig:domain
# primitive.
domain_rsc() {
	local n=$1 extra=${2:-} util=${3:-$MEM}
	printf '%s\n' "name = \"$n\"" "memory = $MEM" "vcpus = 2" "sim_dirty_rate = 5000" \
	    "sim_wws = 32M" >"$T/$n.cfg"
	cat <<EOF
<primitive id="$n" class="ocf" provider="xmig" type="domain">
  <instance_attributes id="$n-ia">
    <nvpair id="$n-name" name="name" value="$n"/>
    <nvpair id="$n-config" name="config" value="$T/$n.cfg"/>
    <nvpair id="$n-conf" name="conf" value="/run/xmig/xmigd.conf"/>
    <nvpair id="$n-xmig" name="xmig" value="$BIN/xmig"/>
    <nvpair id="$n-simhv" name="simhv" value="$BIN/simhv"/>
    <nvpair id="$n-shutdown" name="shutdown_timeout" value="10"/>
    <nvpair id="$n-autoset" name="autoset_utilization_memory" value="true"/>
    $extra
  </instance_attributes>
  <meta_attributes id="$n-meta">
    <nvpair id="$n-allow-migrate" name="allow-migrate" value="true"/>
  </meta_attributes>
  <utilization id="$n-util">
    <nvpair id="$n-util-mem" name="memory" value="$util"/>
  </utilization>
  <operations>
    <op id="$n-monitor" name="monitor" interval="5s" timeout="30s"/>
    <op id="$n-start" name="start" interval="0s" timeout="60s"/>
    <op id="$n-stop" name="stop" interval="0s" timeout="60s"/>
    <op id="$n-migrate_to" name="migrate_to" interval="0s" timeout="120s"/>
    <op id="$n-migrate_from" name="migrate_from" interval="0s" timeout="60s"/>
  </operations>
</primitive>
EOF
}
add_rsc() { crm cibadmin --create --scope resources --xml-text "$(domain_rsc "$@")" || fail "add $1"; }

# Where each domain runs, by the sim hypervisors (running copies only,
# whatever their name: DOM, DOM--incoming, DOM--migratedaway).
running_on() {
	local h out=""
	for h in a b c; do
		simhv_on "$h" list --json | jq -e --arg n "$1" \
		    'map(select((.name == $n or (.name | startswith($n + "--"))) and .state == "running")) | length > 0' \
		    >/dev/null && out="$out $h"
	done
	echo "${out# }"
}

# ---- three busy domains: two on a, one on c; the cluster adopts them ----
for d in vm1 vm2; do
	simhv_on a create "$d" --memory "${MEM}M" --vcpus 2 --dirty-rate 5000 --wws 32M \
	    --fill random >/dev/null || fail "create $d"
done
simhv_on c create vm3 --memory "${MEM}M" --vcpus 2 --dirty-rate 5000 --wws 32M \
    --fill random >/dev/null || fail "create vm3"
add_rsc vm1
add_rsc vm2
add_rsc vm3 "" 1	# a wrong memory utilization, which the agent corrects
settle 120 || cfail "the cluster did not settle after adding vm1..vm3"
[ "$(where vm1)" = a ] && [ "$(where vm2)" = a ] && [ "$(where vm3)" = c ] ||
    cfail "not adopted where they run: vm1 $(where vm1), vm2 $(where vm2), vm3 $(where vm3)"
[ "$(simhv_on a list --json | jq length)" = 2 ] || cfail "a does not hold exactly vm1, vm2"
trace "adopted: vm1, vm2 on node-a, vm3 on node-c"
for _ in $(seq 60); do
	[ "$(crm crm_resource --resource vm3 --utilization --get-parameter memory --quiet)" = "$MEM" ] &&
	    break
	sleep 0.5
done
[ "$(crm crm_resource --resource vm3 --utilization --get-parameter memory --quiet)" = "$MEM" ] ||
    cfail "the agent did not set vm3's memory utilization to $MEM (autoset_utilization_memory)"
trace "autoset_utilization_memory: vm3's utilization corrected from 1 to $MEM MiB by its monitor"

# ---- 1. standby of node-a: both move live ----
t0=$(date +%s.%N)
crm crm_attribute --node node-a --name standby --update on || fail "standby"
moved=""
for _ in $(seq 240); do
	w1=$(where vm1); w2=$(where vm2)
	if [ -n "$w1" ] && [ "$w1" != a ] && [ -n "$w2" ] && [ "$w2" != a ] &&
	    [ "$(simhv_on a list --json | jq length)" = 0 ]; then
		moved=yes
		break
	fi
	sleep 0.25
done
secs=$(echo "$(date +%s.%N) - $t0" | bc)
[ -n "$moved" ] || cfail "standby did not empty node-a: vm1 $(where vm1), vm2 $(where vm2), a: $(simhv_on a list)"
trace "standby emptied node-a of two busy ${MEM} MiB domains in ${secs}s: vm1 -> node-$w1, vm2 -> node-$w2"
for d in vm1 vm2; do
	eval "w=\$w${d#vm}"
	# Moved live by xmig (an incoming record), not stopped and started.
	xmig_on "$w" history --json | jq -e --arg d "$d" \
	    'map(select(.domain == $d and .direction == "in" and .result == "success" and .mode == "live")) | length == 1' \
	    >/dev/null || cfail "$d: no live incoming migration in node-$w's history: $(xmig_on "$w" history)"
	expect_verify_ok "$w" "$d"
	xmig_on a history --json | jq -r --arg d "$d" --arg w "$w" --arg t "$tid" \
	    'map(select(.domain == $d and .direction == "out"))[-1] |
	     "[\($t)] \($d) -> node-\($w): xmig job started at \(.started % 100000) ms (mod 100 s), took \(.total_ms) ms, \(.iteration) rounds, downtime \(.downtime_ms) ms"'
	[ "$(running_on "$d")" = "$w" ] || cfail "$d runs on: $(running_on "$d")"
done
settle 60
crm crm_attribute --node node-a --name standby --update off || fail "unstandby"
for _ in $(seq 120); do
	[ "$(xpath "$(crm_xml a)" 'string(//nodes/node[@name="node-a"]/@standby)')" = false ] && break
	sleep 0.25
done
[ "$(xpath "$(crm_xml a)" 'string(//nodes/node[@name="node-a"]/@standby)')" = false ] ||
    cfail "node-a still in standby"
settle 60
[ "$(where vm1)" = "$w1" ] && [ "$(where vm2)" = "$w2" ] || cfail "domains moved back after unstandby"
trace "unstandby: node-a online, the domains stay where they are (stickiness)"

# ---- 2. balanced placement: a new domain lands where memory is ----
add_rsc vm4 '<nvpair id="vm4-bw" name="bandwidth" value="100"/>'
settle 120 || cfail "vm4 did not settle"
[ "$(where vm4)" = a ] || cfail "vm4 placed on node-$(where vm4), not on node-a (all $CAP MiB free)"
[ "$(running_on vm4)" = a ] || cfail "vm4 runs on: $(running_on vm4)"
[ "$(crm crm_resource --resource vm4 --utilization --get-parameter memory --quiet)" = "$MEM" ] ||
    cfail "vm4's memory utilization is not $MEM"
trace "balanced: vm4 started on node-a, the node with the most free memory"

# ---- 3. kill -9 of xmigd on the source during a migrate_to ----
crm crm_resource --move --resource vm4 --node node-b >/dev/null 2>&1 || fail "crm_resource --move"
killed=""
for _ in $(seq 400); do
	if xmig_on a jobs --json 2>/dev/null | jq -e \
	    'map(select(.domain == "vm4" and .direction == "out" and .result == null and .bytes_sent > 4194304)) | length > 0' \
	    >/dev/null 2>&1; then
		kill_xmigd a
		killed=yes
		break
	fi
	sleep 0.05
done
[ -n "$killed" ] || cfail "no migrate_to of vm4 to catch"
trace "killed xmigd on node-a during the migrate_to of vm4"
settle 240 || trace "the cluster has not settled in 240s"
# What Pacemaker did with vm4, node by node, and the agent's reasons.
for h in a b c; do
	sed -n 's/^\([^ ]* [^ ]* [^ ]*\) .*Result of \([a-z_]*\) operation for vm4 on [^:]*: \(.*\) |.*/\1 \2: \3/p' \
	    "$T/$h/pcmk/log/pacemaker.log" 2>/dev/null | sed "s/^/    node-$h: /"
done
copies=$(running_on vm4)
trace "settled with xmigd down: vm4 runs on [$copies], Pacemaker: node-$(where vm4)"
[ "$(echo "$copies" | wc -w)" = 1 ] || cfail "vm4 runs on [$copies]"
[ "$(where vm4)" = "$copies" ] || cfail "Pacemaker says node-$(where vm4), it runs on node-$copies"
start_xmigd a
sleep 3
crm crm_resource --cleanup --resource vm4 >/dev/null 2>&1
settle 120
copies=$(running_on vm4)
[ "$(echo "$copies" | wc -w)" = 1 ] || cfail "after xmigd's restart vm4 runs on [$copies]"
[ "$(where vm4)" = "$copies" ] || cfail "after xmigd's restart: Pacemaker says node-$(where vm4), runs on node-$copies"
trace "xmigd back on node-a: vm4 runs once, on node-$copies"
crm crm_resource --clear --resource vm4 >/dev/null 2>&1
for d in vm1 vm2 vm3; do
	[ "$(echo "$(running_on "$d")" | wc -w)" = 1 ] || cfail "$d runs on [$(running_on "$d")]"
done
trace "ok"
