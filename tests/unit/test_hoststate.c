/* test_hoststate.c - host state and pin files: parsing, persistence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/hoststate.h"
#include "xerr.h"

static void
test_state_names(void **st)
{
	enum host_state s;

	(void)st;
	assert_int_equal(hoststate_parse("preparing-for-maintenance", &s), 0);
	assert_int_equal(s, HOST_PREPARING);
	assert_string_equal(hoststate_str(HOST_MAINTENANCE), "maintenance");
	assert_int_equal(hoststate_parse("Maintenance", &s), XMIG_ERR_INVALID);
	assert_int_equal(hoststate_parse("", &s), XMIG_ERR_INVALID);
}

static void
test_state_line(void **st)
{
	enum host_state s;
	char why[16];

	(void)st;
	assert_int_equal(hoststate_line_parse("maintenance disk swap\n", &s, why, sizeof(why)), 0);
	assert_int_equal(s, HOST_MAINTENANCE);
	assert_string_equal(why, "disk swap");
	assert_int_equal(hoststate_line_parse("active", &s, why, sizeof(why)), 0);
	assert_string_equal(why, "");
	/* A long reason is cut, never overflows. */
	assert_int_equal(hoststate_line_parse("active 0123456789abcdefXYZ", &s, why, sizeof(why)),
	    0);
	assert_int_equal(strlen(why), sizeof(why) - 1);
	assert_int_equal(hoststate_line_parse("bogus", &s, why, sizeof(why)), XMIG_ERR_INVALID);
	assert_int_equal(hoststate_line_parse("\n", &s, why, sizeof(why)), XMIG_ERR_INVALID);
}

static void
test_pin_line(void **st)
{
	struct pin p;

	(void)st;
	assert_int_equal(pin_line_parse("vm1 00112233-4455-6677-8899-aabbccddeeff all\n", &p), 0);
	assert_string_equal(p.name, "vm1");
	assert_int_equal(p.mode, PIN_ALL);
	assert_int_equal(p.uuid[15], 0xff);
	assert_int_equal(pin_line_parse("vm1 00112233-4455-6677-8899-aabbccddeeff auto", &p), 0);
	assert_int_equal(p.mode, PIN_AUTO);
	assert_int_equal(pin_line_parse("vm1 00112233-4455-6677-8899-aabbccddeeff none", &p),
	    XMIG_ERR_INVALID);
	assert_int_equal(pin_line_parse("vm1 not-a-uuid auto", &p), XMIG_ERR_INVALID);
	assert_int_equal(pin_line_parse("vm1 00112233-4455-6677-8899-aabbccddeeff auto x", &p),
	    XMIG_ERR_INVALID);
	assert_int_equal(pin_line_parse("vm1", &p), XMIG_ERR_INVALID);
	assert_int_equal(pin_line_parse("a234567890123456789012345678901234567890123456789012345678"
	    "901234567 00112233-4455-6677-8899-aabbccddeeff auto", &p), XMIG_ERR_INVALID);
	assert_null(pin_mode_str(PIN_NONE));
}

/* Pins and state written, then read back as a restarted daemon would. */
static void
test_persist(void **st)
{
	char dir[] = "/tmp/test_hoststate.XXXXXX", err[200], why[64], path[100];
	uint8_t u1[16] = { 1 }, u2[16] = { 2 }, nil[16] = { 0 };

	(void)st;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(hoststate_init(dir, err, sizeof(err)), 0);
	assert_int_equal(hoststate_get(NULL, 0), HOST_ACTIVE);
	assert_int_equal(hoststate_set(HOST_PREPARING, "new\nfans"), 0);
	assert_int_equal(hoststate_get(why, sizeof(why)), HOST_PREPARING);
	assert_string_equal(why, "new fans");
	assert_int_equal(pins_set("vm1", u1, PIN_AUTO), 0);
	assert_int_equal(pins_set("vm2", u2, PIN_ALL), 0);
	assert_int_equal(pins_set("vm3", nil, PIN_NONE), XMIG_ERR_NOT_FOUND);
	/* By uuid first: a renamed domain keeps its pin. */
	assert_int_equal(pins_lookup("renamed", u1), PIN_AUTO);
	assert_int_equal(pins_lookup("vm2", nil), PIN_ALL);
	assert_int_equal(pins_lookup("vm9", nil), PIN_NONE);
	assert_int_equal(hoststate_init(dir, err, sizeof(err)), 0);
	assert_int_equal(hoststate_get(NULL, 0), HOST_PREPARING);
	assert_int_equal(pins_set("vm1", u1, PIN_NONE), 0);
	assert_int_equal(pins_lookup("vm1", u1), PIN_NONE);
	snprintf(path, sizeof(path), "%s/pins", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/host-state", dir);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_names),
		cmocka_unit_test(test_state_line),
		cmocka_unit_test(test_pin_line),
		cmocka_unit_test(test_persist),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
