#!/bin/sh
# Install what the Xen lab needs on the build machine (Debian 12): QEMU to run
# the nested hosts, libxen-dev to build xmigd's Xen backend, and the tools the
# scripts use.  The dom0 and guest userland is not installed: build-initrd.sh
# downloads and unpacks those packages under build/xenlab/.
# With --if-missing, do nothing when every package is already installed.
set -e
PKGS="qemu-system-x86 libxen-dev file gzip ca-certificates"
# shellcheck disable=SC2086
exec "$(dirname "$0")/../../scripts/apt-install.sh" ${1:+"$1"} $PKGS
