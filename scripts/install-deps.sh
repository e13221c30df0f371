#!/bin/sh
# Install what xmig needs to build, test and run its demo (Debian 12).
# With --if-missing, do nothing when every package is already installed.
set -e
PKGS="build-essential pkg-config libjansson-dev libcmocka-dev libssl-dev libzstd-dev
liblz4-dev libxen-dev iproute2 jq bc procps"
# make fuzz (libFuzzer); scripts/xmig-firewall and its tests in network namespaces.
PKGS="$PKGS clang libclang-rt-14-dev iptables nftables"
# scripts/xmig-certs and the TLS tests (openssl s_client).
PKGS="$PKGS openssl"
# Man pages (t_man_pages: man -l), the notify listener of t_service_start,
# and the Debian package (make deb, tests/pkg/test_deb.sh, test_deb_chroot.sh).
PKGS="$PKGS man-db groff-base python3-minimal debhelper lintian fakeroot debootstrap"
# systemd-analyze verify of the unit (t_service_start; a skip fails under CI).
PKGS="$PKGS systemd"
# The Pacemaker resource agent ocf:xmig:domain (issue 16): its OCF shell
# functions and ocf-tester (resource-agents), and the three-node cluster test
# tests/netns/t_pacemaker_cluster.sh (corosync, pacemaker, its CLI tools).
PKGS="$PKGS resource-agents pacemaker pacemaker-cli-utils corosync libxml2-utils"
# shellcheck disable=SC2086
exec "$(dirname "$0")/apt-install.sh" ${1:+"$1"} $PKGS
