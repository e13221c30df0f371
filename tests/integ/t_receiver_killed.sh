#!/usr/bin/env bash
# kill -9 of the receiving daemon in the middle of the memory stream: the
# source resumes its domain, which verifies; the half-received copy on the
# destination is removed when its daemon starts again.
tid=receiver-killed
. "$(dirname "$0")/lib.sh"
start_xmigd a; start_xmigd b
simhv_on a create vm1 --memory 128M --fill random --dirty-rate 20000 --wws 16M >/dev/null ||
    fail "create"
# 400 Mbit/s: round 0 alone takes about 2.7 s, so the kill lands mid-stream.
xmig_on a migrate -l --json -r 400 vm1 "127.0.0.1:$(port_of b)" >"$T/out.json" 2>"$T/err" &
mig=$!
wait_bytes a 1 20000000 || fail "migration never sent 20 MB"
kill -9 "$PID_b"
wait "$mig"; rc=$?
cat "$T/err"
[ "$rc" = 1 ] || fail "exit code $rc, expected 1"
[ "$(json_get "$T/out.json" result)" = failed ] || fail "result not failed"
[ "$(dom_state a vm1)" = running ] || fail "vm1 not running at the source"
expect_verify_ok a vm1
[ -n "$(simhv_on b list --json | jq -r '.[].name' | grep incoming)" ] ||
    fail "expected the partial copy on b before its daemon restarts"
start_xmigd b
[ "$(simhv_on b list --json | jq length)" = 0 ] || fail "partial copy left on b after restart"
grep -q "reconcile: destroying vm1--incoming" "$T/b.log" || fail "no reconcile line in b's log"
