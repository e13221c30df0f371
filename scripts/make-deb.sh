#!/bin/sh
# Build the xmig Debian package into OUT (default build-deb/): a copy of
# the tree is built there with dpkg-buildpackage -us -uc -b, because its
# "clean" step would otherwise remove build/ in the working tree.  The unit
# tests are skipped unless DEB_BUILD_OPTIONS says otherwise ("make check"
# runs them); prints the path of the .deb.
set -eu
cd "$(dirname "$0")/.."
OUT=${1:-build-deb}
command -v dpkg-buildpackage >/dev/null && command -v dh >/dev/null || {
	echo "make-deb: dpkg-buildpackage and debhelper are needed (scripts/install-deps.sh)" >&2
	exit 1
}
VERSION=$(dpkg-parsechangelog -S Version)
ARCH=$(dpkg-architecture -qDEB_HOST_ARCH)
SRC=$OUT/xmig-$VERSION
rm -rf "$SRC" "$OUT"/xmig_"$VERSION"_*
mkdir -p "$SRC"
# The tree as it is (tracked and new files), without build products.
if git rev-parse --git-dir >/dev/null 2>&1; then
	git ls-files -co --exclude-standard |
	    grep -Ev '^build[^/]*/|^debian/(xmig/|\.debhelper/|files$|debhelper-build-stamp$|.*\.substvars$|.*\.debhelper(\.log)?$)' |
	    while IFS= read -r f; do [ -e "$f" ] && printf '%s\n' "$f"; done |
	    tar -c -T - | tar -x -C "$SRC"
else
	tar -c --exclude='./build*' --exclude=./debian/xmig --exclude=./debian/.debhelper . |
	    tar -x -C "$SRC"
fi
(cd "$SRC" && DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS-"nocheck parallel=2"} \
    dpkg-buildpackage -us -uc -b >../dpkg-buildpackage.log 2>&1) || {
	echo "make-deb: dpkg-buildpackage failed; the end of $OUT/dpkg-buildpackage.log:" >&2
	tail -n 30 "$OUT/dpkg-buildpackage.log" >&2
	exit 1
}
echo "$OUT/xmig_${VERSION}_$ARCH.deb"
