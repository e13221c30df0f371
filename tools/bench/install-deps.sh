#!/bin/sh
# Install what `make bench` needs beyond the build and test dependencies
# (scripts/install-deps.sh): gnuplot for the plot, openssl for the TLS row's
# certificates.  Kept out of CI's dependencies on purpose.
# With --if-missing, do nothing when every package is already installed.
set -e
exec "$(dirname "$0")/../../scripts/apt-install.sh" ${1:+"$1"} gnuplot-nox openssl jq
