#!/usr/bin/env bash
# The sender checks the receiver too: a receiver whose certificate is from
# another CA, or does not name the address the sender dialled, is refused
# by the sender with the reason; vm1 stays at the source and verifies.
tid=tls-sender-verifies-receiver
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_tls.sh"
make_certs a
make_foreign_cert b
"$CERTS" host "$PKI" c 10.9.9.9 >/dev/null || fail "cert for c"	# not 127.0.0.1
write_tls_conf a "$PKI/a.key" "$PKI/a.pem" "$PKI/ca.pem"
write_tls_conf b "$PKI/b-foreign.key" "$PKI/b-foreign.pem" "$T/other/ca.pem"
write_tls_conf c "$PKI/c.key" "$PKI/c.pem" "$PKI/ca.pem"
start_xmigd a; start_xmigd b; start_xmigd c
simhv_on a create vm1 --memory 16M --dirty-rate 500 >/dev/null || fail "create"
expect_refused_migration a b "TLS handshake with 127\.0\.0\.1:[0-9]+ failed: peer refused our certificate \(tlsv1 alert unknown ca\)" -s
grep -qE "TLS handshake with 127.0.0.1:$(tls_port_of b) failed: certificate verify failed \((self.signed certificate in certificate chain|unable to get local issuer certificate)\)" "$T/err" ||
    fail "the sender did not say why"
expect_refused_migration a c "TLS handshake with 127\.0\.0\.1:[0-9]+ failed: peer refused our certificate" -s
grep -q "certificate verify failed (IP address mismatch)" "$T/err" || fail "no IP mismatch error"
