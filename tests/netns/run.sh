#!/usr/bin/env bash
# Run every network-namespace test (t_*.sh, or those named) and print a
# summary line "N passed, N failed".  Each test makes its own hosts as
# network namespaces and removes them.  Not root, or no `ip netns`: says why
# and exits 0 without running anything.
cd "$(dirname "$0")" || exit 2
export BUILD=${BUILD:-build}
. ./probe.sh
if why=$(netns_unavailable); then
	echo "netns: skipped: $why"
	exit 0
fi
pass=0; failed=0; skipped=0
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(t_*.sh)
out=$(mktemp /tmp/xmig-netns.XXXXXX)
for t in "${tests[@]}"; do
	start=$(date +%s.%N)
	if bash "$t" >"$out" 2>&1; then
		if grep -q '^SKIP ' "$out"; then
			skipped=$((skipped + 1))
			printf 'SKIP %-32s %s\n' "$t" "$(grep -m1 '^SKIP ' "$out")"
		else
			pass=$((pass + 1))
			printf 'PASS %-32s %6.1fs\n' "$t" "$(echo "$(date +%s.%N) - $start" | bc)"
		fi
	else
		failed=$((failed + 1))
		printf 'FAIL %-32s\n' "$t"
		sed 's/^/    /' "$out"
	fi
done
rm -f "$out"
echo "netns: $pass passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
