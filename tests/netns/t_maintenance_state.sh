#!/usr/bin/env bash
# Host state and pins (issue 6), two hosts: a host in maintenance (state
# file written before start: it survives restarts) refuses an incoming
# migration with REASON_MAINTENANCE and says why; `maintenance exit` makes
# it active again.  `xmig pin --manual-too` refuses `xmig migrate` unless
# --force; pins survive a restart and show in `xmig list` (PINNED, "pinned").
tid=maintenance-state
. "$(dirname "$0")/lib.sh"
netns_hosts a b
write_conf a; write_conf b
echo "maintenance disk swap" >"$T/b/state/host-state"
start_xmigd a; start_xmigd b

xmig_on b status | grep -q "host state: *maintenance (disk swap)" ||
    fail "b's status does not show maintenance: $(xmig_on b status)"
[ "$(xmig_on b status --json | jq -r .host_state)" = maintenance ] || fail "status --json"
simhv_on a create vm1 --memory 32M --fill random --dirty-rate 2000 --wws 4M >/dev/null ||
    fail "create"
xmig_on a migrate -l vm1 "$(ip_of b)" 2>"$T/err"; rc=$?
cat "$T/err"
[ "$rc" = 1 ] || fail "migration to a host in maintenance exited $rc, expected 1"
grep -q "host-b is maintenance and takes no incoming migrations" "$T/err" ||
    fail "the refusal does not say why"
[ "$(dom_state a vm1)" = running ] || fail "vm1 not running on a after the refusal"

xmig_on b maintenance exit >/dev/null || fail "maintenance exit"
[ "$(xmig_on b maintenance status --json | jq -r .state)" = active ] || fail "not active"
grep -qx active "$T/b/state/host-state" || fail "host-state file not rewritten"

# Pins.
xmig_on a pin --manual-too vm1 | grep -q "vm1 pinned" || fail "pin"
[ "$(xmig_on a list --json | jq -r '.[] | select(.name=="vm1") | .pinned')" = all ] ||
    fail "list --json pinned is not all"
xmig_on a list | grep -E "vm1 .* all$" >/dev/null || fail "list shows no PINNED all"
stop_xmigd a; start_xmigd a
xmig_on a migrate -l vm1 "$(ip_of b)" 2>"$T/err"; rc=$?
cat "$T/err"
[ "$rc" = 1 ] || fail "migrate of a pinned domain exited $rc, expected 1"
grep -q "pinned.*--force" "$T/err" || fail "the refusal does not mention --force"
xmig_on a unpin vm1 >/dev/null || fail "unpin"
xmig_on a pin vm1 >/dev/null || fail "pin (auto)"
[ "$(xmig_on a list --json | jq -r '.[] | select(.name=="vm1") | .pinned')" = auto ] ||
    fail "list --json pinned is not auto"
xmig_on a pin --manual-too vm1 >/dev/null || fail "pin --manual-too again"
xmig_on a migrate -l --force vm1 "$(ip_of b)" >/dev/null || fail "migrate --force exited $?"
[ "$(dom_state b vm1)" = running ] || fail "vm1 not running on b"
expect_verify_ok b vm1
xmig_on a unpin vm1 >/dev/null || fail "unpin of a domain that left"
xmig_on a unpin vm1 2>/dev/null && fail "unpin of an unpinned domain succeeded"
trace "state and pins ok"
