/* sexp.c - a bounded reader for xend's s-expression files.
 *
 * One pass over the bytes with an explicit stack of open lists (no
 * recursion, so nesting is bounded by SEXP_MAX_DEPTH, not by the C stack).
 * The lexical rules are those of xend's sxp.Parser; see sexp.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sexp.h"
#include "xerr.h"

struct sexp_frame {
	struct sexp *list;
	struct sexp **tail;
};

struct sexp_parser {
	const char *name;
	const char *buf;
	size_t len, pos;
	unsigned line;
	size_t nodes;
	struct sexp *top, **top_tail;
	struct sexp_frame stack[SEXP_MAX_DEPTH];
	unsigned depth;
	char *err;
	size_t errlen;
	int rc;		/* code of the last error */
};

static int
sexp_error(struct sexp_parser *p, unsigned line, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int
sexp_error(struct sexp_parser *p, unsigned line, int code, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->err != NULL && p->errlen > 0 && line > 0)
		snprintf(p->err, p->errlen, "%s:%u: %s", p->name, line, msg);
	else if (p->err != NULL && p->errlen > 0)
		snprintf(p->err, p->errlen, "%s: %s", p->name, msg);
	return p->rc = code;
}

static bool
sexp_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* Characters that end an atom besides spaces and '#'. */
static bool
sexp_separator(unsigned char c)
{
	return c != '\0' && strchr("{}()<>[]!;", c) != NULL;
}

static int
sexp_hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* A new node appended to the innermost open list (or the top level). */
static struct sexp *
sexp_node(struct sexp_parser *p, enum sexp_kind kind, unsigned line)
{
	struct sexp *s, ***tail;

	if (p->nodes >= SEXP_MAX_NODES) {
		sexp_error(p, line, XMIG_ERR_TOO_LONG, "more than %d elements", SEXP_MAX_NODES);
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		sexp_error(p, line, XMIG_ERR_NOMEM, "out of memory");
		return NULL;
	}
	p->nodes++;
	s->kind = kind;
	s->line = line;
	tail = p->depth > 0 ? &p->stack[p->depth - 1].tail : &p->top_tail;
	**tail = s;
	*tail = &s->next;
	return s;
}

/* The atom that starts at p->pos. */
static int
sexp_atom(struct sexp_parser *p)
{
	size_t start = p->pos, n;
	struct sexp *s;

	p->pos++;	/* the first character is taken whatever it is */
	while (p->pos < p->len) {
		unsigned char c = (unsigned char)p->buf[p->pos];

		if (sexp_space(c) || c == '#' || sexp_separator(c))
			break;
		p->pos++;
	}
	n = p->pos - start;
	if (n > SEXP_MAX_TEXT)
		return sexp_error(p, p->line, XMIG_ERR_TOO_LONG, "atom longer than %d bytes",
		    SEXP_MAX_TEXT);
	if ((s = sexp_node(p, SEXP_ATOM, p->line)) == NULL)
		return p->rc;
	if ((s->text = malloc(n + 1)) == NULL)
		return sexp_error(p, p->line, XMIG_ERR_NOMEM, "out of memory");
	memcpy(s->text, p->buf + start, n);
	s->text[n] = '\0';
	s->len = n;
	return 0;
}

/* The string whose opening quote is at p->pos. */
static int
sexp_string(struct sexp_parser *p)
{
	char delim = p->buf[p->pos], *out;
	unsigned open_line = p->line;
	size_t i, end, o = 0;
	struct sexp *s;

	/* Find the closing quote first: it bounds the text and gives the
	 * line of an unterminated string. */
	for (end = p->pos + 1; end < p->len && p->buf[end] != delim; end++)
		if (p->buf[end] == '\\' && end + 1 < p->len)
			end++;
	if (end >= p->len)
		return sexp_error(p, open_line, XMIG_ERR_TRUNCATED,
		    "unterminated string: no closing %c before the end of the file", delim);
	if ((s = sexp_node(p, SEXP_STRING, open_line)) == NULL)
		return p->rc;
	if ((out = s->text = malloc(end - p->pos)) == NULL)
		return sexp_error(p, open_line, XMIG_ERR_NOMEM, "out of memory");
	for (i = p->pos + 1; i < end; i++) {
		unsigned char c = (unsigned char)p->buf[i];
		unsigned val;
		int digits, h;

		if (c == '\n')
			p->line++;
		if (c != '\\') {
			out[o++] = (char)c;
			continue;
		}
		c = (unsigned char)p->buf[++i];
		switch (c) {
		case 'a': out[o++] = '\a'; break;
		case 'b': out[o++] = '\b'; break;
		case 't': out[o++] = '\t'; break;
		case 'n': out[o++] = '\n'; break;
		case 'v': out[o++] = '\v'; break;
		case 'f': out[o++] = '\f'; break;
		case 'r': out[o++] = '\r'; break;
		case '\\': case '\'': case '"': out[o++] = (char)c; break;
		case 'x':
			for (val = 0, digits = 0; digits < 2 && i + 1 < end &&
			    (h = sexp_hexval((unsigned char)p->buf[i + 1])) >= 0; digits++, i++)
				val = val * 16 + (unsigned)h;
			if (digits == 0)
				return sexp_error(p, p->line, XMIG_ERR_INVALID,
				    "\\x escape without hex digits in string");
			out[o++] = (char)val;
			break;
		case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7':
			val = c - '0';
			for (digits = 1; digits < 3 && i + 1 < end && p->buf[i + 1] >= '0' &&
			    p->buf[i + 1] <= '7'; digits++, i++)
				val = val * 8 + (unsigned)(p->buf[i + 1] - '0');
			if (val > 0xff)
				return sexp_error(p, p->line, XMIG_ERR_INVALID,
				    "octal escape out of range (above \\377) in string");
			out[o++] = (char)val;
			break;
		default:
			/* xend kept the backslash and dropped the character. */
			if (c == '\n')
				p->line++;
			if (s->lost_escape == 0)
				s->lost_escape = (char)c;
			out[o++] = '\\';
			break;
		}
	}
	out[o] = '\0';
	s->len = o;
	if (o > SEXP_MAX_TEXT)
		return sexp_error(p, open_line, XMIG_ERR_TOO_LONG, "string longer than %d bytes",
		    SEXP_MAX_TEXT);
	p->pos = end + 1;
	return 0;
}

int
sexp_parse(const char *name, const char *buf, size_t len, struct sexp **out, char *err,
    size_t errlen)
{
	struct sexp_parser p;
	const char *nul;
	int r = 0;

	memset(&p, 0, sizeof(p));
	p.name = name != NULL ? name : "(sexp)";
	p.buf = buf;
	p.len = buf != NULL ? len : 0;
	p.line = 1;
	p.top_tail = &p.top;
	p.err = err;
	p.errlen = errlen;
	*out = NULL;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (p.len > SEXP_MAX_INPUT)
		return sexp_error(&p, 0, XMIG_ERR_TOO_LONG, "larger than %d bytes", SEXP_MAX_INPUT);
	if ((nul = memchr(p.buf, '\0', p.len)) != NULL) {
		size_t i;

		for (i = 0; p.buf + i < nul; i++)
			if (p.buf[i] == '\n')
				p.line++;
		return sexp_error(&p, p.line, XMIG_ERR_INVALID, "NUL byte (not a text file?)");
	}
	while (r == 0 && p.pos < p.len) {
		unsigned char c = (unsigned char)p.buf[p.pos];

		if (c == '\n') {
			p.line++;
			p.pos++;
		} else if (sexp_space(c)) {
			p.pos++;
		} else if (c == '#') {
			const char *nl = memchr(p.buf + p.pos, '\n', p.len - p.pos);

			p.pos = nl != NULL ? (size_t)(nl - p.buf) : p.len;
		} else if (c == '(') {
			struct sexp *l;

			if (p.depth >= SEXP_MAX_DEPTH) {
				r = sexp_error(&p, p.line, XMIG_ERR_TOO_LONG,
				    "lists nested deeper than %d", SEXP_MAX_DEPTH);
				break;
			}
			if ((l = sexp_node(&p, SEXP_LIST, p.line)) == NULL) {
				r = p.rc;
				break;
			}
			p.stack[p.depth].list = l;
			p.stack[p.depth].tail = &l->child;
			p.depth++;
			p.pos++;
		} else if (c == ')') {
			if (p.depth == 0) {
				r = sexp_error(&p, p.line, XMIG_ERR_INVALID,
				    "unexpected ')' with no list open");
				break;
			}
			p.depth--;
			p.pos++;
		} else if (c == '\'' || c == '"') {
			r = sexp_string(&p);
		} else if (c > ' ' && c < 0x7f) {
			r = sexp_atom(&p);
		} else {
			r = sexp_error(&p, p.line, XMIG_ERR_INVALID,
			    "invalid character 0x%02x outside a string", c);
		}
	}
	if (r == 0 && p.depth > 0)
		r = sexp_error(&p, p.stack[0].list->line, XMIG_ERR_TRUNCATED,
		    "'(' opened here is never closed (%u unclosed at the end of the file)", p.depth);
	if (r != 0) {
		sexp_free(p.top);
		return r;
	}
	*out = p.top;
	return 0;
}

void
sexp_free(struct sexp *s)
{
	while (s != NULL) {
		struct sexp *next = s->next;

		/* Depth is bounded by SEXP_MAX_DEPTH, so this recursion is too. */
		sexp_free(s->child);
		free(s->text);
		free(s);
		s = next;
	}
}

bool
sexp_is_value(const struct sexp *s)
{
	return s != NULL && (s->kind == SEXP_ATOM || s->kind == SEXP_STRING);
}

const struct sexp *
sexp_nth(const struct sexp *list, size_t n)
{
	const struct sexp *s;

	if (list == NULL || list->kind != SEXP_LIST)
		return NULL;
	for (s = list->child; s != NULL && n > 0; s = s->next)
		n--;
	return s;
}

const struct sexp *
sexp_find(const struct sexp *chain, const char *name)
{
	const struct sexp *s;

	for (s = chain; s != NULL; s = s->next) {
		const struct sexp *head = sexp_nth(s, 0);

		if (sexp_is_value(head) && strcmp(head->text, name) == 0 &&
		    strlen(name) == head->len)
			return s;
	}
	return NULL;
}
