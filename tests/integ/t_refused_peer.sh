#!/usr/bin/env bash
# A destination whose allow-list does not name us refuses before reading a
# byte, logs the refused address, and the domain keeps running at the source.
tid=refused-peer
. "$(dirname "$0")/lib.sh"
write_conf b 'relocation-hosts-allow = 10.9.9.9 ^never\.example$'
start_xmigd a; start_xmigd b
simhv_on a create vm1 --memory 16M --dirty-rate 500 >/dev/null || fail "create"
xmig_on a migrate -l vm1 "127.0.0.1:$(port_of b)" 2>"$T/err"; rc=$?
[ "$rc" = 1 ] || fail "exit code $rc, expected 1"
cat "$T/err"
grep -q "vm1" "$T/err" || fail "error does not name the domain"
grep -q "refused relocation connection from 127.0.0.1" "$T/b.log" || fail "no refusal in b's log"
[ "$(dom_state a vm1)" = running ] || fail "vm1 not running at the source"
expect_verify_ok a vm1
