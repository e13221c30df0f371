#!/usr/bin/env bash
# Three hosts, each its own network namespace with its own xmigd: a busy
# domain goes live A -> B -> C over the bridge, loses no update (it verifies
# on C) and leaves no copy behind.  B accepts only A and C accepts only B,
# so C, which is not on B's allow-list, is refused by B at accept time
# (B's log names C's address), and the domain keeps running on C.
tid=netns-migrate
. "$(dirname "$0")/lib.sh"
netns_hosts a b c
write_conf a "relocation-hosts-allow = $(ip_of c)"
write_conf b "relocation-hosts-allow = $(ip_of a)"
write_conf c "relocation-hosts-allow = $(ip_of b)"
start_xmigd a; start_xmigd b; start_xmigd c

simhv_on a create vm1 --memory 128M --fill random --vcpus 2 --dirty-rate 5000 --wws 16M \
    >/dev/null || fail "create"
xmig_on a migrate -l --json vm1 "$(ip_of b)" >"$T/ab.json" || fail "A->B exited $?"
jq -c '{result,mode,iterations,downtime_ms,bytes_sent}' "$T/ab.json"
[ "$(json_get "$T/ab.json" result)" = success ] || fail "A->B not a success"
[ "$(json_get "$T/ab.json" mode)" = live ] || fail "A->B not live"
[ "$(dom_state a vm1)" = "" ] || fail "vm1 still on A"
[ "$(dom_state b vm1)" = running ] || fail "vm1 not running on B"
grep -q "relocation connection from $(ip_of a)" "$T/b.log" ||
    fail "B's log has no connection from A's address"

xmig_on b migrate -l --json vm1 "$(ip_of c):$NETNS_PORT" >"$T/bc.json" || fail "B->C exited $?"
jq -c '{result,mode,iterations,downtime_ms,bytes_sent}' "$T/bc.json"
[ "$(json_get "$T/bc.json" result)" = success ] || fail "B->C not a success"
[ "$(dom_state b vm1)" = "" ] || fail "vm1 still on B"
[ "$(dom_state c vm1)" = running ] || fail "vm1 not running on C"
grep -q "relocation connection from $(ip_of b)" "$T/c.log" ||
    fail "C's log has no connection from B's address"
expect_verify_ok c vm1

# C is not on B's list: refused before a byte is read, vm1 stays on C.
xmig_on c migrate -l vm1 "$(ip_of b)" 2>"$T/err"; rc=$?
[ "$rc" = 1 ] || fail "C->B exited $rc, expected 1"
cat "$T/err"
grep -q "refused relocation connection from $(ip_of c)" "$T/b.log" ||
    fail "no refusal of C's address in B's log"
[ "$(dom_state c vm1)" = running ] || fail "vm1 not running on C after the refusal"
[ "$(dom_state b vm1)" = "" ] || fail "a copy of vm1 on B after the refusal"
expect_verify_ok c vm1
