#!/usr/bin/env bash
# The Debian package on a fresh system (issue 7): a minimal Debian 12
# (bookworm) root made by debootstrap, the .deb installed in it with
# "apt-get install ./xmig_*.deb" so that apt resolves its dependencies from
# the archive, then, inside the chroot: xmigd accepts the packaged
# xmigd.conf, xmig --help runs, the packaged init script starts a daemon
# (backend = sim: the chroot has no Xen) that "xmig list" talks to and
# stops it, the unit's ExecStart line run by hand does the same, and
# "man -l" renders every installed man page without warnings.
#   tests/pkg/test_deb_chroot.sh [DEB]     (default: build it with make deb)
# Needs root.  The debootstrapped root is cached in build-deb/chroot (made
# once, never modified: each run works on a copy of it, removed on exit);
# remove that directory to start over.  The mirror is the host's own, read
# from /etc/apt/sources.list*; XMIG_DEB_MIRROR overrides it.  /proc is
# mounted in the copy for the test and unmounted on exit, and every process
# whose root is the copy is killed, whatever happened.
set -u
ROOTDIR=$(cd "$(dirname "$0")/../.." && pwd)
SUITE=bookworm
BASE=$ROOTDIR/build-deb/chroot
STAMP=$BASE/.xmig-base-ok
RUN=""
NEW=""
T=$(mktemp -d /tmp/xmig-debchroot.XXXXXX)
failed=0
pass() { echo "PASS: $*"; }
bad() { echo "FAIL: $*"; failed=$((failed + 1)); }
die() { echo "FAIL: $*"; exit 1; }

# Every mount point at or below $1, deepest first.
mounts_under() {
	awk -v d="$1" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/mounts | sort -r
}
# Kill every process whose root directory is $1 or below it.
kill_rooted() {
	local p r sig
	for sig in TERM KILL; do
		for p in /proc/[0-9]*; do
			r=$(readlink "$p/root" 2>/dev/null) || continue
			case $r in "$1" | "$1"/*) kill -$sig "${p#/proc/}" 2>/dev/null ;; esac
		done
		[ $sig = TERM ] && sleep 1
	done
}
release() {	# $1: a chroot directory; 0 when nothing is mounted there any more
	local m
	[ -n "$1" ] && [ -d "$1" ] || return 0
	kill_rooted "$1"
	for m in $(mounts_under "$1"); do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || echo "FAIL: cannot unmount $m"
	done
	[ -z "$(mounts_under "$1")" ]
}
cleanup() {
	local d
	if [ -n "$RUN" ] && [ -x "$RUN/usr/sbin/xmigd" ]; then
		chroot "$RUN" /etc/init.d/xmigd stop >/dev/null 2>&1
		chroot "$RUN" simhv -r /run/xmig/sim destroy pkgvm >/dev/null 2>&1
	fi
	for d in "$RUN" "$NEW"; do
		[ -n "$d" ] || continue
		if release "$d"; then
			rm -rf --one-file-system "$d"
		else
			echo "FAIL: mounts left under $d; not removed"
		fi
	done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot, mount)"

# ---- the host's Debian mirror: "URI SUITE" for every enabled deb source ----
host_sources() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		awk '$1 == "deb" { i = 2
			if ($i ~ /^\[/) { while (i < NF && $i !~ /\]$/) i++; i++ }
			print $i, $(i + 1) }' "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		awk 'function flush(  i, j, nu, ns, u, s) {
				if (types ~ /(^| )deb( |$)/ && enabled != "no") {
					nu = split(uris, u, " "); ns = split(suites, s, " ")
					for (i = 1; i <= nu; i++) for (j = 1; j <= ns; j++) print u[i], s[j]
				}
				types = uris = suites = ""; enabled = "yes"
			}
			BEGIN { enabled = "yes" }
			/^[ \t]*$/ { flush(); next }
			/^#/ { next }
			{ k = tolower($1); v = $0; sub(/^[^:]*:[ \t]*/, "", v)
			  if (k == "types:") types = v; else if (k == "uris:") uris = v
			  else if (k == "suites:") suites = v; else if (k == "enabled:") enabled = tolower(v) }
			END { flush() }' "$f"
	done
}
host_sources | awk -v s="$SUITE" '$2 == s || $2 == s "-updates" || $2 == s "-security"' |
    awk '!seen[$0]++' >"$T/sources"
MIRROR=${XMIG_DEB_MIRROR:-$(awk -v s="$SUITE" '$2 == s { print $1; exit }' "$T/sources")}
[ -n "$MIRROR" ] || die "no $SUITE source in /etc/apt/sources.list*; set XMIG_DEB_MIRROR"
if [ -n "${XMIG_DEB_MIRROR:-}" ]; then
	printf '%s %s\n%s %s-updates\n' "$MIRROR" $SUITE "$MIRROR" $SUITE >"$T/sources"
fi
echo "mirror: $MIRROR"

# ---- the package ----
if [ $# -ge 1 ]; then
	DEB=$1
else
	DEB=$(cd "$ROOTDIR" && make -s deb) || die "make deb failed"
	DEB=$ROOTDIR/$DEB
fi
[ -f "$DEB" ] || die "no package at $DEB"
echo "package: $DEB"
cp "$DEB" "$T/" || die "cannot copy $DEB"
DEBNAME=$(basename "$DEB")

# ---- the cached base root: debootstrap once ----
t0=$SECONDS
if [ ! -e "$STAMP" ]; then
	if ! command -v debootstrap >/dev/null; then
		echo "installing debootstrap"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >"$T/apt-host.log" 2>&1 ||
		    { tail -5 "$T/apt-host.log"; die "apt-get install debootstrap failed"; }
	fi
	release "$BASE" || die "mounts left under $BASE"
	rm -rf --one-file-system "$BASE"
	NEW=$BASE.new
	release "$NEW" || die "mounts left under $NEW"
	rm -rf --one-file-system "$NEW"
	mkdir -p "$(dirname "$BASE")"
	echo "debootstrap $SUITE from $MIRROR into $BASE (log: build-deb/debootstrap.log)"
	inc=man-db
	case $MIRROR in https:*) inc=$inc,ca-certificates ;; esac
	if ! debootstrap --variant=minbase --include=$inc $SUITE "$NEW" "$MIRROR" \
	    >"$ROOTDIR/build-deb/debootstrap.log" 2>&1; then
		tail -5 "$ROOTDIR/build-deb/debootstrap.log"
		die "debootstrap failed"
	fi
	release "$NEW" || die "debootstrap left mounts under $NEW"
	# The same archive sections as the host (the package's libxen* may
	# come from bookworm-security); no daemon starts from maintainer
	# scripts in a chroot.
	awk '{ print "deb " $1 " " $2 " main" }' "$T/sources" >"$NEW/etc/apt/sources.list"
	printf '#!/bin/sh\nexit 101\n' >"$NEW/usr/sbin/policy-rc.d"
	chmod 755 "$NEW/usr/sbin/policy-rc.d"
	rm -f "$NEW"/var/cache/apt/archives/*.deb
	touch "$NEW/.xmig-base-ok"
	mv "$NEW" "$BASE" || die "cannot move $NEW to $BASE"
	NEW=""
	echo "base root made in $((SECONDS - t0)) s"
else
	echo "base root: $BASE (cached)"
fi

# ---- a fresh copy of it, /proc mounted ----
RUN=$(mktemp -d "$ROOTDIR/build-deb/chroot-run.XXXXXX")
cp -a "$BASE/." "$RUN/" || die "cannot copy $BASE"
cp /etc/resolv.conf "$RUN/etc/resolv.conf"
mount -t proc proc "$RUN/proc" || die "cannot mount /proc in the chroot"
if [ ! -c "$RUN/dev/null" ]; then
	mount --bind /dev "$RUN/dev" || die "cannot mount /dev in the chroot"
fi
cp "$T/$DEBNAME" "$RUN/tmp/" || die "cannot copy the package into the chroot"
in_root() { chroot "$RUN" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"; }

# ---- install: apt resolves the dependencies ----
t1=$SECONDS
if in_root apt-get update -q >"$T/update.log" 2>&1 &&
    in_root apt-get install -y -q "/tmp/$DEBNAME" >"$T/install.log" 2>&1; then
	pass "apt-get install ./$DEBNAME in a fresh $SUITE root ($((SECONDS - t1)) s)"
else
	cat "$T/update.log" "$T/install.log" 2>/dev/null | tail -15 | sed 's/^/    /'
	die "apt-get install ./$DEBNAME in a fresh $SUITE root"
fi
st=$(in_root dpkg-query -W -f='${db:Status-Status}' xmig 2>&1)
[ "$st" = installed ] && pass "dpkg reports xmig installed" || bad "dpkg status of xmig: $st"

# ---- the programs ----
out=$(in_root xmigd --check-config -c /etc/xmig/xmigd.conf 2>&1)
[ "$out" = "configuration OK" ] && pass "xmigd --check-config -c /etc/xmig/xmigd.conf: $out" ||
    bad "xmigd --check-config -c /etc/xmig/xmigd.conf: $out"
if in_root xmig --help >"$T/help" 2>&1 && grep -q '^usage: xmig' "$T/help"; then
	pass "xmig --help"
else
	bad "xmig --help: $(head -3 "$T/help")"
fi
in_root simhv --help >/dev/null 2>&1 && pass "simhv --help" || bad "simhv --help"

# ---- the daemon, started without systemd ----
port=$((20000 + RANDOM % 12000))	# below the ephemeral range
cat >"$RUN/etc/xmig/xmigd-test.conf" <<EOF
# tests/pkg/test_deb_chroot.sh: no Xen in the chroot
relocation-port = $port
relocation-address = 127.0.0.1
backend = sim
sim-root = /run/xmig/sim
EOF
echo "CONF=/etc/xmig/xmigd-test.conf" >"$RUN/etc/default/xmigd"
mkdir -p "$RUN/run/xmig/sim"
in_root simhv -r /run/xmig/sim create pkgvm --memory 16M >"$T/create" 2>&1 ||
    bad "simhv create pkgvm: $(cat "$T/create")"
list_ok() {	# $1: how the daemon was started
	if in_root xmig list >"$T/list" 2>&1 && grep -qw pkgvm "$T/list"; then
		pass "xmig list answers (daemon started by $1): $(grep -w pkgvm "$T/list" | tr -s ' ')"
	else
		bad "xmig list (daemon started by $1): $(cat "$T/list")"
	fi
}
if in_root /etc/init.d/xmigd start >"$T/init.out" 2>&1 && [ -s "$RUN/run/xmig/xmigd.pid" ]; then
	pass "/etc/init.d/xmigd start: $(tr -d '\n' <"$T/init.out")"
	list_ok "/etc/init.d/xmigd"
	in_root /etc/init.d/xmigd status >"$T/status" 2>&1 && pass "/etc/init.d/xmigd status: $(cat "$T/status")" ||
	    bad "/etc/init.d/xmigd status is not 0 while running: $(cat "$T/status")"
	if in_root /etc/init.d/xmigd stop >"$T/stop.out" 2>&1 && [ ! -e "$RUN/run/xmig/xmigd.pid" ] &&
	    ! in_root xmig list >/dev/null 2>&1; then
		pass "/etc/init.d/xmigd stop: $(tr -d '\n' <"$T/stop.out")"
	else
		bad "/etc/init.d/xmigd stop: $(cat "$T/stop.out")"
	fi
else
	bad "/etc/init.d/xmigd start: $(cat "$T/init.out")"
	in_root /etc/init.d/xmigd stop >/dev/null 2>&1
fi

# The unit's ExecStart, by hand (foreground), on the test configuration.
exec_start=$(sed -n 's/^ExecStart=//p' "$RUN/lib/systemd/system/xmigd.service" | head -1)
cmd=$(printf '%s' "$exec_start" | sed 's|-c /etc/xmig/xmigd\.conf|-c /etc/xmig/xmigd-test.conf|')
if [ -z "$exec_start" ] || [ "$cmd" = "$exec_start" ]; then
	bad "xmigd.service: no ExecStart with -c /etc/xmig/xmigd.conf: $exec_start"
else
	# Not through in_root: $! must be the daemon (chroot and env exec it).
	# shellcheck disable=SC2086
	chroot "$RUN" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 \
	    $cmd >"$T/fg.out" 2>&1 &
	fg=$!
	i=0
	until in_root xmig list >/dev/null 2>&1 || [ $i -ge 50 ] || ! kill -0 $fg 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
	list_ok "the unit's ExecStart ($cmd)"
	kill -TERM $fg 2>/dev/null
	i=0
	while kill -0 $fg 2>/dev/null && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
	if kill -0 $fg 2>/dev/null; then
		bad "ExecStart daemon still running 20 s after SIGTERM"
	else
		wait $fg
		rc=$?
		[ $rc = 0 ] && pass "ExecStart daemon exits 0 on SIGTERM" ||
		    bad "ExecStart daemon exit $rc on SIGTERM: $(tail -3 "$T/fg.out")"
	fi
fi
in_root simhv -r /run/xmig/sim destroy pkgvm >/dev/null 2>&1 || bad "simhv destroy pkgvm"
left=""
for p in /proc/[0-9]*; do
	r=$(readlink "$p/root" 2>/dev/null) || continue
	case $r in "$RUN" | "$RUN"/*) left="$left $(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)(pid ${p#/proc/})" ;; esac
done
[ -z "$left" ] && pass "no process left in the chroot after stop" || bad "processes left in the chroot:$left"

# ---- the installed man pages render ----
pages=$(in_root dpkg -L xmig | grep '^/usr/share/man/man./.*\.gz$')
[ -n "$pages" ] || bad "the package installs no man pages"
for m in $pages; do
	w=$(in_root env MANWIDTH=80 man --warnings -l "$m" 2>&1 >/dev/null)
	if [ -n "$w" ]; then
		bad "man -l $m: $w"
	elif in_root man -l "$m" 2>/dev/null | grep -q '^NAME'; then
		pass "man -l $m"
	else
		bad "man -l $m does not render"
	fi
done

echo "time: $((SECONDS - t0)) s (base root, install and checks)"
[ "$failed" -eq 0 ] || { echo "FAIL: $failed check(s) failed"; exit 1; }
echo "PASS: $DEBNAME installs and works in a fresh Debian $SUITE chroot"
