/* testdata.h - the unit tests' access to ../shared/testdata (inputs shipped
 * with real Xen releases, which nobody here wrote).  Include after
 * <cmocka.h>, <stdlib.h> and <string.h>. */
#ifndef XMIG_TEST_TESTDATA_H
#define XMIG_TEST_TESTDATA_H

static const char *
testdata_dir(void)
{
	const char *d = getenv("XMIG_XEND_TESTDATA");

	return d != NULL ? d : "../shared/testdata/xend-config";
}

/* Without the testdata the test is skipped, except under CI=true or
 * XMIG_REQUIRE_ALL=1, where a skip is a failure. */
static void
testdata_missing(const char *dir)
{
	const char *ci = getenv("CI"), *all = getenv("XMIG_REQUIRE_ALL");

	print_message("no xend testdata at %s (set XMIG_XEND_TESTDATA)\n", dir);
	if ((ci != NULL && strcmp(ci, "true") == 0) || (all != NULL && strcmp(all, "1") == 0))
		fail_msg("xend testdata missing at %s: required under CI=true or XMIG_REQUIRE_ALL=1",
		    dir);
	skip();
}

#endif
