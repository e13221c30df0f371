#!/usr/bin/env bash
# A PREPARE sizes what the receiver would allocate (the dirty bitmap: one
# bit per page).  The capacity checks come first: a peer announcing 2^40
# pages (4 PiB) is refused for memory at once, and xmigd's resident memory
# does not grow by the 128 GiB bitmap such a guest would need, nor by
# anything else sized by the peer.
tid=prepare-refuses-before-allocating
. "$(dirname "$0")/lib.sh"
write_conf b "sim-memory = 1G"
start_xmigd b
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$PID_b/status"; }
before=$(rss)
for i in 1 2 3; do
	"$TESTPEER" 127.0.0.1 "$(port_of b)" hello prepare "huge$i" "$(printf '%032x' $((900 + i)))" \
	    $((1 << 40)) expect REFUSE >"$T/peer" 2>&1 || { cat "$T/peer"; fail "not refused"; }
done
cat "$T/peer"
grep -q "code 3: not enough free memory" "$T/peer" || fail "not refused for memory"
after=$(rss)
trace "xmigd RSS ${before} -> ${after} KiB"
[ $((after - before)) -lt 65536 ] || fail "xmigd grew by $((after - before)) KiB"
[ -z "$(ls "$T/b/state/incoming" 2>/dev/null)" ] || fail "a refused PREPARE left a record"
trace "ok"
