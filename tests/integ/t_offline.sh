#!/usr/bin/env bash
# An offline migration moves a busy domain: it runs and verifies on the
# destination, and is gone from the source.
tid=offline
. "$(dirname "$0")/lib.sh"
start_xmigd a; start_xmigd b
simhv_on a create vm1 --memory 64M --vcpus 2 --dirty-rate 2000 --wws 8M >/dev/null || fail "create"
xmig_on a migrate --json vm1 "127.0.0.1:$(port_of b)" >"$T/out.json" || fail "migrate exited $?"
[ "$(json_get "$T/out.json" result)" = success ] || fail "result not success"
[ "$(json_get "$T/out.json" mode)" = offline ] || fail "mode not offline"
[ "$(dom_state a vm1)" = "" ] || fail "vm1 still on the source"
[ "$(dom_state b vm1)" = running ] || fail "vm1 not running on the destination"
expect_verify_ok b vm1
trace "downtime $(json_get "$T/out.json" downtime_ms) ms, total $(json_get "$T/out.json" total_ms) ms"
