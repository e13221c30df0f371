#!/usr/bin/env bash
# ssl-peer-fingerprints pins peers: b pins only c's certificate, so a, with a
# valid certificate from the right CA, is refused ("not pinned") and vm1
# stays at a; c pins a's fingerprint (written with colons and lower-case
# without them) and the same migration to c succeeds.
tid=tls-fingerprint-pinning
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_tls.sh"
make_certs a b c
fa=$(fingerprint "$PKI/a.pem"); fc=$(fingerprint "$PKI/c.pem")
fb_plain=$(fingerprint "$PKI/b.pem" | tr -d : | tr 'A-F' 'a-f')
write_tls_conf a "$PKI/a.key" "$PKI/a.pem" "$PKI/ca.pem"
write_tls_conf b "$PKI/b.key" "$PKI/b.pem" "$PKI/ca.pem" "ssl-peer-fingerprints = $fc"
write_tls_conf c "$PKI/c.key" "$PKI/c.pem" "$PKI/ca.pem" \
    "ssl-peer-fingerprints = '$fb_plain $fa'"
start_xmigd a; start_xmigd b; start_xmigd c
simhv_on a create vm1 --memory 16M --dirty-rate 500 >/dev/null || fail "create"
expect_refused_migration a b \
    "TLS handshake with 127\.0\.0\.1:[0-9]+ failed: certificate CN=a \(SHA-256 $fa\) is valid but its fingerprint is not pinned in ssl-peer-fingerprints" -s
xmig_on a migrate -l -s vm1 "127.0.0.1:$(tls_port_of c)" || fail "pinned migration to c failed"
[ "$(dom_state a vm1)" = "" ] || fail "vm1 still on a"
expect_verify_ok c vm1
