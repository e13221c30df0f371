#!/usr/bin/env bash
# The deadlines of a migration's phases count on the clock, not on frames
# that arrive (docs/protocol.md, Timeouts):
# 1. a receiver that answers STREAM_END with nothing but an unknown OPTIONAL
#    frame every second does not keep the source suspended past
#    build-timeout (3 s here): the sender gives up and resumes vm1;
# 2. a sender that trickles a PAGES frame one byte a second after
#    PREPARE_OK loses the job, its slot and its half-built domain after
#    stream-idle-timeout (3 s here);
# 3. so does one that sends only OPTIONAL frames, one a second.
tid=deadlines-count-on-the-clock
. "$(dirname "$0")/lib.sh"
write_conf a "build-timeout = 3"
write_conf b "stream-idle-timeout = 3"
start_xmigd a
start_xmigd b

# 1. the fake receiver on c's port
fake=$(port_of c)
"$TESTPEER" -l 127.0.0.1 "$fake" expect HELLO sendhello expect PREPARE send PREPARE_OK \
    until STREAM_END $(for _ in $(seq 12); do echo optional sleep 1000; done) \
    >"$T/fake" 2>&1 &
fakepid=$!
for _ in $(seq 50); do grep -q listening "$T/fake" && break; sleep 0.1; done
simhv_on a create vm1 --memory 16M --fill random >/dev/null || fail "create"
t0=$(date +%s%N)
rc=0
xmig_on a migrate vm1 "127.0.0.1:$fake" >"$T/out" 2>&1 || rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
cat "$T/out" "$T/fake"
kill "$fakepid" 2>/dev/null
[ "$rc" = 1 ] || fail "xmig exited $rc, expected 1"
grep -q "did not build vm1 within build-timeout (3 s)" "$T/out" ||
    fail "xmig does not name build-timeout"
grep -q "recv STREAM_END" "$T/fake" || fail "the fake receiver never got STREAM_END"
[ "$ms" -lt 9000 ] || fail "the sender waited $ms ms past STREAM_END (build-timeout 3 s)"
[ "$(dom_state a vm1)" = running ] || fail "vm1 is not running again on a"
trace "sender gave up after $ms ms in all"

# 2. and 3. against b's stream-idle-timeout
incoming_gone() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(simhv_on b list --json | jq length)" = 0 ] && return 0
		sleep 0.1
	done
	simhv_on b list
	return 1
}
n=0
for how in trickle optional; do
	n=$((n + 1))
	tok=$(printf '%032x' $((0xdead0000 + n)))
	if [ $how = trickle ]; then
		steps=(trickle 1000 zeropages 0 4)
	else
		steps=($(for _ in $(seq 12); do echo optional sleep 1000; done))
	fi
	t0=$(date +%s%N)
	"$TESTPEER" 127.0.0.1 "$(port_of b)" hello prepare "vm-$how" "$tok" 256 \
	    expect PREPARE_OK "${steps[@]}" >"$T/$how" 2>&1
	ms=$((($(date +%s%N) - t0) / 1000000))
	cat "$T/$how"
	grep -q "recv PREPARE_OK" "$T/$how" || fail "$how: b did not accept the PREPARE"
	grep -q "send failed\|recv ABORT" "$T/$how" || fail "$how: b did not end the connection"
	[ "$ms" -lt 9000 ] || fail "$how: b kept the connection $ms ms (stream-idle-timeout 3 s)"
	incoming_gone || fail "$how: b kept the half-built domain"
	st=$(xmig_on b jobs --json | jq -r --arg d "vm-$how" '[.[] | select(.domain == $d)][0].state')
	[ "$st" = failed ] || fail "$how: b's job is '$st', expected failed"
	grep -q "vm-$how.*timed out\|receiving vm-$how failed: timed out" "$T/b.log" ||
	    fail "$how: b did not log the deadline"
	trace "$how: b gave up after $ms ms"
done
# The slots are free: a real migration goes through.
simhv_on a destroy vm1 >/dev/null
simhv_on a create vm2 --memory 16M --fill random >/dev/null || fail "create vm2"
xmig_on a migrate -l vm2 "127.0.0.1:$(port_of b)" >"$T/out" 2>&1 || { cat "$T/out"; fail "migrate vm2"; }
expect_verify_ok b vm2
trace "ok"
