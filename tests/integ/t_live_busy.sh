#!/usr/bin/env bash
# A live migration of a domain that dirties pages faster than one round can
# absorb needs several pre-copy rounds, and loses no update: the domain
# verifies on the destination with the write counters it had at the source.
tid=live-busy
. "$(dirname "$0")/lib.sh"
start_xmigd a; start_xmigd b
simhv_on a create vm1 --memory 256M --vcpus 2 --dirty-rate 40000 --wws 32M >/dev/null || fail "create"
sleep 0.5
xmig_on a migrate -l --json --downtime 20 vm1 "127.0.0.1:$(port_of b)" >"$T/out.json" ||
    fail "migrate exited $?"
cat "$T/out.json" | jq -c '{result,iterations,downtime_ms,total_ms,bytes_sent,stop_reason}'
[ "$(json_get "$T/out.json" result)" = success ] || fail "result not success"
[ "$(json_get "$T/out.json" mode)" = live ] || fail "mode not live"
[ "$(json_get "$T/out.json" iterations)" -ge 3 ] || fail "expected several rounds"
[ "$(dom_state a vm1)" = "" ] || fail "vm1 still on the source"
expect_verify_ok b vm1
