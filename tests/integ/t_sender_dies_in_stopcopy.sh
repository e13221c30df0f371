#!/usr/bin/env bash
# The sending daemon dies right after it suspended the domain (stop-and-copy,
# before GO): no copy runs anywhere for a moment.  The receiver destroys its
# partial copy when the stream breaks; the restarted sender finds its record
# ("streaming": GO was never sent, so the receiver cannot have run it) and
# resumes the domain, which verifies.
tid=sender-dies-in-stopcopy
. "$(dirname "$0")/lib.sh"
XMIG_FAULT=send-exit-after-suspend start_xmigd a
start_xmigd b
simhv_on a create vm1 --memory 32M --fill random --dirty-rate 2000 --wws 4M >/dev/null ||
    fail "create"
xmig_on a migrate -l vm1 "127.0.0.1:$(port_of b)" 2>"$T/err"; rc=$?
cat "$T/err"
[ "$rc" = 3 ] || fail "exit code $rc, expected 3 (lost xmigd)"
case "$(dom_state a vm1)" in paused|suspended) ;; *) fail "vm1 not left suspended" ;; esac
for _ in $(seq 50); do [ "$(simhv_on b list --json | jq length)" = 0 ] && break; sleep 0.1; done
[ "$(simhv_on b list --json | jq length)" = 0 ] || fail "partial copy left on b"
mv "$T/a.log" "$T/a-first.log"
start_xmigd a
for _ in $(seq 50); do [ "$(dom_state a vm1)" = running ] && break; sleep 0.1; done
[ "$(dom_state a vm1)" = running ] || fail "vm1 not resumed after the restart"
grep -q "reconcile: vm1 resumed" "$T/a.log" || fail "no reconcile line"
expect_verify_ok a vm1
