#!/usr/bin/env bash
# --compress zstd and lz4 send page data as ZPAGES frames (the sim's page
# contents shrink only a little, but they do shrink), and the domain
# verifies after each; auto on loopback (faster than any compressor) still
# migrates correctly.
tid=compress
. "$(dirname "$0")/lib.sh"
start_xmigd a; start_xmigd b
simhv_on a create vm1 --memory 64M --fill random --dirty-rate 5000 --wws 8M >/dev/null ||
    fail "create"
xmig_on a migrate -l --json --compress zstd vm1 "127.0.0.1:$(port_of b)" >"$T/z.json" ||
    fail "zstd migrate exited $?"
[ "$(json_get "$T/z.json" compressed_bytes)" -gt 0 ] || fail "zstd sent nothing compressed"
[ "$(json_get "$T/z.json" compressed_wire_bytes)" -lt "$(json_get "$T/z.json" compressed_bytes)" ] ||
    fail "zstd output not smaller"
expect_verify_ok b vm1
xmig_on b migrate -l --json --compress lz4 vm1 "127.0.0.1:$(port_of a)" >"$T/l.json" ||
    fail "lz4 migrate exited $?"
[ "$(json_get "$T/l.json" compressed_bytes)" -gt 0 ] || fail "lz4 sent nothing compressed"
expect_verify_ok a vm1
xmig_on a migrate -l --json --compress auto vm1 "127.0.0.1:$(port_of b)" >"$T/a.json" ||
    fail "auto migrate exited $?"
expect_verify_ok b vm1
trace "zstd: $(jq -c '{compressed_bytes,compressed_wire_bytes}' "$T/z.json")"
trace "auto: $(jq -c '{compressed_bytes,compressed_wire_bytes,bytes_sent}' "$T/a.json")"
