/* simdom.c - the simulated hypervisor's domain model: files, control area,
 * state changes, log-dirty, verification, and the workload that the domain
 * process ("simhv run") executes on its vCPU threads.
 *
 * Concurrency: the control area is shared by the domain process (its vCPU
 * threads) and any number of controllers (simhv, xmigd).  Every field that
 * changes after creation is accessed with __atomic builtins.  Identity
 * changes (create, rename, destroy, id allocation) are serialised by an
 * flock on ROOT/lock so names stay unique.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "simdom.h"
#include "simjournal.h"
#include "util.h"
#include "xerr.h"

#define SIM_MAX_MEMORY (1ull << 40)	/* 1 TiB: keeps pfns and the bitmap sane */
#define SIM_MAX_RATE 100000000ull	/* pages/s; far above what a vCPU reaches */
#define SIM_START_TIMEOUT_MS 5000
#define SIM_DESTROY_WAIT_MS 2000
#define SIM_POLL_NS 50000		/* state poll: pause latency is downtime */
#define SIM_FILL_CHUNK 256		/* pages per pwrite when filling */

#define SIM_CTL_MAGIC 0x4c54434d49534d58ull	/* "XMSIMCTL" */
#define SIM_CTL_LAYOUT 1u

/* The shared control area, ROOT/<id>.ctl; the log-dirty bitmap follows at
 * SIM_BITMAP_OFF.  Fields above `pid` are written once at create (name
 * also by rename, under the root lock); the rest are shared and accessed
 * atomically. */
struct sim_ctl {
	uint64_t magic;
	uint32_t layout;
	uint32_t domid;
	char name[SIM_NAME_MAX];
	uint8_t uuid[16];
	uint64_t nr_pages;
	uint64_t wws_pages;	/* as created, 0 = all data pages */
	uint64_t dirty_rate;
	uint32_t table_pages;
	uint32_t vcpus;
	uint32_t fill;		/* enum sim_fill */
	int32_t pid;		/* domain process, 0 = none yet */
	uint64_t starttime;	/* its /proc start time: guards against pid reuse */
	uint32_t state;		/* enum sim_state, as reported by the vCPUs */
	uint32_t req;		/* requested: RUNNING, PAUSED, SUSPENDED, SHUTDOWN */
	uint32_t seq;		/* futex word, bumped with every request */
	uint32_t logdirty;
	uint32_t throttle;	/* percent */
	uint32_t ack[SIM_MAX_VCPUS];	/* request each vCPU has acknowledged */
	struct sim_vcpu_ctx vcpu[SIM_MAX_VCPUS];
};

#define SIM_BITMAP_OFF ((sizeof(struct sim_ctl) + 63) & ~(size_t)63)
#define SIM_WORD_STEP 0x9e3779b97f4a7c15ull

/* ---- small helpers ---- */

/* splitmix64 of (pfn, version): the seed of a page's words. */
static inline uint64_t
simdom_mix(uint64_t pfn, uint64_t version)
{
	uint64_t x = pfn * 0xd1b54a32d192ed03ull ^ (version + 1) * 0xc2b2ae3d27d4eb4full;

	x += SIM_WORD_STEP;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* Shared (not private) futexes: the word lives in a file mapping shared
 * between processes. */
static int
simdom_futex_wait(uint32_t *addr, uint32_t val, const struct timespec *rel)
{
	return (int)syscall(SYS_futex, addr, FUTEX_WAIT, val, rel, NULL, 0);
}

static void
simdom_futex_wake(uint32_t *addr)
{
	syscall(SYS_futex, addr, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

static void
simdom_ctx_copy(struct sim_vcpu_ctx *dst, const struct sim_vcpu_ctx *src)
{
	__atomic_store_n(&dst->rng[0], __atomic_load_n(&src->rng[0], __ATOMIC_RELAXED), __ATOMIC_RELAXED);
	__atomic_store_n(&dst->rng[1], __atomic_load_n(&src->rng[1], __ATOMIC_RELAXED), __ATOMIC_RELAXED);
	__atomic_store_n(&dst->writes, __atomic_load_n(&src->writes, __ATOMIC_RELAXED), __ATOMIC_RELAXED);
	__atomic_store_n(&dst->ticks, __atomic_load_n(&src->ticks, __ATOMIC_RELAXED), __ATOMIC_RELAXED);
}

static void
simdom_sleep_ns(long ns)
{
	struct timespec ts = { ns / 1000000000L, ns % 1000000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int
simdom_path(char *buf, size_t len, const char *root, uint32_t domid, const char *suffix)
{
	int n = snprintf(buf, len, "%s/%u.%s", root, domid, suffix);

	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return XMIG_ERR_TOO_LONG;
	}
	return 0;
}

/* All digits, fits a domid: "12" names domain 12, never a domain name. */
static bool
simdom_parse_id(const char *s, uint32_t *id)
{
	uint64_t v = 0;
	const char *p;

	if (s == NULL || *s == '\0' || strlen(s) > 10)
		return false;
	for (p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v == 0 || v > UINT32_MAX)
		return false;
	*id = (uint32_t)v;
	return true;
}

bool
simdom_name_valid(const char *name)
{
	size_t n = 0;
	bool digits = true;

	if (name == NULL)
		return false;
	for (; name[n]; n++) {
		char ch = name[n];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-'))
			return false;
		if (ch < '0' || ch > '9')
			digits = false;
	}
	/* An all-digit name would be ambiguous with a domain id. */
	return n >= 1 && n < SIM_NAME_MAX && !digits;
}

const char *
sim_state_name(enum sim_state s)
{
	switch (s) {
	case SIM_BUILDING: return "building";
	case SIM_RUNNING: return "running";
	case SIM_PAUSED: return "paused";
	case SIM_SUSPENDED: return "suspended";
	case SIM_SHUTDOWN: return "shutdown";
	case SIM_CRASHED: return "crashed";
	}
	return "unknown";
}

/* ---- the journal (simjournal.h) ---- */

/* Append an event of domain c to j, or to ROOT/journal opened for it. */
static void
simdom_journal(struct simjournal *j, const char *root, uint64_t ts, const char *event,
    const struct sim_ctl *c, const char *extra)
{
	struct simjournal own;
	char name[SIM_NAME_MAX];

	if (j == NULL) {
		simjournal_open(&own, root);
		j = &own;
	}
	memcpy(name, c->name, sizeof(name));	/* a rename may be writing it */
	name[SIM_NAME_MAX - 1] = '\0';
	simjournal_append(j, ts, event, c->uuid, c->domid, name, extra);
	if (j == &own)
		simjournal_close(&own);
}

/* ---- page content ---- */

void
simdom_fill_page(uint8_t *page, uint64_t pfn, uint64_t version)
{
	uint64_t *w = (uint64_t *)page;
	uint64_t x = simdom_mix(pfn, version) + 2 * SIM_WORD_STEP;
	unsigned i;

	w[0] = pfn;
	w[1] = version;
	/* An induction variable rather than i * step: gcc vectorises this. */
	for (i = 2; i < SIM_PAGE_SIZE / 8; i++, x += SIM_WORD_STEP)
		w[i] = x ^ (x >> 29);
}

static bool
simdom_page_is(const uint8_t *page, uint64_t pfn, uint64_t version)
{
	const uint64_t *w = (const uint64_t *)page;
	uint64_t x = simdom_mix(pfn, version) + 2 * SIM_WORD_STEP, diff = 0;
	unsigned i;

	if (w[0] != pfn || w[1] != version)
		return false;
	/* No early exit, so it vectorises; mismatches are rare. */
	for (i = 2; i < SIM_PAGE_SIZE / 8; i++, x += SIM_WORD_STEP)
		diff |= w[i] ^ (x ^ (x >> 29));
	return diff == 0;
}

static bool
simdom_page_is_zero(const uint8_t *page)
{
	const uint64_t *w = (const uint64_t *)page;
	uint64_t acc = 0;
	unsigned i;

	for (i = 0; i < SIM_PAGE_SIZE / 8; i++)
		acc |= w[i];
	return acc == 0;
}

/* ---- process liveness ---- */

/* State letter and start time (field 22, clock ticks since boot) of pid. */
static int
simdom_proc_stat(int pid, char *state, uint64_t *start)
{
	char path[64], buf[1024], *p;
	ssize_t n;
	int fd, f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return XMIG_ERR_SYSTEM;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return XMIG_ERR_SYSTEM;
	buf[n] = '\0';
	/* comm may contain spaces and parentheses: fields restart after the last ')'. */
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ')
		return XMIG_ERR_INVALID;
	p += 2;
	*state = *p;
	for (f = 3; f < 22; f++) {
		if ((p = strchr(p, ' ')) == NULL)
			return XMIG_ERR_INVALID;
		p++;
	}
	*start = strtoull(p, NULL, 10);
	return 0;
}

static int
simdom_self_starttime(uint64_t *start)
{
	char st;

	return simdom_proc_stat((int)getpid(), &st, start);
}

/* The recorded process exists, is not a zombie and is not a recycled pid. */
static bool
simdom_pid_alive(int pid, uint64_t start)
{
	uint64_t s;
	char st;

	if (pid <= 0)
		return false;
	if (kill(pid, 0) < 0 && errno != EPERM)
		return false;
	if (simdom_proc_stat(pid, &st, &s) != 0)
		return false;
	return st != 'Z' && st != 'X' && s == start;
}

static bool
simdom_proc_alive(const struct sim_ctl *c)
{
	int pid = __atomic_load_n(&c->pid, __ATOMIC_ACQUIRE);

	return simdom_pid_alive(pid, __atomic_load_n(&c->starttime, __ATOMIC_RELAXED));
}

/* ---- root lock ---- */

static int
simdom_lock_root(const char *root, int how, int *fdp)
{
	char path[PATH_MAX];
	int fd, e;

	*fdp = -1;
	if ((size_t)snprintf(path, sizeof(path), "%s/lock", root) >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return XMIG_ERR_TOO_LONG;
	}
	/* Readers need no write access to the root; with no lock file yet,
	 * nothing was ever created there, so there is nothing to exclude. */
	if (how == LOCK_SH) {
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			return errno == ENOENT ? 0 : XMIG_ERR_SYSTEM;
	} else if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0) {
		return errno == ENOENT ? XMIG_ERR_NOT_FOUND : XMIG_ERR_SYSTEM;
	}
	while (flock(fd, how) < 0) {
		if (errno != EINTR) {
			e = errno;
			close(fd);
			errno = e;
			return XMIG_ERR_SYSTEM;
		}
	}
	*fdp = fd;
	return 0;
}

static void
simdom_unlock_root(int fd)
{
	int e = errno;

	if (fd >= 0)
		close(fd);
	errno = e;
}

/* ---- mapping ---- */

static size_t
simdom_ctl_len(uint64_t nr_pages)
{
	return SIM_BITMAP_OFF + (size_t)((nr_pages + 63) / 64) * 8;
}

static uint32_t
simdom_table_pages(uint64_t nr_pages)
{
	return (uint32_t)((nr_pages * 4 + SIM_PAGE_SIZE - 1) / SIM_PAGE_SIZE);
}

/* Read just the header of ROOT/<id>.ctl, for scans (no mapping). */
static int
simdom_read_hdr(const char *root, uint32_t domid, struct sim_ctl *hdr)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd, r;

	if ((r = simdom_path(path, sizeof(path), root, domid, "ctl")) != 0)
		return r;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? XMIG_ERR_NOT_FOUND : XMIG_ERR_SYSTEM;
	n = pread(fd, hdr, sizeof(*hdr), 0);
	close(fd);
	if (n != (ssize_t)sizeof(*hdr))
		return XMIG_ERR_TRUNCATED;
	if (hdr->magic != SIM_CTL_MAGIC)
		return XMIG_ERR_BAD_MAGIC;
	if (hdr->layout != SIM_CTL_LAYOUT)
		return XMIG_ERR_VERSION;
	hdr->name[SIM_NAME_MAX - 1] = '\0';
	return 0;
}

static int
simdom_map_file(const char *path, size_t len, bool need_exact, void **out)
{
	struct stat st;
	void *p;
	int fd, e;

	if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
		return errno == ENOENT ? XMIG_ERR_NOT_FOUND : XMIG_ERR_SYSTEM;
	if (fstat(fd, &st) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return XMIG_ERR_SYSTEM;
	}
	if ((uint64_t)st.st_size < len || (need_exact && (uint64_t)st.st_size != len)) {
		close(fd);
		return XMIG_ERR_TRUNCATED;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	e = errno;
	close(fd);
	if (p == MAP_FAILED) {
		errno = e;
		return XMIG_ERR_SYSTEM;
	}
	*out = p;
	return 0;
}

/* Map ROOT/<domid>.ctl and, when map_mem, ROOT/<domid>.mem. */
static int
simdom_map(const char *root, uint32_t domid, bool map_mem, struct simdom **out)
{
	char path[PATH_MAX];
	struct sim_ctl hdr;
	struct simdom *d;
	void *p;
	int r;

	*out = NULL;
	if (strlen(root) >= sizeof(d->root))
		return XMIG_ERR_TOO_LONG;
	if ((r = simdom_read_hdr(root, domid, &hdr)) != 0)
		return r;
	if (hdr.domid != domid || hdr.nr_pages == 0 || hdr.nr_pages > SIM_MAX_MEMORY / SIM_PAGE_SIZE ||
	    hdr.table_pages != simdom_table_pages(hdr.nr_pages) || hdr.table_pages >= hdr.nr_pages ||
	    hdr.vcpus < 1 || hdr.vcpus > SIM_MAX_VCPUS)
		return XMIG_ERR_INVALID;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return XMIG_ERR_NOMEM;
	strlcpy_x(d->root, root, sizeof(d->root));
	d->domid = domid;
	d->nr_pages = hdr.nr_pages;
	d->table_pages = hdr.table_pages;
	d->ctl_len = simdom_ctl_len(hdr.nr_pages);
	if ((r = simdom_path(path, sizeof(path), root, domid, "ctl")) != 0 ||
	    (r = simdom_map_file(path, d->ctl_len, false, &p)) != 0) {
		free(d);
		return r;
	}
	d->ctl = p;
	d->bitmap = (uint64_t *)((uint8_t *)p + SIM_BITMAP_OFF);
	if (map_mem) {
		if ((r = simdom_path(path, sizeof(path), root, domid, "mem")) != 0 ||
		    (r = simdom_map_file(path, (size_t)(d->nr_pages * SIM_PAGE_SIZE), true, &p)) != 0) {
			simdom_close(d);
			return r;
		}
		d->mem = p;
	}
	*out = d;
	return 0;
}

void
simdom_close(struct simdom *d)
{
	int e = errno;

	if (d == NULL)
		return;
	if (d->mem != NULL)
		munmap(d->mem, (size_t)(d->nr_pages * SIM_PAGE_SIZE));
	if (d->ctl != NULL)
		munmap(d->ctl, d->ctl_len);
	free(d);
	errno = e;
}

/* ---- scanning the root ---- */

/* Calls fn for every ROOT/<digits>.ctl; stops at the first non-zero return. */
static int
simdom_scan(const char *root, int (*fn)(const char *root, uint32_t domid, void *arg), void *arg)
{
	struct dirent *de;
	DIR *dir;
	int r = 0;

	if ((dir = opendir(root)) == NULL)
		return errno == ENOENT ? XMIG_ERR_NOT_FOUND : XMIG_ERR_SYSTEM;
	while (r == 0 && (de = readdir(dir)) != NULL) {
		char idbuf[16];
		const char *dot = strchr(de->d_name, '.');
		size_t n = dot ? (size_t)(dot - de->d_name) : 0;
		uint32_t domid;

		if (dot == NULL || strcmp(dot, ".ctl") != 0 || n == 0 || n >= sizeof(idbuf))
			continue;
		memcpy(idbuf, de->d_name, n);
		idbuf[n] = '\0';
		if (!simdom_parse_id(idbuf, &domid))
			continue;
		r = fn(root, domid, arg);
	}
	closedir(dir);
	return r;
}

struct simdom_find {
	const char *name;
	uint32_t exclude;
	uint32_t found;
	uint32_t max_id;
};

static int
simdom_find_cb(const char *root, uint32_t domid, void *arg)
{
	struct simdom_find *f = arg;
	struct sim_ctl hdr;

	if (domid > f->max_id)
		f->max_id = domid;
	if (f->name == NULL || domid == f->exclude || simdom_read_hdr(root, domid, &hdr) != 0)
		return 0;
	if (strcmp(hdr.name, f->name) == 0) {
		f->found = domid;
		return 1;
	}
	return 0;
}

/* Domain id named `name` (0 when none), and the highest id in use. */
static int
simdom_find(const char *root, const char *name, uint32_t exclude, uint32_t *found,
    uint32_t *max_id)
{
	struct simdom_find f = { name, exclude, 0, 0 };
	int r = simdom_scan(root, simdom_find_cb, &f);

	if (r < 0)
		return r;
	*found = f.found;
	if (max_id)
		*max_id = f.max_id;
	return 0;
}

int
simdom_open(const char *root, const char *name_or_id, struct simdom **out)
{
	uint32_t domid, found;
	int lk, r;

	*out = NULL;
	if (root == NULL || name_or_id == NULL)
		return XMIG_ERR_INVALID;
	if (simdom_parse_id(name_or_id, &domid))
		return simdom_map(root, domid, true, out);
	if (!simdom_name_valid(name_or_id))
		return XMIG_ERR_NOT_FOUND;
	if ((r = simdom_lock_root(root, LOCK_SH, &lk)) != 0)
		return r;
	r = simdom_find(root, name_or_id, 0, &found, NULL);
	simdom_unlock_root(lk);
	if (r != 0)
		return r;
	if (found == 0)
		return XMIG_ERR_NOT_FOUND;
	return simdom_map(root, found, true, out);
}

/* ---- info / list ---- */

static uint64_t
simdom_sum_ctx(const struct sim_ctl *c, size_t field)
{
	uint64_t sum = 0;
	uint32_t i;

	for (i = 0; i < c->vcpus; i++) {
		const uint64_t *p = (const uint64_t *)((const uint8_t *)&c->vcpu[i] + field);

		sum += __atomic_load_n(p, __ATOMIC_RELAXED);
	}
	return sum;
}

static enum sim_state
simdom_state(const struct sim_ctl *c)
{
	enum sim_state st = (enum sim_state)__atomic_load_n(&c->state, __ATOMIC_ACQUIRE);

	switch (st) {
	case SIM_SHUTDOWN:
		return st;
	case SIM_BUILDING:
		/* No process yet, or one that died before reporting. */
		if (__atomic_load_n(&c->pid, __ATOMIC_ACQUIRE) == 0)
			return st;
		/* fall through */
	default:
		return simdom_proc_alive(c) ? st : SIM_CRASHED;
	}
}

void
simdom_info(const struct simdom *d, struct simdom_info *out)
{
	const struct sim_ctl *c = d->ctl;

	memset(out, 0, sizeof(*out));
	out->domid = d->domid;
	memcpy(out->name, c->name, SIM_NAME_MAX);
	out->name[SIM_NAME_MAX - 1] = '\0';
	memcpy(out->uuid, c->uuid, 16);
	out->memory = c->nr_pages * SIM_PAGE_SIZE;
	out->vcpus = c->vcpus;
	out->dirty_rate = c->dirty_rate;
	out->wws = c->wws_pages * SIM_PAGE_SIZE;
	out->state = simdom_state(c);
	out->pid = __atomic_load_n(&c->pid, __ATOMIC_ACQUIRE);
	out->logdirty = __atomic_load_n(&c->logdirty, __ATOMIC_RELAXED) != 0;
	out->writes = simdom_sum_ctx(c, offsetof(struct sim_vcpu_ctx, writes));
	out->ticks = simdom_sum_ctx(c, offsetof(struct sim_vcpu_ctx, ticks));
}

struct simdom_listing {
	struct simdom_info *v;
	size_t n, cap;
	int err;
};

static int
simdom_list_cb(const char *root, uint32_t domid, void *arg)
{
	struct simdom_listing *l = arg;
	struct simdom *d;

	/* Half-written or foreign files are skipped, not fatal. */
	if (simdom_map(root, domid, false, &d) != 0)
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct simdom_info *v = realloc(l->v, cap * sizeof(*v));

		if (v == NULL) {
			simdom_close(d);
			l->err = XMIG_ERR_NOMEM;
			return 1;
		}
		l->v = v;
		l->cap = cap;
	}
	simdom_info(d, &l->v[l->n++]);
	simdom_close(d);
	return 0;
}

static int
simdom_info_cmp(const void *a, const void *b)
{
	const struct simdom_info *x = a, *y = b;

	return x->domid < y->domid ? -1 : x->domid > y->domid;
}

int
simdom_list(const char *root, struct simdom_info **out, size_t *n)
{
	struct simdom_listing l = { NULL, 0, 0, 0 };
	int r;

	*out = NULL;
	*n = 0;
	if ((r = simdom_scan(root, simdom_list_cb, &l)) < 0 || l.err != 0) {
		free(l.v);
		return l.err ? l.err : r;
	}
	if (l.n > 1)
		qsort(l.v, l.n, sizeof(*l.v), simdom_info_cmp);
	*out = l.v;
	*n = l.n;
	return 0;
}

/* ---- create ---- */

static int
simdom_alloc_domid(const char *root, uint32_t max_in_use, uint32_t *out)
{
	char path[PATH_MAX], tmp[PATH_MAX], buf[32];
	uint32_t next = 1, id;
	ssize_t n;
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/next-domid", root) >= sizeof(path) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s/next-domid.tmp", root) >= sizeof(tmp))
		return XMIG_ERR_TOO_LONG;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0) {
			buf[n] = '\0';
			buf[strcspn(buf, "\n")] = '\0';
			if (!simdom_parse_id(buf, &next))
				next = 1;
		}
	} else if (errno != ENOENT) {
		return XMIG_ERR_SYSTEM;
	}
	/* Never reuse an id, even if next-domid was lost. */
	id = next > max_in_use ? next : max_in_use + 1;
	if (id == 0 || id == UINT32_MAX)
		return XMIG_ERR_NO_SPACE;
	n = snprintf(buf, sizeof(buf), "%u\n", id + 1);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
		return XMIG_ERR_SYSTEM;
	if (write(fd, buf, (size_t)n) != n || close(fd) < 0 || rename(tmp, path) < 0) {
		int e = errno;

		unlink(tmp);
		errno = e;
		return XMIG_ERR_SYSTEM;
	}
	*out = id;
	return 0;
}

static void
simdom_remove_files(const char *root, uint32_t domid)
{
	char path[PATH_MAX];

	/* ctl first: the domain vanishes from listings in one step. */
	if (simdom_path(path, sizeof(path), root, domid, "ctl") == 0)
		unlink(path);
	if (simdom_path(path, sizeof(path), root, domid, "mem") == 0)
		unlink(path);
}

static int
simdom_check_params(const struct simdom_params *p)
{
	uint64_t nr_pages = p->memory / SIM_PAGE_SIZE;

	if (!simdom_name_valid(p->name) || p->memory == 0 || p->memory % SIM_PAGE_SIZE != 0 ||
	    p->memory > SIM_MAX_MEMORY || nr_pages <= simdom_table_pages(nr_pages) ||
	    p->vcpus < 1 || p->vcpus > SIM_MAX_VCPUS || p->dirty_rate > SIM_MAX_RATE ||
	    p->wws > p->memory || p->fill > SIM_FILL_NONE)
		return XMIG_ERR_INVALID;
	return 0;
}

/* Build the control area in a temporary file that is renamed into place
 * when complete, so a scan never sees half a domain. */
static int
simdom_write_ctl(const char *root, uint32_t domid, const struct simdom_params *p)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	uint64_t nr_pages = p->memory / SIM_PAGE_SIZE;
	size_t len = simdom_ctl_len(nr_pages);
	struct sim_ctl *c;
	uint32_t v;
	int fd, r, e;

	if ((r = simdom_path(path, sizeof(path), root, domid, "ctl")) != 0 ||
	    (r = simdom_path(tmp, sizeof(tmp), root, domid, "ctl.tmp")) != 0)
		return r;
	if ((fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
		return XMIG_ERR_SYSTEM;
	if (ftruncate(fd, (off_t)len) < 0 ||
	    (c = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED) {
		e = errno;
		close(fd);
		unlink(tmp);
		errno = e;
		return XMIG_ERR_SYSTEM;
	}
	close(fd);
	c->magic = SIM_CTL_MAGIC;
	c->layout = SIM_CTL_LAYOUT;
	c->domid = domid;
	strlcpy_x(c->name, p->name, sizeof(c->name));
	memcpy(c->uuid, p->uuid, 16);
	c->nr_pages = nr_pages;
	c->table_pages = simdom_table_pages(nr_pages);
	c->vcpus = p->vcpus;
	c->dirty_rate = p->dirty_rate;
	c->wws_pages = (p->wws + SIM_PAGE_SIZE - 1) / SIM_PAGE_SIZE;
	c->fill = (uint32_t)p->fill;
	c->state = SIM_BUILDING;
	c->req = SIM_RUNNING;
	r = 0;
	for (v = 0; v < p->vcpus && r == 0; v++) {
		/* xorshift128+ must not start from all zero. */
		do
			r = random_bytes(c->vcpu[v].rng, sizeof(c->vcpu[v].rng));
		while (r == 0 && (c->vcpu[v].rng[0] | c->vcpu[v].rng[1]) == 0);
	}
	e = errno;
	munmap(c, len);
	if (r == 0 && rename(tmp, path) < 0) {
		e = errno;
		r = XMIG_ERR_SYSTEM;
	}
	if (r != 0)
		unlink(tmp);
	errno = e;
	return r;
}

/* Write every data page's version-0 pattern.  pwrite rather than the
 * mapping: a full tmpfs then fails with ENOSPC instead of SIGBUS. */
static int
simdom_fill_random(struct simdom *d, int fd)
{
	uint8_t *buf = aligned_alloc(SIM_PAGE_SIZE, SIM_FILL_CHUNK * SIM_PAGE_SIZE);
	uint64_t pfn = d->table_pages;
	int r = 0;

	if (buf == NULL)
		return XMIG_ERR_NOMEM;
	while (pfn < d->nr_pages && r == 0) {
		uint64_t i, n = d->nr_pages - pfn;
		size_t len, done = 0;

		if (n > SIM_FILL_CHUNK)
			n = SIM_FILL_CHUNK;
		for (i = 0; i < n; i++)
			simdom_fill_page(buf + i * SIM_PAGE_SIZE, pfn + i, 0);
		len = (size_t)n * SIM_PAGE_SIZE;
		while (done < len) {
			ssize_t w = pwrite(fd, buf + done, len - done,
			    (off_t)(pfn * SIM_PAGE_SIZE + done));

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				r = (w < 0 && errno == ENOSPC) ? XMIG_ERR_NO_SPACE : XMIG_ERR_SYSTEM;
				break;
			}
			done += (size_t)w;
		}
		pfn += n;
	}
	free(buf);
	return r;
}

/* What a domain's memory file still lacks of its full size: memory the
 * domain owns but has not touched yet (a sparse file on tmpfs). */
static int
simdom_claim_cb(const char *root, uint32_t domid, void *arg)
{
	uint64_t *claimed = arg;
	struct sim_ctl hdr;
	char path[PATH_MAX];
	struct stat st;
	uint64_t size, have = 0;

	if (simdom_read_hdr(root, domid, &hdr) != 0 ||
	    simdom_path(path, sizeof(path), root, domid, "mem") != 0)
		return 0;	/* half a domain: it owns nothing yet */
	size = hdr.nr_pages * SIM_PAGE_SIZE;
	if (stat(path, &st) == 0)
		have = (uint64_t)st.st_blocks * 512;
	if (have < size)
		*claimed += size - have;
	return 0;
}

int
simdom_unclaimed(const char *root, uint64_t *out)
{
	struct statvfs vfs;
	uint64_t avail, claimed = 0;
	int r;

	*out = 0;
	if (statvfs(root, &vfs) != 0)
		return errno == ENOENT ? XMIG_ERR_NOT_FOUND : XMIG_ERR_SYSTEM;
	avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	if ((r = simdom_scan(root, simdom_claim_cb, &claimed)) != 0)
		return r;
	*out = avail > claimed ? avail - claimed : 0;
	return 0;
}

int
simdom_create(const char *root, const struct simdom_params *p, struct simdom **out)
{
	struct simdom_params pp = *p;
	char path[PATH_MAX];
	uint32_t domid = 0, found, max_id;
	struct simdom *d = NULL;
	uint64_t unclaimed;
	bool zero_uuid = true;
	int lk = -1, fd = -1, r, i;

	*out = NULL;
	if (root == NULL || strlen(root) >= sizeof(d->root))
		return XMIG_ERR_INVALID;
	pp.name[SIM_NAME_MAX - 1] = '\0';
	if ((r = simdom_check_params(&pp)) != 0)
		return r;
	for (i = 0; i < 16; i++)
		if (pp.uuid[i])
			zero_uuid = false;
	if (zero_uuid && (r = uuid_random(pp.uuid)) != 0)
		return r;
	if ((r = mkdir_p(root, 0755)) != 0)
		return r;
	if ((r = simdom_lock_root(root, LOCK_EX, &lk)) != 0)
		return r;
	if ((r = simdom_find(root, pp.name, 0, &found, &max_id)) != 0)
		goto out;
	if (found != 0) {
		r = XMIG_ERR_EXISTS;
		goto out;
	}
	if ((r = simdom_alloc_domid(root, max_id, &domid)) != 0)
		goto out;
	/* A domain owns all its RAM from here on, as Xen's domain build claims
	 * it (no space fails now, not mid-migration or in the guest); the pages
	 * come when first written, as Xen's restore populates a guest's memory
	 * as the stream brings it.  So a restore target costs nothing to build,
	 * and the sender never waits for memory it has not sent yet (zero-
	 * filling it here cost 0.33 s per GiB, most of a 1 GiB migration). */
	if ((r = simdom_unclaimed(root, &unclaimed)) != 0)
		goto out;
	if (pp.memory > unclaimed) {
		r = XMIG_ERR_NO_SPACE;
		goto out;
	}
	/* Sparse: pages never written cost nothing on tmpfs.  O_TRUNC: with no
	 * <id>.ctl, a <id>.mem is a leftover of an interrupted destroy. */
	if ((r = simdom_path(path, sizeof(path), root, domid, "mem")) != 0)
		goto out;
	if ((fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0 ||
	    ftruncate(fd, (off_t)pp.memory) < 0) {
		r = XMIG_ERR_SYSTEM;
		goto fail;
	}
	if ((r = simdom_write_ctl(root, domid, &pp)) != 0)
		goto fail;
	/* The name is taken: fill outside the lock, the domain shows as building. */
	simdom_unlock_root(lk);
	lk = -1;
	if ((r = simdom_map(root, domid, true, &d)) != 0)
		goto fail;
	if (pp.fill == SIM_FILL_RANDOM && (r = simdom_fill_random(d, fd)) != 0)
		goto fail;
	close(fd);
	simdom_journal(NULL, d->root, simjournal_now(), "create", d->ctl, NULL);
	*out = d;
	return 0;
fail:
	{
		int e = errno;

		simdom_close(d);
		if (fd >= 0)
			close(fd);
		fd = -1;
		if (lk < 0)
			simdom_lock_root(root, LOCK_EX, &lk);
		simdom_remove_files(root, domid);
		errno = e;
	}
out:
	if (fd >= 0)
		close(fd);
	simdom_unlock_root(lk);
	return r;
}

/* ---- state changes ---- */

/* Every vCPU acknowledged `target` and the state says so. */
static bool
simdom_reached(const struct sim_ctl *c, uint32_t target)
{
	uint32_t v;

	if (__atomic_load_n(&c->state, __ATOMIC_ACQUIRE) != target)
		return false;
	for (v = 0; v < c->vcpus; v++)
		if (__atomic_load_n(&c->ack[v], __ATOMIC_ACQUIRE) != target)
			return false;
	return true;
}

static void
simdom_post(struct sim_ctl *c, uint32_t req)
{
	__atomic_store_n(&c->req, req, __ATOMIC_SEQ_CST);
	__atomic_fetch_add(&c->seq, 1, __ATOMIC_SEQ_CST);
	simdom_futex_wake(&c->seq);
}

static int
simdom_wait_state(struct simdom *d, uint32_t target, int timeout_ms)
{
	uint64_t deadline = now_us() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000;
	unsigned n = 0;

	for (;;) {
		if (simdom_reached(d->ctl, target))
			return 0;
		/* A dead process never acknowledges: look every ~6 ms. */
		if ((++n & 127) == 0 && !simdom_proc_alive(d->ctl))
			return XMIG_ERR_STATE;
		if (now_us() >= deadline)
			return XMIG_ERR_TIMEOUT;
		simdom_sleep_ns(SIM_POLL_NS);
	}
}

static int
simdom_request(struct simdom *d, uint32_t target, int timeout_ms)
{
	enum sim_state st = simdom_state(d->ctl);

	if (st != SIM_RUNNING && st != SIM_PAUSED && st != SIM_SUSPENDED)
		return XMIG_ERR_STATE;
	if (simdom_reached(d->ctl, target) &&
	    __atomic_load_n(&d->ctl->req, __ATOMIC_ACQUIRE) == target)
		return 0;
	simdom_post(d->ctl, target);
	return simdom_wait_state(d, target, timeout_ms);
}

int
simdom_shutdown(struct simdom *d)
{
	enum sim_state st = simdom_state(d->ctl);

	if (st != SIM_RUNNING && st != SIM_PAUSED)
		return XMIG_ERR_STATE;
	simdom_post(d->ctl, SIM_SHUTDOWN);
	return 0;
}

int
simdom_pause(struct simdom *d, int timeout_ms)
{
	return simdom_request(d, SIM_PAUSED, timeout_ms);
}

int
simdom_suspend(struct simdom *d, int timeout_ms)
{
	return simdom_request(d, SIM_SUSPENDED, timeout_ms);
}

int
simdom_unpause(struct simdom *d, int timeout_ms)
{
	return simdom_request(d, SIM_RUNNING, timeout_ms);
}

static bool
simdom_wait_dead(int pid, uint64_t start, int timeout_ms)
{
	uint64_t deadline = now_us() + (uint64_t)timeout_ms * 1000;

	while (simdom_pid_alive(pid, start)) {
		if (now_us() >= deadline)
			return false;
		simdom_sleep_ns(1000000);
	}
	return true;
}

int
simdom_destroy(struct simdom *d)
{
	struct sim_ctl *c = d->ctl;
	int pid = __atomic_load_n(&c->pid, __ATOMIC_ACQUIRE);
	uint64_t start = __atomic_load_n(&c->starttime, __ATOMIC_RELAXED);
	bool killed = false;
	int lk, r;

	if (simdom_pid_alive(pid, start)) {
		simdom_post(c, SIM_SHUTDOWN);
		if (!simdom_wait_dead(pid, start, SIM_DESTROY_WAIT_MS)) {
			log_warn("sim domain %u: process %d ignored the destroy request, killing it",
			    d->domid, pid);
			kill(pid, SIGKILL);
			killed = true;
			if (!simdom_wait_dead(pid, start, SIM_DESTROY_WAIT_MS))
				return XMIG_ERR_TIMEOUT;
		}
	}
	if ((r = simdom_lock_root(d->root, LOCK_EX, &lk)) != 0)
		return r;
	simdom_remove_files(d->root, d->domid);
	simdom_unlock_root(lk);
	/* The process is gone: whatever interval it had is over. */
	simdom_journal(NULL, d->root, simjournal_now(), "destroy", c, killed ? "killed=yes" : NULL);
	return 0;
}

int
simdom_rename(struct simdom *d, const char *newname)
{
	char name[SIM_NAME_MAX] = { 0 };
	uint32_t found;
	int lk, r;

	if (!simdom_name_valid(newname))
		return XMIG_ERR_INVALID;
	strlcpy_x(name, newname, sizeof(name));
	if ((r = simdom_lock_root(d->root, LOCK_EX, &lk)) != 0)
		return r;
	if ((r = simdom_find(d->root, name, d->domid, &found, NULL)) == 0) {
		if (found != 0)
			r = XMIG_ERR_EXISTS;
		else
			memcpy(d->ctl->name, name, sizeof(name));
	}
	simdom_unlock_root(lk);
	return r;
}

/* ---- starting the domain process ---- */

static ssize_t
simdom_read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, (uint8_t *)buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -1 : (ssize_t)done;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

/* fork, setsid, fork again and exec: the domain outlives its starter, and
 * the starter (perhaps a long-lived daemon) reaps the middle child at once
 * so no zombie is left.  A close-on-exec pipe brings back the grandchild's
 * pid and, if exec fails, its errno. */
static int
simdom_spawn(const char *simhv_path, char *const argv[], int *pidp)
{
	int pfd[2], gc = -1, err = 0, st;
	pid_t child;
	ssize_t n;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return XMIG_ERR_SYSTEM;
	if ((child = fork()) < 0) {
		int e = errno;

		close(pfd[0]);
		close(pfd[1]);
		errno = e;
		return XMIG_ERR_SYSTEM;
	}
	if (child == 0) {
		/* Only async-signal-safe calls from here: the parent may be threaded. */
		sigset_t none;
		pid_t g;
		int fd;

		close(pfd[0]);
		setsid();
		if ((g = fork()) != 0) {
			int gpid = (int)g;

			if (g > 0 && write(pfd[1], &gpid, sizeof(gpid)) < 0)
				_exit(1);
			_exit(g > 0 ? 0 : 1);
		}
		if ((fd = open("/dev/null", O_RDWR)) >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
			if (fd > 2)
				close(fd);
		}
		/* Don't leak the starter's descriptors (sockets, listeners). */
		close_range(3, ~0u, CLOSE_RANGE_CLOEXEC);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		execv(simhv_path, argv);
		err = errno;
		if (write(pfd[1], &err, sizeof(err)) < 0)
			_exit(127);
		_exit(127);
	}
	close(pfd[1]);
	while (waitpid(child, &st, 0) < 0 && errno == EINTR)
		;
	n = simdom_read_full(pfd[0], &gc, sizeof(gc));
	if (n == (ssize_t)sizeof(gc) && simdom_read_full(pfd[0], &err, sizeof(err)) == sizeof(err)) {
		close(pfd[0]);
		log_error("cannot execute %s: %s", simhv_path, strerror(err));
		errno = err;
		return XMIG_ERR_SYSTEM;
	}
	close(pfd[0]);
	if (n != (ssize_t)sizeof(gc)) {
		errno = EAGAIN;
		return XMIG_ERR_SYSTEM;
	}
	*pidp = gc;
	return 0;
}

int
simdom_start(struct simdom *d, const char *simhv_path, bool paused)
{
	struct sim_ctl *c = d->ctl;
	uint32_t target = paused ? SIM_PAUSED : SIM_RUNNING;
	char idbuf[16], root[sizeof(d->root)], path[PATH_MAX];
	char *argv[7];
	uint64_t deadline;
	int pid, r, i = 0;

	if (simdom_proc_alive(c))
		return XMIG_ERR_STATE;
	strlcpy_x(path, simhv_path, sizeof(path));
	strlcpy_x(root, d->root, sizeof(root));
	snprintf(idbuf, sizeof(idbuf), "%u", d->domid);
	argv[i++] = path;
	argv[i++] = (char *)"-r";
	argv[i++] = root;
	argv[i++] = (char *)"run";
	argv[i++] = idbuf;
	if (paused)
		argv[i++] = (char *)"--paused";
	argv[i] = NULL;

	__atomic_store_n(&c->pid, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&c->state, SIM_BUILDING, __ATOMIC_RELEASE);
	simdom_post(c, target);
	if ((r = simdom_spawn(path, argv, &pid)) != 0)
		return r;
	deadline = now_us() + SIM_START_TIMEOUT_MS * 1000ull;
	for (;;) {
		char st;
		uint64_t s;

		if (simdom_reached(c, target))
			return 0;
		if (simdom_proc_stat(pid, &st, &s) != 0 || st == 'Z' || st == 'X') {
			log_error("sim domain %u: the domain process exited at start "
			    "(run '%s -r %s run %u' by hand to see why)", d->domid, path, root,
			    d->domid);
			return XMIG_ERR_BACKEND;
		}
		if (now_us() >= deadline) {
			kill(pid, SIGKILL);
			return XMIG_ERR_TIMEOUT;
		}
		simdom_sleep_ns(1000000);
	}
}

/* ---- log-dirty, throttle, context, params ---- */

int
simdom_logdirty(struct simdom *d, bool on)
{
	uint64_t w, nwords = (d->nr_pages + 63) / 64;

	if (!on) {
		__atomic_store_n(&d->ctl->logdirty, 0, __ATOMIC_SEQ_CST);
		return 0;
	}
	for (w = 0; w < nwords; w++)
		__atomic_store_n(&d->bitmap[w], 0, __ATOMIC_RELAXED);
	/* Pairs with the fence in the vCPU's page write: a write either sees
	 * the flag and marks its page, or is visible to the copy that follows. */
	__atomic_store_n(&d->ctl->logdirty, 1, __ATOMIC_SEQ_CST);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return 0;
}

uint64_t
simdom_dirty_fetch_clear(struct simdom *d, uint64_t *dst)
{
	uint64_t w, nwords = (d->nr_pages + 63) / 64, n = 0;

	for (w = 0; w < nwords; w++) {
		/* Skip clean words without a write: keeps the cache lines shared. */
		uint64_t bits = __atomic_load_n(&d->bitmap[w], __ATOMIC_RELAXED);

		if (bits != 0)
			bits = __atomic_exchange_n(&d->bitmap[w], 0, __ATOMIC_ACQ_REL);
		dst[w] = bits;
		n += (uint64_t)__builtin_popcountll(bits);
	}
	return n;
}

int
simdom_throttle(struct simdom *d, unsigned pct)
{
	if (pct > 99)
		return XMIG_ERR_INVALID;
	__atomic_store_n(&d->ctl->throttle, pct, __ATOMIC_RELEASE);
	return 0;
}

int
simdom_get_context(const struct simdom *d, struct sim_vcpu_ctx *ctx, uint32_t *nvcpus)
{
	const struct sim_ctl *c = d->ctl;
	uint32_t v;

	for (v = 0; v < c->vcpus; v++)
		simdom_ctx_copy(&ctx[v], &c->vcpu[v]);
	*nvcpus = c->vcpus;
	return 0;
}

int
simdom_set_context(struct simdom *d, const struct sim_vcpu_ctx *ctx, uint32_t nvcpus)
{
	struct sim_ctl *c = d->ctl;
	uint32_t v;

	if (nvcpus != c->vcpus)
		return XMIG_ERR_INVALID;
	/* Running vCPUs own their context; it may change only while stopped. */
	if (simdom_state(c) == SIM_RUNNING)
		return XMIG_ERR_STATE;
	for (v = 0; v < nvcpus; v++)
		simdom_ctx_copy(&c->vcpu[v], &ctx[v]);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	return 0;
}

int
simdom_get_params(const struct simdom *d, struct simdom_params *p)
{
	const struct sim_ctl *c = d->ctl;

	memset(p, 0, sizeof(*p));
	memcpy(p->name, c->name, SIM_NAME_MAX);
	p->name[SIM_NAME_MAX - 1] = '\0';
	memcpy(p->uuid, c->uuid, 16);
	p->memory = c->nr_pages * SIM_PAGE_SIZE;
	p->vcpus = c->vcpus;
	p->dirty_rate = c->dirty_rate;
	p->wws = c->wws_pages * SIM_PAGE_SIZE;
	p->fill = (enum sim_fill)c->fill;
	return 0;
}

/* ---- verify ---- */

struct simdom_check {
	struct simdom *d;
	const uint32_t *table;
	uint64_t hot_end;
	int fill;		/* what unwritten pages hold; SIM_FILL_NONE = not known yet */
	uint64_t vsum[SIM_MAX_VCPUS];
	char *err;
	size_t errlen;
};

static void
simdom_describe(const uint8_t *page, uint64_t pfn, char *buf, size_t len)
{
	const uint64_t *w = (const uint64_t *)page;

	if (simdom_page_is_zero(page))
		snprintf(buf, len, "zero");
	else if (w[0] == pfn && simdom_page_is(page, pfn, w[1]))
		snprintf(buf, len, "version %llu", (unsigned long long)w[1]);
	else if (w[0] == pfn)
		snprintf(buf, len, "corrupt (header says version %llu)", (unsigned long long)w[1]);
	else
		snprintf(buf, len, "corrupt (first word %#llx)", (unsigned long long)w[0]);
}

/* One data page against its table entry. */
static int
simdom_check_page(struct simdom_check *k, uint64_t pfn, const uint8_t *page)
{
	uint32_t ver = __atomic_load_n(&k->table[pfn], __ATOMIC_RELAXED);
	char what[96];
	bool ok;

	if (pfn >= k->hot_end && ver != 0) {
		snprintf(k->err, k->errlen, "page %llu: table says version %u but the page is "
		    "outside the working set", (unsigned long long)pfn, ver);
		return XMIG_ERR_INVALID;
	}
	if (ver != 0) {
		k->vsum[(pfn - k->d->table_pages) % k->d->ctl->vcpus] += ver;
		if (simdom_page_is(page, pfn, ver))
			return 0;
		simdom_describe(page, pfn, what, sizeof(what));
		snprintf(k->err, k->errlen, "page %llu: content is %s, table says version %u%s",
		    (unsigned long long)pfn, what, ver,
		    strncmp(what, "version", 7) == 0 ? " (lost update)" : "");
		return XMIG_ERR_INVALID;
	}
	/* Never written: zero or the fill pattern.  A restored domain (fill
	 * none) learns which from its first such page; then all must agree. */
	if (k->fill == SIM_FILL_ZERO)
		ok = simdom_page_is_zero(page);
	else if (k->fill == SIM_FILL_RANDOM)
		ok = simdom_page_is(page, pfn, 0);
	else if ((ok = simdom_page_is_zero(page)))
		k->fill = SIM_FILL_ZERO;
	else if ((ok = simdom_page_is(page, pfn, 0)))
		k->fill = SIM_FILL_RANDOM;
	if (ok)
		return 0;
	simdom_describe(page, pfn, what, sizeof(what));
	snprintf(k->err, k->errlen, "page %llu: never written, should hold %s but content is %s%s",
	    (unsigned long long)pfn, k->fill == SIM_FILL_ZERO ? "zeros" : "the fill pattern", what,
	    strcmp(what, "zero") == 0 ? " (page not copied?)" : "");
	return XMIG_ERR_INVALID;
}

uint64_t
simdom_populated(struct simdom *d, uint64_t *bm)
{
	uint64_t nwords = (d->nr_pages + 63) / 64, pfn = 0, count = 0, data, hole;
	char path[PATH_MAX];
	int fd = -1;

	memset(bm, 0, nwords * sizeof(*bm));
	if (simdom_path(path, sizeof(path), d->root, d->domid, "mem") == 0)
		fd = open(path, O_RDONLY | O_CLOEXEC);
	while (pfn < d->nr_pages) {
		off_t o = fd >= 0 ? lseek(fd, (off_t)(pfn * SIM_PAGE_SIZE), SEEK_DATA) : -1;

		if (o < 0 && fd >= 0 && errno == ENXIO)
			break;		/* only holes from here on */
		if (o < 0) {
			data = pfn;	/* no hole support: everything counts */
			hole = d->nr_pages;
		} else {
			data = (uint64_t)o / SIM_PAGE_SIZE;
			o = lseek(fd, o, SEEK_HOLE);
			hole = o >= 0 ? ((uint64_t)o + SIM_PAGE_SIZE - 1) / SIM_PAGE_SIZE
			    : d->nr_pages;
		}
		if (hole > d->nr_pages)
			hole = d->nr_pages;
		if (data <= pfn && hole <= pfn)
			hole = pfn + 1;	/* never loop in place */
		for (pfn = data; pfn < hole; pfn++) {
			bm[pfn / 64] |= 1ull << (pfn % 64);
			count++;
		}
	}
	if (fd >= 0)
		close(fd);
	return count;
}

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22	/* Linux 5.14 */
#endif

int
simdom_prefault(struct simdom *d, uint64_t pfn, uint64_t count)
{
	if (pfn > d->nr_pages || count > d->nr_pages - pfn)
		return XMIG_ERR_INVALID;
	for (;;) {
		if (madvise(d->mem + pfn * SIM_PAGE_SIZE, count * SIM_PAGE_SIZE,
		    MADV_POPULATE_READ) == 0)
			return 0;
		if (errno == EINTR || errno == EAGAIN)
			continue;
		if (errno == ENOMEM)
			return XMIG_ERR_NOMEM;
		if (errno == EFAULT)	/* a page could not be allocated (SIGBUS) */
			return XMIG_ERR_NO_SPACE;
		return XMIG_ERR_UNSUPPORTED;	/* EINVAL: a kernel before 5.14 */
	}
}

int
simdom_mem_open(const struct simdom *d)
{
	char path[PATH_MAX];
	int fd, r;

	if ((r = simdom_path(path, sizeof(path), d->root, d->domid, "mem")) != 0)
		return r;
	if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
		return errno == ENOENT ? XMIG_ERR_NOT_FOUND : XMIG_ERR_SYSTEM;
	return fd;
}

int
simdom_write_pages(const struct simdom *d, int fd, const uint64_t *pfns, unsigned n,
    const uint8_t *data)
{
	unsigned i = 0, j;

	while (i < n) {
		const uint8_t *p = data + (size_t)i * SIM_PAGE_SIZE;
		size_t len;
		off_t off;

		/* One write per run of consecutive pages. */
		for (j = i + 1; j < n && pfns[j] == pfns[j - 1] + 1; j++)
			;
		if (pfns[i] >= d->nr_pages || pfns[j - 1] >= d->nr_pages)
			return XMIG_ERR_INVALID;
		len = (size_t)(j - i) * SIM_PAGE_SIZE;
		off = (off_t)(pfns[i] * SIM_PAGE_SIZE);
		while (len > 0) {
			ssize_t w = pwrite(fd, p, len, off);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return w == 0 || errno == ENOSPC ? XMIG_ERR_NO_SPACE
				    : errno == ENOMEM ? XMIG_ERR_NOMEM : XMIG_ERR_SYSTEM;
			p += w;
			off += w;
			len -= (size_t)w;
		}
		i = j;
	}
	return 0;
}

/* Walk the data pages; holes in the file read as zero without touching
 * (and allocating) them, which keeps verify of a sparse domain cheap. */
static int
simdom_check_pages(struct simdom_check *k)
{
	static const uint8_t zero_page[SIM_PAGE_SIZE] __attribute__((aligned(64)));
	struct simdom *d = k->d;
	char path[PATH_MAX];
	uint64_t pfn = d->table_pages, end = d->nr_pages;
	int fd, r = 0;

	if ((r = simdom_path(path, sizeof(path), d->root, d->domid, "mem")) != 0)
		return r;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	while (pfn < end && r == 0) {
		uint64_t data = end, hole = end;

		if (fd >= 0) {
			off_t o = lseek(fd, (off_t)(pfn * SIM_PAGE_SIZE), SEEK_DATA);

			if (o >= 0) {
				data = (uint64_t)o / SIM_PAGE_SIZE;
				o = lseek(fd, o, SEEK_HOLE);
				hole = o >= 0 ? ((uint64_t)o + SIM_PAGE_SIZE - 1) / SIM_PAGE_SIZE : end;
			} else if (errno != ENXIO) {
				data = pfn;	/* no hole support: read everything */
			}
		} else {
			data = pfn;
		}
		if (data < pfn)
			data = pfn;
		if (hole > end)
			hole = end;
		for (; pfn < data && r == 0; pfn++)
			r = simdom_check_page(k, pfn, zero_page);
		/* One call maps the whole run: 4x faster than faulting it in page
		 * by page.  Best effort (Linux >= 5.14). */
		if (pfn < hole)
			madvise(d->mem + pfn * SIM_PAGE_SIZE, (size_t)(hole - pfn) * SIM_PAGE_SIZE,
			    MADV_POPULATE_READ);
		for (; pfn < hole && r == 0; pfn++)
			r = simdom_check_page(k, pfn, d->mem + pfn * SIM_PAGE_SIZE);
	}
	if (fd >= 0)
		close(fd);
	return r;
}

static int
simdom_check_memory(struct simdom *d, char *err, size_t errlen)
{
	struct simdom_check k;
	struct sim_vcpu_ctx ctx[SIM_MAX_VCPUS];
	uint64_t pfn, entries = (uint64_t)d->table_pages * (SIM_PAGE_SIZE / 4), hot;
	uint32_t v, nv;
	int r;

	memset(&k, 0, sizeof(k));
	k.d = d;
	k.table = (const uint32_t *)d->mem;
	hot = d->ctl->wws_pages;
	if (hot == 0 || hot > d->nr_pages - d->table_pages)
		hot = d->nr_pages - d->table_pages;
	k.hot_end = d->table_pages + hot;
	k.fill = (int)d->ctl->fill;
	k.err = err;
	k.errlen = errlen;
	/* Entries of the table pages themselves and past the end stay 0. */
	for (pfn = 0; pfn < entries; pfn++) {
		if (pfn == d->table_pages)
			pfn = d->nr_pages;
		if (pfn < entries && k.table[pfn] != 0) {
			snprintf(err, errlen, "version table entry %llu is %u, must be 0 (%s)",
			    (unsigned long long)pfn, k.table[pfn],
			    pfn < d->nr_pages ? "a table page" : "past the end of memory");
			return XMIG_ERR_INVALID;
		}
	}
	if ((r = simdom_check_pages(&k)) != 0)
		return r;
	/* Catches a lost update that took its table entry with it. */
	simdom_get_context(d, ctx, &nv);
	for (v = 0; v < nv; v++) {
		if (k.vsum[v] != ctx[v].writes) {
			snprintf(err, errlen, "vCPU %u: its pages' versions sum to %llu but it "
			    "made %llu writes (lost update)", v, (unsigned long long)k.vsum[v],
			    (unsigned long long)ctx[v].writes);
			return XMIG_ERR_INVALID;
		}
	}
	return 0;
}

int
simdom_verify(struct simdom *d, bool check_running, char *err, size_t errlen)
{
	struct simdom_info si;
	uint64_t t0;
	bool was_running;
	int r;

	if (errlen > 0)
		err[0] = '\0';
	simdom_info(d, &si);
	if (check_running && si.state != SIM_RUNNING) {
		snprintf(err, errlen, "domain %s is %s, not running", si.name,
		    sim_state_name(si.state));
		return XMIG_ERR_INVALID;
	}
	/* A stable snapshot: no vCPU may be between a page and its table entry. */
	was_running = si.state == SIM_RUNNING;
	if (was_running && (r = simdom_pause(d, 5000)) != 0) {
		snprintf(err, errlen, "cannot pause the domain to check it: %s", xmig_strerror(r));
		return r;
	}
	r = simdom_check_memory(d, err, errlen);
	if (was_running) {
		int u = simdom_unpause(d, 5000);

		if (u != 0 && r == 0) {
			snprintf(err, errlen, "cannot unpause the domain after the check: %s",
			    xmig_strerror(u));
			return u;
		}
	}
	if (r != 0 || !check_running)
		return r;
	/* Alive, not just intact: the vCPUs keep ticking. */
	t0 = now_us();
	do {
		struct simdom_info now;

		simdom_info(d, &now);
		if (now.state != SIM_RUNNING) {
			snprintf(err, errlen, "domain %s is %s, not running", now.name,
			    sim_state_name(now.state));
			return XMIG_ERR_INVALID;
		}
		if (now.ticks > si.ticks)
			return 0;
		simdom_sleep_ns(1000000);
	} while (now_us() - t0 < 300000);
	snprintf(err, errlen, "domain %s is running but its vCPUs do not advance", si.name);
	return XMIG_ERR_INVALID;
}

/* ---- the workload: the domain process and its vCPUs ---- */

#define SIM_TICK_US 1000ull
#define SIM_TOKEN 1000000ull	/* one page in the rate bucket (rate pages/s x time us) */

/* What the vCPUs of a domain process share: the journal, and how many of
 * them run the workload, so that the first to start and the last to stop
 * write the run and stop events. */
struct simdom_proc {
	pthread_mutex_t mu;
	uint32_t running;
	struct simjournal j;
	struct simdom *d;
};

struct simdom_vcpu {
	struct simdom *d;
	struct simdom_proc *proc;
	uint32_t v;
	pthread_t tid;
};

/* vCPU starts (on) or stops running the workload.  Called before the
 * first page a vCPU writes and after its last, before the vCPU
 * acknowledges the request, under a lock: the journal's intervals contain
 * every moment a vCPU ran, and whoever waited for the acknowledgement
 * (a pause before a copy, an unpause after one) is after or before them. */
static void
simdom_vcpu_journal(struct simdom_proc *p, bool on, uint32_t req)
{
	const char *ev = req == SIM_PAUSED ? "pause" : req == SIM_SUSPENDED ? "suspend"
	    : req == SIM_SHUTDOWN ? "shutdown" : "stop";

	pthread_mutex_lock(&p->mu);
	if (on && p->running++ == 0)
		simdom_journal(&p->j, NULL, simjournal_now(), "run", p->d->ctl, NULL);
	else if (!on && --p->running == 0)
		simdom_journal(&p->j, NULL, simjournal_now(), ev, p->d->ctl, NULL);
	pthread_mutex_unlock(&p->mu);
}

static inline uint64_t
simdom_rng_next(uint64_t s[2])
{
	uint64_t s1 = s[0];
	const uint64_t s0 = s[1];

	s[0] = s0;
	s1 ^= s1 << 23;
	s[1] = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
	return s[1] + s0;
}

/* Write one page of vCPU v's share.  The order is the point: page, table
 * entry, then the dirty bits, so whoever clears a bit and then copies the
 * page gets at least the write that set it. */
static void
simdom_vcpu_write(struct simdom *d, uint32_t v, uint64_t share, struct sim_vcpu_ctx *ctx)
{
	uint32_t *table = (uint32_t *)d->mem;
	uint64_t k = (uint64_t)(((unsigned __int128)simdom_rng_next(ctx->rng) * share) >> 64);
	uint64_t pfn = d->table_pages + v + k * d->ctl->vcpus, tp;
	uint32_t ver = __atomic_load_n(&table[pfn], __ATOMIC_RELAXED) + 1;

	simdom_fill_page(d->mem + pfn * SIM_PAGE_SIZE, pfn, ver);
	__atomic_store_n(&table[pfn], ver, __ATOMIC_RELEASE);
	ctx->writes++;
	/* Store-load barrier, pairing with simdom_logdirty(on): either we see
	 * the flag, or the copy round that follows it sees our stores. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&d->ctl->logdirty, __ATOMIC_RELAXED)) {
		tp = pfn / (SIM_PAGE_SIZE / 4);
		__atomic_fetch_or(&d->bitmap[pfn / 64], 1ull << (pfn % 64), __ATOMIC_RELEASE);
		__atomic_fetch_or(&d->bitmap[tp / 64], 1ull << (tp % 64), __ATOMIC_RELEASE);
	}
}

static void
simdom_vcpu_ack(struct sim_ctl *c, uint32_t v, uint32_t st)
{
	uint32_t i;

	/* seq_cst: of vCPUs acking at once, at least the last sees all acks. */
	__atomic_store_n(&c->ack[v], st, __ATOMIC_SEQ_CST);
	for (i = 0; i < c->vcpus; i++)
		if (__atomic_load_n(&c->ack[i], __ATOMIC_SEQ_CST) != st)
			return;
	if (st != SIM_SHUTDOWN)
		__atomic_store_n(&c->state, st, __ATOMIC_SEQ_CST);
}

static void *
simdom_vcpu_main(void *arg)
{
	struct simdom_vcpu *t = arg;
	struct simdom *d = t->d;
	struct sim_ctl *c = d->ctl;
	const uint32_t v = t->v, nv = c->vcpus;
	uint64_t hot = c->wws_pages, share, rate, tokens = 0, last = 0;
	struct sim_vcpu_ctx ctx;
	uint32_t cur = SIM_BUILDING;

	if (hot == 0 || hot > d->nr_pages - d->table_pages)
		hot = d->nr_pages - d->table_pages;
	/* vCPU v owns the hot pages with index % nv == v: no two vCPUs ever
	 * write the same page or table entry. */
	share = hot > v ? (hot - v - 1) / nv + 1 : 0;
	rate = c->dirty_rate / nv + (v < c->dirty_rate % nv);
	simdom_ctx_copy(&ctx, &c->vcpu[v]);
	for (;;) {
		uint32_t seq = __atomic_load_n(&c->seq, __ATOMIC_ACQUIRE);
		uint32_t req = __atomic_load_n(&c->req, __ATOMIC_ACQUIRE);
		struct timespec ts = { 0, 0 };
		uint64_t t0, el;

		if (req != cur) {
			/* A safe point: no page is half written. */
			if (cur == SIM_RUNNING) {
				simdom_ctx_copy(&c->vcpu[v], &ctx);
				simdom_vcpu_journal(t->proc, false, req);
			}
			if (req == SIM_RUNNING) {
				/* The context may have been set while stopped, and
				 * time spent stopped must not become a burst. */
				simdom_ctx_copy(&ctx, &c->vcpu[v]);
				tokens = 0;
				last = now_us();
				simdom_vcpu_journal(t->proc, true, req);
			}
			cur = req;
			simdom_vcpu_ack(c, v, req);
			if (req == SIM_SHUTDOWN)
				return NULL;
			continue;
		}
		if (cur != SIM_RUNNING) {
			ts.tv_sec = 1;
			simdom_futex_wait(&c->seq, seq, &ts);
			continue;
		}
		ctx.ticks++;
		t0 = now_us();
		if (rate > 0 && share > 0) {
			uint64_t pct = __atomic_load_n(&c->throttle, __ATOMIC_RELAXED);
			uint64_t eff = rate * (100 - (pct > 99 ? 99 : pct)) / 100;
			uint64_t cap = eff * 2 * SIM_TICK_US;	/* at most two ticks' worth */
			unsigned n = 0;

			el = t0 - last;
			last = t0;
			tokens += (el > 2 * SIM_TICK_US ? 2 * SIM_TICK_US : el) * eff;
			if (tokens > (cap > SIM_TOKEN ? cap : SIM_TOKEN))
				tokens = cap > SIM_TOKEN ? cap : SIM_TOKEN;
			while (tokens >= SIM_TOKEN) {
				if (__atomic_load_n(&c->seq, __ATOMIC_RELAXED) != seq)
					break;	/* a request: go to the safe point */
				/* Bound a tick's work so ticks advance at any rate. */
				if ((++n & 15) == 0 && now_us() - t0 >= SIM_TICK_US)
					break;
				simdom_vcpu_write(d, v, share, &ctx);
				tokens -= SIM_TOKEN;
			}
		}
		__atomic_store_n(&c->vcpu[v].ticks, ctx.ticks, __ATOMIC_RELAXED);
		__atomic_store_n(&c->vcpu[v].writes, ctx.writes, __ATOMIC_RELAXED);
		/* Sleep out the tick on the request word, so a request wakes us. */
		el = now_us() - t0;
		if (el < SIM_TICK_US && tokens < SIM_TOKEN) {
			ts.tv_nsec = (long)((SIM_TICK_US - el) * 1000);
			simdom_futex_wait(&c->seq, seq, &ts);
		}
	}
}

static volatile sig_atomic_t simdom_stop_signal;

static void
simdom_on_signal(int sig)
{
	simdom_stop_signal = sig;
}

int
simdom_run(const char *root, const char *name_or_id, bool paused)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
	struct simdom_vcpu th[SIM_MAX_VCPUS];
	struct simdom_proc proc;
	char path[PATH_MAX];
	struct sigaction sa;
	sigset_t block, old;
	struct simdom *d;
	struct sim_ctl *c;
	uint32_t v, nv, started = 0;
	uint64_t start;
	size_t i;
	int fd, r;

	if ((r = simdom_open(root, name_or_id, &d)) != 0) {
		log_error("domain %s under %s: %s", name_or_id, root, xmig_strerror(r));
		return 1;
	}
	c = d->ctl;
	nv = c->vcpus;
	/* One process per domain: it holds an flock on the ctl file for life.
	 * The file's link count also tells it when it was removed under it. */
	if (simdom_path(path, sizeof(path), root, d->domid, "ctl") != 0 ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		log_error("domain %u: cannot open its control file: %s", d->domid, strerror(errno));
		simdom_close(d);
		return 1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0 || simdom_self_starttime(&start) != 0) {
		log_error("domain %u: %s", d->domid, errno == EWOULDBLOCK ?
		    "another process already runs it" : strerror(errno));
		close(fd);
		simdom_close(d);
		return 1;
	}
	__atomic_store_n(&c->starttime, start, __ATOMIC_RELAXED);
	__atomic_store_n(&c->pid, (int32_t)getpid(), __ATOMIC_RELEASE);
	__atomic_store_n(&c->state, SIM_BUILDING, __ATOMIC_RELEASE);
	for (v = 0; v < nv; v++)
		__atomic_store_n(&c->ack[v], SIM_BUILDING, __ATOMIC_RELEASE);
	memset(&proc, 0, sizeof(proc));
	pthread_mutex_init(&proc.mu, NULL);
	proc.d = d;
	simjournal_open(&proc.j, root);
	simdom_journal(&proc.j, NULL, simjournal_now(), "boot", c,
	    paused ? "state=paused" : "state=running");
	simdom_post(c, paused ? SIM_PAUSED : SIM_RUNNING);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = simdom_on_signal;	/* no SA_RESTART: interrupt the wait */
	sigemptyset(&sa.sa_mask);
	sigemptyset(&block);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		sigaction(sigs[i], &sa, NULL);
		sigaddset(&block, sigs[i]);
	}
	/* The vCPUs block them, so they reach this thread. */
	pthread_sigmask(SIG_BLOCK, &block, &old);
	for (v = 0; v < nv; v++) {
		th[v].d = d;
		th[v].proc = &proc;
		th[v].v = v;
		if ((r = pthread_create(&th[v].tid, NULL, simdom_vcpu_main, &th[v])) != 0) {
			log_error("domain %u: cannot start vCPU %u: %s", d->domid, v, strerror(r));
			break;
		}
		started++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	while (started == nv && !simdom_stop_signal) {
		uint32_t seq = __atomic_load_n(&c->seq, __ATOMIC_ACQUIRE);
		struct timespec ts = { 0, 200000000 };
		struct stat st;

		if (__atomic_load_n(&c->req, __ATOMIC_ACQUIRE) == SIM_SHUTDOWN)
			break;
		if (fstat(fd, &st) == 0 && st.st_nlink == 0) {
			log_warn("domain %u: control file removed, stopping", d->domid);
			break;
		}
		simdom_futex_wait(&c->seq, seq, &ts);
	}
	simdom_post(c, SIM_SHUTDOWN);
	for (v = 0; v < started; v++)
		pthread_join(th[v].tid, NULL);
	/* Also ends the interval of vCPUs that ran when others failed to start. */
	simdom_journal(&proc.j, NULL, simjournal_now(), "exit", c, NULL);
	simjournal_close(&proc.j);
	pthread_mutex_destroy(&proc.mu);
	__atomic_store_n(&c->state, SIM_SHUTDOWN, __ATOMIC_SEQ_CST);
	close(fd);
	simdom_close(d);
	return started == nv ? 0 : 1;
}
