/* simdom.h - the simulated hypervisor's domain model.
 *
 * A sim "host" is a root directory.  A domain is a process ("simhv run")
 * that owns guest RAM in a shared file ROOT/<id>.mem and runs a workload on
 * it from one thread per vCPU.  ROOT/<id>.ctl is a small shared control
 * area: identity, state, requests, the per-vCPU context (all a workload
 * needs to continue elsewhere) and a log-dirty bitmap that the workload marks
 * after every page it writes while log-dirty is on, as Xen's hypervisor
 * marks pages in its log-dirty mode.
 *
 * Guest memory layout: pages [0, table_pages) hold the version table, one
 * uint32_t per pfn: the latest version written to that page.  Every other
 * page written by the workload holds (pfn, version) in its first two
 * 64-bit words and words derived from them in the rest; see
 * simdom_fill_page().  A page never written (version 0) is all zero with
 * --fill zero, or holds the pattern of (pfn, 0) with --fill random.  So
 * verify can tell a lost update: a page whose content is not the one the
 * table promises.  The sum of all versions equals the sum of the vCPUs'
 * write counters, which travel in the vCPU context, not in RAM.
 *
 * Both simhv (the CLI and the domain process) and xmigd's sim backend use
 * this module; it is the only code that knows the file layout.
 */
#ifndef XMIG_SIMDOM_H
#define XMIG_SIMDOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_PAGE_SHIFT 12
#define SIM_PAGE_SIZE 4096u
#define SIM_NAME_MAX 64
#define SIM_MAX_VCPUS 64

enum sim_state {
	SIM_BUILDING = 0,	/* files exist, no process yet (being created/restored) */
	SIM_RUNNING = 1,
	SIM_PAUSED = 2,
	SIM_SUSPENDED = 3,
	SIM_SHUTDOWN = 4,	/* process exited cleanly */
	SIM_CRASHED = 5,	/* reported by list/info when the process is gone */
};

enum sim_fill { SIM_FILL_ZERO = 0, SIM_FILL_RANDOM = 1, SIM_FILL_NONE = 2 /* restore target */ };

/* One vCPU's registers: all the workload needs to continue elsewhere. */
struct sim_vcpu_ctx {
	uint64_t rng[2];	/* xorshift128+ state */
	uint64_t writes;	/* pages written so far by this vCPU */
	uint64_t ticks;		/* loop iterations, advances even when idle */
};

struct simdom_params {
	char name[SIM_NAME_MAX];
	uint8_t uuid[16];	/* all-zero: generate one */
	uint64_t memory;	/* bytes, multiple of SIM_PAGE_SIZE */
	uint32_t vcpus;		/* 1..SIM_MAX_VCPUS */
	uint64_t dirty_rate;	/* pages per second over all vCPUs, 0 = idle */
	uint64_t wws;		/* writable working set in bytes, 0 = all data pages */
	enum sim_fill fill;
};

struct simdom_info {
	uint32_t domid;
	char name[SIM_NAME_MAX];
	uint8_t uuid[16];
	uint64_t memory;
	uint32_t vcpus;
	uint64_t dirty_rate;
	uint64_t wws;
	enum sim_state state;
	int pid;
	bool logdirty;
	uint64_t writes;	/* sum over vCPUs */
	uint64_t ticks;		/* sum over vCPUs */
};

/* An open domain: both files mapped in the caller. */
struct simdom {
	char root[1024];
	uint32_t domid;
	uint64_t nr_pages;
	uint32_t table_pages;
	uint8_t *mem;		/* guest RAM, nr_pages * SIM_PAGE_SIZE, MAP_SHARED */
	struct sim_ctl *ctl;	/* opaque shared control area */
	size_t ctl_len;
	uint64_t *bitmap;	/* log-dirty bitmap inside ctl, nr_pages bits */
};

/* Create a domain's files (state BUILDING, no process).  The memory is
 * filled per p->fill (zero and restore targets: a sparse file, each page
 * allocated when first written).  Fails with XMIG_ERR_EXISTS on a name
 * clash, XMIG_ERR_NO_SPACE when the file system under root cannot hold
 * p->memory beside what the domains already there may still write
 * (simdom_unclaimed). */
int simdom_create(const char *root, const struct simdom_params *p, struct simdom **out);
/* Bytes of the file system under root that no domain there owns: its free
 * space less every domain's memory not yet allocated (sparse pages). */
int simdom_unclaimed(const char *root, uint64_t *out);
/* Open an existing domain by name or numeric id. */
int simdom_open(const char *root, const char *name_or_id, struct simdom **out);
void simdom_close(struct simdom *d);
/* Snapshot of the identity and state (state CRASHED when the process died). */
void simdom_info(const struct simdom *d, struct simdom_info *out);
/* List all domains under root (caller frees *out). */
int simdom_list(const char *root, struct simdom_info **out, size_t *n);

/* Start the domain process (fork, setsid, exec `simhv_path -r ROOT run ID`).
 * With paused the vCPUs wait for unpause.  Returns once the process has
 * reported RUNNING or PAUSED, or an error after a timeout. */
int simdom_start(struct simdom *d, const char *simhv_path, bool paused);
/* The domain process's main loop ("simhv run"); returns the exit code. */
int simdom_run(const char *root, const char *name_or_id, bool paused);

/* State changes: request, then wait (up to timeout_ms) until every vCPU
 * has acknowledged at a safe point (never in the middle of a page write). */
int simdom_pause(struct simdom *d, int timeout_ms);
int simdom_suspend(struct simdom *d, int timeout_ms);	/* like pause, state SUSPENDED */
int simdom_unpause(struct simdom *d, int timeout_ms);	/* from PAUSED or SUSPENDED */
/* Ask the guest to shut down cleanly and return: its vCPUs stop at a safe
 * point, the process exits and the domain stays, SHUTDOWN, until destroyed
 * (as a Xen guest that powered off waits for its toolstack).  From RUNNING
 * or PAUSED; XMIG_ERR_STATE otherwise. */
int simdom_shutdown(struct simdom *d);
/* Stop the process and remove the files. */
int simdom_destroy(struct simdom *d);
int simdom_rename(struct simdom *d, const char *newname);	/* XMIG_ERR_EXISTS on clash */

/* Log-dirty tracking.  Turning it on clears the bitmap. */
int simdom_logdirty(struct simdom *d, bool on);
/* Atomically fetch and clear the dirty bitmap into dst (nr_pages bits,
 * caller-allocated, (nr_pages+63)/64 words).  Returns the number of dirty
 * pages. */
uint64_t simdom_dirty_fetch_clear(struct simdom *d, uint64_t *dst);
/* Set in bm (nr_pages bits, caller-allocated) the pages that hold memory:
 * holes in the sparse RAM file were never written and read as zero, like
 * unpopulated guest pages on Xen, so a first copy need not send them.
 * Returns the number of populated pages. */
uint64_t simdom_populated(struct simdom *d, uint64_t *bm);
/* Map pages [pfn, pfn + count) into the caller's mapping for reading
 * (MADV_POPULATE_READ), so that a later first read costs no page fault;
 * content is unchanged.  Only for pages that hold data: a hole would get
 * a page.  Returns 0, XMIG_ERR_INVALID (out of range), XMIG_ERR_NOMEM,
 * XMIG_ERR_NO_SPACE or XMIG_ERR_UNSUPPORTED (Linux before 5.14). */
int simdom_prefault(struct simdom *d, uint64_t pfn, uint64_t count);
/* The memory file, open for reading and writing (caller closes), or a
 * negative XMIG_ERR_*. */
int simdom_mem_open(const struct simdom *d);
/* Write n pages, whose data lies back to back at data, to pages pfns of the
 * memory file fd (one pwrite per run of consecutive pfns).  Written through
 * the file, guest memory needs no page table entries in the caller: no
 * page fault per page as a first write through the mapping costs.  0,
 * XMIG_ERR_INVALID (pfn out of range), XMIG_ERR_NO_SPACE, XMIG_ERR_NOMEM
 * or XMIG_ERR_SYSTEM. */
int simdom_write_pages(const struct simdom *d, int fd, const uint64_t *pfns, unsigned n,
    const uint8_t *data);
/* Auto-converge: slow the workload to (100 - pct)% of its dirty rate. */
int simdom_throttle(struct simdom *d, unsigned pct);

/* vCPU context: copy out / in (restore writes it before simdom_start). */
int simdom_get_context(const struct simdom *d, struct sim_vcpu_ctx *ctx, uint32_t *nvcpus);
int simdom_set_context(struct simdom *d, const struct sim_vcpu_ctx *ctx, uint32_t nvcpus);
/* The static config that must travel before the memory (dirty rate, wws,
 * fill): serialised as a small opaque blob. */
int simdom_get_params(const struct simdom *d, struct simdom_params *p);

/* Check every page against the version table and the write counters, and
 * (when check_running) that the domain runs and its counters advance.
 * Pauses the domain during the memory check.  Returns 0 or an error with a
 * message naming the first bad page. */
int simdom_verify(struct simdom *d, bool check_running, char *err, size_t errlen);

/* The content of page `pfn` at `version` (used by the workload and verify). */
void simdom_fill_page(uint8_t *page, uint64_t pfn, uint64_t version);
const char *sim_state_name(enum sim_state s);
/* A valid domain name: 1..63 of [A-Za-z0-9._-], not all digits (that
 * would read as a domain id). */
bool simdom_name_valid(const char *name);

#endif
