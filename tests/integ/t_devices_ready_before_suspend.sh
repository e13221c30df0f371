#!/usr/bin/env bash
# The sender does not suspend the guest before the destination's devices
# are up (HELLO feature DEVICES_READY, docs/protocol.md): b's sim devices
# come up 1500 ms after PREPARE_OK (sim-devices-delay-ms), standing for
# Xen's hotplug scripts; a small guest converges long before that.
# 1. Both offer the feature: pre-copy goes on until DEVICES_READY, so
#    precopy_ms covers the delay, devices_wait_ms shows the wait and the
#    downtime does not include it; xmig's summary line mentions the wait.
# 2. An older peer on either side (hello-without-devices-ready): nothing
#    waits, the destination's build does, inside the downtime, as before.
# 3. Devices that never come up (c: a delay of 10 minutes) within a's
#    devices-ready-timeout (3 s): the migration fails with one line, the
#    domain runs on at a, c keeps nothing.
tid=devices-ready-before-suspend
. "$(dirname "$0")/lib.sh"
DELAY=1500
write_conf a "devices-ready-timeout = 3"
start_xmigd a
XMIG_FAULT=sim-devices-delay-ms=$DELAY start_xmigd b
XMIG_FAULT=sim-devices-delay-ms=600000 start_xmigd c
B="127.0.0.1:$(port_of b)"

# 1.
simhv_on a create vm1 --memory 32M --fill random --dirty-rate 2000 --wws 4M >/dev/null ||
    fail "create vm1"
xmig_on a migrate -l --json vm1 "$B" >"$T/one.json" || { cat "$T/one.json"; fail "migrate vm1"; }
jq -c '{total_ms, downtime_ms, precopy_ms, devices_wait_ms, iterations, phases}' "$T/one.json"
pre=$(json_get "$T/one.json" precopy_ms)
wait=$(json_get "$T/one.json" devices_wait_ms)
down=$(json_get "$T/one.json" downtime_ms)
[ "$pre" -ge $((DELAY - 100)) ] ||
    fail "suspended after $pre ms of pre-copy, before b's devices ($DELAY ms) were up"
[ "$wait" -gt 0 ] && [ "$wait" -le "$pre" ] || fail "devices_wait_ms is $wait (pre-copy $pre ms)"
[ "$down" -lt $((DELAY / 2)) ] || fail "downtime $down ms includes b's device set-up"
grep -q "devices of vm1--incoming are up after $DELAY ms" "$T/b.log" ||
    fail "b did not delay its devices"
expect_verify_ok b vm1
simhv_on a create vm2 --memory 16M --fill random >/dev/null || fail "create vm2"
xmig_on a migrate -l vm2 "$B" >"$T/two.txt" 2>&1 || { cat "$T/two.txt"; fail "migrate vm2"; }
cat "$T/two.txt"
grep -Eq "[0-9]+ ms waiting for the destination's devices\)$" "$T/two.txt" ||
    fail "xmig migrate does not mention the wait"
expect_verify_ok b vm2
trace "with the feature: pre-copy $pre ms, devices wait $wait ms, downtime $down ms"

# 2. An older sender (a restarted without the feature), then an older
#    receiver (b, still with its delay).
old_peer() {	# DOMAIN JSON-FILE
	local f=$2 w d
	simhv_on a create "$1" --memory 16M --fill random >/dev/null || fail "create $1"
	xmig_on a migrate -l --json "$1" "$B" >"$f" || { cat "$f"; fail "migrate $1"; }
	w=$(json_get "$f" devices_wait_ms)
	d=$(json_get "$f" downtime_ms)
	[ "$w" = 0 ] || fail "$1: waited $w ms for devices with an older peer"
	[ "$d" -ge $((DELAY / 2)) ] ||
	    fail "$1: downtime $d ms: the older peer's migration did not wait for b's build"
	expect_verify_ok b "$1"
	trace "$1 with an older peer: downtime $d ms"
}
stop_daemons "$PID_a"
XMIG_FAULT=hello-without-devices-ready start_xmigd a
old_peer vm3 "$T/three.json"
stop_daemons "$PID_a" "$PID_b"
start_xmigd a
XMIG_FAULT=hello-without-devices-ready,sim-devices-delay-ms=$DELAY start_xmigd b
old_peer vm4 "$T/four.json"

# 3.
simhv_on a create vm5 --memory 16M --fill random --dirty-rate 1000 --wws 2M >/dev/null ||
    fail "create vm5"
t0=$(date +%s%N)
rc=0
xmig_on a migrate -l vm5 "127.0.0.1:$(port_of c)" >"$T/five.txt" 2>&1 || rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
cat "$T/five.txt"
[ "$rc" = 1 ] || fail "xmig exited $rc, expected 1"
grep -q "the destination's devices were not up after 3 s" "$T/five.txt" ||
    fail "xmig does not say why"
[ "$(grep -c . "$T/five.txt")" = 1 ] || fail "more than one line"
[ "$ms" -lt 9000 ] || fail "gave up after $ms ms (devices-ready-timeout 3 s)"
[ "$(dom_state a vm5)" = running ] || fail "vm5 is not running on a"
expect_verify_ok a vm5
for _ in $(seq 50); do
	[ "$(simhv_on c list --json | jq length)" = 0 ] && break
	sleep 0.1
done
[ "$(simhv_on c list --json | jq length)" = 0 ] || fail "c kept a copy of vm5"
st=$(xmig_on c jobs --json | jq -r '[.[] | select(.domain == "vm5")][0].state')
[ "$st" = failed ] || fail "c's job is '$st', expected failed"
trace "devices never up: failed after $ms ms, vm5 runs on a"
trace "ok"
