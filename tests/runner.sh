# runner.sh - the loop both test suites' run.sh share (sourced from the
# suite's own directory): run each t_*.sh, print PASS/SKIP/FAIL per test
# and the closing line "LABEL: N passed, N failed, N skipped".  A test
# that could not run (or not all of it) exits 77: it is listed as SKIP
# with its reason, never counted as passed, and under CI=true or
# XMIG_REQUIRE_ALL=1 a skip fails the run.
#
# run_suite LABEL WHY TEST...: WHY non-empty lists every test as SKIP with
# that reason and runs none.  Returns the suite's exit status.
run_suite() {
	local label=$1 why=$2 t rc start out
	local pass=0 failed=0 skipped=0 names=() skips=()
	shift 2
	out=$(mktemp "/tmp/xmig-$label.XXXXXX")
	for t in "$@"; do
		if [ -n "$why" ]; then
			skipped=$((skipped + 1)); skips+=("$t")
			printf 'SKIP %-32s %s\n' "$t" "$why"
			continue
		fi
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
	echo "$label: $pass passed, $failed failed, $skipped skipped"
	[ "$failed" -eq 0 ] || echo "failed: ${names[*]}"
	[ "$skipped" -eq 0 ] || echo "skipped: ${skips[*]}"
	if [ "$skipped" -gt 0 ] && { [ "${CI:-}" = true ] || [ "${XMIG_REQUIRE_ALL:-0}" = 1 ]; }; then
		echo "$label: FAIL: skips are failures under CI=true or XMIG_REQUIRE_ALL=1"
		return 1
	fi
	[ "$failed" -eq 0 ]
}
