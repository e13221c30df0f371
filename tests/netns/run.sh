#!/usr/bin/env bash
# Run every network-namespace test (t_*.sh, or those named) and print a
# summary line "netns: N passed, N failed, N skipped" (tests/runner.sh).
# Each test makes its own hosts as network namespaces and removes them.
# Not root, or no `ip netns`: every test is listed as SKIP, with the
# reason, and none runs.
cd "$(dirname "$0")" || exit 2
export BUILD=${BUILD:-build}
. ./probe.sh
. ../runner.sh
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(t_*.sh)
why=$(netns_unavailable) || why=
run_suite netns "$why" "${tests[@]}"
