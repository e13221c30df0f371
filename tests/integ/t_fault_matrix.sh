#!/usr/bin/env bash
# The fault-injection matrix of docs/reliability.md: either daemon killed
# (SIGKILL, at XMIG_FAULT points or from outside) at every phase of a live
# migration, a receiver that stalls, a receiver short of memory or disk.
# Every case has its own pair of daemons (a sends vm1, a busy guest, to b)
# and must end with exactly one copy of vm1, running on the host the table
# says, with log-dirty off, passing `simhv verify`; xmig's exit code and
# message must be the table's.  A killed daemon is started again and its
# reconcile must settle what it left; then vm1 must migrate again between
# the same two hosts (nothing left behind blocks it).
#
# Cases run three at a time (FAULT_PAR); FAULT_CASES="name ..." runs only
# those; FAULT_VERBOSE=1 shows every case's output, not only a failure's.
tid=fault-matrix
. "$(dirname "$0")/lib.sh"
TOP=$T
MATRIX_PORTS=$((12000 + (RANDOM % 300) * 25))	# below lib.sh's, and the ephemeral range
PAR=${FAULT_PAR:-3}

# The default guest, and (option "rounds") a 16 MiB guest that dirties its
# whole 4 MiB working set every round, sent at 200 Mbit/s with a 1 ms
# downtime target and no round or byte limit to speak of: it never
# converges, so round 2 is always pre-copy and the stream lasts long
# enough for a signal sent after 4 MB to land in it.
DOM="--memory 32M --fill random --dirty-rate 2000 --wws 4M"
ROUNDS_DOM="--memory 16M --fill random --dirty-rate 20000 --wws 4M"
ROUNDS="-r 200 --downtime 1 --max-rounds 30 --max-factor 100"

# The table.  on: the daemon the fault is on.  fault: an XMIG_FAULT point,
# or SIGKILL / SIGSTOP sent from outside once 4 MB have been sent, or -.
# restart: early = as soon as that daemon died, late = after xmig ended,
# no = not killed.  rc and msg (an ERE): xmig's exit code and output (a
# sender killed at once may die before xmig has its reply, hence "xmigd .*").
# ends: where vm1 runs in the end.  opt: "rounds" (above).
#
# name               on fault                     restart rc msg ends opt
CASES=(
"recv-stall          b  SIGSTOP                   no    1 'sending vm1 to .* failed: timed out; vm1 is still running on this host' a rounds"
"recv-ambiguous      b  recv-exit-on-go           late  4 'unknown outcome: .*vm1--migratedaway.*xmigd keeps asking' a"
"recv-after-built    b  recv-exit-after-built     early 1 'did not commit vm1; vm1 is still running on this host' a"
"recv-on-go          b  recv-exit-on-go           early 1 'did not commit vm1; vm1 is still running on this host' a"
"recv-hello          b  recv-exit-at-hello        early 1 'no hello from .*; vm1 is still running on this host' a"
"recv-prepare        b  recv-exit-at-prepare      early 1 'did not accept vm1: .*; vm1 is still running on this host' a"
"recv-first-round    b  recv-exit-in-first-round  early 1 'sending vm1 to .* failed: .*; vm1 is still running on this host' a"
"recv-later-round    b  recv-exit-in-later-round  early 1 'sending vm1 to .* failed: .*; vm1 is still running on this host' a rounds"
"recv-kill9-stream   b  SIGKILL                   early 1 'sending vm1 to .* failed: .*; vm1 is still running on this host' a rounds"
"recv-after-suspend  b  recv-exit-at-context      early 1 'failed: .*; vm1 is still running on this host' a"
"recv-after-commit   b  recv-exit-after-commit    early 0 'vm1 migrated live to' b"
"recv-lost-done      b  recv-no-done              no    0 'vm1 migrated live to' b"
"send-hello          a  send-exit-at-hello        late  3 'xmigd .*settles vm1 from its records' a"
"send-prepare        a  send-exit-at-prepare      late  3 'xmigd .*settles vm1 from its records' a"
"send-first-round    a  send-exit-in-first-round  late  3 'xmigd .*settles vm1 from its records' a"
"send-later-round    a  send-exit-in-later-round  late  3 'xmigd .*settles vm1 from its records' a rounds"
"send-after-suspend  a  send-exit-after-suspend   late  3 'xmigd .*settles vm1 from its records' a"
"send-after-built    a  send-exit-after-built     late  3 'xmigd .*settles vm1 from its records' a"
"send-after-go       a  send-exit-after-go        late  3 'xmigd .*settles vm1 from its records' b"
"short-sim-memory    b  -                         no    1 'refused: not enough free memory: domain needs 32 MiB, [0-9]+ MiB free; vm1 is still running on this host' a"
"short-disk          b  -                         no    1 'refused: cannot create vm1 here: not enough memory; vm1 is still running on this host' a"
"short-mid-restore   b  recv-nomem-in-first-round no    1 'aborted: receiving vm1 failed: out of memory; vm1 is still running on this host' a"
)

# ---- per-case extras, all optional: pre_NAME before the daemons start;
# dead_NAME when an "early" daemon died, before it is started again;
# mid_NAME after xmig ended, before a "late" daemon is started again;
# post_NAME after the end state was checked.

pre_short_sim_memory() { write_conf b "sim-memory = 24M"; }

# b's sim root on a 16 MiB tmpfs: sim-memory lets the 32 MiB guest in, the
# memory behind the sim root does not (a domain's RAM is reserved when it
# is built, so this fails at PREPARE).
pre_short_disk() {
	mkdir -p "$T/b/sim"
	mount -t tmpfs -o size=16m xmig-short-disk "$T/b/sim" ||
	    skip "cannot mount a tmpfs (not root?)"
	MOUNTED=$T/b/sim
	write_conf b "sim-memory = 1G"
}

# Stalled (SIGSTOP) mid-stream: the sender gave up on its own deadline;
# continued, b finds the stream gone and drops its copy.
mid_recv_stall() {
	grep -q "sending vm1 to .* failed: timed out" "$T/a.log" || fail "a did not log its deadline"
	[ "$(dom_state a vm1)" = running ] || fail "vm1 not resumed while b is stalled"
	kill -CONT "$PID_b"
}
post_recv_stall() {
	grep -q "receiving vm1 failed" "$T/b.log" || fail "b did not log the failed stream"
}

# The receiver died after GO was sent: nothing runs while the outcome is
# unknown, both copies are paused.
both_paused() {
	case "$(dom_state a vm1--migratedaway)" in
	paused|suspended) ;;
	*) fail "the source copy is not paused and renamed" ;;
	esac
	[ "$(dom_state b vm1--incoming)" = paused ] || fail "the destination copy is not paused"
}
mid_recv_ambiguous() { both_paused; }
post_recv_ambiguous() {
	grep -q "reconcile: vm1 resumed on this host" "$T/a.log" ||
	    fail "the sender's reconcile did not resume vm1"
}
dead_recv_on_go() { both_paused; }
# Killed after BUILT, before GO (docs/reliability.md, recv-after-built): the
# sender still renames its suspended copy and sends GO into the dead
# connection, so while b is down both copies are paused (a's rename may
# follow b's death by a moment: waited for).
dead_recv_after_built() {
	for _ in $(seq 50); do
		[ -n "$(dom_state a vm1--migratedaway)" ] && break
		sleep 0.1
	done
	both_paused
}
dead_recv_after_commit() { both_paused; }

# Receivers killed once the new domain existed: the restarted daemon
# destroys what its predecessor left.
reconciled_b() {
	grep -q "reconcile: destroying vm1--incoming" "$T/b.log" ||
	    fail "b's reconcile did not destroy the partial copy"
}
post_recv_prepare() { reconciled_b; }
post_recv_first_round() { reconciled_b; }
post_recv_kill9_stream() { reconciled_b; }
post_recv_on_go() { reconciled_b; }
# ... and the restarted b destroys its copy, answers the sender's QUERY
# "aborted" (OUTCOME_ABORTED = 3, lib/proto.h), and the source resumes.
post_recv_after_built() {
	reconciled_b
	grep -q "query from .*: outcome 3 for vm1" "$T/b.log" || fail "b did not answer aborted"
	grep -q "domain vm1 resumed on this host" "$T/a.log" || fail "no resume logged on a"
}
post_recv_later_round() {
	reconciled_b
	# Died in round 2 of pre-copy: round 1 ended, the policy never stopped.
	grep -q "round 1: " "$T/a.log" || fail "round 1 never ended"
	! grep -q "stop-and-copy after" "$T/a.log" || fail "b died after pre-copy"
}
post_recv_after_suspend() {
	reconciled_b
	grep -q "stop-and-copy after" "$T/a.log" || fail "the source never suspended"
	grep -q "domain vm1 resumed on this host" "$T/a.log" || fail "no resume logged"
}
post_recv_after_commit() {
	grep -q "was committed but left paused: starting it" "$T/b.log" ||
	    fail "b's reconcile did not start the committed copy"
	grep -q "query from .*outcome 2" "$T/b.log" || fail "b did not answer committed"
}
post_recv_lost_done() {
	grep -q "asking it for the outcome" "$T/a.log" || fail "a did not query"
	grep -q "query from .*outcome 2" "$T/b.log" || fail "b did not answer committed"
}

# Senders killed before GO: the source kept running (or stays suspended);
# b drops its copy when the connection breaks.
running_a() {
	[ "$(dom_state a vm1)" = running ] || fail "vm1 stopped running on a"
	expect_no_domains b 20 "b kept a copy"
}
mid_send_hello() { running_a; }
mid_send_prepare() { running_a; }
mid_send_first_round() { running_a; }
mid_send_later_round() { running_a; }
suspended_a() {
	case "$(dom_state a vm1)" in paused|suspended) ;; *) fail "vm1 not left suspended" ;; esac
	expect_no_domains b 20 "b kept its partial copy"
}
mid_send_after_suspend() { suspended_a; }
mid_send_after_built() { suspended_a; }
# After GO: b committed and runs vm1, a's copy is paused and renamed.
mid_send_after_go() {
	for _ in $(seq 50); do [ "$(dom_state b vm1)" = running ] && break; sleep 0.1; done
	[ "$(dom_state b vm1)" = running ] || fail "vm1 not running on b"
	case "$(dom_state a vm1--migratedaway)" in
	paused|suspended) ;;
	*) fail "the source copy is not paused" ;;
	esac
}
resumed_a() {
	grep -q "reconcile: vm1 resumed on this host" "$T/a.log" ||
	    fail "a's reconcile did not resume vm1"
}
post_send_first_round() { resumed_a; }
post_send_later_round() {
	resumed_a
	grep -q "round 1: " "$T/a-first.log" || fail "round 1 never ended"
	! grep -q "stop-and-copy after" "$T/a-first.log" || fail "a died after pre-copy"
}
post_send_after_suspend() { resumed_a; }
post_send_after_built() { resumed_a; }
post_send_after_go() {
	grep -q "reconcile: vm1 runs on" "$T/a.log" || fail "a's reconcile did not learn the outcome"
}

post_short_mid_restore() {
	grep -q "receiving vm1 failed: out of memory" "$T/b.log" || fail "b did not log the shortage"
}

# ---- helpers

# lib.sh's cleanup, after what only some cases leave: a stopped daemon, a mount.
case_cleanup() {
	local rc=$? pid
	for pid in "${DAEMONS[@]}"; do kill -CONT "$pid" 2>/dev/null; done
	if [ -n "$MOUNTED" ]; then
		for pid in "${DAEMONS[@]}"; do kill -9 "$pid" 2>/dev/null; done
		simhv_on b list --json 2>/dev/null | jq -r '.[].id' |
		    while read -r id; do simhv_on b destroy "$id" >/dev/null 2>&1; done
		destroy_sim_domains
		check_sim_journal || rc=1	# b's journal goes with the mount
		umount "$MOUNTED" || umount -l "$MOUNTED"
	fi
	(exit $rc)
	cleanup
}

# expect_no_domains HOST SECONDS WHY: HOST's sim has no domain (waits).
expect_no_domains() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		[ "$(simhv_on "$1" list --json | jq length)" = 0 ] && return 0
		sleep 0.1
	done
	simhv_on "$1" list
	fail "$3"
}

# expect_one_copy HOST: vm1 runs on HOST and is the only domain on both
# hosts, log-dirty off, and verifies.  Waits up to 45 s: a reconcile may
# still be at work (the sender's periodic one runs every 30 s).
expect_one_copy() {
	local where=$1 i n
	for ((i = 0; i < 450; i++)); do
		n=$(($(simhv_on a list --json | jq length) + $(simhv_on b list --json | jq length)))
		[ "$(dom_state "$where" vm1)" = running ] && [ "$n" = 1 ] && break
		sleep 0.1
	done
	[ "$(dom_state "$where" vm1)" = running ] && [ "$n" = 1 ] || {
		echo "a:"; simhv_on a list; echo "b:"; simhv_on b list
		fail "vm1 is not the one running copy on $where"
	}
	[ "$(simhv_on "$where" info vm1 --json | jq -r .logdirty)" = false ] ||
	    fail "vm1 still has log-dirty tracking on"
	expect_verify_ok "$where" vm1
}

wait_dead() {
	local i
	for ((i = 0; i < 600; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.05
	done
	return 1
}

restart() {
	mv "$T/$1.log" "$T/$1-first.log"
	start_xmigd "$1"
}

# hook KIND NAME: run KIND_NAME if the case has one.
hook() {
	local f=$1_${2//-/_}
	if declare -F "$f" >/dev/null; then "$f"; fi
}

# run_case INDEX NAME ON FAULT RESTART RC MSG ENDS [OPT]: in a subshell of
# its own, with its own directory, ports and cleanup.
run_case() {
	local idx=$1 name=$2 on=$3 fault=$4 restart=$5 want_rc=$6 msg=$7 ends=$8 opt=${9:-}
	local dom=$DOM opts="" rc mig pid from to
	tid="fault-matrix/$name"
	T=$TOP/$name
	PORT_BASE=$((MATRIX_PORTS + idx * 3))
	DAEMONS=()
	MOUNTED=
	mkdir -p "$T"
	trap case_cleanup EXIT
	if [ "$opt" = rounds ]; then
		dom=$ROUNDS_DOM
		opts=$ROUNDS
	fi
	write_conf a
	write_conf b
	hook pre "$name"
	case $fault in SIG*|-) ;; *) [ "$on" = a ] && export XMIG_FAULT=$fault ;; esac
	start_xmigd a
	unset XMIG_FAULT
	case $fault in SIG*|-) ;; *) [ "$on" = b ] && export XMIG_FAULT=$fault ;; esac
	start_xmigd b
	unset XMIG_FAULT
	# shellcheck disable=SC2086
	simhv_on a create vm1 $dom >/dev/null || fail "create"
	# shellcheck disable=SC2086
	xmig_on a migrate -l $opts vm1 "127.0.0.1:$(port_of b)" >"$T/out" 2>"$T/err" &
	mig=$!
	eval "pid=\$PID_$on"
	case $fault in
	SIG*)
		wait_bytes a 1 4000000 || fail "the migration never sent 4 MB"
		kill "-${fault#SIG}" "$pid"
		trace "sent $fault to $on's xmigd"
		;;
	esac
	if [ "$restart" = early ]; then
		# Whichever comes first: the daemon dies (it is started again at
		# once, while the other side may still be waiting for it), or xmig
		# ends.
		while kill -0 "$pid" 2>/dev/null && kill -0 "$mig" 2>/dev/null; do sleep 0.05; done
		wait_dead "$pid" || fail "$on's xmigd did not die"
		hook dead "$name"
		trace "$on's xmigd died; starting it again"
		restart "$on"
	fi
	wait "$mig"; rc=$?
	cat "$T/out" "$T/err"
	[ "$rc" = "$want_rc" ] || fail "xmig exited $rc, expected $want_rc"
	grep -qE "$msg" "$T/out" "$T/err" || fail "xmig's output does not match /$msg/"
	hook mid "$name"
	if [ "$restart" = late ]; then
		wait_dead "$pid" || fail "$on's xmigd did not die"
		trace "$on's xmigd is dead; starting it again"
		restart "$on"
	fi
	expect_one_copy "$ends"
	hook post "$name"
	# Nothing left behind: the same migration again, with the fault gone.
	if [ "$restart" != no ]; then
		from=$ends
		to=b
		[ "$from" = b ] && to=a
		xmig_on "$from" migrate -l vm1 "127.0.0.1:$(port_of "$to")" >"$T/out2" 2>&1 ||
		    { cat "$T/out2"; fail "the second migration, $from to $to, failed"; }
		expect_one_copy "$to"
	fi
	trace "ok"
}

# ---- the scheduler: PAR cases at once, each one's output shown when it ends.
want=" ${FAULT_CASES:-} "
declare -A CPID=() CSTART=()
idx=0
pass=0
failed=()
skipped=()
reap() {
	local name rc
	for name in "${!CPID[@]}"; do
		kill -0 "${CPID[$name]}" 2>/dev/null && continue
		wait "${CPID[$name]}"
		rc=$?
		if [ "$rc" = 0 ]; then
			pass=$((pass + 1))
			printf '[%s] PASS %-20s %5.1fs\n' "$tid" "$name" \
			    "$(echo "$(date +%s.%N) - ${CSTART[$name]}" | bc)"
			[ -z "${FAULT_VERBOSE:-}" ] || sed 's/^/    /' "$TOP/$name.out"
		elif [ "$rc" = "$XMIG_SKIP_RC" ]; then
			# (the case said why; the whole test then ends 77)
			SKIPPED_PARTS=$((SKIPPED_PARTS + 1))
			skipped+=("$name")
			printf '[%s] SKIP %-20s %s\n' "$tid" "$name" "$(grep -m1 '^SKIP' "$TOP/$name.out")"
		else
			failed+=("$name")
			printf '[%s] FAIL %s\n' "$tid" "$name"
			sed 's/^/    /' "$TOP/$name.out"
		fi
		unset "CPID[$name]"
	done
}
for row in "${CASES[@]}"; do
	eval "set -- $row"
	idx=$((idx + 1))
	[ "$want" = "  " ] || [[ $want == *" $1 "* ]] || continue
	while [ "${#CPID[@]}" -ge "$PAR" ]; do sleep 0.1; reap; done
	( run_case "$idx" "$@" ) >"$TOP/$1.out" 2>&1 &
	CPID[$1]=$!
	CSTART[$1]=$(date +%s.%N)
done
while [ "${#CPID[@]}" -gt 0 ]; do sleep 0.1; reap; done
tid=fault-matrix
trace "$pass passed, ${#failed[@]} failed${failed:+: ${failed[*]}}, ${#skipped[@]} skipped${skipped:+: ${skipped[*]}}"
[ "${#failed[@]}" = 0 ]
