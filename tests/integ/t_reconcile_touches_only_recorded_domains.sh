#!/usr/bin/env bash
# Start-up reconcile acts only on domains a record of this host names: a
# paused domain whose name merely ends in --incoming, with no record behind
# it, is reported and left alone (it used to be destroyed); one a
# "building" record names (by uuid) is destroyed.  And a PREPARE whose
# name contains a reserved suffix is refused before anything is built.
tid=reconcile-touches-only-recorded-domains
. "$(dirname "$0")/lib.sh"
write_conf b
# Two paused domains that look alike: only the second has a record.
simhv_on b create lookalike--incoming --memory 8M >/dev/null || fail "create lookalike"
simhv_on b create vm2--incoming --memory 8M >/dev/null || fail "create vm2--incoming"
simhv_on b pause lookalike--incoming >/dev/null || fail "pause"
simhv_on b pause vm2--incoming >/dev/null || fail "pause"
uuid=$(simhv_on b info vm2--incoming --json | jq -r .uuid | tr -d -)
[ "${#uuid}" = 32 ] || fail "no uuid for vm2--incoming: '$uuid'"
mkdir -p "$T/b/state/incoming"
echo "building 0 vm2 $uuid 127.0.0.1" >"$T/b/state/incoming/$(printf '%032x' 77)"
start_xmigd b
[ "$(dom_state b lookalike--incoming)" = paused ] || fail "the look-alike was touched"
grep -q "domain lookalike--incoming (id [0-9]*) looks like a leftover incoming migration, but no record of this host names it: left alone" \
    "$T/b.log" || fail "the look-alike was not reported"
[ -z "$(dom_state b vm2--incoming)" ] || fail "the recorded half-built copy survived"
grep -q "reconcile: destroying vm2--incoming (id [0-9]*), an interrupted incoming migration" \
    "$T/b.log" || fail "the destroy was not logged"
read -r outcome _ <"$T/b/state/incoming/$(printf '%032x' 77)"
[ "$outcome" = aborted ] || fail "the record says '$outcome', expected aborted"

for name in vm3--incoming vm3--migratedaway; do
	"$TESTPEER" 127.0.0.1 "$(port_of b)" hello prepare "$name" "$(printf '%032x' 78)" 16 \
	    expect REFUSE >"$T/peer" 2>&1 || { cat "$T/peer"; fail "$name was not refused"; }
	grep -q 'code 4: domain names containing "--incoming" or "--migratedaway" are reserved' \
	    "$T/peer" || { cat "$T/peer"; fail "$name: not the reserved-name reason"; }
done
[ ! -e "$T/b/state/incoming/$(printf '%032x' 78)" ] || fail "a refused PREPARE left a record"
[ "$(simhv_on b list --json | jq length)" = 1 ] || { simhv_on b list; fail "a refused PREPARE built something"; }
trace "ok"
