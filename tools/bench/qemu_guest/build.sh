#!/usr/bin/env bash
# build.sh OUTDIR - the guest of tools/bench/qemu_busy.sh, built into OUTDIR
# (an ignored build folder, e.g. build/bench/qemu-guest):
#   OUTDIR/vmlinuz           Debian's kernel (linux-image-amd64's dependency),
#                            from the .deb apt-get downloads into OUTDIR/debs;
#                            nothing is installed on this machine
#   OUTDIR/initramfs.cpio.gz a single file, /init = dirtier.c built static
# Cached: the kernel is downloaded once per Debian kernel version, the
# initramfs is rebuilt only when dirtier.c or this script changed.
# Needs apt-get, dpkg-deb, gcc with a static glibc (libc6-dev) and cpio.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: build.sh OUTDIR" >&2; exit 2; }
OUT=$1
SRC=$(cd "$(dirname "$0")" && pwd)
die() { echo "qemu_guest/build.sh: $*" >&2; exit 1; }
mkdir -p "$OUT/debs"
# Two benchmark runs at once must not build into the same folder together.
exec 8>"$OUT/.lock"
flock -w 600 8 || die "$OUT is locked by another build for 10 min"

# ---- kernel
KPKG=$(apt-cache depends linux-image-amd64 2>/dev/null |
    sed -n 's/.*Depends: \(linux-image-[0-9].*\)/\1/p' | head -1)
if [ -z "$KPKG" ]; then
	# no package lists (apt-get update never ran): use what was downloaded
	deb=$(ls -t "$OUT"/debs/linux-image-*.deb 2>/dev/null | head -1)
	[ -n "$deb" ] || die "cannot find Debian's kernel package (run apt-get update)"
	KPKG=$(basename "$deb" | cut -d_ -f1)
fi
if ! ls "$OUT/debs/${KPKG}"_*.deb >/dev/null 2>&1; then
	echo "qemu_guest/build.sh: downloading $KPKG" >&2
	(cd "$OUT/debs" && apt-get download "$KPKG" 2>&1 | { grep -v unsandboxed || true; } >&2) || true
	ls "$OUT/debs/${KPKG}"_*.deb >/dev/null 2>&1 || die "apt-get download $KPKG failed"
	# keep only the kernel in use
	for d in "$OUT"/debs/*.deb; do
		case $(basename "$d") in "${KPKG}"_*) ;; *) rm -f "$d" ;; esac
	done
fi
deb=$(ls "$OUT/debs/${KPKG}"_*.deb | head -1)
if [ ! -f "$OUT/vmlinuz" ] || [ "$(cat "$OUT/kver" 2>/dev/null)" != "${KPKG#linux-image-}" ]; then
	rm -rf "$OUT/kx"
	mkdir -p "$OUT/kx"
	# only /boot: the modules are not needed (8250 serial, initramfs and
	# everything the guest uses are built in)
	dpkg-deb --fsys-tarfile "$deb" | tar -xf - -C "$OUT/kx" ./boot
	cp "$OUT"/kx/boot/vmlinuz-* "$OUT/vmlinuz.tmp"
	mv "$OUT/vmlinuz.tmp" "$OUT/vmlinuz"
	echo "${KPKG#linux-image-}" >"$OUT/kver"
	rm -rf "$OUT/kx"
fi

# ---- initramfs
I=$OUT/initramfs.cpio.gz
if [ ! -f "$I" ] || [ "$SRC/dirtier.c" -nt "$I" ] || [ "$0" -nt "$I" ]; then
	rm -rf "$OUT/root"
	mkdir -p "$OUT/root"
	${CC:-gcc} -std=c11 -O2 -Wall -Wextra -Werror -static -o "$OUT/root/init" "$SRC/dirtier.c" ||
	    die "cannot build dirtier.c (gcc with a static libc: libc6-dev)"
	(cd "$OUT/root" && echo init | cpio -o -H newc -R 0:0 --quiet | gzip -1) >"$I.tmp"
	mv "$I.tmp" "$I"
	echo "qemu_guest/build.sh: built $I (kernel $(cat "$OUT/kver"))" >&2
fi
