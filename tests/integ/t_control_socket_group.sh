#!/usr/bin/env bash
# control-socket-group: the socket becomes mode 0660 owned by that group,
# and the daemon itself checks the peer's credentials: a process running
# with the group (primary or supplementary) may drive xmigd, another user is
# refused with a log line even when the socket's mode would let it connect.
# Without the key the socket stays 0600 (root only).  Needs root (setpriv).
tid=control-socket-group
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root"
getent group nogroup >/dev/null && id nobody >/dev/null 2>&1 ||
    skip "no nobody/nogroup"
chmod 0711 "$T"	# let nobody reach the sockets; their own modes decide
as_nobody() {	# gid-options... -- xmig args...
	local opts=()
	while [ "$1" != -- ]; do opts+=("$1"); shift; done; shift
	setpriv --reuid=nobody "${opts[@]}" "$BIN/xmig" "$@"
}
write_conf a 'control-socket-group = nogroup'
start_xmigd a; start_xmigd b

[ "$(stat -c '%a %G' "$T/a.sock")" = "660 nogroup" ] ||
    fail "a.sock is $(stat -c '%a %G' "$T/a.sock"), expected 660 nogroup"
[ "$(stat -c '%a' "$T/b.sock")" = 600 ] || fail "b.sock is $(stat -c '%a' "$T/b.sock"), expected 600"

as_nobody --regid=nogroup --clear-groups -- -S "$T/a.sock" list >/dev/null ||
    fail "nobody with primary group nogroup cannot use a's control socket"
as_nobody --regid=daemon --groups=nogroup -- -S "$T/a.sock" list >/dev/null ||
    fail "nobody with supplementary group nogroup cannot use a's control socket"

as_nobody --regid=nogroup --clear-groups -- -S "$T/b.sock" list 2>"$T/err"; rc=$?
cat "$T/err"
[ "$rc" = 3 ] || fail "nobody on b's 0600 socket: exit $rc, expected 3"

# Open a's socket to everyone: the daemon's own check must still refuse.
chmod 0666 "$T/a.sock"
as_nobody --regid=daemon --clear-groups -- -S "$T/a.sock" list 2>"$T/err"; rc=$?
cat "$T/err"
[ "$rc" != 0 ] || fail "nobody outside nogroup was served"
grep -q "not root or in control-socket-group nogroup" "$T/err" || fail "xmig does not say why"
grep -q "control connection from uid 65534 refused: not in control-socket-group" "$T/a.log" ||
    fail "no refusal in a's log"
