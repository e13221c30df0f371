#!/usr/bin/env bash
# Run every integration test (t_*.sh, or those named) and print a summary
# line "integration: N passed, N failed, N skipped" (tests/runner.sh).
# Each test starts its own daemons on loopback.
cd "$(dirname "$0")" || exit 2
export BUILD=${BUILD:-build}
. ../runner.sh
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(t_*.sh)
run_suite integration "" "${tests[@]}"
