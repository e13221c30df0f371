#!/usr/bin/env bash
# xmigd started the two ways an installed system starts it, without
# systemctl: the systemd unit's ExecStart (Type=notify: READY=1 arrives on
# $NOTIFY_SOCKET only once the control socket and the relocation port
# accept connections, STOPPING=1 on SIGTERM), and the SysV init script
# (start, status, idempotent start, restart, stop), with 'xmig list'
# working against each.
tid=service
. "$(dirname "$0")/lib.sh"
UNIT=$ROOTDIR/etc/xmigd.service
INIT=$ROOTDIR/etc/init.d/xmigd

write_conf a
simhv_on a create vm1 --memory 16M --vcpus 1 >/dev/null || fail "create vm1"

# ---- the unit: its ExecStart, under a notify socket ----
grep -qx 'Type=notify' "$UNIT" || fail "unit is not Type=notify"
grep -qx 'Restart=on-failure' "$UNIT" || fail "unit has no Restart=on-failure"
for bad in PrivateDevices DevicePolicy DeviceAllow ProtectClock ProtectKernelLogs; do
	grep -q "^$bad=" "$UNIT" && fail "unit sets $bad=, which would cut xmigd off /dev/xen"
done
exec_start=$(sed -n 's/^ExecStart=//p' "$UNIT")
[ -n "$exec_start" ] || fail "no ExecStart in the unit"
cmd=${exec_start//\/usr\/sbin\/xmigd/$BIN\/xmigd}
cmd=${cmd//\/etc\/xmig\/xmigd.conf/$T\/a.conf}
if command -v systemd-analyze >/dev/null; then
	sed -e "s|/usr/sbin/xmigd|$BIN/xmigd|g" -e "s|/etc/xmig/xmigd.conf|$T/a.conf|g" \
	    "$UNIT" >"$T/xmigd.service"
	systemd-analyze verify --man=no "$T/xmigd.service" >"$T/verify.log" 2>&1 ||
	    fail "systemd-analyze verify: $(grep xmigd "$T/verify.log")"
else
	skip_part "systemd-analyze verify: not installed"
fi
command -v python3 >/dev/null || fail "python3 is needed (scripts/install-deps.sh)"
# The listener plays systemd: on READY=1 it checks that xmigd serves.
python3 - "$T/notify" "$T/a.sock" "$(port_of a)" >"$T/notify.out" 2>&1 <<'EOF' &
import socket, sys
path, ctl, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.settimeout(30)
msg = s.recv(256).decode()
c = socket.socket(socket.AF_UNIX); c.connect(ctl); c.close()
r = socket.create_connection(("127.0.0.1", port), timeout=5); r.close()
print(msg, "serving", flush=True)
print(s.recv(256).decode(), flush=True)
EOF
lpid=$!
for _ in $(seq 50); do [ -S "$T/notify" ] && break; sleep 0.1; done
[ -S "$T/notify" ] || fail "notify listener did not start: $(cat "$T/notify.out")"
# shellcheck disable=SC2086
NOTIFY_SOCKET=$T/notify XMIG_SIMHV=$BIN/simhv $cmd >>"$T/a.log" 2>&1 &
dpid=$!
DAEMONS+=("$dpid")
for _ in $(seq 100); do grep -q serving "$T/notify.out" && break; sleep 0.1; done
[ "$(head -1 "$T/notify.out")" = "READY=1 serving" ] ||
    fail "no READY=1 with the sockets serving: $(cat "$T/notify.out")"
xmig_on a list | grep -qw vm1 || fail "xmig list under the unit's ExecStart does not show vm1"
kill -TERM "$dpid"
wait "$lpid" 2>/dev/null
[ "$(sed -n 2p "$T/notify.out")" = "STOPPING=1" ] || fail "no STOPPING=1: $(cat "$T/notify.out")"
for _ in $(seq 100); do kill -0 "$dpid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$dpid" 2>/dev/null && fail "xmigd did not stop on SIGTERM"
trace "unit ExecStart: READY=1 after listening, STOPPING=1 on SIGTERM"

# ---- the SysV init script ----
command -v start-stop-daemon >/dev/null || skip "init script: no start-stop-daemon"
# alive PID: running, not a zombie (a daemonized xmigd's parent is PID 1,
# which in a container may not reap it)
alive() {
	local st
	st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "${st#Z}" = "$st" ]
}
initd() {
	DAEMON=$BIN/xmigd PIDFILE=$T/run/xmigd.pid CONF=$T/a.conf XMIG_SIMHV=$BIN/simhv \
	    _SYSTEMCTL_SKIP_REDIRECT=1 sh "$INIT" "$@"
}
# whatever happens, stop the daemonized xmigd this test started
trap 'rc_=$?; [ -s "$T/run/xmigd.pid" ] && kill "$(cat "$T/run/xmigd.pid")" 2>/dev/null
    (exit $rc_); cleanup' EXIT
initd start >"$T/init.out" 2>&1 || fail "init start failed: $(cat "$T/init.out")"
pid1=$(cat "$T/run/xmigd.pid") || fail "no pid file after start"
alive "$pid1" || fail "pid $pid1 from the pid file is not running"
initd status >/dev/null || fail "status is not 0 while running"
xmig_on a list | grep -qw vm1 || fail "xmig list under the init script does not show vm1"
initd start >/dev/null 2>&1 || fail "second start failed"
[ "$(cat "$T/run/xmigd.pid")" = "$pid1" ] || fail "second start replaced the running daemon"
[ "$(pgrep -fc -- "-c $T/a.conf")" = 1 ] || fail "more than one xmigd after two starts"
initd restart >"$T/init.out" 2>&1 || fail "restart failed: $(cat "$T/init.out")"
pid2=$(cat "$T/run/xmigd.pid")
[ "$pid2" != "$pid1" ] || fail "restart kept the old pid"
alive "$pid1" && fail "old daemon $pid1 still running after restart"
xmig_on a list | grep -qw vm1 || fail "xmig list after restart"
initd stop >"$T/init.out" 2>&1 || fail "stop failed: $(cat "$T/init.out")"
alive "$pid2" && fail "daemon $pid2 still running after stop"
[ -e "$T/run/xmigd.pid" ] && fail "pid file left after stop"
[ -e "$T/a.sock" ] && fail "control socket left after stop"
initd status >/dev/null
[ $? = 3 ] || fail "status is not 3 when stopped"
# a bad configuration: start refuses with the parser's message
echo "relocation-port = 0" >>"$T/a.conf"
initd start >"$T/init.out" 2>&1 && fail "start with a bad configuration succeeded"
grep -q "relocation-port" "$T/init.out" || fail "start did not say what is wrong: $(cat "$T/init.out")"
trace "init script: start, status, idempotent start, restart, stop, bad config"
