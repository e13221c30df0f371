/* namecheck.h - host name checks of relocation peers, off the accept loop
 * (the host name entries of relocation-hosts-allow).  Everything but the
 * lookups themselves runs on the accept loop's thread. */
#ifndef XMIGD_NAMECHECK_H
#define XMIGD_NAMECHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct xmigd;

/* What to do with a connection whose peer the list admits. */
typedef void (*namecheck_admit_fn)(struct xmigd *d, int fd, const char *full, bool tls);

/* Once, before serving.  0, or an error with err set. */
int namecheck_init(struct xmigd *d, namecheck_admit_fn admit, char *err, size_t errlen);
/* The descriptor the accept loop polls for POLLIN: a lookup has answered. */
int namecheck_fd(void);
/* Decide on connection fd (owned from here on) from a peer that no address
 * entry admitted: at once from the cache, else after a lookup. */
void namecheck_submit(int fd, const struct sockaddr_storage *ss, socklen_t sl,
    const char *full, bool tls);
/* Act on answered and timed-out lookups and start queued ones; returns the
 * milliseconds until the next deadline, or -1 when nothing is pending. */
int namecheck_run(void);

/* For tests: the lookup (allow_peer_name's contract); NULL restores it. */
typedef int (*namecheck_lookup_fn)(const struct sockaddr *sa, socklen_t salen, char *name,
    size_t namelen);
void namecheck_set_lookup(namecheck_lookup_fn fn);

#endif
