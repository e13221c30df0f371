#!/usr/bin/env bash
# The link cut (`ip link set down` of the receiver's eth0) during a live
# migration, three ways at once on three pairs of hosts:
#
#   stream  (a -> b): cut mid pre-copy.  Neither side hears anything; the
#           sender's stream deadline (30 s) fires, it resumes vm1 and xmig
#           exits 1; the receiver's own deadline drops its partial copy.
#           Once the link is back, vm1 migrates to b.
#   done    (c -> d): cut after GO reached d (d holds at a fault point until
#           the link is down): d commits and runs vm1, its DONE is lost.  c
#           waits out its commit deadline (30 s) with its copy paused, asks d
#           (QUERY) until the link is back, learns "committed", destroys its
#           copy: xmig exits 0.
#   go      (e -> f): cut just before GO leaves e (e holds at a fault point):
#           GO is lost.  f's deadline drops its copy ("aborted"); e asks,
#           learns it once the link is back, resumes vm1: xmig exits 1.
#
# In each, the link comes back only after the events the case is about
# (both deadlines fired), so nothing depends on timing.  At every moment at
# most one copy of vm1 runs; at the end exactly one, and it verifies.  (The
# link that never comes back is the ambiguous case, exit 4: see
# tests/integ/t_fault_matrix.sh, recv-ambiguous.)
tid=link-cut
. "$(dirname "$0")/lib.sh"
netns_hosts a b c d e f
for h in a b c d e f; do mkdir -p "$T/$h"; done
start_xmigd a; start_xmigd b; start_xmigd c
XMIG_FAULT=recv-hold-on-go XMIG_FAULT_DIR=$T/d start_xmigd d
XMIG_FAULT=send-hold-before-go XMIG_FAULT_DIR=$T/e start_xmigd e
start_xmigd f

# wait_for SECONDS WHAT CMD...: until CMD succeeds.
wait_for() {
	local s=$1 what=$2 i
	shift 2
	for ((i = 0; i < s * 10; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	fail "waited $s s for $what"
}

# The one running copy of vm1 is on $1 (nothing left on $2), and verifies.
expect_one_copy() {
	[ "$(dom_state "$1" vm1)" = running ] || fail "vm1 not running on $1"
	[ "$(simhv_on "$1" list --json | jq length)" = 1 ] || fail "leftovers on $1"
	wait_for 40 "$2 to drop its copy" no_domains "$2"
	expect_verify_ok "$1" vm1
}

# sent_at_least HOST BYTES: job 1 on HOST has sent that much.
sent_at_least() {
	local b
	b=$(xmig_on "$1" job 1 --json 2>/dev/null | jq -r '.bytes_sent // 0' 2>/dev/null)
	[ -n "$b" ] && [ "$b" -ge "$2" ]
}
# No domain on HOST.
no_domains() { [ "$(simhv_on "$1" list --json | jq length)" = 0 ]; }

case_stream() {
	simhv_on a create vm1 --memory 16M --fill random --dirty-rate 20000 --wws 4M \
	    >/dev/null || fail "create on a"
	# Capped, and never converging: still pre-copy when the link goes.
	xmig_on a migrate -l -r 200 --downtime 1 --max-rounds 100 --max-factor 100 vm1 \
	    "$(ip_of b)" >"$T/stream.out" 2>&1 &
	local mig=$! rc
	wait_for 30 "4 MB sent" sent_at_least a 4000000
	link_down b
	trace "stream: b's link is down"
	wait "$mig"; rc=$?
	cat "$T/stream.out"
	[ "$rc" = 1 ] || fail "stream: xmig exited $rc, expected 1"
	grep -q "failed: timed out; vm1 is still running on this host" "$T/stream.out" ||
	    fail "stream: xmig does not say the stream timed out"
	[ "$(dom_state a vm1)" = running ] || fail "stream: vm1 not resumed on a"
	wait_for 40 "b's deadline" grep -q "receiving vm1 failed: timed out" "$T/b.log"
	link_up b
	expect_one_copy a b
	xmig_on a migrate -l vm1 "$(ip_of b)" || fail "stream: no migration once the link is back"
	expect_one_copy b a
	trace "stream: ok"
}

case_done() {
	simhv_on c create vm1 --memory 32M --fill random --dirty-rate 2000 --wws 4M \
	    >/dev/null || fail "create on c"
	xmig_on c migrate -l vm1 "$(ip_of d)" >"$T/done.out" 2>&1 &
	local mig=$! rc
	wait_for 60 "d to hold on GO" test -e "$T/d/recv-hold-on-go"
	link_down d
	rm "$T/d/recv-hold-on-go"
	trace "done: d's link is down after GO"
	wait_for 20 "d to run vm1" grep -q "vm1 is running here" "$T/d.log"
	[ "$(dom_state d vm1)" = running ] || fail "done: vm1 not running on d"
	case "$(dom_state c vm1--migratedaway)" in
	paused|suspended) ;;
	*) fail "done: c's copy is not paused while the outcome is unknown" ;;
	esac
	wait_for 60 "c to ask d" grep -q "lost $(ip_of d) after GO.*asking it for the outcome" "$T/c.log"
	link_up d
	trace "done: d's link is up"
	wait "$mig"; rc=$?
	cat "$T/done.out"
	[ "$rc" = 0 ] || fail "done: xmig exited $rc, expected 0"
	grep -q "vm1 migrated live to" "$T/done.out" || fail "done: no success line"
	expect_one_copy d c
	trace "done: ok"
}

case_go() {
	simhv_on e create vm1 --memory 32M --fill random --dirty-rate 2000 --wws 4M \
	    >/dev/null || fail "create on e"
	xmig_on e migrate -l vm1 "$(ip_of f)" >"$T/go.out" 2>&1 &
	local mig=$! rc
	wait_for 60 "e to hold before GO" test -e "$T/e/send-hold-before-go"
	link_down f
	rm "$T/e/send-hold-before-go"
	trace "go: f's link is down before GO"
	wait_for 60 "f's deadline" grep -q "no go-ahead from" "$T/f.log"
	[ "$(simhv_on f list --json | jq length)" = 0 ] || fail "go: f kept its copy"
	wait_for 60 "e to ask f" grep -q "lost $(ip_of f) after GO.*asking it for the outcome" "$T/e.log"
	link_up f
	trace "go: f's link is up"
	wait "$mig"; rc=$?
	cat "$T/go.out"
	[ "$rc" = 1 ] || fail "go: xmig exited $rc, expected 1"
	grep -q "did not commit vm1; vm1 is still running on this host" "$T/go.out" ||
	    fail "go: xmig does not say f did not commit"
	expect_one_copy e f
	trace "go: ok"
}

pids=()
for c in stream done go; do
	( "case_$c" ) >"$T/case-$c.out" 2>&1 &
	pids+=($!)
done
failed=0
i=0
for c in stream done go; do
	wait "${pids[$i]}" || failed=1
	i=$((i + 1))
	sed "s/^/  $c| /" "$T/case-$c.out"
done
[ "$failed" = 0 ] || { echo "FAIL [$tid]"; exit 1; }
