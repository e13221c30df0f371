# lib_tls.sh - TLS helpers for integration tests; source it after lib.sh.
#
# Certificates come from scripts/xmig-certs (a CA in $T/pki and one
# key/cert pair per host, naming 127.0.0.1 and localhost); the bad ones are
# made with the openssl command.

CERTS=$ROOTDIR/scripts/xmig-certs
PKI=$T/pki

# tls_port_of NAME: the TLS relocation port of host NAME (port_of + 5).
tls_port_of() { echo $(($(port_of "$1") + 5)); }

# make_certs HOST...: the cluster CA and a certificate for each HOST.
make_certs() {
	local h
	[ -f "$PKI/ca.pem" ] || "$CERTS" init "$PKI" >/dev/null || fail "xmig-certs init"
	for h in "$@"; do
		"$CERTS" host "$PKI" "$h" 127.0.0.1 localhost >/dev/null || fail "xmig-certs host $h"
	done
}

# write_tls_conf NAME KEY CERT CA [extra lines...]: host NAME serving only
# TLS (relocation-server = no: no plaintext listener at all).
write_tls_conf() {
	local h=$1 key=$2 cert=$3 ca=$4
	shift 4
	write_conf "$h" "relocation-ssl-server = yes" "relocation-ssl-port = $(tls_port_of "$h")" \
	    "ssl-key-file = $key" "ssl-cert-file = $cert" "ssl-ca-file = $ca" "$@"
	sed -i 's/^relocation-server = yes$/relocation-server = no/' "$T/$h.conf"
}

# fingerprint CERT: its SHA-256 fingerprint, as ssl-peer-fingerprints takes it.
fingerprint() { "$CERTS" fingerprint "$1"; }

# wait_log NAME REGEX: wait (up to 5 s) for a line in host NAME's log.
wait_log() {
	local h=$1 re=$2
	for _ in $(seq 100); do
		grep -qE -- "$re" "$T/$h.log" && return 0
		sleep 0.05
	done
	return 1
}

# expect_refused_migration SRC DST LOGREGEX [xmig migrate options...]: a live
# migration of vm1 from SRC to DST's TLS port fails (exit 1), DST logs one
# line matching LOGREGEX, and vm1 still runs at SRC and verifies.
expect_refused_migration() {
	local src=$1 dst=$2 re=$3 rc
	shift 3
	xmig_on "$src" migrate -l "$@" vm1 "127.0.0.1:$(tls_port_of "$dst")" 2>"$T/err"
	rc=$?
	trace "xmig: $(cat "$T/err")"
	[ "$rc" = 1 ] || fail "xmig migrate exited $rc, expected 1"
	wait_log "$dst" "$re" || fail "no log line /$re/ on $dst"
	trace "$dst: $(grep -E -- "$re" "$T/$dst.log" | tail -n 1)"
	[ "$(grep -cE -- "$re" "$T/$dst.log")" -ge 1 ] || fail "refusal not logged"
	[ "$(dom_state "$src" vm1)" = running ] || fail "vm1 not running at $src"
	[ "$(dom_state "$dst" vm1)" = "" ] || fail "vm1 left on $dst"
	expect_verify_ok "$src" vm1
}

# Bad certificates for host NAME, each as $PKI/NAME-KIND.{key,pem}.
# foreign: a valid chain, but to another CA ($T/other).
make_foreign_cert() {
	"$CERTS" init "$T/other" >/dev/null || fail "xmig-certs init other"
	"$CERTS" host "$T/other" "$1" 127.0.0.1 localhost >/dev/null || fail "foreign cert"
	cp "$T/other/$1.key" "$PKI/$1-foreign.key"
	cp "$T/other/$1.pem" "$PKI/$1-foreign.pem"
}

# self: self-signed, with the right names.
make_self_signed_cert() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
	    -keyout "$PKI/$1-self.key" -out "$PKI/$1-self.pem" -subj "/CN=$1" \
	    -addext "subjectAltName=DNS:$1,IP:127.0.0.1" \
	    -addext "extendedKeyUsage=serverAuth,clientAuth" 2>/dev/null || fail "self-signed cert"
}

# expired: signed by the cluster CA, valid only in January 2020 (openssl ca
# takes explicit dates; no clock tricks needed).
make_expired_cert() {
	local h=$1 db=$T/ca-db
	mkdir -p "$db"
	: >"$db/index.txt"
	echo 1000 >"$db/serial"
	cat >"$db/ca.cnf" <<EOC
[ ca ]
default_ca = xca
[ xca ]
database = $db/index.txt
new_certs_dir = $db
serial = $db/serial
default_md = sha256
policy = pol
x509_extensions = ext
[ pol ]
commonName = supplied
[ ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth,clientAuth
subjectAltName = DNS:$h,IP:127.0.0.1
EOC
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$PKI/$h-expired.key" -out "$db/$h.csr" -subj "/CN=$h" 2>/dev/null ||
	    fail "expired cert: request"
	openssl ca -batch -notext -config "$db/ca.cnf" -cert "$PKI/ca.pem" -keyfile "$PKI/ca.key" \
	    -in "$db/$h.csr" -out "$PKI/$h-expired.pem" -startdate 20200101000000Z \
	    -enddate 20200201000000Z 2>/dev/null || fail "expired cert: signing"
}
