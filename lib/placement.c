/* placement.c - destination choice, evacuation and balance plans (pure). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "placement.h"

/* One planning run: a private copy of the hosts the plan updates as it goes,
 * and what every comparison needs. */
struct pl_ctx {
	const struct placement_cluster *c;
	const struct placement_opts *o;
	struct placement_host *h;	/* working copy of c->hosts */
	size_t *rank;			/* host index -> position in name order */
	size_t source;			/* never a destination (PLACEMENT_NO_HOST: none) */
	unsigned high_pct;		/* 0: capacity only (evacuation); else balance cap */
	bool incoming;			/* honour max_incoming (dispatch time only) */
};

static const struct placement_opts pl_no_opts;

static void __attribute__((format(printf, 2, 3)))
pl_why(char *buf, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, PLACEMENT_WHY_MAX, fmt, ap);
	va_end(ap);
}

double
placement_mem_pct(const struct placement_host *h)
{
	uint64_t used;

	if (h->mem_total == 0)
		return 0;
	used = h->mem_free < h->mem_total ? h->mem_total - h->mem_free : 0;
	return 100.0 * (double)used / (double)h->mem_total;
}

double
placement_vcpu_pct(const struct placement_host *h)
{
	return h->vcpus_total ? 100.0 * h->vcpus_used / h->vcpus_total : 0;
}

static int64_t
pl_used(const struct placement_host *h)
{
	return (int64_t)h->mem_total - (int64_t)h->mem_free;
}

/* Memory a host can still take: above its reserve and, when balancing, under
 * the high threshold.  Negative when already past either. */
static int64_t
pl_key(const struct pl_ctx *x, size_t i)
{
	const struct placement_host *h = &x->h[i];
	int64_t k = (int64_t)h->mem_free - (int64_t)h->reserve;

	if (x->high_pct) {
		int64_t cap = (int64_t)(h->mem_total * x->high_pct / 100) - pl_used(h);
		if (cap < k)
			k = cap;
	}
	return k;
}

/* vCPU load (used / total) of a against b, <0 when a is less loaded; exact
 * in integers so ties are real ties.  A host without vCPU accounting counts
 * as one slot, so it does not look idle for free. */
static int
pl_vload_cmp(const struct placement_host *a, const struct placement_host *b)
{
	uint64_t ta = a->vcpus_total ? a->vcpus_total : 1;
	uint64_t tb = b->vcpus_total ? b->vcpus_total : 1;
	uint64_t l = (uint64_t)a->vcpus_used * tb, r = (uint64_t)b->vcpus_used * ta;

	return l < r ? -1 : l > r;
}

/* Spread order: more headroom, then lower vCPU load, then name. */
static bool
pl_better(const struct pl_ctx *x, size_t a, size_t b)
{
	int64_t ka = pl_key(x, a), kb = pl_key(x, b);
	int v;

	if (ka != kb)
		return ka > kb;
	v = pl_vload_cmp(&x->h[a], &x->h[b]);
	if (v)
		return v < 0;
	return x->rank[a] < x->rank[b];
}

/* May receive at all, whatever the domain. */
static bool
pl_eligible(const struct pl_ctx *x, size_t i)
{
	const struct placement_host *h = &x->h[i];

	return i != x->source && h->state == PLACEMENT_ACTIVE && h->reachable &&
	    (!x->o->dest_allowed || x->o->dest_allowed[i]);
}

static bool
pl_compatible(const struct placement_host *h, const struct placement_domain *d)
{
	return (h->features & d->requires) == d->requires;
}

static bool
pl_vcpus_fit(const struct pl_ctx *x, const struct placement_host *h, const struct placement_domain *d)
{
	uint64_t after = (uint64_t)h->vcpus_used + d->vcpus;

	if (!h->vcpus_total)
		return true;
	if (x->o->vcpu_limit && after > h->vcpus_total)
		return false;
	if (x->high_pct && after * 100 > (uint64_t)h->vcpus_total * x->high_pct)
		return false;
	return true;
}

static bool
pl_incoming_ok(const struct pl_ctx *x, const struct placement_host *h)
{
	return !x->incoming || !h->max_incoming || h->incoming < h->max_incoming;
}

/* Eligibility aside: can host i take domain d now. */
static bool
pl_fits(const struct pl_ctx *x, size_t i, const struct placement_domain *d)
{
	return pl_key(x, i) >= (int64_t)d->mem && pl_compatible(&x->h[i], d) &&
	    pl_vcpus_fit(x, &x->h[i], d) && pl_incoming_ok(x, &x->h[i]);
}

static void
pl_take(struct placement_host *h, const struct placement_domain *d)
{
	h->mem_free = h->mem_free > d->mem ? h->mem_free - d->mem : 0;
	h->vcpus_used += d->vcpus;
}

static void
pl_give(struct placement_host *h, const struct placement_domain *d)
{
	h->mem_free += d->mem;
	h->vcpus_used = h->vcpus_used > d->vcpus ? h->vcpus_used - d->vcpus : 0;
}

/* The linear rule, used for a single choice and to explain a failed one in a
 * plan.  Counts why hosts were turned down so the reason names the binding
 * constraint. */
static void
pl_scan(const struct pl_ctx *x, const struct placement_domain *d, struct placement_choice *out)
{
	size_t maint = 0, prep = 0, unreach = 0, elig = 0, compat = 0, mem = 0, vcpu = 0;
	size_t best = PLACEMENT_NO_HOST, best_mem = PLACEMENT_NO_HOST, best_busy = PLACEMENT_NO_HOST;
	size_t i;

	out->status = PLACEMENT_NONE;
	out->host = PLACEMENT_NO_HOST;
	for (i = 0; i < x->c->nhosts; i++) {
		const struct placement_host *h = &x->h[i];

		if (i == x->source)
			continue;
		if (!pl_eligible(x, i)) {
			if (h->state == PLACEMENT_MAINTENANCE)
				maint++;
			else if (h->state == PLACEMENT_PREPARING)
				prep++;
			else if (!h->reachable)
				unreach++;
			continue;
		}
		elig++;
		if (!pl_compatible(h, d))
			continue;
		compat++;
		if (best_mem == PLACEMENT_NO_HOST || pl_better(x, i, best_mem))
			best_mem = i;
		if (pl_key(x, i) < (int64_t)d->mem)
			continue;
		mem++;
		if (!pl_vcpus_fit(x, h, d))
			continue;
		vcpu++;
		if (!pl_incoming_ok(x, h)) {
			if (best_busy == PLACEMENT_NO_HOST || pl_better(x, i, best_busy))
				best_busy = i;
			continue;
		}
		if (best == PLACEMENT_NO_HOST || pl_better(x, i, best))
			best = i;
	}
	if (best != PLACEMENT_NO_HOST) {
		out->status = PLACEMENT_OK;
		out->host = best;
		pl_why(out->why, "%s has the most free memory after placement (%lld MiB)",
		    x->h[best].name, (long long)(pl_key(x, best) - (int64_t)d->mem));
	} else if (best_busy != PLACEMENT_NO_HOST) {
		out->status = PLACEMENT_BUSY;
		pl_why(out->why, "all %zu peers that can take it are at their incoming limit (best: %s, %u/%u)",
		    vcpu, x->h[best_busy].name, x->h[best_busy].incoming, x->h[best_busy].max_incoming);
	} else if (!elig) {
		pl_why(out->why, "no active reachable peer (%zu in maintenance, %zu preparing, %zu unreachable)",
		    maint, prep, unreach);
	} else if (!compat) {
		pl_why(out->why, "none of %zu active peers offers the features it requires (0x%x)",
		    elig, (unsigned)d->requires);
	} else if (!mem) {
		int64_t k = pl_key(x, best_mem);

		if (x->high_pct)
			pl_why(out->why, "no active peer has %llu MiB free under %u%% and its reserve (best: %s with %lld MiB)",
			    (unsigned long long)d->mem, x->high_pct, x->h[best_mem].name,
			    (long long)(k > 0 ? k : 0));
		else
			pl_why(out->why, "no active peer has %llu MiB free above its reserve (best: %s with %lld MiB)",
			    (unsigned long long)d->mem, x->h[best_mem].name, (long long)(k > 0 ? k : 0));
	} else {
		pl_why(out->why, "none of %zu peers with %llu MiB free can take %u more vCPUs%s",
		    mem, (unsigned long long)d->mem, d->vcpus, x->high_pct ? " under the threshold" : "");
	}
}

/* Name order of hosts, computed once so comparisons in plans are O(1). */
struct pl_named {
	const char *name;
	size_t idx;
};

static int
pl_named_cmp(const void *a, const void *b)
{
	const struct pl_named *x = a, *y = b;
	int r = strcmp(x->name, y->name);

	if (r)
		return r;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static void
pl_ctx_free(struct pl_ctx *x)
{
	free(x->h);
	free(x->rank);
}

static int
pl_ctx_init(struct pl_ctx *x, const struct placement_cluster *c, const struct placement_opts *o)
{
	size_t i, n = c->nhosts ? c->nhosts : 1;
	struct pl_named *nm;

	memset(x, 0, sizeof(*x));
	x->c = c;
	x->o = o ? o : &pl_no_opts;
	x->source = PLACEMENT_NO_HOST;
	x->h = malloc(n * sizeof(*x->h));
	x->rank = malloc(n * sizeof(*x->rank));
	nm = malloc(n * sizeof(*nm));
	if (!x->h || !x->rank || !nm) {
		free(nm);
		pl_ctx_free(x);
		return -ENOMEM;
	}
	if (c->nhosts)
		memcpy(x->h, c->hosts, c->nhosts * sizeof(*x->h));
	for (i = 0; i < c->nhosts; i++)
		nm[i] = (struct pl_named){ c->hosts[i].name, i };
	qsort(nm, c->nhosts, sizeof(*nm), pl_named_cmp);
	for (i = 0; i < c->nhosts; i++)
		x->rank[nm[i].idx] = i;
	free(nm);
	return 0;
}

int
placement_choose_dest(const struct placement_cluster *c, size_t dom,
    const struct placement_opts *opts, struct placement_choice *out)
{
	struct pl_ctx x;
	const struct placement_domain *d;
	int r;

	if (!c || !out || dom >= c->ndoms)
		return -EINVAL;
	d = &c->doms[dom];
	out->status = PLACEMENT_NONE;
	out->host = PLACEMENT_NO_HOST;
	if (!d->migratable) {
		pl_why(out->why, "%s is not migratable", d->name);
		return out->status;
	}
	r = pl_ctx_init(&x, c, opts);
	if (r)
		return r;
	x.source = d->host;
	x.incoming = true;
	pl_scan(&x, d, out);
	pl_ctx_free(&x);
	return out->status;
}

/* ---- plans ---- */

/* arr with room for element n (doubling); NULL when out of memory, arr
 * untouched then. */
static void *
pl_grow(void *arr, size_t n, size_t *cap, size_t sz)
{
	size_t nc;
	void *p;

	if (n < *cap)
		return arr;
	nc = *cap ? *cap * 2 : 16;
	p = realloc(arr, nc * sz);
	if (p)
		*cap = nc;
	return p;
}

/* Capacities live next to the plan while it is built. */
struct pl_out {
	struct placement_plan *p;
	size_t mcap, lcap;
};

static struct placement_move *
pl_add_move(struct pl_out *w, size_t dom, size_t from, size_t to, enum placement_action a)
{
	struct placement_move *m = pl_grow(w->p->moves, w->p->nmoves, &w->mcap, sizeof(*m));

	if (!m)
		return NULL;
	w->p->moves = m;
	m = &w->p->moves[w->p->nmoves++];
	memset(m, 0, sizeof(*m));	/* plans compare byte for byte */
	m->dom = dom;
	m->from = from;
	m->to = to;
	m->action = a;
	return m;
}

static struct placement_left *
pl_add_left(struct pl_out *w, size_t dom, size_t host)
{
	struct placement_left *l = pl_grow(w->p->left, w->p->nleft, &w->lcap, sizeof(*l));

	if (!l)
		return NULL;
	w->p->left = l;
	l = &w->p->left[w->p->nleft++];
	memset(l, 0, sizeof(*l));
	l->dom = dom;
	l->host = host;
	return l;
}

void
placement_plan_free(struct placement_plan *plan)
{
	if (!plan)
		return;
	free(plan->moves);
	free(plan->left);
	free(plan->emptied);
	memset(plan, 0, sizeof(*plan));
}

/* Hosts that ran a domain before the plan and none after it. */
static int
pl_emptied(const struct placement_cluster *c, struct placement_plan *p)
{
	size_t *cnt = calloc(c->nhosts ? c->nhosts : 1, sizeof(*cnt));
	bool *had = calloc(c->nhosts ? c->nhosts : 1, sizeof(*had));
	size_t i, n = 0;

	if (!cnt || !had)
		goto nomem;
	for (i = 0; i < c->ndoms; i++)
		if (c->doms[i].host < c->nhosts) {
			cnt[c->doms[i].host]++;
			had[c->doms[i].host] = true;
		}
	for (i = 0; i < p->nmoves; i++) {
		cnt[p->moves[i].from]--;
		if (p->moves[i].to < c->nhosts)
			cnt[p->moves[i].to]++;
	}
	for (i = 0; i < c->nhosts; i++)
		n += had[i] && !cnt[i];
	p->emptied = malloc((n ? n : 1) * sizeof(*p->emptied));
	if (!p->emptied)
		goto nomem;
	for (i = 0; i < c->nhosts; i++)
		if (had[i] && !cnt[i])
			p->emptied[p->nemptied++] = i;
	free(cnt);
	free(had);
	return 0;
nomem:
	free(cnt);
	free(had);
	return -ENOMEM;
}

/* Max-heap of destinations in spread order.  A host's key only changes while
 * it is out of the heap (placement pops it first), so the order holds. */
struct pl_heap {
	size_t *a;
	size_t n;
	size_t *tmp;	/* hosts popped while looking for one that fits */
};

static void
pl_heap_up(const struct pl_ctx *x, struct pl_heap *hp, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2, t;

		if (!pl_better(x, hp->a[i], hp->a[p]))
			break;
		t = hp->a[i];
		hp->a[i] = hp->a[p];
		hp->a[p] = t;
		i = p;
	}
}

static void
pl_heap_down(const struct pl_ctx *x, struct pl_heap *hp, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i, t;

		if (l < hp->n && pl_better(x, hp->a[l], hp->a[m]))
			m = l;
		if (r < hp->n && pl_better(x, hp->a[r], hp->a[m]))
			m = r;
		if (m == i)
			return;
		t = hp->a[i];
		hp->a[i] = hp->a[m];
		hp->a[m] = t;
		i = m;
	}
}

static void
pl_heap_push(const struct pl_ctx *x, struct pl_heap *hp, size_t h)
{
	hp->a[hp->n++] = h;
	pl_heap_up(x, hp, hp->n - 1);
}

static size_t
pl_heap_pop(const struct pl_ctx *x, struct pl_heap *hp)
{
	size_t top = hp->a[0];

	hp->a[0] = hp->a[--hp->n];
	pl_heap_down(x, hp, 0);
	return top;
}

/* Safe to call twice and on a failed init. */
static void
pl_heap_free(struct pl_heap *hp)
{
	free(hp->a);
	free(hp->tmp);
	hp->a = hp->tmp = NULL;
	hp->n = 0;
}

/* fill: start with every eligible host; else empty (the caller pushes). */
static int
pl_heap_init(const struct pl_ctx *x, struct pl_heap *hp, bool fill)
{
	size_t i, n = x->c->nhosts ? x->c->nhosts : 1;

	hp->n = 0;
	hp->a = malloc(n * sizeof(*hp->a));
	hp->tmp = malloc(n * sizeof(*hp->tmp));
	if (!hp->a || !hp->tmp) {
		pl_heap_free(hp);
		return -ENOMEM;
	}
	for (i = 0; fill && i < x->c->nhosts; i++)
		if (pl_eligible(x, i))
			pl_heap_push(x, hp, i);
	return 0;
}

/* Place d on the best host that fits, as pl_scan() would choose, and charge
 * it there.  Pops in spread order until one fits; the first host with less
 * headroom than d ends the search, since every later one has less still. */
static size_t
pl_heap_place(struct pl_ctx *x, struct pl_heap *hp, const struct placement_domain *d)
{
	size_t k = 0, found = PLACEMENT_NO_HOST, i;

	while (hp->n && pl_key(x, hp->a[0]) >= (int64_t)d->mem) {
		size_t t = pl_heap_pop(x, hp);

		if (pl_fits(x, t, d)) {
			found = t;
			break;
		}
		hp->tmp[k++] = t;
	}
	for (i = 0; i < k; i++)
		pl_heap_push(x, hp, hp->tmp[i]);
	if (found != PLACEMENT_NO_HOST) {
		pl_take(&x->h[found], d);
		pl_heap_push(x, hp, found);
	}
	return found;
}

/* Domains of one host in plan order: largest memory, then vCPUs, then name. */
struct pl_dref {
	uint64_t mem;
	unsigned vcpus;
	const char *name;
	size_t idx;
};

static int
pl_dref_cmp(const void *a, const void *b)
{
	const struct pl_dref *x = a, *y = b;
	int r;

	if (x->mem != y->mem)
		return x->mem > y->mem ? -1 : 1;
	if (x->vcpus != y->vcpus)
		return x->vcpus > y->vcpus ? -1 : 1;
	r = strcmp(x->name, y->name);
	if (r)
		return r;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static struct pl_dref
pl_dref(const struct placement_cluster *c, size_t i)
{
	return (struct pl_dref){ c->doms[i].mem, c->doms[i].vcpus, c->doms[i].name, i };
}

int
placement_evacuate_plan(const struct placement_cluster *c, size_t source,
    const struct placement_opts *opts, struct placement_plan *plan)
{
	struct pl_ctx x;
	struct pl_heap hp;
	struct pl_out w = { .p = plan };
	struct pl_dref *list = NULL;
	size_t n = 0, i, npinned = 0;
	int r;

	if (!c || !plan || source >= c->nhosts)
		return -EINVAL;
	memset(plan, 0, sizeof(*plan));
	r = pl_ctx_init(&x, c, opts);
	if (r)
		return r;
	x.source = source;
	list = malloc((c->ndoms ? c->ndoms : 1) * sizeof(*list));
	if (!list || pl_heap_init(&x, &hp, true)) {
		free(list);
		pl_ctx_free(&x);
		return -ENOMEM;
	}
	for (i = 0; i < c->ndoms; i++)
		if (c->doms[i].host == source) {
			list[n++] = pl_dref(c, i);
			npinned += c->doms[i].pinned;
		}
	qsort(list, n, sizeof(*list), pl_dref_cmp);
	r = -ENOMEM;
	if (npinned && !x.o->shutdown_pinned) {
		/* Refuse before anything moves: an evacuation that cannot finish
		 * should not start shuffling domains. */
		plan->blocked = true;
		for (i = 0; i < n; i++) {
			const struct placement_domain *d = &c->doms[list[i].idx];
			struct placement_left *l;

			if (!d->pinned)
				continue;
			if (!(l = pl_add_left(&w, list[i].idx, source)))
				goto out;
			pl_why(l->why, "%s is pinned (automatic migration disabled): unpin it or use --shutdown-pinned",
			    d->name);
		}
		r = 0;
		goto out;
	}
	for (i = 0; i < n; i++) {
		const struct placement_domain *d = &c->doms[list[i].idx];
		struct placement_choice ch;
		struct placement_move *m;
		struct placement_left *l;
		size_t to;

		if (d->pinned)
			continue;
		if (!d->migratable) {
			if (!(l = pl_add_left(&w, list[i].idx, source)))
				goto out;
			pl_why(l->why, "%s is not migratable", d->name);
			continue;
		}
		to = pl_heap_place(&x, &hp, d);
		if (to == PLACEMENT_NO_HOST) {
			pl_scan(&x, d, &ch);
			if (!(l = pl_add_left(&w, list[i].idx, source)))
				goto out;
			memcpy(l->why, ch.why, sizeof(l->why));
			continue;
		}
		if (!(m = pl_add_move(&w, list[i].idx, source, to, PLACEMENT_MIGRATE)))
			goto out;
		pl_why(m->why, "evacuate %s: %s has the most free memory after placement (%lld MiB)",
		    x.h[source].name, x.h[to].name, (long long)pl_key(&x, to));
	}
	/* Pinned domains last: they keep running while the others leave. */
	for (i = 0; i < n; i++) {
		struct placement_move *m;

		if (!c->doms[list[i].idx].pinned)
			continue;
		if (!(m = pl_add_move(&w, list[i].idx, source, PLACEMENT_NO_HOST, PLACEMENT_SHUTDOWN)))
			goto out;
		pl_why(m->why, "%s is pinned: shut down cleanly (--shutdown-pinned)",
		    c->doms[list[i].idx].name);
	}
	r = pl_emptied(c, plan);
out:
	free(list);
	pl_heap_free(&hp);
	pl_ctx_free(&x);
	if (r)
		placement_plan_free(plan);
	return r;
}

/* ---- balance ---- */

/* Domains grouped by host (counting sort: O(hosts + domains)), each group in
 * plan order (largest first). */
struct pl_groups {
	size_t *start;	/* nhosts + 1 */
	struct pl_dref *d;
};

static void
pl_groups_free(struct pl_groups *g)
{
	free(g->start);
	free(g->d);
}

static int
pl_groups_init(const struct placement_cluster *c, struct pl_groups *g)
{
	size_t *pos;
	size_t i;

	g->start = calloc(c->nhosts + 1, sizeof(*g->start));
	g->d = malloc((c->ndoms ? c->ndoms : 1) * sizeof(*g->d));
	pos = malloc((c->nhosts + 1) * sizeof(*pos));
	if (!g->start || !g->d || !pos) {
		free(pos);
		pl_groups_free(g);
		return -ENOMEM;
	}
	for (i = 0; i < c->ndoms; i++)
		if (c->doms[i].host < c->nhosts)
			g->start[c->doms[i].host + 1]++;
	for (i = 0; i < c->nhosts; i++)
		g->start[i + 1] += g->start[i];
	memcpy(pos, g->start, (c->nhosts + 1) * sizeof(*pos));
	for (i = 0; i < c->ndoms; i++)
		if (c->doms[i].host < c->nhosts)
			g->d[pos[c->doms[i].host]++] = pl_dref(c, i);
	for (i = 0; i < c->nhosts; i++)
		qsort(g->d + g->start[i], g->start[i + 1] - g->start[i], sizeof(*g->d), pl_dref_cmp);
	free(pos);
	return 0;
}

static bool
pl_movable(const struct placement_domain *d)
{
	return !d->pinned && d->migratable;
}

/* Active and reachable: the hosts a balance looks at at all. */
static bool
pl_balanced(const struct placement_host *h)
{
	return h->state == PLACEMENT_ACTIVE && h->reachable;
}

/* How far past the high threshold a host is, in MiB and vCPUs (0 = under). */
static void
pl_excess(const struct pl_ctx *x, size_t i, uint64_t *mem, uint64_t *vcpus)
{
	const struct placement_host *h = &x->h[i];
	int64_t m = pl_used(h) - (int64_t)(h->mem_total * x->high_pct / 100);
	uint64_t vcap = (uint64_t)h->vcpus_total * x->high_pct / 100;

	*mem = m > 0 ? (uint64_t)m : 0;
	*vcpus = h->vcpus_total && h->vcpus_used > vcap ? h->vcpus_used - vcap : 0;
}

struct pl_hload {
	double load;	/* max(memory %, vCPU %) */
	size_t rank, idx;
};

static int
pl_hload_desc(const void *a, const void *b)
{
	const struct pl_hload *x = a, *y = b;

	if (x->load != y->load)
		return x->load > y->load ? -1 : 1;
	return x->rank < y->rank ? -1 : x->rank > y->rank;
}

static int
pl_hload_asc(const void *a, const void *b)
{
	const struct pl_hload *x = a, *y = b;

	if (x->load != y->load)
		return x->load < y->load ? -1 : 1;
	return x->rank < y->rank ? -1 : x->rank > y->rank;
}

static double
pl_load(const struct placement_host *h)
{
	double m = placement_mem_pct(h), v = placement_vcpu_pct(h);

	return m > v ? m : v;
}

/* even: shed from each host above the threshold, most loaded first. */
static int
pl_even(struct pl_ctx *x, const struct pl_groups *g, size_t max_moves, struct pl_out *w)
{
	const struct placement_cluster *c = x->c;
	struct pl_heap hp = { 0 };
	struct pl_hload *over;
	unsigned char *tried;
	size_t nover = 0, i;
	int r = -ENOMEM;

	over = malloc((c->nhosts ? c->nhosts : 1) * sizeof(*over));
	tried = calloc(c->ndoms ? c->ndoms : 1, 1);
	if (!over || !tried || pl_heap_init(x, &hp, false))
		goto out;
	/* Hosts over the threshold give, the others may take. */
	for (i = 0; i < c->nhosts; i++) {
		uint64_t em, ev;

		if (!pl_balanced(&x->h[i]))
			continue;
		pl_excess(x, i, &em, &ev);
		if (em || ev)
			over[nover++] = (struct pl_hload){ pl_load(&x->h[i]), x->rank[i], i };
		else if (pl_eligible(x, i))
			pl_heap_push(x, &hp, i);
	}
	qsort(over, nover, sizeof(*over), pl_hload_desc);
	for (i = 0; i < nover; i++) {
		size_t s = over[i].idx, lo = g->start[s], hi = g->start[s + 1];
		double mem0 = placement_mem_pct(&x->h[s]), vcpu0 = placement_vcpu_pct(&x->h[s]);
		uint64_t em, ev;

		for (pl_excess(x, s, &em, &ev); em || ev; pl_excess(x, s, &em, &ev)) {
			const struct placement_domain *d;
			struct placement_move *m;
			size_t j, pick = PLACEMENT_NO_HOST, to;

			if (max_moves && w->p->nmoves >= max_moves)
				break;
			/* Fewest moves: one domain that covers the whole excess if
			 * any (the smallest such: least to copy); else the largest
			 * in the dimension that is over, and look again. */
			for (j = hi; j-- > lo;) {
				d = &c->doms[g->d[j].idx];
				if (!tried[g->d[j].idx] && pl_movable(d) && d->mem >= em && d->vcpus >= ev) {
					pick = j;
					break;
				}
			}
			if (pick == PLACEMENT_NO_HOST)
				for (j = lo; j < hi; j++) {
					d = &c->doms[g->d[j].idx];
					if (tried[g->d[j].idx] || !pl_movable(d))
						continue;
					if (pick == PLACEMENT_NO_HOST ||
					    (!em && d->vcpus > c->doms[g->d[pick].idx].vcpus))
						pick = j;
				}
			if (pick == PLACEMENT_NO_HOST)
				break;
			/* A domain that fits nowhere now fits nowhere later either:
			 * destinations only fill up. */
			tried[g->d[pick].idx] = 1;
			d = &c->doms[g->d[pick].idx];
			to = pl_heap_place(x, &hp, d);
			if (to == PLACEMENT_NO_HOST)
				continue;
			pl_give(&x->h[s], d);
			if (!(m = pl_add_move(w, g->d[pick].idx, s, to, PLACEMENT_MIGRATE)))
				goto out;
			pl_why(m->why, "%s above %u%% (memory %.0f%%, vCPU %.0f%%): %s has the most headroom (memory %.0f%% after)",
			    x->h[s].name, x->high_pct, mem0, vcpu0, x->h[to].name, placement_mem_pct(&x->h[to]));
		}
		if (em || ev) {
			struct placement_left *l = pl_add_left(w, PLACEMENT_NO_HOST, s);

			if (!l)
				goto out;
			pl_why(l->why, "%s stays above %u%% (memory %.0f%%, vCPU %.0f%%): %s",
			    x->h[s].name, x->high_pct, placement_mem_pct(&x->h[s]), placement_vcpu_pct(&x->h[s]),
			    max_moves && w->p->nmoves >= max_moves ? "move budget used up" :
			    "no peer can take enough of its domains and stay under");
		} else if (pl_eligible(x, s)) {
			/* Now under: it may take from the hosts still to come. */
			pl_heap_push(x, &hp, s);
		}
	}
	r = 0;
out:
	pl_heap_free(&hp);
	free(over);
	free(tried);
	return r;
}

/* power-saving destinations: hosts in use sorted by headroom ascending (best
 * fit = the first that is large enough), then name.  A sorted array: insert
 * and remove are a memmove over at most nhosts entries. */
struct pl_fit {
	size_t *a;
	size_t n;
};

static bool
pl_fit_before(const struct pl_ctx *x, size_t a, size_t b)
{
	int64_t ka = pl_key(x, a), kb = pl_key(x, b);

	return ka != kb ? ka < kb : x->rank[a] < x->rank[b];
}

/* First position whose host does not sort before h (or has key >= mem when
 * h is PLACEMENT_NO_HOST). */
static size_t
pl_fit_lower(const struct pl_ctx *x, const struct pl_fit *f, size_t h, int64_t mem)
{
	size_t lo = 0, hi = f->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		bool before = h == PLACEMENT_NO_HOST ? pl_key(x, f->a[mid]) < mem :
		    pl_fit_before(x, f->a[mid], h);

		if (before)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void
pl_fit_insert(const struct pl_ctx *x, struct pl_fit *f, size_t h)
{
	size_t p = pl_fit_lower(x, f, h, 0);

	memmove(f->a + p + 1, f->a + p, (f->n - p) * sizeof(*f->a));
	f->a[p] = h;
	f->n++;
}

static void
pl_fit_remove(const struct pl_ctx *x, struct pl_fit *f, size_t h)
{
	size_t p = pl_fit_lower(x, f, h, 0);

	if (p < f->n && f->a[p] == h) {
		memmove(f->a + p, f->a + p + 1, (f->n - p - 1) * sizeof(*f->a));
		f->n--;
	}
}

/* power-saving: empty the least loaded hosts, packing their domains. */
static int
pl_power(struct pl_ctx *x, const struct pl_groups *g, unsigned low_pct, size_t max_moves,
    struct pl_out *w)
{
	const struct placement_cluster *c = x->c;
	struct pl_fit f = { 0 };
	struct pl_hload *cand;
	size_t *undo;		/* destinations of the host being emptied */
	unsigned char *received;
	size_t ncand = 0, i;
	int r = -ENOMEM;

	cand = malloc((c->nhosts ? c->nhosts : 1) * sizeof(*cand));
	f.a = malloc((c->nhosts ? c->nhosts : 1) * sizeof(*f.a));
	undo = malloc((c->ndoms ? c->ndoms : 1) * sizeof(*undo));
	received = calloc(c->nhosts ? c->nhosts : 1, 1);
	if (!cand || !f.a || !undo || !received)
		goto out;
	for (i = 0; i < c->nhosts; i++) {
		if (!pl_balanced(&x->h[i]) || g->start[i] == g->start[i + 1])
			continue;	/* idle hosts are already what we want */
		if (pl_eligible(x, i))
			pl_fit_insert(x, &f, i);
		if (pl_load(&x->h[i]) < low_pct)
			cand[ncand++] = (struct pl_hload){ pl_load(&x->h[i]), x->rank[i], i };
	}
	qsort(cand, ncand, sizeof(*cand), pl_hload_asc);
	for (i = 0; i < ncand; i++) {
		size_t s = cand[i].idx, lo = g->start[s], hi = g->start[s + 1], j, k;
		double load0 = pl_load(&x->h[s]);
		const struct placement_domain *fail = NULL;
		struct placement_left *l;

		if (received[s])
			continue;	/* took domains from a less loaded host: keep it */
		for (j = lo; j < hi && !fail; j++)
			if (!pl_movable(&c->doms[g->d[j].idx]))
				fail = &c->doms[g->d[j].idx];
		if (fail) {
			if (!(l = pl_add_left(w, PLACEMENT_NO_HOST, s)))
				goto out;
			pl_why(l->why, "%s not emptied: %s is %s", x->h[s].name, fail->name,
			    fail->pinned ? "pinned" : "not migratable");
			continue;
		}
		if (max_moves && w->p->nmoves + (hi - lo) > max_moves) {
			if (!(l = pl_add_left(w, PLACEMENT_NO_HOST, s)))
				goto out;
			pl_why(l->why, "%s not emptied: %zu moves exceed the move budget",
			    x->h[s].name, hi - lo);
			continue;
		}
		pl_fit_remove(x, &f, s);
		for (j = lo; j < hi; j++) {
			const struct placement_domain *d = &c->doms[g->d[j].idx];
			size_t p = pl_fit_lower(x, &f, PLACEMENT_NO_HOST, (int64_t)d->mem), t;

			while (p < f.n && !pl_fits(x, f.a[p], d))
				p++;
			if (p == f.n) {
				fail = d;
				break;
			}
			t = f.a[p];
			pl_fit_remove(x, &f, t);
			pl_take(&x->h[t], d);
			pl_fit_insert(x, &f, t);
			undo[j - lo] = t;
		}
		if (fail) {
			/* All or nothing: a half-emptied host saves no power. */
			for (k = j - lo; k-- > 0;) {
				size_t t = undo[k];

				pl_fit_remove(x, &f, t);
				pl_give(&x->h[t], &c->doms[g->d[lo + k].idx]);
				pl_fit_insert(x, &f, t);
			}
			if (pl_eligible(x, s))
				pl_fit_insert(x, &f, s);
			if (!(l = pl_add_left(w, PLACEMENT_NO_HOST, s)))
				goto out;
			pl_why(l->why, "%s not emptied: %s (%llu MiB, %u vCPUs) fits on no host in use under %u%%",
			    x->h[s].name, fail->name, (unsigned long long)fail->mem, fail->vcpus, x->high_pct);
			continue;
		}
		for (j = lo; j < hi; j++) {
			size_t t = undo[j - lo];
			struct placement_move *m = pl_add_move(w, g->d[j].idx, s, t, PLACEMENT_MIGRATE);

			if (!m)
				goto out;
			received[t] = 1;
			pl_give(&x->h[s], &c->doms[g->d[j].idx]);
			pl_why(m->why, "empty %s (load %.0f%% < %u%%): pack onto %s (memory %.0f%% now)",
			    x->h[s].name, load0, low_pct, x->h[t].name, placement_mem_pct(&x->h[t]));
		}
	}
	r = 0;
out:
	free(cand);
	free(f.a);
	free(undo);
	free(received);
	return r;
}

int
placement_balance_plan(const struct placement_cluster *c, enum placement_policy policy,
    const struct placement_thresholds *th, size_t max_moves,
    const struct placement_opts *opts, struct placement_plan *plan)
{
	struct placement_thresholds t = { PLACEMENT_DEFAULT_HIGH_PCT, PLACEMENT_DEFAULT_LOW_PCT };
	struct pl_ctx x;
	struct pl_groups g;
	struct pl_out w = { .p = plan };
	int r;

	if (!c || !plan)
		return -EINVAL;
	if (th)
		t = *th;
	if (!t.high_pct || t.high_pct > 100 || t.low_pct >= t.high_pct ||
	    (policy != PLACEMENT_POLICY_EVEN && policy != PLACEMENT_POLICY_POWER_SAVING))
		return -EINVAL;
	memset(plan, 0, sizeof(*plan));
	r = pl_ctx_init(&x, c, opts);
	if (r)
		return r;
	x.high_pct = t.high_pct;
	r = pl_groups_init(c, &g);
	if (r) {
		pl_ctx_free(&x);
		return r;
	}
	if (policy == PLACEMENT_POLICY_EVEN)
		r = pl_even(&x, &g, max_moves, &w);
	else
		r = pl_power(&x, &g, t.low_pct, max_moves, &w);
	if (!r)
		r = pl_emptied(c, plan);
	pl_groups_free(&g);
	pl_ctx_free(&x);
	if (r)
		placement_plan_free(plan);
	return r;
}

int
placement_move_check(const struct placement_cluster *c, size_t dom, size_t to,
    const struct placement_thresholds *th, struct placement_choice *out)
{
	const struct placement_domain *d;
	const struct placement_host *h;
	unsigned high = th ? th->high_pct : 0;
	int64_t used, free_after;

	if (!c || !out || dom >= c->ndoms || to >= c->nhosts)
		return -EINVAL;
	d = &c->doms[dom];
	h = &c->hosts[to];
	out->host = PLACEMENT_NO_HOST;
	out->why[0] = '\0';
	out->status = PLACEMENT_NONE;
	used = pl_used(h);
	free_after = (int64_t)h->mem_free - (int64_t)d->mem;
	if (d->host == to)
		pl_why(out->why, "%s is already on %s", d->name, h->name);
	else if (!h->reachable)
		pl_why(out->why, "%s does not answer", h->name);
	else if (h->state != PLACEMENT_ACTIVE)
		pl_why(out->why, "%s is %s", h->name, placement_host_state_str(h->state));
	else if (!pl_compatible(h, d))
		pl_why(out->why, "%s lacks the features it requires (0x%x)", h->name,
		    (unsigned)(d->requires & ~h->features));
	else if (free_after < (int64_t)h->reserve)
		pl_why(out->why, "%s would keep %lld MiB free, under its reserve of %llu MiB",
		    h->name, (long long)free_after, (unsigned long long)h->reserve);
	else if (high && h->mem_total &&
	    (uint64_t)(used + (int64_t)d->mem) * 100 > h->mem_total * high)
		pl_why(out->why, "%s would be at %.0f%% memory, above %u%%", h->name,
		    100.0 * (double)(used + (int64_t)d->mem) / (double)h->mem_total, high);
	else if (high && h->vcpus_total &&
	    ((uint64_t)h->vcpus_used + d->vcpus) * 100 > (uint64_t)h->vcpus_total * high)
		pl_why(out->why, "%s would be at %.0f%% vCPU, above %u%%", h->name,
		    100.0 * ((double)h->vcpus_used + d->vcpus) / h->vcpus_total, high);
	else if (h->max_incoming && h->incoming >= h->max_incoming) {
		out->status = PLACEMENT_BUSY;
		pl_why(out->why, "%s is at its limit of %u incoming migrations", h->name,
		    h->max_incoming);
	} else {
		out->status = PLACEMENT_OK;
		out->host = to;
	}
	return out->status;
}

int
placement_plan_split(const struct placement_cluster *c, const struct placement_plan *plan,
    size_t host, const struct placement_thresholds *th, enum placement_run *run,
    char (*why)[PLACEMENT_WHY_MAX])
{
	struct placement_cluster w;
	size_t i;

	if (!c || !plan || !run || host >= c->nhosts)
		return -EINVAL;
	for (i = 0; i < plan->nmoves; i++)
		if (plan->moves[i].dom >= c->ndoms || plan->moves[i].from >= c->nhosts ||
		    plan->moves[i].to >= c->nhosts)
			return -EINVAL;
	w.nhosts = c->nhosts;
	w.ndoms = c->ndoms;
	w.hosts = malloc((c->nhosts ? c->nhosts : 1) * sizeof(*w.hosts));
	w.doms = malloc((c->ndoms ? c->ndoms : 1) * sizeof(*w.doms));
	if (!w.hosts || !w.doms) {
		free(w.hosts);
		free(w.doms);
		return -ENOMEM;
	}
	memcpy(w.hosts, c->hosts, c->nhosts * sizeof(*w.hosts));
	memcpy(w.doms, c->doms, c->ndoms * sizeof(*w.doms));
	for (i = 0; i < w.nhosts; i++)
		w.hosts[i].incoming = 0;
	for (i = 0; i < plan->nmoves; i++) {
		const struct placement_move *m = &plan->moves[i];
		struct placement_choice ch;

		if (why)
			why[i][0] = '\0';
		if (m->from != host) {
			run[i] = PLACEMENT_RUN_OTHER_HOST;
		} else if (placement_move_check(&w, m->dom, m->to, th, &ch) != PLACEMENT_OK) {
			run[i] = PLACEMENT_RUN_HELD;
			if (why)
				memcpy(why[i], ch.why, PLACEMENT_WHY_MAX);
		} else {
			run[i] = PLACEMENT_RUN_HERE;
			placement_apply(&w, m->dom, m->to);
		}
	}
	free(w.hosts);
	free(w.doms);
	return 0;
}

/* ---- helpers ---- */

void
placement_apply(struct placement_cluster *c, size_t dom, size_t to)
{
	struct placement_domain *d;

	if (!c || dom >= c->ndoms)
		return;
	d = &c->doms[dom];
	if (d->host < c->nhosts)
		pl_give(&c->hosts[d->host], d);
	if (to < c->nhosts)
		pl_take(&c->hosts[to], d);
	d->host = to < c->nhosts ? to : PLACEMENT_NO_HOST;
}

void
placement_plan_apply(struct placement_cluster *c, const struct placement_plan *plan)
{
	size_t i;

	for (i = 0; i < plan->nmoves; i++)
		placement_apply(c, plan->moves[i].dom, plan->moves[i].to);
}

/* Square root by Newton's method: the spread is the only use, and this keeps
 * the module free of libm for every binary that links the daemon's objects. */
static double
pl_sqrt(double v)
{
	double r = v > 1 ? v : 1;
	int i;

	if (v <= 0)
		return 0;
	for (i = 0; i < 64; i++) {
		double n = 0.5 * (r + v / r);

		if (n >= r)
			break;
		r = n;
	}
	return r;
}

void
placement_spread(const struct placement_cluster *c, const struct placement_thresholds *th,
    struct placement_spread *out)
{
	double ms = 0, mss = 0, vs = 0, vss = 0;
	size_t nv = 0, i;
	bool *used;

	memset(out, 0, sizeof(*out));
	used = calloc(c->nhosts ? c->nhosts : 1, sizeof(*used));
	for (i = 0; used && i < c->ndoms; i++)
		if (c->doms[i].host < c->nhosts)
			used[c->doms[i].host] = true;
	for (i = 0; i < c->nhosts; i++) {
		const struct placement_host *h = &c->hosts[i];
		double m = placement_mem_pct(h), v = placement_vcpu_pct(h);

		if (h->state != PLACEMENT_ACTIVE || !h->mem_total)
			continue;
		if (!out->hosts || m < out->mem_min)
			out->mem_min = m;
		if (!out->hosts || m > out->mem_max)
			out->mem_max = m;
		out->hosts++;
		out->in_use += used && used[i];
		ms += m;
		mss += m * m;
		if (h->vcpus_total) {
			if (!nv || v < out->vcpu_min)
				out->vcpu_min = v;
			if (!nv || v > out->vcpu_max)
				out->vcpu_max = v;
			nv++;
			vs += v;
			vss += v * v;
		}
		if (th && th->high_pct && (m > th->high_pct || v > th->high_pct))
			out->over_high++;
	}
	free(used);
	if (out->hosts) {
		out->mem_mean = ms / out->hosts;
		out->mem_stddev = pl_sqrt(mss / out->hosts - out->mem_mean * out->mem_mean);
	}
	if (nv) {
		out->vcpu_mean = vs / nv;
		out->vcpu_stddev = pl_sqrt(vss / nv - out->vcpu_mean * out->vcpu_mean);
	}
}

int
placement_policy_parse(const char *s, enum placement_policy *out)
{
	if (s && !strcmp(s, "even"))
		*out = PLACEMENT_POLICY_EVEN;
	else if (s && !strcmp(s, "power-saving"))
		*out = PLACEMENT_POLICY_POWER_SAVING;
	else
		return -EINVAL;
	return 0;
}

const char *
placement_policy_str(enum placement_policy p)
{
	return p == PLACEMENT_POLICY_POWER_SAVING ? "power-saving" : "even";
}

const char *
placement_host_state_str(enum placement_host_state s)
{
	switch (s) {
	case PLACEMENT_ACTIVE:
		return "active";
	case PLACEMENT_PREPARING:
		return "preparing-for-maintenance";
	case PLACEMENT_MAINTENANCE:
		return "maintenance";
	}
	return "?";
}
