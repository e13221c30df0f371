#!/bin/sh
# apt-install.sh [--if-missing] PKG...: install Debian packages, quietly.
# With --if-missing, do nothing when every package is already installed.
# Shared by scripts/install-deps.sh and the lab's and bench's installers.
set -e
if_missing=false
if [ "${1:-}" = "--if-missing" ]; then
	if_missing=true
	shift
fi
if $if_missing; then
	missing=""
	for p in "$@"; do
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
$SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
