#!/usr/bin/env bash
# xmig history: each finished migration leaves a JSON record in the state
# dir of both hosts (success on both sides, a failure with its error on the
# sender), 'xmig history' shows them, and they survive a restart of xmigd
# while its job table starts empty.
tid=history
. "$(dirname "$0")/lib.sh"
start_xmigd a; start_xmigd b
simhv_on a create vm1 --memory 16M >/dev/null || fail "create vm1"
simhv_on a create vm2 --memory 16M >/dev/null || fail "create vm2"
xmig_on a history --json | jq -e 'length == 0' >/dev/null || fail "history not empty at start"

xmig_on a migrate vm1 "127.0.0.1:$(port_of b)" >/dev/null || fail "migrate vm1"
# nobody listens on port_of(c): a failed job, vm2 stays
xmig_on a migrate vm2 "127.0.0.1:$(port_of c)" >/dev/null 2>&1 && fail "migrate to nowhere succeeded"

xmig_on a history --json >"$T/ha.json" || fail "history on a"
jq -e 'length == 2' "$T/ha.json" >/dev/null || fail "a: want 2 records: $(cat "$T/ha.json")"
jq -e '.[0] | .domain == "vm1" and .direction == "out" and .result == "success" and
    .bytes_sent > 0' "$T/ha.json" >/dev/null || fail "a: first record wrong: $(jq -c '.[0]' "$T/ha.json")"
jq -e '.[1] | .domain == "vm2" and .result == "failed" and (.error | length > 0)' \
    "$T/ha.json" >/dev/null || fail "a: second record wrong: $(jq -c '.[1]' "$T/ha.json")"
[ "$(ls "$T/a/state/jobs/"*.json | wc -l)" = 2 ] || fail "a: want 2 files in state-dir/jobs"
xmig_on b history --json | jq -e 'length == 1 and (.[0] | .direction == "in" and
    .domain == "vm1" and .result == "success")' >/dev/null || fail "b: no incoming record"

# the table: a header and one line per record
xmig_on a history >"$T/table" || fail "history table"
head -1 "$T/table" | grep -q '^STARTED ' || fail "table header: $(head -1 "$T/table")"
[ "$(grep -c ' vm[12] ' "$T/table")" = 2 ] || fail "table rows: $(cat "$T/table")"
grep ' vm1 ' "$T/table" | grep -q success || fail "vm1 row without success"

# restart a: the records stay, the job table is new
kill "$PID_a"
for _ in $(seq 100); do kill -0 "$PID_a" 2>/dev/null || break; sleep 0.1; done
start_xmigd a
xmig_on a jobs --json | jq -e 'length == 0' >/dev/null || fail "jobs survived a restart"
xmig_on a history --json | jq -e 'length == 2' >/dev/null || fail "history lost in a restart"
xmig_on a history extra >/dev/null 2>&1
[ $? = 2 ] || fail "'xmig history extra' is not a usage error"

# 50 older records of 500 rounds each (~40 KB apiece: 2 MB together, twice
# a control reply's 1 MiB): the oldest are left out and said so on stderr,
# the newest (the two above) are there, and --json still parses.
kill "$PID_a"
for _ in $(seq 100); do kill -0 "$PID_a" 2>/dev/null || break; sleep 0.1; done
first=$(ls "$T/a/state/jobs/"*.json | head -1)
jq -c '.rounds = [range(500) | {round: ., pages: 4096, bytes: 16777216, dirty: 4000,
    ms: 100}]' "$first" >"$T/big.json" || fail "cannot make a big record"
[ "$(wc -c <"$T/big.json")" -gt 30000 ] || fail "the big record is small: $(wc -c <"$T/big.json")"
for i in $(seq 10 59); do
	jq -c --argjson id "$i" '.id = $id' "$T/big.json" >"$T/a/state/jobs/10000000000$i-$i.json"
done
start_xmigd a
xmig_on a history --json >"$T/hbig.json" 2>"$T/hbig.err" || fail "history with big records: $(cat "$T/hbig.err")"
grep -q 'oldest records left out' "$T/hbig.err" || fail "no word of the records left out: $(cat "$T/hbig.err")"
n=$(jq length "$T/hbig.json")
[ "$n" -gt 2 ] && [ "$n" -lt 52 ] || fail "want some but not all of 52 records, got $n"
jq -e '.[-2].domain == "vm1" and .[-1].domain == "vm2"' "$T/hbig.json" >/dev/null ||
    fail "the newest records are not last: $(jq -c '[.[] | .domain]' "$T/hbig.json")"
trace "history: records on both hosts, failure with error, survives restart, too many for one reply"
