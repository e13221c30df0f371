#!/bin/sh
# Boot one lab host: Xen 4.17 + the Debian dom0 in QEMU (TCG), running
# /lab/ROLE.sh in dom0, then powering off.
# usage: boot-host.sh NAME ROLE [IP listen|connect] [-- extra dom0 words]
# The serial log goes to build/xenlab/logs/NAME.log, QEMU's pid to
# NAME.pid.  Bounded by HOST_TIMEOUT seconds (default 600).
#
# Why these QEMU flags (measured, see /work/shared/xenlab/README.md):
#  - TCG: /dev/kvm here is PVM, which runs neither a stock kernel nor Xen;
#  - -cpu max,-smap: TCG does ring-3 iret stack reads as supervisor, which
#    SMAP (on in Xen) turns into a dom0 crash;
#  - -rdtscp: QEMU's emulated SVM reports an RDTSCP exit as RDTSC and Xen
#    then hangs PVH guests;
#  - xen.elf is a multiboot ELF: -kernel/-initrd load it without a bootloader.
# And on Xen's command line:
#  - spec-ctrl=eager-fpu: on this (AMD) CPU Xen otherwise switches FPU state
#    lazily (CR0.TS + #NM), and under TCG's emulated SVM that corrupts the
#    FPU/SSE registers of dom0 processes while a PVH guest runs: libxenguest's
#    XZ decoder then finds the guest kernel "corrupt" and xl create fails
#    ("unable to XZ decompress kernel: Invalid kernel"), 3-5 times in 5 with
#    one guest running, never with eager switching (measured; README.md).
#    Anything else dom0 computes (migration streams) was exposed the same way.
# XEN_EXTRA: more Xen command-line words (later ones win).
set -eu
. "$(dirname "$0")/lab.sh"
NAME=$1 ROLE=$2 IP="" NETMODE=""
shift 2
if [ $# -gt 0 ] && [ "$1" != -- ]; then
	IP=$1 NETMODE=${2:-}
	shift; [ $# -gt 0 ] && shift
fi
[ "${1:-}" = -- ] && shift
EXTRA=$*
mkdir -p "$LAB_BUILD/logs"
NET="-nic none"
if [ -n "$NETMODE" ]; then
	MAC=52:54:00:99:00:$(printf %02x "${IP##*.}")
	NET="-netdev socket,id=n0,$NETMODE=127.0.0.1:$LAB_PORT -device e1000,netdev=n0,mac=$MAC"
fi
# LAB_DISK: a raw image given to this host as a virtio disk (/dev/vda in
# dom0), the stand-in for a SAN LUN: both hosts get the same file, without
# host caching or locking so that each sees the other's writes.
DISK=""
[ -n "${LAB_DISK:-}" ] && DISK="-drive file=$LAB_DISK,if=none,id=sd,format=raw,cache=none,file.locking=off -device virtio-blk-pci,drive=sd,share-rw=on"
# LAB_SHARE: a folder both hosts mount (9p, tag labshare, /shared in dom0),
# the stand-in for an NFS export holding file: disk images.
[ -n "${LAB_SHARE:-}" ] && DISK="$DISK -virtfs local,path=$LAB_SHARE,mount_tag=labshare,security_model=none,id=share"
XEN="console=com1 com1=115200,8n1 dom0_mem=512M,max:512M loglvl=all guest_loglvl=all noreboot spec-ctrl=eager-fpu ${XEN_EXTRA:-}"
DOM0="console=hvc0 lab.role=$ROLE lab.name=$NAME ${IP:+lab.ip=$IP} $EXTRA"
INITRD=$LAB_BUILD/dom0-$NAME.cpio.gz
cat "$LAB_BUILD/dom0.cpio.gz" "$LAB_BUILD/xmig.cpio.gz" > "$INITRD"
rm -f "$LAB_BUILD/logs/$NAME.pid"
lab_log "boot $NAME (role $ROLE${IP:+, $IP $NETMODE})"
# shellcheck disable=SC2086
exec timeout --foreground -k 5 "${HOST_TIMEOUT:-600}" qemu-system-x86_64 \
    -accel tcg,thread=multi -cpu max,-smap,-rdtscp -m 1024 -smp 1 \
    -nographic -no-reboot -serial mon:stdio $NET $DISK -pidfile "$LAB_BUILD/logs/$NAME.pid" \
    -kernel "$LAB_BUILD/xen.elf" -append "$XEN" -initrd "$LAB_BUILD/vmlinuz $DOM0,$INITRD" \
    > "$LAB_BUILD/logs/$NAME.log" 2>&1 < /dev/null
