/* devpolicy.h - which device parameters a receiver accepts from a peer.
 *
 * A migrating guest's disks and NICs are described by the sending host,
 * and the receiver turns the description into xenstore nodes and hotplug
 * script runs in its own dom0.  So every name and path is checked twice:
 * for shape (here: no path tricks, nothing a script or a path could
 * misread) and against this host's lists (device-bridges-allow,
 * device-disks-allow, device-scripts-allow in xmigd.conf).  Pure, so the
 * config parser, the Xen backend and the tests share it.
 */
#ifndef XMIG_DEVPOLICY_H
#define XMIG_DEVPOLICY_H

#include <stdbool.h>
#include <stddef.h>

#define DP_IFNAME_MAX 16	/* IFNAMSIZ, with the NUL */
#define DP_SCRIPT_MAX 64
#define DP_PARAMS_MAX 256

/* A network interface name: letters, digits, '.', '-', '_', 1..15
 * characters, not "." or "..". */
bool dp_ifname_ok(const char *s, size_t n);
/* A hotplug script's name, as Xen's script directory holds it: the same
 * characters, 1..63, no '/', not starting with '.'. */
bool dp_script_ok(const char *s, size_t n);
/* An absolute path with no empty, "." or ".." component, of printable
 * non-space ASCII. */
bool dp_path_clean(const char *s, size_t n);
/* A disk's params as a peer may send them: printable non-space ASCII,
 * 1..255 bytes; a path (starting with '/') must be clean. */
bool dp_params_ok(const char *s, size_t n);
/* Whether word is one of the space-separated words of list. */
bool dp_listed(const char *list, const char *word);
/* Whether params is allowed by list: an entry ending in '/' allows what
 * lies under it, any other entry allows exactly itself. */
bool dp_disk_allowed(const char *list, const char *params);
/* Every space-separated word of list passes ok; on failure *bad, *badlen
 * point at the first word that does not. */
bool dp_words_ok(const char *list, bool (*ok)(const char *, size_t), const char **bad,
    size_t *badlen);

#endif
