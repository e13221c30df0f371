#!/usr/bin/env bash
# Strangers whose reverse lookups never answer cannot lock out a peer that
# a host name entry of relocation-hosts-allow admits: 40 connections from
# 20 such addresses (more than the lookups that run at once), then a real
# migration from "trusty" (127.0.0.1, admitted by ^trusty$ through
# /etc/hosts) must succeed within a few seconds; the hanging lookups end at
# relocation-hosts-lookup-timeout-ms with a log line, each address is
# looked up once however many connections it opens, and a timed-out
# address is refused at once afterwards, without a new lookup (cached);
# and trusty, once admitted, is admitted at once (cached) even while a new
# wave of strangers holds every lookup slot.
# The receiver runs in its own mount namespace with its own /etc/hosts,
# nsswitch.conf ("files dns") and resolv.conf, whose name server is a local
# UDP port that takes queries and never answers.  Needs root.
tid=allow-name-lookups-cannot-starve
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP [$tid]: needs root"; exit 0; }
command -v python3 >/dev/null || { echo "SKIP [$tid]: needs python3"; exit 0; }
DNS=127.0.0.254

# The silent name server: logs each query's name, answers none.
cat >"$T/dns_sink.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 53))
log = open(sys.argv[2], "a", buffering=1)
open(sys.argv[3], "w").close()
while True:
    pkt, _ = s.recvfrom(4096)
    i, labels = 12, []
    while i < len(pkt) and pkt[i] != 0:
        labels.append(pkt[i + 1:i + 1 + pkt[i]].decode("ascii", "replace"))
        i += 1 + pkt[i]
    log.write(".".join(labels) + "\n")
EOF
# Connections from 127.0.0.FIRST..LAST, PER each, held open until killed.
cat >"$T/hold.py" <<'EOF'
import socket, sys, time
port, first, last, per, ready = (int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]),
    int(sys.argv[4]), sys.argv[5])
held = []
for i in range(first, last + 1):
    for _ in range(per):
        c = socket.socket()
        c.bind(("127.0.0.%d" % i, 0))
        c.connect(("127.0.0.1", port))
        held.append(c)
open(ready, "w").close()
time.sleep(300)
EOF
# Seconds until the daemon closes a new connection from 127.0.0.$1.
cat >"$T/closed_after.py" <<'EOF'
import socket, sys, time
c = socket.socket()
c.bind((sys.argv[1], 0))
c.connect(("127.0.0.1", int(sys.argv[2])))
c.settimeout(10)
t = time.monotonic()
try:
    c.recv(1)
except OSError:
    pass
print("%.2f" % (time.monotonic() - t))
EOF

python3 "$T/dns_sink.py" "$DNS" "$T/queries" "$T/dns.ready" 2>"$T/dns.err" &
DAEMONS+=("$!")
for _ in $(seq 100); do [ -e "$T/dns.ready" ] && break; sleep 0.05; done
[ -e "$T/dns.ready" ] || fail "the silent name server did not start: $(cat "$T/dns.err")"

printf '127.0.0.1 trusty\n' >"$T/b.hosts"
printf 'multi off\n' >"$T/b.host.conf"
printf 'nameserver %s\noptions timeout:30 attempts:1\n' "$DNS" >"$T/b.resolv.conf"
printf 'hosts: files dns\n' >"$T/b.nsswitch.conf"
cat >"$T/b.wrap" <<EOW
#!/bin/sh
for f in hosts host.conf resolv.conf nsswitch.conf; do
	mount --bind "$T/b.\$f" "/etc/\$f" || exit 1
done
exec "\$@"
EOW
chmod +x "$T/b.wrap"
write_conf b "relocation-hosts-allow = ^trusty\$" "relocation-hosts-lookup-timeout-ms = 2000"
XMIGD_WRAP="unshare -m --propagation private $T/b.wrap" start_xmigd b
start_xmigd a
pb=$(port_of b)
simhv_on a create vm1 --memory 16M --dirty-rate 500 >/dev/null || fail "create"
simhv_on a create vm2 --memory 16M --dirty-rate 500 >/dev/null || fail "create vm2"

# 20 hanging addresses, 2 connections each.
python3 "$T/hold.py" "$pb" 11 30 2 "$T/hold.ready" 2>"$T/hold.err" &
DAEMONS+=("$!")
for _ in $(seq 100); do [ -e "$T/hold.ready" ] && break; sleep 0.05; done
[ -e "$T/hold.ready" ] || fail "could not open the strangers' connections: $(cat "$T/hold.err")"
sleep 0.3

start=$(date +%s%N)
xmig_on a migrate -l vm1 "127.0.0.1:$pb" 2>"$T/err"; rc=$?
took=$(( ($(date +%s%N) - start) / 1000000 ))
trace "migration from trusty: exit $rc after $took ms: $(cat "$T/err")"
[ "$rc" = 0 ] || fail "migration from trusty failed while strangers' lookups hang (exit $rc)"
[ "$took" -lt 9000 ] || fail "migration from trusty took $took ms"
[ "$(dom_state b vm1)" = running ] || fail "vm1 not running on b"
expect_verify_ok b vm1

grep -q "refused relocation connection from 127.0.0.11:[0-9]*: reverse lookup timed out after 2000 ms" \
    "$T/b.log" || fail "no 'reverse lookup timed out' line naming 127.0.0.11"
# One lookup per address, although each opened two connections.
n=$(grep -c '^11\.0\.0\.127\.in-addr\.arpa$' "$T/queries")
[ "$n" = 1 ] || fail "127.0.0.11 was looked up $n times, expected once"

# Timed out: refused at once for a while, without a new lookup.
s=$(python3 "$T/closed_after.py" 127.0.0.11 "$pb") || fail "cannot connect from 127.0.0.11"
trace "a new connection from 127.0.0.11 was closed after $s s"
awk -v s="$s" 'BEGIN { exit !(s < 1) }' || fail "a timed-out address waited $s s, not refused at once"
grep -q "refused relocation connection from 127.0.0.11:[0-9]*: reverse lookup timed out (cached" \
    "$T/b.log" || fail "no cached refusal of 127.0.0.11"
n=$(grep -c '^11\.0\.0\.127\.in-addr\.arpa$' "$T/queries")
[ "$n" = 1 ] || fail "127.0.0.11 was looked up again ($n lookups)"

# A new wave of 20 strangers takes the lookup slots again; trusty's
# admission is cached, so it does not wait for them (the budget is 2 s).
python3 "$T/hold.py" "$pb" 31 50 2 "$T/hold2.ready" 2>"$T/hold2.err" &
DAEMONS+=("$!")
for _ in $(seq 100); do [ -e "$T/hold2.ready" ] && break; sleep 0.05; done
[ -e "$T/hold2.ready" ] || fail "could not open the second wave: $(cat "$T/hold2.err")"
sleep 0.3
start=$(date +%s%N)
xmig_on a migrate -l vm2 "127.0.0.1:$pb" 2>"$T/err"; rc=$?
took=$(( ($(date +%s%N) - start) / 1000000 ))
trace "second migration from trusty: exit $rc after $took ms: $(cat "$T/err")"
[ "$rc" = 0 ] || fail "second migration from trusty failed (exit $rc)"
[ "$took" -lt 1500 ] || fail "second migration from trusty took $took ms: not admitted from the cache"
grep -q "127.0.0.1:[0-9]* is trusty (cached" "$T/b.log" || fail "trusty not admitted from the cache"
true
