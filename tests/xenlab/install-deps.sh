#!/bin/sh
# Install what the Xen lab needs on the build machine (Debian 12): QEMU to run
# the nested hosts, libxen-dev to build xmigd's Xen backend, and the tools the
# scripts use.  The dom0 and guest userland is not installed: build-initrd.sh
# downloads and unpacks those packages under build/xenlab/.
# With --if-missing, do nothing when every package is already installed.
set -e
PKGS="qemu-system-x86 libxen-dev file gzip ca-certificates"
if [ "${1:-}" = "--if-missing" ]; then
	missing=""
	for p in $PKGS; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		    missing="$missing $p"
	done
	[ -z "$missing" ] && exit 0
	echo "installing:$missing"
fi
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $PKGS >/dev/null
