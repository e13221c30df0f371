/* test_xend_import.c - xend-config.sxp to xmigd.conf (lib/xend_import.c):
 * the output is accepted by xmigd's parser, means what xend's settings
 * meant (hosts-allow as xend's re.match let peers in), and everything
 * without an equivalent is one warning line. */
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
#include <sys/socket.h>

#include <cmocka.h>

#include "allow.h"
#include "conf.h"
#include "sexp.h"
#include "xend_import.h"
#include "xerr.h"
#include "testdata.h"

struct result {
	int rc;
	char *out;		/* the xmigd.conf text */
	char *warn;		/* warning lines */
	unsigned nwarn;
	char err[1024];
	struct conf conf;	/* out, parsed as xmigd would */
};

static void
import_text(struct result *res, const char *text, size_t len)
{
	size_t olen = 0, wlen = 0;
	FILE *o, *w;

	memset(res, 0, sizeof(*res));
	assert_non_null(o = open_memstream(&res->out, &olen));
	assert_non_null(w = open_memstream(&res->warn, &wlen));
	res->rc = xend_import("x.sxp", text, len, o, w, "xmig", &res->nwarn, res->err,
	    sizeof(res->err));
	fclose(o);
	fclose(w);
	if (res->rc == 0) {
		char err[1024];

		conf_init(&res->conf);
		if (conf_parse_buffer(&res->conf, "out", res->out, olen, err, sizeof(err)) != 0 ||
		    conf_check(&res->conf, err, sizeof(err)) != 0)
			fail_msg("output refused by xmigd: %s\n%s", err, res->out);
	} else {
		assert_int_equal(olen, 0);	/* nothing written on error */
		assert_null(strchr(res->err, '\n'));
	}
}

static void
import_ok(struct result *res, const char *text)
{
	import_text(res, text, strlen(text));
	if (res->rc != 0)
		fail_msg("import of <<%s>> failed: %s", text, res->err);
}

static void
result_free(struct result *res)
{
	free(res->out);
	free(res->warn);
}

/* Number of warning lines containing s. */
static unsigned
warned(const struct result *res, const char *s)
{
	const char *p = res->warn;
	unsigned n = 0;

	while (p != NULL && *p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		char *line = strndup(p, len);

		if (strstr(line, s) != NULL)
			n++;
		free(line);
		p = nl != NULL ? nl + 1 : p + len;
	}
	return n;
}

/* Every warning is one line "xmig: warning: x.sxp..." */
static void
assert_warning_lines(const struct result *res)
{
	const char *p = res->warn;
	unsigned lines = 0;

	while (p != NULL && *p != '\0') {
		const char *nl = strchr(p, '\n');

		assert_non_null(nl);
		if (strncmp(p, "xmig: warning: x.sxp", 20) != 0)
			fail_msg("warning line without the prefix: %.*s", (int)(nl - p), p);
		lines++;
		p = nl + 1;
	}
	assert_int_equal(lines, res->nwarn);
}

static bool
peer_allowed(const struct conf *c, const char *addr, const char *hostname)
{
	struct allow_list *al = NULL;
	struct sockaddr_in sin;
	char err[256];
	bool ok;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, addr, &sin.sin_addr), 1);
	if (allow_compile(c->relocation_hosts_allow, &al, err, sizeof(err)) != 0)
		fail_msg("allow-list \"%s\": %s", c->relocation_hosts_allow, err);
	ok = allow_match(al, (struct sockaddr *)&sin, sizeof(sin), hostname);
	allow_free(al);
	return ok;
}

static void
test_relocation_keys_map_to_xmigd_keys(void **state)
{
	struct result r;

	import_ok(&r, "(xend-relocation-server yes)\n(xend-relocation-port 9002)\n"
	    "(xend-relocation-address 10.1.2.3)\n"
	    "(xend-relocation-hosts-allow '^dom0-a$ ^dom0-b\\\\.example\\\\.org$')\n");
	assert_true(r.conf.relocation_server);
	assert_int_equal(r.conf.relocation_port, 9002);
	assert_string_equal(r.conf.relocation_address, "10.1.2.3");
	assert_string_equal(r.conf.relocation_hosts_allow, "^dom0-a$ ^dom0-b\\.example\\.org$");
	assert_int_equal(r.nwarn, 0);
	result_free(&r);
}

/* xend's defaults are not xmigd's: without (xend-relocation-server yes)
 * xend never listened, and its port default is written out explicitly. */
static void
test_unset_keys_take_xend_defaults(void **state)
{
	struct result r;

	import_ok(&r, "(logfile /var/log/xen/xend.log)\n");
	assert_false(r.conf.relocation_server);
	assert_int_equal(r.conf.relocation_port, 8002);
	assert_string_equal(r.conf.relocation_address, "");
	assert_int_equal(warned(&r, "xend-relocation-server is not set"), 1);
	assert_int_equal(warned(&r, "1 setting unrelated to relocation ignored (logfile)"), 1);
	/* xend did not listen: no open allow-list is carried over */
	assert_string_equal(r.conf.relocation_hosts_allow, CONF_DEFAULT_HOSTS_ALLOW);
	assert_warning_lines(&r);
	result_free(&r);
}

static void
test_booleans_and_ports_read_as_xend_read_them(void **state)
{
	static const char *const yes[] = { "yes", "Y", "1", "on", "TRUE", "t" };
	static const char *const no[] = { "no", "N", "0", "Off", "false", "f" };
	char text[128];
	struct result r;
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		snprintf(text, sizeof(text), "(xend-relocation-server %s)(xend-relocation-port "
		    "' +8100 ')(xend-relocation-hosts-allow ^a$)", yes[i]);
		import_ok(&r, text);
		assert_true(r.conf.relocation_server);
		assert_int_equal(r.conf.relocation_port, 8100);
		result_free(&r);
		snprintf(text, sizeof(text), "(xend-relocation-server '%s')", no[i]);
		import_ok(&r, text);
		assert_false(r.conf.relocation_server);
		result_free(&r);
	}
}

static void
test_bad_values_fail_naming_key_and_line(void **state)
{
	static const struct { const char *text, *msg; } cases[] = {
		{ "(a b)\n(xend-relocation-server maybe)", "x.sxp:2: xend-relocation-server: "
		  "\"maybe\" is not a boolean" },
		{ "\n\n(xend-relocation-port 0)", "x.sxp:3: xend-relocation-port: \"0\" is not a "
		  "port number" },
		{ "(xend-relocation-port 65536)", "x.sxp:1: xend-relocation-port: \"65536\"" },
		{ "(xend-relocation-port 80a)", "x.sxp:1: xend-relocation-port: \"80a\"" },
		{ "(xend-relocation-port (8002))", "x.sxp:1: xend-relocation-port: expected a "
		  "value, not a list" },
		{ "(xend-relocation-address 'eth0\\n')", "x.sxp:1: xend-relocation-address: value "
		  "\"eth0\\x0a\" has a control character" },
		{ "(xend-relocation-hosts-allow 'a/b (?i)c')", "x.sxp:1: "
		  "xend-relocation-hosts-allow: no entry could be converted" },
		{ "(xend-relocation-server yes", "x.sxp:1: '(' opened here is never closed" },
	};
	struct result r;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		import_text(&r, cases[i].text, strlen(cases[i].text));
		assert_int_not_equal(r.rc, 0);
		if (strstr(r.err, cases[i].msg) != r.err)
			fail_msg("<<%s>>: message \"%s\", want \"%s...\"", cases[i].text, r.err,
			    cases[i].msg);
		result_free(&r);
	}
}

/* xend: first occurrence wins; extra values ignored; unknown escapes read
 * the way xend read them - each said in one warning. */
static void
test_xend_quirks_are_kept_and_warned(void **state)
{
	struct result r;

	import_ok(&r, "(xend-relocation-server yes)\n(xend-relocation-port 8010 8011)\n"
	    "(xend-relocation-port 8020)\n(xend-relocation-hosts-allow '^a$')\n"
	    "(xend-relocation-address 'x\\yz')\n(xend-relocation-frobnicate 1)\nstray\n");
	assert_int_equal(r.conf.relocation_port, 8010);
	assert_string_equal(r.conf.relocation_address, "x\\z");
	assert_int_equal(warned(&r, "x.sxp:3: xend-relocation-port is given again (first on "
	    "line 2)"), 1);
	assert_int_equal(warned(&r, "x.sxp:2: xend-relocation-port: values after the first"), 1);
	assert_int_equal(warned(&r, "x.sxp:5: xend-relocation-address: unknown escape \"\\y\""),
	    1);
	assert_int_equal(warned(&r, "x.sxp:6: xend-relocation-frobnicate has no equivalent"), 1);
	assert_int_equal(warned(&r, "x.sxp:7: a value outside any (key value) form"), 1);
	assert_int_equal(r.nwarn, 5);
	assert_warning_lines(&r);
	result_free(&r);
}

/* re.match anchored xend's regexes at the start only: "10.0.0.1" let in
 * 10.0.0.12 and "dom0" let in dom0-evil.example.com.  The import keeps
 * exactly that set (and says so); '$'-terminated entries are unchanged. */
static void
test_unanchored_entries_keep_xend_prefix_semantics(void **state)
{
	struct result r;

	import_ok(&r, "(xend-relocation-server yes)"
	    "(xend-relocation-hosts-allow '10.0.0.1 dom0 ^host\\\\.lan$')");
	assert_string_equal(r.conf.relocation_hosts_allow, "10.0.0.1.* dom0.* ^host\\.lan$");
	assert_true(peer_allowed(&r.conf, "10.0.0.1", NULL));
	assert_true(peer_allowed(&r.conf, "10.0.0.12", NULL));		/* as in xend */
	assert_false(peer_allowed(&r.conf, "110.0.0.1", NULL));	/* as in xend */
	assert_true(peer_allowed(&r.conf, "192.0.2.9", "dom0-evil.example.com"));
	assert_false(peer_allowed(&r.conf, "192.0.2.9", "xdom0"));
	assert_true(peer_allowed(&r.conf, "192.0.2.9", "host.lan"));
	assert_false(peer_allowed(&r.conf, "192.0.2.9", "host.lan.evil"));
	assert_false(peer_allowed(&r.conf, "192.0.2.9", "hostXlan"));
	assert_int_equal(warned(&r, "entry \"10.0.0.1\" does not end in '$'"), 1);
	assert_int_equal(warned(&r, "entry \"dom0\" does not end in '$'"), 1);
	assert_int_equal(r.nwarn, 2);
	result_free(&r);
}

static void
test_python_regex_syntax_is_converted(void **state)
{
	static const struct { const char *xend, *xmig; } cases[] = {
		{ "^10\\\\.0\\\\.0\\\\.\\\\d+$", "^10\\.0\\.0\\.[0-9]+$" },
		{ "^a$|^b", "(^a$|^b).*" },
		{ "^[\\\\w.-]+\\\\.lan$", "^[A-Za-z0-9_.-]+\\.lan$" },
		{ "^h\\\\-\\\\d{2,}?$", "^h-[0-9]{2,}$" },
		{ "^n{,3}$", "^n{0,3}$" },
		{ "^x\\\\S*?$", "^x[^[:space:]]*$" },
	};
	char text[256];
	struct result r;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "(xend-relocation-server yes)"
		    "(xend-relocation-hosts-allow '%s')", cases[i].xend);
		import_ok(&r, text);
		if (strcmp(r.conf.relocation_hosts_allow, cases[i].xmig) != 0)
			fail_msg("'%s' became '%s', want '%s'", cases[i].xend,
			    r.conf.relocation_hosts_allow, cases[i].xmig);
		result_free(&r);
	}
	import_ok(&r, "(xend-relocation-server yes)(xend-relocation-hosts-allow "
	    "'^10\\\\.0\\\\.0\\\\.\\\\d+$ ^a$|^b')");
	assert_true(peer_allowed(&r.conf, "10.0.0.77", NULL));
	assert_false(peer_allowed(&r.conf, "10.0.1.77", NULL));
	assert_true(peer_allowed(&r.conf, "192.0.2.1", "a"));
	assert_true(peer_allowed(&r.conf, "192.0.2.1", "bcd"));
	assert_false(peer_allowed(&r.conf, "192.0.2.1", "ab"));	/* re.match: no */
	result_free(&r);
}

/* Entries xmigd cannot take are left out, each with a warning; an empty
 * entry (xend's split(" ") of two spaces), which matched every host in
 * xend, is left out too, with a warning saying xend was open. */
static void
test_unconvertible_and_empty_entries_are_left_out_with_warnings(void **state)
{
	struct result r;

	import_ok(&r, "(xend-relocation-server yes)(xend-relocation-hosts-allow "
	    "'^ok$  10.0.0.0/8 (?i)^x$ ^\\\\1$ ^a\\\\\\\\b$ ^q\\\\b$ [[:alpha:]]')");
	assert_string_equal(r.conf.relocation_hosts_allow, "^ok$");
	assert_int_equal(warned(&r, "has an empty entry"), 1);
	assert_int_equal(warned(&r, "\"10.0.0.0/8\" has a '/'"), 1);
	assert_int_equal(warned(&r, "\"(?i)^x$\" cannot be converted"), 1);
	assert_int_equal(warned(&r, "\"^\\1$\" cannot be converted (back-reference"), 1);
	assert_int_equal(warned(&r, "\"^a\\\\b$\" cannot be converted (matches a backslash"), 1);
	assert_int_equal(warned(&r, "\"^q\\b$\" cannot be converted (Python escape"), 1);
	assert_int_equal(warned(&r, "\"[[:alpha:]]\" cannot be converted"), 1);
	assert_int_equal(r.nwarn, 7);
	assert_false(peer_allowed(&r.conf, "192.0.2.1", "anyone"));
	assert_warning_lines(&r);
	result_free(&r);
}

/* An empty or missing hosts-allow let every host in under xend; the
 * import keeps that (an empty relocation-hosts-allow) and warns. */
static void
test_empty_hosts_allow_stays_open_with_warning(void **state)
{
	static const char *const texts[] = {
		"(xend-relocation-server yes)(xend-relocation-hosts-allow '')",
		"(xend-relocation-server yes)",
		"(xend-relocation-server yes)(xend-relocation-hosts-allow ' ')",
	};
	struct result r;
	size_t i;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		import_ok(&r, texts[i]);
		assert_string_equal(r.conf.relocation_hosts_allow, "");
		assert_true(peer_allowed(&r.conf, "198.51.100.7", NULL));
		assert_int_equal(warned(&r, "xend let every host connect"), 1);
		assert_int_equal(r.nwarn, 1);
		result_free(&r);
	}
}

/* xend's SSL server had no CA; xmigd's TLS is mutual: the values are kept
 * commented out (bare file names under /etc/xen, as xend resolved them)
 * and the live configuration has TLS off. */
static void
test_ssl_settings_are_written_commented_out_with_warning(void **state)
{
	struct result r;

	import_ok(&r, "(xend-relocation-server yes)(xend-relocation-hosts-allow ^a$)\n"
	    "(xend-relocation-ssl-server yes)\n(xend-relocation-ssl-port 8443)\n"
	    "(xend-relocation-server-ssl-key-file xmlrpc.key)\n"
	    "(xend-relocation-server-ssl-cert-file /etc/pki/x.crt)\n(xend-relocation-ssl yes)\n");
	assert_non_null(strstr(r.out, "\n#relocation-ssl-server = yes\n"));
	assert_non_null(strstr(r.out, "\n#relocation-ssl-port = 8443\n"));
	assert_non_null(strstr(r.out, "\n#ssl-key-file = " XEND_CONFIG_DIR "/xmlrpc.key\n"));
	assert_non_null(strstr(r.out, "\n#ssl-cert-file = /etc/pki/x.crt\n"));
	assert_int_equal(warned(&r, "x.sxp:2: xend-relocation-ssl-server: xend's SSL "
	    "relocation server checked no peer certificate"), 1);
	assert_int_equal(warned(&r, "x.sxp:6: xend-relocation-ssl (send with SSL"), 1);
	assert_int_equal(r.nwarn, 2);
	assert_warning_lines(&r);
	result_free(&r);
}

/* The configurations shipped with Xen 3.2 to 4.4: each imports to an
 * xmigd.conf that xmigd accepts, receives migrations, and lets in exactly
 * the localhost names xend let in; the only warning is the one-line
 * summary of the unrelated settings. */
static void
test_xen_release_configs_import_with_xend_meaning(void **state)
{
	const char *dir = testdata_dir();
	DIR *d = opendir(dir);
	struct dirent *de;
	unsigned files = 0;

	if (d == NULL) {
		testdata_missing(dir);
	}
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name), len;
		char path[1024], *buf;
		struct result r;
		FILE *f;

		if (n < 4 || strcmp(de->d_name + n - 4, ".sxp") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		assert_non_null(f = fopen(path, "rb"));
		assert_non_null(buf = malloc(SEXP_MAX_INPUT));
		len = fread(buf, 1, SEXP_MAX_INPUT, f);
		fclose(f);
		import_text(&r, buf, len);
		if (r.rc != 0)
			fail_msg("%s: %s", path, r.err);
		files++;
		assert_true(r.conf.relocation_server);
		assert_int_equal(r.conf.relocation_port, 8002);
		assert_string_equal(r.conf.relocation_hosts_allow,
		    "^localhost$ ^localhost\\.localdomain$");
		assert_true(peer_allowed(&r.conf, "127.0.0.1", "localhost"));
		assert_true(peer_allowed(&r.conf, "127.0.0.1", "localhost.localdomain"));
		assert_false(peer_allowed(&r.conf, "127.0.0.1", "localhostXlocaldomain"));
		assert_false(peer_allowed(&r.conf, "198.51.100.1", "other.example.org"));
		assert_int_equal(r.nwarn, 1);
		assert_int_equal(warned(&r, "unrelated to relocation ignored (network-script, "
		    "vif-script, dom0-min-mem"), 1);
		assert_warning_lines(&r);
		result_free(&r);
		free(buf);
	}
	closedir(d);
	assert_true(files >= 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_relocation_keys_map_to_xmigd_keys),
		cmocka_unit_test(test_unset_keys_take_xend_defaults),
		cmocka_unit_test(test_booleans_and_ports_read_as_xend_read_them),
		cmocka_unit_test(test_bad_values_fail_naming_key_and_line),
		cmocka_unit_test(test_xend_quirks_are_kept_and_warned),
		cmocka_unit_test(test_unanchored_entries_keep_xend_prefix_semantics),
		cmocka_unit_test(test_python_regex_syntax_is_converted),
		cmocka_unit_test(test_unconvertible_and_empty_entries_are_left_out_with_warnings),
		cmocka_unit_test(test_empty_hosts_allow_stays_open_with_warning),
		cmocka_unit_test(test_ssl_settings_are_written_commented_out_with_warning),
		cmocka_unit_test(test_xen_release_configs_import_with_xend_meaning),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
