/* cluster/mover.h - a batch of outgoing migrations run by one thread: at most
 * `parallel` at a time, at most one incoming per peer, each destination
 * checked (or chosen) on fresh cluster facts when its migration starts.
 * Maintenance evacuations (cluster/maint.c) and balances (cluster/balance.c) are batches.
 *
 * One batch runs at a time in xmigd, whatever its kind: an evacuation and a
 * balance never overlap.  One mutex (mover_lock) guards every batch record;
 * the thread and control clients read and write them under it, and call the
 * backend and the network without it.
 */
#ifndef XMIG_MOVER_H
#define XMIG_MOVER_H

#include <stdbool.h>
#include <stdint.h>

#include "cluster/cluster.h"
#include "ctlmsg.h"
#include "daemon.h"
#include "placement.h"

enum mover_status {
	MOVER_PENDING, MOVER_MIGRATING, MOVER_DONE, MOVER_FAILED, MOVER_LEFT,
	MOVER_SHUTTING_DOWN,	/* shutdown item: the guest was asked to power off */
	MOVER_SHUT_DOWN,	/* it did, and its remains were destroyed */
};

/* How long a guest asked to shut down may take before it is left running. */
#define MOVER_SHUTDOWN_TIMEOUT_MS 120000

#define MOVER_ANY ((size_t)-1)

struct mover_item {
	char name[PLACEMENT_NAME_MAX];
	uint8_t uuid[16];
	uint64_t mem_mib;
	unsigned vcpus;
	bool pinned;
	bool shutdown;		/* not migrated: shut down cleanly (--shutdown-pinned) */
	size_t to;		/* planned peer index, or MOVER_ANY: chosen at dispatch */
	enum mover_status status;
	char dest[300];		/* the peer's name once dispatched */
	uint64_t job;		/* its job id once dispatched */
	unsigned attempts;
	unsigned char avoid[CLUSTER_PEERS_MAX];	/* peers where it failed */
	char why[PLACEMENT_WHY_MAX + 400];	/* why it failed or was left */
	uint64_t t_start_us, elapsed_ms;
};

struct mover;

struct mover_ops {
	const char *what;	/* "maintenance", "balance": log prefix */
	const char *noun;	/* "evacuation", "balance": in messages */
	/* The destination of items[i] (picture domain k) on the fresh picture p,
	 * with the migrations in flight charged.  Called under the lock. */
	void (*choose)(struct mover *mv, const struct cluster_picture *p, size_t k, size_t i,
	    struct placement_choice *ch);
	/* Every migration has ended (called without the lock, before running
	 * turns false). */
	void (*finish)(struct mover *mv);
	/* Free the record (under the lock, once retired and unreferenced). */
	void (*destroy)(struct mover *mv);
};

struct mover {
	struct xmigd *d;
	const struct mover_ops *ops;
	void *ctx;		/* the caller's */
	struct cluster_peer peers[CLUSTER_PEERS_MAX];
	size_t npeers;
	struct mover_item *items;	/* dispatch order */
	size_t nitems;
	unsigned parallel;
	unsigned attempts;	/* tries per item; a retry goes to another peer */
	bool live;
	bool in_order;		/* a busy destination holds back the items after it */
	bool running;
	uint64_t t_start_us, elapsed_ms, started_wall_ms;
	char error[300];
	unsigned refs;		/* watchers holding the record */
	bool retired;		/* replaced by its owner: freed at the last put */
};

struct mover_counts {
	unsigned total, done, migrating, failed, left, pending, shutting_down, shut_down;
};

void mover_lock(void);
void mover_unlock(void);

/* Claim the right to start a batch of kind noun ("evacuation", "balance"):
 * refused (XMIG_ERR_BUSY, err says what runs) while a batch runs or another
 * client is setting one up.  Either mover_start() or mover_release() must
 * follow. */
int mover_reserve(const char *noun, char *err, size_t errlen);
void mover_release(void);
/* Start mv's thread (releases the claim).  0, or an error with err set and
 * mv->running false. */
int mover_start(struct mover *mv, char *err, size_t errlen);
/* Records live until their owner retires them (a newer batch of the same
 * kind replaces them) and the last holder lets go. */
void mover_hold_locked(struct mover *mv);
void mover_put(struct mover *mv);
void mover_retire_locked(struct mover *mv);
/* True while a batch runs; its noun in what. */
bool mover_busy(char *what, size_t len);

/* The items still here (pending or migrating) as p's domains, all on host
 * 0, in item order (p->dom_of maps them back).  Under the lock once mv is
 * started. */
int mover_picture_doms(const struct mover *mv, struct cluster_picture *p);

const char *mover_status_str(enum mover_status s);
void mover_counts_locked(const struct mover *mv, struct mover_counts *out);
/* The batch figures (the top of an evacuation's or a balance's object). */
void mover_batch_locked(const struct mover *mv, struct ctl_batch *out);
/* How long items[i] has been moving, or took. */
int64_t mover_item_elapsed_ms(const struct mover_item *e);

#endif
