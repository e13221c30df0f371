#!/bin/bash
# Build the lab's initramfs images from the unpacked packages (fetch.sh):
#   guest.cpio.gz  busybox guest whose console prints "TICK n" every second
#   dom0.cpio.gz   busybox + Xen toolstack + libraries + modules + guest files
#   xmig.cpio.gz   xmigd, xmig and their libraries, the role scripts; appended
#                  to dom0's (Linux unpacks concatenated archives in order), so
#                  a rebuild of xmig only redoes this small one
# The dom0 part is cached: rebuilt only when its inputs change.
set -euo pipefail
. "$(dirname "$0")/lab.sh"
X=$LAB_BUILD/x
KVER=$(cat "$LAB_BUILD/kver")
BB=$X/bin/busybox

new_root() {
	rm -rf "$1"
	mkdir -p "$1"/{bin,sbin,etc,proc,sys,dev,tmp,run,root,var/log,var/run,var/lib}
	cp "$BB" "$1/bin/busybox"
	for a in $("$BB" --list); do [ "$a" = busybox ] || ln -sf busybox "$1/bin/$a"; done
}
pack() {	# no cpio on the build machine: busybox's
	(cd "$1" && find . | "$BB" cpio -o -H newc 2>/dev/null | gzip -1) > "$2.tmp"
	mv "$2.tmp" "$2"
	lab_log "built $(basename "$2") ($(du -h "$2" | cut -f1))"
}
# Copy the shared libraries of ELF files into a root, resolved against
# LIBPATH first (the unpacked Xen libraries), then the build machine's
# (the same Debian 12 release).
copy_libs() {	# root, files...
	local root=$1 lib dst
	shift
	for f in "$@"; do
		file -b "$f" | grep -q ELF || continue
		LD_LIBRARY_PATH=${LIBPATH:-} ldd "$f" | awk '/=> \//{print $3} /^\s*\/lib/{print $1}'
	done | sort -u | while read -r lib; do
		case $lib in
		"$X"/*) dst=${lib#"$X"} ;;
		*/ld-linux-x86-64.so.2) dst=/lib64/ld-linux-x86-64.so.2 ;;
		*) dst=/usr/lib/x86_64-linux-gnu/$(basename "$lib") ;;
		esac
		mkdir -p "$root$(dirname "$dst")"
		cp -L "$lib" "$root$dst"
	done
}

# ---------- the guest ----------
if [ ! -f "$LAB_BUILD/guest.cpio.gz" ] || [ "$0" -nt "$LAB_BUILD/guest.cpio.gz" ]; then
	R=$LAB_BUILD/stage-guest
	new_root "$R"
	# netfront and blkfront for the device guest (lab.dev=1), brd for its
	# twin without devices (lab.dev=0); none depend on other modules.
	mkdir -p "$R/lib"
	for m in xen-netfront xen-blkfront brd; do
		find "$X/lib/modules/$KVER" -name "$m.ko" -exec cp {} "$R/lib/" \;
		[ -f "$R/lib/$m.ko" ] || lab_die "no module $m"
	done
	cat > "$R/init" <<'EOS'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
# busybox sh needs /dev/null for background jobs
mount -t devtmpfs dev /dev
echo "GUEST-UP uptime=$(cut -d' ' -f1 /proc/uptime)"
# Every sysrq, so that `xl sysrq NAME c` crashes it (Debian's kernel
# allows only some by default: not c).
echo 1 > /proc/sys/kernel/sysrq
# The disk writer of the device guest (and of its twin without devices):
# "DSEQ n" to sector n of each disk every second with fsync, the caches
# dropped, sectors n and n-1 read back: "DISK n ok" for the first disk,
# "FILE n ok" for the second, or "... BAD" for a lost write or a stale read.
writer() {	# dev:LABEL...
	disks=""
	for d in "$@"; do
		if [ -b "/dev/${d%:*}" ]; then disks="$disks $d"; else echo "${d#*:} none"; fi
	done
	n=1
	while :; do
		n=$((n + 1))
		for d in $disks; do
			printf 'DSEQ %08d\n' "$n" |
			    dd of="/dev/${d%:*}" bs=512 seek="$n" count=1 conv=sync,fsync 2>/dev/null
		done
		echo 3 > /proc/sys/vm/drop_caches
		for d in $disks; do
			a=$(dd if="/dev/${d%:*}" bs=512 skip="$n" count=1 2>/dev/null | head -c 13)
			b=$(dd if="/dev/${d%:*}" bs=512 skip=$((n - 1)) count=1 2>/dev/null | head -c 13)
			if [ "$a" = "$(printf 'DSEQ %08d' "$n")" ] &&
			    { [ "$n" = 2 ] || [ "$b" = "$(printf 'DSEQ %08d' $((n - 1)))" ]; }; then
				echo "${d#*:} $n ok"
			else
				echo "${d#*:} $n BAD read [$a] [$b]"
			fi
		done
		sleep 1
	done
}
seq_server() { (n=0; while :; do n=$((n + 1)); echo "SEQ $n"; sleep 0.1; done) | nc -l -p 7000; }
case " $(cat /proc/cmdline) " in
*" lab.dev=1 "*)
	# The device guest: a NIC on dom0's br0 and a disk on the hosts' shared
	# drive.  Its TCP server (port 7000, one client) sends "SEQ n" every
	# 100 ms: after a move the client's stream must go on, in order.  Its
	# disks: xvdb (phy: on the shared drive) and xvdd (file: in the shared
	# folder), or those lab.disks=D1,D2 names (an HVM guest's xvde,xvdf:
	# libxl gives the first four to QEMU as IDE disks too).
	d1=xvdb d2=xvdd
	v=$(sed -n 's/.* lab\.disks=\([a-z0-9]*,[a-z0-9]*\).*/\1/p' /proc/cmdline)
	[ -n "$v" ] && d1=${v%,*} d2=${v#*,}
	insmod /lib/xen-netfront.ko
	insmod /lib/xen-blkfront.ko
	ip link set lo up
	for i in 1 2 3 4 5 6 7 8 9 10; do [ -e /sys/class/net/eth0 ] && break; sleep 0.5; done
	ip link set eth0 up && ip addr add 10.99.0.10/24 dev eth0 && echo "GUEST-NET up"
	seq_server &
	(
	for i in $(seq 1 60); do [ -b "/dev/$d1" ] && [ -b "/dev/$d2" ] && break; sleep 0.5; done
	writer "$d1:DISK" "$d2:FILE"
	) &
	;;
*" lab.dev=0 "*)
	# Its twin without devices, for the downtime a vif and two vbds add:
	# the same work on two RAM disks (brd) and a TCP stream over loopback.
	insmod /lib/brd.ko rd_nr=2 rd_size=4096
	ip link set lo up
	seq_server &
	(for i in $(seq 1 20); do sleep 0.5; nc 127.0.0.1 7000 > /dev/null && break; done) &
	writer ram0:DISK ram1:FILE &
	;;
esac
# One line a second: after a migration the count must go on, not restart.
i=0
while :; do
	i=$((i + 1))
	echo "TICK $i"
	sleep 1
done
EOS
	chmod +x "$R/init"
	# The kernel's orderly power-off (xl shutdown: control/shutdown =
	# poweroff) runs /sbin/poweroff, and does nothing when it is missing;
	# /init is no init that busybox's poweroff could signal.  (A missing
	# /sbin/reboot makes the kernel restart by itself, so xl reboot works.)
	printf '#!/bin/sh\necho o > /proc/sysrq-trigger\n' > "$R/sbin/poweroff"
	chmod +x "$R/sbin/poweroff"
	pack "$R" "$LAB_BUILD/guest.cpio.gz"
fi

# ---------- dom0 ----------
D0=$LAB_BUILD/dom0.cpio.gz
if [ ! -f "$D0" ] || [ "$0" -nt "$D0" ] || [ "$LAB_DIR/dom0-init.sh" -nt "$D0" ] ||
    [ "$LAB_BUILD/x.stamp" -nt "$D0" ] || [ "$LAB_BUILD/guest.cpio.gz" -nt "$D0" ]; then
	R=$LAB_BUILD/stage-dom0
	new_root "$R"
	XB=usr/lib/xen-4.17/bin
	rmdir "$R/var/run" && ln -s /run "$R/var/run"	# libxl's locks live in /var/run/xen
	mkdir -p "$R/$XB" "$R/etc/xen" "$R/var/lib/xen" "$R/var/log/xen" "$R/run/xen" \
	    "$R/var/lock" "$R/var/lib/xenstored" "$R/lab" "$R/usr/bin"
	for f in xl xenstored xenconsoled libxl-save-helper xen-init-dom0 xenstore-control \
	    xenconsole; do
		cp -a "$X/$XB/$f" "$R/$XB/"
	done
	cp -a "$X/usr/bin/socat" "$R/usr/bin/"		# xl migrate's transport
	cp -a "$X"/usr/bin/xenstore* "$R/usr/bin/"	# checks of what xmigd wrote
	cp -a "$X/etc/xen/xl.conf" "$X/etc/xen/scripts" "$R/etc/xen/"
	LIBPATH=$X/usr/lib/x86_64-linux-gnu:$X/lib/x86_64-linux-gnu:$X/usr/lib/xen-4.17/lib/x86_64-linux-gnu
	copy_libs "$R" "$R/$XB"/* "$R"/usr/bin/*
	# The hotplug scripts (vif-bridge, block) are bash scripts and need
	# flock, losetup and coreutils' stat (busybox's has no -c '%D.%i'):
	# this machine's (the same Debian release) replace busybox's.
	for f in /bin/bash /usr/bin/flock /sbin/losetup /usr/bin/stat; do
		[ -x "$f" ] || lab_die "no $f on this machine"
		rm -f "$R/bin/$(basename "$f")"
		cp -L "$f" "$R/bin/"
	done
	LIBPATH= copy_libs "$R" "$R/bin/bash" "$R/bin/flock" "$R/bin/losetup" "$R/bin/stat"
	# The HVM guest's device model, where Debian's libxl starts it, with
	# its firmware: hvmloader, SeaBIOS, QEMU's option ROMs (linuxboot for
	# the direct kernel boot) and keymaps (libxl passes -vnc none, and
	# without keymaps/en-us QEMU exits at once).
	QEMU_DM=/usr/libexec/xen-qemu-system-i386
	[ -x "$QEMU_DM" ] || lab_die "no $QEMU_DM on this machine (install-deps.sh: qemu-system-xen)"
	mkdir -p "$R/usr/libexec" "$R/usr/share/qemu" "$R/usr/lib/xen-4.17/boot"
	cp -L "$QEMU_DM" "$R/usr/libexec/"
	LIBPATH=$X/usr/lib/x86_64-linux-gnu:$X/lib/x86_64-linux-gnu copy_libs "$R" "$R$QEMU_DM"
	cp -a /usr/share/seabios "$R/usr/share/"
	cp -aL /usr/share/qemu/keymaps "$R/usr/share/qemu/"
	for f in /usr/share/qemu/*.bin /usr/share/qemu/*.rom; do
		[ -e "$f" ] && cp -L "$f" "$R/usr/share/qemu/"
	done
	cp -a "$X/usr/lib/xen-4.17/boot/hvmloader" "$R/usr/lib/xen-4.17/boot/"
	mkdir -p "$R/lib64" "$R/lib/x86_64-linux-gnu"
	[ -e "$R/lib64/ld-linux-x86-64.so.2" ] || cp -L /lib64/ld-linux-x86-64.so.2 "$R/lib64/"
	# glibc dlopen()s libgcc_s for pthread_cancel: xl aborts without it.
	cp -L /lib/x86_64-linux-gnu/libgcc_s.so.1 "$R/lib/x86_64-linux-gnu/"
	for l in "$R"/usr/lib/x86_64-linux-gnu/*; do
		ln -sf "/usr/lib/x86_64-linux-gnu/$(basename "$l")" "$R/lib/x86_64-linux-gnu/"
	done
	# Modules in dependency order, from the modules.dep fetch.sh made.
	: > "$R/lab/modules.order"
	add_mod() {
		local rel path deps d
		rel=$(grep -E "(^|/)$1\.ko:" "$X/lib/modules/$KVER/modules.dep" | head -1) ||
		    lab_die "no module $1"
		path=${rel%%:*}
		deps=${rel#*:}
		for d in $deps; do add_mod "$(basename "$d" .ko)"; done
		grep -qx "$path" "$R/lab/modules.order" && return 0
		mkdir -p "$R/lib/modules/$KVER/$(dirname "$path")"
		cp "$X/lib/modules/$KVER/$path" "$R/lib/modules/$KVER/$path"
		echo "$path" >> "$R/lab/modules.order"
	}
	# (netback, blkback, loop and virtio-blk for the device guest's NIC and
	# its disk on the shared drive; 9p for its file: disk in the shared
	# folder)
	for m in xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xenfs bridge e1000 \
	    xen-netback xen-blkback loop virtio_pci virtio_blk 9pnet_virtio 9p; do
		add_mod "$m"
	done
	cp "$LAB_BUILD/vmlinuz" "$LAB_BUILD/guest.cpio.gz" "$R/lab/"
	for t in pv pvh; do
		cat > "$R/lab/guest-$t.cfg" <<EOS
type    = "$t"
kernel  = "/lab/vmlinuz"
ramdisk = "/lab/guest.cpio.gz"
extra   = "console=hvc0 quiet"
memory  = 96
vcpus   = 1
on_crash = "preserve"
EOS
	done
	# The HVM guest (../shared/xenlab/hvm-recipe.md): the same kernel and
	# ramdisk booted by QEMU, its ticks on the PV console.
	cat > "$R/lab/guest-hvm.cfg" <<EOS
type    = "hvm"
kernel  = "/lab/vmlinuz"
ramdisk = "/lab/guest.cpio.gz"
cmdline = "console=hvc0 quiet"
memory  = 128
vcpus   = 1
vga     = "none"
vnc     = 0
sdl     = 0
# libxl gives an HVM guest a PV keyboard served by QEMU unless told not
# to; xmig does not carry it (yet).
vkb_device = 0
on_crash = "preserve"
EOS
	# The device guest: a NIC on br0, the shared drive (/dev/vda in both
	# dom0s, boot-host.sh) and an image in the shared folder as its disks.
	# 128 MiB: blkfront keeps a pool of granted pages per disk, and with
	# three disks (xvdc hot-plugged) 96 MiB ran out (the OOM killer took
	# init).
	sed -e 's/quiet"/quiet lab.dev=1"/' -e 's/^memory  = 96$/memory  = 128/' \
	    "$R/lab/guest-pvh.cfg" > "$R/lab/guest-dev.cfg"
	sed -e 's/quiet"/quiet lab.dev=0"/' -e 's/^memory  = 96$/memory  = 128/' \
	    "$R/lab/guest-pvh.cfg" > "$R/lab/guest-dev0.cfg"
	cat >> "$R/lab/guest-dev.cfg" <<EOS
vif     = [ "bridge=br0,mac=00:16:3e:00:00:10" ]
disk    = [ "phy:/dev/vda,xvdb,w", "file:/shared/dev1-file.img,xvdd,w" ]
EOS
	# The HVM device guest (issue 15): the same workload, NIC and disks
	# (after dev1 has gone: the same MAC and address), PV only: the NIC
	# type=vif (xl's HVM default adds an emulated one), the disks xvde and
	# xvdf (libxl gives xvda-xvdd to QEMU too).
	sed -e 's/quiet"/quiet lab.dev=1 lab.disks=xvde,xvdf"/' "$R/lab/guest-hvm.cfg" > \
	    "$R/lab/guest-hvmdev.cfg"
	cat >> "$R/lab/guest-hvmdev.cfg" <<EOS
vif     = [ "bridge=br0,mac=00:16:3e:00:00:10,type=vif" ]
disk    = [ "phy:/dev/vda,xvde,w", "file:/shared/hvmdev-file.img,xvdf,w" ]
EOS
	cp "$LAB_DIR/dom0-init.sh" "$R/init"
	chmod +x "$R/init"
	pack "$R" "$D0"
fi

# ---------- xmig ----------
[ -x "$XMIG_BIN_DIR/xmigd" ] && [ -x "$XMIG_BIN_DIR/xmig" ] ||
    lab_die "no xmigd/xmig in $XMIG_BIN_DIR (run build-xmig.sh)"
R=$LAB_BUILD/stage-xmig
rm -rf "$R"
mkdir -p "$R/usr/sbin" "$R/usr/bin" "$R/lab"
cp "$XMIG_BIN_DIR/xmigd" "$R/usr/sbin/"
cp "$XMIG_BIN_DIR/xmig" "$R/usr/bin/"
LIBPATH= copy_libs "$R" "$R/usr/sbin/xmigd" "$R/usr/bin/xmig"
rm -rf "$R/lib64"	# the loader is dom0's already
# Only what dom0's part lacks (most of it: glibc, OpenSSL, the Xen libraries
# are there, the same files): a copy that differs would replace dom0's for
# xl too, so say so.
for l in "$R"/usr/lib/x86_64-linux-gnu/*; do
	d=$LAB_BUILD/stage-dom0/usr/lib/x86_64-linux-gnu/$(basename "$l")
	[ -e "$d" ] || continue
	if cmp -s "$l" "$d"; then
		rm "$l"
	else
		lab_log "warning: $(basename "$l") of this machine differs from dom0's; xmig's replaces it"
	fi
done
mkdir -p "$R/lib/x86_64-linux-gnu"
for l in "$R"/usr/lib/x86_64-linux-gnu/*; do
	ln -sf "/usr/lib/x86_64-linux-gnu/$(basename "$l")" "$R/lib/x86_64-linux-gnu/"
done
cp "$LAB_DIR"/roles/*.sh "$R/lab/"
chmod +x "$R"/lab/*.sh
pack "$R" "$LAB_BUILD/xmig.cpio.gz"
