#!/usr/bin/env bash
# A sender with a self-signed certificate is refused with a clear log line
# on the receiver; the domain stays at the source and verifies.
tid=tls-refuses-self-signed
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_tls.sh"
make_certs b
make_self_signed_cert a
write_tls_conf a "$PKI/a-self.key" "$PKI/a-self.pem" "$PKI/ca.pem"
write_tls_conf b "$PKI/b.key" "$PKI/b.pem" "$PKI/ca.pem"
start_xmigd a; start_xmigd b
simhv_on a create vm1 --memory 16M --dirty-rate 500 >/dev/null || fail "create"
expect_refused_migration a b \
    "TLS handshake with 127\.0\.0\.1:[0-9]+ failed: certificate verify failed \(self.signed certificate\)" -s
