#!/bin/sh
# Install what the Xen lab needs on the build machine (Debian 12): QEMU to run
# the nested hosts, libxen-dev to build xmigd's Xen backend, the tools the
# scripts use, and Xen's QEMU device model (qemu-system-xen, with seabios and
# qemu-system-data) whose binary, firmware and libraries mkinitrd.sh copies
# into dom0 for the HVM guest.  The dom0 and guest userland is not installed: build-initrd.sh
# downloads and unpacks those packages under build/xenlab/.
# With --if-missing, do nothing when every package is already installed.
set -e
PKGS="qemu-system-x86 libxen-dev file gzip ca-certificates qemu-system-xen seabios qemu-system-data"
# shellcheck disable=SC2086
exec "$(dirname "$0")/../../scripts/apt-install.sh" ${1:+"$1"} $PKGS
