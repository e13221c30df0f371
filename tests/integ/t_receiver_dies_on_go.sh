#!/usr/bin/env bash
# The receiving daemon dies the moment it reads GO, before it records the
# commit: its copy never ran.  The sender keeps its copy paused and renamed
# while it cannot learn the outcome; when the receiver comes back, it
# destroys the half-built copy, answers "aborted", and the sender resumes
# its domain under its own name.  One running copy at every moment.
tid=receiver-dies-on-go
. "$(dirname "$0")/lib.sh"
start_xmigd a
XMIG_FAULT=recv-exit-on-go start_xmigd b
simhv_on a create vm1 --memory 32M --fill random --dirty-rate 2000 --wws 4M >/dev/null ||
    fail "create"
xmig_on a migrate -l --json vm1 "127.0.0.1:$(port_of b)" >"$T/out.json" 2>"$T/err" &
mig=$!
for _ in $(seq 100); do kill -0 "$PID_b" 2>/dev/null || break; sleep 0.1; done
kill -0 "$PID_b" 2>/dev/null && fail "receiver did not die on GO"
# While the outcome is unknown: paused and renamed at the source, not running anywhere.
case "$(dom_state a vm1--migratedaway)" in paused|suspended) true ;; *) false ;; esac || fail "source copy not paused and renamed"
[ "$(dom_state b vm1--incoming)" = paused ] || fail "destination copy not paused"
start_xmigd b
wait "$mig"; rc=$?
cat "$T/err"
[ "$rc" = 1 ] || fail "exit code $rc, expected 1"
grep -q "reconcile: destroying vm1--incoming" "$T/b.log" || fail "b did not reconcile"
[ "$(dom_state a vm1)" = running ] || fail "vm1 not resumed at the source"
[ "$(simhv_on b list --json | jq length)" = 0 ] || fail "copy left on b"
expect_verify_ok a vm1
