#!/usr/bin/env bash
# TLS configuration mistakes stop xmigd at start-up with one line naming the
# key (and xmigd -n says the same); "xmig migrate --ssl" on a host without
# TLS set up is refused with a clear message and exit 1.
tid=tls-config-errors
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_tls.sh"
make_certs a b
# expect_conf_error REGEX: xmigd -n on $T/x.conf fails with one matching line.
expect_conf_error() {
	local out rc
	out=$("$BIN/xmigd" -n -c "$T/x.conf" 2>&1); rc=$?
	trace "$out"
	[ "$rc" = 1 ] || fail "xmigd -n exited $rc"
	[ "$(printf '%s\n' "$out" | wc -l)" = 1 ] || fail "not one line: $out"
	printf '%s\n' "$out" | grep -qE -- "$1" || fail "expected /$1/, got: $out"
}
write_conf x "relocation-ssl-server = yes" "ssl-cert-file = $PKI/a.pem" "ssl-ca-file = $PKI/ca.pem"
expect_conf_error "^xmigd: $T/x.conf: ssl-key-file is required when relocation-ssl-server = yes$"
write_conf x "ssl-key-file = $PKI/a.key" "ssl-cert-file = $PKI/nope.pem" "ssl-ca-file = $PKI/ca.pem"
expect_conf_error "^xmigd: $T/x.conf: ssl-cert-file: cannot read $PKI/nope.pem: No such file or directory$"
write_conf x "ssl-key-file = $PKI/b.key" "ssl-cert-file = $PKI/a.pem" "ssl-ca-file = $PKI/ca.pem"
expect_conf_error "ssl-key-file $PKI/b.key is not the key of ssl-cert-file $PKI/a.pem$"
write_conf x "ssl-key-file = $PKI/a.key" "ssl-cert-file = $PKI/a.key" "ssl-ca-file = $PKI/ca.pem"
expect_conf_error "ssl-cert-file $PKI/a.key: cannot load the certificate: "
write_conf x "ssl-key-file = $PKI/a.key" "ssl-cert-file = $PKI/a.pem" "ssl-ca-file = $PKI/a.key"
expect_conf_error "ssl-ca-file $PKI/a.key: "
write_conf x "ssl-peer-fingerprints = AB:CD" "ssl-min-version = 1.2"
expect_conf_error "x.conf:[0-9]+: ssl-peer-fingerprints: \"AB:CD\" is not a SHA-256 fingerprint"
write_conf x "ssl-min-version = 1.1"
expect_conf_error "x.conf:[0-9]+: ssl-min-version: \"1.1\" is not 1.2 or 1.3$"
write_conf x "relocation-ssl-server = yes" "relocation-ssl-port = $(port_of x)" \
    "ssl-key-file = $PKI/a.key" "ssl-cert-file = $PKI/a.pem" "ssl-ca-file = $PKI/ca.pem"
expect_conf_error "relocation-ssl-port: $(port_of x) is also relocation-port$"
write_conf x "ssl-key-file = $PKI/a.key" "ssl-cert-file = $PKI/a.pem" "ssl-ca-file = $PKI/ca.pem"
"$BIN/xmigd" -n -c "$T/x.conf" | grep -q "^configuration OK$" || fail "good TLS config refused"
# A daemon without TLS: --ssl is refused before anything is sent.
start_xmigd a
simhv_on a create vm1 --memory 16M >/dev/null || fail "create"
xmig_on a migrate -s vm1 127.0.0.1 2>"$T/err"; rc=$?
trace "$(cat "$T/err")"
[ "$rc" = 1 ] || fail "migrate --ssl exited $rc, expected 1"
grep -q "cannot migrate vm1 to 127.0.0.1: --ssl needs TLS set up on this host" "$T/err" ||
    fail "unclear error"
[ "$(dom_state a vm1)" = running ] || fail "vm1 not running"
