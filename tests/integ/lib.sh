# lib.sh - helpers for xmig integration tests.  Source it, set tid first.
#
# Each test gets its own directory under /dev/shm (sim guest RAM lives
# there), its own daemons on loopback ports, control sockets and sim roots,
# and removes all of it on exit, whatever happened.

set -u
ROOTDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
BIN=$ROOTDIR/$BUILD/bin
TESTPEER=$ROOTDIR/$BUILD/tests/testpeer	# a scripted peer (tests/peer/testpeer.c)
T=$(mktemp -d /dev/shm/xmig-test.XXXXXX)
DAEMONS=()
# Below the kernel's ephemeral range (32768-60999 by default): a port in
# it can be held by any outgoing connection's local end at the moment a
# daemon binds it.
PORT_BASE=$((20000 + (RANDOM % 1200) * 10))
. "$ROOTDIR/tests/common.sh"
san_env

cleanup() {
	local rc=$?
	stop_daemons "${DAEMONS[@]}"
	destroy_sim_domains
	check_sim_journal || rc=1
	sanitizer_reports || rc=1
	rc=$(skip_rc "$rc")
	rm -rf "$T"
	exit "$rc"
}
trap cleanup EXIT

# port_of NAME: the relocation port of host NAME (a, b, c ...)
port_of() {
	local i
	i=$(printf '%d' "'$1")
	echo $((PORT_BASE + i - 97))
}

# write_conf NAME [extra "key = value" lines...]
write_conf() {
	local h=$1; shift
	{
		sim_host_conf "$h" "$(port_of "$h")" 127.0.0.1
		for l in "$@"; do echo "$l"; done
	} >"$T/$h.conf"
}

# start_xmigd NAME: start a daemon with $T/NAME.conf (written if missing),
# under the command in $XMIGD_WRAP if set (e.g. unshare -m ...).
start_xmigd() {
	local h=$1 pid
	[ -f "$T/$h.conf" ] || write_conf "$h"
	XMIG_SIMHV="$BIN/simhv" ${XMIGD_WRAP:-} "$BIN/xmigd" -f -c "$T/$h.conf" >>"$T/$h.log" 2>&1 &
	pid=$!
	DAEMONS+=("$pid")
	eval "PID_$h=$pid"
	for _ in $(seq 100); do
		[ -S "$T/$h.sock" ] && "$BIN/xmig" -S "$T/$h.sock" status >/dev/null 2>&1 && return 0
		kill -0 "$pid" 2>/dev/null || fail "xmigd $h exited at start-up"
		sleep 0.05
	done
	fail "xmigd $h did not come up"
}

# xmig_on NAME args...: run xmig against host NAME's daemon.
xmig_on() {
	local h=$1
	shift
	"$BIN/xmig" -S "$T/$h.sock" "$@"
	note_san_rc $? xmig "$@"
}

# Wait until `xmig job` on host NAME reports iteration >= N for job JOB.
wait_iteration() {
	local h=$1 job=$2 n=$3 it
	for _ in $(seq 300); do
		it=$(xmig_on "$h" job "$job" --json 2>/dev/null | jq -r '.iteration // 0' 2>/dev/null)
		[ -n "$it" ] && [ "$it" -ge "$n" ] && return 0
		sleep 0.05
	done
	return 1
}

# Wait until job JOB on host NAME has sent at least N bytes.
wait_bytes() {
	local h=$1 job=$2 n=$3 b
	for _ in $(seq 400); do
		b=$(xmig_on "$h" job "$job" --json 2>/dev/null | jq -r '.bytes_sent // 0' 2>/dev/null)
		[ -n "$b" ] && [ "$b" -ge "$n" ] && return 0
		sleep 0.05
	done
	return 1
}
