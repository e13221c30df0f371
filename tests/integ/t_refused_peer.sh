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
# The reason, as the sender's engine words it (engine/hello.c: the
# destination closed without a hello) and as the destination logs it
# (main.c: the allow-list check).
grep -qF "migration of vm1 to 127.0.0.1:$(port_of b) failed: no hello from 127.0.0.1:$(port_of b): connection closed by peer; vm1 is still running on this host" "$T/err" ||
    fail "xmig does not give the reason (no hello, connection closed by peer)"
grep -qE "refused relocation connection from 127\.0\.0\.1:[0-9]+( \([^)]*\))?: not in relocation-hosts-allow" "$T/b.log" ||
    fail "no allow-list refusal in b's log"
[ "$(dom_state a vm1)" = running ] || fail "vm1 not running at the source"
expect_verify_ok a vm1
