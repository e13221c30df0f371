#!/bin/sh
# Host A (10.99.0.1) drives the scenario; host B (hostB.sh) answers.
#  0. PVH guest pvh2: xl migrate A->B, for the time table
#  1. PVH guest pvh1 (same config): xmig migrate -l A->B (B sends it back)
#  2. PV guest pv1: xmig migrate -l must be refused, then offline A->B
#     (B sends it back offline)
#  3. xl destroy and power-off of domains xmigd restored
#  4. dev0, dev1's twin without devices: xmig migrate -l A->B (B sends it
#     back), for the table; PVH guest dev1 with a NIC on br0 and a disk on the shared drive: an
#     extra disk B does not allow is refused; a move B's vif-bridge fails is
#     undone; then xmig migrate -l A->B (B sends it back) with a TCP stream
#     from here to the guest and the guest's disk writes going on; then
#     the same guest moved by xl migrate A->B (the table's reference, and
#     xl on a domain xmigd restored), back with xmig, and rebooted here
#  5. HVM guest hvm1 with its QEMU device model: xl migrate A->B for the
#     table, xmig migrate -l B->A (B sends it) and A->B, then rebooted at
#     B (hostB.sh); an HVM guest with a VNC display is refused
#  6. HVM guest hvmdev with a NIC and two disks: xmig migrate -l A->B (B
#     sends it back)
#  (issue 12: pvh1's configuration travels with it: xl list -l and
#     xl reboot at B, crash kept at A; pv1 without one: xmig warns)
. /lab/common.sh
B=10.99.0.2
check_xen
start_xmigd A "$B/32" || abort "xmigd did not start"
trap 'dump_xmigd 80; report_xmigd_errors' EXIT
wait_for 240 "B's xmigd" nc -w 2 "$B" 8002 < /dev/null ||
    { result "B-unreachable FAIL"; abort "B's xmigd not reachable at $B:8002"; }

# 0. First, while the hosts are quiet, a guest of its own for xl.
#    (xl create failing with another guest running, "unable to XZ decompress
#    kernel", was Xen's lazy FPU switching under TCG: check_xen.)
create_guest pvh2 pvh
wait_for 90 "pvh2 ticking" ticked pvh2 5
xl_migrate_to xl-live-AB pvh2 "$B"
# Left here by a failed xl migrate: out of the way of the xmig steps.
[ "$XL_RC" = 0 ] || xl destroy pvh2


# 1. PVH live, there and back
create_guest pvh1 pvh 'on_reboot="rename-restart"'
wait_for 90 "pvh1 ticking" ticked pvh1 5
xmig_move pvh-live-AB pvh1 "$B" -l
retire_logs pvh1
xl list
wait_for 300 "pvh1 back from B" has_dom pvh1 && check_arrived pvh-live-BA-arrived pvh1
xl list
xm list
# 1b. The save fails with pvh1 suspended (a fault armed for one save, in
#     the suspend callback): xmigd resumes it here (xc_domain_resume, the
#     guest's suspend hypercall returns "cancelled"); it ticks on, and B
#     keeps nothing of it.
t=$(last_tick pvh1)
touch /tmp/xen-fail-after-suspend
xmig_migrate suspend-fail -l pvh1 "$B"
sleep 3
state=$(xl list pvh1 2>/dev/null | awk 'NR == 2 { print $5 }')
# xmig names the reason, not a bare "backend error"
if [ "$MIG_RC" != 0 ] && [ ! -e /tmp/xen-fail-after-suspend ] && has_dom pvh1 &&
    grep -q "failed: domain [0-9]*: fault injection: the save fails with the guest suspended" /tmp/mig.err &&
    ticked pvh1 $((t + 2)) && ! echo "$state" | grep -q '[psc]'; then
	result "suspend-fail-resumes PASS state=$state tick $t -> $(last_tick pvh1)"
else
	result "suspend-fail-resumes FAIL rc=$MIG_RC state=$state tick $t -> $(last_tick pvh1)"
fi
rm -f /tmp/xen-fail-after-suspend
grep -a "fault injection\|the save ended while\|resum" /var/log/xmigd.log | tail -4 |
    sed 's/^/  xmigd: /'

# 2. PV: live refused (no shadow paging), then offline, there and back
create_guest pv1 pv
wait_for 90 "pv1 ticking" ticked pv1 5
xmig_migrate pv-live-AB -l pv1 "$B"
t=$(last_tick pv1)
sleep 3
# Refused before anything is sent, and the operator is told why.
if [ "$MIG_RC" = 1 ] && grep -q "shadow paging" /tmp/mig.err && has_dom pv1 &&
    ticked pv1 $((t + 1)); then
	result "pv-live-refused PASS"
else
	result "pv-live-refused FAIL rc=$MIG_RC"
fi
grep -i "shadow" /var/log/xmigd.log | tail -2 | sed 's/^/  xmigd: /'
# 2b. A device xmig does not carry is refused before anything is sent: pv1
#     is given a framebuffer's xenstore nodes (a frontend and dom0's backend
#     half, as `vfb = [...]` would write them; the guest has no fbfront, so
#     nothing else changes), the offline migration is refused naming the
#     vfb, and pv1 keeps running here.  The nodes go again afterwards.
id=$(xl domid pv1)
xenstore-write "/local/domain/$id/device/vfb/0/backend-id" 0 \
    "/local/domain/0/backend/vfb/$id/0/frontend-id" "$id"
xmig_migrate dev-refused pv1 "$B"
t=$(last_tick pv1)
sleep 3
if [ "$MIG_RC" = 1 ] && grep -q "vfb 0: a framebuffer needs a device model; not supported" /tmp/mig.err &&
    has_dom pv1 && ticked pv1 $((t + 1)); then
	result "dev-refused PASS"
else
	result "dev-refused FAIL rc=$MIG_RC"
fi
sed 's/^/  xmig: /' /tmp/mig.err | head -3
xenstore-rm "/local/domain/$id/device/vfb" "/local/domain/0/backend/vfb/$id"
facts=$(dom_facts pv1)
uuid=$(dom_uuid pv1)
before=$(last_tick pv1)
# 2c. pv1 without its libxl configuration (as a domain another toolstack
#     made): xmig says, before it moves, what that means at B.
mkdir -p /tmp/hidden
mv /var/lib/xen/userdata-d."$id".*.libxl-json /tmp/hidden/
xmig_migrate pv-offline-AB pv1 "$B"
result "pv-offline-AB rc=$MIG_RC ms=$MIG_MS tick_at_start=$before tick_at_end=$(tick_at_end pv1) $facts"
w="pv1 has no toolstack configuration: at the destination a reboot will power it off"
if grep -qx "xmig: warning: $w" /tmp/mig.err &&
    tr -d '\n' < /tmp/mig.json | grep -q "\"warnings\": *\[ *\"$w\" *\]"; then
	result "no-config-warning PASS"
else
	result "no-config-warning FAIL $(head -1 /tmp/mig.err)"
fi
judge_gone pv-offline-AB-source-gone pv1 "$uuid"
retire_logs pv1
wait_for 300 "pv1 back from B" has_dom pv1 && check_arrived pv-offline-BA-arrived pv1

# 3. domains xmigd restored belong to xmigd: xl destroy works on them, and
#    one that powers off is destroyed and cleaned up by xmigd's watcher.
#    (PV: this PVH test guest halts on power-off instead of shutting down.)
# pvh1 came back from B with its configuration (on_crash = "preserve"):
# crashed, it is kept, as xl keeps it (issue 12).
xl sysrq pvh1 c
if wait_for 30 "pvh1 crashed" sh -c "xl list pvh1 | awk 'NR == 2 { print \$5 }' | grep -q c" &&
    sleep 8 && xl list pvh1 | awk 'NR == 2 { print $5 }' | grep -q c; then
	result "crash-preserve PASS"
else
	result "crash-preserve FAIL state: $(xl list pvh1 2>&1 | tail -1)"
fi
grep -a 'crashed' /var/log/xmigd.log | tail -2 | sed 's/^/  xmigd: /'
xl destroy pvh1 && ! has_dom pvh1 && result "xl-destroy-restored PASS" ||
    result "xl-destroy-restored FAIL"
# (only if pv1 came back: with no pv1 here there is nothing to reap)
id=$(xl domid pv1 2>/dev/null)
if [ -z "$id" ]; then
	result "poweroff-reaped FAIL no pv1 here to power off"
else
	# xl shutdown asks the guest (control/shutdown = poweroff); xmigd's
	# watcher reaps it when it has stopped.
	xl shutdown pv1 || log "xl shutdown pv1 failed"
	if wait_for 60 "pv1 reaped" sh -c '! xl list pv1' &&
	    ! xenstore-read "/local/domain/$id/name" >/dev/null 2>&1; then
		result "poweroff-reaped PASS"
	else
		result "poweroff-reaped FAIL"
	fi
fi
xl list

# 4. The device guest's twin without devices (mkinitrd.sh: lab.dev=0, the
#    same work on RAM disks), alone on the hosts as dev1 will be: moved
#    A->B->A for the downtime a vif and two vbds add (the lab's table).
create_guest dev0 dev0
wait_for 90 "dev0 ticking" ticked dev0 5
wait_for 60 "dev0 writing its RAM disks" disk_ok dev0 3 || abort "dev0 does not write its RAM disks"
xmig_move_dev dev0-live-AB dev0 "$B"
retire_logs dev0
wait_for 400 "dev0 back from B" has_dom dev0 && check_arrived dev0-live-BA-arrived dev0
xl destroy dev0 || log "xl destroy dev0 failed"

#    The device guest (mkinitrd.sh: lab.dev=1), with a TCP client here.
start_dev_guest dev1 /tmp/tcp.log /tmp/ping.log
id=$(xl domid dev1)
# 4a. A second disk, one B's device-disks-allow does not list: refused
#     before anything is sent, naming it; dev1 runs on with both disks.
dd if=/dev/zero of=/var/lib/xen/extra.img bs=1M count=4 2>/dev/null
if xl block-attach dev1 "file:/var/lib/xen/extra.img,xvdc,w" &&
    wait_for 30 "xvdc connected" sh -c "[ \"\$(xenstore-read /local/domain/0/backend/vbd/$id/51744/state)\" = 4 ]"; then
	t=$(last_tick dev1)
	xmig_migrate dev-disk-refused -l dev1 "$B"
	sleep 3
	if [ "$MIG_RC" = 1 ] && grep -q "vbd 51744 (xvdc): /var/lib/xen/extra.img is not allowed by device-disks-allow" /tmp/mig.err &&
	    has_dom dev1 && ticked dev1 $((t + 1)); then
		result "dev-disk-refused PASS"
	else
		result "dev-disk-refused FAIL rc=$MIG_RC $(head -1 /tmp/mig.err)"
	fi
	xl block-detach dev1 xvdc || log "xl block-detach dev1 xvdc failed"
	wait_for 30 "xvdc gone" sh -c "! xenstore-read /local/domain/0/backend/vbd/$id/51744/state"
else
	result "dev-disk-refused FAIL xl block-attach did not work"
fi
# 4b. B's vif-bridge fails once (hostB.sh): the move fails after B set up
#     its devices, B removes them, and dev1 runs on here, reachable.
t=$(last_tick dev1)
xmig_migrate dev-hotplug-fault -l dev1 "$B"
sleep 3
if [ "$MIG_RC" != 0 ] && grep -q "vif-bridge online failed" /tmp/mig.err &&
    has_dom dev1 && ticked dev1 $((t + 1)) && ping -c 1 -W 2 10.99.0.10 >/dev/null; then
	result "dev-hotplug-fault PASS"
else
	result "dev-hotplug-fault FAIL rc=$MIG_RC $(head -1 /tmp/mig.err)"
fi
# 4c. Live A->B, then B sends it back.
xmig_move_dev dev-live-AB dev1 "$B"
ab0=$MOVE_T0 ab1=$MOVE_T1
retire_logs dev1
wait_for 400 "dev1 back from B" has_dom dev1 && check_arrived dev-live-BA-arrived dev1
ba1=$(ms)
sleep 2
result "dev-tcp $(tcp_report /tmp/tcp.log $ab0 $((ab1 + 3000)) $((ab1 + 3000)) $ba1) $(ping_report /tmp/ping.log $ab0 $((ab1 + 3000)) $((ab1 + 3000)) $ba1)"
sed 's/^/  tcp: /' /tmp/tcp.log | tail -3
# 4d. The reference, and xl on a domain xmigd restored (issue 12): dev1
#     moved by xl migrate A->B, its TCP stream and pings still watched.
#     B sends it back with xmig (dev-live-BA2).
xl_migrate_to xl-dev-AB dev1 "$B"
sleep 5
w="$XL_T0 $((XL_T1 + 3000)) 0 0"
# shellcheck disable=SC2086
result "xl-dev-tcp $(tcp_report /tmp/tcp.log $w) $(ping_report /tmp/ping.log $w)"
[ "$XL_RC" = 0 ] || xl destroy dev1
retire_logs dev1
# 4e. Back (xmig, from B): xl hot-plugs a second NIC into the domain
#     xmigd restored and takes it out again; then dev1 reboots itself
#     (sysrq b: the kernel's own restart) and xmigd builds it again with
#     its NIC and disk.
vif1_state() { xenstore-read "/local/domain/0/backend/vif/$id0/1/state" 2>/dev/null; }
if wait_for 400 "dev1 back from B" has_dom dev1; then
	wait_for 60 "dev1 ticking" ticked dev1 3
	id0=$(xl domid dev1)
	uuid0=$(dom_uuid dev1)
	if xl network-attach dev1 bridge=br0 mac=00:16:3e:00:00:11 > /tmp/na.out 2>&1 &&
	    wait_for 60 "dev1's second NIC connected" sh -c "[ \"\$(xenstore-read /local/domain/0/backend/vif/$id0/1/state)\" = 4 ]" &&
	    xl network-detach dev1 1 >> /tmp/na.out 2>&1 &&
	    wait_for 60 "dev1's second NIC gone" sh -c "! xenstore-read /local/domain/0/backend/vif/$id0/1/state" &&
	    ! ip -o link | grep -q "vif$id0\.1"; then
		result "xl-network-attach-after-xmig PASS"
	else
		result "xl-network-attach-after-xmig FAIL state=$(vif1_state) $(tail -1 /tmp/na.out)"
		guest_trouble dev1
	fi
	# ... and a second disk by xl block-attach/-detach (the loop device of
	# the file image released).
	vbd_state() { xenstore-read "/local/domain/0/backend/vbd/$id0/51744/state" 2>/dev/null; }
	if xl block-attach dev1 "file:/var/lib/xen/extra.img,xvdc,w" > /tmp/ba.out 2>&1 &&
	    wait_for 60 "dev1's xvdc connected" sh -c "[ \"\$(xenstore-read /local/domain/0/backend/vbd/$id0/51744/state)\" = 4 ]" &&
	    xl block-detach dev1 xvdc >> /tmp/ba.out 2>&1 &&
	    wait_for 60 "dev1's xvdc gone" sh -c "! xenstore-read /local/domain/0/backend/vbd/$id0/51744/state" &&
	    ! losetup -a | grep -q extra.img; then
		result "xl-block-attach-after-xmig PASS"
	else
		result "xl-block-attach-after-xmig FAIL state=$(vbd_state) $(tail -1 /tmp/ba.out)"
		sed 's/^/  block-attach: /' /tmp/ba.out
		log "frontend: $(xenstore-read "/local/domain/$id0/device/vbd/51744/state" 2>&1)" \
		    "error: $(xenstore-ls "/local/domain/$id0/error" 2>&1 | tr '\n' ' ')" \
		    "loops: $(losetup -a | tr '\n' ' ')"
		xenstore-ls -f "/local/domain/0/backend/vbd/$id0" 2>&1 | sed 's/^/  vbd: /'
		guest_trouble dev1
		xl block-detach -f dev1 xvdc >/dev/null 2>&1
	fi
	retire_logs dev1
	xl sysrq dev1 b
	if out=$(rebuilt dev1 "$id0" "$uuid0") &&
	    wait_for 60 "dev1 answering ping" ping -c 1 -W 1 10.99.0.10 &&
	    wait_for 60 "dev1 writing its disk" disk_ok dev1 2; then
		result "reboot-at-dest PASS $out $(disk_facts dev1)"
	else
		result "reboot-at-dest FAIL $out $(disk_facts dev1)"
	fi
	grep -a 'built again\|asked to reboot\|could not be built' /var/log/xmigd.log | tail -3 |
	    sed 's/^/  xmigd: /'
	# 4f. The domain built again (an xl domain now) moves on with xmig,
	#     its disks and NIC with it (B waits for it: hostB.sh).
	has_dom dev1 && xmig_move_dev reboot-then-AB dev1 "$B"
fi
xl list

# 5. An HVM guest (issue 15), alone on the hosts: xl migrate moves it
#    A->B for the table, B sends it back with xmig (an HVM domain xl made
#    there) and A sends it to B again with xmig (one xmigd made): each time
#    its QEMU moves with it (stopped and saved at the source, started with
#    -incoming at the destination), its counter goes on, and the source's
#    QEMU is gone.  Its device model's command line, as libxl started it,
#    goes to the log.
create_guest hvm1 hvm
if wait_for 240 "hvm1 ticking" ticked hvm1 3; then
	dm=$(dm_pid hvm1)
	[ -n "$dm" ] && log "hvm1's device model: $(tr '\0' ' ' < "/proc/$dm/cmdline")"
	xl_migrate_to xl-hvm-AB hvm1 "$B"
	[ "$XL_RC" = 0 ] || xl destroy hvm1
	retire_logs hvm1
	if wait_for 300 "hvm1 back from B (xmig)" has_dom hvm1; then
		check_arrived hvm-live-BA-arrived hvm1
		dm=$(dm_pid hvm1)
		id=$(xl domid hvm1)
		[ -n "$dm" ] && log "hvm1's device model here now: $(tr '\0' ' ' < "/proc/$dm/cmdline")"
		xmig_move hvm-live-AB hvm1 "$B" -l
		judge_dm_gone hvm-live-AB-source-dm-gone "$dm" "$id"
	else
		dm_log hvm1
	fi
else
	result "xl-hvm-AB FAIL hvm1 did not tick within 240 s"
	guest_trouble hvm1
	xl destroy hvm1
fi
# An HVM guest whose device model xmig cannot start (a VNC display) is
# refused before anything is sent, and keeps running with its QEMU.
create_guest hvm2 hvm 'vnc=1'
dm=$(dm_pid hvm2)
xmig_migrate hvm-refused -l hvm2 "$B"
sleep 2
if [ "$MIG_RC" = 1 ] && grep -q "vnc" /tmp/mig.err && has_dom hvm2 && [ -n "$dm" ] &&
    kill -0 "$dm"; then
	result "hvm-refused PASS"
else
	result "hvm-refused FAIL rc=$MIG_RC $(head -1 /tmp/mig.err)"
fi
xl destroy hvm2

# 6. An HVM guest with a NIC on br0 and two disks (issue 15; dev1 has gone:
#    it takes dev1's MAC and address): xmig moves it A->B and B sends it
#    back, judged as the device guest is (counter, disk writes, nothing
#    left at the source, its QEMU gone), with its TCP stream and pings.
start_dev_guest hvmdev /tmp/tcp-hvm.log /tmp/ping-hvm.log hvmdev 240
dm=$(dm_pid hvmdev)
id=$(xl domid hvmdev)
xmig_move_dev hvm-dev-live-AB hvmdev "$B"
ab0=$MOVE_T0 ab1=$MOVE_T1
judge_dm_gone hvm-dev-live-AB-source-dm-gone "$dm" "$id"
retire_logs hvmdev
wait_for 400 "hvmdev back from B" has_dom hvmdev && check_arrived hvm-dev-live-BA-arrived hvmdev
ba1=$(ms)
sleep 2
result "hvm-dev-tcp $(tcp_report /tmp/tcp-hvm.log $ab0 $((ab1 + 3000)) $((ab1 + 3000)) $ba1) $(ping_report /tmp/ping-hvm.log $ab0 $((ab1 + 3000)) $((ab1 + 3000)) $ba1)"
xl destroy hvmdev
