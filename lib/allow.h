/* allow.h - the relocation allow-list (xend's xend-relocation-hosts-allow).
 *
 * A whitespace-separated list of entries.  An entry with a '/' followed by digits
 * that parses as an address/prefix is a CIDR (IPv4 or IPv6); any other entry
 * is a POSIX extended regex, anchored at both ends as xend did, matched
 * against the peer's numeric address and against its host name.  An empty
 * list allows every host (as in xend).
 */
#ifndef XMIG_ALLOW_H
#define XMIG_ALLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct allow_list;

/* Compile `spec`.  On error returns a negative XMIG_ERR_* and writes which
 * entry is bad into err. */
int allow_compile(const char *spec, struct allow_list **out, char *err, size_t errlen);
void allow_free(struct allow_list *al);
/* True when the list is empty (everyone allowed). */
bool allow_is_open(const struct allow_list *al);
/* True when some entry is a regex that could match a host name, i.e. a
 * reverse lookup may be needed when no address entry matched. */
bool allow_wants_name(const struct allow_list *al);
/* The host name of address sa, forward-confirmed (one of the name's
 * addresses is sa), into name.  0, XMIG_ERR_NOT_FOUND (no PTR record) or
 * XMIG_ERR_INVALID (the name does not lead back to sa).  Blocks on DNS. */
int allow_peer_name(const struct sockaddr *sa, socklen_t salen, char *name, size_t namelen);
/* The peer's address as a lookup key: key[0] is 4 or 6, then the 4 or 16
 * address bytes (an IPv4-mapped IPv6 address gives its IPv4 key), the rest
 * zero.  0, or XMIG_ERR_INVALID for another family or a short salen. */
#define ALLOW_ADDR_KEY_LEN 17
int allow_addr_key(const struct sockaddr *sa, socklen_t salen,
    unsigned char key[ALLOW_ADDR_KEY_LEN]);
/* Match an address (and, if non-NULL, the peer's host name). */
bool allow_match(const struct allow_list *al, const struct sockaddr *sa, socklen_t salen,
    const char *hostname);

#endif
