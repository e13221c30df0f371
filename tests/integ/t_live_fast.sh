#!/usr/bin/env bash
# Live migration at full loopback speed of a busy domain with 2 vCPUs; the
# downtime stays within the default 300 ms target and the domain verifies.
tid=live-fast
. "$(dirname "$0")/lib.sh"
start_xmigd a; start_xmigd b
simhv_on a create vm1 --memory 256M --vcpus 2 --dirty-rate 40000 --wws 32M >/dev/null ||
    fail "create"
sleep 0.5
xmig_on a migrate -l --json vm1 "127.0.0.1:$(port_of b)" >"$T/out.json" || fail "migrate exited $?"
jq -c '{result,iterations,downtime_ms,total_ms,bytes_sent,stop_reason}' "$T/out.json"
[ "$(json_get "$T/out.json" result)" = success ] || fail "result not success"
[ "$(json_get "$T/out.json" downtime_ms)" -le 300 ] || fail "downtime over 300 ms"
[ "$(dom_state a vm1)" = "" ] || fail "vm1 still on the source"
expect_verify_ok b vm1
