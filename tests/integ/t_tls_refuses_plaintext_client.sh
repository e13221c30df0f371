#!/usr/bin/env bash
# An xmig sender without --ssl on the TLS port is refused: the receiver logs
# "plaintext client on the TLS port" and answers in plaintext, so the sender
# says to use --ssl; a non-xmig plaintext client is refused too.  The domain
# stays at the source and verifies.
tid=tls-refuses-plaintext-client
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_tls.sh"
make_certs a b
write_tls_conf a "$PKI/a.key" "$PKI/a.pem" "$PKI/ca.pem"
write_tls_conf b "$PKI/b.key" "$PKI/b.pem" "$PKI/ca.pem"
start_xmigd a; start_xmigd b
simhv_on a create vm1 --memory 16M --dirty-rate 500 >/dev/null || fail "create"
expect_refused_migration a b \
    "TLS handshake with 127\.0\.0\.1:[0-9]+ failed: plaintext client on the TLS port \(an xmig sender without --ssl\)"
grep -q "migrate with xmig migrate --ssl" "$T/err" || fail "the sender was not told to use --ssl"
# Something else in plaintext (an HTTP probe).
printf 'GET / HTTP/1.0\r\n\r\n' | timeout 5 bash -c "cat >/dev/tcp/127.0.0.1/$(tls_port_of b)" ||
    fail "cannot connect to the TLS port"
wait_log b "failed: plaintext client on the TLS port$" || fail "HTTP probe not refused"
