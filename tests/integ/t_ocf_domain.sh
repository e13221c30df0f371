#!/usr/bin/env bash
# The Pacemaker resource agent ocf:xmig:domain (scripts/ocf/domain, issue 16)
# on the sim backend: ocf-tester (resource-agents) passes against one local
# xmigd; then, called as Pacemaker calls it, the agent moves a domain live
# between two daemons (migrate_to, migrate_from; verified at the
# destination), refuses to move a domain pinned with xmig pin and names the
# pin, adopts a domain that runs already, and reports the OCF exit codes.
# Skips only when ocf-tester or the OCF shell functions are not installed
# (scripts/install-deps.sh installs resource-agents).
tid=ocf-domain
. "$(dirname "$0")/lib.sh"
AGENT=$ROOTDIR/scripts/ocf/domain
OCF_ROOT=${OCF_ROOT:-/usr/lib/ocf}
export OCF_ROOT
if ! command -v ocf-tester >/dev/null || [ ! -r "$OCF_ROOT/lib/heartbeat/ocf-shellfuncs" ]; then
	trace "SKIP: ocf-tester or $OCF_ROOT/lib/heartbeat/ocf-shellfuncs is not installed (resource-agents)"
	exit 0
fi

sh -n "$AGENT" || fail "the agent has a syntax error"
if command -v shellcheck >/dev/null; then
	shellcheck -s sh "$AGENT" || fail "shellcheck finds fault with the agent"
fi
start_xmigd a
start_xmigd b
printf '%s\n' 'name = "ocfvm"' 'memory = 32' 'vcpus = 2' 'sim_dirty_rate = 500' \
    'sim_wws = 4M' >"$T/ocfvm.cfg"

# ---- ocf-tester ----
ocf-tester -n ocfvm -o name=ocfvm -o config="$T/ocfvm.cfg" -o socket="$T/a.sock" \
    -o sim_root="$T/a/sim" -o xmig="$BIN/xmig" -o simhv="$BIN/simhv" \
    -o shutdown_timeout=5 "$AGENT" >"$T/tester.out" 2>&1
rc=$?
sed 's/^/    /' "$T/tester.out"
[ $rc = 0 ] || fail "ocf-tester exited $rc"
grep -q "passed all tests" "$T/tester.out" || fail "ocf-tester did not pass"
[ -z "$(dom_state a ocfvm)" ] || fail "ocf-tester left ocfvm behind"

# ---- the agent as Pacemaker calls it ----
# ra HOST ACTION [VAR=VALUE...]: run the agent on HOST's daemon.
ra() {
	local h=$1 action=$2; shift 2
	env OCF_RESOURCE_INSTANCE=vm-ocfvm OCF_RESKEY_name=ocfvm \
	    OCF_RESKEY_config="$T/ocfvm.cfg" OCF_RESKEY_socket="$T/$h.sock" \
	    OCF_RESKEY_sim_root="$T/$h/sim" OCF_RESKEY_xmig="$BIN/xmig" \
	    OCF_RESKEY_simhv="$BIN/simhv" OCF_RESKEY_shutdown_timeout=5 \
	    OCF_RESKEY_relocation_hosts="node-a=127.0.0.1:$(port_of a) node-b=127.0.0.1:$(port_of b)" \
	    OCF_RESKEY_CRM_meta_timeout=60000 "$@" "$AGENT" "$action" >"$T/ra.out" 2>&1
	local rc=$?
	sed "s/^/    [$h $action] /" "$T/ra.out"
	return $rc
}
expect_rc() {
	local want=$1 h=$2 action=$3 rc; shift 3
	ra "$h" "$action" "$@"; rc=$?
	[ "$rc" = "$want" ] || fail "$action on $h exited $rc, expected $want"
}

expect_rc 7 a monitor OCF_RESKEY_CRM_meta_interval=0     # probe: not running
expect_rc 0 a validate-all
expect_rc 6 a validate-all OCF_RESKEY_compress=gzip      # OCF_ERR_CONFIGURED
expect_rc 6 a validate-all OCF_RESKEY_name=
expect_rc 0 a start
[ "$(dom_state a ocfvm)" = running ] || fail "start did not create ocfvm"
expect_rc 0 a monitor

# migrate_to a -> b, then migrate_from on b, as Pacemaker does.
expect_rc 0 a migrate_to OCF_RESKEY_CRM_meta_migrate_target=node-b \
    OCF_RESKEY_CRM_meta_migrate_source=node-a
grep -q "migrated to node-b" "$T/ra.out" || fail "migrate_to did not log the result"
expect_rc 0 b migrate_from OCF_RESKEY_CRM_meta_migrate_target=node-b \
    OCF_RESKEY_CRM_meta_migrate_source=node-a
expect_verify_ok b ocfvm
expect_rc 7 a monitor
expect_rc 0 b monitor

# Pinned: migrate_to fails and says why; the domain stays.
xmig_on b pin ocfvm >/dev/null || fail "xmig pin"
expect_rc 1 b migrate_to OCF_RESKEY_CRM_meta_migrate_target=node-a
grep -q "ocf-exit-reason:ocfvm is pinned here by 'xmig pin'" "$T/ra.out" ||
    fail "migrate_to of a pinned domain does not name the pin"
[ "$(dom_state b ocfvm)" = running ] || fail "the pinned domain did not stay on b"
xmig_on b unpin ocfvm >/dev/null || fail "xmig unpin"

# A failed migration (no xmigd at the target's address) leaves it running.
expect_rc 1 b migrate_to OCF_RESKEY_CRM_meta_migrate_target=node-x \
    OCF_RESKEY_relocation_hosts="node-x=127.0.0.1:$(($(port_of c) + 7))"
grep -q "ocf-exit-reason:ocfvm to node-x failed, still runs here: .*refused" "$T/ra.out" ||
    fail "a failed migrate_to does not say the domain stays"
[ "$(dom_state b ocfvm)" = running ] || fail "ocfvm left b after a failed migration"

# Adopt: a domain already running is not started twice.
expect_rc 0 b start
grep -q "already runs here: adopted" "$T/ra.out" || fail "start did not adopt"
[ "$(simhv_on b list --json | jq '[.[] | select(.name == "ocfvm")] | length')" = 1 ] ||
    fail "two copies of ocfvm on b"

# xmigd down: the agent asks the sim hypervisor directly.
kill "$PID_b"; wait "$PID_b" 2>/dev/null
expect_rc 0 b monitor
# A guest that shut itself down is not running (7); stop clears it.
simhv_on b shutdown ocfvm >/dev/null || fail "simhv shutdown"
sleep 0.5
expect_rc 7 b monitor
expect_rc 0 b stop
[ -z "$(dom_state b ocfvm)" ] || fail "stop left the remains of ocfvm"

# Without a config, start can only adopt.
start_xmigd b
expect_rc 6 b start OCF_RESKEY_config=
grep -q "has no config" "$T/ra.out" || fail "start without config does not say why"
# A domain whose process died is crashed: monitor says failed (1), not
# "not running"; stop destroys the remains; then it is not running (7).
expect_rc 0 b start
pid=$(simhv_on b list --json | jq -r '.[] | select(.name == "ocfvm") | .pid')
[ -n "$pid" ] && kill -9 "$pid" || fail "no process for ocfvm"
sleep 0.5
expect_rc 1 b monitor
grep -q "ocf-exit-reason:ocfvm is crashed" "$T/ra.out" || fail "monitor does not say crashed"
expect_rc 0 b stop
expect_rc 7 b monitor
[ -z "$(dom_state b ocfvm)" ] || fail "stop left a crashed ocfvm"
trace "ok"
