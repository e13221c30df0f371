#!/usr/bin/env bash
# A 1 GiB domain with all RAM non-zero and a 16 MiB writable working set
# live-migrates in several rounds and verifies (a 1 ms downtime target makes
# the policy send the working set again after the first full copy: sending
# 16 MiB within 1 ms would take 16 GB/s).
tid=big-random
. "$(dirname "$0")/lib.sh"
start_xmigd a; start_xmigd b
simhv_on a create big --memory 1G --fill random --dirty-rate 20000 --wws 16M >/dev/null ||
    fail "create"
xmig_on a migrate -l --json --downtime 1 big "127.0.0.1:$(port_of b)" >"$T/out.json" || fail "migrate exited $?"
jq -c '{result,iterations,downtime_ms,total_ms,bytes_sent,memory_bytes,stop_reason}' "$T/out.json"
[ "$(json_get "$T/out.json" result)" = success ] || fail "result not success"
[ "$(json_get "$T/out.json" iterations)" -ge 3 ] || fail "expected several rounds"
expect_verify_ok b big
