#!/usr/bin/env bash
# cluster-incoming-per-peer bounds the migrations an evacuation sends to one
# peer at once: with the default (1) the second domain is dispatched only
# after the first has landed; with 2 both go in the same dispatch round.
# (Read from the source's log order, which the mover writes in sequence:
# no timing involved.)
tid=cluster-incoming-per-peer
. "$(dirname "$0")/lib.sh"
write_conf a "cluster-peers = 127.0.0.1:$(port_of b)"
write_conf c "cluster-peers = 127.0.0.1:$(port_of b)" "cluster-incoming-per-peer = 2"
start_xmigd a; start_xmigd b; start_xmigd c
for h in a c; do
	for i in 1 2; do
		simhv_on "$h" create "$h-vm$i" --memory 16M --fill random --dirty-rate 500 \
		    >/dev/null || fail "create $h-vm$i"
	done
	xmig_on "$h" maintenance enter >"$T/out" 2>&1 || { cat "$T/out"; fail "$h: enter"; }
	# The line number of the second dispatch and of the first landing.
	second=$(grep -n "maintenance: $h-vm[12] (16 MiB) -> " "$T/$h.log" | sed -n 2p | cut -d: -f1)
	landed=$(grep -n "maintenance: $h-vm[12] now runs on" "$T/$h.log" | head -1 | cut -d: -f1)
	[ -n "$second" ] && [ -n "$landed" ] || fail "$h: dispatch lines missing"
	trace "$h: second dispatch on line $second, first landing on line $landed"
	if [ "$h" = a ]; then
		[ "$second" -gt "$landed" ] || fail "a (1 per peer) sent two to b at once"
	else
		[ "$second" -lt "$landed" ] || fail "c (2 per peer) did not send two to b at once"
	fi
	for i in 1 2; do expect_verify_ok b "$h-vm$i"; done
done
