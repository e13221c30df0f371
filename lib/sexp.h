/* sexp.h - a bounded reader for xend's s-expression files (xend-config.sxp).
 *
 * It reads what xend's sxp.py parser read: '#' starts a comment to the end
 * of the line, '(' ... ')' are lists, '...' and "..." are strings with
 * backslash escapes (\\ \' \" \a \b \t \n \v \f \r, \xHH, \OOO), anything
 * else printable is an atom ending at a space, '#' or one of "{}()<>[]!;".
 * An unknown escape such as "\." is kept the way xend kept it: the
 * backslash stays and the character after it is lost; the node records
 * that so that callers can warn.
 *
 * The input is untrusted: it is bounded in size, nesting depth and node
 * count, a NUL byte is refused, and every error is one line naming the
 * file and the line.
 */
#ifndef XMIG_SEXP_H
#define XMIG_SEXP_H

#include <stdbool.h>
#include <stddef.h>

#define SEXP_MAX_INPUT (1024 * 1024)
#define SEXP_MAX_DEPTH 64
#define SEXP_MAX_NODES 100000
#define SEXP_MAX_TEXT 65536	/* bytes in one atom or string */

enum sexp_kind { SEXP_ATOM, SEXP_STRING, SEXP_LIST };

struct sexp {
	enum sexp_kind kind;
	unsigned line;		/* where it starts, from 1 */
	char *text;		/* ATOM, STRING: NUL-terminated; \0 escapes may */
	size_t len;		/* put NULs inside, len counts them */
	char lost_escape;	/* STRING: first unknown escape's character, or 0 */
	struct sexp *child;	/* LIST: first element */
	struct sexp *next;	/* next sibling */
};

/* Parse len bytes of buf.  On success *out is the chain of top-level
 * expressions (NULL for an empty file).  On error returns a negative
 * XMIG_ERR_* and writes "NAME:LINE: what is wrong" into err. */
int sexp_parse(const char *name, const char *buf, size_t len, struct sexp **out, char *err,
    size_t errlen);
/* Free a chain of expressions. */
void sexp_free(struct sexp *s);
/* The first list in the chain whose head is the atom `name`, or NULL: xend
 * looked configuration keys up this way, so the first occurrence wins. */
const struct sexp *sexp_find(const struct sexp *chain, const char *name);
/* The n-th element of a list (0 = its head), or NULL. */
const struct sexp *sexp_nth(const struct sexp *list, size_t n);
/* True when s is an atom or string (a "value" in xend's terms). */
bool sexp_is_value(const struct sexp *s);

#endif
