#!/bin/sh
# Install what `make bench` needs beyond the build and test dependencies
# (scripts/install-deps.sh): gnuplot for the plot, openssl for the TLS row's
# certificates, qemu-system-x86 and socat for the QEMU peer baselines
# (tools/bench/qemu_peer.sh, qemu_busy.sh), cpio for qemu_busy.sh's guest
# initramfs.  Kept out of CI's dependencies on purpose.
# With --if-missing, do nothing when every package is already installed.
set -e
exec "$(dirname "$0")/../../scripts/apt-install.sh" ${1:+"$1"} gnuplot-nox openssl jq socat qemu-system-x86 cpio
