/* test_placement.c - destination choice, evacuation and balance plans. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "placement.h"

/* Table rows name only the fields that matter to the case; the rest are
 * zero on purpose. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

/* ---- cluster fixtures: hosts and domains by name; free memory and vCPU
 * use follow from the domains placed on each host. ---- */

#define MAXH 16
#define MAXD 32

struct hs {
	const char *name;
	uint64_t total, reserve;
	unsigned vtot;
	enum placement_host_state state;
	bool unreachable;
	uint32_t features;
	unsigned max_in, in;
	uint64_t other;		/* memory used outside the listed domains (dom0) */
};

struct ds {
	const char *name, *host;
	uint64_t mem;
	unsigned vcpus;
	bool pinned, unmigratable;
	uint32_t req;
};

struct fx {
	struct placement_host h[MAXH];
	struct placement_domain d[MAXD];
	struct placement_cluster c;
};

static size_t
host_idx(const struct placement_cluster *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nhosts; i++)
		if (!strcmp(c->hosts[i].name, name))
			return i;
	return PLACEMENT_NO_HOST;
}

static size_t
dom_idx(const struct placement_cluster *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->ndoms; i++)
		if (!strcmp(c->doms[i].name, name))
			return i;
	fail_msg("no domain %s", name);
	return 0;
}

static void
build(struct fx *f, const struct hs *hs, const struct ds *ds)
{
	size_t i;

	memset(f, 0, sizeof(*f));
	f->c.hosts = f->h;
	f->c.doms = f->d;
	for (i = 0; hs[i].name; i++) {
		struct placement_host *h = &f->h[i];

		assert_true(i < MAXH);
		snprintf(h->name, sizeof(h->name), "%s", hs[i].name);
		h->mem_total = hs[i].total;
		h->mem_free = hs[i].total - hs[i].other;
		h->reserve = hs[i].reserve;
		h->vcpus_total = hs[i].vtot;
		h->state = hs[i].state;
		h->reachable = !hs[i].unreachable;
		h->features = hs[i].features;
		h->max_incoming = hs[i].max_in;
		h->incoming = hs[i].in;
		f->c.nhosts++;
	}
	for (i = 0; ds && ds[i].name; i++) {
		struct placement_domain *d = &f->d[i];

		assert_true(i < MAXD);
		snprintf(d->name, sizeof(d->name), "%s", ds[i].name);
		d->host = host_idx(&f->c, ds[i].host);
		assert_true(d->host != PLACEMENT_NO_HOST);
		d->mem = ds[i].mem;
		d->vcpus = ds[i].vcpus ? ds[i].vcpus : 1;
		d->pinned = ds[i].pinned;
		d->migratable = !ds[i].unmigratable;
		d->requires = ds[i].req;
		f->h[d->host].mem_free -= d->mem;
		f->h[d->host].vcpus_used += d->vcpus;
		f->c.ndoms++;
	}
}

/* "dom->host" for each move, space separated ("dom->-" for a shutdown). */
static void
moves_str(const struct placement_cluster *c, const struct placement_plan *p, char *buf, size_t len)
{
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < p->nmoves && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s->%s", i ? " " : "",
		    c->doms[p->moves[i].dom].name,
		    p->moves[i].to == PLACEMENT_NO_HOST ? "-" : c->hosts[p->moves[i].to].name);
}

static void
emptied_str(const struct placement_cluster *c, const struct placement_plan *p, char *buf, size_t len)
{
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < p->nemptied && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? " " : "", c->hosts[p->emptied[i]].name);
}

/* ---- placement_choose_dest: one table, each row one rule ---- */

struct choose_case {
	const char *what;
	struct hs hosts[MAXH];
	struct ds doms[MAXD];
	const char *dom;
	struct placement_opts opts;
	const char *allowed;	/* comma list for opts.dest_allowed, or NULL */
	enum placement_status want;
	const char *want_host;	/* PLACEMENT_OK */
	const char *want_why;	/* substring of choice.why */
};

#define G 1024

static const struct choose_case capacity_with_reserve_is_respected_choose[] = {
	{ "capacity with the reserve respected: B has the memory but not above its reserve",
	  { { "A", 16 * G }, { "B", 16 * G, 2 * G, .other = 11 * G }, { "C", 16 * G, 1 * G, .other = 11 * G } },
	  { { "vm", "A", 4 * G } }, "vm", { 0 }, NULL, PLACEMENT_OK, "C", "C has the most free" },
	{ "nothing large enough: the reason names the best host and its free memory",
	  { { "A", 16 * G }, { "hostB", 8 * G, .other = 6 * G }, { "hostC", 8 * G, 1000, .other = 4192 } },
	  { { "vm", "A", 4 * G } }, "vm", { 0 }, NULL, PLACEMENT_NONE, NULL,
	  "no active peer has 4096 MiB free above its reserve (best: hostC with 3000 MiB)" },
};

static const struct choose_case maintenance_preparing_and_unreachable_hosts_are_skipped_choose[] = {
	{ "maintenance, preparing and unreachable hosts are skipped even when emptiest",
	  { { "A", 16 * G }, { "B", 64 * G, .state = PLACEMENT_MAINTENANCE },
	    { "C", 64 * G, .state = PLACEMENT_PREPARING }, { "D", 64 * G, .unreachable = true },
	    { "E", 16 * G, .other = 8 * G } },
	  { { "vm", "A", 4 * G } }, "vm", { 0 }, NULL, PLACEMENT_OK, "E", NULL },
	{ "no eligible peer: the reason counts what was skipped",
	  { { "A", 16 * G }, { "B", 64 * G, .state = PLACEMENT_MAINTENANCE },
	    { "C", 64 * G, .state = PLACEMENT_PREPARING }, { "D", 64 * G, .unreachable = true } },
	  { { "vm", "A", 4 * G } }, "vm", { 0 }, NULL, PLACEMENT_NONE, NULL,
	  "no active reachable peer (1 in maintenance, 1 preparing, 1 unreachable)" },
	{ "the source is never the destination",
	  { { "A", 64 * G }, { "B", 16 * G, .other = 8 * G } },
	  { { "vm", "A", 4 * G } }, "vm", { 0 }, NULL, PLACEMENT_OK, "B", NULL },
	{ "--to: only the listed hosts may receive",
	  { { "A", 16 * G }, { "B", 64 * G }, { "C", 32 * G } },
	  { { "vm", "A", 4 * G } }, "vm", { 0 }, "C", PLACEMENT_OK, "C", NULL },
};

static const struct choose_case incoming_limit_is_respected_choose[] = {
	{ "incoming limit respected: the emptiest host is busy, the next one is chosen",
	  { { "A", 16 * G }, { "B", 64 * G, .max_in = 1, .in = 1 }, { "C", 32 * G, .max_in = 1 } },
	  { { "vm", "A", 4 * G } }, "vm", { 0 }, NULL, PLACEMENT_OK, "C", NULL },
	{ "incoming limit: when only busy hosts fit, wait (BUSY) rather than give up",
	  { { "A", 16 * G }, { "B", 64 * G, .max_in = 1, .in = 1 }, { "C", 8 * G, .max_in = 2 } },
	  { { "vm", "A", 16 * G } }, "vm", { 0 }, NULL, PLACEMENT_BUSY, NULL, "incoming limit (best: B, 1/1)" },
	{ "max_incoming 0 means no limit",
	  { { "A", 16 * G }, { "B", 64 * G, .in = 7 } },
	  { { "vm", "A", 4 * G } }, "vm", { 0 }, NULL, PLACEMENT_OK, "B", NULL },
};

static const struct choose_case spread_largest_first_to_most_free_after_placement_choose[] = {
	{ "spread: most free memory after placement wins",
	  { { "A", 16 * G }, { "B", 32 * G, .other = 20 * G }, { "C", 32 * G, .other = 10 * G },
	    { "D", 32 * G, .other = 15 * G } },
	  { { "vm", "A", 4 * G } }, "vm", { 0 }, NULL, PLACEMENT_OK, "C", "(18432 MiB)" },
	{ "spread: equal free memory, lower vCPU load wins",
	  { { "A", 16 * G }, { "B", 32 * G, .vtot = 16 }, { "C", 32 * G, .vtot = 16 } },
	  { { "vm", "A", 4 * G }, { "x", "B", 0, 8 }, { "y", "C", 0, 2 } }, "vm", { 0 }, NULL,
	  PLACEMENT_OK, "C", NULL },
	{ "spread: equal free memory and vCPU load, the name decides",
	  { { "A", 16 * G }, { "hostC", 32 * G }, { "hostB", 32 * G } },
	  { { "vm", "A", 4 * G } }, "vm", { 0 }, NULL, PLACEMENT_OK, "hostB", NULL },
};

static const struct choose_case compatibility_and_vcpu_limits_are_respected_choose[] = {
	{ "compatibility: a host without a required feature is skipped",
	  { { "A", 16 * G, .features = 3 }, { "B", 64 * G, .features = 1 }, { "C", 32 * G, .features = 7 } },
	  { { "vm", "A", 4 * G, .req = 2 } }, "vm", { 0 }, NULL, PLACEMENT_OK, "C", NULL },
	{ "compatibility: none offers the feature, the reason says so",
	  { { "A", 16 * G, .features = 3 }, { "B", 64 * G, .features = 1 } },
	  { { "vm", "A", 4 * G, .req = 2 } }, "vm", { 0 }, NULL, PLACEMENT_NONE, NULL,
	  "offers the features it requires (0x2)" },
	{ "a non-migratable domain is refused",
	  { { "A", 16 * G }, { "B", 64 * G } },
	  { { "vm", "A", 4 * G, .unmigratable = true } }, "vm", { 0 }, NULL, PLACEMENT_NONE, NULL,
	  "vm is not migratable" },
	{ "vcpu_limit: a host whose vCPUs would overflow is skipped",
	  { { "A", 16 * G }, { "B", 64 * G, .vtot = 8 }, { "C", 32 * G, .vtot = 8 } },
	  { { "vm", "A", 4 * G, .vcpus = 4 }, { "busy", "B", 1 * G, 6 } }, "vm", { .vcpu_limit = true }, NULL,
	  PLACEMENT_OK, "C", NULL },
	{ "without vcpu_limit vCPUs may be overcommitted",
	  { { "A", 16 * G }, { "B", 64 * G, .vtot = 8 }, { "C", 32 * G, .vtot = 8 } },
	  { { "vm", "A", 4 * G, .vcpus = 4 }, { "busy", "B", 1 * G, 6 } }, "vm", { 0 }, NULL,
	  PLACEMENT_OK, "B", NULL },
};

static void
run_choose(const struct choose_case *k)
{
	struct placement_opts o = k->opts;
	struct placement_choice ch;
	unsigned char allowed[MAXH] = { 0 };
	struct fx f;
	int r;

	build(&f, k->hosts, k->doms);
	if (k->allowed) {
		size_t j;

		for (j = 0; j < f.c.nhosts; j++)
			allowed[j] = strstr(k->allowed, f.h[j].name) != NULL;
		o.dest_allowed = allowed;
	}
	r = placement_choose_dest(&f.c, dom_idx(&f.c, k->dom), &o, &ch);
	if (r != (int)k->want || ch.status != k->want)
		fail_msg("%s: status %d (%s), want %d", k->what, r, ch.why, k->want);
	if (k->want == PLACEMENT_OK && strcmp(f.h[ch.host].name, k->want_host))
		fail_msg("%s: chose %s, want %s", k->what, f.h[ch.host].name, k->want_host);
	if (k->want != PLACEMENT_OK && ch.host != PLACEMENT_NO_HOST)
		fail_msg("%s: a host without OK", k->what);
	if (k->want_why && !strstr(ch.why, k->want_why))
		fail_msg("%s: why \"%s\" lacks \"%s\"", k->what, ch.why, k->want_why);
}

static void
test_choose_dest_rejects_a_bad_domain_index(void **st)
{
	struct fx f;
	struct placement_choice ch;
	static const struct hs hs[] = { { "A", G }, { NULL } };

	(void)st;
	build(&f, hs, NULL);
	assert_int_equal(placement_choose_dest(&f.c, 0, NULL, &ch), -EINVAL);
}

/* ---- evacuation ---- */

struct evac_case {
	const char *what;
	struct hs hosts[MAXH];
	struct ds doms[MAXD];
	struct placement_opts opts;
	bool blocked;
	const char *want_moves;
	const char *want_left;	/* substring of every left reason, joined by '|' */
	const char *want_emptied;
};

static const struct evac_case capacity_with_reserve_is_respected_evac[] = {
	{ "capacity with the reserve respected across the plan",
	  { { "A", 64 * G }, { "B", 10 * G, 2 * G }, { "C", 10 * G, 2 * G } },
	  { { "x", "A", 5 * G }, { "y", "A", 4 * G }, { "z", "A", 3 * G } },
	  { 0 }, false, "x->B y->C z->C", "", NULL },
};

static const struct evac_case maintenance_preparing_and_unreachable_hosts_are_skipped_evac[] = {
	{ "maintenance, preparing and unreachable hosts receive nothing",
	  { { "A", 64 * G }, { "B", 64 * G, .state = PLACEMENT_MAINTENANCE },
	    { "C", 64 * G, .state = PLACEMENT_PREPARING }, { "D", 64 * G, .unreachable = true }, { "E", 8 * G } },
	  { { "x", "A", 2 * G }, { "y", "A", 2 * G } },
	  { 0 }, false, "x->E y->E", "", "A" },
};

static const struct evac_case incoming_limit_is_respected_evac[] = {
	{ "incoming limits do not shape the plan (they pace the dispatch)",
	  { { "A", 64 * G }, { "B", 64 * G, .max_in = 1, .in = 1 } },
	  { { "x", "A", 2 * G }, { "y", "A", 2 * G } },
	  { 0 }, false, "x->B y->B", "", "A" },
};

static const struct evac_case spread_largest_first_to_most_free_after_placement_evac[] = {
	{ "spread: largest first, each to the host with most free after the earlier placements",
	  { { "A", 64 * G }, { "B", 16 * G }, { "C", 16 * G }, { "D", 16 * G } },
	  { { "d1", "A", 1 * G }, { "d8", "A", 8 * G }, { "d2", "A", 2 * G }, { "d4", "A", 4 * G } },
	  { 0 }, false, "d8->B d4->C d2->D d1->D", "", "A" },
};

static const struct evac_case pinned_domains_block_evacuation_unless_shutdown_pinned_evac[] = {
	{ "pinned domains block the evacuation before anything moves",
	  { { "A", 64 * G }, { "B", 64 * G } },
	  { { "big", "A", 8 * G }, { "db", "A", 2 * G, .pinned = true }, { "small", "A", 1 * G } },
	  { 0 }, true, "", "db is pinned", "" },
	{ "with shutdown-pinned the others move and pinned ones shut down last",
	  { { "A", 64 * G }, { "B", 64 * G } },
	  { { "big", "A", 8 * G }, { "db", "A", 2 * G, .pinned = true }, { "small", "A", 1 * G } },
	  { .shutdown_pinned = true }, false, "big->B small->B db->-", "", "A" },
};

static const struct evac_case unplaceable_domains_are_reported_and_the_rest_placed_evac[] = {
	{ "unplaceable domains are reported with the reason and the rest still go",
	  { { "A", 64 * G }, { "B", 8 * G }, { "C", 8 * G, .other = 1 * G } },
	  { { "huge", "A", 32 * G }, { "m", "A", 2 * G }, { "s", "A", 1 * G }, { "pt", "A", 1 * G, .unmigratable = true } },
	  { 0 }, false, "m->B s->C",
	  "no active peer has 32768 MiB free above its reserve (best: B with 8192 MiB)|pt is not migratable", "" },
};

static void
check_left(const char *what, const struct placement_plan *p, const char *want)
{
	char buf[512], *tok, *save = NULL;
	size_t n = 0, i;

	snprintf(buf, sizeof(buf), "%s", want);
	for (tok = strtok_r(buf, "|", &save); tok; tok = strtok_r(NULL, "|", &save), n++) {
		for (i = 0; i < p->nleft; i++)
			if (strstr(p->left[i].why, tok))
				break;
		if (i == p->nleft)
			fail_msg("%s: no left reason contains \"%s\" (first: \"%s\")", what, tok,
			    p->nleft ? p->left[0].why : "");
	}
	if (n != p->nleft)
		fail_msg("%s: %zu left, want %zu", what, p->nleft, n);
}

static void
run_evac(const struct evac_case *k)
{
	struct placement_plan p;
	char got[512];
	struct fx f;

	build(&f, k->hosts, k->doms);
	assert_int_equal(placement_evacuate_plan(&f.c, host_idx(&f.c, "A"), &k->opts, &p), 0);
	if (p.blocked != k->blocked)
		fail_msg("%s: blocked %d", k->what, p.blocked);
	moves_str(&f.c, &p, got, sizeof(got));
	if (strcmp(got, k->want_moves))
		fail_msg("%s: moves \"%s\", want \"%s\"", k->what, got, k->want_moves);
	check_left(k->what, &p, k->want_left);
	if (k->want_emptied) {
		emptied_str(&f.c, &p, got, sizeof(got));
		if (strcmp(got, k->want_emptied))
			fail_msg("%s: emptied \"%s\", want \"%s\"", k->what, got, k->want_emptied);
	}
	placement_plan_free(&p);
}

/* The plan's choice for each domain is what placement_choose_dest() would
 * say at that point (on a picture with the earlier moves applied), so the
 * daemon choosing at dispatch time follows the preview. */
static void
test_evacuation_plan_matches_choose_dest_step_by_step(void **st)
{
	static const struct hs hs[] = {
		{ "A", 128 * G }, { "B", 40 * G, 2 * G, 16 }, { "C", 48 * G, 4 * G, 32, .other = 10 * G },
		{ "D", 32 * G, 1 * G, 8 }, { "E", 64 * G, 2 * G, 16, .features = 1, .other = 20 * G }, { NULL } };
	static const struct ds ds[] = {
		{ "a", "A", 12 * G, 4 }, { "b", "A", 3 * G, 2 }, { "c", "A", 7 * G, 1, .req = 1 },
		{ "d", "A", 7 * G, 3 }, { "e", "A", 1 * G }, { "f", "A", 20 * G, 8 }, { "g", "A", 2 * G, 2 },
		{ "h", "A", 5 * G, 1 }, { "i", "A", 9 * G, 4 }, { "j", "A", 4 * G, 2 }, { NULL } };
	struct placement_plan p;
	struct fx f;
	size_t i;

	(void)st;
	build(&f, hs, ds);
	assert_int_equal(placement_evacuate_plan(&f.c, 0, NULL, &p), 0);
	assert_int_equal(p.nmoves, 10);
	for (i = 0; i < p.nmoves; i++) {
		struct placement_choice ch;

		if (i)
			assert_true(f.d[p.moves[i - 1].dom].mem >= f.d[p.moves[i].dom].mem);
		assert_int_equal(placement_choose_dest(&f.c, p.moves[i].dom, NULL, &ch), PLACEMENT_OK);
		assert_int_equal(ch.host, p.moves[i].to);
		placement_apply(&f.c, p.moves[i].dom, p.moves[i].to);
	}
	assert_int_equal(f.h[0].mem_free, 128 * G);
	for (i = 1; i < f.c.nhosts; i++)
		assert_true(f.h[i].mem_free >= f.h[i].reserve);
	placement_plan_free(&p);
}

static void
test_evacuate_rejects_a_bad_source(void **st)
{
	static const struct hs hs[] = { { "A", G }, { NULL } };
	struct placement_plan p;
	struct fx f;

	(void)st;
	build(&f, hs, NULL);
	assert_int_equal(placement_evacuate_plan(&f.c, 5, NULL, &p), -EINVAL);
}

/* ---- balance ---- */

struct balance_case {
	const char *what;
	struct hs hosts[MAXH];
	struct ds doms[MAXD];
	enum placement_policy policy;
	struct placement_thresholds th;
	size_t max_moves;
	const char *want_moves;
	const char *want_left;
	const char *want_emptied;
};

/* Hosts of 10000 MiB and 100 vCPUs make percentages readable. */
#define H10K(n) { n, 10000, .vtot = 100 }

static const struct balance_case capacity_with_reserve_is_respected_balance[] = {
	{ "power-saving respects the reserve of the destination",
	  { H10K("A"), { "B", 10000, 3500, 100 }, H10K("C") },
	  { { "a1", "A", 7500 }, { "b1", "B", 6000 }, { "c1", "C", 1000 } },
	  PLACEMENT_POLICY_POWER_SAVING, { 80, 30 }, 0, "", "C not emptied", "" },
};

static const struct balance_case even_reaches_all_hosts_under_the_threshold_with_fewest_moves_balance[] = {
	/* B is 15 % over and no domain of it covers 1500 MiB: the largest
	 * (1200), then the smallest that covers the remaining 300 (1100).  A is
	 * 10 % over: its smallest domain covering 1000 (1500) in one move.
	 * Three moves, the minimum; each to the peer with most headroom. */
	{ "even reaches all hosts under the threshold with the fewest moves",
	  { H10K("A"), H10K("B"), H10K("C"), H10K("D") },
	  { { "a1", "A", 5000 }, { "a2", "A", 2000 }, { "a3", "A", 1500 }, { "a4", "A", 500 },
	    { "b1", "B", 1200 }, { "b2", "B", 1200 }, { "b3", "B", 1200 }, { "b4", "B", 1200 },
	    { "b5", "B", 1200 }, { "b6", "B", 1200 }, { "b7", "B", 1200 }, { "b8", "B", 1100 },
	    { "c1", "C", 3000 }, { "d1", "D", 2000 } },
	  PLACEMENT_POLICY_EVEN, { 80, 20 }, 0, "b1->D b8->C a3->D", "", "" },
};

static const struct balance_case even_never_moves_pinned_domains_nor_overfills_a_destination_balance[] = {
	{ "even never moves pinned domains",
	  { H10K("A"), H10K("B") },
	  { { "a1", "A", 5000 }, { "a2", "A", 2000, .pinned = true }, { "a3", "A", 2000 } },
	  PLACEMENT_POLICY_EVEN, { 80, 20 }, 0, "a3->B", "", NULL },
	{ "even never pushes a destination over the threshold; the host left over is reported",
	  { H10K("A"), H10K("B") },
	  { { "a1", "A", 9000 }, { "b1", "B", 7000 } },
	  PLACEMENT_POLICY_EVEN, { 80, 20 }, 0, "", "A stays above 80% (memory 90%", NULL },
	{ "even counts vCPUs: a host over in vCPUs alone sheds the smallest domain covering it",
	  { H10K("A"), H10K("B") },
	  { { "a1", "A", 1000, 60 }, { "a2", "A", 2000, 15 }, { "a3", "A", 1000, 10 } },
	  PLACEMENT_POLICY_EVEN, { 80, 20 }, 0, "a3->B", "", NULL },
	{ "even stops at the move budget and says so",
	  { H10K("A"), H10K("B"), H10K("C") },
	  { { "a1", "A", 3000 }, { "a2", "A", 3000 }, { "a3", "A", 3000 }, { "b1", "B", 3000 },
	    { "b2", "B", 3000 }, { "b3", "B", 3000 } },
	  PLACEMENT_POLICY_EVEN, { 50, 20 }, 1, "a1->C",
	  "A stays above 50% (memory 60%, vCPU 2%): move budget|B stays above 50% (memory 90%, vCPU 3%): move budget",
	  NULL },
};

static const struct balance_case power_saving_empties_the_expected_hosts_balance[] = {
	/* D (10 %) then C (20 %) are under 30 %; each domain goes to the
	 * fullest host that still takes it under 80 %; E is idle already and
	 * takes nothing. */
	{ "power-saving empties the least loaded hosts onto the fullest ones",
	  { H10K("A"), H10K("B"), H10K("C"), H10K("D"), H10K("E") },
	  { { "a1", "A", 3000 }, { "a2", "A", 3000 }, { "b1", "B", 2500 }, { "b2", "B", 2500 },
	    { "c1", "C", 1000 }, { "c2", "C", 1000 }, { "d1", "D", 1000 } },
	  PLACEMENT_POLICY_POWER_SAVING, { 80, 30 }, 0, "d1->A c1->A c2->B", "", "C D" },
};

static const struct balance_case power_saving_empties_a_host_entirely_or_not_at_all_balance[] = {
	{ "power-saving leaves a host with a pinned domain and empties the others",
	  { H10K("A"), H10K("B"), H10K("C"), H10K("D") },
	  { { "a1", "A", 6000 }, { "b1", "B", 5000 }, { "c1", "C", 1000, .pinned = true },
	    { "d1", "D", 1000 } },
	  PLACEMENT_POLICY_POWER_SAVING, { 80, 30 }, 0, "d1->A", "C not emptied: c1 is pinned", "D" },
	{ "power-saving empties a host entirely or not at all",
	  { H10K("A"), H10K("B"), H10K("C") },
	  { { "a1", "A", 7000 }, { "b1", "B", 7500 }, { "c1", "C", 1000 }, { "c2", "C", 800 } },
	  PLACEMENT_POLICY_POWER_SAVING, { 80, 30 }, 0, "",
	  "C not emptied: c2 (800 MiB, 1 vCPUs) fits on no host in use under 80%", "" },
};

static void
run_balance(const struct balance_case *k)
{
	struct placement_plan p;
	struct placement_spread sp;
	char got[512];
	struct fx f;

	build(&f, k->hosts, k->doms);
	assert_int_equal(placement_balance_plan(&f.c, k->policy, &k->th, k->max_moves, NULL, &p), 0);
	moves_str(&f.c, &p, got, sizeof(got));
	if (strcmp(got, k->want_moves))
		fail_msg("%s: moves \"%s\", want \"%s\"", k->what, got, k->want_moves);
	check_left(k->what, &p, k->want_left);
	if (k->want_emptied) {
		emptied_str(&f.c, &p, got, sizeof(got));
		if (strcmp(got, k->want_emptied))
			fail_msg("%s: emptied \"%s\", want \"%s\"", k->what, got, k->want_emptied);
	}
	/* Whatever the policy, no destination ends above the threshold. */
	placement_plan_apply(&f.c, &p);
	for (size_t m = 0; m < p.nmoves; m++) {
		const struct placement_host *h = &f.h[p.moves[m].to];

		if (placement_mem_pct(h) > k->th.high_pct || placement_vcpu_pct(h) > k->th.high_pct)
			fail_msg("%s: %s ends above %u%%", k->what, h->name, k->th.high_pct);
	}
	if (k->policy == PLACEMENT_POLICY_EVEN && !p.nleft) {
		placement_spread(&f.c, &k->th, &sp);
		if (sp.over_high)
			fail_msg("%s: %zu hosts still over", k->what, sp.over_high);
	}
	placement_plan_free(&p);
}

static void
test_balance_rejects_bad_thresholds(void **st)
{
	static const struct hs hs[] = { H10K("A"), { NULL } };
	struct placement_thresholds bad[] = { { 0, 0 }, { 101, 20 }, { 50, 50 }, { 50, 60 } };
	struct placement_plan p;
	struct fx f;
	size_t i;

	(void)st;
	build(&f, hs, NULL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(placement_balance_plan(&f.c, PLACEMENT_POLICY_EVEN, &bad[i], 0, NULL, &p), -EINVAL);
}

/* ---- determinism ---- */

static uint64_t
lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s >> 33;
}

/* A random cluster of 40 hosts and 400 domains, with ties on purpose (few
 * distinct sizes). */
static void
random_cluster(struct placement_cluster *c, uint64_t seed)
{
	static const uint64_t sizes[] = { 512, 1024, 2048, 4096, 8192 };
	size_t i, to;

	c->nhosts = 40;
	c->ndoms = 400;
	c->hosts = calloc(c->nhosts, sizeof(*c->hosts));
	c->doms = calloc(c->ndoms, sizeof(*c->doms));
	assert_non_null(c->hosts);
	assert_non_null(c->doms);
	for (i = 0; i < c->nhosts; i++) {
		struct placement_host *h = &c->hosts[i];

		snprintf(h->name, sizeof(h->name), "h%02zu", i);
		h->mem_total = h->mem_free = (lcg(&seed) % 2 ? 64 : 96) * 1024;
		h->reserve = 1024;
		h->vcpus_total = 64;
		h->reachable = true;
		h->features = lcg(&seed) % 8 ? 1 : 0;
	}
	for (i = 0; i < c->ndoms; i++) {
		struct placement_domain *d = &c->doms[i];

		snprintf(d->name, sizeof(d->name), "d%03zu", i);
		d->mem = sizes[lcg(&seed) % 5];
		d->vcpus = 1 + lcg(&seed) % 4;
		d->migratable = true;
		d->pinned = lcg(&seed) % 50 == 0;
		d->requires = lcg(&seed) % 10 == 0;
		/* Skewed: the first few hosts get more; a domain that finds no
		 * room is simply not running. */
		to = lcg(&seed) % 3 ? lcg(&seed) % 8 : lcg(&seed) % c->nhosts;
		if (c->hosts[to].mem_free < d->mem + 2048)
			to = lcg(&seed) % c->nhosts;
		d->host = PLACEMENT_NO_HOST;
		if (c->hosts[to].mem_free >= d->mem + 2048)
			placement_apply(c, i, to);
	}
}

static bool
plans_equal(const struct placement_plan *a, const struct placement_plan *b)
{
	return a->nmoves == b->nmoves && a->nleft == b->nleft && a->nemptied == b->nemptied &&
	    a->blocked == b->blocked &&
	    (!a->nmoves || !memcmp(a->moves, b->moves, a->nmoves * sizeof(*a->moves))) &&
	    (!a->nleft || !memcmp(a->left, b->left, a->nleft * sizeof(*a->left))) &&
	    (!a->nemptied || !memcmp(a->emptied, b->emptied, a->nemptied * sizeof(*a->emptied)));
}

static void
test_same_input_gives_the_same_plan(void **st)
{
	struct placement_cluster c1, c2;
	struct placement_thresholds th = { 60, 30 };
	struct placement_opts o = { .shutdown_pinned = true };
	struct placement_plan a, b;
	int pass;

	(void)st;
	random_cluster(&c1, 42);
	random_cluster(&c2, 42);
	for (pass = 0; pass < 3; pass++) {
		/* Two runs over equal inputs, and a rerun over the same one. */
		if (pass == 0) {
			assert_int_equal(placement_evacuate_plan(&c1, 0, &o, &a), 0);
			assert_int_equal(placement_evacuate_plan(&c2, 0, &o, &b), 0);
		} else {
			enum placement_policy pol = pass == 1 ? PLACEMENT_POLICY_EVEN : PLACEMENT_POLICY_POWER_SAVING;

			assert_int_equal(placement_balance_plan(&c1, pol, &th, 0, &o, &a), 0);
			assert_int_equal(placement_balance_plan(&c2, pol, &th, 0, &o, &b), 0);
		}
		assert_true(a.nmoves > 0);
		assert_true(plans_equal(&a, &b));
		placement_plan_free(&b);
		if (pass == 0)
			assert_int_equal(placement_evacuate_plan(&c1, 0, &o, &b), 0);
		else
			assert_int_equal(placement_balance_plan(&c1, pass == 1 ? PLACEMENT_POLICY_EVEN :
			    PLACEMENT_POLICY_POWER_SAVING, &th, 0, &o, &b), 0);
		assert_true(plans_equal(&a, &b));
		placement_plan_free(&a);
		placement_plan_free(&b);
	}
	free(c1.hosts);
	free(c1.doms);
	free(c2.hosts);
	free(c2.doms);
}

/* Each balance move is valid on the state left by the earlier ones. */
static void
test_balance_moves_are_valid_in_order_on_a_random_cluster(void **st)
{
	struct placement_cluster c;
	struct placement_thresholds th = { 60, 30 };
	struct placement_plan p;
	int pol;

	(void)st;
	for (pol = 0; pol < 2; pol++) {
		size_t i;

		random_cluster(&c, 7);
		assert_int_equal(placement_balance_plan(&c, (enum placement_policy)pol, &th, 0, NULL, &p), 0);
		for (i = 0; i < p.nmoves; i++) {
			const struct placement_move *m = &p.moves[i];
			const struct placement_domain *d = &c.doms[m->dom];
			const struct placement_host *h = &c.hosts[m->to];

			assert_int_equal(d->host, m->from);
			assert_false(d->pinned);
			assert_true((h->features & d->requires) == d->requires);
			assert_true(h->mem_free >= d->mem + h->reserve);
			placement_apply(&c, m->dom, m->to);
			assert_true(placement_mem_pct(h) <= th.high_pct);
			assert_true(placement_vcpu_pct(h) <= th.high_pct);
		}
		placement_plan_free(&p);
		free(c.hosts);
		free(c.doms);
	}
}

/* ---- checking a planned move again when it starts ---- */

struct check_case {
	const char *what;
	struct hs hosts[MAXH];
	struct ds doms[MAXD];
	const char *dom, *to;
	unsigned high;		/* 0: no threshold */
	enum placement_status want;
	const char *want_why;	/* substring of choice.why */
};

static const struct check_case move_check_cases[] = {
	{ "fits under the threshold and above the reserve",
	  { { "A", 1000, .vtot = 10 }, { "B", 1000, 50, .vtot = 10, .other = 200 } },
	  { { "vm", "A", 100 } }, "vm", "B", 50, PLACEMENT_OK, "" },
	{ "exactly at the threshold still fits",
	  { { "A", 1000, .vtot = 10 }, { "B", 1000, 50, .vtot = 10, .other = 400 } },
	  { { "vm", "A", 100 } }, "vm", "B", 50, PLACEMENT_OK, "" },
	{ "one MiB over the memory threshold",
	  { { "A", 1000, .vtot = 10 }, { "B", 1000, .vtot = 10, .other = 401 } },
	  { { "vm", "A", 100 } }, "vm", "B", 50, PLACEMENT_NONE, "B would be at 50% memory, above 50%" },
	{ "over in vCPUs only",
	  { { "A", 1000, .vtot = 10 }, { "B", 1000, .vtot = 4 } },
	  { { "vm", "A", 10, 3 } }, "vm", "B", 50, PLACEMENT_NONE, "B would be at 75% vCPU, above 50%" },
	{ "without a threshold only capacity counts",
	  { { "A", 1000, .vtot = 10 }, { "B", 1000, 100, .vtot = 4, .other = 700 } },
	  { { "vm", "A", 200, 3 } }, "vm", "B", 0, PLACEMENT_OK, "" },
	{ "the reserve binds before the threshold",
	  { { "A", 1000 }, { "B", 1000, 200, .other = 700 } },
	  { { "vm", "A", 150 } }, "vm", "B", 100, PLACEMENT_NONE,
	  "B would keep 150 MiB free, under its reserve of 200 MiB" },
	{ "a destination in maintenance",
	  { { "A", 1000 }, { "B", 1000, .state = PLACEMENT_MAINTENANCE } },
	  { { "vm", "A", 10 } }, "vm", "B", 80, PLACEMENT_NONE, "B is maintenance" },
	{ "a destination preparing for maintenance",
	  { { "A", 1000 }, { "B", 1000, .state = PLACEMENT_PREPARING } },
	  { { "vm", "A", 10 } }, "vm", "B", 80, PLACEMENT_NONE, "B is preparing-for-maintenance" },
	{ "a destination that does not answer",
	  { { "A", 1000 }, { "B", 1000, .unreachable = true } },
	  { { "vm", "A", 10 } }, "vm", "B", 80, PLACEMENT_NONE, "B does not answer" },
	{ "missing features",
	  { { "A", 1000 }, { "B", 1000, .features = 0x1 } },
	  { { "vm", "A", 10, .req = 0x3 } }, "vm", "B", 80, PLACEMENT_NONE,
	  "B lacks the features it requires (0x2)" },
	{ "its own host",
	  { { "A", 1000 }, { "B", 1000 } },
	  { { "vm", "A", 10 } }, "vm", "A", 80, PLACEMENT_NONE, "vm is already on A" },
	{ "fits but the destination is busy: wait",
	  { { "A", 1000 }, { "B", 1000, .max_in = 1, .in = 1 } },
	  { { "vm", "A", 10 } }, "vm", "B", 80, PLACEMENT_BUSY, "B is at its limit of 1 incoming" },
	{ "busy and too full: the real reason wins",
	  { { "A", 1000 }, { "B", 1000, .max_in = 1, .in = 1, .other = 790 } },
	  { { "vm", "A", 20 } }, "vm", "B", 80, PLACEMENT_NONE, "above 80%" },
};

static void
test_move_check_table(void **st)
{
	size_t i;

	(void)st;
	for (i = 0; i < sizeof(move_check_cases) / sizeof(move_check_cases[0]); i++) {
		const struct check_case *k = &move_check_cases[i];
		struct placement_thresholds th = { k->high, 0 };
		struct placement_choice ch;
		struct fx f;
		size_t to;
		int r;

		build(&f, k->hosts, k->doms);
		to = host_idx(&f.c, k->to);
		r = placement_move_check(&f.c, dom_idx(&f.c, k->dom), to, k->high ? &th : NULL, &ch);
		if (r != (int)k->want || ch.status != k->want || !strstr(ch.why, k->want_why))
			fail_msg("%s: status %d \"%s\", want %d \"%s\"", k->what, r, ch.why,
			    (int)k->want, k->want_why);
		assert_int_equal(ch.host, k->want == PLACEMENT_OK ? to : PLACEMENT_NO_HOST);
	}
}

static void
test_move_check_rejects_bad_indexes(void **st)
{
	static const struct hs hs[] = { H10K("A"), H10K("B"), { NULL } };
	static const struct ds ds[] = { { "vm", "A", 10 }, { NULL } };
	struct placement_choice ch;
	struct fx f;

	(void)st;
	build(&f, hs, ds);
	assert_int_equal(placement_move_check(&f.c, 1, 1, NULL, &ch), -EINVAL);
	assert_int_equal(placement_move_check(&f.c, 0, 2, NULL, &ch), -EINVAL);
	assert_int_equal(placement_move_check(NULL, 0, 1, NULL, &ch), -EINVAL);
}

/* The daemon re-checks each planned move when it starts: on an unchanged
 * cluster, every move of a balance plan must pass, in order. */
static void
test_move_check_accepts_every_planned_move(void **st)
{
	struct placement_thresholds th = { 60, 30 };
	struct placement_cluster c;
	struct placement_plan p;
	int pol, seed;

	(void)st;
	for (seed = 1; seed <= 5; seed++)
		for (pol = 0; pol < 2; pol++) {
			size_t i;

			random_cluster(&c, (unsigned)seed);
			assert_int_equal(placement_balance_plan(&c, (enum placement_policy)pol, &th, 0,
			    NULL, &p), 0);
			assert_true(p.nmoves > 0);
			for (i = 0; i < p.nmoves; i++) {
				struct placement_choice ch;

				if (placement_move_check(&c, p.moves[i].dom, p.moves[i].to, &th, &ch) !=
				    PLACEMENT_OK)
					fail_msg("seed %d %s move %zu: %s", seed,
					    placement_policy_str((enum placement_policy)pol), i, ch.why);
				placement_apply(&c, p.moves[i].dom, p.moves[i].to);
			}
			placement_plan_free(&p);
			free(c.hosts);
			free(c.doms);
		}
}

/* A daemon runs only its own moves of a cluster-wide plan.  Here the plan
 * first relieves C (over 50 %) by moving c1 to D, and then, C having room
 * again, moves A's a1 to C: A alone cannot run that (C is still full until
 * C has run its own move), so it is held; C runs its move; B has none. */
static void
test_plan_split_runs_own_moves_and_holds_those_that_need_others(void **st)
{
	static const struct hs hs[] = {
		{ "A", 1000, .other = 480 }, { "B", 1000, .other = 490 },
		{ "C", 1000, .other = 400 }, { "D", 1000, .other = 250 }, { NULL } };
	static const struct ds ds[] = {
		{ "a1", "A", 80 }, { "a2", "A", 5 }, { "c1", "C", 200 }, { NULL } };
	struct placement_thresholds th = { 50, 10 };
	enum placement_run run[8];
	char why[8][PLACEMENT_WHY_MAX];
	struct placement_plan p;
	char got[256];
	struct fx f;

	(void)st;
	build(&f, hs, ds);
	assert_int_equal(placement_balance_plan(&f.c, PLACEMENT_POLICY_EVEN, &th, 0, NULL, &p), 0);
	moves_str(&f.c, &p, got, sizeof(got));
	assert_string_equal(got, "c1->D a1->C");
	assert_int_equal(placement_plan_split(&f.c, &p, host_idx(&f.c, "A"), &th, run, why), 0);
	assert_int_equal(run[0], PLACEMENT_RUN_OTHER_HOST);
	assert_int_equal(run[1], PLACEMENT_RUN_HELD);
	assert_string_equal(why[1], "C would be at 68% memory, above 50%");
	assert_int_equal(placement_plan_split(&f.c, &p, host_idx(&f.c, "C"), &th, run, NULL), 0);
	assert_int_equal(run[0], PLACEMENT_RUN_HERE);
	assert_int_equal(run[1], PLACEMENT_RUN_OTHER_HOST);
	assert_int_equal(placement_plan_split(&f.c, &p, host_idx(&f.c, "B"), &th, run, why), 0);
	assert_true(run[0] == PLACEMENT_RUN_OTHER_HOST && run[1] == PLACEMENT_RUN_OTHER_HOST);
	/* Once C has run its move, A's is valid by itself. */
	placement_apply(&f.c, dom_idx(&f.c, "c1"), host_idx(&f.c, "D"));
	assert_int_equal(placement_plan_split(&f.c, &p, host_idx(&f.c, "A"), &th, run, why), 0);
	assert_int_equal(run[1], PLACEMENT_RUN_HERE);
	assert_int_equal(placement_plan_split(&f.c, &p, 9, &th, run, why), -EINVAL);
	placement_plan_free(&p);
}

/* With several own moves, each is checked after the earlier ones of the
 * same host: the second move onto a host that the first filled is held. */
static void
test_plan_split_charges_own_earlier_moves(void **st)
{
	static const struct hs hs[] = { { "A", 1000 }, { "B", 1000, .other = 300 }, { NULL } };
	static const struct ds ds[] = { { "x", "A", 150 }, { "y", "A", 100 }, { NULL } };
	struct placement_thresholds th = { 50, 10 };
	struct placement_move mv[2] = {
		{ 0, 0, 1, PLACEMENT_MIGRATE, "" }, { 1, 0, 1, PLACEMENT_MIGRATE, "" } };
	struct placement_plan p = { .moves = mv, .nmoves = 2 };
	enum placement_run run[2];
	struct fx f;

	(void)st;
	build(&f, hs, ds);
	assert_int_equal(placement_plan_split(&f.c, &p, 0, &th, run, NULL), 0);
	assert_int_equal(run[0], PLACEMENT_RUN_HERE);
	assert_int_equal(run[1], PLACEMENT_RUN_HELD);
	/* The caller's picture is left as it was. */
	assert_int_equal(f.h[1].mem_free, 700);
	assert_int_equal(f.d[0].host, 0);
}

/* ---- helpers ---- */

static void
test_spread_reports_min_max_mean_and_stddev_of_active_hosts(void **st)
{
	static const struct hs hs[] = {
		{ "A", 1000, .vtot = 10, .other = 200 }, { "B", 1000, .vtot = 10, .other = 400 },
		{ "C", 1000, .vtot = 10, .other = 600 },
		{ "M", 1000, .state = PLACEMENT_MAINTENANCE }, { NULL } };
	static const struct ds ds[] = { { "x", "A", 0, 2 }, { NULL } };
	struct placement_thresholds th = { 50, 10 };
	struct placement_spread sp;
	struct fx f;

	(void)st;
	build(&f, hs, ds);
	placement_spread(&f.c, &th, &sp);
	assert_int_equal(sp.hosts, 3);
	assert_int_equal(sp.in_use, 1);
	assert_true(sp.mem_min == 20 && sp.mem_max == 60 && sp.mem_mean == 40);
	assert_true(sp.mem_stddev > 16.32 && sp.mem_stddev < 16.33);
	assert_true(sp.vcpu_max == 20 && sp.vcpu_min == 0);
	assert_int_equal(sp.over_high, 1);
}

static void
test_policy_names_round_trip(void **st)
{
	enum placement_policy p;

	(void)st;
	assert_int_equal(placement_policy_parse("even", &p), 0);
	assert_int_equal(p, PLACEMENT_POLICY_EVEN);
	assert_int_equal(placement_policy_parse("power-saving", &p), 0);
	assert_string_equal(placement_policy_str(p), "power-saving");
	assert_int_equal(placement_policy_parse("random", &p), -EINVAL);
	assert_string_equal(placement_host_state_str(PLACEMENT_PREPARING), "preparing-for-maintenance");
}

/* ---- the properties: each test runs the rows (choice, evacuation, balance)
 * that prove it ---- */

struct suite {
	const struct choose_case *c;
	size_t nc;
	const struct evac_case *e;
	size_t ne;
	const struct balance_case *b;
	size_t nb;
};

#define ROWS(a) a, sizeof(a) / sizeof(a[0])
#define NONE NULL, 0

static void
run_suite(void **st)
{
	const struct suite *su = *st;
	size_t i;

	for (i = 0; i < su->nc; i++)
		run_choose(&su->c[i]);
	for (i = 0; i < su->ne; i++)
		run_evac(&su->e[i]);
	for (i = 0; i < su->nb; i++)
		run_balance(&su->b[i]);
}

static const struct suite capacity_with_reserve_is_respected = { ROWS(capacity_with_reserve_is_respected_choose), ROWS(capacity_with_reserve_is_respected_evac), ROWS(capacity_with_reserve_is_respected_balance) };
static const struct suite maintenance_preparing_and_unreachable_hosts_are_skipped = { ROWS(maintenance_preparing_and_unreachable_hosts_are_skipped_choose), ROWS(maintenance_preparing_and_unreachable_hosts_are_skipped_evac), NONE };
static const struct suite incoming_limit_is_respected = { ROWS(incoming_limit_is_respected_choose), ROWS(incoming_limit_is_respected_evac), NONE };
static const struct suite spread_largest_first_to_most_free_after_placement = { ROWS(spread_largest_first_to_most_free_after_placement_choose), ROWS(spread_largest_first_to_most_free_after_placement_evac), NONE };
static const struct suite compatibility_and_vcpu_limits_are_respected = { ROWS(compatibility_and_vcpu_limits_are_respected_choose), NONE, NONE };
static const struct suite pinned_domains_block_evacuation_unless_shutdown_pinned = { NONE, ROWS(pinned_domains_block_evacuation_unless_shutdown_pinned_evac), NONE };
static const struct suite unplaceable_domains_are_reported_and_the_rest_placed = { NONE, ROWS(unplaceable_domains_are_reported_and_the_rest_placed_evac), NONE };
static const struct suite even_reaches_all_hosts_under_the_threshold_with_fewest_moves = { NONE, NONE, ROWS(even_reaches_all_hosts_under_the_threshold_with_fewest_moves_balance) };
static const struct suite even_never_moves_pinned_domains_nor_overfills_a_destination = { NONE, NONE, ROWS(even_never_moves_pinned_domains_nor_overfills_a_destination_balance) };
static const struct suite power_saving_empties_the_expected_hosts = { NONE, NONE, ROWS(power_saving_empties_the_expected_hosts_balance) };
static const struct suite power_saving_empties_a_host_entirely_or_not_at_all = { NONE, NONE, ROWS(power_saving_empties_a_host_entirely_or_not_at_all_balance) };

int
main(void)
{
	const struct CMUnitTest tests[] = {
		{ "capacity_with_reserve_is_respected", run_suite, NULL, NULL, (void *)&capacity_with_reserve_is_respected },
		{ "maintenance_preparing_and_unreachable_hosts_are_skipped", run_suite, NULL, NULL,
		  (void *)&maintenance_preparing_and_unreachable_hosts_are_skipped },
		{ "incoming_limit_is_respected", run_suite, NULL, NULL, (void *)&incoming_limit_is_respected },
		{ "spread_largest_first_to_most_free_after_placement", run_suite, NULL, NULL,
		  (void *)&spread_largest_first_to_most_free_after_placement },
		{ "compatibility_and_vcpu_limits_are_respected", run_suite, NULL, NULL,
		  (void *)&compatibility_and_vcpu_limits_are_respected },
		{ "pinned_domains_block_evacuation_unless_shutdown_pinned", run_suite, NULL, NULL,
		  (void *)&pinned_domains_block_evacuation_unless_shutdown_pinned },
		{ "unplaceable_domains_are_reported_and_the_rest_placed", run_suite, NULL, NULL,
		  (void *)&unplaceable_domains_are_reported_and_the_rest_placed },
		{ "even_reaches_all_hosts_under_the_threshold_with_fewest_moves", run_suite, NULL, NULL,
		  (void *)&even_reaches_all_hosts_under_the_threshold_with_fewest_moves },
		{ "even_never_moves_pinned_domains_nor_overfills_a_destination", run_suite, NULL, NULL,
		  (void *)&even_never_moves_pinned_domains_nor_overfills_a_destination },
		{ "power_saving_empties_the_expected_hosts", run_suite, NULL, NULL, (void *)&power_saving_empties_the_expected_hosts },
		{ "power_saving_empties_a_host_entirely_or_not_at_all", run_suite, NULL, NULL,
		  (void *)&power_saving_empties_a_host_entirely_or_not_at_all },
		cmocka_unit_test(test_choose_dest_rejects_a_bad_domain_index),
		cmocka_unit_test(test_evacuation_plan_matches_choose_dest_step_by_step),
		cmocka_unit_test(test_evacuate_rejects_a_bad_source),
		cmocka_unit_test(test_balance_rejects_bad_thresholds),
		cmocka_unit_test(test_same_input_gives_the_same_plan),
		cmocka_unit_test(test_balance_moves_are_valid_in_order_on_a_random_cluster),
		cmocka_unit_test(test_move_check_table),
		cmocka_unit_test(test_move_check_rejects_bad_indexes),
		cmocka_unit_test(test_move_check_accepts_every_planned_move),
		cmocka_unit_test(test_plan_split_runs_own_moves_and_holds_those_that_need_others),
		cmocka_unit_test(test_plan_split_charges_own_earlier_moves),
		cmocka_unit_test(test_spread_reports_min_max_mean_and_stddev_of_active_hosts),
		cmocka_unit_test(test_policy_names_round_trip),
	};

	return cmocka_run_group_tests_name("placement", tests, NULL, NULL);
}
