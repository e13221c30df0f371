#!/usr/bin/env bash
# The man pages render without a groff warning (man -l), and agree with the
# programs: every command and long option in 'xmig help', 'xmigd --help',
# 'simhv --help' and 'xmig-firewall --help' is in its page and every long
# option a page names exists; every xmigd.conf key is in xmigd.conf(5) with
# the default xmigd reports; xmig(1) documents exit codes 0 to 4.
set -u
ROOTDIR=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$ROOTDIR/${BUILD:-build}/bin
MAN=$ROOTDIR/man
T=$(mktemp -d /tmp/xmig-man.XXXXXX)
tid=man-pages
. "$ROOTDIR/tests/common.sh"
san_env
trap plain_cleanup EXIT
failed=0
bad() { echo "FAIL: $*"; failed=$((failed + 1)); }

command -v man >/dev/null || { echo "FAIL: man is not installed (scripts/install-deps.sh: man-db)"; exit 1; }

# render PAGE: plain ASCII text, one long line per paragraph where possible
render() { LC_ALL=C MANWIDTH=250 man -l "$1" 2>/dev/null | col -b; }
# longopts: the --options named in stdin
longopts() { grep -oE -- '--[a-z][a-z0-9-]*[a-z0-9]' | sort -u; }

pages=(xmig.1 xmigd.8 xmigd.conf.5 simhv.1)
[ -x "$ROOTDIR/scripts/xmig-firewall" ] && pages+=(xmig-firewall.8)
for p in "${pages[@]}"; do
	[ -f "$MAN/$p" ] || { bad "man/$p missing"; continue; }
	warn=$(LC_ALL=C MANWIDTH=80 man --warnings -l "$MAN/$p" 2>&1 >/dev/null)
	[ -z "$warn" ] || bad "man/$p: groff warnings: $warn"
	render "$MAN/$p" >"$T/$p.txt"
	grep -q '^NAME' "$T/$p.txt" && grep -q '^SEE ALSO' "$T/$p.txt" ||
	    bad "man/$p does not render with NAME and SEE ALSO sections"
done

# docs_opts PAGE HELPFILE: each option of the help is in the page, and
# each option of the page is in the help (or in EXTRA, a list of options
# the page may name from other programs).
docs_opts() {
	local page=$1 help=$2 extra=${3:-} o
	for o in $(longopts <"$help"); do
		grep -qF -- "$o" "$T/$page.txt" || bad "man/$page does not document $o"
	done
	for o in $(longopts <"$T/$page.txt"); do
		grep -qxF -- "$o" <(longopts <"$help") || grep -qwF -- "$o" <<<"--help $extra" ||
		    bad "man/$page names $o, which the program does not have"
	done
}

# ---- xmig(1): commands, options, exit codes ----
"$BIN/xmig" --help >"$T/xmig.help"
cmds=$(sed -n '/^commands:/,/^$/p' "$T/xmig.help" | awk 'NR > 1 && NF { print $1 }')
[ -n "$cmds" ] || bad "no commands in 'xmig --help'"
for c in $cmds; do
	"$BIN/xmig" help "$c" >>"$T/xmig.help" || bad "'xmig help $c' failed"
	grep -qE "^   $c( |$)" "$T/xmig.1.txt" || bad "man/xmig.1 has no section for command '$c'"
done
"$BIN/xmigd" --help >"$T/xmigd.help" 2>&1
docs_opts xmig.1 "$T/xmig.help" "--check-config"
for code in 0 1 2 3 4; do
	sed -n '/^EXIT STATUS/,/^[A-Z]/p' "$T/xmig.1.txt" | grep -qE "^ +$code\b" ||
	    bad "man/xmig.1 EXIT STATUS does not list $code"
done
grep -q 'DOM--migratedaway' "$T/xmig.1.txt" || bad "man/xmig.1 does not explain exit code 4"

# ---- xmigd(8) ----
docs_opts xmigd.8 "$T/xmigd.help" "--check-config --dump-config --ssl"

# ---- xmigd.conf(5): every key with xmigd's default ----
: >"$T/empty.conf"
"$BIN/xmigd" --dump-config -c "$T/empty.conf" | grep -v '^#' | grep ' = ' >"$T/keys" ||
    bad "xmigd --dump-config printed no keys"
tr -d "'\"" <"$T/xmigd.conf.5.txt" >"$T/conf5.noquotes"
while IFS= read -r line; do
	key=${line%% = *}
	def=$(tr -d "'\"" <<<"${line#* = }")
	grep -qF -- "$key = $def" "$T/conf5.noquotes" ||
	    bad "man/xmigd.conf.5 does not show '$key = $def'"
done <"$T/keys"
grep -oE '^       [a-z][a-z0-9-]+ = ' "$T/xmigd.conf.5.txt" | awk '{ print $1 }' | while read -r key; do
	grep -q "^$key = " "$T/keys" || echo "FAIL: man/xmigd.conf.5 documents '$key', which xmigd does not have"
done | tee "$T/extra"
[ -s "$T/extra" ] && failed=$((failed + 1))

# ---- simhv(1) ----
"$BIN/simhv" --help >"$T/simhv.help" 2>&1
docs_opts simhv.1 "$T/simhv.help"
for c in $(sed -n 's/^  \([a-z]*\) .*/\1/p' "$T/simhv.help") pause unpause destroy; do
	sed -n '/^COMMANDS/,/^[A-Z]/p' "$T/simhv.1.txt" | grep -qE "(^ +| \| )$c( |$)" ||
	    bad "man/simhv.1 does not describe '$c'"
done

# ---- xmig-firewall(8) ----
if [ -x "$ROOTDIR/scripts/xmig-firewall" ]; then
	"$ROOTDIR/scripts/xmig-firewall" --help >"$T/fw.help" 2>&1
	docs_opts xmig-firewall.8 "$T/fw.help"
fi

[ "$failed" -eq 0 ] || { echo "$failed failure(s)"; exit 1; }
echo "ok: ${pages[*]}"
