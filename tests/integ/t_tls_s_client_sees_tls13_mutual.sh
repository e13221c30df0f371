#!/usr/bin/env bash
# The real openssl s_client against the TLS listener: TLS 1.3 is negotiated
# with an AES-GCM suite, the server asks for a client certificate (naming
# our CA) and accepts the one from xmig-certs; TLS 1.2 is refused by the
# default ssl-min-version = 1.3.
tid=tls-s-client
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_tls.sh"
make_certs a b
write_tls_conf b "$PKI/b.key" "$PKI/b.pem" "$PKI/ca.pem"
start_xmigd b
port=$(tls_port_of b)
timeout 10 openssl s_client -connect "127.0.0.1:$port" -CAfile "$PKI/ca.pem" \
    -verify_return_error -verify_ip 127.0.0.1 -cert "$PKI/a.pem" -key "$PKI/a.key" -msg \
    </dev/null >"$T/s_client.out" 2>&1 || fail "s_client failed: $(tail -n 5 "$T/s_client.out")"
grep -E "^(New|Protocol|Cipher|Verif)" "$T/s_client.out" | sort -u
grep -q "New, TLSv1.3, Cipher is TLS_AES_.*_GCM_SHA" "$T/s_client.out" || fail "not TLS 1.3 AES-GCM"
grep -q "CertificateRequest" "$T/s_client.out" || fail "no CertificateRequest"
grep -q "Acceptable client certificate CA names" "$T/s_client.out" || fail "no CA names"
grep -q "Verification: OK" "$T/s_client.out" || fail "server certificate not verified"
wait_log b "TLS from 127\.0\.0\.1:[0-9]+: TLSv1.3 TLS_AES_.*peer CN=a" || fail "b did not log it"
timeout 10 openssl s_client -connect "127.0.0.1:$port" -CAfile "$PKI/ca.pem" -tls1_2 \
    -cert "$PKI/a.pem" -key "$PKI/a.key" </dev/null >"$T/s12.out" 2>&1 &&
    fail "TLS 1.2 was accepted"
wait_log b "failed: unsupported protocol" || fail "TLS 1.2 refusal not logged"
