/* hv/sim.c - the simulated hypervisor backend.
 *
 * Drives domains of tools/simhv through simdom.h: the same objects the
 * simhv command creates.  save() is the pre-copy loop a hypervisor's
 * toolstack runs: log-dirty on, every page once, then rounds of the pages
 * dirtied meanwhile until the policy says stop, then suspend, the last
 * dirty pages and the vCPU context.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "fault.h"
#include "hv/hv.h"
#include "log.h"
#include "simdom.h"
#include "util.h"
#include "xbuf.h"
#include "xerr.h"

#define SIM_BATCH 4096		/* pfns handed to the engine at once */
#define SIM_STATE_TIMEOUT_MS 5000

struct hv_sim {
	char root[1024];
	char simhv[PATH_MAX];
	uint64_t mem_total;
};

static struct hv_sim *
sim_priv(struct hv *hv)
{
	return hv->priv;
}

static int
sim_open_dom(struct hv *hv, uint32_t domid, struct simdom **d)
{
	char id[16];

	snprintf(id, sizeof(id), "%u", domid);
	return simdom_open(sim_priv(hv)->root, id, d);
}

static enum hv_dom_state
sim_state(enum sim_state s)
{
	switch (s) {
	case SIM_RUNNING: return HV_RUNNING;
	case SIM_PAUSED: return HV_PAUSED;
	case SIM_SUSPENDED: return HV_SUSPENDED;
	case SIM_SHUTDOWN: return HV_SHUTDOWN;
	case SIM_CRASHED: return HV_CRASHED;
	case SIM_BUILDING: return HV_BUILDING;
	}
	return HV_UNKNOWN;
}

static void
sim_fill_info(const struct simdom_info *si, struct hv_dominfo *out)
{
	memset(out, 0, sizeof(*out));
	out->id = si->domid;
	strlcpy_x(out->name, si->name, sizeof(out->name));
	memcpy(out->uuid, si->uuid, 16);
	out->memory = out->maxmem = si->memory;
	out->vcpus = si->vcpus;
	out->state = sim_state(si->state);
	out->type = HV_TYPE_SIM;
}

static int
sim_list(struct hv *hv, struct hv_dominfo **out, size_t *n)
{
	struct simdom_info *si = NULL;
	struct hv_dominfo *di;
	size_t cnt = 0, i;
	int r;

	*out = NULL;
	*n = 0;
	if ((r = simdom_list(sim_priv(hv)->root, &si, &cnt)) != 0)
		return r;
	if ((di = calloc(cnt ? cnt : 1, sizeof(*di))) == NULL) {
		free(si);
		return XMIG_ERR_NOMEM;
	}
	for (i = 0; i < cnt; i++)
		sim_fill_info(&si[i], &di[i]);
	free(si);
	*out = di;
	*n = cnt;
	return 0;
}

static int
sim_lookup(struct hv *hv, const char *name_or_id, struct hv_dominfo *out)
{
	struct simdom *d = NULL;
	struct simdom_info si;
	int r;

	if ((r = simdom_open(sim_priv(hv)->root, name_or_id, &d)) != 0)
		return r;
	simdom_info(d, &si);
	sim_fill_info(&si, out);
	simdom_close(d);
	return 0;
}

static int
sim_host_info(struct hv *hv, struct hv_host_info *out)
{
	struct hv_dominfo *doms = NULL;
	struct utsname u;
	size_t n = 0, i;
	uint64_t used = 0;
	int r;

	memset(out, 0, sizeof(*out));
	strlcpy_x(out->hv, "sim", sizeof(out->hv));
	strlcpy_x(out->hv_version, "1", sizeof(out->hv_version));
	if (uname(&u) == 0)
		strlcpy_x(out->arch, u.machine, sizeof(out->arch));
	out->page_size = SIM_PAGE_SIZE;
	out->mem_total = sim_priv(hv)->mem_total;
	if ((r = sim_list(hv, &doms, &n)) != 0)
		return r;
	for (i = 0; i < n; i++)
		used += doms[i].memory;
	free(doms);
	out->mem_free = used < out->mem_total ? out->mem_total - used : 0;
	return 0;
}

/* Open, run one state change, close. */
#define SIM_DOM_OP(fn, call)						\
static int								\
fn(struct hv *hv, uint32_t domid)					\
{									\
	struct simdom *d = NULL;					\
	int r;								\
									\
	if ((r = sim_open_dom(hv, domid, &d)) != 0)			\
		return r;						\
	r = call;							\
	simdom_close(d);						\
	return r;							\
}
SIM_DOM_OP(sim_pause, simdom_pause(d, SIM_STATE_TIMEOUT_MS))
SIM_DOM_OP(sim_unpause, simdom_unpause(d, SIM_STATE_TIMEOUT_MS))
SIM_DOM_OP(sim_destroy, simdom_destroy(d))
SIM_DOM_OP(sim_shutdown, simdom_shutdown(d))

static int
sim_rename(struct hv *hv, uint32_t domid, const char *newname)
{
	struct simdom *d = NULL;
	int r;

	if ((r = sim_open_dom(hv, domid, &d)) != 0)
		return r;
	r = simdom_rename(d, newname);
	simdom_close(d);
	return r;
}

static int
sim_throttle(struct hv *hv, uint32_t domid, unsigned pct)
{
	struct simdom *d = NULL;
	int r;

	if ((r = sim_open_dom(hv, domid, &d)) != 0)
		return r;
	r = simdom_throttle(d, pct);
	simdom_close(d);
	return r;
}

/* A simulated domain has no disks: nothing can be in flight, but it
 * must still be there to be handed over. */
static int
sim_quiesce(struct hv *hv, uint32_t domid, char *why, size_t whylen)
{
	struct simdom *d = NULL;
	int r;

	if ((r = sim_open_dom(hv, domid, &d)) != 0) {
		snprintf(why, whylen, "domain %u is gone", domid);
		return r;
	}
	simdom_close(d);
	return 0;
}

static int
sim_resume(struct hv *hv, uint32_t domid)
{
	struct simdom *d = NULL;
	struct simdom_info si;
	int r;

	if ((r = sim_open_dom(hv, domid, &d)) != 0)
		return r;
	simdom_logdirty(d, false);
	simdom_throttle(d, 0);
	simdom_info(d, &si);
	r = 0;
	if (si.state == SIM_PAUSED || si.state == SIM_SUSPENDED)
		r = simdom_unpause(d, SIM_STATE_TIMEOUT_MS);
	simdom_close(d);
	return r;
}

/* The sim's config blob: what a restore needs beyond PREPARE's fields. */
#define SIM_CFG_LEN 17

static int
sim_get_config(struct hv *hv, uint32_t domid, void **blob, size_t *len)
{
	struct simdom *d = NULL;
	struct simdom_params p;
	struct xbuf b;
	uint8_t *buf;
	int r;

	*blob = NULL;
	*len = 0;
	if ((r = sim_open_dom(hv, domid, &d)) != 0)
		return r;
	r = simdom_get_params(d, &p);
	simdom_close(d);
	if (r != 0)
		return r;
	if ((buf = malloc(SIM_CFG_LEN)) == NULL)
		return XMIG_ERR_NOMEM;
	xbuf_writer(&b, buf, SIM_CFG_LEN);
	xbuf_put_u64(&b, p.dirty_rate);
	xbuf_put_u64(&b, p.wws);
	xbuf_put_u8(&b, (uint8_t)p.fill);
	*blob = buf;
	*len = b.len;
	return 0;
}

static int
sim_parse_config(const struct hv_dom_spec *spec, struct simdom_params *p, char *why,
    size_t whylen)
{
	struct xbuf b;
	uint8_t fill = 0;
	int r;

	memset(p, 0, sizeof(*p));
	xbuf_reader(&b, spec->cfg, spec->cfg_len);
	xbuf_get_u64(&b, &p->dirty_rate);
	xbuf_get_u64(&b, &p->wws);
	xbuf_get_u8(&b, &fill);
	if ((r = xbuf_get_end(&b)) != 0 || fill > SIM_FILL_NONE ||
	    p->wws > spec->nr_pages * SIM_PAGE_SIZE) {
		snprintf(why, whylen, "malformed sim domain configuration");
		return r ? r : XMIG_ERR_INVALID;
	}
	p->fill = fill;
	strlcpy_x(p->name, spec->name, sizeof(p->name));
	memcpy(p->uuid, spec->uuid, 16);
	p->memory = spec->nr_pages * SIM_PAGE_SIZE;
	p->vcpus = spec->vcpus;
	return 0;
}

static int
sim_check_outgoing(struct hv *hv, const struct hv_dominfo *dom, bool live, char *why,
    size_t whylen)
{
	return 0;	/* every sim domain can move, live or not */
}

static int
sim_check_incoming(struct hv *hv, const struct hv_dom_spec *spec, char *why, size_t whylen)
{
	struct hv_host_info hi;
	struct hv_dominfo *doms = NULL;
	struct simdom_params p;
	size_t n = 0, i;
	int r;

	if (spec->type != HV_TYPE_SIM) {
		snprintf(why, whylen, "this host runs the simulated hypervisor and cannot "
		    "build a %s domain", hv_type_name(spec->type));
		return XMIG_ERR_INCOMPATIBLE;
	}
	if (spec->vcpus < 1 || spec->vcpus > SIM_MAX_VCPUS) {
		snprintf(why, whylen, "%u vCPUs: the sim supports 1..%u", spec->vcpus,
		    SIM_MAX_VCPUS);
		return XMIG_ERR_INCOMPATIBLE;
	}
	if ((r = sim_parse_config(spec, &p, why, whylen)) != 0)
		return r;
	if ((r = sim_host_info(hv, &hi)) != 0)
		return r;
	if (spec->nr_pages * SIM_PAGE_SIZE > hi.mem_free) {
		snprintf(why, whylen, "not enough free memory: domain needs %llu MiB, "
		    "%llu MiB free", (unsigned long long)(spec->nr_pages >> 8),
		    (unsigned long long)(hi.mem_free >> 20));
		return XMIG_ERR_NO_SPACE;
	}
	if ((r = sim_list(hv, &doms, &n)) != 0)
		return r;
	r = 0;
	for (i = 0; i < n && r == 0; i++) {
		if (memcmp(doms[i].uuid, spec->uuid, 16) == 0) {
			snprintf(why, whylen, "a domain with the same UUID already exists "
			    "here (%s, id %u)", doms[i].name, doms[i].id);
			r = XMIG_ERR_EXISTS;
		}
	}
	free(doms);
	return r;
}

/* Unmapping a big guest takes tens of milliseconds and holds the process's
 * memory-map lock, so every other mapping waits for it; done at the end of
 * a save or restore it would land in the downtime.  Handles are therefore
 * parked here and closed by a janitor thread a second later. */
struct sim_parked {
	struct simdom *d;
	uint64_t since_ms;
	struct sim_parked *next;
};

static pthread_mutex_t sim_park_mu = PTHREAD_MUTEX_INITIALIZER;
static struct sim_parked *sim_parked;
static bool sim_janitor_running;

static void *
sim_janitor(void *arg)
{
	for (;;) {
		struct sim_parked **pp, *p, *done = NULL;
		bool empty;

		sleep(1);
		pthread_mutex_lock(&sim_park_mu);
		for (pp = &sim_parked; (p = *pp) != NULL;) {
			if (now_ms() - p->since_ms >= 1000) {
				*pp = p->next;
				p->next = done;
				done = p;
			} else {
				pp = &p->next;
			}
		}
		empty = sim_parked == NULL;
		if (empty)
			sim_janitor_running = false;
		pthread_mutex_unlock(&sim_park_mu);
		while ((p = done) != NULL) {
			done = p->next;
			simdom_close(p->d);
			free(p);
		}
		if (empty)
			return arg;
	}
}

static void
sim_close_later(struct simdom *d)
{
	struct sim_parked *p = malloc(sizeof(*p));
	pthread_attr_t attr;
	pthread_t t;

	if (p == NULL) {
		simdom_close(d);
		return;
	}
	p->d = d;
	p->since_ms = now_ms();
	pthread_mutex_lock(&sim_park_mu);
	p->next = sim_parked;
	sim_parked = p;
	if (!sim_janitor_running) {
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		sim_janitor_running = pthread_create(&t, &attr, sim_janitor, NULL) == 0;
		pthread_attr_destroy(&attr);
	}
	pthread_mutex_unlock(&sim_park_mu);
}

/* The engine reads each page (zero check, then the copy to the socket)
 * through xmigd's own mapping of guest memory, fresh for every save, and
 * faulting the pages in took an eighth of the sending thread's time (the
 * busy one) in profiles of a 1 GiB stream.  While the first copy streams,
 * a helper thread maps the pages to send with MADV_POPULATE_READ (a little
 * cheaper than faulting: 0.09 against 0.12 s per GiB here), ahead of the
 * stream, at idle priority: on the CPU time the stream leaves (the
 * receiving end leaves one CPU mostly idle).  When it cannot keep up, the
 * stream faults pages in as before and the helper skips ahead of it.  Only
 * the runs of pages that hold data: a hole must stay a hole.  Best effort
 * (a kernel before 5.14 faults pages in as they come). */
#define SIM_MAP_CHUNK 1024	/* pages per madvise: 4 MiB, a stop waits ~1 ms */

struct sim_mapper {
	struct simdom *d;
	const uint64_t *bm;	/* pages to map; not changed while it runs */
	pthread_t t;
	bool running;
	atomic_bool stop;
	atomic_uint_fast64_t at;	/* the stream is past this pfn */
};

static bool
sim_bit(const uint64_t *bm, uint64_t pfn)
{
	return (bm[pfn / 64] >> (pfn % 64)) & 1;
}

static void *
sim_mapper_thread(void *arg)
{
	struct sim_mapper *m = arg;
	struct sched_param sp = { .sched_priority = 0 };
	uint64_t pfn = 0, start, nr = m->d->nr_pages, at;

	pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp);
	while (pfn < nr && !atomic_load_explicit(&m->stop, memory_order_relaxed)) {
		at = atomic_load_explicit(&m->at, memory_order_relaxed);
		if (pfn < at)
			pfn = at;
		while (pfn < nr && !sim_bit(m->bm, pfn))
			pfn += pfn % 64 == 0 && m->bm[pfn / 64] == 0 ? 64 : 1;
		for (start = pfn; pfn < nr && pfn - start < SIM_MAP_CHUNK && sim_bit(m->bm, pfn);)
			pfn += pfn % 64 == 0 && m->bm[pfn / 64] == ~0ull ? 64 : 1;
		if (pfn > nr)
			pfn = nr;
		if (pfn > start && simdom_prefault(m->d, start, pfn - start) ==
		    XMIG_ERR_UNSUPPORTED)
			break;
	}
	return NULL;
}

static void
sim_mapper_start(struct sim_mapper *m, struct simdom *d, const uint64_t *bm)
{
	m->d = d;
	m->bm = bm;
	atomic_init(&m->stop, false);
	atomic_init(&m->at, 0);
	m->running = pthread_create(&m->t, NULL, sim_mapper_thread, m) == 0;
}

static void
sim_mapper_stop(struct sim_mapper *m)
{
	if (!m->running)
		return;
	atomic_store(&m->stop, true);
	pthread_join(m->t, NULL);
	m->running = false;
}

/* Hand the pfns whose bits are set in bm to the engine, in batches
 * (telling the mapper, when there is one, how far the stream is). */
static int
sim_send_bitmap(struct hv_save_io *io, struct simdom *d, unsigned round,
    const uint64_t *bm, uint64_t *pfns, uint64_t *sent, struct sim_mapper *m)
{
	uint64_t w, nwords = (d->nr_pages + 63) / 64;
	unsigned n = 0;
	int r;

	for (w = 0; w < nwords; w++) {
		uint64_t bits = bm[w];

		while (bits) {
			uint64_t pfn = w * 64 + (unsigned)__builtin_ctzll(bits);

			bits &= bits - 1;
			if (pfn >= d->nr_pages)
				break;
			pfns[n++] = pfn;
			if (n == SIM_BATCH) {
				if (io->cancelled(io))
					return XMIG_ERR_INTERRUPTED;
				if (m != NULL)	/* past the batch: it maps itself meanwhile */
					atomic_store_explicit(&m->at, pfn + 1, memory_order_relaxed);
				if ((r = io->pages(io, round, pfns, n, d->mem)) != 0)
					return r;
				*sent += n;
				n = 0;
			}
		}
	}
	if (n > 0) {
		if ((r = io->pages(io, round, pfns, n, d->mem)) != 0)
			return r;
		*sent += n;
	}
	return 0;
}

static int
sim_send_context(struct hv_save_io *io, struct simdom *d)
{
	struct sim_vcpu_ctx ctx[SIM_MAX_VCPUS];
	uint8_t buf[4 + SIM_MAX_VCPUS * 4 * 8];
	uint32_t nv = 0, i;
	struct xbuf b;
	int r;

	if ((r = simdom_get_context(d, ctx, &nv)) != 0)
		return r;
	xbuf_writer(&b, buf, sizeof(buf));
	xbuf_put_u32(&b, nv);
	for (i = 0; i < nv; i++) {
		xbuf_put_u64(&b, ctx[i].rng[0]);
		xbuf_put_u64(&b, ctx[i].rng[1]);
		xbuf_put_u64(&b, ctx[i].writes);
		xbuf_put_u64(&b, ctx[i].ticks);
	}
	if (b.err)
		return b.err;
	return io->context(io, buf, b.len);
}

static int
sim_save(struct hv *hv, uint32_t domid, struct hv_save_io *io, const struct hv_save_opts *opts)
{
	struct simdom *d = NULL;
	struct sim_mapper mapper;
	uint64_t *bm = NULL, *pfns = NULL;
	uint64_t nwords, dirty = 0, sent, total = 0;
	unsigned round = 0;
	int r, decision;

	if ((r = sim_open_dom(hv, domid, &d)) != 0)
		return r;
	nwords = (d->nr_pages + 63) / 64;
	bm = calloc(nwords, sizeof(*bm));
	pfns = calloc(SIM_BATCH, sizeof(*pfns));
	if (bm == NULL || pfns == NULL) {
		r = XMIG_ERR_NOMEM;
		goto out;
	}
	if (opts->live) {
		if ((r = simdom_logdirty(d, true)) != 0)
			goto out;
		/* Round 0: every populated page (the receiver's new domain is zero
		 * already).  Later rounds: what was dirtied meanwhile. */
		sent = 0;
		simdom_populated(d, bm);
		sim_mapper_start(&mapper, d, bm);
		r = sim_send_bitmap(io, d, round, bm, pfns, &sent, &mapper);
		sim_mapper_stop(&mapper);
		if (r != 0)
			goto out;
		total += sent;
		for (;;) {
			struct hv_precopy_stats st;

			dirty = simdom_dirty_fetch_clear(d, bm);
			if ((r = io->round_end(io, round, sent, dirty)) != 0)
				goto out;
			/* What the receiver said meanwhile (its devices are up, or
			 * it gave up), before the policy decides: from here, the
			 * thread that writes. */
			if (io->poll_peer != NULL && (r = io->poll_peer(io)) != 0)
				goto out;
			round++;
			st.iteration = round;
			st.total_written = total;
			st.dirty_count = (long)dirty;
			decision = opts->policy(st, opts->policy_opaque);
			if (decision == HV_POLICY_ABORT) {
				r = XMIG_ERR_INTERRUPTED;
				goto out;
			}
			if (decision == HV_POLICY_STOP_AND_COPY) {
				/* as on Xen: the socket's tail before the vCPUs stop */
				hv_save_drain(io, NULL, NULL);
				break;
			}
			sent = 0;
			if ((r = sim_send_bitmap(io, d, round, bm, pfns, &sent, NULL)) != 0)
				goto out;
			total += sent;
		}
		/* Stop-and-copy: bm holds pages fetched but not yet sent; add what
		 * was dirtied until the vCPUs stopped. */
		io->suspending(io);
		if ((r = simdom_suspend(d, SIM_STATE_TIMEOUT_MS)) != 0)
			goto out;
		io->suspended(io);
		{
			uint64_t *late = calloc(nwords, sizeof(*late));
			uint64_t w;

			if (late == NULL) {
				r = XMIG_ERR_NOMEM;
				goto out;
			}
			simdom_dirty_fetch_clear(d, late);
			for (w = 0; w < nwords; w++)
				bm[w] |= late[w];
			free(late);
		}
		simdom_logdirty(d, false);
		sent = 0;
		if ((r = sim_send_bitmap(io, d, round, bm, pfns, &sent, NULL)) != 0)
			goto out;
		if ((r = io->round_end(io, round, sent, 0)) != 0)
			goto out;
	} else {
		io->suspending(io);
		if ((r = simdom_suspend(d, SIM_STATE_TIMEOUT_MS)) != 0)
			goto out;
		io->suspended(io);
		sent = 0;
		simdom_populated(d, bm);
		sim_mapper_start(&mapper, d, bm);
		r = sim_send_bitmap(io, d, 0, bm, pfns, &sent, &mapper);
		sim_mapper_stop(&mapper);
		if (r != 0)
			goto out;
		if ((r = io->round_end(io, 0, sent, 0)) != 0)
			goto out;
	}
	r = sim_send_context(io, d);
out:
	free(bm);
	free(pfns);
	sim_close_later(d);
	return r;
}

/* A restore writes page data into the memory file with pwrite: the
 * kernel copies it into the page cache through its own mapping of all
 * memory, where a first write through xmigd's mapping would fault the page
 * in (about 1.5 us a page here, more than the copy), and a run of pages is
 * one call.  (Mapping the written pages behind the stream, so that later
 * rounds could copy scattered pages into them, slowed the first copy more
 * than it sped up the last one.) */
struct sim_restore {
	struct simdom *d;
	int fd;
	const char *name;
};

static void *
sim_page_dest(void *bctx, uint64_t pfn)
{
	struct sim_restore *rs = bctx;

	return rs->d->mem + pfn * SIM_PAGE_SIZE;
}

static int
sim_page_write(void *bctx, const uint64_t *pfns, unsigned n, const uint8_t *data)
{
	struct sim_restore *rs = bctx;
	int r;

	if (fault_at("sim-write-nomem"))
		r = XMIG_ERR_NOMEM;
	else
		r = simdom_write_pages(rs->d, rs->fd, pfns, n, data);
	if (r != 0)
		log_error("cannot write the memory of %s: %s", rs->name, xmig_strerror(r));
	return r;
}

static int
sim_set_context(struct simdom *d, const struct hv_rec *rec)
{
	struct sim_vcpu_ctx ctx[SIM_MAX_VCPUS];
	struct xbuf b;
	uint32_t nv = 0, i;
	int r;

	xbuf_reader(&b, rec->data, rec->len);
	xbuf_get_u32(&b, &nv);
	if (nv == 0 || nv > SIM_MAX_VCPUS)
		return XMIG_ERR_INVALID;
	for (i = 0; i < nv; i++) {
		xbuf_get_u64(&b, &ctx[i].rng[0]);
		xbuf_get_u64(&b, &ctx[i].rng[1]);
		xbuf_get_u64(&b, &ctx[i].writes);
		xbuf_get_u64(&b, &ctx[i].ticks);
	}
	if ((r = xbuf_get_end(&b)) != 0)
		return r;
	return simdom_set_context(d, ctx, nv);
}

static int
sim_restore(struct hv *hv, const struct hv_dom_spec *spec, struct hv_restore_io *io,
    uint32_t *domid)
{
	struct simdom *d = NULL;
	struct simdom_params p;
	struct sim_restore rs = { .fd = -1, .name = spec->name };
	struct hv_rec rec;
	bool have_ctx = false;
	char why[256];
	/* A sim domain has no devices: they are up at once, unless a test
	 * delays them (sim-devices-delay-ms=N) to stand for Xen's hotplug
	 * scripts, which run in a thread while the memory comes. */
	long devs_delay = fault_value("sim-devices-delay-ms");
	uint64_t devs_at = 0;
	int r;

	if ((r = sim_parse_config(spec, &p, why, sizeof(why))) != 0)
		return r;
	p.fill = SIM_FILL_NONE;
	if ((r = simdom_create(sim_priv(hv)->root, &p, &d)) != 0) {
		uint64_t left = 0;

		if (r == XMIG_ERR_NO_SPACE && simdom_unclaimed(sim_priv(hv)->root, &left) == 0)
			log_error("cannot build %s: it needs %llu MiB, %s holds %llu MiB that "
			    "no domain owns", spec->name, (unsigned long long)(p.memory >> 20),
			    sim_priv(hv)->root, (unsigned long long)(left >> 20));
		return r;
	}
	/* The process starts now, paused, so that only the vCPU context is
	 * left to set when the stream ends (it is read on unpause). */
	if ((r = simdom_start(d, sim_priv(hv)->simhv, true)) != 0)
		goto fail;
	rs.d = d;
	if ((rs.fd = simdom_mem_open(d)) < 0) {
		r = rs.fd;
		goto fail;
	}
	io->page_dest = sim_page_dest;
	io->page_write = sim_page_write;
	io->bctx = &rs;
	if (devs_delay > 0)
		devs_at = now_ms() + (uint64_t)devs_delay;
	else
		io->devices_ready(io);
	if ((r = io->ready(io)) != 0)
		goto fail;
	for (;;) {
		if (devs_at != 0 && now_ms() >= devs_at) {
			log_info("fault injection: the devices of %s are up after %ld ms", spec->name,
			    devs_delay);
			io->devices_ready(io);
			devs_at = 0;
		}
		if ((r = io->next(io, &rec)) != 0)
			goto fail;
		if (rec.type == HV_REC_END)
			break;
		if (rec.type == HV_REC_CONTEXT) {
			if ((r = sim_set_context(d, &rec)) != 0)
				goto fail;
			have_ctx = true;
		} else if (rec.type == HV_REC_RAW) {
			r = XMIG_ERR_UNEXPECTED;
			goto fail;
		}
	}
	if (!have_ctx) {
		r = XMIG_ERR_TRUNCATED;
		goto fail;
	}
	/* As Xen joins its device thread: the domain is built with its devices. */
	if (devs_at != 0) {
		uint64_t now = now_ms();

		log_info("the stream of %s ended %llu ms before its devices were up", spec->name,
		    (unsigned long long)(devs_at > now ? devs_at - now : 0));
		if (devs_at > now)
			usleep((useconds_t)(devs_at - now) * 1000);
		io->devices_ready(io);
	}
	*domid = d->domid;
	io->page_write = NULL;	/* rs goes */
	close(rs.fd);
	sim_close_later(d);
	return 0;
fail:
	io->page_write = NULL;
	if (rs.fd >= 0)
		close(rs.fd);
	simdom_destroy(d);
	simdom_close(d);
	return r;
}

static void
sim_close(struct hv *hv)
{
	free(hv->priv);
	free(hv);
}

static const struct hv_ops sim_ops = {
	.name = "sim",
	.devices_ready = true,
	.host_info = sim_host_info,
	.list = sim_list,
	.lookup = sim_lookup,
	.pause = sim_pause,
	.unpause = sim_unpause,
	.destroy = sim_destroy,
	.shutdown = sim_shutdown,
	.rename = sim_rename,
	.resume = sim_resume,
	.get_config = sim_get_config,
	.check_outgoing = sim_check_outgoing,
	.check_incoming = sim_check_incoming,
	.throttle = sim_throttle,
	.quiesce = sim_quiesce,
	.save = sim_save,
	.restore = sim_restore,
	.close = sim_close,
};

/* simhv lives beside xmigd (build/bin, or sbin/bin after install);
 * XMIG_SIMHV overrides. */
static int
sim_find_simhv(char *out, size_t outlen)
{
	const char *env = getenv("XMIG_SIMHV");
	char self[PATH_MAX], *slash;
	ssize_t n;

	if (env != NULL && *env) {
		strlcpy_x(out, env, outlen);
		return access(out, X_OK) == 0 ? 0 : XMIG_ERR_NOT_FOUND;
	}
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) < 0)
		return XMIG_ERR_SYSTEM;
	self[n] = '\0';
	if ((slash = strrchr(self, '/')) != NULL)
		*slash = '\0';
	if (snprintf(out, outlen, "%s/simhv", self) < (int)outlen && access(out, X_OK) == 0)
		return 0;
	if (snprintf(out, outlen, "%s/../bin/simhv", self) < (int)outlen && access(out, X_OK) == 0)
		return 0;
	return XMIG_ERR_NOT_FOUND;
}

int
hv_sim_open(const struct conf *c, struct hv **out, char *err, size_t errlen)
{
	struct hv_sim *s;
	struct hv *hv;
	int r;

	*out = NULL;
	if ((r = mkdir_p(c->sim_root, 0755)) != 0) {
		snprintf(err, errlen, "sim-root %s: %s", c->sim_root, strerror(errno));
		return r;
	}
	s = calloc(1, sizeof(*s));
	hv = calloc(1, sizeof(*hv));
	if (s == NULL || hv == NULL) {
		free(s);
		free(hv);
		return XMIG_ERR_NOMEM;
	}
	strlcpy_x(s->root, c->sim_root, sizeof(s->root));
	if (sim_find_simhv(s->simhv, sizeof(s->simhv)) != 0) {
		snprintf(err, errlen, "cannot find the simhv program beside xmigd "
		    "(set XMIG_SIMHV to its path)");
		free(s);
		free(hv);
		return XMIG_ERR_NOT_FOUND;
	}
	s->mem_total = c->sim_memory;
	if (s->mem_total == 0)
		s->mem_total = (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE);
	hv->ops = &sim_ops;
	hv->priv = s;
	*out = hv;
	return 0;
}
