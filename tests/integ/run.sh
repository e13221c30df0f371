#!/usr/bin/env bash
# Run every integration test (t_*.sh, or those named) and print a summary
# line "N passed, N failed".  Each test starts its own daemons on loopback.
cd "$(dirname "$0")" || exit 2
export BUILD=${BUILD:-build}
pass=0; failed=0; names=()
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(t_*.sh)
for t in "${tests[@]}"; do
	start=$(date +%s.%N)
	if bash "$t" >"/tmp/xmig-integ-$$.out" 2>&1; then
		pass=$((pass + 1))
		printf 'PASS %-32s %6.1fs\n' "$t" "$(echo "$(date +%s.%N) - $start" | bc)"
	else
		failed=$((failed + 1)); names+=("$t")
		printf 'FAIL %-32s\n' "$t"
		sed 's/^/    /' "/tmp/xmig-integ-$$.out"
	fi
done
rm -f "/tmp/xmig-integ-$$.out"
echo "integration: $pass passed, $failed failed"
[ "$failed" -eq 0 ]
