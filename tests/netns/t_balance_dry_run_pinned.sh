#!/usr/bin/env bash
# `xmig balance --dry-run` and pins (issue 6): three hosts of 1 GiB, A's
# threshold 50 %, A holds 608 MiB of busy sim domains.  Only the 160 MiB
# domain "big" covers A's excess in one move, so the plan moves it; once it
# is pinned the plan moves others instead.  --dry-run prints the plan
# (domain, from, to, why; as a table and as JSON) and moves nothing: the
# domains on every host and the job list are unchanged.  The real run then
# gets A under 50 % without moving the pinned domain, which still runs on A.
tid=balance-dry-run-pinned
. "$(dirname "$0")/lib.sh"
netns_hosts a b c
write_conf a "sim-memory = 1G" "host-vcpus = 32" "balance-high-percent = 50" \
    "cluster-peers = $(ip_of b) $(ip_of c)"
for h in b c; do write_conf "$h" "sim-memory = 1G" "host-vcpus = 32"; done
for h in a b c; do start_xmigd "$h"; done

simhv_on a create big --memory 160M --fill random --dirty-rate 2000 --wws 4M >/dev/null ||
    fail "create big"
sizes=(64 64 64 64 64 48 48 32)
for i in "${!sizes[@]}"; do
	simhv_on a create "vm$i" --memory "${sizes[$i]}M" --fill random --dirty-rate 2000 \
	    --wws 4M >/dev/null || fail "create vm$i"
done
used_mib() { simhv_on "$1" list --json | jq '[.[].memory_bytes] | add // 0 | . / 1048576'; }
snapshot() { for h in a b c; do echo "$h: $(simhv_on "$h" list --json | jq -c '[.[].name] | sort')"; done; }

# Unpinned, "big" is the one move that covers the excess.
xmig_on a balance --dry-run --json >"$T/plan0.json" || fail "dry-run exited $?"
[ "$(jq -c '[.moves[].domain]' "$T/plan0.json")" = '["big"]' ] ||
    fail "unpinned plan: $(jq -c '[.moves[].domain]' "$T/plan0.json"), expected [\"big\"]"

xmig_on a pin big >/dev/null || fail "pin big"
snapshot >"$T/before"
xmig_on a balance --dry-run >"$T/plan.txt" || fail "dry-run exited $?"
cat "$T/plan.txt"
xmig_on a balance --dry-run --json >"$T/plan.json" || fail "dry-run --json exited $?"
snapshot >"$T/after"
diff "$T/before" "$T/after" || fail "--dry-run moved domains"
[ "$(xmig_on a jobs --json | jq length)" = 0 ] || fail "--dry-run started jobs"
n=$(jq '.moves | length' "$T/plan.json")
[ "$n" -ge 1 ] || fail "the pinned plan has no moves"
jq -e '.dry_run == true and ([.moves[] | select(.status != "planned")] | length == 0)' \
    "$T/plan.json" >/dev/null || fail "dry-run moves not all planned"
jq -e '[.moves[] | select(.domain == "big")] | length == 0' "$T/plan.json" >/dev/null ||
    fail "the plan moves the pinned domain"
grep -qE '^ +DOMAIN +MiB +FROM +TO +RUN +WHY' "$T/plan.txt" || fail "no plan table"
for d in $(jq -r '.moves[].domain' "$T/plan.json"); do
	to=$(jq -r --arg d "$d" '.moves[] | select(.domain == $d) | .to' "$T/plan.json")
	grep -qE "^ +$d +[0-9]+ +host-a +$to +here +host-a above 50%" "$T/plan.txt" ||
	    fail "the table has no line for $d -> $to"
done

xmig_on a balance >"$T/run.out" 2>"$T/run.err" || fail "balance exited $?: $(cat "$T/run.err")"
cat "$T/run.out"
[ "$(dom_state a big)" = running ] || fail "the pinned domain left A"
[ "$(used_mib a)" -le 512 ] || fail "A holds $(used_mib a) MiB, above 50 %"
for d in $(jq -r '.moves[].domain' "$T/plan.json"); do
	to=$(jq -r --arg d "$d" '.moves[] | select(.domain == $d) | .to' "$T/plan.json")
	h=$( [ "$to" = "$(ip_of b)" ] && echo b || echo c )
	[ "$(dom_state "$h" "$d")" = running ] || fail "$d is not on $h as planned"
	expect_verify_ok "$h" "$d" >/dev/null
done
expect_verify_ok a big
trace "pinned big stayed on A; moved instead: $(jq -r '[.moves[].domain] | join(" ")' "$T/plan.json")"
