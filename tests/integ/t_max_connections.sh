#!/usr/bin/env bash
# max-connections bounds the relocation connections open at once: with the
# slots held by allowed peers that send nothing, one more is closed at
# accept with a log line; once the handshake deadline drops the idle ones,
# a migration gets through again.
tid=max-connections
. "$(dirname "$0")/lib.sh"
write_conf b 'max-connections = 2'
start_xmigd a; start_xmigd b
pb=$(port_of b)
simhv_on a create vm1 --memory 16M --dirty-rate 500 >/dev/null || fail "create"

# Two idle connections take both slots (allowed: 127.0.0.1 is open here).
exec 7<>"/dev/tcp/127.0.0.1/$pb" 8<>"/dev/tcp/127.0.0.1/$pb"
for _ in $(seq 100); do
	[ "$(grep -c 'relocation connection from 127.0.0.1' "$T/b.log")" -ge 2 ] && break
	sleep 0.05
done
xmig_on a migrate -l vm1 "127.0.0.1:$pb" 2>"$T/err"; rc=$?
cat "$T/err"
[ "$rc" = 1 ] || fail "migration while the slots are full: exit $rc, expected 1"
grep -q "refused relocation connection from 127.0.0.1.*2 connections already open (max-connections)" \
    "$T/b.log" || fail "no max-connections refusal in b's log"
[ "$(dom_state a vm1)" = running ] || fail "vm1 not running at the source"

# The handshake deadline (10 s) closes the idle ones and frees the slots.
for _ in $(seq 300); do
	[ "$(grep -c 'dropped: no hello' "$T/b.log")" -ge 2 ] && break
	sleep 0.1
done
[ "$(grep -c 'dropped: no hello' "$T/b.log")" -ge 2 ] || fail "idle connections not dropped"
exec 7>&- 8>&-
xmig_on a migrate -l vm1 "127.0.0.1:$pb" || fail "migration after the slots were freed"
[ "$(dom_state b vm1)" = running ] || fail "vm1 not running at the destination"
expect_verify_ok b vm1
