#!/usr/bin/env bash
# A domain migrated A -> B goes straight back B -> A (live both ways) and
# still verifies: a restored domain carries everything a later migration
# needs, and each host cleans up after the domain leaves.
tid=round-trip
. "$(dirname "$0")/lib.sh"
start_xmigd a; start_xmigd b
simhv_on a create vm1 --memory 64M --fill random --vcpus 2 --dirty-rate 5000 --wws 8M \
    >/dev/null || fail "create"
xmig_on a migrate -l vm1 "127.0.0.1:$(port_of b)" || fail "A -> B exited $?"
expect_verify_ok b vm1
xmig_on b migrate -l vm1 "127.0.0.1:$(port_of a)" || fail "B -> A exited $?"
expect_verify_ok a vm1
xmig_on a migrate vm1 "127.0.0.1:$(port_of b)" || fail "offline A -> B exited $?"
expect_verify_ok b vm1
[ "$(simhv_on a list --json | jq length)" = 0 ] || fail "leftover on a"
[ "$(simhv_on b list --json | jq -r '.[].name')" = vm1 ] || fail "b does not hold just vm1"
