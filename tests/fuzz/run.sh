#!/usr/bin/env bash
# Run each libFuzzer target (frame conf allow recv xencfg ctlmsg, or those
# named) for FUZZ_SECONDS seconds over its seed corpus and print its exec
# count, then a summary line "N passed, N failed".  A target fails when it
# finds a crash, a leak, a timeout or a broken contract (the input is kept
# in $FUZZ_BUILD/artifacts/), or does not run at all.
#
#   FUZZ_SECONDS=60 FUZZ_BUILD=build-fuzz tests/fuzz/run.sh [target...]
#
# New inputs found go to $FUZZ_BUILD/corpus/<target> (the committed seeds in
# tests/fuzz/corpus/<target> are only read), so later runs start from them.
set -u
cd "$(dirname "$0")/../.." || exit 2
FUZZ_BUILD=${FUZZ_BUILD:-build-fuzz}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(frame conf allow recv xencfg ctlmsg)

# Largest input each target may generate.
max_len_of() {
	case $1 in
	frame) echo 16384 ;;	# a few frames, one with a NORMAL page
	conf) echo 8192 ;;	# lines are cut at 4096 bytes
	recv) echo 4096 ;;	# a script: an op is a few bytes, its frames up to 4 MiB
	xencfg) echo 8192 ;;	# a blob or a libxl configuration of a few KiB
	ctlmsg) echo 8192 ;;	# a control message, a reply or a job record
	*) echo 2048 ;;
	esac
}

pass=0; failed=0
mkdir -p "$FUZZ_BUILD/artifacts"
for t in "${targets[@]}"; do
	bin=$FUZZ_BUILD/fuzz_$t
	log=$FUZZ_BUILD/fuzz_$t.log
	if [ ! -x "$bin" ]; then
		echo "FAIL fuzz_$t: $bin not built (make fuzz-build)"
		failed=$((failed + 1))
		continue
	fi
	mkdir -p "$FUZZ_BUILD/corpus/$t"
	rm -f "$FUZZ_BUILD/artifacts/$t-"*
	start=$(date +%s)
	"$bin" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
	    -max_len="$(max_len_of "$t")" -print_final_stats=1 \
	    -artifact_prefix="$FUZZ_BUILD/artifacts/$t-" \
	    "$FUZZ_BUILD/corpus/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
	corp=$(find "$FUZZ_BUILD/corpus/$t" -type f | wc -l)
	if [ "$rc" -eq 0 ] && [ -n "$execs" ] && [ "$execs" -gt 0 ]; then
		pass=$((pass + 1))
		printf 'PASS fuzz_%-6s %10s execs in %3ss (%s/s), coverage %s edges, corpus %s\n' \
		    "$t" "$execs" "$secs" "$((execs / (secs > 0 ? secs : 1)))" "${cov:-?}" "$corp"
	else
		failed=$((failed + 1))
		printf 'FAIL fuzz_%s (exit %s after %ss, %s execs)\n' "$t" "$rc" "$secs" "${execs:-no}"
		grep -E -A 30 'ERROR: |contract broken|runtime error|SUMMARY' "$log" | head -n 60 |
		    sed 's/^/    /'
		ls "$FUZZ_BUILD/artifacts/$t-"* 2>/dev/null | sed 's/^/    input: /'
	fi
done
echo "fuzz: $pass passed, $failed failed"
[ "$failed" -eq 0 ]
