#!/bin/sh
# Host B (10.99.0.2): receives what A sends and sends xmig's guests back.
. /lab/common.sh
A=10.99.0.1
check_xen
start_xmigd B "$A/32" || abort "xmigd did not start"
trap 'dump_xmigd 80; report_xmigd_errors' EXIT
# The device guest's first move here must fail in vif-bridge (hostA.sh
# 4b): a wrapper makes its first "online" fail, then runs the real one.
mv /etc/xen/scripts/vif-bridge /etc/xen/scripts/vif-bridge.real
cat > /etc/xen/scripts/vif-bridge <<'EOS'
#!/bin/sh
if [ "$1" = online ] && [ -e /tmp/vif-fail-once ]; then
	rm -f /tmp/vif-fail-once
	echo "$XENBUS_PATH" > /tmp/vif-failed	# backend/vif/DOMID/DEVID
	echo "lab: vif-bridge made to fail once" >&2
	exit 1
fi
exec /etc/xen/scripts/vif-bridge.real "$@"
EOS
chmod +x /etc/xen/scripts/vif-bridge
touch /tmp/vif-fail-once
# xl migrate's receiving end (one shot; its stderr must stay out of the
# stream).
cat > /tmp/xl-recv.sh <<'EOS'
#!/bin/sh
exec /usr/lib/xen-4.17/bin/xl migrate-receive 2>/tmp/xl-recv.log
EOS
chmod +x /tmp/xl-recv.sh
xl_receive() { socat -b 262144 TCP-LISTEN:5000,reuseaddr EXEC:/tmp/xl-recv.sh & }
# A domain xl_receive took in is ready once its --incoming name is gone.
xl_received() {	# label, domain
	wait_for 60 "xl migrate-receive done" sh -c '! xl list | grep -q -- --incoming'
	check_arrived "$1" "$2"
}
xl_receive
SOCAT=$!

# Until pvh2 is here or the one-shot receiver is gone (a failed xl migrate:
# the xmig steps still run).
wait_for 300 "pvh2 from A (xl)" \
    sh -c "xl list pvh2 || ! grep -qs '^State:[[:space:]]*[^Z]' /proc/$SOCAT/status" ||
    abort "no pvh2 from A (xl)"
if has_dom pvh2; then
	xl_received xl-live-AB-arrived pvh2
	xl destroy pvh2
else
	log "xl migrate-receive failed:"
	sed 's/^/  xl-recv: /' /tmp/xl-recv.log
fi

wait_for 400 "pvh1 from A" has_dom pvh1 || abort "no pvh1 from A"
check_arrived pvh-live-AB-arrived pvh1
xl list
xm list
# Its libxl configuration came with it: xl sees it (issue 12) ...
if xl list -l pvh1 > /tmp/xl-l.json 2> /tmp/xl-l.err && grep -q '"name": "pvh1"' /tmp/xl-l.json; then
	result "xl-list-l-after-xmig PASS"
else
	result "xl-list-l-after-xmig FAIL $(head -1 /tmp/xl-l.err)"
fi
# ... and an xl reboot here builds it again from it (xmigd's watcher).
id0=$(xl domid pvh1)
uuid0=$(dom_uuid pvh1)
retire_logs pvh1
xl reboot pvh1 || log "xl reboot pvh1 failed"
if out=$(rebuilt pvh1 "$id0" "$uuid0"); then
	result "xl-reboot-at-dest PASS $out"
else
	result "xl-reboot-at-dest FAIL $out"
fi
# on_reboot = "rename-restart": the stopped domain is kept, as xl keeps
# it, as pvh1-<UTC time>Z with a UUID of its own; then it is removed.
kept=$(xl list | awk '$1 ~ /^pvh1-[0-9]+T[0-9]+Z$/ { print $1 }')
if [ -n "$kept" ] && [ "$(xl list "$kept" | awk 'NR == 2 { print $2 }')" = "$id0" ] &&
    [ "$(xenstore-read "/local/domain/$id0/vm" 2>/dev/null)" != "/vm/$uuid0" ] &&
    xl destroy "$kept" && ! xl list "$kept" >/dev/null 2>&1; then
	result "rename-restart-kept PASS $kept (id $id0) kept, then destroyed"
else
	result "rename-restart-kept FAIL kept=[${kept}] $(xl list | tr -s ' ' | tr '\n' ';')"
fi
grep -a 'built again\|asked to reboot\|rename-restart' /var/log/xmigd.log | tail -4 |
    sed 's/^/  xmigd: /'
sleep 3
# back with the libxenguest stream compressed (ZRAW frames)
xmig_move pvh-live-BA pvh1 "$A" -l --compress lz4

wait_for 400 "pv1 from A" has_dom pv1 || abort "no pv1 from A"
check_arrived pv-offline-AB-arrived pv1
sleep 5
xmig_move pv-offline-BA pv1 "$A"


# The device guest's twin without devices (hostA.sh 4): back at once.
wait_for 400 "dev0 from A" has_dom dev0 || abort "no dev0 from A"
check_arrived dev0-live-AB-arrived dev0
xmig_move_dev dev0-live-BA dev0 "$A"
retire_logs dev0

# The device guest: the failed move (hostA.sh 4b) leaves nothing here of
# the domain it was building (its id from the failed script's XENBUS_PATH;
# A's next try builds another).
if wait_for 600 "the failing vif-bridge run" test -s /tmp/vif-failed; then
	fid=$(cut -d/ -f3 /tmp/vif-failed)
	log "vif-bridge failed for domain $fid"
	wait_for 30 "domain $fid gone" sh -c "! xl list $fid" || true
	if ! xl list "$fid" >/dev/null 2>&1 && wait_for 15 "domain $fid's devices gone" clean_here "$fid"; then
		result "dev-hotplug-fault-B-clean PASS"
	else
		result "dev-hotplug-fault-B-clean FAIL left: $(dev_leftovers "$fid") $(xl list "$fid" 2>/dev/null | awk 'NR > 1 { print $1 "(" $2 ")" }')"
	fi
fi
wait_for 400 "dev1 from A" has_dom dev1 || abort "no dev1 from A"
check_arrived dev-live-AB-arrived dev1
xmig_move_dev dev-live-BA dev1 "$A"
# (xl migrate-receive logs the next arrival under dev1--incoming again)
retire_logs dev1

# The device guest moved by xl (hostA.sh 4d): dev1 as xmigd restored it
# at A, with the configuration it carried; one more one-shot xl receiver.
# Then xmig sends it back (xl's domain now) for its reboot at A (4e).
xl_receive
if wait_for 400 "dev1 from A (xl)" has_dom dev1; then
	xl_received xl-dev-AB-arrived dev1
	uuid=$(dom_uuid dev1)
	xmig_migrate dev-live-BA2 -l dev1 "$A"
	result "dev-live-BA2 rc=$MIG_RC ms=$MIG_MS"
	judge_gone dev-live-BA2-source-gone dev1 "$uuid"
else
	sed 's/^/  xl-recv: /' /tmp/xl-recv.log
fi

# dev1 once more (hostA.sh 4f): after its reboot at A, built again by
# xmigd's watcher, xmig brings it here with its disks and NIC.
retire_logs dev1
if wait_for 600 "dev1 from A after its reboot" has_dom dev1; then
	check_arrived reboot-then-AB-arrived dev1
	xl destroy dev1
fi

# The HVM guest (hostA.sh 5), moved by xl: one more one-shot receiver.
retire_logs dev1
xl_receive
if wait_for 600 "hvm1 from A (xl)" has_dom hvm1; then
	xl_received xl-hvm-AB-arrived hvm1
	# back to A with xmig: an HVM domain xl made here, with its QEMU
	log "hvm1's libxl configuration here: $(xl list -l hvm1 2>&1 | tr -s ' \n' ' ' | head -c 3000)"
	dm=$(dm_pid hvm1)
	id=$(xl domid hvm1)
	xmig_move hvm-live-BA hvm1 "$A" -l
	has_dom hvm1 && xl destroy hvm1
	retire_logs hvm1
	judge_dm_gone hvm-live-BA-source-dm-gone "$dm" "$id"
	# and here again from A (xmig), from a domain xmigd built there
	if wait_for 300 "hvm1 from A (xmig)" has_dom hvm1; then
		check_arrived hvm-live-AB-arrived hvm1
		# rebooted here, xmigd's watcher builds it again with xl from
		# the configuration that came with it (its QEMU libxl's now)
		id0=$(xl domid hvm1)
		uuid0=$(dom_uuid hvm1)
		retire_logs hvm1
		xl reboot hvm1 || log "xl reboot hvm1 failed"
		if out=$(rebuilt hvm1 "$id0" "$uuid0" 240) && [ -n "$(dm_pid hvm1)" ]; then
			result "hvm-reboot-at-dest PASS $out"
		else
			result "hvm-reboot-at-dest FAIL $out dm=$(dm_pid hvm1)"
			grep -a 'built again\|asked to reboot\|could not be built' /var/log/xmigd.log |
			    tail -3 | sed 's/^/  xmigd: /'
			dm_log hvm1
		fi
		xl destroy hvm1
	else
		dm_log hvm1
	fi
else
	sed 's/^/  xl-recv: /' /tmp/xl-recv.log
fi

# The HVM device guest (hostA.sh 6): back at once, its QEMU gone here.
if wait_for 600 "hvmdev from A" has_dom hvmdev; then
	check_arrived hvm-dev-live-AB-arrived hvmdev
	dm=$(dm_pid hvmdev)
	id=$(xl domid hvmdev)
	xmig_move_dev hvm-dev-live-BA hvmdev "$A"
	judge_dm_gone hvm-dev-live-BA-source-dm-gone "$dm" "$id"
fi
