/* recv_harness.c - see recv_harness.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "recv_harness.h"

#include "allow.h"
#include "conf.h"
#include "engine/engine.h"
#include "engine/incoming.h"
#include "engine/engine_int.h"
#include "store/hoststate.h"
#include "store/jobs.h"
#include <jansson.h>
#include "log.h"
#include "util.h"
#include "xbuf.h"
#include "xerr.h"

/* ---- the fake backend ---- */

struct fk_dom {
	bool used;
	bool running;
	uint32_t id;
	char name[HV_NAME_MAX];
	uint8_t uuid[16];
	uint64_t nr_pages;
	uint32_t vcpus;
	uint8_t *mem;		/* nr_pages * PROTO_PAGE_SIZE, exactly */
};

static pthread_mutex_t fk_mu = PTHREAD_MUTEX_INITIALIZER;
static struct fk_dom fk_doms[RH_MAX_DOMS];
static uint32_t fk_next_id = 1;
static bool fk_use_page_write = true;
static struct rh_stats fk_st;
static uint8_t fk_scratch[PROTO_PAGE_SIZE];	/* where an out-of-range pfn's page goes */

static struct fk_dom *
fk_find_locked(const char *name_or_id)
{
	char *end;
	unsigned long id = strtoul(name_or_id, &end, 10);
	bool by_id = *name_or_id != '\0' && *end == '\0';
	unsigned i;

	for (i = 0; i < RH_MAX_DOMS; i++)
		if (fk_doms[i].used && (by_id ? fk_doms[i].id == id
		    : strcmp(fk_doms[i].name, name_or_id) == 0))
			return &fk_doms[i];
	return NULL;
}

static struct fk_dom *
fk_by_id_locked(uint32_t id)
{
	unsigned i;

	for (i = 0; i < RH_MAX_DOMS; i++)
		if (fk_doms[i].used && fk_doms[i].id == id)
			return &fk_doms[i];
	return NULL;
}

static void
fk_info(const struct fk_dom *d, struct hv_dominfo *o)
{
	memset(o, 0, sizeof(*o));
	o->id = d->id;
	strlcpy_x(o->name, d->name, sizeof(o->name));
	memcpy(o->uuid, d->uuid, 16);
	o->memory = o->maxmem = d->nr_pages * PROTO_PAGE_SIZE;
	o->vcpus = d->vcpus;
	o->state = d->running ? HV_RUNNING : HV_PAUSED;
	o->type = HV_TYPE_SIM;
}

static int
fk_host_info(struct hv *hv, struct hv_host_info *o)
{
	memset(o, 0, sizeof(*o));
	strlcpy_x(o->hv, "fake", sizeof(o->hv));
	strlcpy_x(o->hv_version, "1", sizeof(o->hv_version));
	strlcpy_x(o->arch, "x86_64", sizeof(o->arch));
	o->page_size = PROTO_PAGE_SIZE;
	o->mem_total = 1ull << 30;
	o->mem_free = 1ull << 29;
	return 0;
}

static int
fk_list(struct hv *hv, struct hv_dominfo **out, size_t *n)
{
	unsigned i;

	*n = 0;
	if ((*out = calloc(RH_MAX_DOMS, sizeof(**out))) == NULL)
		return XMIG_ERR_NOMEM;
	pthread_mutex_lock(&fk_mu);
	for (i = 0; i < RH_MAX_DOMS; i++)
		if (fk_doms[i].used)
			fk_info(&fk_doms[i], &(*out)[(*n)++]);
	pthread_mutex_unlock(&fk_mu);
	return 0;
}

static int
fk_lookup(struct hv *hv, const char *name_or_id, struct hv_dominfo *out)
{
	struct fk_dom *d;

	pthread_mutex_lock(&fk_mu);
	if ((d = fk_find_locked(name_or_id)) != NULL)
		fk_info(d, out);
	pthread_mutex_unlock(&fk_mu);
	return d != NULL ? 0 : XMIG_ERR_NOT_FOUND;
}

static int
fk_set_running(uint32_t domid, bool running)
{
	struct fk_dom *d;

	pthread_mutex_lock(&fk_mu);
	if ((d = fk_by_id_locked(domid)) != NULL) {
		d->running = running;
		if (running)
			fk_st.unpaused++;
	}
	pthread_mutex_unlock(&fk_mu);
	return d != NULL ? 0 : XMIG_ERR_NOT_FOUND;
}

static int
fk_pause(struct hv *hv, uint32_t domid)
{
	return fk_set_running(domid, false);
}

static int
fk_unpause(struct hv *hv, uint32_t domid)
{
	return fk_set_running(domid, true);
}

static void
fk_free_locked(struct fk_dom *d)
{
	free(d->mem);
	memset(d, 0, sizeof(*d));
}

static int
fk_destroy(struct hv *hv, uint32_t domid)
{
	struct fk_dom *d;

	pthread_mutex_lock(&fk_mu);
	if ((d = fk_by_id_locked(domid)) != NULL) {
		fk_free_locked(d);
		fk_st.destroyed++;
	}
	pthread_mutex_unlock(&fk_mu);
	return d != NULL ? 0 : XMIG_ERR_NOT_FOUND;
}

static int
fk_rename(struct hv *hv, uint32_t domid, const char *newname)
{
	struct fk_dom *d;

	pthread_mutex_lock(&fk_mu);
	if ((d = fk_by_id_locked(domid)) != NULL)
		strlcpy_x(d->name, newname, sizeof(d->name));
	pthread_mutex_unlock(&fk_mu);
	return d != NULL ? 0 : XMIG_ERR_NOT_FOUND;
}

static int
fk_unsupported_dom(struct hv *hv, uint32_t domid)
{
	return XMIG_ERR_UNSUPPORTED;
}

static int
fk_get_config(struct hv *hv, uint32_t domid, void **blob, size_t *len)
{
	return XMIG_ERR_UNSUPPORTED;
}

static int
fk_check_outgoing(struct hv *hv, const struct hv_dominfo *dom, bool live, char *why,
    size_t whylen)
{
	snprintf(why, whylen, "the fake backend only receives");
	return XMIG_ERR_UNSUPPORTED;
}

/* Like Xen's, it does not look at memory: restore() finds out. */
static int
fk_check_incoming(struct hv *hv, const struct hv_dom_spec *spec, char *why, size_t whylen)
{
	if (spec->vcpus > 64) {
		snprintf(why, whylen, "%u vCPUs: the fake supports 1..64", spec->vcpus);
		return XMIG_ERR_INCOMPATIBLE;
	}
	return 0;
}

static int
fk_throttle(struct hv *hv, uint32_t domid, unsigned pct)
{
	return XMIG_ERR_UNSUPPORTED;
}

static int
fk_save(struct hv *hv, uint32_t domid, struct hv_save_io *io, const struct hv_save_opts *o)
{
	return XMIG_ERR_UNSUPPORTED;
}

/* The page's place in the domain's array; a pfn the engine should never
 * have passed is counted and sent to a scratch page. */
static void *
fk_page(struct fk_dom *d, uint64_t pfn, uint64_t *count)
{
	void *p;

	pthread_mutex_lock(&fk_mu);
	if (pfn >= d->nr_pages) {
		fk_st.out_of_range++;
		p = fk_scratch;
	} else {
		(*count)++;
		p = d->mem + pfn * PROTO_PAGE_SIZE;
	}
	pthread_mutex_unlock(&fk_mu);
	return p;
}

static void *
fk_page_dest(void *bctx, uint64_t pfn)
{
	return fk_page(bctx, pfn, &fk_st.pages_mapped);
}

static int
fk_page_write(void *bctx, const uint64_t *pfns, unsigned n, const uint8_t *data)
{
	unsigned i;

	for (i = 0; i < n; i++)
		memcpy(fk_page(bctx, pfns[i], &fk_st.pages_written),
		    data + (size_t)i * PROTO_PAGE_SIZE, PROTO_PAGE_SIZE);
	return 0;
}

/* Every byte of a record is read (copied), so ASan checks the length it
 * claims; one thread restores at a time here. */
static uint8_t fk_sink[PROTO_RAW_MAX];

static int
fk_touch(const void *p, size_t n)
{
	if (n > sizeof(fk_sink))
		return XMIG_ERR_TOO_LONG;
	memcpy(fk_sink, p, n);
	return 0;
}

static enum rh_devs fk_devs;	/* rh_set_devices */

static int
fk_restore(struct hv *hv, const struct hv_dom_spec *spec, struct hv_restore_io *io,
    uint32_t *domid)
{
	struct fk_dom *d = NULL;
	struct hv_rec rec;
	bool have_ctx = false;
	unsigned i;
	int r;

	pthread_mutex_lock(&fk_mu);
	fk_st.restores++;
	for (i = 0; i < RH_MAX_DOMS && d == NULL; i++)
		if (!fk_doms[i].used)
			d = &fk_doms[i];
	if (d == NULL || spec->nr_pages == 0 || spec->nr_pages > RH_MAX_PAGES ||
	    (d->mem = calloc(spec->nr_pages, PROTO_PAGE_SIZE)) == NULL) {
		pthread_mutex_unlock(&fk_mu);
		return XMIG_ERR_NO_SPACE;
	}
	d->used = true;
	d->id = fk_next_id++;
	strlcpy_x(d->name, spec->name, sizeof(d->name));
	memcpy(d->uuid, spec->uuid, 16);
	d->nr_pages = spec->nr_pages;
	d->vcpus = spec->vcpus;
	pthread_mutex_unlock(&fk_mu);

	io->page_dest = fk_page_dest;
	io->page_write = fk_use_page_write ? fk_page_write : NULL;
	io->bctx = d;
	if (fk_devs == RH_DEVS_AT_ONCE)
		io->devices_ready(io);
	if ((r = io->ready(io)) != 0)
		goto fail;
	for (;;) {
		if ((r = io->next(io, &rec)) != 0)
			goto fail;
		if (rec.type == HV_REC_END)
			break;
		if (rec.type == HV_REC_DM_PHYSMAP || rec.type == HV_REC_DM_STATE) {
			const uint8_t *b = rec.data;
			uint64_t sum = 0;
			size_t k;

			if (rec.type == HV_REC_DM_STATE)
				for (k = 0; k < rec.len; k++)
					sum += b[k];
			pthread_mutex_lock(&fk_mu);
			if (rec.type == HV_REC_DM_PHYSMAP) {
				fk_st.dm_physmaps++;
				fk_st.dm_physmap_entries =
				    ((const struct msg_dm_physmap *)rec.data)->count;
			} else {
				fk_st.dm_states++;
				fk_st.dm_state_len = rec.len;
				fk_st.dm_state_sum = sum;
			}
			pthread_mutex_unlock(&fk_mu);
			continue;
		}
		if (rec.type == HV_REC_CONTEXT || rec.type == HV_REC_RAW) {
			if (rec.data == NULL || rec.len == 0) {
				r = XMIG_ERR_INVALID;
				goto fail;
			}
			if ((r = fk_touch(rec.data, rec.len)) != 0)
				goto fail;
			if (rec.type == HV_REC_CONTEXT)
				have_ctx = true;
		}
	}
	if (!have_ctx) {
		r = XMIG_ERR_TRUNCATED;
		goto fail;
	}
	io->page_write = NULL;
	pthread_mutex_lock(&fk_mu);
	fk_st.restored++;
	*domid = d->id;
	pthread_mutex_unlock(&fk_mu);
	return 0;
fail:
	io->page_write = NULL;
	pthread_mutex_lock(&fk_mu);
	fk_free_locked(d);
	pthread_mutex_unlock(&fk_mu);
	return r;
}

static void
fk_close(struct hv *hv)
{
}

static int
fk_quiesce(struct hv *hv, uint32_t domid, char *why, size_t whylen)
{
	(void)hv;
	(void)domid;
	(void)why;
	(void)whylen;
	return 0;
}

static const struct hv_ops fk_ops = {
	.name = "fake",
	.host_info = fk_host_info,
	.list = fk_list,
	.lookup = fk_lookup,
	.pause = fk_pause,
	.unpause = fk_unpause,
	.destroy = fk_destroy,
	.shutdown = NULL,
	.rename = fk_rename,
	.resume = fk_unsupported_dom,
	.get_config = fk_get_config,
	.check_outgoing = fk_check_outgoing,
	.check_incoming = fk_check_incoming,
	.throttle = fk_throttle,
	.quiesce = fk_quiesce,
	.save = fk_save,
	.restore = fk_restore,
	.close = fk_close,
};

static struct hv fk_hv = { .ops = &fk_ops };
static struct hv_ops fk_ops_devs;	/* fk_ops offering DEVICES_READY */

void
rh_set_devices(enum rh_devs mode)
{
	fk_ops_devs = fk_ops;
	fk_ops_devs.devices_ready = true;
	fk_devs = mode;
	fk_hv.ops = mode == RH_DEVS_OFF ? &fk_ops : &fk_ops_devs;
}

void
rh_set_device_model(bool on)
{
	fk_hv.device_model = on;
}

void
rh_set_page_write(bool on)
{
	pthread_mutex_lock(&fk_mu);
	fk_use_page_write = on;
	pthread_mutex_unlock(&fk_mu);
}

bool
rh_page_write(void)
{
	bool on;

	pthread_mutex_lock(&fk_mu);
	on = fk_use_page_write;
	pthread_mutex_unlock(&fk_mu);
	return on;
}

int
rh_add_domain(const char *name, uint64_t nr_pages)
{
	unsigned i;

	pthread_mutex_lock(&fk_mu);
	for (i = 0; i < RH_MAX_DOMS; i++)
		if (!fk_doms[i].used)
			break;
	if (i == RH_MAX_DOMS || (fk_doms[i].mem = calloc(nr_pages, PROTO_PAGE_SIZE)) == NULL) {
		pthread_mutex_unlock(&fk_mu);
		return XMIG_ERR_NO_SPACE;
	}
	fk_doms[i].used = true;
	fk_doms[i].running = true;
	fk_doms[i].id = fk_next_id++;
	fk_doms[i].nr_pages = nr_pages;
	fk_doms[i].vcpus = 1;
	strlcpy_x(fk_doms[i].name, name, sizeof(fk_doms[i].name));
	pthread_mutex_unlock(&fk_mu);
	return 0;
}

struct rh_stats
rh_stats(void)
{
	struct rh_stats s;

	pthread_mutex_lock(&fk_mu);
	s = fk_st;
	pthread_mutex_unlock(&fk_mu);
	return s;
}

unsigned
rh_domains(char *name, size_t nlen, bool *running)
{
	unsigned i, n = 0;

	pthread_mutex_lock(&fk_mu);
	for (i = 0; i < RH_MAX_DOMS; i++) {
		if (!fk_doms[i].used)
			continue;
		if (n++ == 0) {
			if (name != NULL)
				strlcpy_x(name, fk_doms[i].name, nlen);
			if (running != NULL)
				*running = fk_doms[i].running;
		}
	}
	pthread_mutex_unlock(&fk_mu);
	return n;
}

const uint8_t *
rh_domain_mem(const char *name, uint64_t *nr_pages)
{
	struct fk_dom *d;

	pthread_mutex_lock(&fk_mu);
	d = fk_find_locked(name);
	pthread_mutex_unlock(&fk_mu);
	if (d == NULL)
		return NULL;
	*nr_pages = d->nr_pages;
	return d->mem;
}

/* ---- the daemon ---- */

static struct xmigd rh_d;
static char rh_dir[64];
static bool rh_ready;

struct xmigd *
rh_daemon(void)
{
	return &rh_d;
}

const char *
rh_state_dir(void)
{
	return rh_dir;
}

static int
rh_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	remove(path);
	return 0;
}

/* Remove DIR/xmig-recv.<pid> of every <pid> that no longer runs. */
static void
rh_sweep(const char *dir)
{
	char path[300];
	struct dirent *de;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char *end;
		long pid;

		if (strncmp(de->d_name, "xmig-recv.", 10) != 0)
			continue;
		pid = strtol(de->d_name + 10, &end, 10);
		if (*end != '\0' || pid <= 0 || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		nftw(path, rh_rm, 8, FTW_DEPTH | FTW_PHYS);
	}
	closedir(d);
}

int
rh_init(char *err, size_t errlen)
{
	const char *lvl = getenv("RH_LOG");
	int r;

	if (rh_ready)
		return 0;
	signal(SIGPIPE, SIG_IGN);
	log_init("recv-harness", false, lvl != NULL && log_level_parse(lvl) >= 0 ?
	    (enum log_level)log_level_parse(lvl) : LOG_LVL_ERROR);
	/* tmpfs when there is one: each PREPARE writes (and fsyncs) a record.
	 * A fuzzer that finds something ends without rh_fini(): directories
	 * of processes gone are swept here instead. */
	rh_sweep("/dev/shm");
	rh_sweep("/tmp");
	snprintf(rh_dir, sizeof(rh_dir), "/dev/shm/xmig-recv.%ld", (long)getpid());
	if (mkdir(rh_dir, 0700) != 0) {
		snprintf(rh_dir, sizeof(rh_dir), "/tmp/xmig-recv.%ld", (long)getpid());
		if (mkdir(rh_dir, 0700) != 0) {
			snprintf(err, errlen, "mkdir %s: %s", rh_dir, strerror(errno));
			return XMIG_ERR_SYSTEM;
		}
	}
	memset(&rh_d, 0, sizeof(rh_d));
	conf_init(&rh_d.conf);
	strlcpy_x(rh_d.conf.state_dir, rh_dir, sizeof(rh_d.conf.state_dir));
	strlcpy_x(rh_d.host_name, "receiver", sizeof(rh_d.host_name));
	if ((r = allow_compile(rh_d.conf.relocation_hosts_allow, &rh_d.allow, err, errlen)) != 0)
		return r;
	rh_d.hv = &fk_hv;
	atomic_init(&rh_d.stopping, false);
	jobs_init();
	if ((r = state_init(rh_dir, err, errlen)) != 0 ||
	    (r = hoststate_init(rh_dir, err, errlen)) != 0)
		return r;
	rh_ready = true;
	return 0;
}

static void
rh_clear_records(void)
{
	char path[sizeof(rh_dir) + 300];
	struct dirent *de;
	DIR *dir;

	snprintf(path, sizeof(path), "%s/incoming", rh_dir);
	if ((dir = opendir(path)) == NULL)
		return;
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/incoming/%s", rh_dir, de->d_name);
		unlink(path);
	}
	closedir(dir);
}

void
rh_reset(void)
{
	unsigned i;

	jobs_trim(0);
	pthread_mutex_lock(&fk_mu);
	for (i = 0; i < RH_MAX_DOMS; i++)
		if (fk_doms[i].used)
			fk_free_locked(&fk_doms[i]);
	memset(&fk_st, 0, sizeof(fk_st));
	pthread_mutex_unlock(&fk_mu);
	rh_clear_records();
	rh_set_devices(RH_DEVS_OFF);
	rh_set_device_model(false);
}

void
rh_fini(void)
{
	char path[sizeof(rh_dir)];

	if (!rh_ready)
		return;
	rh_reset();
	allow_free(rh_d.allow);
	rh_d.allow = NULL;
	snprintf(path, sizeof(path), "%s", rh_dir);
	nftw(path, rh_rm, 8, FTW_DEPTH | FTW_PHYS);
	rh_ready = false;
}

/* ---- one connection ---- */

static void
reply_keep(struct rh_reply *r, const uint8_t *p, size_t n)
{
	uint8_t *np;

	if (r == NULL || r->len + n > RH_REPLY_MAX)
		return;
	if ((np = realloc(r->p, r->len + n)) == NULL)
		return;
	r->p = np;
	memcpy(r->p + r->len, p, n);
	r->len += n;
}

int
rh_serve(const uint8_t *in, size_t len, struct rh_reply *reply, int timeout_ms)
{
	uint64_t deadline = now_us() + (uint64_t)timeout_ms * 1000;
	unsigned before = engine_recv_open();
	size_t off = 0;
	bool eof = false, shut = false;
	uint8_t buf[16384];
	unsigned spins;
	int sv[2];

	if (reply != NULL)
		memset(reply, 0, sizeof(*reply));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		return -1;
	fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
	/* As the accept loop does: the receiver owns the other end. */
	engine_recv_start(&rh_d, sv[1], "fuzz-peer:40001", false, false);
	while (!eof && now_us() < deadline) {
		struct pollfd pfd = { .fd = sv[0], .events = POLLIN };
		ssize_t n;

		if (off == len && !shut) {
			shutdown(sv[0], SHUT_WR);	/* the sender has nothing more */
			shut = true;
		}
		if (!shut)
			pfd.events |= POLLOUT;
		if (poll(&pfd, 1, 100) < 0 && errno != EINTR)
			break;
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
			n = recv(sv[0], buf, sizeof(buf), 0);
			if (n > 0)
				reply_keep(reply, buf, (size_t)n);
			else if (n == 0 || (errno != EAGAIN && errno != EINTR))
				eof = true;	/* the receiver closed (or reset) */
		}
		if (!shut && (pfd.revents & POLLOUT)) {
			n = send(sv[0], in + off, len - off > 65536 ? 65536 : len - off,
			    MSG_NOSIGNAL);
			if (n > 0)
				off += (size_t)n;
			else if (n < 0 && errno != EAGAIN && errno != EINTR)
				off = len;	/* it stopped reading: the rest is dropped */
		}
	}
	close(sv[0]);
	/* The thread closes its end before it ends: it is nearly gone. */
	for (spins = 0; engine_recv_open() > before && now_us() < deadline; spins++) {
		if (spins < 20000)
			sched_yield();
		else
			usleep(100);
	}
	return engine_recv_open() > before ? -1 : 0;
}

int
rh_reply_frame(const struct rh_reply *r, unsigned n, const uint8_t **payload, uint32_t *plen)
{
	size_t off = 0;
	unsigned i;

	for (i = 0; r != NULL && off + FRAME_HDR_LEN <= r->len; i++) {
		struct frame_hdr h;

		if (frame_hdr_decode(r->p + off, &h) != 0 || off + FRAME_HDR_LEN + h.len > r->len)
			return -1;
		if (i == n) {
			if (payload != NULL)
				*payload = r->p + off + FRAME_HDR_LEN;
			if (plen != NULL)
				*plen = h.len;
			return h.type;
		}
		off += FRAME_HDR_LEN + h.len;
	}
	return -1;
}

/* ---- jobs ---- */

static bool
rh_job_snap(uint64_t id, struct rh_job *out)
{
	struct job *j = job_get(id);

	if (j == NULL)
		return false;
	job_lock();
	out->id = j->id;
	out->state = j->state;
	out->finished = job_finished(j);
	out->thread_done = j->thread_done;
	strlcpy_x(out->error, j->error, sizeof(out->error));
	memcpy(out->token, j->token, 16);
	job_unlock();
	job_put(j);
	return true;
}

unsigned
rh_jobs(struct rh_job *out, unsigned max)
{
	json_t *a = jobs_to_json(), *o;
	unsigned n = 0;
	size_t i;

	json_array_foreach(a, i, o) {
		json_int_t id = json_integer_value(json_object_get(o, "id"));

		if (n < max && rh_job_snap((uint64_t)id, &out[n]))
			n++;
	}
	json_decref(a);
	return n;
}

bool
rh_last_job(struct rh_job *out)
{
	struct rh_job all[16];
	unsigned n = rh_jobs(all, 16), i, best = 0;

	for (i = 1; i < n; i++)
		if (all[i].id > all[best].id)
			best = i;
	if (n > 0)
		*out = all[best];
	return n > 0;
}

/* ---- the state directory's records ---- */

const char *
rh_record(const uint8_t token[16], char *buf, size_t len)
{
	struct state_rec rec;

	if (state_lookup(token, &rec) != 0)
		return NULL;
	strlcpy_x(buf, rec.outcome, len);
	return buf;
}

int
rh_set_record(const uint8_t token[16], const char *outcome, const char *name, bool same_peer)
{
	struct state_rec rec;
	struct xconn c;
	int sv[2], r = 0;

	memset(&rec, 0, sizeof(rec));
	strlcpy_x(rec.outcome, outcome, sizeof(rec.outcome));
	strlcpy_x(rec.name, name, sizeof(rec.name));
	rec.domid = 1;
	if (same_peer) {
		/* what the receiver will see on the harness's connections */
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
			return XMIG_ERR_SYSTEM;
		xconn_init(&c, sv[1], 1000);
		r = xconn_peer_id(&c, rec.peer, sizeof(rec.peer));
		close(sv[0]);
		close(sv[1]);
	} else {
		strlcpy_x(rec.peer, "192.0.2.7", sizeof(rec.peer));
	}
	return r != 0 ? r : state_create(token, &rec);
}

/* ---- client streams ---- */

void
rh_buf_free(struct rh_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

void
rh_put(struct rh_buf *b, const void *p, size_t n)
{
	if (b->failed || n == 0)
		return;
	if (b->len + n > RH_BUF_MAX) {
		b->failed = true;
		return;
	}
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		uint8_t *np;

		while (cap < b->len + n)
			cap *= 2;
		if ((np = realloc(b->p, cap)) == NULL) {
			b->failed = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	if (p != NULL)
		memcpy(b->p + b->len, p, n);
	else
		memset(b->p + b->len, 0, n);
	b->len += n;
}

void
rh_frame_lie(struct rh_buf *b, uint8_t type, uint16_t flags, uint32_t declared_len,
    const void *payload, size_t n)
{
	uint8_t h[FRAME_HDR_LEN];

	frame_hdr_encode(h, type, flags, declared_len);
	rh_put(b, h, sizeof(h));
	rh_put(b, payload, n);
}

void
rh_frame(struct rh_buf *b, uint8_t type, const void *payload, size_t n)
{
	rh_frame_lie(b, type, 0, (uint32_t)n, payload, n);
}

void
rh_hello(struct rh_buf *b)
{
	struct msg_hello h;
	uint8_t p[1024];
	int n;

	if (engine_build_hello(&rh_d, &h) != 0) {
		b->failed = true;
		return;
	}
	strlcpy_x(h.host, "sender", sizeof(h.host));
	if ((n = msg_hello_encode(&h, p, sizeof(p))) < 0) {
		b->failed = true;
		return;
	}
	rh_frame(b, MSG_HELLO, p, (size_t)n);
}

void
rh_prepare(struct rh_buf *b, const struct msg_prepare *m)
{
	uint8_t *p = malloc(PROTO_CFG_MAX + 4096);
	int n;

	if (p == NULL || (n = msg_prepare_encode(m, p, PROTO_CFG_MAX + 4096)) < 0)
		b->failed = true;
	else
		rh_frame(b, MSG_PREPARE, p, (size_t)n);
	free(p);
}

void
rh_reason(struct rh_buf *b, uint8_t type, uint16_t code, const char *text)
{
	struct msg_reason m;
	uint8_t p[PROTO_REASON_MAX + 8];
	int n;

	memset(&m, 0, sizeof(m));
	m.code = code;
	strlcpy_x(m.text, text, sizeof(m.text));
	if ((n = msg_reason_encode(&m, p, sizeof(p))) < 0)
		b->failed = true;
	else
		rh_frame(b, type, p, (size_t)n);
}

void
rh_context(struct rh_buf *b)
{
	static const uint8_t ctx[32] = { 0, 0, 0, 1, 0xc0, 0x7e };

	rh_frame(b, MSG_CONTEXT, ctx, sizeof(ctx));
}
