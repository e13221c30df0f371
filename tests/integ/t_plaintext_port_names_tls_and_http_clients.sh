#!/usr/bin/env bash
# On the plaintext relocation port, a sender using --ssl is logged as "a TLS
# client on the plaintext port" and an HTTP probe as "an HTTP client" (not
# as a bare "bad frame magic"); the domain stays at the source and verifies.
tid=plaintext-port-names-clients
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_tls.sh"
make_certs a
write_conf a "ssl-key-file = $PKI/a.key" "ssl-cert-file = $PKI/a.pem" "ssl-ca-file = $PKI/ca.pem"
start_xmigd a; start_xmigd b
simhv_on a create vm1 --memory 16M --dirty-rate 500 >/dev/null || fail "create"
xmig_on a migrate -l --ssl vm1 "127.0.0.1:$(port_of b)" 2>"$T/err"; rc=$?
trace "xmig: $(cat "$T/err")"
[ "$rc" = 1 ] || fail "xmig migrate --ssl to a plaintext port exited $rc, expected 1"
wait_log b "dropped: .*a TLS client on the plaintext port \(xmig migrate --ssl goes to relocation-ssl-port\)$" ||
    fail "b does not say a TLS client came to its plaintext port"
[ "$(dom_state a vm1)" = running ] || fail "vm1 not running at the source"
[ "$(dom_state b vm1)" = "" ] || fail "vm1 left on b"
expect_verify_ok a vm1
printf 'GET / HTTP/1.0\r\n\r\n' | timeout 5 bash -c "cat >/dev/tcp/127.0.0.1/$(port_of b)" ||
    fail "cannot connect to the plaintext port"
wait_log b "dropped: .*an HTTP client, not an xmig peer$" || fail "HTTP probe not named"
