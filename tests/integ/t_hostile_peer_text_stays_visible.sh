#!/usr/bin/env bash
# A destination that answers with bytes that are not UTF-8 text (its host
# name in HELLO, its REFUSE reason) cannot hide the job: 'xmig migrate'
# reports the refusal (with '?' for those bytes) instead of "xmigd
# stopped", the job stays in 'xmig jobs', 'xmig job' and 'xmig history',
# and the log carries no raw byte >= 0x80.  The destination is a fake, in
# Python, that speaks just enough of the protocol (docs/protocol.md).
tid=hostile-peer-text
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || fail "python3 is needed (scripts/install-deps.sh)"
start_xmigd a
simhv_on a create vm1 --memory 4M >/dev/null || fail "create"
FAKE_PORT=$(port_of b)	# no xmigd b here: the fake has its port
python3 - "$FAKE_PORT" >"$T/fake.log" 2>&1 <<'PY' &
import socket, struct, sys

def frame(t, payload):
    return b"XMIG" + struct.pack(">BBHI", 1, t, 0, len(payload)) + payload

def recv_frame(c):
    h = c.recv(12, socket.MSG_WAITALL)
    n = struct.unpack(">I", h[8:12])[0]
    return h[5], (c.recv(n, socket.MSG_WAITALL) if n else b"")

def s(b):
    return struct.pack(">H", len(b)) + b

ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", int(sys.argv[1])))
ls.listen(1)
print("listening", flush=True)
c, _ = ls.accept()
t, hello = recv_frame(c)
assert t == 1, t
# The sender's HELLO back, but for the host name: theirs up to it, then ours.
off = 4
for _ in range(3):                      # arch, hv, hv_version
    off += 2 + struct.unpack(">H", hello[off:off + 2])[0]
off += 4 + 8 + 8 + 4                    # page size, memory, features
c.sendall(frame(1, hello[:off] + s(b"evil\xff\xfe-host\x1b]0;x\x07")))
t, _ = recv_frame(c)
assert t == 2, t                        # PREPARE
c.sendall(frame(4, struct.pack(">H", 3) + s(b"no \xff\xfe room \xc3\xa9 \xed\xa0\x80\x1b[2J")))
c.close()
print("refused", flush=True)
PY
fake=$!
for _ in $(seq 100); do grep -q listening "$T/fake.log" && break; sleep 0.05; done
xmig_on a migrate vm1 "127.0.0.1:$FAKE_PORT" >"$T/out" 2>"$T/err"; rc=$?
wait "$fake" || fail "the fake destination failed: $(cat "$T/fake.log")"
cat "$T/err"
[ "$rc" = 1 ] || fail "migrate: exit code $rc, expected 1"
[ "$(wc -l <"$T/err")" = 1 ] || fail "migrate: not one line on stderr"
grep -q "stopped" "$T/err" && fail "migrate claims xmigd stopped"
grep -qF 'no ?? room é ????[2J' "$T/err" || fail "migrate does not show the reason"
[ "$(dom_state a vm1)" = running ] || fail "vm1 not running at the source"

xmig_on a jobs --json >"$T/jobs.json" || fail "xmig jobs failed"
[ "$(jq 'map(select(.id == 1)) | length' "$T/jobs.json")" = 1 ] || fail "job 1 not in xmig jobs"
xmig_on a job 1 --json >"$T/job.json" 2>"$T/job.err" || fail "xmig job 1: $(cat "$T/job.err")"
[ "$(jq -r .result "$T/job.json")" = failed ] || fail "job 1 did not fail"
jq -r .error "$T/job.json" | grep -qF 'no ?? room é' || fail "job 1 error: $(jq .error "$T/job.json")"
xmig_on a history --json >"$T/hist.json" || fail "xmig history failed"
[ "$(jq 'map(select(.id == 1)) | length' "$T/hist.json")" = 1 ] || fail "job 1 not in history"
xmig_on a job 1 >/dev/null || fail "xmig job 1 (table) failed"

# The log: the reason as decoded, no raw byte of it.
LC_ALL=C grep -q $'\xff\|\xfe\|\x1b\|\xed' "$T/a.log" && fail "raw 0xff, 0xfe, 0xed or ESC in the log"
grep -qF 'refused: no ?? room é ????[2J' "$T/a.log" || fail "the reason is not in the log"
kill -0 "$PID_a" 2>/dev/null || fail "xmigd on a died"
