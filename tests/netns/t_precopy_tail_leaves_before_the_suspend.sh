#!/usr/bin/env bash
# On a link slower than the sender (A's eth0 shaped to 200 Mbit/s), the
# socket queue fills with pre-copy bytes, and whatever of it is left when
# the guest stops crosses during the downtime (measured before the drain:
# ~1.1 MB, 45 ms of a 48 ms downtime).  The sender waits, guest running,
# until at most 64 KiB are queued: each live job says how much was when
# the suspension was asked for (queued_at_suspend_bytes), and the guest
# arrives whole.
tid=precopy-tail
. "$(dirname "$0")/lib.sh"
netns_hosts a b
write_conf a "relocation-hosts-allow = $(ip_of b)"
write_conf b "relocation-hosts-allow = $(ip_of a)"
in_ns a tc qdisc add dev eth0 root tbf rate 200mbit burst 64kb latency 100ms ||
    fail "cannot shape A's link (tc tbf)"
start_xmigd a; start_xmigd b

for i in 1 2; do
	simhv_on a create "vm$i" --memory 128M --fill random --vcpus 1 --dirty-rate 200 \
	    --wws 4M >/dev/null || fail "create vm$i"
	xmig_on a migrate -l --json "vm$i" "$(ip_of b)" >"$T/ab$i.json" ||
	    fail "vm$i A->B exited $?"
	jq -c '{result,downtime_ms,queued_at_suspend_bytes,final_bytes}' "$T/ab$i.json"
	[ "$(json_get "$T/ab$i.json" result)" = success ] || fail "vm$i A->B not a success"
	q=$(json_get "$T/ab$i.json" queued_at_suspend_bytes)
	[ -n "$q" ] && [ "$q" != null ] || fail "vm$i: no queued_at_suspend_bytes in the job"
	[ "$q" -le 65536 ] ||
	    fail "vm$i: $q bytes of pre-copy still queued when the guest was suspended"
	[ "$(dom_state b "vm$i")" = running ] || fail "vm$i not running on B"
	expect_verify_ok b "vm$i"
done
