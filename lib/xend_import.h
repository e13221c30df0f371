/* xend_import.h - an xmigd.conf from the relocation settings of xend's
 * xend-config.sxp ("xmig config import-xend").
 *
 * The settings are read as xend read them (XendOptions.py): the first
 * occurrence of a key wins, booleans are yes/y/1/on/true/t or
 * no/n/0/off/false/f, a missing key takes xend's default (notably
 * xend-relocation-server: no).  Hosts-allow regexes are converted from
 * Python's re.match (anchored at the start only, case-sensitive) to
 * xmigd's entries (anchored at both ends): an entry that did not end in
 * '$' gets ".*" so that it allows what it allowed under xend.
 */
#ifndef XMIG_XEND_IMPORT_H
#define XMIG_XEND_IMPORT_H

#include <stddef.h>
#include <stdio.h>

#define XEND_DEFAULT_CONFIG "/etc/xen/xend-config.sxp"
/* Where xend looked for relative SSL key and certificate file names. */
#define XEND_CONFIG_DIR "/etc/xen"

/* Convert the len bytes of buf, the xend configuration `name`, into a
 * commented xmigd.conf written to out.  Every warning about what has no
 * equivalent is one line "PREFIX: warning: NAME[:LINE]: text" on warn
 * (prefix may be NULL); *nwarn (may be NULL) gets their number.  The
 * result is checked with the xmigd.conf parser before anything is written.
 * On error returns a negative XMIG_ERR_*, writes "NAME[:LINE]: what is
 * wrong" into err and nothing to out. */
int xend_import(const char *name, const char *buf, size_t len, FILE *out, FILE *warn,
    const char *prefix, unsigned *nwarn, char *err, size_t errlen);

#endif
