#!/usr/bin/env bash
# Bash completion for xmig (etc/bash-completion/xmig) against a real
# daemon: commands, options and their values, domain names from
# 'xmig list --json', job ids from 'xmig jobs --json', destination hosts
# from relocation-hosts-allow and past jobs; with jq and without it.
tid=completion
. "$(dirname "$0")/lib.sh"
COMP=$ROOTDIR/etc/bash-completion/xmig

start_xmigd a; start_xmigd b
simhv_on a create vm1 --memory 16M >/dev/null || fail "create vm1"
simhv_on a create vm2 --memory 16M >/dev/null || fail "create vm2"
simhv_on a create ship --memory 16M >/dev/null || fail "create ship"
xmig_on a migrate ship "127.0.0.1:$(port_of b)" >/dev/null || fail "migrate ship"
cat >"$T/peers.conf" <<'EOF'
relocation-hosts-allow = '10.1.0.5 ^dom0-b\.example\.org$ 10.0.0.0/8 ^.*\.lan$ ^localhost$' # peers
EOF

# complete PATH_DIR LINE: the sorted candidates bash offers for LINE (the
# word being completed is the last one, empty when LINE ends in a space).
complete_line() {
	local path=$1 line=$2
	PATH=$path XMIG_CONF=$T/peers.conf bash --norc -c '
		. "$1"
		read -r -a COMP_WORDS <<<"$2"
		[[ $2 == *" " ]] && COMP_WORDS+=("")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_LINE=$2; COMP_POINT=${#2}
		_xmig
		printf "%s\n" "${COMPREPLY[@]}" | sort -u | tr "\n" " "
	' _ "$COMP" "$line"
}

# expect LINE WANT...: the candidates are exactly WANT (in any order)
expect() {
	local line=$1 got want
	shift
	want=$(printf '%s\n' "$@" | sort -u | tr '\n' ' ')
	got=$(complete_line "$CPATH" "$line")
	[ "$got" = "$want" ] || fail "${CPATH_NAME}: '$line' completes to '$got', want '$want'"
}

S="xmig -S $T/a.sock"
# A PATH without jq (xmig and the few tools the script needs), to test the
# plain parse as well as the jq one.
mkdir -p "$T/nojq"
for t in xmig timeout sed grep cat tail sort tr bash; do
	p=$(PATH=$BIN:$PATH command -v "$t") || fail "no $t"
	ln -s "$p" "$T/nojq/$t"
done
command -v jq >/dev/null || fail "jq is needed (scripts/install-deps.sh)"

for CPATH_NAME in with-jq without-jq; do
	if [ "$CPATH_NAME" = with-jq ]; then CPATH=$BIN:$PATH; else CPATH=$T/nojq; fi
	expect "xmig mi" migrate
	expect "xmig j" job jobs
	expect "xmig --so" --socket
	expect "xmig help w" watch
	expect "$S migrate " vm1 vm2
	expect "$S migrate --live v" vm1 vm2
	expect "$S migrate -l vm1 " 10.1.0.5 dom0-b.example.org 127.0.0.1
	expect "$S migrate -l vm1 10." 10.1.0.5
	expect "$S migrate vm1 hostB " 
	expect "$S migrate --compress " zstd lz4 none auto
	expect "$S migrate --li" --live
	expect "$S migrate -p " 8002 8003
	expect "$S job " 1
	expect "$S watch --json " 1
	expect "$S list --" --json --help
	expect "xmig config " import-xend
	expect "xmig bal" balance
	expect "xmig balance --" --policy --dry-run --max-moves --json --help
	expect "xmig balance --policy " even power-saving
	expect "xmig balance --dry-run --policy p" power-saving
	expect "xmig balance --max-moves "
	expect "xmig config import-xend --ou" --output
done
trace "completion: commands, options, domains, jobs and peers, with and without jq"
