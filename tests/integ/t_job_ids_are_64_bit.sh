#!/usr/bin/env bash
# Job ids are 64-bit end to end: 'xmig job 4294967297' (2^32 + 1) names no
# job rather than job 1, over the CLI and over the raw control socket, and
# a request whose id is not a positive integer gets a one-line error.
tid=job-ids-64-bit
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || fail "python3 is needed (scripts/install-deps.sh)"
start_xmigd a; start_xmigd b
simhv_on a create vm1 --memory 4M >/dev/null || fail "create a"
simhv_on b create vm1 --memory 4M >/dev/null || fail "create b"
# Job 1 on a: a refused migration (name clash), listed and finished.
xmig_on a migrate vm1 "127.0.0.1:$(port_of b)" >/dev/null 2>&1 && fail "vm1 migrated"
[ "$(xmig_on a job 1 --json | jq -r .id)" = 1 ] || fail "no job 1 on a"

for cmd in job watch cancel; do
	xmig_on a $cmd 4294967297 >"$T/out" 2>"$T/err"; rc=$?
	[ "$rc" = 1 ] || fail "xmig $cmd 4294967297: exit $rc, expected 1: $(cat "$T/err")"
	[ -s "$T/out" ] && fail "xmig $cmd 4294967297 printed: $(cat "$T/out")"
	[ "$(wc -l <"$T/err")" = 1 ] || fail "xmig $cmd 4294967297: not one line: $(cat "$T/err")"
	grep -q "no job 4294967297" "$T/err" || fail "xmig $cmd 4294967297: $(cat "$T/err")"
done
xmig_on a job --json 9223372036854775807 >/dev/null 2>"$T/err" && fail "job 2^63-1 exists"
grep -q "no job 9223372036854775807" "$T/err" || fail "job 2^63-1: $(cat "$T/err")"

# The raw control socket: each request gets {"ok": false, "error": ...}.
python3 - "$T/a.sock" >"$T/raw.out" 2>&1 <<'PY' || fail "raw requests: $(cat "$T/raw.out")"
import json, socket, struct, sys

def call(req):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    b = req.encode()
    s.sendall(struct.pack(">I", len(b)) + b)
    n = struct.unpack(">I", s.recv(4, socket.MSG_WAITALL))[0]
    r = json.loads(s.recv(n, socket.MSG_WAITALL))
    s.close()
    return r

for idtext, want in [("4294967297", "no job 4294967297"), ("18446744073709551617", "malformed request"),
                     ("-1", "bad job id"), ("0", "bad job id"), ("1.0", "bad job id"),
                     ('"1"', "bad job id"), ("null", "missing job id")]:
    for cmd in ("job", "watch", "cancel"):
        r = call('{"cmd": "%s", "id": %s}' % (cmd, idtext))
        err = r.get("error") or ""
        if r.get("ok") is not False or "\n" in err or (want and want not in err):
            sys.exit("%s id %s: %r" % (cmd, idtext, r))
r = call('{"cmd": "job", "id": 1}')
if not r.get("ok") or r["job"]["id"] != 1:
    sys.exit("job 1: %r" % r)
PY
kill -0 "$PID_a" 2>/dev/null || fail "xmigd on a died"
