#!/usr/bin/env bash
# A migration's token cannot be taken over by another allowed peer (the
# split-brain of the security review): the receiver dies right after
# recording "committed" (the sender ends "unknown outcome", exit 4, its
# copy paused); restarted, the receiver runs the domain.  Another allowed
# peer (127.0.0.7) then sends a PREPARE under the same token and asks for
# its outcome: the PREPARE is refused (the token was used), the QUERY gets
# no answer about it, the record still says committed, and the sender's
# reconcile destroys its paused copy.  One running copy, on b.
tid=token-cannot-be-taken-over
. "$(dirname "$0")/lib.sh"
write_conf a
write_conf b
start_xmigd a
export XMIG_FAULT=recv-exit-after-commit
start_xmigd b
unset XMIG_FAULT
simhv_on a create vm1 --memory 16M --fill random --dirty-rate 500 >/dev/null || fail "create"
rc=0
xmig_on a migrate -l vm1 "127.0.0.1:$(port_of b)" >"$T/out" 2>&1 || rc=$?
cat "$T/out"
[ "$rc" = 4 ] || fail "xmig exited $rc, expected 4 (outcome unknown)"
token=$(ls "$T/b/state/incoming")
[ "${#token}" = 32 ] || fail "no single incoming record on b: '$token'"
read -r outcome _ <"$T/b/state/incoming/$token"
[ "$outcome" = committed ] || fail "b's record says '$outcome', expected committed"

# b comes back and starts the committed copy.
mv "$T/b.log" "$T/b-first.log"
start_xmigd b
for _ in $(seq 50); do [ "$(dom_state b vm1)" = running ] && break; sleep 0.1; done
[ "$(dom_state b vm1)" = running ] || fail "b did not start its committed copy"

# The other peer: a PREPARE under the token, then a QUERY of it.
"$TESTPEER" -b 127.0.0.7 127.0.0.1 "$(port_of b)" hello prepare vm9 "$token" 16 \
    expect REFUSE >"$T/hostile" 2>&1 || { cat "$T/hostile"; fail "the PREPARE was not refused"; }
cat "$T/hostile"
grep -q "code 8: the migration token of this PREPARE was already used: refused" "$T/hostile" ||
    fail "the refusal does not say the token was used"
"$TESTPEER" -b 127.0.0.7 127.0.0.1 "$(port_of b)" hello query "$token" \
    expect QUERY_REPLY >"$T/hostile-query" 2>&1 || { cat "$T/hostile-query"; fail "no reply"; }
cat "$T/hostile-query"
grep -q "outcome 0 name ''" "$T/hostile-query" || fail "another peer learnt the outcome"
grep -q "query from 127.0.0.7:[0-9]* about a migration of vm1 that came from 127.0.0.1: not answered" \
    "$T/b.log" || fail "b did not log the foreign query"
read -r outcome _ <"$T/b/state/incoming/$token"
[ "$outcome" = committed ] || fail "b's record became '$outcome'"
# The sender may ask: it learns "committed" and its copy goes.
"$TESTPEER" 127.0.0.1 "$(port_of b)" hello query "$token" expect QUERY_REPLY >"$T/own" 2>&1 ||
    { cat "$T/own"; fail "no reply to the sender's address"; }
grep -q "outcome 2 name 'vm1'" "$T/own" || { cat "$T/own"; fail "the sender is not told committed"; }

stop_daemons "$PID_a"
mv "$T/a.log" "$T/a-first.log"
start_xmigd a
for _ in $(seq 100); do
	[ "$(simhv_on a list --json | jq length)" = 0 ] && break
	sleep 0.1
done
[ "$(simhv_on a list --json | jq length)" = 0 ] || { simhv_on a list; fail "a kept a copy"; }
grep -q "reconcile: vm1 runs on 127.0.0.1: destroying the copy left here" "$T/a.log" ||
    fail "a's reconcile did not act on the committed outcome"
[ "$(dom_state b vm1)" = running ] || fail "vm1 is not running on b"
expect_verify_ok b vm1
trace "ok"
