#!/usr/bin/env bash
# A job followed with 'xmig watch' may end and be trimmed from the job
# table (more than 64 finished jobs) while its watchers still hold it: they
# get its "done" event and xmigd lives on.  Before jobs were
# reference-counted the trim freed the job under the watcher (heap
# use-after-free, caught under SAN=1, or a crash).
tid=job-watch-survives-trim
. "$(dirname "$0")/lib.sh"
CLASHES=70	# > 64, the finished jobs xmigd's main loop keeps (jobs_trim)
start_xmigd a; start_xmigd b
B="127.0.0.1:$(port_of b)"
simhv_on a create big --memory 64M --fill random --dirty-rate 20000 --wws 16M >/dev/null ||
    fail "create big"
simhv_on a create vm1 --memory 4M >/dev/null || fail "create vm1 on a"
simhv_on b create vm1 --memory 4M >/dev/null || fail "create vm1 on b"

# Job 1 on both hosts: a live migration slow enough to outlast the clashes.
xmig_on a migrate -l --json -r 40 --max-rounds 100000 --max-factor 100 big "$B" \
    >"$T/mig.json" 2>"$T/mig.err" &
mig=$!
for _ in $(seq 200); do
	[ "$(xmig_on b job 1 --json 2>/dev/null | jq -r .state)" = precopy ] && break
	sleep 0.05
done
[ "$(xmig_on b job 1 --json 2>/dev/null | jq -r .state)" = precopy ] ||
    fail "the incoming job 1 never reached precopy on b"
# Four watchers, started 50 ms apart: xmigd looks at a watched job every
# 200 ms, so whenever the trim comes one of them looks after it.
watchers=()
for i in 1 2 3 4; do
	xmig_on b watch --json 1 >"$T/watch$i.json" 2>"$T/watch$i.err" &
	watchers+=($!)
	sleep 0.05
done

# Each refused PREPARE leaves a failed incoming job on b.
for i in $(seq "$CLASHES"); do
	xmig_on a migrate vm1 "$B" >/dev/null 2>"$T/clash.err" && fail "clash $i migrated"
	grep -q "already exists" "$T/clash.err" || fail "clash $i: $(cat "$T/clash.err")"
done
[ "$(xmig_on b job 1 --json | jq -r .state)" = precopy ] ||
    fail "job 1 on b ended before the clashes were done"

# End job 1 and keep waking b's main loop, which trims after every event.
xmig_on a cancel 1 >/dev/null || fail "cancel failed"
for _ in $(seq 300); do
	alive=0
	for w in "${watchers[@]}"; do kill -0 "$w" 2>/dev/null && alive=1; done
	[ "$alive" = 0 ] && break
	xmig_on b status >/dev/null 2>&1
	sleep 0.02
done
wait "$mig"
kill -0 "$PID_b" 2>/dev/null || fail "xmigd on b died"
kill -0 "$PID_a" 2>/dev/null || fail "xmigd on a died"
for i in 1 2 3 4; do
	wait "${watchers[$((i - 1))]}"; rc=$?
	[ "$rc" = 1 ] || fail "watcher $i: exit code $rc, expected 1: $(cat "$T/watch$i.err")"
	r=$(jq -r .result "$T/watch$i.json")
	case $r in failed|cancelled) ;; *) fail "watcher $i: result '$r'" ;; esac
done
# The scenario happened: job 1 was trimmed from b's table while watched.
xmig_on b job 1 >/dev/null 2>"$T/job1.err" && fail "job 1 still listed on b: no trim"
grep -q "no job 1" "$T/job1.err" || fail "xmig job 1: $(cat "$T/job1.err")"
xmig_on b status >/dev/null || fail "xmigd on b does not answer"
