#!/usr/bin/env bash
# xmig's usage errors and an absent daemon, without any daemon: exit codes
# 2 and 3, one line on stderr naming the fault, nothing on stdout.  Bad
# arguments are caught before xmig tries the socket.
set -u
ROOTDIR=$(cd "$(dirname "$0")/../.." && pwd)
XMIG=$ROOTDIR/${BUILD:-build}/bin/xmig
T=$(mktemp -d /tmp/xmig-cli.XXXXXX)
tid=cli-usage
. "$ROOTDIR/tests/common.sh"
san_env
trap plain_cleanup EXIT
NOSOCK=$T/absent/xmigd.sock
failed=0

# check WANT_RC PATTERN ARGS...: xmig ARGS exits WANT_RC with exactly one
# stderr line matching PATTERN (grep -E) and an empty stdout.
check() {
	local want=$1 pat=$2 rc lines
	shift 2
	XMIG_SOCKET=$NOSOCK "$XMIG" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	lines=$(wc -l <"$T/err")
	if [ "$rc" != "$want" ] || [ "$lines" != 1 ] || [ -s "$T/out" ] ||
	    ! grep -Eq -- "$pat" "$T/err"; then
		echo "FAIL: xmig $* -> exit $rc (want $want), stderr:"
		sed 's/^/    /' "$T/err"
		failed=$((failed + 1))
	fi
}

# check_ok ARGS...: exit 0 and something on stdout (help texts).
check_ok() {
	local rc
	"$XMIG" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	if [ "$rc" != 0 ] || [ ! -s "$T/out" ] || [ -s "$T/err" ]; then
		echo "FAIL: xmig $* -> exit $rc (want 0 and usage on stdout)"
		failed=$((failed + 1))
	fi
}

[ -x "$XMIG" ] || { echo "FAIL: $XMIG not built"; exit 1; }

# usage errors: exit 2, "xmig: ...; see 'xmig help ...'"
check 2 "^xmig: no command given; see 'xmig help'$"
check 2 "^xmig: unknown command 'frobnicate'; see 'xmig help'$" frobnicate
check 2 "^xmig: unknown option '-x'" -x status
check 2 "^xmig: option '-S' needs a value" -S
check 2 "^xmig: migrate: missing DOM and HOST; see 'xmig help migrate'$" migrate
check 2 "^xmig: migrate: missing HOST; see 'xmig help migrate'$" migrate vm1
check 2 "unexpected argument 'extra'; see 'xmig help migrate'$" migrate vm1 hostB extra
check 2 "bad port '0' \(1-65535\)" migrate -p 0 vm1 hostB
check 2 "bad port '65536'" migrate vm1 hostB --port 65536
check 2 "bad port 'x1'" migrate --port=x1 vm1 hostB
check 2 "bad host 'hostB:99999'" migrate vm1 hostB:99999
check 2 "bad host '\[::1'" migrate vm1 '[::1'
check 2 "bad host 'a b'" migrate vm1 'a b'
check 2 "empty domain name" migrate '' hostB
check 2 "empty host name" migrate vm1 ''
check 2 "domain name '.*' is too long" migrate "$(printf 'd%.0s' $(seq 80))" hostB
check 2 "bad downtime 'soon'" migrate --downtime soon -l vm1 hostB
check 2 "bad downtime '0'" migrate --downtime 0 -l vm1 hostB
check 2 "bad round count '0'" migrate --max-rounds 0 -l vm1 hostB
check 2 "bad rate 'fast'" migrate -r fast -l vm1 hostB
check 2 "bad rate '10000001'" migrate --resource=10000001 -l vm1 hostB
check 2 "bad rate '-1'" migrate -r -1 -l vm1 hostB
check 2 "option '--port' needs a value" migrate vm1 hostB --port
check 2 "unknown option '--fast'; see 'xmig help migrate'$" migrate --fast vm1 hostB
check 2 "option '--live' takes no value" migrate --live=yes vm1 hostB
check 2 "^xmig: job: missing JOB" job
check 2 "^xmig: job: bad job number 'abc'" job abc
check 2 "^xmig: job: bad job number '-1'" job -1
check 2 "^xmig: job: bad job number '0'" progress 0
# job ids are 64-bit: beyond what a JSON integer holds, or not a whole
# number, is a usage error, never a shorter id
check 2 "^xmig: watch: bad job number '9223372036854775808' \(a whole number from 1 to 9223372036854775807\)" watch 9223372036854775808
check 2 "^xmig: job: bad job number '18446744073709551617'" job 18446744073709551617
check 2 "^xmig: cancel: bad job number '1.5'" cancel 1.5
check 2 "^xmig: job: bad job number '0x10'" job 0x10
check 2 "^xmig: job: bad job number ' 1'" job ' 1'
check 2 "^xmig: cancel: unexpected argument '2'" cancel 1 2
check 2 "^xmig: cancel: unknown option '--json'" cancel --json 1
check 2 "^xmig: list: unexpected argument 'vm1'" list vm1
check 2 "^xmig: unknown command 'nope'" help nope

# no daemon: exit 3, the socket named, "may not be running"
check 3 "^xmig: cannot connect to xmigd at $NOSOCK: .*may not be running" status
check 3 "at $NOSOCK: " list --json
check 3 "at $NOSOCK: " migrate -l vm1 hostB
check 3 "at $NOSOCK: " migrate vm1 -l '[fe80::1]:9000' --downtime 50 --max-rounds 5 -r 800
check 3 "at $NOSOCK: " jobs
check 3 "at $NOSOCK: " cancel 3
check 3 "at $T/other.sock: " -S "$T/other.sock" job 1
check 3 "at $T/other.sock: " --socket="$T/other.sock" watch 1
check 3 "at $NOSOCK: " job 4294967297
check 3 "at $NOSOCK: " cancel 9223372036854775807
# a socket file nobody listens on (a crashed daemon's) is refused, not a hang
if command -v python3 >/dev/null; then
	python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$T/stale.sock"
	check 3 "at $T/stale.sock: Connection refused; xmigd may not be running" -S "$T/stale.sock" status
fi

# help: exit 0, text on stdout
check_ok --help
check_ok -V
check_ok help
check_ok help migrate
check_ok migrate --help
check_ok migrate vm1 -h
check_ok progress --help
grep -q "exit status" <("$XMIG" help) || { echo "FAIL: exit codes not in 'xmig help'"; failed=$((failed + 1)); }
grep -q "4  outcome unknown" <("$XMIG" help migrate) ||
    { echo "FAIL: exit codes not in 'xmig help migrate'"; failed=$((failed + 1)); }

if [ "$failed" -ne 0 ]; then
	echo "test_cli_usage: $failed failed"
	exit 1
fi
echo "test_cli_usage: ok"
