#!/usr/bin/env bash
# scripts/xmig-firewall, for real, in host B's namespace.  B's xmigd allows
# every host (empty relocation-hosts-allow), so whatever keeps host C out is
# the firewall: with the rules for "A only" installed, A migrates a domain to
# B, C's migration times out at connect, the DROP rule's packet counter goes
# up and B's xmigd never hears of C.  Re-running leaves one jump rule;
# --dry-run changes nothing; --remove lets C in again.  First with iptables
# (chain XMIG, and ip6tables), then with --nft (table inet xmig).
tid=firewall
. "$(dirname "$0")/lib.sh"
FW=${XMIG_FIREWALL:-$ROOTDIR/scripts/xmig-firewall}
for c in iptables ip6tables iptables-restore nft; do
	command -v $c >/dev/null || netns_skip "$c not installed (scripts/install-deps.sh)"
done
netns_hosts a b c
write_conf b 'relocation-hosts-allow = ""'
start_xmigd a; start_xmigd b; start_xmigd c
B=$(ip_of b)

fw_b() { in_ns b "$FW" -c "$T/b.conf" --allow "$(ip_of a)" "$@"; }
# Packets counted by the DROP rule (iptables) or the "counter drop" (nft).
drops_ipt() { in_ns b iptables -L XMIG -v -x -n | awk '$3 == "DROP" { print $1 }'; }
drops_nft() {
	in_ns b nft list chain inet xmig allow | sed -n 's/.*counter packets \([0-9]*\) .*drop.*/\1/p'
}
jumps_ipt() { in_ns b "$1" -S INPUT | grep -c -- '-j XMIG$'; }
jumps_nft() { in_ns b nft list chain inet xmig input | grep -c 'jump allow$'; }

# Without a firewall C gets in (B allows everyone): the control case.
# (B's log is looked at only from a line on, so a check sees new lines only.)
log_from() { tail -n +"$(($1 + 1))" "$T/b.log"; }
expect_c_gets_in() {
	local mark
	mark=$(wc -l <"$T/b.log")
	[ "$(tcp_probe c "$B" "$NETNS_PORT")" = connected ] || fail "$1: C cannot connect to B"
	for _ in $(seq 50); do
		log_from "$mark" | grep -q "connection from $(ip_of c)" && return 0
		sleep 0.1
	done
	fail "$1: B's xmigd did not log C's connection"
}
expect_c_gets_in "no firewall"

# C tries to migrate vmC to B: refused by the firewall, not by xmigd.
expect_blocked() {
	local what=$1 before after rc mark
	mark=$(wc -l <"$T/b.log")
	before=$($2)
	simhv_on c list --json | jq -e '.[] | select(.name == "vmC")' >/dev/null ||
	    simhv_on c create vmC --memory 16M --dirty-rate 200 >/dev/null || fail "create vmC"
	xmig_on c migrate vmC "$B" 2>"$T/err"; rc=$?
	cat "$T/err"
	[ "$rc" = 1 ] || fail "$what: C->B exited $rc, expected 1"
	# lib/xfer.c's connect error with strerror(ETIMEDOUT): no answer at all.
	grep -qF "cannot connect to $B port $NETNS_PORT: Connection timed out" "$T/err" ||
	    fail "$what: C's error does not say the connection timed out"
	[ "$(dom_state c vmC)" = running ] || fail "$what: vmC not running on C"
	[ "$(tcp_probe c "$B" 8003)" = timeout ] || fail "$what: C's connection to 8003 not dropped"
	# Other ports are none of the firewall's business: B answers (a reset).
	[ "$(tcp_probe c "$B" 9)" = refused ] || fail "$what: port 9 of B filtered too"
	after=$($2)
	trace "$what: DROP counter $before -> $after"
	[ -n "$after" ] && [ "$after" -gt "${before:-0}" ] || fail "$what: DROP counter did not go up"
	log_from "$mark" | grep "$(ip_of c)" && fail "$what: B's xmigd heard from C"
	return 0
}

# A migrates vmN to B through the firewall.
expect_a_migrates() {
	local d=$1
	simhv_on a create "$d" --memory 64M --dirty-rate 2000 --wws 8M >/dev/null || fail "create $d"
	xmig_on a migrate -l "$d" "$B" >/dev/null || fail "A->B of $d through the firewall exited $?"
	[ "$(dom_state b "$d")" = running ] || fail "$d not running on B"
	expect_verify_ok b "$d"
}

# ---- iptables ----
fw_b --dry-run >"$T/dry" || fail "--dry-run failed"
grep -q -- "-A XMIG -s $(ip_of a)/32 -j ACCEPT" "$T/dry" || fail "dry run lacks A's rule: $(cat "$T/dry")"
in_ns b iptables -S XMIG >/dev/null 2>&1 && fail "--dry-run installed a chain"
fw_b || fail "install failed"
{ in_ns b iptables -S; in_ns b ip6tables -S; } >"$T/ipt1"
fw_b >/dev/null || fail "second install failed"
fw_b >/dev/null || fail "third install failed"
{ in_ns b iptables -S; in_ns b ip6tables -S; } >"$T/ipt2"
cat "$T/ipt2"
diff "$T/ipt1" "$T/ipt2" || fail "re-running changed the rules"
[ "$(jumps_ipt iptables)" = 1 ] || fail "$(jumps_ipt iptables) IPv4 jump rules after 3 runs"
[ "$(jumps_ipt ip6tables)" = 1 ] || fail "$(jumps_ipt ip6tables) IPv6 jump rules after 3 runs"
[ "$(in_ns b iptables -S XMIG | grep -c ACCEPT)" = 1 ] || fail "not one ACCEPT rule in XMIG"
expect_a_migrates vm1
expect_blocked iptables drops_ipt
fw_b --remove || fail "--remove failed"
[ "$(jumps_ipt iptables)" = 0 ] && [ "$(jumps_ipt ip6tables)" = 0 ] || fail "jump rules left"
in_ns b iptables -S XMIG >/dev/null 2>&1 && fail "chain XMIG left (IPv4)"
in_ns b ip6tables -S XMIG >/dev/null 2>&1 && fail "chain XMIG left (IPv6)"
expect_c_gets_in "after --remove"
fw_b --remove | grep -q "no XMIG chain" || fail "second --remove not a no-op"

# ---- nftables ----
fw_b --nft --dry-run >"$T/dry" || fail "--nft --dry-run failed"
grep -q "ip saddr $(ip_of a)/32 accept" "$T/dry" || fail "nft dry run lacks A's rule"
in_ns b nft list table inet xmig >/dev/null 2>&1 && fail "--nft --dry-run installed a table"
fw_b --nft || fail "--nft install failed"
in_ns b nft list table inet xmig >"$T/nft1"
fw_b --nft >/dev/null || fail "second --nft install failed"
in_ns b nft list table inet xmig >"$T/nft2"
cat "$T/nft2"
diff "$T/nft1" "$T/nft2" || fail "the second run changed the rules"
# One jump per family: IPv4 to B's relocation-address, IPv6 to any address.
[ "$(jumps_nft)" = 2 ] || fail "$(jumps_nft) jump rules, expected 2"
[ "$(in_ns b nft list tables | grep -c 'inet xmig')" = 1 ] || fail "not one table inet xmig"
expect_a_migrates vm2
expect_blocked nft drops_nft
fw_b --nft --remove || fail "--nft --remove failed"
in_ns b nft list table inet xmig >/dev/null 2>&1 && fail "table inet xmig left"
expect_c_gets_in "after --nft --remove"
true
