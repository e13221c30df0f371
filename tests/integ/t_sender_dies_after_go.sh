#!/usr/bin/env bash
# The sending daemon dies right after sending GO: the receiver commits and
# runs the domain; the source copy stays paused as vm1--migratedaway.  The
# restarted sender finds its record ("go"), asks the receiver, learns
# "committed" and destroys its copy: one running copy, on the destination.
tid=sender-dies-after-go
. "$(dirname "$0")/lib.sh"
XMIG_FAULT=send-exit-after-go start_xmigd a
start_xmigd b
simhv_on a create vm1 --memory 32M --fill random --dirty-rate 2000 --wws 4M >/dev/null ||
    fail "create"
xmig_on a migrate -l vm1 "127.0.0.1:$(port_of b)" 2>"$T/err"; rc=$?
cat "$T/err"
[ "$rc" = 3 ] || fail "exit code $rc, expected 3 (lost xmigd)"
for _ in $(seq 50); do [ "$(dom_state b vm1)" = running ] && break; sleep 0.1; done
[ "$(dom_state b vm1)" = running ] || fail "vm1 not running on b"
case "$(dom_state a vm1--migratedaway)" in paused|suspended) ;; *) fail "source copy not paused" ;; esac
mv "$T/a.log" "$T/a-first.log"
start_xmigd a
for _ in $(seq 50); do [ "$(simhv_on a list --json | jq length)" = 0 ] && break; sleep 0.1; done
[ "$(simhv_on a list --json | jq length)" = 0 ] || fail "source copy not destroyed"
grep -q "reconcile: vm1 runs on" "$T/a.log" || fail "no reconcile line"
expect_verify_ok b vm1
