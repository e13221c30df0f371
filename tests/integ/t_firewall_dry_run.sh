#!/usr/bin/env bash
# scripts/xmig-firewall --dry-run turns an xmigd.conf into rules without root
# or a firewall: ports, relocation-address and the allow-list are read with
# xmigd's quoting and comments; addresses and CIDRs become ACCEPT rules in
# their family, an IPv4-mapped entry an IPv4 rule, an anchored literal
# address regex that address; host names and regexes are skipped with one
# warning each; a bad CIDR or an unterminated quote is an error (exit 2).
# (Applying the rules is tested in tests/netns/t_firewall.sh.)
tid=firewall-dry-run
. "$(dirname "$0")/lib.sh"
FW=$ROOTDIR/scripts/xmig-firewall
cat >"$T/x.conf" <<'CONF'
relocation-port = 9002   # a comment
relocation-ssl-port = "9003"
relocation-address = '10.1.0.2'
relocation-hosts-allow = '10.1.0.0/16	fd00:1::/64 10.9.9.9 ::ffff:192.168.7.0/120 ^10\.3\.3\.3$ ^10.4.4.4$ ^.*\.example\.org$ ::1' # note
CONF
"$FW" -c "$T/x.conf" --dry-run >"$T/ipt" 2>"$T/warn" || fail "iptables dry run exited $?"
cat "$T/ipt" "$T/warn"
v4=$(sed -n '/^# iptables-restore/,/^COMMIT/p' "$T/ipt")
v6=$(sed -n '/^# ip6tables-restore/,/^COMMIT/p' "$T/ipt")
for r in 10.1.0.0/16 10.9.9.9/32 192.168.7.0/24 10.3.3.3/32; do
	grep -qx -- "-A XMIG -s $r -j ACCEPT" <<<"$v4" || fail "no IPv4 rule for $r"
done
[ "$(grep -c -- '-j ACCEPT' <<<"$v4")" = 4 ] || fail "not 4 IPv4 ACCEPT rules"
for r in fd00:1::/64 ::1/128; do
	grep -qx -- "-A XMIG -s $r -j ACCEPT" <<<"$v6" || fail "no IPv6 rule for $r"
done
[ "$(grep -c -- '-j ACCEPT' <<<"$v6")" = 2 ] || fail "not 2 IPv6 ACCEPT rules"
[ "$(tail -n 3 <<<"$v4" | head -n 1)" = "-A XMIG -j DROP" ] || fail "IPv4 chain does not end in DROP"
grep -qx -- "-I INPUT 1 -p tcp -m multiport --dports 9002,9003 -d 10.1.0.2/32 -j XMIG" <<<"$v4" ||
    fail "IPv4 jump rule wrong"
grep -qx -- "-I INPUT 1 -p tcp -m multiport --dports 9002,9003 -j XMIG" <<<"$v6" ||
    fail "IPv6 jump rule wrong"
[ "$(grep -c 'skipping' "$T/warn")" = 2 ] || fail "expected 2 warnings (the two regexes)"
grep -q 'skipping "^10.4.4.4\$"' "$T/warn" || fail "no warning for the unescaped regex"
grep -q 'skipping "^.\*\\.example\\.org\$"' "$T/warn" || fail "no warning for the host regex"
grep -q 'xmigd still checks' "$T/warn" || fail "the warning does not say xmigd still checks it"

"$FW" -c "$T/x.conf" --nft --dry-run >"$T/nft" 2>/dev/null || fail "nft dry run exited $?"
cat "$T/nft"
grep -q "ip daddr 10.1.0.2/32 tcp dport { 9002, 9003 } jump allow" "$T/nft" || fail "nft jump"
[ "$(grep -c 'saddr .* accept' "$T/nft")" = 6 ] || fail "not 6 nft accept rules"
grep -q "ip6 saddr fd00:1::/64 accept" "$T/nft" || fail "nft IPv6 rule"
grep -q "counter drop" "$T/nft" || fail "nft drop rule"

# Options instead of a file; an empty list allows everyone, as in xmigd.
"$FW" --port 8002 --ssl-port 8002 --allow '' --dry-run >"$T/open" 2>"$T/warn" || fail "open list"
grep -qx -- "-A XMIG -j ACCEPT" "$T/open" || fail "an empty list does not accept everyone"
grep -q "empty" "$T/warn" || fail "no warning for the empty list"
grep -qx -- "-I INPUT 1 -p tcp --dport 8002 -j XMIG" "$T/open" || fail "one port jump"

# Errors.
"$FW" --port 8002 --allow '10.0.0.0/33' --dry-run 2>"$T/err"; rc=$?
[ "$rc" = 2 ] || fail "bad CIDR exited $rc"
grep -q '10.0.0.0/33' "$T/err" || fail "bad CIDR not named"
printf 'relocation-hosts-allow = "10.0.0.1\n' >"$T/bad.conf"
"$FW" -c "$T/bad.conf" --dry-run 2>"$T/err"; rc=$?
[ "$rc" = 2 ] || fail "unterminated quote exited $rc"
grep -q 'unterminated quote' "$T/err" || fail "unterminated quote not reported"
"$FW" --port 0 --allow 10.0.0.1 --dry-run 2>/dev/null && fail "port 0 accepted"

# --address: an address or an existing interface with a valid name; a path
# under /sys/class/net or anything else is refused, never put into a rule.
"$FW" --port 8002 --allow 10.0.0.1 --address lo --dry-run >"$T/lo" 2>"$T/err" ||
    fail "--address lo exited $?"
grep -qx -- "-I INPUT 1 -p tcp -m multiport --dports 8002,8003 -i lo -j XMIG" "$T/lo" ||
    fail "--address lo: no -i lo jump rule"
"$FW" --port 8002 --allow 10.0.0.1 --address fd00::2 --dry-run >"$T/v6" 2>"$T/err" ||
    fail "--address fd00::2 exited $?"
grep -q -- "-d fd00::2/128 -j XMIG" "$T/v6" || fail "--address fd00::2: no -d rule"
badaddr() { # ARG EXPECTED-ERROR
	"$FW" --port 8002 --allow 10.0.0.1 --address "$1" --dry-run >"$T/out" 2>"$T/err"; rc=$?
	[ "$rc" != 0 ] || fail "--address '$1' accepted"
	[ -s "$T/out" ] && fail "--address '$1' printed rules"
	[ "$(wc -l <"$T/err")" = 1 ] || fail "--address '$1': not a one-line error: $(cat "$T/err")"
	grep -qF -- "$2" "$T/err" || fail "--address '$1': expected \"$2\", got: $(cat "$T/err")"
}
notname="not an IPv4/IPv6 address or an interface name (1-15 characters"
badaddr ../../../etc "--address \"../../../etc\": $notname"
badaddr lo/../lo "--address \"lo/../lo\": $notname"
badaddr . "--address \".\": $notname"
badaddr .. "--address \"..\": $notname"
badaddr 'lo -j ACCEPT' "--address \"lo -j ACCEPT\": $notname"
badaddr "$(printf 'lo\n-A INPUT')" "--address \"lo?-A INPUT\": $notname"
badaddr abcdefghijklmnop "--address \"abcdefghijklmnop\": $notname"
badaddr lo:0 "--address \"lo:0\": $notname"
badaddr 10.0.0.0/33 "--address \"10.0.0.0/33\": $notname"
badaddr xmig-no-such0 "--address \"xmig-no-such0\": not an IPv4/IPv6 address and no interface of that name here"
true
