#!/usr/bin/env bash
# A destination that answers with bytes that are not UTF-8 text (its host
# name in HELLO, its REFUSE reason) cannot hide the job: 'xmig migrate'
# reports the refusal (with '?' for those bytes) instead of "xmigd
# stopped", the job stays in 'xmig jobs', 'xmig job' and 'xmig history',
# and the log carries no raw byte >= 0x80.  The destination is the
# scripted test peer (tests/peer/testpeer.c) as a fake receiver.
tid=hostile-peer-text
. "$(dirname "$0")/lib.sh"
start_xmigd a
simhv_on a create vm1 --memory 4M >/dev/null || fail "create"
FAKE_PORT=$(port_of b)	# no xmigd b here: the fake has its port
# HELLO under the host name "evil\xff\xfe-host\e]0;x\a", then REFUSE(3)
# with "no \xff\xfe room \xc3\xa9 \xed\xa0\x80\e[2J".
"$TESTPEER" -l 127.0.0.1 "$FAKE_PORT" expect HELLO \
    sendhello host=6576696cfffe2d686f73741b5d303b7807 expect PREPARE \
    refuse 3 6e6f20fffe20726f6f6d20c3a920eda0801b5b324a >"$T/fake.log" 2>&1 &
fake=$!
for _ in $(seq 100); do grep -q listening "$T/fake.log" && break; sleep 0.05; done
xmig_on a migrate vm1 "127.0.0.1:$FAKE_PORT" >"$T/out" 2>"$T/err"; rc=$?
wait "$fake" || fail "the fake destination failed: $(cat "$T/fake.log")"
cat "$T/err"
[ "$rc" = 1 ] || fail "migrate: exit code $rc, expected 1"
[ "$(wc -l <"$T/err")" = 1 ] || fail "migrate: not one line on stderr"
grep -q "stopped" "$T/err" && fail "migrate claims xmigd stopped"
grep -qF 'no ?? room é ????[2J' "$T/err" || fail "migrate does not show the reason"
[ "$(dom_state a vm1)" = running ] || fail "vm1 not running at the source"

xmig_on a jobs --json >"$T/jobs.json" || fail "xmig jobs failed"
[ "$(jq 'map(select(.id == 1)) | length' "$T/jobs.json")" = 1 ] || fail "job 1 not in xmig jobs"
xmig_on a job 1 --json >"$T/job.json" 2>"$T/job.err" || fail "xmig job 1: $(cat "$T/job.err")"
[ "$(jq -r .result "$T/job.json")" = failed ] || fail "job 1 did not fail"
jq -r .error "$T/job.json" | grep -qF 'no ?? room é' || fail "job 1 error: $(jq .error "$T/job.json")"
xmig_on a history --json >"$T/hist.json" || fail "xmig history failed"
[ "$(jq 'map(select(.id == 1)) | length' "$T/hist.json")" = 1 ] || fail "job 1 not in history"
xmig_on a job 1 >/dev/null || fail "xmig job 1 (table) failed"

# The log: the reason as decoded, no raw byte of it.
LC_ALL=C grep -q $'\xff\|\xfe\|\x1b\|\xed' "$T/a.log" && fail "raw 0xff, 0xfe, 0xed or ESC in the log"
grep -qF 'refused: no ?? room é ????[2J' "$T/a.log" || fail "the reason is not in the log"
kill -0 "$PID_a" 2>/dev/null || fail "xmigd on a died"
