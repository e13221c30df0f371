#!/usr/bin/env bash
# A sender whose certificate chains to another CA (though it trusts ours) is
# refused by the receiver's chain check, which logs why; the domain runs on
# at the source and verifies.
tid=tls-refuses-wrong-ca
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_tls.sh"
make_certs b
make_foreign_cert a
write_tls_conf a "$PKI/a-foreign.key" "$PKI/a-foreign.pem" "$PKI/ca.pem"
write_tls_conf b "$PKI/b.key" "$PKI/b.pem" "$PKI/ca.pem"
start_xmigd a; start_xmigd b
grep -q "does not verify against ssl-ca-file" "$T/a.log" || fail "a did not warn about its cert"
simhv_on a create vm1 --memory 16M --dirty-rate 500 >/dev/null || fail "create"
expect_refused_migration a b \
    "TLS handshake with 127\.0\.0\.1:[0-9]+ failed: certificate verify failed \(unable to get local issuer certificate\)" -s
# The sender is told the receiver refused its certificate (the TLS alert),
# for this domain, and that the domain stays.
grep -qE "migration of vm1 to 127\.0\.0\.1:$(tls_port_of b) failed: no hello from 127\.0\.0\.1:$(tls_port_of b): peer refused our certificate \(tlsv1 alert unknown ca\); vm1 is still running on this host" "$T/err" ||
    fail "xmig does not give the reason (peer refused our certificate, unknown ca)"
