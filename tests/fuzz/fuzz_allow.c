/* fuzz_allow.c - libFuzzer target: the relocation allow-list.
 *
 * The input is "SPEC" or "SPEC\nHOSTNAME" (up to the first NUL): SPEC is a
 * relocation-hosts-allow value, HOSTNAME the peer's name from a reverse
 * lookup, which a hostile peer's DNS chooses.  allow_compile compiles SPEC;
 * allow_match is asked about a fixed set of IPv4, IPv6 and IPv4-mapped
 * addresses, with and without the host name.  Rules checked (abort, and so a
 * libFuzzer crash, when one breaks):
 *   - a refused SPEC gives a message and no list;
 *   - an empty SPEC (only white space) compiles to an open list, which allows
 *     everyone, and only such a SPEC does;
 *   - a host name can only add matches, never take one away;
 *   - a peer seen as ::ffff:a.b.c.d is allowed whenever a.b.c.d is;
 *   - SPEC plus a plain address entry allows that address, and everything
 *     SPEC allowed.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "allow.h"

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "fuzz_allow: contract broken at %s:%d: %s\n", __FILE__, \
		    __LINE__, #cond); \
		abort(); \
	} \
} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const addrs[] = {
	"127.0.0.1", "10.77.0.1", "10.77.0.2", "10.0.0.5", "192.168.1.200", "0.0.0.0",
	"255.255.255.255", "::1", "fd00::1", "fe80::1:2", "2001:db8::ff", "::",
	"::ffff:10.77.0.1", "::ffff:127.0.0.1",
};
#define NADDR (sizeof(addrs) / sizeof(addrs[0]))
#define EXTRA "192.0.2.77"

struct peer {
	struct sockaddr_storage ss;
	socklen_t len;
};

static void
make_peer(struct peer *p, const char *a)
{
	memset(p, 0, sizeof(*p));
	if (strchr(a, ':') == NULL) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&p->ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(40000);
		CHECK(inet_pton(AF_INET, a, &sin->sin_addr) == 1);
		p->len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&p->ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(40000);
		CHECK(inet_pton(AF_INET6, a, &sin6->sin6_addr) == 1);
		p->len = sizeof(*sin6);
	}
}

static bool
match(const struct allow_list *al, const char *a, const char *host)
{
	struct peer p;

	make_peer(&p, a);
	return allow_match(al, (const struct sockaddr *)&p.ss, p.len, host);
}

static bool
only_separators(const char *s)
{
	for (; *s != '\0'; s++)
		if (strchr(" \t\n\r\v\f", *s) == NULL)
			return false;
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct allow_list *al = NULL, *al2 = NULL;
	bool got[NADDR], got_h[NADDR];
	char err[256], *spec, *spec2, *host = NULL, *nl;
	size_t i, n = strnlen((const char *)data, size);
	int r;

	/* Exact-size heap copies: ASan sees a read past the end. */
	spec = malloc(n + 1);
	CHECK(spec != NULL);
	memcpy(spec, data, n);
	spec[n] = '\0';
	if ((nl = strchr(spec, '\n')) != NULL) {
		*nl = '\0';
		host = strdup(nl + 1);
		CHECK(host != NULL);
	}

	al = (struct allow_list *)&al;	/* must be reset to NULL on failure */
	r = allow_compile(spec, &al, err, sizeof(err));
	if (r != 0) {
		CHECK(r < 0 && al == NULL);
		CHECK(err[0] != '\0' && memchr(err, '\0', sizeof(err)) != NULL);
		goto out;
	}
	CHECK(al != NULL);
	CHECK(allow_is_open(al) == only_separators(spec));
	/* Compiling without keeping the list agrees. */
	CHECK(allow_compile(spec, NULL, NULL, 0) == 0);

	for (i = 0; i < NADDR; i++) {
		got[i] = match(al, addrs[i], NULL);
		got_h[i] = match(al, addrs[i], host);
		CHECK(got[i] == match(al, addrs[i], NULL));
		if (allow_is_open(al))
			CHECK(got[i] && got_h[i]);
		if (got[i])
			CHECK(got_h[i]);
	}
	/* 10.77.0.1 and 127.0.0.1, as IPv4-mapped IPv6 peers. */
	if (got[1])
		CHECK(got[12]);
	if (got[0])
		CHECK(got[13]);
	if (got_h[1])
		CHECK(got_h[12]);
	if (got_h[0])
		CHECK(got_h[13]);
	/* Not an address (AF_UNIX, or too short): never matches a closed list. */
	if (!allow_is_open(al)) {
		struct sockaddr_in sin = { .sin_family = AF_INET };

		CHECK(!allow_match(al, NULL, 0, NULL));
		CHECK(!allow_match(al, (const struct sockaddr *)&sin, 4, NULL));
	}

	/* SPEC plus an address entry. */
	spec2 = malloc(n + sizeof(EXTRA) + 1);
	CHECK(spec2 != NULL);
	snprintf(spec2, n + sizeof(EXTRA) + 1, "%s " EXTRA, spec);
	if (allow_compile(spec2, &al2, err, sizeof(err)) == 0) {
		CHECK(match(al2, EXTRA, NULL));
		CHECK(match(al2, "::ffff:" EXTRA, NULL));
		for (i = 0; i < NADDR && !allow_is_open(al); i++) {
			if (got[i])
				CHECK(match(al2, addrs[i], NULL));
			if (got_h[i])
				CHECK(match(al2, addrs[i], host));
		}
		allow_free(al2);
	} else {
		/* Only the entry count can break by adding a plain address. */
		CHECK(strstr(err, "too many entries") != NULL);
	}
	free(spec2);
out:
	allow_free(al);
	free(spec);
	free(host);
	return 0;
}
