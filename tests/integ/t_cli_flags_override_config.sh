#!/usr/bin/env bash
# What xmig migrate is told wins over xmigd.conf both ways: with
# migration-bandwidth-mbit = 40 and migration-auto-converge = yes on the
# source, a migration given no flag is capped and throttled (the
# configuration is in force), `-r 0` streams uncapped, and
# --no-auto-converge leaves a guest that outruns the link unthrottled.
tid=cli-flags-override-config
. "$(dirname "$0")/lib.sh"
write_conf a "migration-bandwidth-mbit = 40" "migration-auto-converge = yes"
start_xmigd a; start_xmigd b
rate() { jq '.bytes_sent * 8 / ([.stream_ms, 1] | max) / 1000 | floor' "$1"; }

# 4 MiB of random pages: 0.8 s at 40 Mbit/s, some ms uncapped.
simhv_on a create vm1 --memory 4M --fill random >/dev/null || fail "create vm1"
xmig_on a migrate --json vm1 "127.0.0.1:$(port_of b)" >"$T/cap.json" || fail "migrate (config's cap)"
r=$(rate "$T/cap.json"); trace "no -r: $r Mbit/s"
[ "$r" -le 44 ] || fail "the configuration's 40 Mbit/s cap was not in force: $r Mbit/s"
xmig_on b migrate --json vm1 "127.0.0.1:$(port_of a)" >/dev/null || fail "migrate back"
xmig_on a migrate --json -r 0 vm1 "127.0.0.1:$(port_of b)" >"$T/nocap.json" || fail "migrate -r 0"
r=$(rate "$T/nocap.json"); trace "-r 0: $r Mbit/s"
[ "$r" -ge 200 ] || fail "-r 0 still capped: $r Mbit/s"
expect_verify_ok b vm1

# A guest dirtying its working set faster than 400 Mbit/s carries it
# (t_auto_converge's): throttled by the configuration, not with the flag.
simhv_on a create vm2 --memory 64M --vcpus 2 --dirty-rate 30000 --wws 24M >/dev/null ||
    fail "create vm2"
sleep 0.5	# its writers running
xmig_on a migrate -l --json -r 400 vm2 "127.0.0.1:$(port_of b)" >"$T/ac.json" ||
    fail "migrate (config's auto-converge)"
jq -c '{throttle_pct, downtime_target_ms, stop_reason}' "$T/ac.json"
[ "$(json_get "$T/ac.json" throttle_pct)" -ge 20 ] || fail "the configuration's auto-converge was not in force"
xmig_on b migrate -l --json vm2 "127.0.0.1:$(port_of a)" >/dev/null || fail "migrate vm2 back"
sleep 0.5
xmig_on a migrate -l --json -r 400 --no-auto-converge vm2 "127.0.0.1:$(port_of b)" >"$T/noac.json" ||
    fail "migrate --no-auto-converge"
jq -c '{throttle_pct, downtime_target_ms, stop_reason}' "$T/noac.json"
[ "$(json_get "$T/noac.json" throttle_pct)" = 0 ] || fail "throttled despite --no-auto-converge"
expect_verify_ok b vm2
xmig_on a migrate --auto-converge --no-auto-converge vm2 127.0.0.1 2>"$T/err"
[ $? = 2 ] && grep -q "contradict" "$T/err" || fail "contradicting flags not refused with exit 2: $(cat "$T/err")"
trace "ok"
