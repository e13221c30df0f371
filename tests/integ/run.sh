#!/usr/bin/env bash
# Run every integration test (t_*.sh, or those named) and print a summary
# line "integration: N passed, N failed, N skipped".  Each test starts its
# own daemons on loopback.  A test that could not run (or not all of it)
# exits 77: it is listed as SKIP with its reason, not counted as passed,
# and under CI=true or XMIG_REQUIRE_ALL=1 a skip fails the run.
cd "$(dirname "$0")" || exit 2
export BUILD=${BUILD:-build}
pass=0; failed=0; skipped=0; names=(); skips=()
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(t_*.sh)
out=$(mktemp /tmp/xmig-integ.XXXXXX)
for t in "${tests[@]}"; do
	start=$(date +%s.%N)
	bash "$t" >"$out" 2>&1
	rc=$?
	if [ "$rc" = 0 ]; then
		pass=$((pass + 1))
		printf 'PASS %-32s %6.1fs\n' "$t" "$(echo "$(date +%s.%N) - $start" | bc)"
	elif [ "$rc" = 77 ]; then
		skipped=$((skipped + 1)); skips+=("$t")
		printf 'SKIP %-32s %s\n' "$t" "$(grep -m1 'SKIP' "$out")"
	else
		failed=$((failed + 1)); names+=("$t")
		printf 'FAIL %-32s (exit %d)\n' "$t" "$rc"
		sed 's/^/    /' "$out"
	fi
done
rm -f "$out"
echo "integration: $pass passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] || echo "failed: ${names[*]}"
[ "$skipped" -eq 0 ] || echo "skipped: ${skips[*]}"
if [ "$skipped" -gt 0 ] && { [ "${CI:-}" = true ] || [ "${XMIG_REQUIRE_ALL:-0}" = 1 ]; }; then
	echo "integration: FAIL: skips are failures under CI=true or XMIG_REQUIRE_ALL=1"
	exit 1
fi
[ "$failed" -eq 0 ]
