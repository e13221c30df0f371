#!/bin/sh
# Host B (10.99.0.2): receives what A sends and sends xmig's guests back.
. /lab/common.sh
A=10.99.0.1
check_xen
start_xmigd B "$A/32" || abort "xmigd did not start"
trap 'dump_xmigd 80; report_xmigd_errors' EXIT
# xl migrate's receiving end for the comparison (one shot; its stderr must
# stay out of the stream).
cat > /tmp/xl-recv.sh <<'EOS'
#!/bin/sh
exec /usr/lib/xen-4.17/bin/xl migrate-receive 2>/tmp/xl-recv.log
EOS
chmod +x /tmp/xl-recv.sh
socat -b 262144 TCP-LISTEN:5000,reuseaddr EXEC:/tmp/xl-recv.sh &
SOCAT=$!

# Until pvh2 is here or the one-shot receiver is gone (a failed xl migrate:
# the xmig steps still run).
wait_for 300 "pvh2 from A (xl)" \
    sh -c "xl list pvh2 || ! grep -qs '^State:[[:space:]]*[^Z]' /proc/$SOCAT/status" ||
    abort "no pvh2 from A (xl)"
if has_dom pvh2; then
	wait_for 60 "xl migrate-receive done" sh -c '! xl list | grep -q -- --incoming'
	check_arrived xl-live-AB-arrived pvh2
	xl destroy pvh2
else
	log "xl migrate-receive failed:"
	sed 's/^/  xl-recv: /' /tmp/xl-recv.log
fi

wait_for 400 "pvh1 from A" has_dom pvh1 || abort "no pvh1 from A"
check_arrived pvh-live-AB-arrived pvh1
xl list
xm list
sleep 5
facts=$(dom_facts pvh1)
uuid=$(dom_uuid pvh1)
before=$(last_tick pvh1)
# back with the libxenguest stream compressed (ZRAW frames)
xmig_migrate pvh-live-BA -l --compress lz4 pvh1 "$A"
result "pvh-live-BA rc=$MIG_RC ms=$MIG_MS tick_at_start=$before tick_at_end=$(tick_at_end pvh1) $facts"
judge_gone pvh-live-BA-source-gone pvh1 "$uuid"

wait_for 400 "pv1 from A" has_dom pv1 || abort "no pv1 from A"
check_arrived pv-offline-AB-arrived pv1
sleep 5
facts=$(dom_facts pv1)
uuid=$(dom_uuid pv1)
before=$(last_tick pv1)
xmig_migrate pv-offline-BA pv1 "$A"
result "pv-offline-BA rc=$MIG_RC ms=$MIG_MS tick_at_start=$before tick_at_end=$(tick_at_end pv1) $facts"
judge_gone pv-offline-BA-source-gone pv1 "$uuid"

