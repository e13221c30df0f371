#!/usr/bin/env bash
# A sender whose certificate is from the right CA but expired is refused,
# the receiver logs "certificate has expired", the domain stays and verifies.
tid=tls-refuses-expired-cert
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_tls.sh"
make_certs b
make_expired_cert a
write_tls_conf a "$PKI/a-expired.key" "$PKI/a-expired.pem" "$PKI/ca.pem"
write_tls_conf b "$PKI/b.key" "$PKI/b.pem" "$PKI/ca.pem"
start_xmigd a; start_xmigd b
simhv_on a create vm1 --memory 16M --dirty-rate 500 >/dev/null || fail "create"
expect_refused_migration a b \
    "TLS handshake with 127\.0\.0\.1:[0-9]+ failed: certificate verify failed \(certificate has expired\)" -s
