#!/bin/sh
# /init of the lab's dom0 (busybox): the minimal Xen toolstack, the lab
# network, then /lab/<lab.role>.sh from the kernel command line, then
# power-off (lab.halt=0: a shell instead).
export PATH=/usr/lib/xen-4.17/bin:/usr/sbin:/usr/bin:/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm && mount -t devpts devpts /dev/pts
# devtmpfs has no /dev/fd or /dev/std*: the hotplug scripts' locking
# (locking.sh: stat /dev/stdin) spins without them.
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
mount -t tmpfs tmp /run
mkdir -p /run/xen /run/xenstored /run/lock /run/xmig
mount -t tmpfs tmp /tmp
mount -t tmpfs tmp /var/lib/xen
ts() { cut -d' ' -f1 /proc/uptime; }
log() { echo "LAB[$(ts)] $*"; }
arg() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" /proc/cmdline; }
log "dom0 init"
while read -r m; do
	insmod "/lib/modules/$(uname -r)/$m" || log "insmod $m failed"
done < /lab/modules.order
mount -t xenfs xenfs /proc/xen || log "xenfs mount failed"
# The folder both hosts share (boot-host.sh LAB_SHARE), uncached so that
# each host reads what the other wrote.
if grep -qs labshare /sys/bus/virtio/drivers/9pnet_virtio/*/mount_tag; then
	mkdir -p /shared && mount -t 9p -o trans=virtio,version=9p2000.L,cache=none labshare /shared ||
	    log "9p mount of the shared folder failed"
fi
xenstored --pid-file /run/xenstored.pid || log "xenstored failed"
for i in 1 2 3 4 5 6 7 8 9 10; do [ -S /run/xenstored/socket ] && break; sleep 0.5; done
xen-init-dom0 >/dev/null || log "xen-init-dom0 failed"
mkdir -p /var/log/xen
xenconsoled --pid-file=/run/xenconsoled.pid --log=guest --log-dir=/var/log/xen \
    --timestamp=guest || log "xenconsoled failed"
hostname "$(arg lab.name || echo dom0)"
ip link set lo up
IP=$(arg lab.ip)
if [ -n "$IP" ]; then
	for i in 1 2 3 4 5 6 7 8 9 10; do [ -e /sys/class/net/eth0 ] && break; sleep 0.3; done
	# eth0 in a bridge, br0, with the host's address: guests' vifs join br0
	# (vif-bridge), so a guest is on the lab network wherever it runs.
	ip link add br0 type bridge && ip link set eth0 master br0 &&
	    ip link set eth0 up && ip link set br0 up && ip addr add "$IP/24" dev br0 &&
	    log "br0 (eth0) $IP"
fi
log "toolstack up"
ROLE=$(arg lab.role)
if [ -n "$ROLE" ] && [ -x "/lab/$ROLE.sh" ]; then
	log "role $ROLE"
	/lab/"$ROLE".sh 2>&1
	log "role $ROLE finished rc=$?"
fi
if [ "$(arg lab.halt)" != 0 ]; then
	sync
	poweroff -f
fi
exec setsid cttyhack sh -l
