#!/usr/bin/env bash
# A guest that dirties its working set faster than the (capped) link can
# send it: with --auto-converge the policy throttles it and the migration
# converges at the configured target; without, the target is raised on a
# schedule instead and the guest is never throttled.  Both verify.
tid=auto-converge
. "$(dirname "$0")/lib.sh"
start_xmigd a; start_xmigd b
simhv_on a create vm1 --memory 64M --vcpus 2 --dirty-rate 30000 --wws 24M >/dev/null ||
    fail "create"
sleep 0.5
xmig_on a migrate -l --json -r 400 --auto-converge vm1 "127.0.0.1:$(port_of b)" \
    >"$T/ac.json" || fail "auto-converge migrate exited $?"
jq -c '{result,iterations,downtime_ms,throttle_pct,downtime_target_ms,stop_reason}' "$T/ac.json"
[ "$(json_get "$T/ac.json" throttle_pct)" -ge 20 ] || fail "guest was not throttled"
[ "$(json_get "$T/ac.json" downtime_target_ms)" = 300 ] || fail "target changed under auto-converge"
expect_verify_ok b vm1
xmig_on b migrate -l --json -r 400 vm1 "127.0.0.1:$(port_of a)" >"$T/raise.json" ||
    fail "migrate back exited $?"
jq -c '{result,iterations,downtime_ms,throttle_pct,downtime_target_ms,stop_reason}' "$T/raise.json"
[ "$(json_get "$T/raise.json" throttle_pct)" = 0 ] || fail "throttled without auto-converge"
[ "$(json_get "$T/raise.json" downtime_target_ms)" -gt 300 ] || fail "target was not raised"
expect_verify_ok a vm1
