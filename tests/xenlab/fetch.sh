#!/bin/sh
# Download the Debian 12 packages the lab's hosts run (Xen 4.17, its
# toolstack, a kernel, busybox) into build/xenlab/debs and unpack them,
# without installing anything, into build/xenlab/x.  Cached: a second run
# only downloads what is missing and unpacks again only when a .deb changed.
# Produces build/xenlab/xen.elf (Xen as a multiboot ELF QEMU boots directly)
# and build/xenlab/vmlinuz (dom0's and the guests' kernel).
set -eu
. "$(dirname "$0")/lab.sh"
mkdir -p "$LAB_BUILD/debs"
cd "$LAB_BUILD/debs"
KVER=${KVER:-$(apt-cache depends linux-image-amd64 2>/dev/null |
    sed -n 's/.*Depends: \(linux-image-[0-9].*\)/\1/p' | head -1)}
[ -n "$KVER" ] || lab_die "cannot find Debian's kernel package (run apt-get update)"
# libxenctrl and libxenguest are in libxenmisc4.17.
PKGS="xen-hypervisor-4.17-amd64 xen-utils-4.17 xen-utils-common libxenmisc4.17
 libxenstore4 libxentoollog1 libxenevtchn1 libxengnttab1 libxencall1
 libxenforeignmemory1 libxendevicemodel1 libxentoolcore1 libxenhypfs1 libyajl2
 xenstore-utils busybox-static socat libwrap0 $KVER"
missing=""
for p in $PKGS; do
	ls "${p}"_*.deb >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
	lab_log "downloading:$missing"
	# shellcheck disable=SC2086
	apt-get download $missing 2>&1 | grep -v 'unsandboxed' || true
	for p in $missing; do
		ls "${p}"_*.deb >/dev/null 2>&1 || lab_die "apt-get download $p failed"
	done
fi
stamp=$(ls -l ./*.deb | md5sum | cut -d' ' -f1)
if [ "$(cat "$LAB_BUILD/x.stamp" 2>/dev/null)" != "$stamp" ]; then
	rm -rf "$LAB_BUILD/x"
	mkdir -p "$LAB_BUILD/x"
	for d in ./*.deb; do dpkg -x "$d" "$LAB_BUILD/x"; done
	zcat "$LAB_BUILD"/x/boot/xen-4.17-amd64.gz > "$LAB_BUILD/xen.elf"
	cp "$LAB_BUILD"/x/boot/vmlinuz-* "$LAB_BUILD/vmlinuz"
	ls "$LAB_BUILD/x/lib/modules" > "$LAB_BUILD/kver"
	# The .debs ship no modules.dep and this machine may have no kmod.
	"$LAB_BUILD/x/bin/busybox" depmod -b "$LAB_BUILD/x" "$(cat "$LAB_BUILD/kver")"
	echo "$stamp" > "$LAB_BUILD/x.stamp"
fi
lab_log "fetched: kernel $(cat "$LAB_BUILD/kver"), $(ls "$LAB_BUILD"/x/boot/xen-*.gz | xargs -n1 basename)"
