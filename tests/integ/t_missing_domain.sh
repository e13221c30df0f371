#!/usr/bin/env bash
# Migrating a domain that does not exist fails at once with a clear line.
tid=missing-domain
. "$(dirname "$0")/lib.sh"
start_xmigd a; start_xmigd b
xmig_on a migrate nosuch "127.0.0.1:$(port_of b)" 2>"$T/err"; rc=$?
cat "$T/err"
[ "$rc" = 1 ] || fail "exit code $rc, expected 1"
grep -q "no domain 'nosuch'" "$T/err" || fail "message does not name the domain"
[ "$(wc -l <"$T/err")" = 1 ] || fail "expected one line"
