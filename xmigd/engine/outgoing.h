/* engine/outgoing.h - settling the source copy of a migration whose outcome the
 * sender did not learn (lost DONE, or the daemon died or was killed).
 *
 * The sender keeps one record per outgoing job in STATE_DIR/outgoing:
 * "streaming" from PREPARE_OK on, "go" just before GO is sent.  Whatever
 * interrupted the job, a record left behind says what the source copy may
 * be waiting for: before "go" the receiver cannot have committed, so the
 * copy is resumed; after it, the receiver is asked (QUERY) and the copy is
 * destroyed if it committed, resumed if not, and left paused while the
 * receiver cannot be reached.
 */
#ifndef XMIG_RESOLVE_H
#define XMIG_RESOLVE_H

#include <stdbool.h>
#include <stdint.h>

#include "daemon.h"

struct outgoing_rec {
	uint8_t token[16];
	char phase[16];		/* "streaming" or "go" */
	char host[256];
	uint16_t port;
	bool ssl;
	uint32_t domid;
	char name[64];		/* the domain's own name (not --migratedaway) */
};

int resolve_init(const char *state_dir, char *err, size_t errlen);
/* Write (replace) the record durably. */
int outgoing_record(const struct outgoing_rec *rec);
void outgoing_forget(const uint8_t token[16]);
/* Ask host what became of job `token`, the migration of domain name/uuid:
 * an OUTCOME_*.  *reached is false when the host could not be asked within
 * `attempts` tries or its answer is about another domain (a committed or
 * aborted outcome is returned only for this one).  Only COMMITTED and
 * ABORTED are facts to act on: anything else leaves the copy paused. */
int engine_query_outcome(struct xmigd *d, const char *host, uint16_t port, bool ssl,
    const uint8_t token[16], const char *name, const uint8_t uuid[16], unsigned attempts,
    bool *reached);
/* Settle leftover records now, then every 30 s in a thread of its own. */
void resolve_start(struct xmigd *d);

#endif
