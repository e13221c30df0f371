/* placesim.c - the placement module on a synthetic cluster (issue 6).
 *
 * Generates hosts and domains of mixed sizes from a seed, then runs what the
 * daemon would: evacuations of a few hosts (maintenance), an "even" balance
 * after skewing the load onto some hosts, and a "power-saving" plan.  Each
 * plan is applied to the picture and checked (no destination below its
 * reserve or, for balance, above the high threshold; no pinned domain moved)
 * so the figures are of plans that are valid, not just fast.
 *
 *   xmig-placesim [--hosts N] [--domains N] [--seed N] [--evacuate N]
 *                 [--skew PCT] [--high PCT] [--low PCT] [--max-moves N] [--json]
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "placement.h"

#define GIB 1024ULL

struct placesim_cfg {
	size_t hosts, domains, evacuate, max_moves;
	unsigned skew_pct, high_pct, low_pct;
	uint64_t seed;
	bool json;
};

/* splitmix64: small, seedable, the same sequence everywhere. */
static uint64_t
placesim_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static size_t
placesim_below(uint64_t *s, size_t n)
{
	return n ? (size_t)(placesim_rand(s) % n) : 0;
}

static double
placesim_ms(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

/* Host shapes and domain sizes: a mix like a real estate, mostly small
 * guests with a tail of large ones (mean about 5.8 GiB, 2.2 vCPUs). */
static const struct { uint64_t mem; unsigned vcpus; } placesim_host_shape[] = {
	{ 256 * GIB, 128 }, { 384 * GIB, 192 }, { 512 * GIB, 256 },
};
static const struct { uint64_t mem; unsigned vcpus, weight; } placesim_dom_shape[] = {
	{ 1 * GIB, 1, 30 }, { 2 * GIB, 1, 25 }, { 4 * GIB, 2, 20 }, { 8 * GIB, 4, 12 },
	{ 16 * GIB, 4, 8 }, { 32 * GIB, 8, 4 }, { 64 * GIB, 16, 1 },
};
#define PLACESIM_DOM0 (4 * GIB)		/* used by dom0 on every host */
#define PLACESIM_RESERVE (2 * GIB)
#define PLACESIM_FEATURE_AVX512 1u	/* 90 % of hosts; 5 % of domains need it */

static int
placesim_generate(const struct placesim_cfg *cfg, struct placement_cluster *c)
{
	uint64_t s = cfg->seed;
	size_t i, k;

	c->nhosts = cfg->hosts;
	c->ndoms = cfg->domains;
	c->hosts = calloc(c->nhosts ? c->nhosts : 1, sizeof(*c->hosts));
	c->doms = calloc(c->ndoms ? c->ndoms : 1, sizeof(*c->doms));
	if (!c->hosts || !c->doms)
		return -ENOMEM;
	for (i = 0; i < c->nhosts; i++) {
		struct placement_host *h = &c->hosts[i];
		size_t sh = placesim_below(&s, 3);

		snprintf(h->name, sizeof(h->name), "host%04zu", i);
		h->mem_total = placesim_host_shape[sh].mem;
		h->mem_free = h->mem_total - PLACESIM_DOM0;
		h->reserve = PLACESIM_RESERVE;
		h->vcpus_total = placesim_host_shape[sh].vcpus;
		h->reachable = true;
		h->features = placesim_below(&s, 10) ? PLACESIM_FEATURE_AVX512 : 0;
		h->max_incoming = 1;
	}
	for (i = 0; i < c->ndoms; i++) {
		struct placement_domain *d = &c->doms[i];
		unsigned w = (unsigned)placesim_below(&s, 100);

		for (k = 0; w >= placesim_dom_shape[k].weight; k++)
			w -= placesim_dom_shape[k].weight;
		snprintf(d->name, sizeof(d->name), "vm%05zu", i);
		d->mem = placesim_dom_shape[k].mem;
		d->vcpus = placesim_dom_shape[k].vcpus;
		d->migratable = placesim_below(&s, 200) != 0;
		d->pinned = placesim_below(&s, 100) == 0;
		d->requires = placesim_below(&s, 20) == 0 ? PLACESIM_FEATURE_AVX512 : 0;
		d->host = PLACEMENT_NO_HOST;
		/* Where it happens to have been started: a random host with room
		 * and the features it needs (uniform, so the spread is uneven). */
		for (k = 0; k < 64; k++) {
			size_t t = placesim_below(&s, c->nhosts);
			const struct placement_host *h = &c->hosts[t];

			if (h->mem_free >= d->mem + h->reserve && (h->features & d->requires) == d->requires) {
				placement_apply(c, i, t);
				break;
			}
		}
	}
	return 0;
}

/* Validity of a plan on the picture before it, then applies it. */
static size_t
placesim_apply_checked(struct placement_cluster *c, const struct placement_plan *p, unsigned high_pct)
{
	size_t bad = 0, i;

	for (i = 0; i < p->nmoves; i++) {
		const struct placement_move *m = &p->moves[i];
		const struct placement_domain *d = &c->doms[m->dom];

		if (d->host != m->from)
			bad++;
		if (m->action == PLACEMENT_MIGRATE) {
			const struct placement_host *h = &c->hosts[m->to];

			if (d->pinned || !d->migratable || (h->features & d->requires) != d->requires ||
			    h->state != PLACEMENT_ACTIVE || h->mem_free < d->mem + h->reserve)
				bad++;
		}
		placement_apply(c, m->dom, m->to);
		if (high_pct && m->action == PLACEMENT_MIGRATE &&
		    (placement_mem_pct(&c->hosts[m->to]) > high_pct ||
		    placement_vcpu_pct(&c->hosts[m->to]) > high_pct))
			bad++;
	}
	return bad;
}

/* Load some hosts up to ~95 % memory with domains from the others, as if
 * they had been started there over time. */
static size_t
placesim_skew(const struct placesim_cfg *cfg, struct placement_cluster *c, uint64_t *s)
{
	size_t nhot = c->nhosts * cfg->skew_pct / 100, moved = 0, i, tries;
	unsigned char *hot = calloc(c->nhosts ? c->nhosts : 1, 1);

	if (!hot)
		return 0;
	for (i = 0; i < nhot; i++)
		hot[placesim_below(s, c->nhosts)] = 1;
	for (i = 0; i < c->nhosts; i++) {
		struct placement_host *h = &c->hosts[i];

		if (!hot[i] || h->state != PLACEMENT_ACTIVE)
			continue;
		for (tries = 0; placement_mem_pct(h) < 95 && tries < 10000; tries++) {
			size_t di = placesim_below(s, c->ndoms);
			const struct placement_domain *d = &c->doms[di];

			if (d->host >= c->nhosts || hot[d->host] || d->pinned ||
			    c->hosts[d->host].state != PLACEMENT_ACTIVE ||
			    h->mem_free < d->mem + h->reserve || (h->features & d->requires) != d->requires)
				continue;
			placement_apply(c, di, i);
			moved++;
		}
	}
	free(hot);
	return moved;
}

static int
placesim_desc_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x > y ? -1 : x < y;
}

/* Fewest moves "even" could need: for each host over the threshold, the
 * number of its largest movable domains needed to cover the excess, in
 * memory and in vCPUs (no smaller set can).  The plan's count is compared
 * with this. */
static size_t
placesim_even_bound(const struct placement_cluster *c, unsigned high_pct)
{
	uint64_t *mem = malloc((c->ndoms ? c->ndoms : 1) * sizeof(*mem));
	uint64_t *vc = malloc((c->ndoms ? c->ndoms : 1) * sizeof(*vc));
	size_t bound = 0, h, i;

	for (h = 0; mem && vc && h < c->nhosts; h++) {
		const struct placement_host *ho = &c->hosts[h];
		uint64_t used = ho->mem_total - ho->mem_free, cap = ho->mem_total * high_pct / 100;
		uint64_t vcap = (uint64_t)ho->vcpus_total * high_pct / 100, sum;
		size_t n = 0, km = 0, kv = 0;

		if (ho->state != PLACEMENT_ACTIVE || !ho->reachable ||
		    (used <= cap && ho->vcpus_used <= vcap))
			continue;
		for (i = 0; i < c->ndoms; i++)
			if (c->doms[i].host == h && !c->doms[i].pinned && c->doms[i].migratable) {
				mem[n] = c->doms[i].mem;
				vc[n++] = c->doms[i].vcpus;
			}
		qsort(mem, n, sizeof(*mem), placesim_desc_u64);
		qsort(vc, n, sizeof(*vc), placesim_desc_u64);
		for (sum = 0; used > cap && km < n && used - sum > cap; km++)
			sum += mem[km];
		for (sum = 0; ho->vcpus_used > vcap && kv < n && ho->vcpus_used - sum > vcap; kv++)
			sum += vc[kv];
		bound += km > kv ? km : kv;
	}
	free(mem);
	free(vc);
	return bound;
}

static void
placesim_spread_json(const char *key, const struct placement_spread *sp, const char *end)
{
	printf("\"%s\": {\"hosts\": %zu, \"in_use\": %zu, \"mem_min\": %.2f, \"mem_max\": %.2f, "
	    "\"mem_mean\": %.2f, \"mem_stddev\": %.2f, \"vcpu_min\": %.2f, \"vcpu_max\": %.2f, "
	    "\"vcpu_stddev\": %.2f, \"over_high\": %zu}%s",
	    key, sp->hosts, sp->in_use, sp->mem_min, sp->mem_max, sp->mem_mean, sp->mem_stddev,
	    sp->vcpu_min, sp->vcpu_max, sp->vcpu_stddev, sp->over_high, end);
}

static void
placesim_spread_text(const char *what, const struct placement_spread *sp)
{
	printf("  %-22s memory %5.1f..%5.1f%% (mean %4.1f, stddev %4.1f)  vCPU %5.1f..%5.1f%%  "
	    "in use %zu/%zu  over high %zu\n",
	    what, sp->mem_min, sp->mem_max, sp->mem_mean, sp->mem_stddev, sp->vcpu_min, sp->vcpu_max,
	    sp->in_use, sp->hosts, sp->over_high);
}

struct placesim_evac {
	size_t host, domains, moves, shutdowns, left;
	double ms;
};

static size_t
placesim_count_on(const struct placement_cluster *c, size_t h)
{
	size_t n = 0, i;

	for (i = 0; i < c->ndoms; i++)
		n += c->doms[i].host == h;
	return n;
}

static void
placesim_usage(FILE *f)
{
	fprintf(f, "usage: xmig-placesim [--hosts N] [--domains N] [--seed N] [--evacuate N]\n"
	    "                     [--skew PCT] [--high PCT] [--low PCT] [--max-moves N] [--json]\n");
}

static int
placesim_num(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || v > max || *s == '-')
		return -1;
	*out = v;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "hosts", required_argument, NULL, 'H' }, { "domains", required_argument, NULL, 'D' },
		{ "seed", required_argument, NULL, 's' }, { "evacuate", required_argument, NULL, 'e' },
		{ "skew", required_argument, NULL, 'k' }, { "high", required_argument, NULL, 'h' },
		{ "low", required_argument, NULL, 'l' }, { "max-moves", required_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'j' }, { "help", no_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 },
	};
	struct placesim_cfg cfg = {
		.hosts = 1000, .domains = 20000, .evacuate = 5, .skew_pct = 10,
		.high_pct = PLACEMENT_DEFAULT_HIGH_PCT, .low_pct = PLACEMENT_DEFAULT_LOW_PCT, .seed = 1,
	};
	struct placement_cluster c = { 0 };
	struct placement_thresholds th;
	struct placement_opts evac_opts = { .shutdown_pinned = true };
	struct placement_spread sp0, sp_evac, sp_skew, sp_even, sp_power;
	struct placement_plan even = { 0 }, power = { 0 };
	struct placesim_evac *ev = NULL;
	struct timespec t0, t1;
	double evac_ms = 0, even_ms, power_ms;
	size_t bad = 0, skewed, bound, i, n_ev = 0;
	uint64_t s, v;
	int opt, rc = 1;

	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		int bad_value = 0;

		switch (opt) {
		case 'H':
			bad_value = placesim_num(optarg, 1000000, &v) || !v;
			cfg.hosts = v;
			break;
		case 'D':
			bad_value = placesim_num(optarg, 100000000, &v);
			cfg.domains = v;
			break;
		case 's':
			bad_value = placesim_num(optarg, UINT64_MAX, &v);
			cfg.seed = v;
			break;
		case 'e':
			bad_value = placesim_num(optarg, 1000000, &v);
			cfg.evacuate = v;
			break;
		case 'k':
			bad_value = placesim_num(optarg, 100, &v);
			cfg.skew_pct = (unsigned)v;
			break;
		case 'h':
			bad_value = placesim_num(optarg, 100, &v) || !v;
			cfg.high_pct = (unsigned)v;
			break;
		case 'l':
			bad_value = placesim_num(optarg, 99, &v);
			cfg.low_pct = (unsigned)v;
			break;
		case 'm':
			bad_value = placesim_num(optarg, SIZE_MAX, &v);
			cfg.max_moves = v;
			break;
		case 'j':
			cfg.json = true;
			break;
		case 'u':
			placesim_usage(stdout);
			return 0;
		default:
			placesim_usage(stderr);
			return 2;
		}
		if (bad_value) {
			fprintf(stderr, "xmig-placesim: bad value '%s'\n", optarg);
			return 2;
		}
	}
	if (optind < argc || cfg.low_pct >= cfg.high_pct || cfg.evacuate >= cfg.hosts) {
		placesim_usage(stderr);
		return 2;
	}
	th = (struct placement_thresholds){ cfg.high_pct, cfg.low_pct };
	if (placesim_generate(&cfg, &c))
		goto out;
	placement_spread(&c, &th, &sp0);
	s = cfg.seed ^ 0x5eed;

	/* 1. Maintenance: evacuate a few distinct hosts, one after the other
	 * (each sees the load the earlier ones added), then bring them back
	 * empty, as `maintenance exit` would. */
	ev = calloc(cfg.evacuate ? cfg.evacuate : 1, sizeof(*ev));
	if (!ev)
		goto out;
	while (n_ev < cfg.evacuate) {
		size_t h = placesim_below(&s, c.nhosts);
		struct placement_plan p;

		if (c.hosts[h].state != PLACEMENT_ACTIVE)
			continue;
		ev[n_ev].host = h;
		ev[n_ev].domains = placesim_count_on(&c, h);
		c.hosts[h].state = PLACEMENT_PREPARING;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (placement_evacuate_plan(&c, h, &evac_opts, &p))
			goto out;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ev[n_ev].ms = placesim_ms(&t0, &t1);
		evac_ms += ev[n_ev].ms;
		for (i = 0; i < p.nmoves; i++)
			ev[n_ev].shutdowns += p.moves[i].action == PLACEMENT_SHUTDOWN;
		ev[n_ev].moves = p.nmoves - ev[n_ev].shutdowns;
		ev[n_ev].left = p.nleft;
		bad += placesim_apply_checked(&c, &p, 0);
		c.hosts[h].state = p.nleft ? PLACEMENT_PREPARING : PLACEMENT_MAINTENANCE;
		placement_plan_free(&p);
		n_ev++;
	}
	placement_spread(&c, &th, &sp_evac);
	for (i = 0; i < n_ev; i++)
		c.hosts[ev[i].host].state = PLACEMENT_ACTIVE;

	/* 2. Skew, then even. */
	skewed = placesim_skew(&cfg, &c, &s);
	placement_spread(&c, &th, &sp_skew);
	bound = placesim_even_bound(&c, cfg.high_pct);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (placement_balance_plan(&c, PLACEMENT_POLICY_EVEN, &th, cfg.max_moves, NULL, &even))
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	even_ms = placesim_ms(&t0, &t1);
	bad += placesim_apply_checked(&c, &even, cfg.high_pct);
	placement_spread(&c, &th, &sp_even);

	/* 3. Power saving on the balanced cluster. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (placement_balance_plan(&c, PLACEMENT_POLICY_POWER_SAVING, &th, cfg.max_moves, NULL, &power))
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	power_ms = placesim_ms(&t0, &t1);
	bad += placesim_apply_checked(&c, &power, cfg.high_pct);
	placement_spread(&c, &th, &sp_power);

	if (cfg.json) {
		printf("{\"config\": {\"hosts\": %zu, \"domains\": %zu, \"seed\": %llu, \"high_pct\": %u, "
		    "\"low_pct\": %u, \"skew_pct\": %u, \"max_moves\": %zu},\n",
		    cfg.hosts, cfg.domains, (unsigned long long)cfg.seed, cfg.high_pct, cfg.low_pct,
		    cfg.skew_pct, cfg.max_moves);
		placesim_spread_json("initial", &sp0, ",\n");
		printf("\"evacuations\": [");
		for (i = 0; i < n_ev; i++)
			printf("%s{\"host\": \"%s\", \"domains\": %zu, \"moves\": %zu, \"shutdowns\": %zu, "
			    "\"left\": %zu, \"ms\": %.3f}", i ? ", " : "", c.hosts[ev[i].host].name,
			    ev[i].domains, ev[i].moves, ev[i].shutdowns, ev[i].left, ev[i].ms);
		printf("],\n\"evacuation_total_ms\": %.3f,\n", evac_ms);
		placesim_spread_json("after_evacuations", &sp_evac, ",\n");
		printf("\"even\": {\"skew_moves\": %zu, ", skewed);
		placesim_spread_json("before", &sp_skew, ", ");
		printf("\"moves\": %zu, \"fewest_possible\": %zu, \"left\": %zu, \"ms\": %.3f, ",
		    even.nmoves, bound, even.nleft, even_ms);
		placesim_spread_json("after", &sp_even, "},\n");
		printf("\"power_saving\": {\"moves\": %zu, \"emptied\": %zu, \"left\": %zu, \"ms\": %.3f, ",
		    power.nmoves, power.nemptied, power.nleft, power_ms);
		placesim_spread_json("after", &sp_power, "},\n");
		printf("\"invalid_moves\": %zu}\n", bad);
	} else {
		printf("placesim: %zu hosts, %zu domains, seed %llu, high %u%%, low %u%%\n", cfg.hosts,
		    cfg.domains, (unsigned long long)cfg.seed, cfg.high_pct, cfg.low_pct);
		placesim_spread_text("initial", &sp0);
		printf("evacuations (--shutdown-pinned):\n");
		for (i = 0; i < n_ev; i++)
			printf("  %s: %zu domains, %zu moves, %zu shut down, %zu left, %.3f ms\n",
			    c.hosts[ev[i].host].name, ev[i].domains, ev[i].moves, ev[i].shutdowns, ev[i].left,
			    ev[i].ms);
		printf("  total %.3f ms\n", evac_ms);
		placesim_spread_text("after evacuations", &sp_evac);
		printf("even (after skewing %u%% of hosts with %zu moves):\n", cfg.skew_pct, skewed);
		placesim_spread_text("before", &sp_skew);
		printf("  %zu moves (lower bound %zu), %zu hosts left over, %.3f ms\n", even.nmoves, bound,
		    even.nleft, even_ms);
		placesim_spread_text("after", &sp_even);
		printf("power-saving:\n");
		printf("  %zu moves, %zu hosts emptied, %zu not emptied, %.3f ms\n", power.nmoves,
		    power.nemptied, power.nleft, power_ms);
		placesim_spread_text("after", &sp_power);
		printf("invalid moves: %zu\n", bad);
	}
	rc = bad ? 1 : 0;
out:
	if (rc && !bad)
		fprintf(stderr, "xmig-placesim: out of memory\n");
	placement_plan_free(&even);
	placement_plan_free(&power);
	free(ev);
	free(c.hosts);
	free(c.doms);
	return rc;
}
