#!/usr/bin/env bash
# The Debian package: "make deb" builds it (dpkg-buildpackage -us -uc -b on
# a copy of the tree), lintian reports no error, it holds every file an
# administrator expects, its maintainer scripts register the unit and the
# init script, and its contents work: unpacked with dpkg -x, xmigd accepts
# the shipped xmigd.conf, xmig --help runs, the man pages render, and the
# packaged init script starts a daemon that 'xmig list' talks to.  With
# root and the dependencies installed, "dpkg --dry-run -i" accepts it.
#   tests/pkg/test_deb.sh [DEB]     (default: build it with make deb)
set -u
ROOTDIR=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d /tmp/xmig-deb.XXXXXX)
R=$T/root
DPID=""
cleanup() {
	[ -s "$T/run/xmigd.pid" ] && kill "$(cat "$T/run/xmigd.pid")" 2>/dev/null
	if [ -d "$T/sim" ] && [ -x "$R/usr/bin/simhv" ]; then
		"$R/usr/bin/simhv" -r "$T/sim" list --json 2>/dev/null | jq -r '.[].id' 2>/dev/null |
		    while read -r id; do "$R/usr/bin/simhv" -r "$T/sim" destroy "$id" >/dev/null 2>&1; done
	fi
	rm -rf "$T"
}
trap cleanup EXIT
failed=0
bad() { echo "FAIL: $*"; failed=$((failed + 1)); }
die() { echo "FAIL: $*"; exit 1; }

for t in dpkg-deb lintian man; do
	command -v $t >/dev/null || die "$t is not installed (scripts/install-deps.sh)"
done

# ---- build ----
if [ $# -ge 1 ]; then
	DEB=$1
else
	DEB=$(cd "$ROOTDIR" && make -s deb) || die "make deb failed"
	DEB=$ROOTDIR/$DEB
fi
[ -f "$DEB" ] || die "no package at $DEB"
echo "package: $DEB"

# ---- lintian: no errors (warnings are shown) ----
lintian --fail-on error "$DEB" >"$T/lintian" 2>&1
rc=$?
grep -v '^running with root' "$T/lintian" | sed 's/^/    /'
[ $rc = 0 ] || bad "lintian reports errors (exit $rc)"

# ---- contents ----
dpkg-deb -c "$DEB" | awk '{ print $6 }' | sed 's|^\./|/|' >"$T/files"
for f in /usr/sbin/xmigd /usr/bin/xmig /usr/bin/simhv /etc/xmig/xmigd.conf \
    /lib/systemd/system/xmigd.service /etc/init.d/xmigd /usr/lib/tmpfiles.d/xmig.conf \
    /usr/share/bash-completion/completions/xmig /usr/share/man/man1/xmig.1.gz \
    /usr/share/man/man8/xmigd.8.gz /usr/share/man/man5/xmigd.conf.5.gz \
    /usr/share/man/man1/simhv.1.gz /usr/share/doc/xmig/copyright \
    /usr/lib/ocf/resource.d/xmig/domain; do
	grep -qx "$f" "$T/files" || bad "package lacks $f"
done
dpkg-deb -f "$DEB" Depends | grep -q libjansson || bad "Depends does not name libjansson"
mkdir -p "$T/ctl"
dpkg-deb -e "$DEB" "$T/ctl"
grep -qx /etc/xmig/xmigd.conf "$T/ctl/conffiles" || bad "xmigd.conf is not a conffile"
grep -q "update-rc.d xmigd defaults" "$T/ctl/postinst" || bad "postinst does not register the init script"
grep -q "deb-systemd-helper enable 'xmigd.service'" "$T/ctl/postinst" ||
    bad "postinst does not enable xmigd.service"
grep -q "systemd-tmpfiles.*--create xmig.conf" "$T/ctl/postinst" || bad "postinst does not create /run/xmig"

# ---- unpacked: the programs and pages work ----
dpkg-deb -x "$DEB" "$R" || die "dpkg -x failed"
out=$("$R/usr/sbin/xmigd" --check-config -c "$R/etc/xmig/xmigd.conf" 2>&1)
[ "$out" = "configuration OK" ] || bad "packaged xmigd.conf: $out"
"$R/usr/bin/xmig" --help >"$T/help" 2>&1 && grep -q '^usage: xmig' "$T/help" || bad "xmig --help"
"$R/usr/bin/simhv" --help >/dev/null 2>&1 || bad "simhv --help"
for m in "$R"/usr/share/man/man*/*.gz; do
	w=$(LC_ALL=C MANWIDTH=80 man --warnings -l "$m" 2>&1 >/dev/null)
	[ -z "$w" ] || bad "$(basename "$m"): $w"
	LC_ALL=C man -l "$m" 2>/dev/null | grep -q '^NAME' || bad "$(basename "$m") does not render"
done
bash -n "$R/usr/share/bash-completion/completions/xmig" || bad "completion has a syntax error"
sh -n "$R/etc/init.d/xmigd" || bad "init script has a syntax error"
# The Pacemaker resource agent (issue 16) names the packaged programs.
OCFRA=$R/usr/lib/ocf/resource.d/xmig/domain
[ -x "$OCFRA" ] || bad "ocf:xmig:domain is not executable"
sh -n "$OCFRA" || bad "ocf:xmig:domain has a syntax error"
grep -qx 'OCF_RESKEY_xmig_default=/usr/bin/xmig' "$OCFRA" || bad "ocf:xmig:domain does not name /usr/bin/xmig"
if [ -r /usr/lib/ocf/lib/heartbeat/ocf-shellfuncs ]; then
	OCF_ROOT=/usr/lib/ocf "$OCFRA" meta-data | grep -q '<resource-agent name="domain"' ||
	    bad "ocf:xmig:domain meta-data"
fi
grep -q '^ExecStart=/usr/sbin/xmigd -f' "$R/lib/systemd/system/xmigd.service" ||
    bad "unit does not run /usr/sbin/xmigd -f"

# ---- the packaged init script starts a daemon xmig talks to ----
port=$((20000 + RANDOM % 12000))	# below the ephemeral range
mkdir -p "$T/sim" "$T/state" "$T/run"
cat >"$T/test.conf" <<EOF
relocation-port = $port
relocation-address = 127.0.0.1
control-socket = $T/run/xmigd.sock
state-dir = $T/state
backend = sim
sim-root = $T/sim
EOF
initd() {
	DAEMON=$R/usr/sbin/xmigd PIDFILE=$T/run/xmigd.pid CONF=$T/test.conf \
	    XMIG_SIMHV=$R/usr/bin/simhv _SYSTEMCTL_SKIP_REDIRECT=1 sh "$R/etc/init.d/xmigd" "$@"
}
"$R/usr/bin/simhv" -r "$T/sim" create pkgvm --memory 16M >/dev/null || bad "simhv create"
if initd start >"$T/init.out" 2>&1; then
	"$R/usr/bin/xmig" -S "$T/run/xmigd.sock" list >"$T/list" 2>&1 || bad "xmig list: $(cat "$T/list")"
	grep -qw pkgvm "$T/list" || bad "xmig list does not show pkgvm: $(cat "$T/list")"
	initd status >/dev/null || bad "init status is not 0 while running"
	initd stop >/dev/null 2>&1 || bad "init stop failed"
	[ -e "$T/run/xmigd.pid" ] && bad "pid file left after stop"
else
	bad "packaged init script does not start xmigd: $(cat "$T/init.out")"
fi

# ---- dpkg accepts it here (dependencies satisfied) ----
if [ "$(id -u)" = 0 ]; then
	dpkg --dry-run -i "$DEB" >"$T/dry" 2>&1 || bad "dpkg --dry-run -i: $(tail -3 "$T/dry")"
fi

[ "$failed" -eq 0 ] || { echo "$failed failure(s)"; exit 1; }
echo "ok: $(basename "$DEB") builds, passes lintian, installs and runs"
