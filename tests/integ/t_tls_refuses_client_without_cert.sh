#!/usr/bin/env bash
# A TLS client that presents no certificate (openssl s_client without -cert)
# is refused: the receiver logs "peer presented no certificate" and the
# client sees the TLS 1.3 "certificate required" alert.
tid=tls-refuses-client-without-cert
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_tls.sh"
make_certs b
write_tls_conf b "$PKI/b.key" "$PKI/b.pem" "$PKI/ca.pem"
start_xmigd b
# -ign_eof keeps s_client reading, so it gets the alert after its handshake.
timeout 10 openssl s_client -connect "127.0.0.1:$(tls_port_of b)" -CAfile "$PKI/ca.pem" \
    -verify_return_error -ign_eof </dev/null >"$T/s_client.out" 2>&1
trace "s_client: $(grep -m1 -E "alert|error" "$T/s_client.out")"
grep -q "alert certificate required" "$T/s_client.out" || fail "s_client saw no alert"
wait_log b "TLS handshake with 127\.0\.0\.1:[0-9]+ failed: peer presented no certificate" ||
    fail "no refusal in b's log"
