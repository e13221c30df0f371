#!/usr/bin/env bash
# Two hosts with certificates from scripts/xmig-certs: a live migration with
# --ssl goes over mutual TLS 1.3 with AES-GCM to a host that has no plaintext
# listener at all, and the domain verifies on the destination.
tid=tls-live-migration
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_tls.sh"
make_certs a b
write_tls_conf a "$PKI/a.key" "$PKI/a.pem" "$PKI/ca.pem"
write_tls_conf b "$PKI/b.key" "$PKI/b.pem" "$PKI/ca.pem"
start_xmigd a; start_xmigd b
xmig_on b status | grep -q "TLS relocation:   port $(tls_port_of b)" || fail "status does not show TLS"
simhv_on a create vm1 --memory 64M --vcpus 2 --dirty-rate 20000 --wws 8M >/dev/null ||
    fail "create"
sleep 0.3
# No plaintext listener on b: a plaintext migration cannot even connect.
xmig_on a migrate -l vm1 "127.0.0.1:$(port_of b)" 2>"$T/err" && fail "plaintext migration worked"
grep -q "cannot connect" "$T/err" || fail "plaintext: unexpected error: $(cat "$T/err")"
xmig_on a migrate -l -s --json vm1 "127.0.0.1:$(tls_port_of b)" >"$T/out.json" ||
    fail "migrate --ssl exited $?"
jq -c '{result,iterations,downtime_ms,total_ms,bytes_sent}' "$T/out.json"
[ "$(json_get "$T/out.json" result)" = success ] || fail "result not success"
grep -E "TLS from 127.0.0.1:[0-9]+: TLSv1.3 TLS_AES_(256|128)_GCM_SHA(384|256), peer CN=a" \
    "$T/b.log" || fail "b did not log a TLS 1.3 AES-GCM session with a"
grep -E "TLS to 127.0.0.1:$(tls_port_of b): TLSv1.3 .*peer CN=b" "$T/a.log" ||
    fail "a did not log a TLS session with b"
[ "$(dom_state a vm1)" = "" ] || fail "vm1 still on the source"
expect_verify_ok b vm1
