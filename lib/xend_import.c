/* xend_import.c - an xmigd.conf from xend-config.sxp's relocation settings.
 *
 * Reading: lib/sexp.c gives the top-level forms; keys are looked up the way
 * XendOptions.py did (first occurrence, xend's defaults and value syntax).
 * Writing: the text is built in memory, read back through conf_parse_buffer
 * and conf_check, and only then copied to the caller's stream, so a
 * configuration that xmigd would refuse is never written.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "allow.h"
#include "conf.h"
#include "sexp.h"
#include "xend_import.h"
#include "xerr.h"

#define XI_SHOW_MAX 80		/* bytes of a value quoted in a message */
#define XI_SUMMARY_NAMES 6	/* ignored keys named in the summary line */
#define XI_MSG_MAX 512

/* xend's defaults (XendOptions.py). */
#define XEND_DEF_PORT 8002
#define XEND_DEF_SSL_PORT 8003

struct xi {
	const char *name;	/* the xend file, for messages */
	const char *prefix;	/* "xmig" */
	FILE *warn;
	unsigned nwarn;
	char *err;
	size_t errlen;
};

/* One xend setting: the first (KEY VALUE ...) form, as xend used it. */
struct xi_setting {
	const char *key;
	const struct sexp *form;	/* NULL: not in the file */
	const struct sexp *val;		/* NULL: not set, xend's default applies */
	unsigned line;
};

static const char *const xi_mapped[] = {
	"xend-relocation-server", "xend-relocation-port", "xend-relocation-address",
	"xend-relocation-hosts-allow", "xend-relocation-ssl-server", "xend-relocation-ssl-port",
	"xend-relocation-server-ssl-key-file", "xend-relocation-server-ssl-cert-file",
	"xend-relocation-ssl",
};

/* s (len bytes) for a message: control bytes as \xHH, cut after
 * XI_SHOW_MAX bytes. */
static const char *
xi_show(char *dst, size_t dstlen, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	for (i = 0; i < len && o + 8 < dstlen; i++) {
		unsigned char c = (unsigned char)s[i];

		if (i >= XI_SHOW_MAX) {
			memcpy(dst + o, "...", 3);
			o += 3;
			break;
		}
		if (c < 0x20 || c == 0x7f) {
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 15];
		} else {
			dst[o++] = (char)c;
		}
	}
	dst[o] = '\0';
	return dst;
}

static void
xi_warn(struct xi *x, unsigned line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
xi_warn(struct xi *x, unsigned line, const char *fmt, ...)
{
	char msg[XI_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	x->nwarn++;
	if (x->warn == NULL)
		return;
	if (x->prefix != NULL)
		fprintf(x->warn, "%s: ", x->prefix);
	if (line > 0)
		fprintf(x->warn, "warning: %s:%u: %s\n", x->name, line, msg);
	else
		fprintf(x->warn, "warning: %s: %s\n", x->name, msg);
}

static int
xi_error(struct xi *x, unsigned line, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int
xi_error(struct xi *x, unsigned line, int code, const char *fmt, ...)
{
	char msg[XI_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (x->err != NULL && x->errlen > 0) {
		if (line > 0)
			snprintf(x->err, x->errlen, "%s:%u: %s", x->name, line, msg);
		else
			snprintf(x->err, x->errlen, "%s: %s", x->name, msg);
	}
	return code;
}

/* Look key up as xend did, warning about what xend silently skipped. */
static int
xi_get(struct xi *x, const struct sexp *top, const char *key, struct xi_setting *st)
{
	const struct sexp *s, *extra;
	char q[XI_SHOW_MAX * 4 + 8];
	size_t i;

	memset(st, 0, sizeof(*st));
	st->key = key;
	if ((st->form = sexp_find(top, key)) == NULL)
		return 0;
	st->line = st->form->line;
	for (s = st->form->next; (s = sexp_find(s, key)) != NULL; s = s->next)
		xi_warn(x, s->line, "%s is given again (first on line %u): xend used the first, "
		    "so does this import", key, st->line);
	st->val = sexp_nth(st->form, 1);
	if (st->val == NULL) {
		xi_warn(x, st->line, "(%s) has no value: xend used its default, so does this "
		    "import", key);
		return 0;
	}
	if (st->val->kind == SEXP_LIST)
		return xi_error(x, st->val->line, XMIG_ERR_INVALID, "%s: expected a value, not a "
		    "list", key);
	if ((extra = sexp_nth(st->form, 2)) != NULL)
		xi_warn(x, extra->line, "%s: values after the first are ignored (as xend did)",
		    key);
	if (st->val->lost_escape != 0)
		xi_warn(x, st->val->line, "%s: unknown escape \"\\%c\" in the string: xend kept "
		    "the backslash and dropped '%c'; imported as xend read it (write \"\\\\%c\" "
		    "in xend-config.sxp for a backslash)", key, st->val->lost_escape,
		    st->val->lost_escape, st->val->lost_escape);
	for (i = 0; i < st->val->len; i++) {
		unsigned char c = (unsigned char)st->val->text[i];

		if (c < 0x20 || c == 0x7f)
			return xi_error(x, st->val->line, XMIG_ERR_INVALID, "%s: value \"%s\" has "
			    "a control character (byte 0x%02x), which xmigd.conf cannot hold", key,
			    xi_show(q, sizeof(q), st->val->text, st->val->len), c);
	}
	return 0;
}

/* XendOptionsFile.get_config_bool. */
static int
xi_bool(struct xi *x, const struct xi_setting *st, bool def, bool *out)
{
	static const char *const yes[] = { "yes", "y", "1", "on", "true", "t" };
	static const char *const no[] = { "no", "n", "0", "off", "false", "f" };
	char low[16], q[XI_SHOW_MAX * 4 + 8];
	size_t i;

	*out = def;
	if (st->val == NULL)
		return 0;
	for (i = 0; i < st->val->len && i + 1 < sizeof(low); i++)
		low[i] = (char)tolower((unsigned char)st->val->text[i]);
	low[i] = '\0';
	if (st->val->len < sizeof(low)) {
		for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
			if (strcmp(low, yes[i]) == 0) {
				*out = true;
				return 0;
			}
			if (strcmp(low, no[i]) == 0) {
				*out = false;
				return 0;
			}
		}
	}
	return xi_error(x, st->val->line, XMIG_ERR_INVALID, "%s: \"%s\" is not a boolean "
	    "(yes/no, y/n, on/off, true/false, t/f, 1/0); xend refused it too", st->key,
	    xi_show(q, sizeof(q), st->val->text, st->val->len));
}

/* XendOptionsFile.get_config_int (Python int(): optional spaces and '+'),
 * then the range of a TCP port. */
static int
xi_port(struct xi *x, const struct xi_setting *st, unsigned def, unsigned *out)
{
	char q[XI_SHOW_MAX * 4 + 8];
	const char *p;
	unsigned long v = 0;
	size_t digits = 0;

	*out = def;
	if (st->val == NULL)
		return 0;
	p = st->val->text;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '+')
		p++;
	for (; *p >= '0' && *p <= '9' && digits < 10; p++, digits++)
		v = v * 10 + (unsigned long)(*p - '0');
	while (*p == ' ' || *p == '\t')
		p++;
	if (digits == 0 || digits >= 10 || *p != '\0' || v < 1 || v > 65535)
		return xi_error(x, st->val->line, XMIG_ERR_INVALID, "%s: \"%s\" is not a port "
		    "number (1-65535)", st->key, xi_show(q, sizeof(q), st->val->text,
		    st->val->len));
	*out = (unsigned)v;
	return 0;
}

/* ---- hosts-allow: Python re.match regexes to xmigd entries ---- */

struct xi_buf {
	char *p;
	size_t n, cap;
};

static int
xb_put(struct xi_buf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		size_t cap = (b->n + n + 1) * 2;
		char *p;

		if (cap > 4 * CONF_STR_MAX || (p = realloc(b->p, cap)) == NULL)
			return -1;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
	return 0;
}

static int
xb_puts(struct xi_buf *b, const char *s)
{
	return xb_put(b, s, strlen(s));
}

/* A Python bracket expression starting at e[*i] ('['), into b as a POSIX
 * one.  Inside POSIX brackets a backslash is an ordinary character, so
 * Python's escapes there are resolved or refused. */
static int
xi_bracket(const char *e, size_t n, size_t *i, struct xi_buf *b, char *why, size_t whylen)
{
	size_t j = *i + 1;
	bool first = true;
	int r = xb_puts(b, "[");

	if (j < n && e[j] == '^') {
		r |= xb_puts(b, "^");
		j++;
	}
	while (j < n) {
		char c = e[j], d;

		if (c == ']' && !first) {
			*i = j + 1;
			return r | xb_puts(b, "]");
		}
		if (c == '[' && j + 1 < n && strchr(":.=", e[j + 1]) != NULL) {
			snprintf(why, whylen, "\"[%c\" inside a bracket expression means something "
			    "else in POSIX regexes", e[j + 1]);
			return -1;
		}
		if (c != '\\') {
			r |= xb_put(b, &c, 1);
			j++;
			first = false;
			continue;
		}
		if (j + 1 >= n)
			break;
		d = e[j + 1];
		if (d == 'd')
			r |= xb_puts(b, "0-9");
		else if (d == 'w')
			r |= xb_puts(b, "A-Za-z0-9_");
		else if (d == 's')
			r |= xb_puts(b, "[:space:]");
		else if (d == ']' && first)
			r |= xb_puts(b, "]");
		else if (d == '-' && j + 2 < n && e[j + 2] == ']')
			r |= xb_puts(b, "-");
		else if (d == '^' && !first)
			r |= xb_puts(b, "^");
		else if (d == ']' || d == '-' || d == '^' || isalnum((unsigned char)d)) {
			snprintf(why, whylen, "escape \"\\%c\" inside a bracket expression has no "
			    "POSIX equivalent here", d);
			return -1;
		} else {
			r |= xb_put(b, &d, 1);
		}
		j += 2;
		first = false;
	}
	snprintf(why, whylen, "'[' without a closing ']'");
	return -1;
}

/* Convert one xend entry (a Python regex used with re.match) into b.
 * *prefix_match is set when the entry was not anchored at its end, so that
 * ".*" had to be added to keep what xend allowed. */
static int
xi_regex(const char *e, struct xi_buf *b, bool *prefix_match, char *why, size_t whylen)
{
	static const char *const classes[][2] = {
		{ "d", "[0-9]" }, { "D", "[^0-9]" }, { "w", "[A-Za-z0-9_]" },
		{ "W", "[^A-Za-z0-9_]" }, { "s", "[[:space:]]" }, { "S", "[^[:space:]]" },
	};
	size_t n = strlen(e), i = 0, k;
	bool last_dollar = false, all_anchored = true, top_alt = false, prev_quant = false;
	unsigned depth = 0;
	struct xi_buf body = { 0 };
	int r = 0;

	while (i < n && r == 0) {
		char c = e[i], d;

		if (c == '\\') {
			if (i + 1 >= n) {
				snprintf(why, whylen, "ends with a backslash");
				goto bad;
			}
			d = e[i + 1];
			i += 2;
			last_dollar = prev_quant = false;
			for (k = 0; k < sizeof(classes) / sizeof(classes[0]); k++)
				if (d == classes[k][0][0])
					break;
			if (k < sizeof(classes) / sizeof(classes[0])) {
				r = xb_puts(&body, classes[k][1]);
			} else if (d == '\\') {
				snprintf(why, whylen, "matches a backslash, which no address or host "
				    "name has");
				goto bad;
			} else if (d >= '0' && d <= '9') {
				snprintf(why, whylen, "back-reference or octal escape \"\\%c\"", d);
				goto bad;
			} else if (isalpha((unsigned char)d)) {
				snprintf(why, whylen, "Python escape \"\\%c\" has no POSIX equivalent", d);
				goto bad;
			} else if (strchr(".[](){}*+?|^$", d) != NULL) {
				char esc[2] = { '\\', d };

				r = xb_put(&body, esc, 2);
			} else {
				/* "\-", "\:" ...: Python's literal; in POSIX the plain character. */
				r = xb_put(&body, &d, 1);
			}
			continue;
		}
		if (c == '[') {
			if (xi_bracket(e, n, &i, &body, why, whylen) != 0)
				goto bad;
			last_dollar = prev_quant = false;
			continue;
		}
		if (c == '(' && i + 1 < n && e[i + 1] == '?') {
			snprintf(why, whylen, "Python extension \"(?\" has no POSIX equivalent");
			goto bad;
		}
		if (c == '?' && prev_quant) {
			/* a lazy quantifier matches the same strings as a greedy one */
			i++;
			prev_quant = false;
			continue;
		}
		if (c == '{') {
			size_t j = i + 1, lo = 0, hi = 0;

			while (j < n && e[j] >= '0' && e[j] <= '9')
				j++, lo++;
			if (j < n && e[j] == ',')
				for (j++; j < n && e[j] >= '0' && e[j] <= '9'; j++)
					hi++;
			if (j < n && e[j] == '}' && (lo > 0 || hi > 0)) {
				if (lo == 0)
					r = xb_puts(&body, "{0");	/* Python's {,n} */
				else
					r = xb_put(&body, "{", 1);
				r |= xb_put(&body, e + i + 1, j - i);
				i = j + 1;
				prev_quant = true;
			} else {
				r = xb_puts(&body, "\\{");	/* a literal in Python */
				i++;
				prev_quant = false;
			}
			last_dollar = false;
			continue;
		}
		if (c == '}') {
			r = xb_puts(&body, "\\}");
		} else if (c == '(') {
			depth++;
			r = xb_put(&body, &c, 1);
		} else if (c == ')') {
			if (depth > 0)
				depth--;
			r = xb_put(&body, &c, 1);
		} else if (c == '|' && depth == 0) {
			top_alt = true;
			all_anchored &= last_dollar;
			r = xb_put(&body, &c, 1);
		} else {
			r = xb_put(&body, &c, 1);
		}
		prev_quant = c == '*' || c == '+' || c == '?';
		last_dollar = c == '$' && depth == 0;
		i++;
	}
	if (r != 0) {
		snprintf(why, whylen, "too long");
		goto bad;
	}
	all_anchored &= last_dollar;
	*prefix_match = !all_anchored;
	/* re.match(E) accepts a string that starts with a match of E; xmigd
	 * matches whole strings, so the same set is E followed by anything. */
	if (!all_anchored && top_alt)
		r = xb_puts(b, "(") | xb_puts(b, body.p) | xb_puts(b, ").*");
	else if (!all_anchored)
		r = xb_puts(b, body.p) | xb_puts(b, ".*");
	else
		r = xb_puts(b, body.p);
	free(body.p);
	if (r != 0) {
		snprintf(why, whylen, "too long");
		return -1;
	}
	return 0;
bad:
	free(body.p);
	return -1;
}

/* The xmigd relocation-hosts-allow for xend's value v (after the sxp
 * unescaping), into out.  Returns 0, or an error when no entry survives. */
static int
xi_hosts_allow(struct xi *x, const struct xi_setting *st, struct xi_buf *out)
{
	const char *p = st->val->text;
	char q[XI_SHOW_MAX * 4 + 8], q2[XI_SHOW_MAX * 4 + 8], why[160], aerr[256];
	unsigned line = st->val->line, kept = 0, dropped = 0;
	bool had_empty = false;

	for (;;) {
		const char *sp = strchr(p, ' ');
		size_t n = sp != NULL ? (size_t)(sp - p) : strlen(p);
		struct xi_buf one = { 0 };
		bool prefix_match = false;
		char *entry;

		if ((entry = strndup(p, n)) == NULL)
			return xi_error(x, line, XMIG_ERR_NOMEM, "out of memory");
		/* xend split on single spaces: an empty entry was a regex that
		 * matched every host. */
		if (n == 0) {
			had_empty = true;
		} else if (strpbrk(entry, "\t\n\r\v\f") != NULL) {
			xi_warn(x, line, "xend-relocation-hosts-allow: entry \"%s\" has a tab or "
			    "line break, so it could never match in xend: left out",
			    xi_show(q, sizeof(q), entry, n));
			dropped++;
		} else if (strchr(entry, '/') != NULL) {
			xi_warn(x, line, "xend-relocation-hosts-allow: entry \"%s\" has a '/', which "
			    "xmigd reads as address/prefix: left out (write it by hand, e.g. as "
			    "10.0.0.0/8)", xi_show(q, sizeof(q), entry, n));
			dropped++;
		} else if (xi_regex(entry, &one, &prefix_match, why, sizeof(why)) != 0) {
			xi_warn(x, line, "xend-relocation-hosts-allow: entry \"%s\" cannot be "
			    "converted (%s): left out", xi_show(q, sizeof(q), entry, n), why);
			dropped++;
		} else if (allow_compile(one.p, NULL, aerr, sizeof(aerr)) != 0) {
			xi_warn(x, line, "xend-relocation-hosts-allow: entry \"%s\" converted to "
			    "\"%s\" is refused by xmigd (%s): left out",
			    xi_show(q, sizeof(q), entry, n), xi_show(q2, sizeof(q2), one.p, one.n),
			    aerr);
			dropped++;
		} else {
			if (prefix_match)
				xi_warn(x, line, "xend-relocation-hosts-allow: entry \"%s\" does not end "
				    "in '$', so xend (re.match) let in every name or address starting "
				    "with a match; imported as \"%s\" to allow the same; end it with '$' "
				    "to allow only exact matches", xi_show(q, sizeof(q), entry, n),
				    xi_show(q2, sizeof(q2), one.p, one.n));
			if ((kept > 0 && xb_puts(out, " ") != 0) || xb_puts(out, one.p) != 0) {
				free(one.p);
				free(entry);
				return xi_error(x, line, XMIG_ERR_TOO_LONG, "xend-relocation-hosts-allow: "
				    "converted value longer than %d bytes", CONF_STR_MAX - 1);
			}
			kept++;
		}
		free(one.p);
		free(entry);
		if (sp == NULL)
			break;
		p = sp + 1;
	}
	if (kept == 0 && dropped > 0)
		return xi_error(x, line, XMIG_ERR_INVALID, "xend-relocation-hosts-allow: no entry "
		    "could be converted (see the warnings); write relocation-hosts-allow by hand");
	if (kept == 0) {
		xi_warn(x, line, "xend-relocation-hosts-allow has only empty entries: xend let "
		    "every host connect; imported as an empty relocation-hosts-allow, which does "
		    "the same - list your migration peers there");
		return 0;
	}
	if (had_empty)
		xi_warn(x, line, "xend-relocation-hosts-allow has an empty entry (two spaces in a "
		    "row, or a space at an end): xend compiled it as a regex matching every "
		    "host, so xend let any host connect; left out here, so only the listed "
		    "entries may connect");
	return 0;
}

/* ---- writing ---- */

/* "key = value" such that conf_parse_buffer reads back exactly v. */
static int
xi_emit(struct xi *x, FILE *o, bool commented, const char *key, const char *v, unsigned line)
{
	size_t n = strlen(v);
	bool plain = n > 0 && strchr(v, '#') == NULL && v[0] != '"' && v[0] != '\'' &&
	    v[0] != ' ' && v[n - 1] != ' ' && v[0] != '\t' && v[n - 1] != '\t';

	fprintf(o, "%s%s = ", commented ? "#" : "", key);
	if (plain && strpbrk(v, " \t") == NULL)
		fprintf(o, "%s\n", v);
	else if (strchr(v, '\'') == NULL)
		fprintf(o, "'%s'\n", v);
	else if (strchr(v, '"') == NULL)
		fprintf(o, "\"%s\"\n", v);
	else if (plain)
		fprintf(o, "%s\n", v);
	else
		return xi_error(x, line, XMIG_ERR_INVALID, "%s: the value has both kinds of "
		    "quotes and a '#' or spaces at an end, which xmigd.conf cannot hold", key);
	return 0;
}

static void
xi_origin(FILE *o, const struct xi_setting *st, const char *xend_default)
{
	if (st->val != NULL)
		fprintf(o, "# from (%s ...) on line %u\n", st->key, st->line);
	else
		fprintf(o, "# (%s) not set: xend's default was %s\n", st->key, xend_default);
}

/* The SSL relocation settings.  xend's SSL server needed a key and a
 * certificate and checked no peer certificate (it had no CA setting).
 * xmigd's TLS is mutual and needs ssl-ca-file, which has no xend source, so
 * the settings are always written commented out, ready to be completed. */
static int
xi_ssl(struct xi *x, const struct sexp *top, FILE *o)
{
	struct xi_setting srv, port, key, cert, cli;
	bool ssl_server = false, ssl_client = false;
	char path[2][1024], num[16];
	struct xi_setting *files[2] = { &key, &cert };
	unsigned p, i;
	int r;

	if ((r = xi_get(x, top, "xend-relocation-ssl-server", &srv)) != 0 ||
	    (r = xi_bool(x, &srv, false, &ssl_server)) != 0 ||
	    (r = xi_get(x, top, "xend-relocation-ssl-port", &port)) != 0 ||
	    (r = xi_port(x, &port, XEND_DEF_SSL_PORT, &p)) != 0 ||
	    (r = xi_get(x, top, "xend-relocation-server-ssl-key-file", &key)) != 0 ||
	    (r = xi_get(x, top, "xend-relocation-server-ssl-cert-file", &cert)) != 0 ||
	    (r = xi_get(x, top, "xend-relocation-ssl", &cli)) != 0 ||
	    (r = xi_bool(x, &cli, false, &ssl_client)) != 0)
		return r;
	for (i = 0; i < 2; i++) {
		const struct sexp *v = files[i]->val;

		path[i][0] = '\0';
		if (v == NULL || v->len == 0)
			continue;
		/* xend took a bare file name as relative to its config directory. */
		if (strchr(v->text, '/') == NULL)
			snprintf(path[i], sizeof(path[i]), "%s/%s", XEND_CONFIG_DIR, v->text);
		else if (v->len < sizeof(path[i]))
			snprintf(path[i], sizeof(path[i]), "%s", v->text);
		else
			return xi_error(x, v->line, XMIG_ERR_TOO_LONG, "%s: path longer than %zu "
			    "bytes", files[i]->key, sizeof(path[i]) - 1);
	}
	if (!ssl_server && !ssl_client && srv.val == NULL && port.val == NULL &&
	    key.val == NULL && cert.val == NULL)
		return 0;
	fprintf(o, "\n# SSL relocation (xend-relocation-ssl-*).  xend's SSL server "
	    "encrypted the\n# stream but verified no certificate (it had no CA setting).\n");
	if (conf_has_key("ssl-ca-file"))
		fprintf(o, "# xmigd's TLS verifies both ends: it also needs ssl-ca-file, the CA "
		    "that\n# signed every peer's certificate.  Set it and uncomment these "
		    "lines.\n#ssl-ca-file = /etc/xmig/ca.pem\n");
	else
		fprintf(o, "# xmigd.conf has no TLS settings yet: they arrive with the security "
		    "work.\n# xend's values are kept here, commented out, for then.\n");
	if (ssl_server) {
		xi_warn(x, srv.line, "xend-relocation-ssl-server: xend's SSL relocation server "
		    "checked no peer certificate (no CA), only relocation-hosts-allow; %s",
		    conf_has_key("ssl-ca-file") ? "xmigd's TLS is mutual and needs ssl-ca-file, "
		    "which xend had no equivalent of: the SSL settings are written commented "
		    "out, set ssl-ca-file and uncomment them" :
		    "xmigd has no TLS yet, so the SSL settings are written commented out and "
		    "migrations to this host are not encrypted");
		if (path[0][0] == '\0' || path[1][0] == '\0')
			xi_warn(x, srv.line, "xend-relocation-ssl-server is on but the SSL key or "
			    "certificate file is not set: xend refused to start like that");
	}
	if (ssl_client)
		xi_warn(x, cli.line, "xend-relocation-ssl (send with SSL by default) has no "
		    "equivalent in xmigd.conf yet: outgoing migrations are not encrypted");
	xi_origin(o, &srv, "no");
	if ((r = xi_emit(x, o, true, "relocation-ssl-server", ssl_server ? "yes" : "no",
	    srv.line)) != 0)
		return r;
	xi_origin(o, &port, "8003");
	snprintf(num, sizeof(num), "%u", p);
	if ((r = xi_emit(x, o, true, "relocation-ssl-port", num, port.line)) != 0)
		return r;
	for (i = 0; i < 2; i++) {
		if (path[i][0] == '\0')
			continue;
		fprintf(o, "# from (%s %s) on line %u\n", files[i]->key, files[i]->val->text,
		    files[i]->line);
		if ((r = xi_emit(x, o, true, i == 0 ? "ssl-key-file" : "ssl-cert-file",
		    path[i], files[i]->line)) != 0)
			return r;
	}
	return 0;
}

/* One line about every other key: relocation keys one by one, the rest
 * summed up. */
static void
xi_others(struct xi *x, const struct sexp *top)
{
	char names[XI_SUMMARY_NAMES * 48 + 8] = "";
	unsigned n = 0, i, first_line = 0;
	const struct sexp *s, *t;

	for (s = top; s != NULL; s = s->next) {
		const struct sexp *head = sexp_nth(s, 0);
		bool mapped = false, seen = false;

		if (s->kind != SEXP_LIST || head == NULL || head->kind == SEXP_LIST) {
			xi_warn(x, s->line, "%s: ignored, as by xend", s->kind == SEXP_LIST ?
			    "a list without a key name" : "a value outside any (key value) form");
			continue;
		}
		for (i = 0; i < sizeof(xi_mapped) / sizeof(xi_mapped[0]); i++)
			mapped |= strcmp(head->text, xi_mapped[i]) == 0;
		if (mapped)
			continue;
		/* count each name once */
		for (t = top; t != s; t = t->next)
			if (sexp_nth(t, 0) != NULL && sexp_is_value(sexp_nth(t, 0)) &&
			    strcmp(sexp_nth(t, 0)->text, head->text) == 0)
				seen = true;
		if (seen)
			continue;
		if (strncmp(head->text, "xend-relocation-", 16) == 0) {
			char q[XI_SHOW_MAX * 4 + 8];

			xi_warn(x, s->line, "%s has no equivalent in xmigd.conf: ignored",
			    xi_show(q, sizeof(q), head->text, head->len));
			continue;
		}
		if (n == 0)
			first_line = s->line;
		if (n < XI_SUMMARY_NAMES) {
			char q[48];

			snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
			    n > 0 ? ", " : "", xi_show(q, sizeof(q) - 8, head->text,
			    head->len < 32 ? head->len : 32));
		}
		n++;
	}
	if (n > 0)
		xi_warn(x, first_line, "%u setting%s unrelated to relocation ignored (%s%s)", n,
		    n == 1 ? "" : "s", names, n > XI_SUMMARY_NAMES ? ", ..." : "");
}

static int
xi_write(struct xi *x, const struct sexp *top, FILE *o)
{
	struct xi_setting srv, port, addr, allow;
	struct xi_buf hosts = { 0 };
	char num[16], q[XI_SHOW_MAX * 4 + 8];
	bool server;
	unsigned p;
	int r;

	if ((r = xi_get(x, top, "xend-relocation-server", &srv)) != 0 ||
	    (r = xi_bool(x, &srv, false, &server)) != 0 ||
	    (r = xi_get(x, top, "xend-relocation-port", &port)) != 0 ||
	    (r = xi_port(x, &port, XEND_DEF_PORT, &p)) != 0 ||
	    (r = xi_get(x, top, "xend-relocation-address", &addr)) != 0 ||
	    (r = xi_get(x, top, "xend-relocation-hosts-allow", &allow)) != 0)
		return r;

	fprintf(o, "# xmigd.conf - written by \"xmig config import-xend\" from %s.\n"
	    "#\n"
	    "# Only xend's relocation settings have an equivalent here; every other key\n"
	    "# keeps its default (see xmigd.conf(5)).  Check this file with\n"
	    "# \"xmigd --check-config -c FILE\".\n", xi_show(q, sizeof(q), x->name,
	    strlen(x->name)));

	fprintf(o, "\n");
	xi_origin(o, &srv, "no");
	if (srv.val == NULL)
		xi_warn(x, 0, "xend-relocation-server is not set: xend's default was no (no "
		    "incoming migrations), so relocation-server = no");
	fprintf(o, "relocation-server = %s\n", server ? "yes" : "no");

	fprintf(o, "\n");
	xi_origin(o, &port, "8002");
	snprintf(num, sizeof(num), "%u", p);
	fprintf(o, "relocation-port = %s\n", num);

	fprintf(o, "\n");
	xi_origin(o, &addr, "'' (all addresses)");
	if ((r = xi_emit(x, o, false, "relocation-address", addr.val ? addr.val->text : "",
	    addr.line)) != 0)
		return r;

	fprintf(o, "\n");
	if (allow.val == NULL || allow.val->len == 0) {
		xi_origin(o, &allow, "'' (every host)");
		if (allow.val == NULL && !server) {
			/* xend did not listen: nothing to keep; xmigd's default is safer. */
			fprintf(o, "# The relocation server is off; should you turn it on, list the\n"
			    "# peers allowed to send domains here (default: this host only).\n"
			    "#relocation-hosts-allow = '%s'\n", CONF_DEFAULT_HOSTS_ALLOW);
			goto ssl;
		}
		xi_warn(x, allow.line, "xend-relocation-hosts-allow is %s: xend let every host "
		    "connect to the relocation port; imported as relocation-hosts-allow = \"\", "
		    "which does the same - list your migration peers there instead",
		    allow.val == NULL ? "not set" : "empty");
		fprintf(o, "# Empty: every host may connect, as with xend.  List your migration\n"
		    "# peers instead, e.g. '10.1.0.0/16 ^dom0-[0-9]+\\.example\\.org$'.\n"
		    "relocation-hosts-allow = ''\n");
		goto ssl;
	}
	if ((r = xi_hosts_allow(x, &allow, &hosts)) != 0)
		goto out;
	xi_origin(o, &allow, "''");
	fprintf(o, "# xend matched each regex from the start of the peer's name or address\n"
	    "# (Python re.match, case-sensitive); xmigd matches whole names and addresses\n"
	    "# (case-insensitive), so an entry not ending in '$' was given \".*\".\n");
	if ((r = xi_emit(x, o, false, "relocation-hosts-allow", hosts.p ? hosts.p : "",
	    allow.line)) != 0)
		goto out;
ssl:
	r = xi_ssl(x, top, o);
out:
	free(hosts.p);
	return r;
}

int
xend_import(const char *name, const char *buf, size_t len, FILE *out, FILE *warn,
    const char *prefix, unsigned *nwarn, char *err, size_t errlen)
{
	struct xi x = { name != NULL ? name : "(xend config)", prefix, warn, 0, err, errlen };
	struct sexp *top = NULL;
	struct conf *check = NULL;
	char *text = NULL, cerr[XI_MSG_MAX];
	size_t tlen = 0;
	FILE *mem = NULL;
	int r;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (nwarn != NULL)
		*nwarn = 0;
	if ((r = sexp_parse(x.name, buf, len, &top, err, errlen)) != 0)
		return r;
	if ((mem = open_memstream(&text, &tlen)) == NULL) {
		r = xi_error(&x, 0, XMIG_ERR_NOMEM, "out of memory");
		goto out;
	}
	r = xi_write(&x, top, mem);
	if (fclose(mem) != 0 && r == 0)
		r = xi_error(&x, 0, XMIG_ERR_NOMEM, "out of memory");
	mem = NULL;
	if (r != 0)
		goto out;
	xi_others(&x, top);
	/* What xmigd --check-config does with it. */
	if ((check = malloc(sizeof(*check))) == NULL) {
		r = xi_error(&x, 0, XMIG_ERR_NOMEM, "out of memory");
		goto out;
	}
	conf_init(check);
	if ((r = conf_parse_buffer(check, "(generated xmigd.conf)", text, tlen, cerr,
	    sizeof(cerr))) != 0 || (r = conf_check(check, cerr, sizeof(cerr))) != 0) {
		r = xi_error(&x, 0, r, "the converted configuration is refused by xmigd: %s", cerr);
		goto out;
	}
	if (fwrite(text, 1, tlen, out) != tlen)
		r = xi_error(&x, 0, XMIG_ERR_SYSTEM, "cannot write the output");
out:
	if (nwarn != NULL)
		*nwarn = x.nwarn;
	free(check);
	free(text);
	sexp_free(top);
	return r;
}
