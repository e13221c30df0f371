#!/usr/bin/env bash
# The receiver stores page data through the sim's memory file; when that
# fails mid-stream (here: out of memory, by fault injection, at the first
# pages) the migration is aborted cleanly: the sender's job fails with the
# receiver's reason, the domain keeps running at the source and verifies,
# and the destination keeps nothing of it.
tid=receiver-write-fails
. "$(dirname "$0")/lib.sh"
start_xmigd a
XMIG_FAULT=sim-write-nomem start_xmigd b
simhv_on a create vm1 --memory 128M --fill random --dirty-rate 5000 --wws 16M >/dev/null ||
    fail "create"
xmig_on a migrate -l --json vm1 "127.0.0.1:$(port_of b)" >"$T/out.json" 2>"$T/err"
rc=$?
cat "$T/err"
[ "$rc" = 1 ] || fail "exit code $rc, expected 1"
[ "$(json_get "$T/out.json" result)" = failed ] || fail "result not failed"
err=$(json_get "$T/out.json" error)
trace "error: $err"
grep -q "out of memory" <<<"$err" || fail "the error does not say why: $err"
[ "$(json_get "$T/out.json" pages_sent)" -gt 0 ] || fail "failed before the stream began"
grep -q "cannot write the memory of vm1--incoming: out of memory" "$T/b.log" ||
    fail "no reason in the receiver's log"
[ "$(dom_state a vm1)" = running ] || fail "vm1 not running at the source"
expect_verify_ok a vm1
[ "$(simhv_on b list --json | jq length)" = 0 ] || fail "the destination kept a copy"
[ "$(xmig_on b jobs --json | jq -r '.[0].result')" = failed ] ||
    fail "the incoming job did not fail"
