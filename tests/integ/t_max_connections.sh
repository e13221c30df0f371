#!/usr/bin/env bash
# max-connections bounds the relocation connections open at once: with the
# slots held by allowed peers that send nothing, a migration is refused as
# busy, naming max-connections, but an outcome QUERY (what a sender that
# lost its connection after GO asks) and a HOST_INFO are still answered, on
# one of the few connections kept for them; once those are taken too, one
# more is closed at accept with a log line.  When the handshake deadline
# drops the idle ones, a migration gets through again.
tid=max-connections
. "$(dirname "$0")/lib.sh"
RESERVE=4	# QUERY_RESERVE in xmigd/main.c
write_conf b 'max-connections = 2'
start_xmigd a; start_xmigd b
pb=$(port_of b)
simhv_on a create vm1 --memory 16M --dirty-rate 500 >/dev/null || fail "create"
simhv_on a create vm2 --memory 16M --dirty-rate 500 >/dev/null || fail "create vm2"

# A finished migration whose outcome a sender could ask for later.
xmig_on a migrate -l vm2 "127.0.0.1:$pb" >/dev/null || fail "first migration"
token=$(ls "$T/b/state/incoming")
[ "${#token}" = 32 ] || fail "no incoming record on b: '$token'"

# Two idle connections take both slots (allowed: 127.0.0.1 is open here).
exec 7<>"/dev/tcp/127.0.0.1/$pb" 8<>"/dev/tcp/127.0.0.1/$pb"
for _ in $(seq 100); do
	[ "$(grep -c 'relocation connection from 127.0.0.1:[0-9]*$' "$T/b.log")" -ge 3 ] && break
	sleep 0.05
done
xmig_on a migrate -l vm1 "127.0.0.1:$pb" 2>"$T/err"; rc=$?
cat "$T/err"
[ "$rc" = 1 ] || fail "migration while the slots are full: exit $rc, expected 1"
grep -q "refused: host-b has 2 relocation connections open (max-connections): only queries are served now" \
    "$T/err" || fail "the sender is not told that max-connections is reached"
[ "$(dom_state a vm1)" = running ] || fail "vm1 not running at the source"

# The outcome of the earlier migration and the host's facts are still told
# (the sender's QUERY, as after a lost DONE; HOST_INFO as xmig maintenance).
"$TESTPEER" 127.0.0.1 "$pb" hello query "$token" expect QUERY_REPLY >"$T/q" 2>&1 ||
    { cat "$T/q"; fail "QUERY not served while the slots are full"; }
grep -q "outcome 2 name 'vm2'" "$T/q" || { cat "$T/q"; fail "QUERY while the slots are full: not told committed"; }
"$TESTPEER" 127.0.0.1 "$pb" hello send HOST_INFO expect HOST_INFO_REPLY >"$T/hi" 2>&1 ||
    { cat "$T/hi"; fail "HOST_INFO not served while the slots are full"; }

# The reserve is bounded too: with it taken, one more is closed at accept.
for fd in 3 4 5 6; do eval "exec 1$fd<>/dev/tcp/127.0.0.1/$pb"; done
for _ in $(seq 100); do
	[ "$(grep -c 'over max-connections: queries only' "$T/b.log")" -ge $((RESERVE + 3)) ] && break
	sleep 0.05
done
"$TESTPEER" 127.0.0.1 "$pb" hello query "$token" expect QUERY_REPLY >"$T/q" 2>&1 &&
    fail "QUERY served beyond the reserve"
grep -q "refused relocation connection from 127.0.0.1.*6 connections already open (max-connections 2, and $RESERVE more for queries)" \
    "$T/b.log" || fail "no max-connections refusal in b's log"

# The handshake deadline (10 s) closes the idle ones and frees the slots.
for _ in $(seq 300); do
	[ "$(grep -c 'dropped: no hello' "$T/b.log")" -ge 6 ] && break
	sleep 0.1
done
[ "$(grep -c 'dropped: no hello' "$T/b.log")" -ge 6 ] || fail "idle connections not dropped"
exec 7>&- 8>&- 13>&- 14>&- 15>&- 16>&-
xmig_on a migrate -l vm1 "127.0.0.1:$pb" || fail "migration after the slots were freed"
[ "$(dom_state b vm1)" = running ] || fail "vm1 not running at the destination"
expect_verify_ok b vm1
