#!/usr/bin/env bash
# The receiver dies on GO and does not come back: the sender cannot learn
# the outcome, so it leaves its copy paused as NAME--migratedaway, says so,
# and exits 4.  Nothing runs twice; the operator decides.
tid=ambiguous
. "$(dirname "$0")/lib.sh"
start_xmigd a
XMIG_FAULT=recv-exit-on-go start_xmigd b
simhv_on a create vm1 --memory 32M --dirty-rate 2000 --wws 4M >/dev/null || fail "create"
xmig_on a migrate -l vm1 "127.0.0.1:$(port_of b)" 2>"$T/err"; rc=$?
cat "$T/err"
[ "$rc" = 4 ] || fail "exit code $rc, expected 4"
grep -q "vm1--migratedaway" "$T/err" || fail "message does not name the paused copy"
case "$(dom_state a vm1--migratedaway)" in paused|suspended) true ;; *) false ;; esac || fail "source copy not paused"
[ "$(dom_state b vm1--incoming)" = paused ] || fail "destination copy not paused"
