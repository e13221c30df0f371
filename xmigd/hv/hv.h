/* hv/hv.h - the hypervisor backend interface.
 *
 * One ops table per backend (sim, xen), chosen once at start-up.  Every op
 * is mandatory; a backend that cannot do something returns
 * XMIG_ERR_UNSUPPORTED rather than leaving a NULL.  The engine never knows
 * which backend it drives.
 *
 * Saving is driven by the backend, as libxenguest's xc_domain_save drives
 * it: the backend runs the pre-copy loop and asks the engine's policy
 * callback, shaped like libxenguest's precopy_policy, what to do after
 * every round.  It hands what it produces to the engine through
 * struct hv_save_io (pages from a mapping, vCPU context, or opaque stream
 * bytes); the engine frames them.  Restoring is the mirror image: the
 * backend pulls records through struct hv_restore_io and says where each
 * page goes, so page data is read from the socket straight into guest RAM
 * (or, with page_write, through a small buffer that stays in the cache).
 */
#ifndef XMIG_HV_H
#define XMIG_HV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "proto.h"

#define HV_NAME_MAX 64

enum hv_dom_state { HV_RUNNING, HV_PAUSED, HV_SUSPENDED, HV_SHUTDOWN, HV_CRASHED,
	HV_BUILDING, HV_UNKNOWN };
enum hv_dom_type { HV_TYPE_SIM = 0, HV_TYPE_PV = 1, HV_TYPE_PVH = 2, HV_TYPE_HVM = 3 };

struct hv_dominfo {
	uint32_t id;
	char name[HV_NAME_MAX];
	uint8_t uuid[16];
	uint64_t memory;	/* bytes */
	uint64_t maxmem;	/* bytes */
	uint32_t vcpus;
	enum hv_dom_state state;
	enum hv_dom_type type;
};

struct hv_host_info {
	char hv[16];		/* "sim", "xen" */
	char hv_version[32];
	char arch[32];
	uint32_t page_size;
	uint64_t mem_total, mem_free;	/* bytes */
};

/* The policy: the same shape as libxenguest's precopy_policy_t, so one
 * convergence policy serves both backends.  Stats are passed by value. */
struct hv_precopy_stats {
	unsigned iteration;		/* rounds completed */
	unsigned long total_written;	/* pages sent so far */
	long dirty_count;		/* pages dirty now, -1 if unknown */
};
enum { HV_POLICY_ABORT = -1, HV_POLICY_CONTINUE = 0, HV_POLICY_STOP_AND_COPY = 1 };
typedef int (*hv_policy_fn)(struct hv_precopy_stats stats, void *opaque);

/* Sink for the save stream (implemented by the engine). */
struct hv_save_io {
	/* n pages whose pfns are listed, read from base + pfn * page size. */
	int (*pages)(struct hv_save_io *io, unsigned round, const uint64_t *pfns, unsigned n,
	    const uint8_t *base);
	/* End of a pre-copy round: pages sent in it, pages dirty at its end. */
	int (*round_end)(struct hv_save_io *io, unsigned round, uint64_t sent, uint64_t dirty);
	/* The backend is about to ask the domain to suspend (or pause it):
	 * downtime starts (the guest stops serving as it handles the request). */
	void (*suspending)(struct hv_save_io *io);
	/* The domain has just acknowledged: it is paused or suspended. */
	void (*suspended)(struct hv_save_io *io);
	/* vCPU context after the last pages. */
	int (*context)(struct hv_save_io *io, const void *blob, size_t len);
	/* Opaque backend stream bytes (Xen: the libxenguest stream). */
	int (*raw)(struct hv_save_io *io, const void *buf, size_t len);
	/* Nonzero when the job was cancelled: abort as soon as possible. */
	bool (*cancelled)(struct hv_save_io *io);
	/* Read, without waiting, what the receiver sent while we stream
	 * (DEVICES_READY, ABORT).  Call it only from the thread that calls
	 * pages/round_end/context/raw, between them (the sim: between rounds;
	 * Xen: the pump, between chunks), never concurrently with them: under
	 * TLS one connection must not read and write at once.  0, or an error
	 * that ends the save (XMIG_ERR_PEER_ABORT: the job has the receiver's
	 * reason).  The policy learns what was read. */
	int (*poll_peer)(struct hv_save_io *io);
	/* Bytes handed to raw/pages that the network has not taken yet (the
	 * connection's socket queue).  Any thread may call it: a backend
	 * whose writer is another thread (Xen's pump) waits on it to send
	 * the pre-copy's tail before the suspend, not during the downtime. */
	uint64_t (*unsent)(struct hv_save_io *io);
	/* A failed save's reason, one line, set by the backend ("" = none:
	 * the connection's error, or the cancel, is the reason). */
	char why[320];
	/* An HVM guest's device model, after the guest is suspended and its
	 * memory stream is out (only with hv_save_opts.device_model): the
	 * physmap entries QEMU registered (not called when there are none),
	 * then its saved device state, whole; the engine frames them. */
	int (*dm_physmap)(struct hv_save_io *io, const struct msg_dm_physmap *m);
	int (*dm_state)(struct hv_save_io *io, const void *state, size_t len);
};

struct hv_save_opts {
	bool live;
	/* Both HELLOs offered HELLO_F_DEVICE_MODEL: an HVM guest's QEMU may
	 * move with it (otherwise such a guest is refused untouched). */
	bool device_model;
	hv_policy_fn policy;
	void *policy_opaque;
};

enum hv_rec_type { HV_REC_PAGES, HV_REC_ROUND_END, HV_REC_CONTEXT, HV_REC_RAW, HV_REC_END,
	HV_REC_DM_PHYSMAP,	/* data: a struct msg_dm_physmap (checked) */
	HV_REC_DM_STATE,	/* data, len: the device model's whole saved state */
};

struct hv_rec {
	enum hv_rec_type type;
	const void *data;	/* CONTEXT, RAW: valid until the next call */
	size_t len;
	unsigned count;		/* PAGES: pages stored */
};

/* Source of the restore stream (implemented by the engine). */
struct hv_restore_io {
	/* Next record.  For PAGES the pages are already stored: the engine
	 * asks page_dest() for each pfn (already checked < nr_pages). */
	int (*next)(struct hv_restore_io *io, struct hv_rec *rec);
	void *(*page_dest)(void *bctx, uint64_t pfn);	/* set by the backend */
	/* Optional (NULL: the engine writes through page_dest): store n pages
	 * whose data lies back to back at data.  The engine then reads page
	 * data into a small buffer of its own, which stays in the cache, and
	 * hands it over; a backend that can write guest memory without
	 * mapping it page by page (the sim: pwrite to the memory file) saves
	 * a page fault per page. */
	int (*page_write)(void *bctx, const uint64_t *pfns, unsigned n, const uint8_t *data);
	void *bctx;
	/* The backend calls this once the domain exists and its memory is
	 * reserved, before the first next(): only then does the engine accept
	 * the migration (PREPARE_OK), so allocation is neither a late failure
	 * nor part of the downtime. */
	int (*ready)(struct hv_restore_io *io);
	/* The backend calls this when the new domain's devices are up (Xen:
	 * xen_devices_thread, once every hotplug script reported connected),
	 * from any thread, at most once that matters (later calls do nothing);
	 * a backend with no devices to set up calls it before ready().  The
	 * engine tells the sender (DEVICES_READY) from the thread that reads
	 * the connection: right after PREPARE_OK, or at the next next(), or at
	 * the latest before BUILT.  Only for backends with devices_ready set
	 * in their ops. */
	void (*devices_ready)(struct hv_restore_io *io);
	/* Set by the engine before restore: the sender holds its suspension
	 * until devices_ready (both ends offered DEVICES_READY), so a backend
	 * may set the devices up while the memory comes.  Unset, an older
	 * sender would suspend whenever its stream converged, and the wait for
	 * the devices would be downtime: set them up before ready(). */
	bool devices_awaited;
	/* Set by the backend when restore fails before ready(): one line the
	 * receiver sends the sender instead of a bare error code. */
	char why[320];
};

/* What the receiver is asked to build (from PREPARE). */
struct hv_dom_spec {
	char name[HV_NAME_MAX];	/* name to create it under (NAME--incoming) */
	uint8_t uuid[16];
	uint64_t nr_pages;
	uint64_t max_pages;
	uint32_t vcpus;
	enum hv_dom_type type;
	const void *cfg;	/* backend config blob from the sender's get_config */
	size_t cfg_len;
	/* Both HELLOs offered HELLO_F_DEVICE_MODEL: DM records may come. */
	bool device_model;
};

struct hv;

struct hv_ops {
	const char *name;
	/* The backend calls hv_restore_io.devices_ready when the devices are
	 * up, and its save calls hv_save_io.poll_peer between writes: only
	 * then does this host offer HELLO_F_DEVICES_READY (a sender that
	 * never read the frame would wait for it in vain). */
	bool devices_ready;
	int (*host_info)(struct hv *hv, struct hv_host_info *out);
	/* All domains (caller frees *out). */
	int (*list)(struct hv *hv, struct hv_dominfo **out, size_t *n);
	/* By name, or by id when the string is all digits.  XMIG_ERR_NOT_FOUND. */
	int (*lookup)(struct hv *hv, const char *name_or_id, struct hv_dominfo *out);
	int (*pause)(struct hv *hv, uint32_t domid);
	int (*unpause)(struct hv *hv, uint32_t domid);
	int (*destroy)(struct hv *hv, uint32_t domid);
	/* Ask the guest to shut down cleanly (xl shutdown) and return at once;
	 * the caller watches for state HV_SHUTDOWN (then destroys it) or for it
	 * to be gone.  NULL when the backend cannot. */
	int (*shutdown)(struct hv *hv, uint32_t domid);
	int (*rename)(struct hv *hv, uint32_t domid, const char *newname);
	/* Undo a save that did not complete: log-dirty off, and running again
	 * if it was suspended or paused by the save. */
	int (*resume)(struct hv *hv, uint32_t domid);
	/* The configuration that travels in PREPARE (caller frees *blob). */
	int (*get_config)(struct hv *hv, uint32_t domid, void **blob, size_t *len);
	/* Sender preflight, before anything is sent: can this domain be
	 * migrated (live or not) from here?  why gets one line. */
	int (*check_outgoing)(struct hv *hv, const struct hv_dominfo *dom, bool live, char *why,
	    size_t whylen);
	/* Sender, after check_outgoing: what the operator should be told
	 * before the domain moves (one line; "" = nothing).  NULL = never. */
	void (*warn_outgoing)(struct hv *hv, const struct hv_dominfo *dom, char *note,
	    size_t notelen);
	/* Receiver preflight: can this host build it?  why gets one line. */
	int (*check_incoming)(struct hv *hv, const struct hv_dom_spec *spec, char *why,
	    size_t whylen);
	/* Auto-converge: slow the guest to (100 - pct)% (0 removes the cap). */
	int (*throttle)(struct hv *hv, uint32_t domid, unsigned pct);
	/* The saved domain is about to be handed over (before GO): make sure
	 * nothing it wrote is still in flight or only in this host's caches
	 * (Xen: its disks' rings are drained, file images flushed).  On
	 * failure the caller resumes it. */
	int (*quiesce)(struct hv *hv, uint32_t domid, char *why, size_t whylen);
	/* Stream the domain.  Returns with the domain paused/suspended on
	 * success; on failure the caller calls resume. */
	int (*save)(struct hv *hv, uint32_t domid, struct hv_save_io *io,
	    const struct hv_save_opts *opts);
	/* Build the domain from the stream, paused.  On failure nothing of it
	 * is left behind. */
	int (*restore)(struct hv *hv, const struct hv_dom_spec *spec, struct hv_restore_io *io,
	    uint32_t *domid);
	void (*close)(struct hv *hv);
};

struct hv {
	const struct hv_ops *ops;
	void *priv;
	/* The backend can send and host an HVM guest's device model (Xen with
	 * QEMU installed): only then does this host offer HELLO_F_DEVICE_MODEL. */
	bool device_model;
};

/* Open the backend named by the configuration (auto: xen when /proc/xen or
 * /dev/xen/privcmd exists, else sim).  err gets one line. */
int hv_open(const struct conf *c, struct hv **out, char *err, size_t errlen);
void hv_close(struct hv *hv);
const char *hv_state_name(enum hv_dom_state s);
const char *hv_type_name(enum hv_dom_type t);

/* Before a live save asks for the suspend: the pre-copy's tail goes out
 * while the guest runs, until this little is left or for this long (a
 * link slower than the saver holds megabytes in the socket's queue). */
#define HV_DRAIN_SLACK (64u * 1024)
#define HV_DRAIN_MAX_MS 1000
/* Wait until backlog(arg) (NULL: io->unsent) is at most HV_DRAIN_SLACK,
 * HV_DRAIN_MAX_MS have passed or the job is cancelled; returns what is
 * left.  A backlog that cannot shrink any more (the writer failed)
 * returns 0. */
uint64_t hv_save_drain(struct hv_save_io *io, uint64_t (*backlog)(void *arg), void *arg);

/* Backend constructors. */
int hv_sim_open(const struct conf *c, struct hv **out, char *err, size_t errlen);

#endif
