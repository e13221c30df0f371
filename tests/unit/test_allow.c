/* test_allow.c - the relocation allow-list (lib/allow.c). */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include <cmocka.h>

#include "allow.h"
#include "conf.h"
#include "xerr.h"
#include "testdata.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static struct allow_list *
compile_ok(const char *spec)
{
	struct allow_list *al = NULL;
	char err[512] = "";
	int r = allow_compile(spec, &al, err, sizeof(err));

	if (r != 0)
		fail_msg("allow_compile(\"%s\") = %d: %s", spec, r, err);
	assert_non_null(al);
	return al;
}

/* Match a peer given as text ("10.0.0.1", "::1"; NULL = no address). */
static bool
peer_allowed(const struct allow_list *al, const char *addr, const char *hostname)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;

	memset(&ss, 0, sizeof(ss));
	if (addr != NULL) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
			sin->sin_family = AF_INET;
			sin->sin_port = htons(40000);
			len = sizeof(*sin);
		} else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
			sin6->sin6_family = AF_INET6;
			sin6->sin6_port = htons(40000);
			len = sizeof(*sin6);
		} else {
			fail_msg("bad test address %s", addr);
		}
	}
	return allow_match(al, addr != NULL ? (struct sockaddr *)&ss : NULL, len, hostname);
}

/* The key of peer addr (as peer_allowed parses it), with its return. */
static int
key_of(const char *addr, unsigned short port, unsigned char key[ALLOW_ADDR_KEY_LEN])
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		return allow_addr_key((struct sockaddr *)&ss, sizeof(*sin), key);
	}
	assert_int_equal(inet_pton(AF_INET6, addr, &sin6->sin6_addr), 1);
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	return allow_addr_key((struct sockaddr *)&ss, sizeof(*sin6), key);
}

/* allow_addr_key: one key per address, whatever the port; an IPv4-mapped
 * peer has its IPv4 address's key (xmigd caches name checks under it). */
static void
test_addr_key_per_address_mapped_is_ipv4(void **state)
{
	unsigned char a[ALLOW_ADDR_KEY_LEN], b[ALLOW_ADDR_KEY_LEN];
	static const unsigned char want4[ALLOW_ADDR_KEY_LEN] = { 4, 10, 0, 0, 5 };
	struct sockaddr_in sin;

	assert_int_equal(key_of("10.0.0.5", 1, a), 0);
	assert_memory_equal(a, want4, sizeof(a));
	assert_int_equal(key_of("10.0.0.5", 2, b), 0);
	assert_memory_equal(a, b, sizeof(a));
	assert_int_equal(key_of("::ffff:10.0.0.5", 3, b), 0);
	assert_memory_equal(a, b, sizeof(a));
	assert_int_equal(key_of("10.0.0.6", 1, b), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	assert_int_equal(key_of("fd00::5", 1, a), 0);
	assert_int_equal(a[0], 6);
	assert_int_equal(a[16], 5);
	assert_int_equal(key_of("fd00::6", 1, b), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	assert_int_equal(allow_addr_key((struct sockaddr *)&sin, sizeof(sin) - 1, a),
	    XMIG_ERR_INVALID);
	sin.sin_family = AF_UNIX;
	assert_int_equal(allow_addr_key((struct sockaddr *)&sin, sizeof(sin), a),
	    XMIG_ERR_INVALID);
	assert_int_equal(allow_addr_key(NULL, 0, a), XMIG_ERR_INVALID);
}

struct match_case {
	const char *addr;	/* NULL: only a host name */
	const char *host;	/* NULL: no reverse name */
	bool want;
};

static void
check_cases(const char *spec, const struct match_case *cases, size_t n)
{
	struct allow_list *al = compile_ok(spec);
	size_t i;

	for (i = 0; i < n; i++) {
		bool got = peer_allowed(al, cases[i].addr, cases[i].host);

		if (got != cases[i].want)
			fail_msg("list '%s': peer %s (name %s) %s, expected %s", spec,
			    cases[i].addr ? cases[i].addr : "-", cases[i].host ? cases[i].host : "-",
			    got ? "allowed" : "refused", cases[i].want ? "allowed" : "refused");
	}
	allow_free(al);
}

#define CHECK(spec, cases) check_cases(spec, cases, ARRAY_LEN(cases))

static void
test_default_list_allows_localhost_only(void **state)
{
	static const struct match_case cases[] = {
		{ "127.0.0.1", NULL, true },
		{ "127.255.0.9", NULL, true },
		{ "::1", NULL, true },
		{ "::ffff:127.0.0.1", NULL, true },	/* IPv4 over a dual-stack socket */
		{ "127.0.0.1", "localhost", true },
		{ "192.0.2.7", "localhost", true },	/* as xend: the name is matched too */
		{ "192.0.2.7", "LOCALHOST", true },	/* names are case-insensitive */
		{ NULL, "localhost", true },
		{ "10.0.0.1", NULL, false },
		{ "10.0.0.1", "dst.example.org", false },
		{ "128.0.0.1", NULL, false },
		{ "126.255.255.255", NULL, false },
		{ "::2", NULL, false },
		{ "::ffff:10.0.0.1", NULL, false },
		{ "10.0.0.1", "localhost.evil.example", false },
		{ "10.0.0.1", "notlocalhost", false },
		{ NULL, NULL, false },
	};
	struct allow_list *al = compile_ok(CONF_DEFAULT_HOSTS_ALLOW);

	assert_false(allow_is_open(al));
	assert_true(allow_wants_name(al));
	allow_free(al);
	CHECK(CONF_DEFAULT_HOSTS_ALLOW, cases);
}

static void
test_cidr_v4_boundaries(void **state)
{
	static const struct match_case c8[] = {
		{ "10.0.0.0", NULL, true }, { "10.255.255.255", NULL, true },
		{ "9.255.255.255", NULL, false }, { "11.0.0.0", NULL, false },
		{ "::ffff:10.9.9.9", NULL, true }, { "::a00:1", NULL, false },
	};
	static const struct match_case c25[] = {
		{ "192.168.1.127", NULL, false }, { "192.168.1.128", NULL, true },
		{ "192.168.1.255", NULL, true }, { "192.168.2.128", NULL, false },
	};
	static const struct match_case c31[] = {
		{ "172.16.0.5", NULL, false }, { "172.16.0.6", NULL, true },
		{ "172.16.0.7", NULL, true }, { "172.16.0.8", NULL, false },
	};
	static const struct match_case c32[] = {
		{ "203.0.113.9", NULL, true }, { "203.0.113.8", NULL, false },
		{ "203.0.113.10", NULL, false },
	};
	static const struct match_case c0[] = {
		{ "0.0.0.0", NULL, true }, { "255.255.255.255", NULL, true },
		{ "::1", NULL, false }, { NULL, "anything", false },
	};

	CHECK("10.0.0.0/8", c8);
	CHECK("10.1.2.3/8", c8);	/* host bits are ignored */
	CHECK("192.168.1.128/25", c25);
	CHECK("172.16.0.6/31", c31);
	CHECK("203.0.113.9/32", c32);
	CHECK("0.0.0.0/0", c0);
}

static void
test_cidr_v6_boundaries(void **state)
{
	static const struct match_case c8[] = {
		{ "fd00::", NULL, true }, { "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL, true },
		{ "fcff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL, false }, { "fe00::", NULL, false },
		{ "10.0.0.1", NULL, false },
	};
	static const struct match_case c33[] = {
		{ "2001:db8::1", NULL, true }, { "2001:db8:7fff:ffff::1", NULL, true },
		{ "2001:db8:8000::", NULL, false }, { "2001:db9::", NULL, false },
	};
	static const struct match_case c128[] = {
		{ "fe80::1", NULL, true }, { "fe80::2", NULL, false }, { "fe80::1:1", NULL, false },
	};
	static const struct match_case c0[] = {
		{ "::", NULL, true }, { "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL, true },
		{ "10.0.0.1", NULL, false },
	};

	CHECK("fd00::/8", c8);
	CHECK("2001:db8::/33", c33);
	CHECK("fe80::1/128", c128);
	CHECK("fe80::1", c128);		/* a plain address is exact */
	CHECK("::/0", c0);
}

static void
test_mapped_peers_match_ipv4_entries(void **state)
{
	static const struct match_case plain[] = {
		{ "::ffff:10.1.2.3", NULL, true }, { "10.1.2.3", NULL, true },
		{ "::ffff:10.1.2.4", NULL, false },
	};
	static const struct match_case re[] = {
		{ "::ffff:10.1.2.3", NULL, true }, { "::ffff:10.1.3.3", NULL, false },
	};
	static const struct match_case mapped_entry[] = {
		{ "10.200.0.1", NULL, true }, { "::ffff:10.200.0.1", NULL, true },
		{ "11.0.0.1", NULL, false },
	};

	CHECK("10.1.2.3", plain);
	CHECK("::ffff:10.1.2.3", plain);	/* a mapped entry is an IPv4 entry */
	CHECK("^10\\.1\\.2\\.[0-9]+$", re);	/* regexes see the IPv4 text */
	CHECK("::ffff:10.0.0.0/104", mapped_entry);
}

static void
test_regex_entries_are_anchored(void **state)
{
	static const struct match_case exact_re[] = {
		{ "10.0.0.1", NULL, true }, { "110.0.0.12", NULL, false },
		{ "10.0.0.12", NULL, false }, { "110.0.0.1", NULL, false },
	};
	static const struct match_case xend_re[] = {
		{ "10.0.0.1", NULL, true }, { "110.0.0.12", NULL, false },
		{ "10.0.0.12", NULL, false },
	};
	static const struct match_case name_re[] = {
		{ NULL, "host", true }, { NULL, "myhost", false }, { NULL, "hostx", false },
		{ NULL, "host.example.org", false },
	};
	static const struct match_case alt_re[] = {
		{ NULL, "a", true }, { NULL, "b", true }, { NULL, "ab", false },
		{ NULL, "xa", false }, { NULL, "bx", false },
	};
	static const struct match_case dot_re[] = {
		/* a regex '.' matches any character, but only over the whole name */
		{ "10.0.0.1", NULL, true }, { NULL, "10x0y0z1", true }, { NULL, "10x0y0z12", false },
	};

	CHECK("10\\.0\\.0\\.1", exact_re);
	CHECK("^10\\.0\\.0\\.1$", xend_re);
	CHECK("10.0.0.1", exact_re);		/* a plain address, exact */
	CHECK("host", name_re);
	CHECK("a|b", alt_re);			/* alternation stays inside the anchors */
	CHECK("10.0.0.1$", dot_re);		/* not an address: a regex */
}

static void
test_xend_style_regex_lists(void **state)
{
	static const struct match_case nets[] = {
		{ "192.168.3.4", NULL, true }, { "192.168.0.1", NULL, true },
		{ "10.0.0.77", NULL, true }, { "10.0.0.1", NULL, true },
		{ "10.0.1.1", NULL, false }, { "172.16.0.1", NULL, false },
		{ "1.192.168.1", NULL, false }, { "::ffff:192.168.9.9", NULL, true },
	};
	static const struct match_case loc[] = {
		{ NULL, "localhost", true }, { NULL, "localhost.localdomain", true },
		{ NULL, "localhostxlocaldomain", false }, { "10.0.0.1", NULL, false },
	};

	CHECK("^192\\.168\\..* ^10\\.0\\.0\\.[0-9]+$", nets);
	CHECK("^localhost$ ^localhost\\.localdomain$", loc);
}

static void
test_hostname_matching(void **state)
{
	static const struct match_case cases[] = {
		{ "192.0.2.1", "dst.example.org", true },
		{ "192.0.2.1", "DST.Example.ORG", true },
		{ "2001:db8::5", "a.b.example.org", true },
		{ "192.0.2.1", "example.org", false },
		{ "192.0.2.1", "dst.example.org.evil.test", false },
		{ "192.0.2.1", "dst-example.org", false },
		{ "192.0.2.1", "", false },
		{ "192.0.2.1", NULL, false },
		{ NULL, "x.example.org", true },
	};
	struct allow_list *al = compile_ok("10.0.0.0/8 fd00::1");

	assert_false(allow_wants_name(al)); /* addresses only: no reverse lookup needed */
	allow_free(al);
	CHECK("^.*\\.example\\.org$", cases);
	CHECK(".*\\.example\\.org", cases);
}

static void
test_tabs_and_runs_of_spaces_separate_entries(void **state)
{
	static const struct match_case cases[] = {
		{ "10.0.0.1", NULL, true }, { "::1", NULL, true }, { NULL, "h1", true },
		{ "10.0.0.2", NULL, false },
	};

	CHECK("  10.0.0.1\t\t::1 \t h1  ", cases);
}

static void
test_empty_list_allows_everyone(void **state)
{
	static const char *const specs[] = { "", "   ", " \t ", NULL };
	struct sockaddr_un sun;
	size_t i;

	for (i = 0; i < ARRAY_LEN(specs); i++) {
		struct allow_list *al = compile_ok(specs[i]);

		assert_true(allow_is_open(al));
		assert_false(allow_wants_name(al));
		assert_true(peer_allowed(al, "10.0.0.1", NULL));
		assert_true(peer_allowed(al, "2001:db8::1", "anything"));
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		assert_true(allow_match(al, (struct sockaddr *)&sun, sizeof(sun), NULL));
		allow_free(al);
	}
}

static void
test_fails_closed_on_null_list_short_or_foreign_address(void **state)
{
	struct allow_list *al = compile_ok("0.0.0.0/0 ::/0");
	struct sockaddr_in sin;
	struct sockaddr_un sun;

	assert_false(allow_is_open(NULL));
	assert_false(allow_wants_name(NULL));
	assert_false(peer_allowed(NULL, "127.0.0.1", "localhost"));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	assert_true(allow_match(al, (struct sockaddr *)&sin, sizeof(sin), NULL));
	assert_false(allow_match(al, (struct sockaddr *)&sin, sizeof(sin) - 1, NULL));
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	assert_false(allow_match(al, (struct sockaddr *)&sun, sizeof(sun), NULL));
	allow_free(al);
	allow_free(NULL);
}

struct bad_case {
	const char *spec;
	const char *msg_has[2];	/* substrings of the error message */
};

static const struct bad_case bad_cases[] = {
	{ "10.0.0.0/33", { "\"10.0.0.0/33\"", "0 to 32" } },
	{ "127.0.0.1 10.0.0.0/-1", { "\"10.0.0.0/-1\"", "prefix length" } },
	{ "fd00::/129", { "\"fd00::/129\"", "0 to 128" } },
	{ "10.0.0.0/", { "\"10.0.0.0/\"", "prefix length" } },
	{ "10.0.0.0/8x", { "\"10.0.0.0/8x\"", "prefix length" } },
	{ "10.0.0.0/0008", { "\"10.0.0.0/0008\"", "prefix length" } },
	{ "10.0.0/8", { "\"10.0.0/8\"", "not an address/prefix" } },
	{ "host/24", { "\"host/24\"", "not an address/prefix" } },
	{ "^localhost$ [a-", { "\"[a-\"", "bad regular expression" } },
	{ "(ab", { "\"(ab\"", "bad regular expression" } },
	{ "a)|(b", { "\"a)|(b\"", "unmatched \")\"" } },
	{ "*x", { "\"*x\"", "bad regular expression" } },
	{ "^localhost\\\\.localdomain$", { "\"^localhost\\\\.localdomain$\"", "doubled backslash" } },
	/* regcomp unrolls repetitions: these would take gigabytes */
	{ "a++++++++++++++++++++++++++++++++++++++++", { "\"a+++", "right after another" } },
	{ "r???????++++++++???", { "\"r???????++++++++???\"", "right after another" } },
	{ "x{2}*", { "\"x{2}*\"", "right after another" } },
	{ "((((((((((((a+)+)+)+)+)+)+)+)+)+)+)+)", { "\"((((", "too complex" } },
	{ "((a{99}){99}){99}", { "\"((a{99}){99}){99}\"", "too complex" } },
	{ "(x+){4000}", { "\"(x+){4000}\"", "too complex" } },
	{ "(a*)*\\1", { "\"(a*)*\\1\"", "back-references" } },
	/* a repeated group that can match nothing: regcomp's time is exponential
	 * in the number of such groups (25 copies of (a?)* took minutes) */
	{ "(a?)*(a?)*(a?)*", { "\"(a?)*", "can match nothing" } },
	{ "^host(|x)+$", { "\"^host(|x)+$\"", "can match nothing" } },
	{ "((ab)*c|d*){0,3}", { "\"((ab)*c|d*){0,3}\"", "can match nothing" } },
	/* groups nested deeper than 16 */
	{ "(((((((((((((((((a)))))))))))))))))", { "\"((((", "too complex" } },
};

static void
test_bad_entries_refused_with_message(void **state)
{
	size_t i, j;

	for (i = 0; i < ARRAY_LEN(bad_cases); i++) {
		struct allow_list *al = (struct allow_list *)0x1;
		char err[512] = "";
		int r = allow_compile(bad_cases[i].spec, &al, err, sizeof(err));

		if (r >= 0)
			fail_msg("allow_compile(\"%s\") accepted", bad_cases[i].spec);
		assert_null(al);
		for (j = 0; j < 2; j++)
			if (strstr(err, bad_cases[i].msg_has[j]) == NULL)
				fail_msg("allow_compile(\"%s\"): message \"%s\" lacks \"%s\"",
				    bad_cases[i].spec, err, bad_cases[i].msg_has[j]);
	}
	/* validation only (no list wanted), and no message buffer */
	assert_int_equal(allow_compile("10.0.0.0/8 ^a$", NULL, NULL, 0), 0);
	assert_true(allow_compile("10.0.0.0/99", NULL, NULL, 0) < 0);
}

static void
test_parens_brackets_and_escapes_inside_regex(void **state)
{
	static const struct match_case cases[] = {
		{ NULL, "node1.example.org", true }, { NULL, "node)", true },
		{ NULL, "x(y", true }, { NULL, "node12.example.org", false },
	};

	/* ')' inside brackets or escaped is literal and must not count */
	CHECK("(node[0-9]\\.example\\.org) node[)] x\\(y", cases);
	CHECK("(node[[:digit:]]\\.example\\.org) node[])] x[(]y", cases);
	/* ordinary repetitions are fine */
	allow_free(compile_ok("node[0-9]{1,3} (a|b)+c* x{2,} ^[a-z0-9.-]{1,253}$ y{1000}"));
	/* repeated groups that always match something, nested 16 deep */
	allow_free(compile_ok("((ab)*c)* (a?b)+ (a|b*c)* (.*\\.x)+ ^(node|web)[0-9]*\\.lan$ "
	    "((((((((((((((((a))))))))))))))))"));
}

static void
test_entry_count_limit(void **state)
{
	char *spec = malloc(257 * 16);
	struct allow_list *al = NULL;
	char err[256] = "";
	size_t i, o = 0;

	assert_non_null(spec);
	for (i = 0; i < 256; i++)
		o += (size_t)sprintf(spec + o, "10.0.%zu.%zu ", i / 256, i % 256);
	al = compile_ok(spec);
	assert_true(peer_allowed(al, "10.0.0.255", NULL));
	allow_free(al);
	sprintf(spec + o, "^h$");
	assert_int_equal(allow_compile(spec, &al, err, sizeof(err)), XMIG_ERR_TOO_LONG);
	assert_non_null(strstr(err, "too many entries"));
	free(spec);
}

/* ---- xend-config.sxp samples ---- */

/* The xend sxp parser removed one level of backslash escapes inside quoted
 * strings; do the same to get the value xend compiled. */
static void
sxp_unescape(const char *s, size_t n, char *out, size_t outlen)
{
	size_t i, o = 0;

	for (i = 0; i < n && o + 1 < outlen; i++) {
		if (s[i] == '\\' && i + 1 < n) {
			i++;
			switch (s[i]) {
			case 'n': out[o++] = '\n'; break;
			case 't': out[o++] = '\t'; break;
			default: out[o++] = s[i]; break;
			}
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
}

/* The quoted value after "(xend-relocation-hosts-allow" in line, raw. */
static bool
sxp_hosts_allow(const char *line, char *raw, size_t rawlen)
{
	const char *p = strstr(line, "(xend-relocation-hosts-allow");
	const char *q;
	char quote;

	if (p == NULL)
		return false;
	p += strlen("(xend-relocation-hosts-allow");
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '\'' && *p != '"')
		return false;
	quote = *p++;
	for (q = p; *q != '\0' && *q != quote; q++)
		if (*q == '\\' && q[1] != '\0')
			q++;
	if (*q != quote || (size_t)(q - p) >= rawlen)
		return false;
	memcpy(raw, p, (size_t)(q - p));
	raw[q - p] = '\0';
	return true;
}

/* What xend-config.sxp documents: "If this is empty (the default), then all
 * connections are allowed ... Otherwise, this should be a space-separated
 * sequence of regular expressions.  Any host with a fully-qualified domain
 * name or an IP address that matches one of these regular expressions will
 * be accepted." */
static void
check_xend_value(const char *file, const char *value)
{
	struct allow_list *al = compile_ok(value);

	if (value[0] == '\0') {
		assert_true(allow_is_open(al));
		assert_true(peer_allowed(al, "198.51.100.1", NULL));
	} else if (strcmp(value, "^localhost$ ^localhost\\.localdomain$") == 0) {
		assert_true(peer_allowed(al, "127.0.0.1", "localhost"));
		assert_true(peer_allowed(al, "127.0.0.1", "localhost.localdomain"));
		assert_false(peer_allowed(al, "127.0.0.1", "localhostXlocaldomain"));
		assert_false(peer_allowed(al, "198.51.100.1", "other.example.org"));
		assert_false(peer_allowed(al, "198.51.100.1", NULL));
	} else if (strcmp(value, "^localhost$ ^.*\\.example\\.org$") == 0) {
		assert_true(peer_allowed(al, "198.51.100.1", "localhost"));
		assert_true(peer_allowed(al, "198.51.100.1", "dst.example.org"));
		assert_false(peer_allowed(al, "198.51.100.1", "dst.example.com"));
		assert_false(peer_allowed(al, "198.51.100.1", "example.org"));
		assert_false(peer_allowed(al, "198.51.100.1", NULL));
	} else {
		fail_msg("%s: hosts-allow value '%s' has no expected behaviour in this test", file,
		    value);
	}
	allow_free(al);
}

static void
test_xend_config_hosts_allow_values(void **state)
{
	const char *dir = testdata_dir();
	DIR *d = opendir(dir);
	struct dirent *de;
	unsigned files = 0, active = 0, examples = 0;

	if (d == NULL) {
		testdata_missing(dir);
	}
	while ((de = readdir(d)) != NULL) {
		char path[1024], line[1024], raw[512], value[512];
		size_t n = strlen(de->d_name);
		FILE *f;

		if (n < 4 || strcmp(de->d_name + n - 4, ".sxp") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		assert_non_null(f = fopen(path, "r"));
		files++;
		while (fgets(line, sizeof(line), f) != NULL) {
			const char *p = line;
			char err[512] = "";

			if (!sxp_hosts_allow(line, raw, sizeof(raw)))
				continue;
			while (*p == ' ' || *p == '\t')
				p++;
			if (*p == '#')
				examples++;
			else
				active++;
			sxp_unescape(raw, strlen(raw), value, sizeof(value));
			check_xend_value(de->d_name, value);
			/* Pasted without the sxp unescaping, a doubled backslash is
			 * refused with a hint instead of silently never matching. */
			if (strstr(raw, "\\\\") != NULL) {
				assert_true(allow_compile(raw, NULL, err, sizeof(err)) < 0);
				assert_non_null(strstr(err, "doubled backslash"));
			}
		}
		fclose(f);
	}
	closedir(d);
	assert_true(files >= 4);
	assert_true(active >= files);	/* every sample sets one */
	assert_true(examples >= 2 * files);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_list_allows_localhost_only),
		cmocka_unit_test(test_addr_key_per_address_mapped_is_ipv4),
		cmocka_unit_test(test_cidr_v4_boundaries),
		cmocka_unit_test(test_cidr_v6_boundaries),
		cmocka_unit_test(test_mapped_peers_match_ipv4_entries),
		cmocka_unit_test(test_regex_entries_are_anchored),
		cmocka_unit_test(test_xend_style_regex_lists),
		cmocka_unit_test(test_hostname_matching),
		cmocka_unit_test(test_tabs_and_runs_of_spaces_separate_entries),
		cmocka_unit_test(test_empty_list_allows_everyone),
		cmocka_unit_test(test_fails_closed_on_null_list_short_or_foreign_address),
		cmocka_unit_test(test_bad_entries_refused_with_message),
		cmocka_unit_test(test_parens_brackets_and_escapes_inside_regex),
		cmocka_unit_test(test_entry_count_limit),
		cmocka_unit_test(test_xend_config_hosts_allow_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
