#!/usr/bin/env bash
# Under TLS a migration's record is bound to the sender's address and its
# certificate: when DONE is lost, the sender's QUERY over TLS (same address,
# same certificate) learns "committed" and the migration succeeds; the
# record names the certificate's SHA-256.  A QUERY of the token from the
# same address over plaintext (no certificate) learns nothing.
tid=tls-query-bound-to-certificate
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_tls.sh"
make_certs a b
write_tls_conf a "$PKI/a.key" "$PKI/a.pem" "$PKI/ca.pem"
write_tls_conf b "$PKI/b.key" "$PKI/b.pem" "$PKI/ca.pem"
# b also listens in plaintext, for the foreign query below.
sed -i 's/^relocation-server = no$/relocation-server = yes/' "$T/b.conf"
start_xmigd a
export XMIG_FAULT=recv-no-done
start_xmigd b
unset XMIG_FAULT
simhv_on a create vm1 --memory 16M --fill random >/dev/null || fail "create"
xmig_on a migrate -l -s vm1 "127.0.0.1:$(tls_port_of b)" >"$T/out" 2>&1 ||
    { cat "$T/out"; fail "the migration did not succeed after the lost DONE"; }
grep -q "asking it for the outcome" "$T/a.log" || fail "a did not query"
grep -q "query from .*outcome 2 for vm1" "$T/b.log" || fail "b did not answer committed"
token=$(ls "$T/b/state/incoming")
fp=$(fingerprint "$PKI/a.pem" | tr -d : | tr 'A-F' 'a-f')
[ "${#fp}" = 64 ] || fail "no fingerprint of a's certificate: '$fp'"
read -r outcome _ _ _ peer <"$T/b/state/incoming/$token"
[ "$outcome" = committed ] || fail "the record says '$outcome'"
[ "$peer" = "127.0.0.1/$fp" ] || fail "the record's peer is '$peer', expected 127.0.0.1/$fp"
"$TESTPEER" 127.0.0.1 "$(port_of b)" hello query "$token" expect QUERY_REPLY >"$T/plain" 2>&1 ||
    { cat "$T/plain"; fail "no reply in plaintext"; }
grep -q "outcome 0 name ''" "$T/plain" || { cat "$T/plain"; fail "a query without the certificate learnt the outcome"; }
expect_verify_ok b vm1
trace "ok"
