# lib.sh - multi-host tests in network namespaces.  Source it, set tid first.
#
#   netns_hosts a b c      make hosts a, b, c: one network namespace each,
#                          joined by veth pairs to a bridge in a namespace of
#                          its own; host N (a=1, b=2 ...) is 10.77.0.N/24 on
#                          its eth0.  Nothing is added to the namespace the
#                          test runs in: every link and address lives in the
#                          namespaces made here, and goes away with them.
#   write_conf h [lines]   $T/h.conf: listens on h's address, port 8002, its
#                          own control socket, state dir and sim root (under
#                          /dev/shm); allows 10.77.0.0/24 unless a line sets
#                          relocation-hosts-allow
#   start_xmigd h          `ip netns exec NS xmigd -f -c $T/h.conf`, log $T/h.log
#   stop_xmigd h           SIGTERM, wait; kill_xmigd h: SIGKILL
#   xmig_on h ARGS         xmig against h's daemon (run inside h's namespace)
#   simhv_on h ARGS        simhv on h's sim root
#   in_ns h CMD...         run CMD in h's namespace
#   ip_of h                h's address
#   link_down h / link_up h   cut / restore h's link (its eth0)
#   tcp_probe h ADDR PORT  connected, refused, timeout or unreachable
#
# On exit, whatever happened (a failed check, a signal, set -e), the trap
# stops the daemons, destroys every sim domain, kills anything left running
# in the namespaces and deletes them (and with them the bridge, the veths
# and any firewall rules), then removes $T.  Not root, or no `ip netns`:
# the test says SKIP and exits 0.
#
# Tests must only send traffic to 127.0.0.0/8 and to the hosts made here.

set -u
ROOTDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
BIN=$ROOTDIR/$BUILD/bin
NETNS_SUBNET=10.77.0
NETNS_PORT=8002

netns_skip() {
	echo "SKIP [$tid]: $*"
	exit 0
}

. "$(dirname "${BASH_SOURCE[0]}")/probe.sh"
if why=$(netns_unavailable); then
	netns_skip "$why"
fi

[ -x "$BIN/xmigd" ] && [ -x "$BIN/xmig" ] && [ -x "$BIN/simhv" ] ||
    { echo "FAIL [$tid]: $BIN/{xmigd,xmig,simhv} not built (make)"; exit 1; }

T=$(mktemp -d /dev/shm/xmig-netns.XXXXXX)
# Namespace names: unique per test run, short enough for messages.
NS_PREFIX="xmig$(basename "$T" | sed 's/^xmig-netns\.//')"
NS_BRIDGE="$NS_PREFIX-br"
HOSTS=()
declare -A DPID=()
. "$ROOTDIR/tests/common.sh"

ns_of() { echo "$NS_PREFIX-$1"; }

host_index() { echo $(($(printf '%d' "'$1") - 96)); }

ip_of() { echo "$NETNS_SUBNET.$(host_index "$1")"; }

in_ns() { local h=$1; shift; ip netns exec "$(ns_of "$h")" "$@"; }

netns_cleanup() {
	local rc=$? h ns pids
	trap - EXIT INT TERM HUP
	stop_daemons "${DPID[@]}"
	destroy_sim_domains
	check_sim_journal || rc=1
	# Whatever still runs in our namespaces was started by this test.
	for h in "${HOSTS[@]}"; do
		ns=$(ns_of "$h")
		pids=$(ip netns pids "$ns" 2>/dev/null)
		[ -n "$pids" ] && kill -9 $pids 2>/dev/null
	done
	for h in "${HOSTS[@]}"; do
		ip netns del "$(ns_of "$h")" 2>/dev/null
	done
	ip netns del "$NS_BRIDGE" 2>/dev/null
	sanitizer_reports || rc=1
	rm -rf "$T"
	exit $rc
}
trap netns_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# netns_hosts NAME...: make the hosts (a, b, c ... in order) and the bridge.
netns_hosts() {
	local h ns
	ip netns add "$NS_BRIDGE" || fail "ip netns add $NS_BRIDGE"
	ip -n "$NS_BRIDGE" link add br0 type bridge || fail "bridge"
	ip -n "$NS_BRIDGE" link set br0 up || fail "bridge up"
	for h in "$@"; do
		ns=$(ns_of "$h")
		HOSTS+=("$h")
		ip netns add "$ns" || fail "ip netns add $ns"
		ip -n "$ns" link set lo up
		ip -n "$NS_BRIDGE" link add "v-$h" type veth peer name eth0 netns "$ns" ||
		    fail "veth pair for $h"
		ip -n "$NS_BRIDGE" link set "v-$h" master br0 up || fail "enslave v-$h"
		ip -n "$ns" addr add "$(ip_of "$h")/24" dev eth0 || fail "address of $h"
		ip -n "$ns" link set eth0 up || fail "eth0 up in $h"
	done
	# Every host answers from the first (a TCP reset from a closed port).
	for h in "$@"; do
		for _ in $(seq 20); do
			tcp_probe "$1" "$(ip_of "$h")" 9 | grep -q refused && continue 2
			sleep 0.1
		done
		fail "host $h ($(ip_of "$h")) unreachable from $1"
	done
	trace "hosts: $(for h in "$@"; do printf '%s=%s ' "$h" "$(ip_of "$h")"; done)"
}

# tcp_probe FROM ADDR PORT: try a TCP connection from host FROM; prints
# "connected", "refused" (the peer answered with a reset) or "timeout"/
# "unreachable" (no answer within 3 s: dropped, or no such host).
tcp_probe() {
	local out
	out=$(in_ns "$1" timeout 3 bash -c "exec 3<>/dev/tcp/$2/$3" 2>&1)
	case $? in
	0) echo connected ;;
	124) echo timeout ;;
	*) case $out in
		*refused*) echo refused ;;
		*) echo unreachable ;;
		esac ;;
	esac
}

link_down() { ip -n "$(ns_of "$1")" link set eth0 down; }
link_up() { ip -n "$(ns_of "$1")" link set eth0 up; }

# write_conf NAME [extra "key = value" lines...]
write_conf() {
	local h=$1 l allow=yes; shift
	for l in "$@"; do
		case $l in relocation-hosts-allow*) allow=no ;; esac
	done
	{
		sim_host_conf "$h" "$NETNS_PORT" "$(ip_of "$h")"
		[ $allow = yes ] && echo "relocation-hosts-allow = $NETNS_SUBNET.0/24"
		for l in "$@"; do echo "$l"; done
	} >"$T/$h.conf"
}

# start_xmigd NAME: a daemon in NAME's namespace, with $T/NAME.conf.
start_xmigd() {
	local h=$1 pid
	[ -f "$T/$h.conf" ] || write_conf "$h"
	XMIG_SIMHV="$BIN/simhv" ip netns exec "$(ns_of "$h")" "$BIN/xmigd" -f -c "$T/$h.conf" \
	    >>"$T/$h.log" 2>&1 &
	pid=$!
	DPID[$h]=$pid
	for _ in $(seq 100); do
		if [ -S "$T/$h.sock" ] && xmig_on "$h" status >/dev/null 2>&1; then
			in_ns "$h" ss -ltn | grep -q "$(ip_of "$h"):$NETNS_PORT " && return 0
		fi
		kill -0 "$pid" 2>/dev/null || fail "xmigd $h exited at start-up"
		sleep 0.05
	done
	fail "xmigd $h did not come up"
}

stop_xmigd() {
	local h=$1 pid=${DPID[$1]:-}
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	unset "DPID[$h]"
}

kill_xmigd() {
	local h=$1 pid=${DPID[$1]:-}
	[ -n "$pid" ] || return 0
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	unset "DPID[$h]"
}

# xmig_on NAME args...: xmig against NAME's daemon, from NAME's namespace.
xmig_on() { local h=$1; shift; in_ns "$h" "$BIN/xmig" -S "$T/$h.sock" "$@"; }
