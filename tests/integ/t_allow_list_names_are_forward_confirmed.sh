#!/usr/bin/env bash
# A host-name entry in relocation-hosts-allow admits a peer only when the
# peer address's reverse name matches AND that name resolves back to the
# address (forward-confirmed): a reverse record alone, which whoever owns
# the address's reverse zone can set, is not enough.  Each receiver runs in
# its own mount namespace with its own /etc/hosts (and "multi off", so a
# name has exactly one address).  Needs root (unshare -m, mount --bind).
tid=allow-names-forward-confirmed
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root"
# wrap HOSTS-FILE: a command prefix running xmigd with that /etc/hosts.
mkwrap() {
	local h=$1
	printf 'multi off\n' >"$T/$h.host.conf"
	cat >"$T/$h.wrap" <<EOW
#!/bin/sh
mount --bind "$T/$h.hosts" /etc/hosts && mount --bind "$T/$h.host.conf" /etc/host.conf &&
    exec "\$@"
EOW
	chmod +x "$T/$h.wrap"
	echo "unshare -m --propagation private $T/$h.wrap"
}
# b: 127.0.0.1 reverses to "trusty", and trusty is 127.0.0.1: admitted.
printf '127.0.0.1 trusty\n' >"$T/b.hosts"
write_conf b "relocation-hosts-allow = ^trusty\$"
XMIGD_WRAP=$(mkwrap b) start_xmigd b
# c: 127.0.0.1 reverses to "liar", but liar is 127.0.0.9: refused.
printf '127.0.0.9 liar\n127.0.0.1 liar\n' >"$T/c.hosts"
write_conf c "relocation-hosts-allow = ^liar\$"
XMIGD_WRAP=$(mkwrap c) start_xmigd c
start_xmigd a

simhv_on a create vm1 --memory 16M --dirty-rate 500 >/dev/null || fail "create"
xmig_on a migrate -l vm1 "127.0.0.1:$(port_of c)" 2>"$T/err"; rc=$?
trace "xmig: $(cat "$T/err")"
[ "$rc" = 1 ] || fail "migration to c (unconfirmed name) exited $rc, expected 1"
grep -q "refused relocation connection from 127.0.0.1:[0-9]* (its reverse name does not resolve back to it)" \
    "$T/c.log" || fail "c does not log the unconfirmed name"
[ "$(dom_state a vm1)" = running ] || fail "vm1 not running at the source"

xmig_on a migrate -l vm1 "127.0.0.1:$(port_of b)" || fail "migration to b (confirmed name)"
[ "$(dom_state b vm1)" = running ] || fail "vm1 not running on b"
expect_verify_ok b vm1
