#!/usr/bin/env bash
# xmig cancel stops a running live migration; the domain keeps running at
# the source and the destination keeps nothing.
tid=cancel
. "$(dirname "$0")/lib.sh"
start_xmigd a; start_xmigd b
simhv_on a create vm1 --memory 128M --fill random --dirty-rate 20000 --wws 16M >/dev/null ||
    fail "create"
xmig_on a migrate -l --json -r 400 vm1 "127.0.0.1:$(port_of b)" >"$T/out.json" 2>"$T/err" &
mig=$!
wait_bytes a 1 20000000 || fail "migration never sent 20 MB"
xmig_on a cancel 1 || fail "cancel failed"
wait "$mig"; rc=$?
[ "$rc" = 1 ] || fail "exit code $rc, expected 1"
[ "$(json_get "$T/out.json" result)" = cancelled ] || fail "result not cancelled"
[ "$(dom_state a vm1)" = running ] || fail "vm1 not running at the source"
expect_verify_ok a vm1
for _ in $(seq 50); do [ "$(simhv_on b list --json | jq length)" = 0 ] && break; sleep 0.1; done
[ "$(simhv_on b list --json | jq length)" = 0 ] || fail "leftover on b"
grep -q "sender aborted: cancelled" "$T/b.log" || fail "b did not log the sender's reason"
