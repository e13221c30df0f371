#!/usr/bin/env bash
# The receiver's incoming records (STATE_DIR/incoming/<token>) do not pile
# up: at start-up, settled ones (committed, aborted) older than 30 days are
# removed; recent ones, and "building" ones whatever their age, stay.
tid=incoming-records-pruned
. "$(dirname "$0")/lib.sh"
write_conf b
inc=$T/b/state/incoming
mkdir -p "$inc"
rec() {	# token-digit outcome age
	local f
	f=$inc/$(printf '%032d' "$1")
	echo "$2 7 vm$1" >"$f"
	touch -d "$3" "$f"
}
rec 1 committed "40 days ago"
rec 2 aborted "40 days ago"
rec 3 committed "2 days ago"
rec 4 building "40 days ago"
start_xmigd b
left=$(ls "$inc" | sed 's/^0*//' | sort | tr '\n' ' ')
trace "records left: $left"
[ "$left" = "3 4 " ] || fail "records left: '$left', expected '3 4 '"
grep -q "removed 2 incoming records older than 30 days" "$T/b.log" || fail "pruning not logged"
