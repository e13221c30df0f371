/* namecheck.c - host name checks of relocation peers, off the accept loop.
 *
 * A peer that no address entry of relocation-hosts-allow admits is, when
 * the list has host name entries, admitted only if its forward-confirmed
 * reverse name matches one.  Finding that name blocks on DNS, which whoever
 * runs the peer's reverse zone can make as slow as they like, so strangers
 * must not be able to hold the lookups that allowed peers need:
 *
 *  - each lookup runs in its own thread under a time budget
 *    (relocation-hosts-lookup-timeout-ms).  At the budget its connections
 *    are closed ("reverse lookup timed out") and it stops counting as
 *    running; its thread cannot be interrupted inside the resolver, so it
 *    lives on as a "stuck" one, and no lookup starts while NC_STUCK_MAX are
 *    stuck (at most NC_RUNNING_MAX + NC_STUCK_MAX threads ever);
 *  - one lookup per source address at a time.  Further connections from an
 *    address whose lookup is pending wait for its answer (NC_CONNS_PER_ADDR
 *    at most, beyond that refused) rather than being refused: an allowed
 *    peer opens several at once (host info, then a few migrations) and
 *    must not fail for it, while a stranger gains nothing but a wait;
 *  - answers are cached per address: a refusal (no name, not confirmed,
 *    no match, timed out) for NC_NEG_TTL_S, so that a failing peer is
 *    refused at once without a new lookup; an admission for NC_POS_TTL_S,
 *    so that a known peer is admitted at once even while strangers hold
 *    every lookup slot.  The list is fixed for the daemon's life (no
 *    reload), so the verdict itself is cached;
 *  - at most NC_RUNNING_MAX lookups run at once; further addresses wait in
 *    a queue, first come first served, each for at most the budget, and
 *    then get the whole budget for their own lookup.
 *
 * The accept loop's thread owns all of this; a lookup thread only writes
 * its answer into its slot under nc_lock and wakes the loop through a pipe.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "namecheck.h"
#include "util.h"
#include "xerr.h"

#define NC_RUNNING_MAX 16	/* lookups within their budget at once */
#define NC_STUCK_MAX 32		/* past their budget, still in the resolver */
#define NC_QUEUE_MAX 32		/* addresses waiting for a lookup slot */
#define NC_CONNS_PER_ADDR 4	/* connections waiting on one address's lookup */
#define NC_POS_TTL_S 60
#define NC_NEG_TTL_S 30
#define NC_POS_CACHE 128
#define NC_NEG_CACHE 256
#define NC_SLOTS (NC_RUNNING_MAX + NC_STUCK_MAX + NC_QUEUE_MAX)

enum nc_verdict { NCV_ALLOWED, NCV_NO_MATCH, NCV_NO_NAME, NCV_UNCONFIRMED, NCV_TIMED_OUT };
enum nc_state { NC_FREE, NC_QUEUED, NC_RUNNING, NC_STUCK };

struct nc_conn {
	int fd;
	bool tls;
	char full[128];
};

struct nc_lookup {
	enum nc_state st;
	unsigned char key[ALLOW_ADDR_KEY_LEN];
	struct sockaddr_storage ss;	/* read by the thread, fixed while it runs */
	socklen_t sl;
	char addr[64];			/* for log lines about the address itself */
	uint64_t seq;			/* queue order */
	uint64_t deadline_ms;		/* queued: end of the wait; running: the budget */
	uint64_t started_ms;
	unsigned nconn;
	struct nc_conn conn[NC_CONNS_PER_ADDR];
	/* Written by the lookup thread, under nc_lock. */
	bool done;
	int result;
	char name[NI_MAXHOST];
};

struct nc_cached {
	bool used;
	unsigned char key[ALLOW_ADDR_KEY_LEN];
	enum nc_verdict v;
	uint64_t at_ms, expires_ms;
	char name[80];
};

static struct xmigd *nc_d;
static namecheck_admit_fn nc_admit;
static pthread_mutex_t nc_lock = PTHREAD_MUTEX_INITIALIZER;
static int nc_pipe[2] = { -1, -1 };
static struct nc_lookup nc_slot[NC_SLOTS];
static uint64_t nc_seq;
static struct nc_cached nc_pos[NC_POS_CACHE], nc_neg[NC_NEG_CACHE];
static struct log_ratelimit nc_refuse_rl, nc_timeout_rl;
static namecheck_lookup_fn nc_lookup = allow_peer_name;

void
namecheck_set_lookup(namecheck_lookup_fn fn)
{
	nc_lookup = fn != NULL ? fn : allow_peer_name;
}

int
namecheck_init(struct xmigd *d, namecheck_admit_fn admit, char *err, size_t errlen)
{
	nc_d = d;
	nc_admit = admit;
	if (pipe2(nc_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
		snprintf(err, errlen, "cannot create a pipe for host name lookups: %s",
		    strerror(errno));
		return XMIG_ERR_SYSTEM;
	}
	return 0;
}

int
namecheck_fd(void)
{
	return nc_pipe[0];
}

/* ---- the cache ---- */

static struct nc_cached *
cache_find(struct nc_cached *c, size_t n, const unsigned char *key, uint64_t now)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (c[i].used && c[i].expires_ms > now &&
		    memcmp(c[i].key, key, ALLOW_ADDR_KEY_LEN) == 0)
			return &c[i];
	return NULL;
}

/* Admissions and refusals are kept apart, so that strangers' refusals
 * never push out the admissions of known peers. */
static void
cache_put(const unsigned char *key, enum nc_verdict v, const char *name, uint64_t now)
{
	bool pos = v == NCV_ALLOWED;
	struct nc_cached *c = pos ? nc_pos : nc_neg, *e, *victim = NULL;
	size_t n = pos ? NC_POS_CACHE : NC_NEG_CACHE, i;

	/* A newer answer replaces the other kind (a late answer after a
	 * timeout, say). */
	if ((e = cache_find(pos ? nc_neg : nc_pos, pos ? NC_NEG_CACHE : NC_POS_CACHE, key,
	    now)) != NULL)
		e->used = false;
	for (i = 0; i < n && victim == NULL; i++)
		if (c[i].used && memcmp(c[i].key, key, ALLOW_ADDR_KEY_LEN) == 0)
			victim = &c[i];
	for (i = 0; i < n && victim == NULL; i++)
		if (!c[i].used || c[i].expires_ms <= now)
			victim = &c[i];
	if (victim == NULL) {
		/* Full: the one closest to expiring goes. */
		victim = &c[0];
		for (i = 1; i < n; i++)
			if (c[i].expires_ms < victim->expires_ms)
				victim = &c[i];
	}
	victim->used = true;
	memcpy(victim->key, key, ALLOW_ADDR_KEY_LEN);
	victim->v = v;
	victim->at_ms = now;
	victim->expires_ms = now + (pos ? NC_POS_TTL_S : NC_NEG_TTL_S) * 1000ull;
	strlcpy_x(victim->name, name != NULL ? name : "", sizeof(victim->name));
}

/* ---- verdicts ---- */

/* note: "" for a fresh answer, else what kind of answer (cached, ...). */
static void
refuse(const struct nc_conn *c, enum nc_verdict v, const char *name, const char *note)
{
	if (v == NCV_TIMED_OUT)
		log_ratelimited(&nc_refuse_rl, 10, LOG_LVL_WARN, "refused relocation connection "
		    "from %s: reverse lookup timed out%s", c->full, note);
	else
		log_ratelimited(&nc_refuse_rl, 10, LOG_LVL_WARN, "refused relocation connection "
		    "from %s%s%s%s: not in relocation-hosts-allow%s", c->full,
		    v == NCV_NO_MATCH ? " (" : "", v == NCV_NO_MATCH ? name : "",
		    v == NCV_NO_MATCH ? ")" : v == NCV_UNCONFIRMED ?
		    " (its reverse name does not resolve back to it)" : "", note);
	close(c->fd);
}

static void
decide(const struct nc_conn *c, enum nc_verdict v, const char *name, const char *cached)
{
	if (v == NCV_ALLOWED) {
		log_verbose("%s is %s%s", c->full, name, cached);
		nc_admit(nc_d, c->fd, c->full, c->tls);
	} else {
		refuse(c, v, name, cached);
	}
}

static enum nc_verdict
verdict_of(const struct nc_lookup *lk)
{
	if (lk->result == XMIG_ERR_INVALID)
		return NCV_UNCONFIRMED;
	if (lk->result != 0)
		return NCV_NO_NAME;
	return allow_match(nc_d->allow, (const struct sockaddr *)&lk->ss, lk->sl, lk->name) ?
	    NCV_ALLOWED : NCV_NO_MATCH;
}

/* ---- lookups ---- */

static void *
lookup_thread(void *arg)
{
	struct nc_lookup *lk = arg;
	char name[NI_MAXHOST];
	int r;

	r = nc_lookup((const struct sockaddr *)&lk->ss, lk->sl, name, sizeof(name));
	pthread_mutex_lock(&nc_lock);
	lk->result = r;
	strlcpy_x(lk->name, r == 0 ? name : "", sizeof(lk->name));
	lk->done = true;
	pthread_mutex_unlock(&nc_lock);
	/* lk is the loop's again.  A full pipe already wakes the loop. */
	if (write(nc_pipe[1], "", 1) < 0 && errno != EAGAIN)
		log_debug("host name lookup: cannot wake the accept loop: %s", strerror(errno));
	return NULL;
}

static void
release(struct nc_lookup *lk)
{
	memset(lk, 0, sizeof(*lk));
	lk->st = NC_FREE;
}

static void
count(unsigned *queued, unsigned *running, unsigned *stuck)
{
	size_t i;

	*queued = *running = *stuck = 0;
	for (i = 0; i < NC_SLOTS; i++) {
		if (nc_slot[i].st == NC_QUEUED)
			(*queued)++;
		else if (nc_slot[i].st == NC_RUNNING)
			(*running)++;
		else if (nc_slot[i].st == NC_STUCK)
			(*stuck)++;
	}
}

/* Start queued lookups, oldest first, while there is room. */
static void
pump(uint64_t now)
{
	unsigned queued, running, stuck, k;
	pthread_attr_t attr;
	pthread_t t;

	count(&queued, &running, &stuck);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	while (queued > 0 && running < NC_RUNNING_MAX && stuck < NC_STUCK_MAX) {
		struct nc_lookup *lk = NULL;
		size_t i;

		for (i = 0; i < NC_SLOTS; i++)
			if (nc_slot[i].st == NC_QUEUED && (lk == NULL || nc_slot[i].seq < lk->seq))
				lk = &nc_slot[i];
		queued--;
		lk->st = NC_RUNNING;
		lk->started_ms = now;
		lk->deadline_ms = now + nc_d->conf.lookup_timeout_ms;
		if (pthread_create(&t, &attr, lookup_thread, lk) != 0) {
			log_error("cannot start a thread to look up %s", lk->addr);
			for (k = 0; k < lk->nconn; k++)
				close(lk->conn[k].fd);
			release(lk);
			continue;
		}
		running++;
	}
	pthread_attr_destroy(&attr);
}

void
namecheck_submit(int fd, const struct sockaddr_storage *ss, socklen_t sl, const char *full,
    bool tls)
{
	unsigned char key[ALLOW_ADDR_KEY_LEN];
	struct nc_conn c = { .fd = fd, .tls = tls };
	struct nc_lookup *lk = NULL, *fresh = NULL;
	struct nc_cached *e;
	uint64_t now = now_ms();
	unsigned queued, running, stuck;
	size_t i;

	strlcpy_x(c.full, full, sizeof(c.full));
	if (allow_addr_key((const struct sockaddr *)ss, sl, key) != 0) {
		refuse(&c, NCV_NO_NAME, "", "");
		return;
	}
	if ((e = cache_find(nc_pos, NC_POS_CACHE, key, now)) != NULL ||
	    (e = cache_find(nc_neg, NC_NEG_CACHE, key, now)) != NULL) {
		char note[96];

		snprintf(note, sizeof(note), " (cached %llu s ago, for %d s)",
		    (unsigned long long)((now - e->at_ms) / 1000),
		    e->v == NCV_ALLOWED ? NC_POS_TTL_S : NC_NEG_TTL_S);
		decide(&c, e->v, e->name, note);
		return;
	}
	for (i = 0; i < NC_SLOTS; i++) {
		if (nc_slot[i].st == NC_FREE) {
			if (fresh == NULL)
				fresh = &nc_slot[i];
		} else if (memcmp(nc_slot[i].key, key, ALLOW_ADDR_KEY_LEN) == 0) {
			lk = &nc_slot[i];
		}
	}
	if (lk != NULL && lk->st == NC_STUCK) {
		/* Its refusal fell out of the cache: still one lookup per address. */
		refuse(&c, NCV_TIMED_OUT, "", " (its earlier lookup has not answered yet)");
		return;
	}
	if (lk != NULL) {
		if (lk->nconn >= NC_CONNS_PER_ADDR) {
			log_ratelimited(&nc_refuse_rl, 10, LOG_LVL_WARN, "refused relocation "
			    "connection from %s: %d connections from it already wait for its "
			    "host name lookup", full, NC_CONNS_PER_ADDR);
			close(fd);
			return;
		}
		lk->conn[lk->nconn++] = c;
		return;
	}
	count(&queued, &running, &stuck);
	if (fresh == NULL || queued >= NC_QUEUE_MAX) {
		log_ratelimited(&nc_refuse_rl, 10, LOG_LVL_WARN, "refused relocation connection "
		    "from %s: %u host name lookups running, %u stuck, %u waiting", full, running,
		    stuck, queued);
		close(fd);
		return;
	}
	memset(fresh, 0, sizeof(*fresh));
	fresh->st = NC_QUEUED;
	memcpy(fresh->key, key, sizeof(key));
	memcpy(&fresh->ss, ss, sizeof(*ss));
	fresh->sl = sl;
	strlcpy_x(fresh->addr, full, sizeof(fresh->addr));
	fresh->seq = ++nc_seq;
	fresh->deadline_ms = now + nc_d->conf.lookup_timeout_ms;
	fresh->conn[fresh->nconn++] = c;
	pump(now);
}

int
namecheck_run(void)
{
	char drain[64];
	uint64_t now, next = UINT64_MAX;
	size_t i;
	unsigned k;

	while (read(nc_pipe[0], drain, sizeof(drain)) > 0)
		;
	now = now_ms();
	for (i = 0; i < NC_SLOTS; i++) {
		struct nc_lookup *lk = &nc_slot[i];
		enum nc_verdict v;
		bool done;

		if (lk->st == NC_FREE)
			continue;
		pthread_mutex_lock(&nc_lock);
		done = lk->done;
		pthread_mutex_unlock(&nc_lock);
		if (done) {
			v = verdict_of(lk);
			if (lk->st == NC_STUCK)
				log_verbose("host name lookup of %s answered after %llu ms, past "
				    "relocation-hosts-lookup-timeout-ms", lk->addr,
				    (unsigned long long)(now - lk->started_ms));
			cache_put(lk->key, v, lk->name, now);
			for (k = 0; k < lk->nconn; k++)
				decide(&lk->conn[k], v, lk->name, "");
			release(lk);
		} else if (lk->st == NC_RUNNING && now >= lk->deadline_ms) {
			/* A rate limit of their own: a flood of cached refusals
			 * must not hide the lookups that ran out of time. */
			cache_put(lk->key, NCV_TIMED_OUT, "", now);
			for (k = 0; k < lk->nconn; k++) {
				log_ratelimited(&nc_timeout_rl, 10, LOG_LVL_WARN, "refused "
				    "relocation connection from %s: reverse lookup timed out after "
				    "%u ms (relocation-hosts-lookup-timeout-ms)", lk->conn[k].full,
				    nc_d->conf.lookup_timeout_ms);
				close(lk->conn[k].fd);
			}
			lk->nconn = 0;
			lk->st = NC_STUCK;
		}
	}
	/* Slots freed just now go to the queue before its waits run out. */
	pump(now);
	for (i = 0; i < NC_SLOTS; i++) {
		struct nc_lookup *lk = &nc_slot[i];

		if (lk->st == NC_QUEUED && now >= lk->deadline_ms) {
			/* Not the peer's doing: no refusal is cached. */
			for (k = 0; k < lk->nconn; k++)
				refuse(&lk->conn[k], NCV_TIMED_OUT, "", " (no lookup slot came free "
				    "in time: too many lookups pending)");
			release(lk);
		}
	}
	for (i = 0; i < NC_SLOTS; i++)
		if ((nc_slot[i].st == NC_QUEUED || nc_slot[i].st == NC_RUNNING) &&
		    nc_slot[i].deadline_ms < next)
			next = nc_slot[i].deadline_ms;
	if (next == UINT64_MAX)
		return -1;
	return next <= now ? 1 : next - now > 60000 ? 60000 : (int)(next - now);
}
