#!/usr/bin/env bash
# The job's JSON accounts for the memory stream exactly: one record per
# round (numbered from 0, the last being the stop-and-copy round) whose
# pages add up to pages_sent; final_pages is that last round's pages and
# final_bytes at least their data; precopy_ms <= stream_ms and setup +
# stream fit in the total.  The history record carries the same figures;
# the incoming job has none of them.  A busy domain on a capped link, so
# that pages are dirty when the source is suspended.
tid=job-round-records
. "$(dirname "$0")/lib.sh"
start_xmigd a; start_xmigd b
simhv_on a create vm1 --memory 128M --fill random --vcpus 1 --dirty-rate 5000 --wws 16M \
    >/dev/null || fail "create"
xmig_on a migrate -l --json -r 400 --downtime 30 vm1 "127.0.0.1:$(port_of b)" >"$T/out.json" ||
    fail "migrate exited $?"
jq -c '{result,iterations,pages_sent,final_pages,final_bytes,setup_ms,precopy_ms,stream_ms,
    total_ms,rounds}' "$T/out.json"
[ "$(json_get "$T/out.json" result)" = success ] || fail "result not success"

check() { jq -e "$1" "$T/out.json" >/dev/null || fail "$2"; }
check '.rounds | length >= 2' "a live migration has round 0 and a final round"
check '(.rounds | length) == .iterations' "one record per round"
check '[.rounds[].round] == [range(0; .rounds | length)]' "rounds numbered from 0 in order"
check '([.rounds[].pages] | add) == .pages_sent' "the rounds' pages add up to pages_sent"
check '([.rounds[].bytes] | add) <= .bytes_sent' "the rounds' bytes exceed bytes_sent"
check '.rounds[-1].dirty == 0' "the final round leaves something dirty"
check '.final_pages > 0' "no page sent after the suspension of a busy domain"
check '.final_pages == .rounds[-1].pages' "final_pages is not the final round's pages"
check '.final_bytes >= .final_pages * 4096' "final_bytes smaller than the final pages' data"
check '.final_bytes < .bytes_sent' "final_bytes is not a part of the stream"
check '.precopy_ms > 0 and .precopy_ms <= .stream_ms' "precopy_ms not within stream_ms"
check '.setup_ms + .stream_ms <= .total_ms' "setup and stream longer than the whole job"
# round 0 carries every page at 400 Mbit/s (50,000,000 bytes/s), so its
# ms is at least 0.95 x bytes / 50,000 (the cap allows no faster) and at
# most bytes / 50,000 / 0.90 (it runs at the cap; t_rate_cap.sh holds the
# rate itself to 0.95-1.10 x).
check '.rounds[0].ms >= .rounds[0].bytes / 50000 * 0.95' \
    "round 0 took less time than the cap allows"
check '.rounds[0].ms <= .rounds[0].bytes / 50000 / 0.90' \
    "round 0 ran well below the cap"

id=$(json_get "$T/out.json" id)
xmig_on a history --json >"$T/hist.json" || fail "history exited $?"
jq -e --argjson id "$id" --slurpfile o "$T/out.json" '
    map(select(.id == $id)) | length == 1 and
    (.[0] | {rounds, final_pages, final_bytes, precopy_ms, stream_ms}) ==
    ($o[0] | {rounds, final_pages, final_bytes, precopy_ms, stream_ms})' "$T/hist.json" \
    >/dev/null || fail "the history record differs from the job's JSON"
xmig_on b jobs --json >"$T/in.json" || fail "jobs on b exited $?"
jq -e 'map(select(.direction == "in")) | length == 1 and
    (.[0] | .rounds == [] and .final_pages == 0 and .stream_ms == 0)' "$T/in.json" \
    >/dev/null || fail "the incoming job has sender figures: $(cat "$T/in.json")"
expect_verify_ok b vm1
