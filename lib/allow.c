/* allow.c - the relocation allow-list (xend's xend-relocation-hosts-allow).
 *
 * Entries are separated by spaces or tabs.  Each one is, in this order:
 *   - address/prefix (CIDR), IPv4 or IPv6: "10.0.0.0/8", "fd00::/8";
 *   - a plain address, matched exactly: "10.0.0.5", "::1";
 *   - otherwise a POSIX extended regex, case-insensitive, anchored at both
 *     ends as "^(entry)$", matched against the peer's numeric address and
 *     against its host name when the caller has one.
 * An IPv4-mapped IPv6 peer (::ffff:a.b.c.d, as seen on a dual-stack socket)
 * is matched as the IPv4 address a.b.c.d; IPv4-mapped entries are stored as
 * IPv4 for the same reason.
 *
 * xend-config.sxp wrote regexes with doubled backslashes ('^localhost\\.x$')
 * because its sxp parser removed one level; xmigd.conf keeps backslashes as
 * they are, so a doubled backslash (which could only match a literal
 * backslash, never found in an address or host name) is refused with a hint
 * rather than silently never matching.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allow.h"
#include "xerr.h"

#define ALLOW_MAX_ENTRIES 256
/* How much of a bad entry is quoted in a message. */
#define ALLOW_QUOTE_MAX 80

enum allow_kind { ALLOW_V4, ALLOW_V6, ALLOW_RE };

struct allow_entry {
	enum allow_kind kind;
	unsigned prefix;	/* bits, for ALLOW_V4/ALLOW_V6 */
	uint8_t addr[16];	/* network byte order, masked to prefix */
	regex_t re;		/* for ALLOW_RE */
};

struct allow_list {
	size_t n;
	bool wants_name;
	struct allow_entry e[];
};

static bool
is_sep(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Quote an entry of length n for a message. */
static void
quote_entry(char *dst, size_t dstlen, const char *s, size_t n)
{
	if (n > ALLOW_QUOTE_MAX)
		snprintf(dst, dstlen, "entry \"%.*s...\"", ALLOW_QUOTE_MAX, s);
	else
		snprintf(dst, dstlen, "entry \"%.*s\"", (int)n, s);
}

static void
mask_addr(uint8_t *addr, size_t len, unsigned prefix)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned bits = prefix > i * 8 ? prefix - (unsigned)i * 8 : 0;

		if (bits >= 8)
			continue;
		addr[i] &= (uint8_t)(0xff00u >> bits);
	}
}

static bool
prefix_equal(const uint8_t *a, const uint8_t *b, unsigned prefix)
{
	unsigned full = prefix / 8, rest = prefix % 8;

	if (memcmp(a, b, full) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((a[full] ^ b[full]) & (uint8_t)(0xff00u >> rest)) == 0;
}

static const uint8_t v4mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* Parse "addr" or "addr/prefix" into e.  Returns 1 when the entry is an
 * address entry, 0 when it is not (a regex), negative on a bad CIDR. */
static int
parse_addr_entry(struct allow_entry *e, const char *s, size_t n, char *err, size_t errlen)
{
	char buf[INET6_ADDRSTRLEN + 8], q[ALLOW_QUOTE_MAX + 16];
	const char *slash = memchr(s, '/', n);
	size_t alen = slash != NULL ? (size_t)(slash - s) : n;
	unsigned long prefix = 0;
	unsigned maxbits;

	quote_entry(q, sizeof(q), s, n);
	if (alen >= sizeof(buf)) {
		if (slash == NULL)
			return 0;
		goto bad_cidr;
	}
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (inet_pton(AF_INET, buf, e->addr) == 1) {
		e->kind = ALLOW_V4;
		maxbits = 32;
	} else if (inet_pton(AF_INET6, buf, e->addr) == 1) {
		e->kind = ALLOW_V6;
		maxbits = 128;
	} else if (slash == NULL) {
		return 0;
	} else {
		goto bad_cidr;
	}
	if (slash == NULL) {
		prefix = maxbits;
	} else {
		const char *p = slash + 1, *end = s + n;

		if (p == end || end - p > 3)
			goto bad_prefix;
		for (; p < end; p++) {
			if (*p < '0' || *p > '9')
				goto bad_prefix;
			prefix = prefix * 10 + (unsigned long)(*p - '0');
		}
		if (prefix > maxbits)
			goto bad_prefix;
	}
	e->prefix = (unsigned)prefix;
	if (e->kind == ALLOW_V6 && e->prefix >= 96 &&
	    memcmp(e->addr, v4mapped_prefix, sizeof(v4mapped_prefix)) == 0) {
		/* ::ffff:a.b.c.d/n is the IPv4 entry a.b.c.d/(n-96) */
		memmove(e->addr, e->addr + 12, 4);
		e->kind = ALLOW_V4;
		e->prefix -= 96;
		maxbits = 32;
	}
	mask_addr(e->addr, maxbits / 8, e->prefix);
	return 1;

bad_prefix:
	snprintf(err, errlen, "%s: prefix length must be a number from 0 to %u", q, maxbits);
	return XMIG_ERR_INVALID;
bad_cidr:
	snprintf(err, errlen, "%s: has a '/' but is not an address/prefix (CIDR) entry "
	    "such as 10.0.0.0/8 or fd00::/8", q);
	return XMIG_ERR_INVALID;
}

/* Index of the ']' closing the bracket expression that starts at s[i], or 0
 * when there is none. */
static size_t
bracket_end(const char *s, size_t i, size_t n)
{
	size_t j = i + 1;

	if (j < n && s[j] == '^')
		j++;
	if (j < n && s[j] == ']')
		j++;
	while (j < n && s[j] != ']') {
		if (s[j] == '[' && j + 1 < n && (s[j + 1] == ':' || s[j + 1] == '=' || s[j + 1] == '.')) {
			char kind = s[j + 1];
			size_t k;

			for (k = j + 2; k + 1 < n; k++)
				if (s[k] == kind && s[k + 1] == ']')
					break;
			if (k + 1 >= n)
				return 0;
			j = k + 2;
		} else {
			j++;
		}
	}
	return j < n ? j : 0;
}

/* True when every ')' outside brackets and escapes closes a '(' of the entry,
 * so that wrapping it in "^(" ... ")$" cannot change what it means:
 * "a)|(b" alone has a literal ')', but wrapped it would escape the anchors. */
static bool
parens_balanced(const char *s, size_t n)
{
	size_t i, depth = 0;

	for (i = 0; i < n; i++) {
		switch (s[i]) {
		case '\\':
			i++;
			break;
		case '[': {
			size_t j = bracket_end(s, i, n);

			if (j == 0)
				return true; /* regcomp reports the bracket */
			i = j;
			break;
		}
		case '(':
			depth++;
			break;
		case ')':
			if (depth == 0)
				return false;
			depth--;
			break;
		default:
			break;
		}
	}
	return true;
}

/* Rough count of the nodes glibc's regcomp builds for s[*i..n), stopping at
 * the ')' closing a group when depth > 0.  regcomp copies a subexpression
 * for each repetition it must unroll ("x+" is "xx*", "x{3,5}" five copies),
 * so nested repetitions ("((a+)+)+...", "((a{99}){99}){99}") grow
 * exponentially and can take gigabytes; such entries are refused. */
#define ALLOW_RE_COST_MAX 1000
#define ALLOW_RE_COST_TOTAL 20000
/* Groups nested deeper than this are refused: regcomp's time grows with the
 * fourth power of the depth, and a host pattern needs two or three. */
#define ALLOW_RE_DEPTH_MAX 16

static size_t
sat_add(size_t a, size_t b)
{
	return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

static size_t
sat_mul(size_t a, size_t b)
{
	return b != 0 && a > SIZE_MAX / b ? SIZE_MAX : a * b;
}

/* Parse "{m}", "{m,}" or "{m,n}" at s[*i]; returns the number of copies
 * regcomp makes, or 0 when it is not a bound (left to regcomp). */
static size_t
bound_copies(const char *s, size_t n, size_t *i, size_t *lo_out)
{
	size_t j = *i + 1, lo = 0, hi = 0, digits = 0;
	bool comma = false, have_hi = false;

	for (; j < n && s[j] >= '0' && s[j] <= '9'; j++, digits++)
		lo = sat_add(sat_mul(lo, 10), (size_t)(s[j] - '0'));
	if (j < n && s[j] == ',') {
		comma = true;
		for (j++; j < n && s[j] >= '0' && s[j] <= '9'; j++, have_hi = true)
			hi = sat_add(sat_mul(hi, 10), (size_t)(s[j] - '0'));
	}
	if (j >= n || s[j] != '}' || (digits == 0 && !have_hi))
		return 0;
	*i = j + 1;
	if (lo_out != NULL)
		*lo_out = lo;
	if (!comma)
		return lo > 0 ? lo : 1;
	if (!have_hi)
		return sat_add(lo, 1);
	return (hi > lo ? hi : lo) > 0 ? (hi > lo ? hi : lo) : 1;
}

static size_t
regex_cost(const char *s, size_t n, size_t *i, unsigned depth)
{
	size_t total = 0, last = 0;

	while (*i < n) {
		char c = s[*i];
		size_t k, j;

		switch (c) {
		case ')':
			if (depth > 0)
				return total;
			(*i)++;
			last = 1;
			total = sat_add(total, 1);
			break;
		case '(':
			(*i)++;
			if (depth >= ALLOW_RE_DEPTH_MAX)
				return SIZE_MAX;
			last = sat_add(regex_cost(s, n, i, depth + 1), 1);
			if (*i < n)
				(*i)++; /* the ')' */
			total = sat_add(total, last);
			break;
		case '|':
			(*i)++;
			last = 0;
			total = sat_add(total, 1);
			break;
		case '*':
		case '?':
			(*i)++;
			break;
		case '+':
			(*i)++;
			total = sat_add(total, last);
			last = sat_mul(last, 2);
			break;
		case '{':
			if ((k = bound_copies(s, n, i, NULL)) == 0) {
				(*i)++;
				last = 1;
				total = sat_add(total, 1);
				break;
			}
			total = sat_add(total - last, sat_mul(last, k));
			last = sat_mul(last, k);
			break;
		case '[':
			j = bracket_end(s, *i, n);
			*i = j != 0 ? j + 1 : n;
			last = 1;
			total = sat_add(total, 1);
			break;
		case '\\':
			*i += *i + 1 < n ? 2 : 1;
			last = 1;
			total = sat_add(total, 1);
			break;
		default:
			(*i)++;
			last = 1;
			total = sat_add(total, 1);
			break;
		}
	}
	return total;
}

/* True when a repetition operator directly follows another ("a+*", "a??",
 * "a{2}+"): POSIX leaves it undefined, and glibc's regcomp takes time
 * exponential in the length of such a run ("r??????++++++++"). */
static bool
has_stacked_repeat(const char *s, size_t n)
{
	bool prev = false;
	size_t i = 0, j;

	while (i < n) {
		char c = s[i];

		if (c == '*' || c == '+' || c == '?') {
			if (prev)
				return true;
			prev = true;
			i++;
		} else if (c == '{' && bound_copies(s, n, &i, NULL) != 0) {
			if (prev)
				return true;
			prev = true; /* i is past the '}' */
		} else if (c == '\\') {
			prev = false;
			i += i + 1 < n ? 2 : 1;
		} else if (c == '[' && (j = bracket_end(s, i, n)) != 0) {
			prev = false;
			i = j + 1;
		} else {
			prev = false;
			i++;
		}
	}
	return false;
}

/* Parse the alternatives from s[*i] up to the ')' closing the current group
 * (depth > 0) or the end; sets *nullable when they can match the empty
 * string.  Returns true when a repetition (*, +, ?, {m,n}) applies to a group
 * that can match the empty string ("(a?)*", "(a|)+", "(x*){2}"): glibc's
 * regcomp computes epsilon closures over such groups in time exponential in
 * their number (25 copies of "(a?)*" take minutes), and they add nothing a
 * host pattern needs. */
static bool
repeats_nullable(const char *s, size_t n, size_t *i, unsigned depth, bool *nullable)
{
	bool branch = true, any = false;

	while (*i < n) {
		char c = s[*i];
		bool atom, group = false;
		size_t j, lo;

		if (c == ')' && depth > 0)
			break;
		if (c == '|') {
			any = any || branch;
			branch = true;
			(*i)++;
			continue;
		}
		if (c == '(') {
			(*i)++;
			if (repeats_nullable(s, n, i, depth + 1, &atom))
				return true;
			if (*i < n)
				(*i)++; /* the ')' */
			group = true;
		} else if (c == '^' || c == '$') {
			atom = true;
			group = true;
			(*i)++;
		} else if (c == '[' && (j = bracket_end(s, *i, n)) != 0) {
			atom = false;
			*i = j + 1;
		} else if (c == '\\') {
			atom = false;
			*i += *i + 1 < n ? 2 : 1;
		} else {
			atom = false;
			(*i)++;
		}
		/* its repetitions (a run of them is refused elsewhere) */
		while (*i < n) {
			c = s[*i];
			j = *i;
			if (c == '*' || c == '?' || c == '+') {
				(*i)++;
			} else if (c != '{' || bound_copies(s, n, &j, &lo) == 0) {
				break;
			} else {
				*i = j;
				c = lo == 0 ? '*' : '+';
			}
			if (group && atom)
				return true;
			if (c != '+')
				atom = true;
		}
		branch = branch && atom;
	}
	*nullable = any || branch;
	return false;
}

/* True when s has a back-reference (\1 to \9) outside brackets: glibc
 * supports them in extended regexes too, and matching them can take
 * exponential time on a host name the peer's DNS chose. */
static bool
has_backref(const char *s, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 1 < n) {
			if (s[i + 1] >= '1' && s[i + 1] <= '9')
				return true;
			i++;
		} else if (s[i] == '[' && (j = bracket_end(s, i, n)) != 0) {
			i = j;
		}
	}
	return false;
}

static int
compile_regex(struct allow_entry *e, const char *s, size_t n, size_t *budget, char *err,
    size_t errlen)
{
	char q[ALLOW_QUOTE_MAX + 16], msg[160];
	char *pat;
	int rc;

	quote_entry(q, sizeof(q), s, n);
	if (memmem(s, n, "\\\\", 2) != NULL) {
		snprintf(err, errlen, "%s: doubled backslash \"\\\\\" (the escaping of "
		    "xend-config.sxp); write a single backslash here, e.g. ^host\\.example\\.org$", q);
		return XMIG_ERR_INVALID;
	}
	if (!parens_balanced(s, n)) {
		snprintf(err, errlen, "%s: bad regular expression: unmatched \")\"", q);
		return XMIG_ERR_INVALID;
	}
	if (has_stacked_repeat(s, n)) {
		snprintf(err, errlen, "%s: bad regular expression: a repetition (*, +, ?, {n}) "
		    "right after another one", q);
		return XMIG_ERR_INVALID;
	}
	if (has_backref(s, n)) {
		snprintf(err, errlen, "%s: back-references (\\1 to \\9) are not supported", q);
		return XMIG_ERR_INVALID;
	}
	{
		size_t i = 0, cost = regex_cost(s, n, &i, 0);

		if (cost > ALLOW_RE_COST_MAX || cost > *budget) {
			snprintf(err, errlen, "%s: regular expression too complex (%s)", q,
			    cost > ALLOW_RE_COST_MAX ? "repetitions too large or nested too deep" :
			    "the regexes of the list are too big together");
			return XMIG_ERR_TOO_LONG;
		}
		*budget -= cost;
	}
	{
		size_t i = 0;
		bool nullable;

		if (repeats_nullable(s, n, &i, 0, &nullable)) {
			snprintf(err, errlen, "%s: bad regular expression: a repetition of a group "
			    "that can match nothing, e.g. (a?)* or (a|)+; write (a*) or (a+)", q);
			return XMIG_ERR_INVALID;
		}
	}
	if ((pat = malloc(n + 5)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return XMIG_ERR_NOMEM;
	}
	memcpy(pat, "^(", 2);
	memcpy(pat + 2, s, n);
	memcpy(pat + 2 + n, ")$", 3);
	rc = regcomp(&e->re, pat, REG_EXTENDED | REG_NOSUB | REG_ICASE);
	free(pat);
	if (rc != 0) {
		regerror(rc, NULL, msg, sizeof(msg));
		snprintf(err, errlen, "%s: bad regular expression: %s", q, msg);
		return rc == REG_ESPACE ? XMIG_ERR_NOMEM : XMIG_ERR_INVALID;
	}
	e->kind = ALLOW_RE;
	return 0;
}

void
allow_free(struct allow_list *al)
{
	size_t i;

	if (al == NULL)
		return;
	for (i = 0; i < al->n; i++)
		if (al->e[i].kind == ALLOW_RE)
			regfree(&al->e[i].re);
	free(al);
}

int
allow_compile(const char *spec, struct allow_list **out, char *err, size_t errlen)
{
	struct allow_list *al = NULL;
	const char *p;
	size_t count = 0, budget = ALLOW_RE_COST_TOTAL;
	char dummy[1];
	int r;

	if (err == NULL || errlen == 0) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	if (out != NULL)
		*out = NULL;
	if (spec == NULL)
		spec = "";
	for (p = spec; *p != '\0';) {
		while (is_sep(*p))
			p++;
		if (*p == '\0')
			break;
		count++;
		while (*p != '\0' && !is_sep(*p))
			p++;
	}
	if (count > ALLOW_MAX_ENTRIES) {
		snprintf(err, errlen, "too many entries (%zu, at most %d)", count, ALLOW_MAX_ENTRIES);
		return XMIG_ERR_TOO_LONG;
	}
	if ((al = calloc(1, sizeof(*al) + count * sizeof(al->e[0]))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return XMIG_ERR_NOMEM;
	}
	for (p = spec; *p != '\0';) {
		const char *start;
		struct allow_entry *e = &al->e[al->n];

		while (is_sep(*p))
			p++;
		if (*p == '\0')
			break;
		for (start = p; *p != '\0' && !is_sep(*p); p++)
			;
		if ((r = parse_addr_entry(e, start, (size_t)(p - start), err, errlen)) < 0)
			goto out;
		if (r == 0) {
			if ((r = compile_regex(e, start, (size_t)(p - start), &budget, err,
			    errlen)) != 0)
				goto out;
			al->wants_name = true;
		}
		al->n++;
	}
	r = 0;
	if (out != NULL) {
		*out = al;
		al = NULL; /* transferred */
	}
out:
	allow_free(al);
	return r;
}

bool
allow_is_open(const struct allow_list *al)
{
	return al != NULL && al->n == 0;
}

bool
allow_wants_name(const struct allow_list *al)
{
	return al != NULL && al->wants_name;
}

static bool
regex_match(const regex_t *re, const char *s)
{
	return s != NULL && s[0] != '\0' && regexec(re, s, 0, NULL, 0) == 0;
}

/* The address of sa as bytes (4 for IPv4, also when IPv4-mapped in IPv6,
 * else 16) and its family; AF_UNSPEC for anything else. */
static int
addr_bytes(const struct sockaddr *sa, uint8_t out[16])
{
	if (sa != NULL && sa->sa_family == AF_INET) {
		memcpy(out, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
		return AF_INET;
	}
	if (sa != NULL && sa->sa_family == AF_INET6) {
		memcpy(out, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
		if (memcmp(out, v4mapped_prefix, sizeof(v4mapped_prefix)) == 0) {
			memmove(out, out + 12, 4);
			return AF_INET;
		}
		return AF_INET6;
	}
	return AF_UNSPEC;
}

bool
allow_match(const struct allow_list *al, const struct sockaddr *sa, socklen_t salen,
    const char *hostname)
{
	uint8_t addr[16];
	int family;
	char num[INET6_ADDRSTRLEN] = "", mapped[INET6_ADDRSTRLEN] = "";
	size_t i;

	if (al == NULL)
		return false;
	if (al->n == 0)
		return true;
	if (sa != NULL && salen < (socklen_t)(sa->sa_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in)))
		sa = NULL;
	family = addr_bytes(sa, addr);
	if (family == AF_INET && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
		    mapped, sizeof(mapped));
	if (family != AF_UNSPEC && inet_ntop(family, addr, num, sizeof(num)) == NULL)
		num[0] = '\0';

	for (i = 0; i < al->n; i++) {
		const struct allow_entry *e = &al->e[i];

		switch (e->kind) {
		case ALLOW_V4:
			if (family == AF_INET && prefix_equal(addr, e->addr, e->prefix))
				return true;
			break;
		case ALLOW_V6:
			if (family == AF_INET6 && prefix_equal(addr, e->addr, e->prefix))
				return true;
			break;
		case ALLOW_RE:
			if (regex_match(&e->re, num) || regex_match(&e->re, mapped) ||
			    regex_match(&e->re, hostname))
				return true;
			break;
		}
	}
	return false;
}

int
allow_addr_key(const struct sockaddr *sa, socklen_t salen, unsigned char key[ALLOW_ADDR_KEY_LEN])
{
	uint8_t addr[16];
	int family;

	memset(key, 0, ALLOW_ADDR_KEY_LEN);
	if (sa == NULL || salen < (socklen_t)(sa->sa_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in)))
		return XMIG_ERR_INVALID;
	if ((family = addr_bytes(sa, addr)) == AF_UNSPEC)
		return XMIG_ERR_INVALID;
	key[0] = family == AF_INET ? 4 : 6;
	memcpy(key + 1, addr, family == AF_INET ? 4 : 16);
	return 0;
}

/* Same address, ignoring ports and IPv4-mapped IPv6 forms. */
static bool
same_addr(const struct sockaddr *a, const struct sockaddr *b)
{
	uint8_t x[16], y[16];
	int fx, fy;

	fx = addr_bytes(a, x);
	fy = addr_bytes(b, y);
	return fx != AF_UNSPEC && fx == fy && memcmp(x, y, fx == AF_INET ? 4 : 16) == 0;
}

int
allow_peer_name(const struct sockaddr *sa, socklen_t salen, char *name, size_t namelen)
{
	struct addrinfo hints, *res = NULL, *ai;
	bool confirmed = false;

	if (namelen == 0 || getnameinfo(sa, salen, name, (socklen_t)namelen, NULL, 0,
	    NI_NAMEREQD) != 0)
		return XMIG_ERR_NOT_FOUND;
	/* Forward-confirm: whoever controls the reverse zone of an address
	 * can make it say any name; the name's own A/AAAA records must lead
	 * back to the address. */
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(name, NULL, &hints, &res) != 0)
		return XMIG_ERR_INVALID;
	for (ai = res; ai != NULL && !confirmed; ai = ai->ai_next)
		confirmed = same_addr(ai->ai_addr, sa);
	freeaddrinfo(res);
	return confirmed ? 0 : XMIG_ERR_INVALID;
}
