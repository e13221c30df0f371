#!/bin/sh
# Install what xmig needs to build, test and run its demo (Debian 12).
# With --if-missing, do nothing when every package is already installed.
set -e
PKGS="build-essential pkg-config libjansson-dev libcmocka-dev libssl-dev libzstd-dev
liblz4-dev libxen-dev iproute2 jq bc procps"
# make fuzz (libFuzzer); scripts/xmig-firewall and its tests in network namespaces.
PKGS="$PKGS clang libclang-rt-14-dev iptables nftables"
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
