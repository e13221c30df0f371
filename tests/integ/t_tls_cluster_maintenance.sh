#!/usr/bin/env bash
# cluster-ssl = yes: in a cluster that serves only TLS (relocation-server =
# no), `xmig maintenance enter` asks the peer for its facts and evacuates
# over mutual TLS; every domain lands on the peer and verifies.  A host
# with cluster-ssl but no TLS files is refused at start-up with one line.
tid=tls-cluster-maintenance
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_tls.sh"
make_certs a b
write_tls_conf a "$PKI/a.key" "$PKI/a.pem" "$PKI/ca.pem" "cluster-ssl = yes" \
    "cluster-peers = 127.0.0.1:$(tls_port_of b)"
write_tls_conf b "$PKI/b.key" "$PKI/b.pem" "$PKI/ca.pem" "cluster-ssl = yes" \
    "cluster-peers = 127.0.0.1:$(tls_port_of a)"
start_xmigd a; start_xmigd b
for i in 1 2; do
	simhv_on a create "vm$i" --memory 16M --fill random --dirty-rate 1000 >/dev/null ||
	    fail "create vm$i"
done
xmig_on a maintenance enter >"$T/out" 2>&1; rc=$?
cat "$T/out"
[ "$rc" = 0 ] || fail "maintenance enter exited $rc"
for i in 1 2; do
	[ "$(dom_state b "vm$i")" = running ] || fail "vm$i not running on b"
	[ "$(dom_state a "vm$i")" = "" ] || fail "vm$i left on a"
	expect_verify_ok b "vm$i"
done
[ "$(grep -c "TLS to 127.0.0.1:$(tls_port_of b): TLSv1.3" "$T/a.log")" -ge 3 ] ||
    fail "a did not use TLS for the host info and both migrations"

printf 'cluster-ssl = yes\n' >"$T/bad.conf"
"$BIN/xmigd" -n -c "$T/bad.conf" 2>"$T/err"; rc=$?
cat "$T/err"
[ "$rc" = 1 ] || fail "xmigd -n with cluster-ssl and no TLS files exited $rc"
grep -q "cluster-ssl = yes needs ssl-key-file, ssl-cert-file and ssl-ca-file" "$T/err" ||
    fail "no clear error for cluster-ssl without TLS files"
