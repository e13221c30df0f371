#!/usr/bin/env bash
# The receiver commits but the DONE frame never arrives (connection closed
# after GO).  The sender cannot know whether GO was read, so it asks the
# receiver (QUERY), learns "committed" and destroys its copy: exactly one
# running copy, on the destination.
tid=lost-done
. "$(dirname "$0")/lib.sh"
start_xmigd a
XMIG_FAULT=recv-no-done start_xmigd b
simhv_on a create vm1 --memory 32M --fill random --dirty-rate 2000 --wws 4M >/dev/null ||
    fail "create"
xmig_on a migrate -l --json vm1 "127.0.0.1:$(port_of b)" >"$T/out.json" || fail "migrate exited $?"
[ "$(json_get "$T/out.json" result)" = success ] || fail "result not success"
grep -q "asking it for the outcome" "$T/a.log" || fail "sender did not query"
grep -q "query from .*outcome 2" "$T/b.log" || fail "receiver did not answer committed"
[ "$(simhv_on a list --json | jq length)" = 0 ] || fail "source copy left"
expect_verify_ok b vm1
