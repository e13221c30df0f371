# lab.sh - shared settings of the Xen lab scripts (sourced, not run).
LAB_DIR=$(cd "$(dirname "$0")" && pwd)
LAB_ROOT=$(cd "$LAB_DIR/../.." && pwd)
LAB_BUILD=${LAB_BUILD:-$LAB_ROOT/build/xenlab}
# Where xmigd/xmig come from: a build with the Xen backend.
XMIG_BIN_DIR=${XMIG_BIN_DIR:-$LAB_BUILD/bin}
LAB_PORT=${LAB_PORT:-47101}	# QEMU socket netdev between the hosts, on 127.0.0.1
lab_log() { echo "xenlab[$(date +%T)] $*" >&2; }
lab_die() { lab_log "FAIL: $*"; exit 1; }
