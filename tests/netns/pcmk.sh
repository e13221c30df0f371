# pcmk.sh - a Pacemaker + Corosync cluster whose nodes are the hosts of
# lib.sh (sourced after it; issue 16).  Each node is a network namespace
# (lib.sh) plus a mount and a UTS namespace of its own, held by one "holder"
# process, in which /etc/corosync, /var/lib/corosync, /var/lib/pacemaker,
# /var/log/pacemaker and /run are the node's own directories under
# $T/NAME/pcmk, /usr/lib/ocf/resource.d also holds xmig/domain (the agent
# of this tree), /run/xmig/xmigd.conf is a copy of $T/NAME.conf (so one
# resource configuration finds each node's xmigd, as /etc/xmig/xmigd.conf
# would on real hosts) and the host name is node-NAME.  corosync (knet on the
# node's address) and pacemakerd run there; so does everything run with
# on_node.  Nothing is mounted or written outside $T: the mounts live and
# die with the node's namespaces, which lib.sh's cleanup empties.
#
#   pcmk_nodes a b c      the nodes (after netns_hosts a b c)
#   pcmk_start h          corosync and pacemakerd on node h
#   on_node h CMD...      CMD in node h's namespaces
#   pcmk_wait_online N S  until N nodes are online with a DC (at most S s)
#   crm_xml h             crm_mon's XML status, from node h

PCMK_NODES=()
declare -A HOLDER=()
PCMK_AGENT=$ROOTDIR/scripts/ocf/domain

pcmk_unavailable() {
	local c
	for c in corosync pacemakerd crm_mon cibadmin crm_attribute crm_resource nsenter unshare \
	    xmllint; do
		command -v "$c" >/dev/null || { echo "no $c (scripts/install-deps.sh installs it)"; return 0; }
	done
	[ -r /usr/lib/ocf/lib/heartbeat/ocf-shellfuncs ] ||
	    { echo "no OCF shell functions (resource-agents)"; return 0; }
	id hacluster >/dev/null 2>&1 || { echo "no hacluster user (pacemaker)"; return 0; }
	return 1
}

on_node() {
	local h=$1; shift
	nsenter -t "${HOLDER[$h]}" -n -m -u -- "$@"
}

# corosync.conf of the cluster: knet, no crypto (the bridge is the test's
# own), every node listed.
pcmk_corosync_conf() {
	local h i=0
	cat <<EOF
totem {
	version: 2
	cluster_name: xmigtest
	transport: knet
	crypto_cipher: none
	crypto_hash: none
	token: 3000
}
quorum {
	provider: corosync_votequorum
}
logging {
	to_stderr: no
	to_syslog: no
	to_logfile: yes
	logfile: /var/log/pacemaker/corosync.log
	timestamp: on
}
nodelist {
EOF
	for h in "${PCMK_NODES[@]}"; do
		i=$((i + 1))
		printf '\tnode {\n\t\tname: node-%s\n\t\tnodeid: %d\n\t\tring0_addr: %s\n\t}\n' \
		    "$h" "$i" "$(ip_of "$h")"
	done
	echo "}"
}

# pcmk_nodes NAME...: the node directories and holders.
pcmk_nodes() {
	local h d rd sub
	PCMK_NODES=("$@")
	for h in "$@"; do
		d=$T/$h/pcmk
		mkdir -p "$d/etc-corosync" "$d/lib-corosync" "$d/lib-pacemaker" "$d/log" "$d/rd/xmig"
		cp -a /var/lib/pacemaker/. "$d/lib-pacemaker/"
		chown hacluster:haclient "$d/log"
		chmod 0775 "$d/log"
		pcmk_corosync_conf >"$d/etc-corosync/corosync.conf"
		install -m 0755 "$PCMK_AGENT" "$d/rd/xmig/domain"
		# /usr/lib/ocf/resource.d as it is, plus xmig/.
		rd=""
		for sub in /usr/lib/ocf/resource.d/*; do
			[ -d "$sub" ] || continue
			mkdir -p "$d/rd/$(basename "$sub")"
			rd="$rd mount --bind $sub $d/rd/$(basename "$sub");"
		done
		ip netns exec "$(ns_of "$h")" unshare -m -u --propagation private sh -c "
			set -e
			mount --bind $d/etc-corosync /etc/corosync
			mount --bind $d/lib-corosync /var/lib/corosync
			mount --bind $d/lib-pacemaker /var/lib/pacemaker
			mount --bind $d/log /var/log/pacemaker
			mount -t tmpfs -o mode=0755 xmig-pcmk-run /run
			mkdir -p /run/lock /run/resource-agents /run/crm /run/pacemaker /run/xmig
			if [ -f $T/$h.conf ]; then cp $T/$h.conf /run/xmig/xmigd.conf; fi
			$rd
			mount --rbind $d/rd /usr/lib/ocf/resource.d
			hostname node-$h
			exec sleep 100000" >>"$T/$h.pcmk.log" 2>&1 &
		HOLDER[$h]=$!
	done
	for h in "$@"; do
		for _ in $(seq 50); do
			[ "$(on_node "$h" hostname 2>/dev/null)" = "node-$h" ] &&
			    on_node "$h" test -x /usr/lib/ocf/resource.d/xmig/domain && continue 2
			kill -0 "${HOLDER[$h]}" 2>/dev/null || break
			sleep 0.1
		done
		fail "node $h's namespaces: $(cat "$T/$h.pcmk.log")"
	done
}

pcmk_start() {
	local h=$1
	on_node "$h" corosync -f >>"$T/$h.corosync.out" 2>&1 &
	for _ in $(seq 100); do
		on_node "$h" corosync-cfgtool -s >/dev/null 2>&1 && break
		sleep 0.1
	done
	on_node "$h" env PCMK_logfile=/var/log/pacemaker/pacemaker.log PCMK_logpriority=crit \
	    pacemakerd >>"$T/$h.pacemakerd.out" 2>&1 &
}

crm_xml() { on_node "$1" crm_mon -1 --output-as=xml 2>/dev/null; }

# xpath XML EXPR: xmllint's answer ("" when none).
xpath() { printf '%s\n' "$1" | xmllint --xpath "$2" - 2>/dev/null; }

pcmk_wait_online() {
	local n=$1 secs=$2 x on
	for _ in $(seq $((secs * 2))); do
		x=$(crm_xml "${PCMK_NODES[0]}")
		on=$(xpath "$x" 'count(//nodes/node[@online="true"])')
		if [ "$on" = "$n" ] && [ "$(xpath "$x" 'string(//current_dc/@present)')" = true ] &&
		    [ "$(xpath "$x" 'string(//current_dc/@with_quorum)')" = true ]; then
			return 0
		fi
		sleep 0.5
	done
	return 1
}

# where RSC: the node RSC is active on ("" when none; "a b" when more).
where() {
	xpath "$(crm_xml "${PCMK_NODES[0]}")" \
	    "//resources/resource[@id=\"$1\"][@role=\"Started\"]/node/@name" |
	    sed 's/ *name="node-\([^"]*\)"/\1 /g; s/ $//'
}

# On exit: note the cluster's processes, let lib.sh's cleanup kill them and
# delete the namespaces, then remove the libqb shared-memory directories
# they served (/dev/shm/qb-SERVERPID-CLIENTPID-...) and corosync's
# blackbox (/dev/shm/qb-corosync-PID-blackbox-*).
pcmk_cleanup() {
	local rc=$? h pids=""
	for h in "${PCMK_NODES[@]}"; do
		pids="$pids $(ip netns pids "$(ns_of "$h")" 2>/dev/null | tr '\n' ' ')"
	done
	(
		(exit $rc)
		netns_cleanup
	)
	rc=$?
	for p in $pids; do
		rm -rf /dev/shm/qb-"$p"-* /dev/shm/qb-*-"$p"-* 2>/dev/null
	done
	exit $rc
}
trap pcmk_cleanup EXIT
