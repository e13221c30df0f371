/* test_namecheck.c - host name checks off the accept loop (xmigd/namecheck.c),
 * with a fake lookup: 10.0.0.1, .5 and .6 are "trusty" (allowed), 10.0.0.2 "other",
 * 10.0.0.3 does not resolve back, 10.0.1.x hang (until the end), 10.0.2.y
 * hang until released and then answer as 10.0.0.y. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon.h"
#include "log.h"
#include "namecheck.h"
#include "util.h"
#include "xerr.h"

static struct xmigd d;
static pthread_mutex_t hang_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hang_cond = PTHREAD_COND_INITIALIZER;
static bool hang_released[3];
static atomic_uint calls[4][256];	/* lookups of 10.0.<x>.<y>, x < 4 */
static char admitted[64][32];
static unsigned nadmitted;

static int
fake_lookup(const struct sockaddr *sa, socklen_t salen, char *name, size_t namelen)
{
	const uint8_t *a = (const uint8_t *)&((const struct sockaddr_in *)(const void *)sa)->sin_addr;

	(void)salen;
	atomic_fetch_add(&calls[a[2] & 3][a[3]], 1);
	if (a[2] == 1 || a[2] == 2) {
		pthread_mutex_lock(&hang_lock);
		while (!hang_released[a[2]])
			pthread_cond_wait(&hang_cond, &hang_lock);
		pthread_mutex_unlock(&hang_lock);
		if (a[2] == 1)
			return XMIG_ERR_NOT_FOUND;
	}
	switch (a[3]) {
	case 1: case 5: case 6: snprintf(name, namelen, "trusty"); return 0;
	case 2: snprintf(name, namelen, "other"); return 0;
	case 3: return XMIG_ERR_INVALID;
	default: return XMIG_ERR_NOT_FOUND;
	}
}

static void
admit(struct xmigd *dd, int fd, const char *full, bool tls)
{
	(void)dd;
	(void)tls;
	if (nadmitted < 64)
		strlcpy_x(admitted[nadmitted++], full, sizeof(admitted[0]));
	close(fd);
}

static bool
was_admitted(const char *full)
{
	unsigned i;

	for (i = 0; i < nadmitted; i++)
		if (strcmp(admitted[i], full) == 0)
			return true;
	return false;
}

/* A connection "from" 10.0.x.y: namecheck gets one end of a socket pair,
 * the test keeps the other (EOF there: xmigd closed it). */
struct conn {
	int mine;
	char full[32];
};

static void
submit(struct conn *c, unsigned x, unsigned y, unsigned n)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	int sv[2];
	char addr[16];

	memset(&ss, 0, sizeof(ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)(40000 + n));
	snprintf(addr, sizeof(addr), "10.0.%u.%u", x, y);
	assert_int_equal(inet_pton(AF_INET, addr, &sin->sin_addr), 1);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	c->mine = sv[0];
	snprintf(c->full, sizeof(c->full), "%s:%u", addr, 40000 + n);
	namecheck_submit(sv[1], &ss, sizeof(*sin), c->full, false);
}

/* True when xmigd has closed (refused or, here, admitted) the connection. */
static bool
closed(const struct conn *c)
{
	struct pollfd p = { .fd = c->mine, .events = POLLIN };
	char b;

	return poll(&p, 1, 0) == 1 && recv(c->mine, &b, 1, MSG_DONTWAIT) == 0;
}

/* Run the loop's part for ms milliseconds, as main() does. */
static void
run_for(unsigned ms)
{
	uint64_t end = now_ms() + ms;

	while (now_ms() < end) {
		struct pollfd p = { .fd = namecheck_fd(), .events = POLLIN };
		int w = namecheck_run();
		uint64_t left = end - now_ms();

		if (w < 0 || (uint64_t)w > left)
			w = (int)left;
		poll(&p, 1, w);
	}
	namecheck_run();
}

static int
setup(void **state)
{
	char err[256];

	(void)state;
	log_init("t", false, getenv("NC_DEBUG") ? LOG_LVL_DEBUG : LOG_LVL_ERROR);
	conf_init(&d.conf);
	d.conf.lookup_timeout_ms = 300;
	if (allow_compile("^trusty$", &d.allow, err, sizeof(err)) != 0)
		return -1;
	namecheck_set_lookup(fake_lookup);
	return namecheck_init(&d, admit, err, sizeof(err));
}

static void
release_hung(unsigned x)
{
	pthread_mutex_lock(&hang_lock);
	hang_released[x] = true;
	pthread_cond_broadcast(&hang_cond);
	pthread_mutex_unlock(&hang_lock);
}

static int
teardown(void **state)
{
	(void)state;
	release_hung(1);
	release_hung(2);
	run_for(50);
	return 0;
}

/* Answers decide, and are cached: admissions and refusals alike are
 * given again without a new lookup. */
static void
test_answers_are_cached(void **state)
{
	struct conn c[8];
	unsigned y;

	(void)state;
	for (y = 1; y <= 4; y++)
		submit(&c[y - 1], 0, y, 0);
	run_for(50);
	assert_true(was_admitted(c[0].full));
	for (y = 1; y <= 4; y++) {
		assert_true(closed(&c[y - 1]));
		assert_int_equal(atomic_load(&calls[0][y]), 1);
	}
	assert_false(was_admitted(c[1].full));
	assert_false(was_admitted(c[2].full));
	assert_false(was_admitted(c[3].full));
	/* Again: decided at once, no lookup. */
	for (y = 1; y <= 4; y++)
		submit(&c[4 + y - 1], 0, y, 1);
	assert_true(was_admitted(c[4].full));
	for (y = 1; y <= 4; y++) {
		assert_true(closed(&c[4 + y - 1]));
		assert_int_equal(atomic_load(&calls[0][y]), 1);
	}
	for (y = 0; y < 8; y++)
		close(c[y].mine);
}

/* A lookup that does not answer closes its connections at the budget, the
 * address is then refused at once; and one lookup per address: a second
 * connection waits on the first one's lookup. */
static void
test_timeout_one_lookup_per_address_and_negative_cache(void **state)
{
	struct conn a, b, c;

	(void)state;
	submit(&a, 1, 7, 0);
	submit(&b, 1, 7, 1);
	run_for(100);
	assert_false(closed(&a));
	assert_false(closed(&b));
	run_for(300);
	assert_true(closed(&a));
	assert_true(closed(&b));
	assert_int_equal(atomic_load(&calls[1][7]), 1);
	submit(&c, 1, 7, 2);
	assert_true(closed(&c));
	assert_int_equal(atomic_load(&calls[1][7]), 1);
	close(a.mine);
	close(b.mine);
	close(c.mine);
}

/* With every lookup slot held by hanging strangers, an allowed peer waits
 * its turn (at most the budget) and is admitted; once admitted it is
 * admitted at once, even while a new wave holds every slot. */
static void
test_strangers_cannot_starve_an_allowed_peer(void **state)
{
	struct conn s[40], t, t2;
	unsigned i;

	(void)state;
	for (i = 0; i < 20; i++)
		submit(&s[i], 1, 20 + i, 0);
	submit(&t, 0, 5, 7);
	run_for(100);
	assert_false(closed(&t));	/* queued behind 16 running lookups */
	run_for(300);
	assert_true(closed(&t));
	assert_true(was_admitted(t.full));
	for (i = 0; i < 20; i++)
		submit(&s[20 + i], 1, 60 + i, 0);
	submit(&t2, 0, 5, 8);
	assert_true(closed(&t2));
	assert_true(was_admitted(t2.full));
	run_for(700);
	for (i = 0; i < 40; i++) {
		assert_true(closed(&s[i]));
		assert_false(was_admitted(s[i].full));
		close(s[i].mine);
	}
	close(t.mine);
	close(t2.mine);
}

/* A lookup that answers after its budget still counts: its connection
 * was refused, but the late admission replaces the cached timeout. */
static void
test_late_answer_replaces_timeout(void **state)
{
	struct conn a, b;

	(void)state;
	submit(&a, 2, 1, 0);
	run_for(400);
	assert_true(closed(&a));
	assert_false(was_admitted(a.full));
	release_hung(2);
	run_for(50);
	submit(&b, 2, 1, 1);
	assert_true(closed(&b));
	assert_true(was_admitted(b.full));
	assert_int_equal(atomic_load(&calls[2][1]), 1);
	close(a.mine);
	close(b.mine);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answers_are_cached),
		cmocka_unit_test(test_timeout_one_lookup_per_address_and_negative_cache),
		cmocka_unit_test(test_late_answer_replaces_timeout),
		cmocka_unit_test(test_strangers_cannot_starve_an_allowed_peer),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
