#!/bin/sh
# One host: xl create of a second guest, 5 times (lab.n=N on the dom0
# command line: N times), while a PVH guest runs.
# With Xen's lazy FPU switching under QEMU/TCG, dom0's FPU state gets
# corrupted and most of these fail ("unable to XZ decompress kernel");
# boot-host.sh's spec-ctrl=eager-fpu makes them pass.  Reproduce the bug:
#   XEN_EXTRA=spec-ctrl=no-eager-fpu tests/xenlab/boot-host.sh fpu fpucheck [-- lab.n=10]
#   grep -a 'LAB' build/xenlab/logs/fpu.log
. /lab/common.sh
log "Xen: $(xl dmesg | grep 'Support for HVM VMs' | sed 's/.*: //')"
create_guest g1 pvh
wait_for 60 "g1 ticking" ticked g1 3
n=$(sed -n 's/.*lab\.n=\([0-9]*\).*/\1/p' /proc/cmdline)
n=${n:-5} ok=0
for i in $(seq 1 "$n"); do
	if xl -vv create /lab/guest-pvh.cfg "name=\"t$i\"" > /tmp/t.log 2>&1; then
		ok=$((ok + 1))
		xl destroy "t$i"
	else
		log "t$i: $(grep -m1 'decompress' /tmp/t.log | sed 's/.*detail: //')"
	fi
done
[ "$ok" = "$n" ] && result "fpucheck PASS $ok/$n" || result "fpucheck FAIL $ok/$n"
