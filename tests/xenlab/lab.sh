# lab.sh - shared settings of the Xen lab scripts (sourced, not run).
LAB_DIR=$(cd "$(dirname "$0")" && pwd)
LAB_ROOT=$(cd "$LAB_DIR/../.." && pwd)
LAB_BUILD=${LAB_BUILD:-$LAB_ROOT/build/xenlab}
# Where xmigd/xmig come from: a build with the Xen backend.
XMIG_BIN_DIR=${XMIG_BIN_DIR:-$LAB_BUILD/bin}
LAB_PORT=${LAB_PORT:-47101}	# QEMU socket netdev between the hosts, on 127.0.0.1
lab_log() { echo "xenlab[$(date +%T)] $*" >&2; }
lab_die() { lab_log "FAIL: $*"; exit 1; }
# One lab at a time per build directory: the hosts share the log, pid and
# initrd file names and the port.  The lock (fd 9) is inherited by the QEMUs
# the caller starts, so a QEMU left running keeps it too.
lab_lock() {
	mkdir -p "$LAB_BUILD/logs"
	exec 9>> "$LAB_BUILD/lab.lock"
	flock -n 9 || lab_die "another lab is running in $LAB_BUILD ($(cat "$LAB_BUILD/lab.lock"); QEMU pids: $(cat "$LAB_BUILD"/logs/*.pid 2>/dev/null | tr '\n' ' '))"
	echo "started $(date +%T) by pid $$ ($(basename "$0"))" > "$LAB_BUILD/lab.lock"
}
# Something listens on the lab's port (a QEMU of another lab): a new host B
# could not listen, and host A would join the old lab's network.
lab_port_busy() {
	ss -Hltn "sport = :$LAB_PORT" 2>/dev/null | grep -q .
}
