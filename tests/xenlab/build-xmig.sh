#!/bin/sh
# Build xmigd and xmig with the Xen backend into build/xenlab/bin, for the
# lab's dom0s.  The Makefile builds the backend when libxen-dev is
# installed (/usr/include/xenguest.h); this checks it really is in.
set -eu
. "$(dirname "$0")/lab.sh"
OUT=$LAB_BUILD/make
make -C "$LAB_ROOT" --no-print-directory -j2 BUILD="$OUT" "$OUT/bin/xmigd" "$OUT/bin/xmig" >&2
nm "$OUT/obj/xmigd/hv/hv.o" | grep -q ' U hv_xen_open' ||
    lab_die "this xmigd has no Xen backend: the Makefile must build xmigd/hv/xen*.c with -DHAVE_XEN and link the Xen libraries (docs/xen-backend.md)"
mkdir -p "$LAB_BUILD/bin"
cp "$OUT/bin/xmigd" "$OUT/bin/xmig" "$LAB_BUILD/bin/"
lab_log "xmigd with the Xen backend in $LAB_BUILD/bin"
