#!/bin/sh
# One host: xmigd with the Xen backend answers `xmig list` from the
# hypervisor, before and after a PVH guest is created.
. /lab/common.sh
check_xen
start_xmigd "$(hostname)" "127.0.0.1" || exit 1
log "xmig list (dom0 only):"
xm list
xl create -q /lab/guest-pvh.cfg 'name="g1"' || { log "xl create failed"; exit 1; }
wait_for 60 "g1 ticking" ticked g1 3
log "xl list:"
xl list
log "xmig list:"
xm list | tee /tmp/list.out
if grep -q 'g1' /tmp/list.out && grep -qi 'pvh' /tmp/list.out; then
	result "smoke-list PASS"
else
	result "smoke-list FAIL"
fi
xm list --json 2>&1 | head -c 2000; echo
# What xl keeps of the guest, which xmig carries (issue 12).
ls -la /var/lib/xen | sed 's/^/  var-lib-xen: /'
xl list -l g1 2>&1 | head -40 | sed 's/^/  xl-list-l: /'
xm migrate g1 127.0.0.1 2>&1 | sed 's/^/  xmig-self: /'
grep -a 'libxl\|warning' /var/log/xmigd.log | sed 's/^/  xmigd-log: /'
dump_xmigd 20
xl destroy g1 || log "xl destroy g1 failed"
