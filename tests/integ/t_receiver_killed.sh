#!/usr/bin/env bash
# kill -9 of the receiving daemon in the middle of the memory stream: the
# source resumes its domain, which verifies; the half-received copy on the
# destination is removed when its daemon starts again.
tid=receiver-killed
. "$(dirname "$0")/lib.sh"
write_conf a "migration-max-factor = 100"
start_xmigd a; start_xmigd b
simhv_on a create vm1 --memory 128M --dirty-rate 50000 --wws 64M >/dev/null || fail "create"
# A downtime target of 1 ms never converges, so rounds go on until the kill.
xmig_on a migrate -l --json --downtime 1 --max-rounds 1000 vm1 "127.0.0.1:$(port_of b)" \
    >"$T/out.json" 2>"$T/err" &
mig=$!
wait_iteration a 1 2 || fail "migration never reached round 2"
kill -9 "$PID_b"
wait "$mig"; rc=$?
cat "$T/err"
[ "$rc" = 1 ] || fail "exit code $rc, expected 1"
[ "$(json_get "$T/out.json" result)" = failed ] || fail "result not failed"
[ "$(dom_state a vm1)" = running ] || fail "vm1 not running at the source"
expect_verify_ok a vm1
[ -n "$(simhv_on b list --json | jq -r '.[].name' | grep incoming)" ] ||
    trace "note: no partial copy was left on b"
start_xmigd b
[ "$(simhv_on b list --json | jq length)" = 0 ] || fail "partial copy left on b after restart"
