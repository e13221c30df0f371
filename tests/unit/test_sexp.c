/* test_sexp.c - the xend s-expression reader (lib/sexp.c): the xend
 * configurations shipped with Xen, xend's lexical rules, and hostile input
 * (every error one line with a line number, never a crash). */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sexp.h"
#include "xerr.h"
#include "testdata.h"

static struct sexp *
parse_ok(const char *text, size_t len)
{
	struct sexp *s = NULL;
	char err[512] = "";
	int r = sexp_parse("t.sxp", text, len, &s, err, sizeof(err));

	if (r != 0)
		fail_msg("parse of <<%s>> failed: %d: %s", text, r, err);
	return s;
}

/* Parse must fail with code `want` and the one-line message
 * "t.sxp:LINE: ..." containing `what`. */
static void
parse_fails(const char *text, size_t len, int want, unsigned line, const char *what)
{
	struct sexp *s = (struct sexp *)0x1;
	char err[512] = "", prefix[32];
	int r = sexp_parse("t.sxp", text, len, &s, err, sizeof(err));

	if (r != want)
		fail_msg("<<%.60s>>: got %d (%s), want %d", text, r, err, want);
	assert_null(s);
	snprintf(prefix, sizeof(prefix), "t.sxp:%u: ", line);
	if (strncmp(err, prefix, strlen(prefix)) != 0 || strstr(err, what) == NULL ||
	    strchr(err, '\n') != NULL)
		fail_msg("<<%.60s>>: message \"%s\", want \"%s...%s...\"", text, err, prefix, what);
}

/* For string literals, which may hold NULs. */
#define PARSE_FAILS(lit, want, line, what) parse_fails(lit, sizeof(lit) - 1, want, line, what)

static void
test_xend_escapes_decode_as_xend_did(void **state)
{
	static const char text[] = "('a\\\\b\\'c\\\"d\\te\\x41\\101\\0z' \"q'q\")";
	struct sexp *s = parse_ok(text, strlen(text));
	const struct sexp *v = sexp_nth(s, 0), *w = sexp_nth(s, 1);

	assert_non_null(v);
	assert_int_equal(v->kind, SEXP_STRING);
	assert_int_equal(v->len, 13);
	assert_memory_equal(v->text, "a\\b'c\"d\teAA\0z", 14);
	assert_int_equal(v->lost_escape, 0);
	assert_string_equal(w->text, "q'q");
	sexp_free(s);
}

/* xend's parser kept the backslash of an unknown escape and dropped the
 * next character: '^a\.b$' was read as "^a\b$" (hence the doubled
 * backslashes in every xend-config.sxp). */
static void
test_unknown_escape_keeps_backslash_and_drops_char(void **state)
{
	static const char text[] = "(k '^a\\.b$')";
	struct sexp *s = parse_ok(text, strlen(text));
	const struct sexp *v = sexp_nth(s, 1);

	assert_string_equal(v->text, "^a\\b$");
	assert_int_equal(v->lost_escape, '.');
	sexp_free(s);
}

static void
test_atoms_end_at_spaces_separators_and_comments(void **state)
{
	static const char text[] = "(a;b c#comment (x y)\n d'e f)";
	static const char *const want[] = { "a", ";b", "c", "d'e", "f" };
	struct sexp *s = parse_ok(text, strlen(text));
	size_t i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct sexp *v = sexp_nth(s, i);

		assert_non_null(v);
		assert_int_equal(v->kind, SEXP_ATOM);
		assert_string_equal(v->text, want[i]);
	}
	assert_null(sexp_nth(s, 5));
	assert_int_equal(sexp_nth(s, 3)->line, 2);
	sexp_free(s);
}

static void
test_lookup_takes_first_occurrence_like_xend(void **state)
{
	static const char text[] = "(p 1)\n(q (x))\n(p 2)\n('p' 3)\natom\n";
	struct sexp *s = parse_ok(text, strlen(text));
	const struct sexp *f = sexp_find(s, "p");

	assert_non_null(f);
	assert_string_equal(sexp_nth(f, 1)->text, "1");
	assert_int_equal(f->line, 1);
	f = sexp_find(f->next, "p");
	assert_int_equal(f->line, 3);
	f = sexp_find(f->next, "p");	/* a quoted name is the same name to xend */
	assert_int_equal(f->line, 4);
	assert_null(sexp_find(f->next, "p"));
	assert_null(sexp_find(s, "x"));	/* only top-level forms */
	assert_int_equal(sexp_nth(sexp_find(s, "q"), 1)->kind, SEXP_LIST);
	sexp_free(s);
}

static void
test_empty_and_comment_only_files_give_nothing(void **state)
{
	struct sexp *s = (struct sexp *)0x1;
	char err[128];

	assert_int_equal(sexp_parse("t.sxp", "", 0, &s, err, sizeof(err)), 0);
	assert_null(s);
	assert_int_equal(sexp_parse("t.sxp", "# (a b)\n  \n#", 12, &s, err, sizeof(err)), 0);
	assert_null(s);
}

static void
test_unbalanced_parens_name_the_line(void **state)
{
	PARSE_FAILS("(a b)\n(c d))\n", XMIG_ERR_INVALID, 2, "unexpected ')'");
	/* the report names the outermost list left open */
	PARSE_FAILS("(a b)\n\n(c (d e)\n(f g)\n", XMIG_ERR_TRUNCATED, 3, "never closed");
}

static void
test_unterminated_string_names_its_opening_line(void **state)
{
	PARSE_FAILS("(a 'ok')\n(b 'oops)\n(c d)\n", XMIG_ERR_TRUNCATED, 2,
	    "unterminated string");
	PARSE_FAILS("(a \"x\\\")", XMIG_ERR_TRUNCATED, 1, "no closing \"");
	PARSE_FAILS("(a 'x\\", XMIG_ERR_TRUNCATED, 1, "unterminated string");
}

static void
test_nesting_deeper_than_limit_is_refused(void **state)
{
	char buf[2 * SEXP_MAX_DEPTH + 8];
	struct sexp *s;
	size_t n = 0, i;

	for (i = 0; i < SEXP_MAX_DEPTH; i++)
		buf[n++] = '(';
	for (i = 0; i < SEXP_MAX_DEPTH; i++)
		buf[n++] = ')';
	s = parse_ok(buf, n);
	sexp_free(s);
	/* one more level, and a file of nothing but '(': refused, never
	 * recursed into */
	n = 0;
	buf[n++] = '\n';
	for (i = 0; i <= SEXP_MAX_DEPTH; i++)
		buf[n++] = '(';
	parse_fails(buf, n, XMIG_ERR_TOO_LONG, 2, "nested deeper");
	{
		char *big = malloc(SEXP_MAX_INPUT);

		assert_non_null(big);
		memset(big, '(', SEXP_MAX_INPUT);
		parse_fails(big, SEXP_MAX_INPUT, XMIG_ERR_TOO_LONG, 1, "nested deeper");
		free(big);
	}
}

static void
test_nul_and_control_bytes_are_refused_with_line(void **state)
{
	PARSE_FAILS("(a b)\n(c 'x\0y')\n", XMIG_ERR_INVALID, 2, "NUL byte");
	PARSE_FAILS("(a\n\n\x01)", XMIG_ERR_INVALID, 3, "invalid character 0x01");
	PARSE_FAILS("(a \xc3\xa9)", XMIG_ERR_INVALID, 1, "invalid character 0xc3");
}

static void
test_bad_escapes_are_refused(void **state)
{
	PARSE_FAILS("(a\n'\\xzz')", XMIG_ERR_INVALID, 2, "\\x escape without hex");
	PARSE_FAILS("(a '\\777')", XMIG_ERR_INVALID, 1, "octal escape out of range");
}

static void
test_size_limits_are_enforced(void **state)
{
	size_t n = SEXP_MAX_INPUT + 1, i;
	char *big = malloc(n);
	struct sexp *s = NULL;
	char err[256];

	assert_non_null(big);
	memset(big, ' ', n);
	assert_int_equal(sexp_parse("t.sxp", big, n, &s, err, sizeof(err)), XMIG_ERR_TOO_LONG);
	assert_non_null(strstr(err, "larger than"));
	/* an atom over SEXP_MAX_TEXT */
	memset(big, 'a', SEXP_MAX_TEXT + 1);
	parse_fails(big, SEXP_MAX_TEXT + 1, XMIG_ERR_TOO_LONG, 1, "atom longer");
	/* a string over SEXP_MAX_TEXT */
	big[0] = '\'';
	big[SEXP_MAX_TEXT + 2] = '\'';
	parse_fails(big, SEXP_MAX_TEXT + 3, XMIG_ERR_TOO_LONG, 1, "string longer");
	/* more elements than SEXP_MAX_NODES */
	for (i = 0; i < 2 * (SEXP_MAX_NODES + 1); i += 2) {
		big[i] = 'a';
		big[i + 1] = ' ';
	}
	parse_fails(big, 2 * (SEXP_MAX_NODES + 1), XMIG_ERR_TOO_LONG, 1, "more than");
	free(big);
}

/* Random text over the characters that matter: the reader either parses it
 * or reports one line naming the file, and never crashes (run under
 * SAN=1 this also catches leaks and overruns). */
static void
test_random_input_parses_or_fails_cleanly(void **state)
{
	static const char alphabet[] = "()'\"\\#ax0 \n\t;\x01";
	unsigned seed = 12345, iter, parsed = 0;
	char buf[256], err[512];

	for (iter = 0; iter < 20000; iter++) {
		size_t n = (seed = seed * 1103515245u + 12345u) % sizeof(buf), i;
		struct sexp *s = NULL;
		int r;

		for (i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			buf[i] = alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
		}
		r = sexp_parse("t.sxp", buf, n, &s, err, sizeof(err));
		if (r == 0) {
			parsed++;
			sexp_free(s);
			continue;
		}
		assert_null(s);
		if (strncmp(err, "t.sxp:", 6) != 0 || strchr(err, '\n') != NULL)
			fail_msg("bad message \"%s\"", err);
	}
	assert_true(parsed > 0);	/* the generator does make valid input too */
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = malloc(SEXP_MAX_INPUT);

	assert_non_null(f);
	assert_non_null(buf);
	*len = fread(buf, 1, SEXP_MAX_INPUT, f);
	fclose(f);
	return buf;
}

/* Every xend-config.sxp shipped with Xen parses; each active "(key ...)"
 * line of the file is one top-level form on that line, and the relocation
 * settings read back as xend read them (doubled backslashes undone). */
static void
test_xen_release_configs_parse_form_per_line(void **state)
{
	const char *dir = testdata_dir();
	DIR *d = opendir(dir);
	struct dirent *de;
	unsigned files = 0;

	if (d == NULL) {
		testdata_missing(dir);
	}
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name), len, i;
		char path[1024], err[512];
		const struct sexp *f, *v;
		struct sexp *s = NULL;
		unsigned line = 1, forms = 0;
		char *buf;

		if (n < 4 || strcmp(de->d_name + n - 4, ".sxp") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		buf = slurp(path, &len);
		if (sexp_parse(path, buf, len, &s, err, sizeof(err)) != 0)
			fail_msg("%s", err);
		files++;
		f = s;
		for (i = 0; i < len; i++) {
			if (buf[i] == '(' && (i == 0 || buf[i - 1] == '\n')) {
				assert_non_null(f);
				if (f->line != line)
					fail_msg("%s: form on line %u, expected line %u", path, f->line, line);
				f = f->next;
				forms++;
			}
			if (buf[i] == '\n')
				line++;
		}
		assert_null(f);
		assert_true(forms >= 5);
		v = sexp_nth(sexp_find(s, "xend-relocation-server"), 1);
		assert_non_null(v);
		assert_string_equal(v->text, "yes");
		v = sexp_nth(sexp_find(s, "xend-relocation-hosts-allow"), 1);
		assert_non_null(v);
		assert_int_equal(v->kind, SEXP_STRING);
		assert_string_equal(v->text, "^localhost$ ^localhost\\.localdomain$");
		assert_int_equal(v->lost_escape, 0);
		sexp_free(s);
		free(buf);
	}
	closedir(d);
	assert_true(files >= 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xend_escapes_decode_as_xend_did),
		cmocka_unit_test(test_unknown_escape_keeps_backslash_and_drops_char),
		cmocka_unit_test(test_atoms_end_at_spaces_separators_and_comments),
		cmocka_unit_test(test_lookup_takes_first_occurrence_like_xend),
		cmocka_unit_test(test_empty_and_comment_only_files_give_nothing),
		cmocka_unit_test(test_unbalanced_parens_name_the_line),
		cmocka_unit_test(test_unterminated_string_names_its_opening_line),
		cmocka_unit_test(test_nesting_deeper_than_limit_is_refused),
		cmocka_unit_test(test_nul_and_control_bytes_are_refused_with_line),
		cmocka_unit_test(test_bad_escapes_are_refused),
		cmocka_unit_test(test_size_limits_are_enforced),
		cmocka_unit_test(test_random_input_parses_or_fails_cleanly),
		cmocka_unit_test(test_xen_release_configs_parse_form_per_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
