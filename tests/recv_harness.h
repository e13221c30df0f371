/* recv_harness.h - the real receiver (xmigd/engine/recv.c) on a socketpair,
 * for tests/fuzz/fuzz_recv.c and tests/unit/test_recv_stream.c.
 *
 * rh_init() sets up what xmigd's main() sets up for a receiver: a default
 * configuration, the allow-list, the job table, the state directory (a
 * temporary one) and a backend.  The backend is an in-memory fake (struct
 * hv_ops) rather than the sim: the sim's restore starts a `simhv run`
 * process per domain, which would make each fuzz input cost a fork and
 * exec, while the fake keeps a domain as a calloc'ed array of exactly
 * nr_pages pages (so ASan sees any write past it), counts every page
 * written, and records any pfn the engine hands it at or beyond nr_pages.
 * Its restore pulls records the way the sim's does (PAGES, ROUND_END,
 * CONTEXT required, RAW accepted as the Xen backend accepts it, END).
 *
 * rh_serve() runs one connection: it hands one end of a socketpair to
 * engine_recv_start() exactly as the daemon's accept loop does, writes the
 * given client bytes while reading (and keeping) what the receiver sends,
 * closes its write side, reads to EOF and waits, bounded, until the
 * receiver's thread has ended (engine_recv_open() back to where it was).
 *
 * The rh_buf helpers build client streams with the project's encoders.
 */
#ifndef XMIG_RECV_HARNESS_H
#define XMIG_RECV_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon.h"
#include "proto.h"

#define RH_MAX_PAGES 1024u	/* the fake's restore refuses bigger domains (NO_SPACE) */
#define RH_MAX_DOMS 8

/* What the fake backend saw since the last rh_reset(). */
struct rh_stats {
	unsigned restores;		/* restore() calls */
	unsigned restored;		/* ... that built a domain */
	uint64_t pages_written;		/* through page_write */
	uint64_t pages_mapped;		/* page_dest calls (ZERO entries too) */
	uint64_t out_of_range;		/* pfns >= the domain's nr_pages */
	unsigned destroyed;
	unsigned unpaused;
	/* device model records (rh_set_device_model) */
	unsigned dm_physmaps;		/* HV_REC_DM_PHYSMAP records */
	uint32_t dm_physmap_entries;	/* ... entries in the last */
	unsigned dm_states;		/* HV_REC_DM_STATE records */
	uint64_t dm_state_len;		/* ... bytes of the last */
	uint64_t dm_state_sum;		/* ... and the sum of its bytes */
};

int rh_init(char *err, size_t errlen);
void rh_fini(void);
struct xmigd *rh_daemon(void);
const char *rh_state_dir(void);
/* Between connections: drop finished jobs, the fake's domains, the state
 * records, and zero the statistics (the page_write choice stays). */
void rh_reset(void);
/* true: the engine writes pages through the backend's page_write (as on
 * the sim); false: through page_dest (as on Xen). */
void rh_set_page_write(bool on);
/* HELLO_F_DEVICES_READY: RH_DEVS_OFF (the default, again after rh_reset)
 * does not offer it; RH_DEVS_AT_ONCE offers it and the fake's devices are
 * up before ready(), as the sim's; RH_DEVS_NEVER offers it and the fake
 * never says so (the engine must still send the frame before BUILT).
 * Call it before building the client's HELLO (rh_hello offers the same). */
enum rh_devs { RH_DEVS_OFF, RH_DEVS_AT_ONCE, RH_DEVS_NEVER };
void rh_set_devices(enum rh_devs mode);
bool rh_page_write(void);
/* HELLO_F_DEVICE_MODEL: the fake offers it (off again after rh_reset) and
 * counts the DM records it is handed.  Call before building the HELLO. */
void rh_set_device_model(bool on);
/* A domain the fake already has (for NAME_CLASH / leftover --incoming). */
int rh_add_domain(const char *name, uint64_t nr_pages);
struct rh_stats rh_stats(void);
/* Domains the fake holds now; with name/running/nr_pages of the first. */
unsigned rh_domains(char *name, size_t nlen, bool *running);
/* The memory of the fake's domain called name, or NULL. */
const uint8_t *rh_domain_mem(const char *name, uint64_t *nr_pages);

/* What the job table says about a job (a copy taken under the lock). */
struct rh_job {
	uint64_t id;
	int state;		/* enum job_state */
	bool finished, thread_done;
	char error[512];
	uint8_t token[16];	/* zero until the job's record exists */
};
/* The jobs in the table (after rh_reset(), only the last connection's);
 * returns how many, up to max. */
unsigned rh_jobs(struct rh_job *out, unsigned max);
/* The most recent job; false when there is none. */
bool rh_last_job(struct rh_job *out);

/* The outcome recorded for a token ("building", "committed", "aborted"),
 * or NULL. */
const char *rh_record(const uint8_t token[16], char *buf, size_t len);
/* Record an earlier job with this token, as if the harness's peer
 * (same_peer) or another host had sent it. */
int rh_set_record(const uint8_t token[16], const char *outcome, const char *name,
    bool same_peer);

struct rh_reply {
	uint8_t *p;		/* what the receiver sent, up to RH_REPLY_MAX */
	size_t len;
};
#define RH_REPLY_MAX (256u << 10)

/* One connection with the client bytes in[0..len).  0, or -1 when the
 * receiver did not finish within timeout_ms (the harness then gives up on
 * it).  reply may be NULL; otherwise the caller frees reply->p. */
int rh_serve(const uint8_t *in, size_t len, struct rh_reply *reply, int timeout_ms);
/* Type of the n-th frame (0-based) in a reply, or -1; with its payload. */
int rh_reply_frame(const struct rh_reply *r, unsigned n, const uint8_t **payload,
    uint32_t *plen);

/* A growing client stream. */
struct rh_buf {
	uint8_t *p;
	size_t len, cap;
	bool failed;		/* out of memory or over RH_BUF_MAX: stop adding */
};
#define RH_BUF_MAX (24u << 20)

void rh_buf_free(struct rh_buf *b);
void rh_put(struct rh_buf *b, const void *p, size_t n);
/* A frame whose header says declared_len, followed by n payload bytes. */
void rh_frame_lie(struct rh_buf *b, uint8_t type, uint16_t flags, uint32_t declared_len,
    const void *payload, size_t n);
void rh_frame(struct rh_buf *b, uint8_t type, const void *payload, size_t n);
/* HELLO as a compatible sender says it (the receiver's own facts, another
 * host name), PREPARE from m. */
void rh_hello(struct rh_buf *b);
void rh_prepare(struct rh_buf *b, const struct msg_prepare *m);
void rh_reason(struct rh_buf *b, uint8_t type, uint16_t code, const char *text);
/* The fake's CONTEXT: any non-empty payload. */
void rh_context(struct rh_buf *b);

#endif
