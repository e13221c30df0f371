#!/usr/bin/env bash
# xmig cancel stops a running live migration; the domain keeps running at
# the source and the destination keeps nothing.
tid=cancel
. "$(dirname "$0")/lib.sh"
write_conf a "migration-max-factor = 100"
start_xmigd a; start_xmigd b
simhv_on a create vm1 --memory 64M --dirty-rate 50000 --wws 32M >/dev/null || fail "create"
xmig_on a migrate -l --json --downtime 1 --max-rounds 1000 vm1 "127.0.0.1:$(port_of b)" \
    >"$T/out.json" 2>"$T/err" &
mig=$!
wait_iteration a 1 2 || fail "migration never reached round 2"
xmig_on a cancel 1 || fail "cancel failed"
wait "$mig"; rc=$?
[ "$rc" = 1 ] || fail "exit code $rc, expected 1"
[ "$(json_get "$T/out.json" result)" = cancelled ] || fail "result not cancelled"
[ "$(dom_state a vm1)" = running ] || fail "vm1 not running at the source"
expect_verify_ok a vm1
for _ in $(seq 50); do [ "$(simhv_on b list --json | jq length)" = 0 ] && break; sleep 0.1; done
[ "$(simhv_on b list --json | jq length)" = 0 ] || fail "leftover on b"
