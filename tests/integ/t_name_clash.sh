#!/usr/bin/env bash
# The destination refuses a domain whose name it already has, the reason
# reaches the operator, and both domains are untouched.
tid=name-clash
. "$(dirname "$0")/lib.sh"
start_xmigd a; start_xmigd b
simhv_on a create vm1 --memory 16M --dirty-rate 500 >/dev/null || fail "create a"
simhv_on b create vm1 --memory 8M --dirty-rate 100 >/dev/null || fail "create b"
xmig_on a migrate -l vm1 "127.0.0.1:$(port_of b)" 2>"$T/err"; rc=$?
cat "$T/err"
[ "$rc" = 1 ] || fail "exit code $rc, expected 1"
grep -q "already exists" "$T/err" || fail "reason not shown"
[ "$(dom_state a vm1)" = running ] || fail "source copy not running"
expect_verify_ok a vm1
expect_verify_ok b vm1
[ "$(simhv_on b list --json | jq length)" = 1 ] || fail "leftover domain on b"
