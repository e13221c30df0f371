/* test_conf.c - xmigd.conf parsing (lib/conf.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "allow.h"
#include "conf.h"
#include "log.h"
#include "xerr.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define SAMPLE_CONF "etc/xmigd.conf"

static const char *const all_keys[] = {
	"relocation-server", "relocation-port", "relocation-address", "relocation-hosts-allow",
	"control-socket", "state-dir", "backend", "sim-root", "sim-memory", "host-name",
	"log-level", "migration-downtime-ms", "migration-max-rounds", "migration-max-factor",
	"max-incoming",
	"relocation-ssl-server", "relocation-ssl-port", "ssl-key-file", "ssl-cert-file",
	"ssl-ca-file", "ssl-peer-fingerprints", "ssl-min-version",
	"host-vcpus", "balance-high-percent", "balance-low-percent", "balance-interval",
	"balance-policy",
};

static int
parse_str(struct conf *c, const char *text, char *err, size_t errlen)
{
	return conf_parse_buffer(c, "xmigd.conf", text, strlen(text), err, errlen);
}

static void
parse_ok(struct conf *c, const char *text)
{
	char err[1024] = "";
	int r = parse_str(c, text, err, sizeof(err));

	if (r != 0)
		fail_msg("parse of <<%s>> failed: %d: %s", text, r, err);
}

/* conf_dump output, for comparing whole configurations. */
static char *
dump(const struct conf *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	conf_dump(c, f);
	fclose(f);
	return buf;
}

static void
assert_same_conf(const struct conf *a, const struct conf *b)
{
	char *da = dump(a), *db = dump(b);

	assert_string_equal(da, db);
	free(da);
	free(db);
}

static void
test_defaults(void **state)
{
	struct conf c;
	char err[256];

	memset(&c, 0x5a, sizeof(c));
	conf_init(&c);
	assert_true(c.relocation_server);
	assert_int_equal(c.relocation_port, CONF_DEFAULT_PORT);
	assert_string_equal(c.relocation_address, "");
	assert_string_equal(c.relocation_hosts_allow, CONF_DEFAULT_HOSTS_ALLOW);
	assert_string_equal(c.control_socket, CONF_DEFAULT_CONTROL_SOCKET);
	assert_string_equal(c.state_dir, CONF_DEFAULT_STATE_DIR);
	assert_int_equal(c.backend, CONF_BACKEND_AUTO);
	assert_string_equal(c.sim_root, CONF_DEFAULT_SIM_ROOT);
	assert_int_equal(c.sim_memory, 0);
	assert_string_equal(c.host_name, "");
	assert_int_equal(c.log_level, LOG_LVL_INFO);
	assert_int_equal(c.downtime_ms, CONF_DEFAULT_DOWNTIME_MS);
	assert_int_equal(c.max_rounds, CONF_DEFAULT_MAX_ROUNDS);
	assert_true(c.max_factor == CONF_DEFAULT_MAX_FACTOR);
	assert_int_equal(c.max_incoming, CONF_DEFAULT_MAX_INCOMING);
	assert_int_equal(conf_check(&c, err, sizeof(err)), 0);
}

static void
test_empty_comment_and_blank_lines_keep_defaults(void **state)
{
	static const char *const texts[] = {
		"",
		"\n\n\n",
		"# only a comment\n",
		"   # indented comment\n\t\n  \n",
		"# no newline at the end",
		"\xef\xbb\xbf# a UTF-8 byte order mark\n",
		"# comment = with an equals sign\n#relocation-port = 1\n",
	};
	struct conf def, c;
	size_t i;

	conf_init(&def);
	for (i = 0; i < ARRAY_LEN(texts); i++) {
		conf_init(&c);
		parse_ok(&c, texts[i]);
		assert_same_conf(&c, &def);
	}
}

static void
test_every_key_parses(void **state)
{
	static const char text[] =
	    "relocation-server = no\n"
	    "relocation-port = 9002\n"
	    "relocation-address = 192.0.2.10\n"
	    "relocation-hosts-allow = '10.0.0.0/8 ^dst\\.example\\.org$'\n"
	    "control-socket = /tmp/x/ctl.sock\n"
	    "state-dir = /tmp/x/state\n"
	    "backend = sim\n"
	    "sim-root = /tmp/x/sim\n"
	    "sim-memory = 16G\n"
	    "host-name = src.example.org\n"
	    "log-level = debug\n"
	    "migration-downtime-ms = 50\n"
	    "migration-max-rounds = 7\n"
	    "migration-max-factor = 2.5\n"
	    "max-incoming = 64\n";
	struct conf c;
	char err[256];

	conf_init(&c);
	parse_ok(&c, text);
	assert_false(c.relocation_server);
	assert_int_equal(c.relocation_port, 9002);
	assert_string_equal(c.relocation_address, "192.0.2.10");
	assert_string_equal(c.relocation_hosts_allow, "10.0.0.0/8 ^dst\\.example\\.org$");
	assert_string_equal(c.control_socket, "/tmp/x/ctl.sock");
	assert_string_equal(c.state_dir, "/tmp/x/state");
	assert_int_equal(c.backend, CONF_BACKEND_SIM);
	assert_string_equal(c.sim_root, "/tmp/x/sim");
	assert_int_equal(c.sim_memory, 16ull << 30);
	assert_string_equal(c.host_name, "src.example.org");
	assert_int_equal(c.log_level, LOG_LVL_DEBUG);
	assert_int_equal(c.downtime_ms, 50);
	assert_int_equal(c.max_rounds, 7);
	assert_true(c.max_factor == 2.5);
	assert_int_equal(c.max_incoming, 64);
	assert_int_equal(conf_check(&c, err, sizeof(err)), 0);
}

/* One key = value line and the field it must produce, as conf_dump prints it. */
struct value_case {
	const char *line;
	const char *dumped;	/* the "key = value" line in conf_dump output */
};

static const struct value_case value_cases[] = {
	{ "relocation-server = yes", "relocation-server = yes" },
	{ "relocation-server = no", "relocation-server = no" },
	{ "relocation-server = true", "relocation-server = yes" },
	{ "relocation-server = False", "relocation-server = no" },
	{ "relocation-server = on", "relocation-server = yes" },
	{ "relocation-server = OFF", "relocation-server = no" },
	{ "relocation-server = 1", "relocation-server = yes" },
	{ "relocation-server = 0", "relocation-server = no" },
	{ "relocation-port = 1", "relocation-port = 1" },
	{ "relocation-port = 65535", "relocation-port = 65535" },
	{ "backend = auto", "backend = auto" },
	{ "backend = xen", "backend = xen" },
	{ "backend = sim", "backend = sim" },
	{ "sim-memory = 0", "sim-memory = 0" },
	{ "sim-memory = 512M", "sim-memory = 512M" },
	{ "sim-memory = 1536MiB", "sim-memory = 1536M" },
	{ "sim-memory = 2g", "sim-memory = 2G" },
	{ "sim-memory = 1T", "sim-memory = 1T" },
	{ "sim-memory = 4097", "sim-memory = 4097" },
	{ "log-level = error", "log-level = error" },
	{ "log-level = warn", "log-level = warn" },
	{ "log-level = verbose", "log-level = verbose" },
	{ "migration-downtime-ms = 1", "migration-downtime-ms = 1" },
	{ "migration-downtime-ms = 60000", "migration-downtime-ms = 60000" },
	{ "migration-max-rounds = 1", "migration-max-rounds = 1" },
	{ "migration-max-rounds = 1000", "migration-max-rounds = 1000" },
	{ "migration-max-factor = 1", "migration-max-factor = 1" },
	{ "migration-max-factor = 1.0", "migration-max-factor = 1" },
	{ "migration-max-factor = 100", "migration-max-factor = 100" },
	{ "migration-max-factor = 100.000", "migration-max-factor = 100" },
	{ "migration-max-factor = 3.25", "migration-max-factor = 3.25" },
	/* Not a binary fraction: read and dumped with the same rounding. */
	{ "migration-max-factor = 1.122", "migration-max-factor = 1.122" },
	{ "migration-max-factor = 1.1", "migration-max-factor = 1.1" },
	{ "migration-max-factor = 99.99", "migration-max-factor = 99.99" },
	{ "max-incoming = 1", "max-incoming = 1" },
	{ "relocation-hosts-lookup-timeout-ms = 100", "relocation-hosts-lookup-timeout-ms = 100" },
	{ "relocation-hosts-lookup-timeout-ms = 10000",
	  "relocation-hosts-lookup-timeout-ms = 10000" },
	{ "relocation-address = localhost", "relocation-address = localhost" },
	{ "relocation-address = eth0", "relocation-address = eth0" },
	{ "relocation-address =", "relocation-address = \"\"" },
	{ "relocation-hosts-allow = ''", "relocation-hosts-allow = \"\"" },
	{ "relocation-hosts-allow = ::1 fd00::/8", "relocation-hosts-allow = ::1 fd00::/8" },
	{ "control-socket = /run/xmig/other.sock", "control-socket = /run/xmig/other.sock" },
	{ "relocation-ssl-server = yes", "relocation-ssl-server = yes" },
	{ "relocation-ssl-port = 9003", "relocation-ssl-port = 9003" },
	{ "ssl-key-file = /etc/xmig/tls/a.key", "ssl-key-file = /etc/xmig/tls/a.key" },
	{ "ssl-cert-file =", "ssl-cert-file = \"\"" },
	{ "ssl-min-version = 1.2", "ssl-min-version = 1.2" },
	{ "ssl-min-version = 1.3", "ssl-min-version = 1.3" },
	{ "ssl-peer-fingerprints = ''", "ssl-peer-fingerprints = \"\"" },
	{ "host-vcpus = 0", "host-vcpus = 0" },
	{ "host-vcpus = 1048576", "host-vcpus = 1048576" },
	{ "balance-high-percent = 100", "balance-high-percent = 100" },
	{ "balance-high-percent = 21", "balance-high-percent = 21" },
	{ "balance-low-percent = 0", "balance-low-percent = 0" },
	{ "balance-low-percent = 79", "balance-low-percent = 79" },
	{ "balance-interval = 0", "balance-interval = 0" },
	{ "balance-interval = 604800", "balance-interval = 604800" },
	{ "balance-policy = even", "balance-policy = even" },
	{ "balance-policy = power-saving", "balance-policy = power-saving" },
};

static void
test_value_forms_table(void **state)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(value_cases); i++) {
		struct conf c;
		char *d, want[256];

		conf_init(&c);
		parse_ok(&c, value_cases[i].line);
		d = dump(&c);
		snprintf(want, sizeof(want), "\n%s\n", value_cases[i].dumped);
		if (strstr(d, want) == NULL)
			fail_msg("\"%s\": dump lacks \"%s\"", value_cases[i].line, value_cases[i].dumped);
		free(d);
	}
}

struct quote_case {
	const char *text;
	const char *host_name;	/* expected value */
};

static const struct quote_case quote_cases[] = {
	{ "host-name = plain", "plain" },
	{ "host-name=plain", "plain" },
	{ "  host-name\t=\tplain\t ", "plain" },
	{ "host-name = plain # trailing comment", "plain" },
	{ "host-name = plain#comment", "plain" },
	{ "host-name = two words  # comment", "two words" },
	{ "host-name = \"a # b\"", "a # b" },
	{ "host-name = \"a # b\"  # real comment", "a # b" },
	{ "host-name = 'x y'", "x y" },
	{ "host-name = '  padded  '", "  padded  " },
	{ "host-name = \"it's\"", "it's" },
	{ "host-name = 'say \"hi\"'", "say \"hi\"" },
	{ "host-name = \"back\\slash\"", "back\\slash" },
	{ "host-name = \"\"", "" },
	{ "host-name = ''   ", "" },
	{ "host-name =", "" },
	{ "host-name = # nothing but a comment", "" },
	{ "host-name = a\"b", "a\"b" },
	{ "host-name = x=y", "x=y" },
	{ "host-name = crlf\r\n", "crlf" },
	{ "host-name = \"crlf\"\r\n", "crlf" },
};

static void
test_quotes_and_trailing_comments(void **state)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(quote_cases); i++) {
		struct conf c;

		conf_init(&c);
		parse_ok(&c, quote_cases[i].text);
		if (strcmp(c.host_name, quote_cases[i].host_name) != 0)
			fail_msg("<<%s>> gave \"%s\", want \"%s\"", quote_cases[i].text, c.host_name,
			    quote_cases[i].host_name);
	}
}

/* A configuration that fails, and the exact message. */
struct err_case {
	const char *text;
	const char *msg;
};

#define HEAD6 "# xmigd.conf\n#\n\nrelocation-server = yes\n\n# port:\n"

static const struct err_case err_cases[] = {
	/* values */
	{ HEAD6 "relocation-port = 80x2\n",
	  "xmigd.conf:7: relocation-port: \"80x2\" is not a port number (1-65535)" },
	{ "relocation-port = 0", "xmigd.conf:1: relocation-port: \"0\" is not a port number (1-65535)" },
	{ "relocation-port = 65536",
	  "xmigd.conf:1: relocation-port: \"65536\" is not a port number (1-65535)" },
	{ "relocation-port = -1", "xmigd.conf:1: relocation-port: \"-1\" is not a port number (1-65535)" },
	{ "relocation-port =", "xmigd.conf:1: relocation-port: \"\" is not a port number (1-65535)" },
	{ "relocation-server = maybe",
	  "xmigd.conf:1: relocation-server: \"maybe\" is not yes or no "
	  "(also accepted: true/false, on/off, 1/0)" },
	{ "backend = kvm", "xmigd.conf:1: backend: \"kvm\" is not auto, xen or sim" },
	{ "log-level = loud",
	  "xmigd.conf:1: log-level: \"loud\" is not error, warn, info, verbose or debug" },
	{ "sim-memory = 16X",
	  "xmigd.conf:1: sim-memory: \"16X\" is not a size (a number of bytes with an optional "
	  "K, M, G or T suffix, e.g. 16G; 0 = physical RAM)" },
	{ "sim-memory = 99999999T",
	  "xmigd.conf:1: sim-memory: \"99999999T\" is not a size (a number of bytes with an "
	  "optional K, M, G or T suffix, e.g. 16G; 0 = physical RAM): too large" },
	{ "migration-downtime-ms = 0",
	  "xmigd.conf:1: migration-downtime-ms: \"0\" is not a number from 1 to 600000" },
	{ "migration-downtime-ms = 600001",
	  "xmigd.conf:1: migration-downtime-ms: \"600001\" is not a number from 1 to 600000" },
	{ "migration-max-rounds = 100001",
	  "xmigd.conf:1: migration-max-rounds: \"100001\" is not a number from 1 to 100000" },
	{ "migration-max-rounds = 3.5",
	  "xmigd.conf:1: migration-max-rounds: \"3.5\" is not a number from 1 to 100000" },
	{ "max-incoming = 65", "xmigd.conf:1: max-incoming: \"65\" is not a number from 1 to 64" },
	{ "max-incoming = 0", "xmigd.conf:1: max-incoming: \"0\" is not a number from 1 to 64" },
	{ "relocation-hosts-lookup-timeout-ms = 99", "xmigd.conf:1: "
	  "relocation-hosts-lookup-timeout-ms: \"99\" is not a number from 100 to 10000" },
	{ "relocation-hosts-lookup-timeout-ms = 10001", "xmigd.conf:1: "
	  "relocation-hosts-lookup-timeout-ms: \"10001\" is not a number from 100 to 10000" },
	{ "migration-max-factor = 0.5",
	  "xmigd.conf:1: migration-max-factor: \"0.5\" is not a number from 1.0 to 100" },
	{ "migration-max-factor = 100.01",
	  "xmigd.conf:1: migration-max-factor: \"100.01\" is not a number from 1.0 to 100" },
	{ "migration-max-factor = 1e2",
	  "xmigd.conf:1: migration-max-factor: \"1e2\" is not a number from 1.0 to 100" },
	{ "migration-max-factor = 3.",
	  "xmigd.conf:1: migration-max-factor: \"3.\" is not a number from 1.0 to 100" },
	{ "migration-max-factor = nan",
	  "xmigd.conf:1: migration-max-factor: \"nan\" is not a number from 1.0 to 100" },
	{ "control-socket = run/xmigd.sock",
	  "xmigd.conf:1: control-socket: \"run/xmigd.sock\" is not an absolute path" },
	{ "state-dir = ''", "xmigd.conf:1: state-dir: \"\" is not an absolute path" },
	{ "sim-root = ~/sim", "xmigd.conf:1: sim-root: \"~/sim\" is not an absolute path" },
	{ "control-socket = /run/xmig/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock",
	  "xmigd.conf:1: control-socket: value is 114 bytes long, at most 107 allowed "
	  "(the size of a Unix socket address)" },
	{ "relocation-hosts-allow = '127.0.0.1 10.0.0.0/33'",
	  "xmigd.conf:1: relocation-hosts-allow: entry \"10.0.0.0/33\": prefix length must be "
	  "a number from 0 to 32" },
	{ "relocation-hosts-allow = '^localhost$ ^localhost\\\\.localdomain$'",
	  "xmigd.conf:1: relocation-hosts-allow: entry \"^localhost\\\\.localdomain$\": doubled "
	  "backslash \"\\\\\" (the escaping of xend-config.sxp); write a single backslash here, "
	  "e.g. ^host\\.example\\.org$" },
	/* syntax */
	{ "relocation-port 8002", "xmigd.conf:1: \"relocation-port 8002\": expected \"key = value\"" },
	{ "# sxp\n(xend-relocation-port 8002)",
	  "xmigd.conf:2: \"(xend-relocation-port 8002)\": expected \"key = value\" "
	  "(this looks like xend-config.sxp syntax)" },
	{ "relocation-port # = 8002",
	  "xmigd.conf:1: \"relocation-port # = 8002\": expected \"key = value\"" },
	{ "= 8002", "xmigd.conf:1: missing key before \"=\"" },
	{ "host-name = \"abc", "xmigd.conf:1: host-name: unterminated quote (no closing \")" },
	{ "host-name = 'abc\"", "xmigd.conf:1: host-name: unterminated quote (no closing ')" },
	{ "host-name = \"a\" b", "xmigd.conf:1: host-name: unexpected \"b\" after the closing quote" },
	{ "host-name = \"a\"\"b\"",
	  "xmigd.conf:1: host-name: unexpected \"\\\"b\\\"\" after the closing quote" },
	{ "host-name = a\x01" "b", "xmigd.conf:1: control character 0x01 in line" },
	{ "host-name = a\rb", "xmigd.conf:1: control character 0x0d in line" },
	/* keys */
	{ "# c\n\nrelocation-prot = 8002",
	  "xmigd.conf:3: unknown key \"relocation-prot\" (did you mean \"relocation-port\"?)" },
	{ "relocation_port = 8002",
	  "xmigd.conf:1: unknown key \"relocation_port\" (did you mean \"relocation-port\"?)" },
	{ "Relocation-Server = yes",
	  "xmigd.conf:1: unknown key \"Relocation-Server\" (did you mean \"relocation-server\"?)" },
	{ "relocation-hosts-alow = ''",
	  "xmigd.conf:1: unknown key \"relocation-hosts-alow\" (did you mean "
	  "\"relocation-hosts-allow\"?)" },
	{ "max-incomming = 3",
	  "xmigd.conf:1: unknown key \"max-incomming\" (did you mean \"max-incoming\"?)" },
	{ "xend-relocation-port = 8002",
	  "xmigd.conf:1: unknown key \"xend-relocation-port\" (did you mean \"relocation-port\"? "
	  "xmigd.conf keys have no \"xend-\" prefix)" },
	{ "frobnicate = 1", "xmigd.conf:1: unknown key \"frobnicate\"" },
	{ "port = 1", "xmigd.conf:1: unknown key \"port\"" },
	{ "\"host-name\" = x",
	  "xmigd.conf:1: unknown key \"\\\"host-name\\\"\" (did you mean \"host-name\"?)" },
	{ "relocation-port = 8002\nmax-incoming = 2\n\nrelocation-port = 8003\n",
	  "xmigd.conf:4: duplicate key \"relocation-port\" (already set on line 1)" },
	{ "log-level = info\nlog-level = info\n",
	  "xmigd.conf:2: duplicate key \"log-level\" (already set on line 1)" },
	/* balance */
	{ "balance-high-percent = 0",
	  "xmigd.conf:1: balance-high-percent: \"0\" is not a number from 1 to 100" },
	{ "balance-high-percent = 101",
	  "xmigd.conf:1: balance-high-percent: \"101\" is not a number from 1 to 100" },
	{ "balance-low-percent = 100",
	  "xmigd.conf:1: balance-low-percent: \"100\" is not a number from 0 to 99" },
	{ "balance-interval = -1",
	  "xmigd.conf:1: balance-interval: \"-1\" is not a number from 0 to 604800" },
	{ "balance-interval = 604801",
	  "xmigd.conf:1: balance-interval: \"604801\" is not a number from 0 to 604800" },
	{ "host-vcpus = 1048577",
	  "xmigd.conf:1: host-vcpus: \"1048577\" is not a number from 0 to 1048576" },
	{ "balance-policy = Even",
	  "xmigd.conf:1: balance-policy: \"Even\" is not even or power-saving" },
	{ "balance-policy = power_saving",
	  "xmigd.conf:1: balance-policy: \"power_saving\" is not even or power-saving" },
	/* the thresholds together: on the line of the later one */
	{ "balance-high-percent = 30\n# c\nbalance-low-percent = 30\n",
	  "xmigd.conf:3: balance-low-percent (30) must be below balance-high-percent (30)" },
	{ "balance-low-percent = 50\nbalance-high-percent = 40\n",
	  "xmigd.conf:2: balance-low-percent (50) must be below balance-high-percent (40)" },
	{ "balance-high-percent = 20\n",
	  "xmigd.conf:1: balance-low-percent (20) must be below balance-high-percent (20)" },
};

static void
test_errors_give_file_line_and_message(void **state)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(err_cases); i++) {
		struct conf c, before;
		char err[1024] = "";
		int r;

		conf_init(&c);
		before = c;
		r = parse_str(&c, err_cases[i].text, err, sizeof(err));
		if (r >= 0)
			fail_msg("<<%s>> was accepted", err_cases[i].text);
		if (strcmp(err, err_cases[i].msg) != 0)
			fail_msg("<<%s>>\n  got:  %s\n  want: %s", err_cases[i].text, err,
			    err_cases[i].msg);
		/* nothing is applied from a file with an error */
		assert_memory_equal(&c, &before, sizeof(c));
	}
}

static void
test_nul_byte_and_long_lines_are_errors(void **state)
{
	static const char nul[] = "relocation-port = 8002\nhost-name = a\0b\n";
	char *buf = malloc(10000);
	struct conf c;
	char err[256];

	conf_init(&c);
	assert_int_equal(conf_parse_buffer(&c, "xmigd.conf", nul, sizeof(nul) - 1, err,
	    sizeof(err)), XMIG_ERR_INVALID);
	assert_string_equal(err, "xmigd.conf:2: NUL byte in line");

	/* 4096 bytes is the longest line */
	assert_non_null(buf);
	memset(buf, ' ', 10000);
	memcpy(buf, "# x\n#", 5);
	buf[4 + 4096] = '\n';
	assert_int_equal(conf_parse_buffer(&c, "xmigd.conf", buf, 4 + 4096 + 1, err, sizeof(err)), 0);
	buf[4 + 4096] = ' ';
	buf[4 + 4097] = '\n';
	assert_int_equal(conf_parse_buffer(&c, "xmigd.conf", buf, 4 + 4097 + 1, err, sizeof(err)),
	    XMIG_ERR_TOO_LONG);
	assert_string_equal(err, "xmigd.conf:2: line is longer than 4096 bytes");
	/* also without a final newline, and with CRLF the CR is not counted */
	assert_int_equal(conf_parse_buffer(&c, "xmigd.conf", buf, 4 + 4097, err, sizeof(err)),
	    XMIG_ERR_TOO_LONG);
	buf[4 + 4096] = '\r';
	assert_int_equal(conf_parse_buffer(&c, "xmigd.conf", buf, 4 + 4097 + 1, err, sizeof(err)), 0);
	free(buf);
}

static void
test_value_too_long_for_field(void **state)
{
	char text[512];
	struct conf c;
	char err[256];

	conf_init(&c);
	snprintf(text, sizeof(text), "host-name = %0300d", 0);
	assert_int_equal(parse_str(&c, text, err, sizeof(err)), XMIG_ERR_TOO_LONG);
	assert_string_equal(err, "xmigd.conf:1: host-name: value is 300 bytes long, at most 255 allowed");
	snprintf(text, sizeof(text), "host-name = %0255d", 0);
	parse_ok(&c, text);
	assert_int_equal(strlen(c.host_name), 255);
}

static void
test_error_message_is_cut_safely(void **state)
{
	struct conf c;
	char err[20];
	char big[200];

	conf_init(&c);
	memset(err, 'x', sizeof(err));
	assert_true(parse_str(&c, "relocation-port = 80x2", err, sizeof(err)) < 0);
	assert_int_equal(strlen(err), sizeof(err) - 1);
	assert_true(parse_str(&c, "relocation-port = 80x2", NULL, 0) < 0);
	/* long bad values are quoted shortened */
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	{
		char text[300], msg[512];

		snprintf(text, sizeof(text), "backend = %s", big);
		assert_true(parse_str(&c, text, msg, sizeof(msg)) < 0);
		assert_non_null(strstr(msg, "zzz...\" is not auto, xen or sim"));
		assert_true(strlen(msg) < 150);
	}
}

static void
test_explicitly_empty_hosts_allow_means_any_host(void **state)
{
	struct allow_list *al = NULL;
	struct conf c;
	char err[256];

	conf_init(&c);
	parse_ok(&c, "relocation-hosts-allow = \"\"");
	assert_string_equal(c.relocation_hosts_allow, "");
	assert_int_equal(conf_check(&c, err, sizeof(err)), 0);
	assert_int_equal(allow_compile(c.relocation_hosts_allow, &al, err, sizeof(err)), 0);
	assert_true(allow_is_open(al));
	allow_free(al);
}

static void
test_conf_check_catches_bad_fields_set_by_code(void **state)
{
	struct conf c;
	char err[512];

	conf_init(&c);
	c.relocation_port = 0;
	assert_true(conf_check(&c, err, sizeof(err)) < 0);
	assert_string_equal(err, "relocation-port: \"0\" is not a port number (1-65535)");

	conf_init(&c);
	c.downtime_ms = 0;
	assert_true(conf_check(&c, err, sizeof(err)) < 0);
	assert_string_equal(err, "migration-downtime-ms: \"0\" is not a number from 1 to 600000");

	conf_init(&c);
	c.max_factor = 1000.0;
	assert_true(conf_check(&c, err, sizeof(err)) < 0);
	assert_string_equal(err, "migration-max-factor: \"1000\" is not a number from 1.0 to 100");

	conf_init(&c);
	c.log_level = 17;
	assert_true(conf_check(&c, err, sizeof(err)) < 0);

	conf_init(&c);
	c.backend = (enum conf_backend)9;
	assert_true(conf_check(&c, err, sizeof(err)) < 0);

	conf_init(&c);
	strcpy(c.relocation_hosts_allow, "^ok$ [");
	assert_true(conf_check(&c, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "relocation-hosts-allow: entry \"[\": bad regular expression"));

	conf_init(&c);
	strcpy(c.state_dir, "relative");
	assert_true(conf_check(&c, err, sizeof(err)) < 0);
	assert_string_equal(err, "state-dir: \"relative\" is not an absolute path");

	conf_init(&c);
	memset(c.host_name, 'h', sizeof(c.host_name)); /* not terminated */
	assert_true(conf_check(&c, err, sizeof(err)) < 0);
	assert_string_equal(err, "host-name: value is 256 bytes long, at most 255 allowed");
}

static void
test_dump_prints_every_key_and_reads_back(void **state)
{
	static const char text[] =
	    "relocation-server = off\n"
	    "relocation-address = ' ::1 '\n"
	    "relocation-hosts-allow = \"^a#b$ 10.0.0.0/8\"\n"
	    "host-name = 'say \"hi\"'\n"
	    "state-dir = /var/lib/it's\n"
	    "sim-memory = 3073K\n"
	    "migration-max-factor = 1.125\n"
	    "log-level = warning\n";
	struct conf c, back;
	char *d, err[512];
	size_t i;

	conf_init(&c);
	parse_ok(&c, text);
	d = dump(&c);
	for (i = 0; i < ARRAY_LEN(all_keys); i++) {
		char want[128];

		snprintf(want, sizeof(want), "\n%s = ", all_keys[i]);
		if (strstr(d, want) == NULL)
			fail_msg("dump lacks key %s:\n%s", all_keys[i], d);
	}
	/* the dump is itself a valid configuration giving the same values */
	conf_init(&back);
	back.relocation_port = 1; /* every key is in the dump, so this is overwritten */
	if (conf_parse_buffer(&back, "dump", d, strlen(d), err, sizeof(err)) != 0)
		fail_msg("dump does not parse: %s\n%s", err, d);
	assert_same_conf(&c, &back);
	assert_string_equal(back.relocation_address, " ::1 ");
	assert_string_equal(back.host_name, "say \"hi\"");
	assert_true(back.max_factor == 1.125);
	free(d);
}

/* ---- the sample configuration ---- */

static char *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;

	if (f == NULL)
		fail_msg("cannot open %s (tests run from the repository root): %s", path,
		    strerror(errno));
	buf = malloc(1 << 20);
	assert_non_null(buf);
	*len = fread(buf, 1, (1 << 20) - 1, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

static void
test_sample_conf_loads_with_defaults(void **state)
{
	struct conf c, def;
	char err[512] = "";

	conf_init(&def);
	conf_init(&c);
	if (conf_load(&c, SAMPLE_CONF, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_int_equal(conf_check(&c, err, sizeof(err)), 0);
	assert_same_conf(&c, &def);
}

/* Every key appears in the sample as "#key = default", and uncommenting
 * them all gives exactly the built-in defaults. */
static void
test_sample_conf_documents_every_key_with_its_default(void **state)
{
	size_t len, i, o = 0;
	char *text = read_file(SAMPLE_CONF, &len);
	char *out = malloc(len + 1);
	const char *line = text;
	struct conf c, def;
	char err[512];

	assert_non_null(out);
	for (i = 0; i < ARRAY_LEN(all_keys); i++) {
		char want[128];

		snprintf(want, sizeof(want), "\n#%s = ", all_keys[i]);
		if (strstr(text, want) == NULL)
			fail_msg("%s does not show \"#%s = <default>\"", SAMPLE_CONF, all_keys[i]);
	}
	while (*line != '\0') {
		const char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) + 1 : strlen(line);
		bool uncomment = line[0] == '#' && line[1] >= 'a' && line[1] <= 'z' &&
		    memchr(line, '=', n) != NULL;

		if (uncomment) {
			memcpy(out + o, line + 1, n - 1);
			o += n - 1;
		} else {
			memcpy(out + o, line, n);
			o += n;
		}
		line += n;
	}
	conf_init(&c);
	conf_init(&def);
	if (conf_parse_buffer(&c, "uncommented", out, o, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_same_conf(&c, &def);
	free(text);
	free(out);
}

/* ---- TLS keys ---- */

#define FP_HEX "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF"
#define FP_COLONS "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:" \
	"00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff"

static void
test_tls_defaults_off_with_port_8003_and_tls13(void **state)
{
	struct conf c;

	conf_init(&c);
	assert_false(c.relocation_ssl_server);
	assert_int_equal(c.relocation_ssl_port, CONF_DEFAULT_SSL_PORT);
	assert_int_equal(CONF_DEFAULT_SSL_PORT, 8003);
	assert_string_equal(c.ssl_key_file, "");
	assert_string_equal(c.ssl_cert_file, "");
	assert_string_equal(c.ssl_ca_file, "");
	assert_string_equal(c.ssl_peer_fingerprints, "");
	assert_int_equal(c.ssl_min_version, 13);
	assert_false(conf_tls_configured(&c));
}

static void
test_fingerprint_parse_takes_hex_with_or_without_colons(void **state)
{
	static const char *const bad[] = {
		"",
		"00112233",
		FP_HEX "0",
		"0g112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
		"00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33:44:55:66:77:88:99:"
		    "aa:bb:cc:dd:eeff",
		"00-11-22-33-44-55-66-77-88-99-aa-bb-cc-dd-ee-ff-00-11-22-33-44-55-66-77-88-99-"
		    "aa-bb-cc-dd-ee-ff",
	};
	uint8_t a[32], b[32];
	size_t i;

	assert_int_equal(conf_fingerprint_parse(FP_HEX, strlen(FP_HEX), a), 0);
	assert_int_equal(conf_fingerprint_parse(FP_COLONS, strlen(FP_COLONS), b), 0);
	assert_memory_equal(a, b, 32);
	assert_int_equal(a[0], 0x00);
	assert_int_equal(a[10], 0xaa);
	assert_int_equal(a[31], 0xff);
	for (i = 0; i < ARRAY_LEN(bad); i++)
		if (conf_fingerprint_parse(bad[i], strlen(bad[i]), a) == 0)
			fail_msg("\"%s\" parsed as a fingerprint", bad[i]);
}

static void
test_tls_keys_parse(void **state)
{
	static const char text[] =
	    "relocation-ssl-server = yes\n"
	    "relocation-ssl-port = 9003\n"
	    "ssl-key-file = /etc/xmig/tls/a.key\n"
	    "ssl-cert-file = /etc/xmig/tls/a.pem\n"
	    "ssl-ca-file = /etc/xmig/tls/ca.pem\n"
	    "ssl-peer-fingerprints = '" FP_HEX "  " FP_COLONS "'\n"
	    "ssl-min-version = 1.2\n";
	struct conf c;

	conf_init(&c);
	parse_ok(&c, text);
	assert_true(c.relocation_ssl_server);
	assert_int_equal(c.relocation_ssl_port, 9003);
	assert_string_equal(c.ssl_key_file, "/etc/xmig/tls/a.key");
	assert_string_equal(c.ssl_cert_file, "/etc/xmig/tls/a.pem");
	assert_string_equal(c.ssl_ca_file, "/etc/xmig/tls/ca.pem");
	assert_string_equal(c.ssl_peer_fingerprints, FP_HEX "  " FP_COLONS);
	assert_int_equal(c.ssl_min_version, 12);
	assert_true(conf_tls_configured(&c));
}

static void
test_tls_bad_values_name_the_key(void **state)
{
	static const struct { const char *text, *msg; } cases[] = {
		{ "ssl-key-file = etc/a.key",
		  "x.conf:1: ssl-key-file: \"etc/a.key\" is not an absolute path" },
		{ "ssl-ca-file = ~/ca.pem",
		  "x.conf:1: ssl-ca-file: \"~/ca.pem\" is not an absolute path" },
		{ "ssl-min-version = 1.1", "x.conf:1: ssl-min-version: \"1.1\" is not 1.2 or 1.3" },
		{ "ssl-min-version = 13", "x.conf:1: ssl-min-version: \"13\" is not 1.2 or 1.3" },
		{ "relocation-ssl-port = 0",
		  "x.conf:1: relocation-ssl-port: \"0\" is not a port number (1-65535)" },
		{ "relocation-ssl-server = maybe", "x.conf:1: relocation-ssl-server: \"maybe\" "
		  "is not yes or no (also accepted: true/false, on/off, 1/0)" },
		{ "ssl-peer-fingerprints = " FP_HEX " sha256:abcd",
		  "x.conf:1: ssl-peer-fingerprints: \"sha256:abcd\" is not a SHA-256 "
		  "fingerprint (64 hex digits, colons between pairs allowed)" },
		{ "cluster-peers = 'hostB hostC:0'",
		  "x.conf:1: cluster-peers: \"hostC:0\" is not HOST or HOST:PORT" },
		{ "cluster-peers = 'hostB [::1'",
		  "x.conf:1: cluster-peers: \"[::1\" is not HOST or HOST:PORT" },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		struct conf c;
		char err[512] = "";

		conf_init(&c);
		if (conf_parse_buffer(&c, "x.conf", cases[i].text, strlen(cases[i].text), err,
		    sizeof(err)) == 0)
			fail_msg("\"%s\" parsed", cases[i].text);
		assert_string_equal(err, cases[i].msg);
	}
}

/* cluster-peers: HOST, HOST:PORT, IPv6 and [IPv6]:PORT words are kept as written. */
static void
test_cluster_peers(void **state)
{
	struct conf c;
	char err[512] = "";

	conf_init(&c);
	assert_string_equal(c.cluster_peers, "");
	assert_int_equal(parse_str(&c, "cluster-peers = "
	    "'hostB  10.0.0.3:8012 [fd00::4]:8002 fd00::5'\n", err, sizeof(err)), 0);
	assert_string_equal(c.cluster_peers, "hostB  10.0.0.3:8012 [fd00::4]:8002 fd00::5");
}

/* The balance keys: defaults (80 %, 20 %, off, even, online CPUs), and
 * conf_check refuses thresholds set by code that parsing would refuse. */
static void
test_balance_keys(void **state)
{
	struct conf c;
	char err[512] = "";

	conf_init(&c);
	assert_int_equal(c.balance_high_pct, 80);
	assert_int_equal(c.balance_low_pct, 20);
	assert_int_equal(c.balance_interval, 0);
	assert_int_equal(c.balance_policy, CONF_BALANCE_EVEN);
	assert_int_equal(c.host_vcpus, 0);
	parse_ok(&c, "balance-policy = power-saving\nbalance-interval = 300\n"
	    "balance-low-percent = 0\nbalance-high-percent = 1\nhost-vcpus = 64\n");
	assert_int_equal(c.balance_policy, CONF_BALANCE_POWER_SAVING);
	assert_int_equal(c.balance_interval, 300);
	assert_int_equal(c.balance_low_pct, 0);
	assert_int_equal(c.balance_high_pct, 1);
	assert_int_equal(c.host_vcpus, 64);
	assert_int_equal(conf_check(&c, err, sizeof(err)), 0);
	c.balance_low_pct = 1;
	assert_true(conf_check(&c, err, sizeof(err)) < 0);
	assert_string_equal(err, "balance-low-percent (1) must be below balance-high-percent (1)");
	c.balance_low_pct = 0;
	c.balance_high_pct = 101;
	assert_true(conf_check(&c, err, sizeof(err)) < 0);
	assert_string_equal(err, "balance-high-percent: \"101\" is not a number from 1 to 100");
}

/* conf_check: the TLS files go together and must be readable files. */
static void
test_tls_check_wants_all_three_readable_files(void **state)
{
	char dir[] = "/tmp/xmig-test-conf-XXXXXX", f[3][128], err[512];
	const char *names[] = { "k.pem", "c.pem", "ca.pem" };
	struct conf c;
	size_t i;

	assert_non_null(mkdtemp(dir));
	for (i = 0; i < 3; i++) {
		FILE *fp;

		snprintf(f[i], sizeof(f[i]), "%s/%s", dir, names[i]);
		assert_non_null(fp = fopen(f[i], "w"));
		fputs("not checked here\n", fp);
		fclose(fp);
	}
	conf_init(&c);
	c.relocation_ssl_server = true;
	assert_true(conf_check(&c, err, sizeof(err)) < 0);
	assert_string_equal(err, "ssl-key-file is required when relocation-ssl-server = yes");
	snprintf(c.ssl_key_file, sizeof(c.ssl_key_file), "%s", f[0]);
	snprintf(c.ssl_cert_file, sizeof(c.ssl_cert_file), "%s", f[1]);
	snprintf(c.ssl_ca_file, sizeof(c.ssl_ca_file), "%s", f[2]);
	assert_int_equal(conf_check(&c, err, sizeof(err)), 0);

	/* the client side alone (no TLS server) still wants all three */
	c.relocation_ssl_server = false;
	c.ssl_ca_file[0] = '\0';
	assert_true(conf_check(&c, err, sizeof(err)) < 0);
	assert_string_equal(err, "ssl-ca-file is required with the other ssl-*-file keys "
	    "(set all three or none)");

	snprintf(c.ssl_ca_file, sizeof(c.ssl_ca_file), "%s/missing.pem", dir);
	assert_int_equal(conf_check(&c, err, sizeof(err)), XMIG_ERR_SYSTEM);
	assert_non_null(strstr(err, "ssl-ca-file: cannot read "));
	assert_non_null(strstr(err, "missing.pem: No such file or directory"));

	snprintf(c.ssl_ca_file, sizeof(c.ssl_ca_file), "%s", dir);
	assert_true(conf_check(&c, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "is not a regular file"));

	/* both servers on one port */
	snprintf(c.ssl_ca_file, sizeof(c.ssl_ca_file), "%s", f[2]);
	c.relocation_ssl_server = true;
	c.relocation_ssl_port = c.relocation_port;
	assert_true(conf_check(&c, err, sizeof(err)) < 0);
	assert_string_equal(err, "relocation-ssl-port: 8002 is also relocation-port");
	c.relocation_server = false;	/* TLS only: no clash */
	assert_int_equal(conf_check(&c, err, sizeof(err)), 0);

	/* a fingerprint list set by code is re-validated */
	snprintf(c.ssl_peer_fingerprints, sizeof(c.ssl_peer_fingerprints), "nope");
	assert_true(conf_check(&c, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "is not a SHA-256 fingerprint"));

	for (i = 0; i < 3; i++)
		unlink(f[i]);
	rmdir(dir);
}

static void
test_load_missing_file(void **state)
{
	struct conf c;
	char err[256];

	conf_init(&c);
	errno = 0;
	assert_int_equal(conf_load(&c, "tests/unit/no-such.conf", err, sizeof(err)),
	    XMIG_ERR_SYSTEM);
	assert_int_equal(errno, ENOENT);
	assert_string_equal(err, "tests/unit/no-such.conf: cannot open: No such file or directory");
	assert_true(conf_load(&c, "tests/unit", err, sizeof(err)) < 0);
	assert_string_equal(err, "tests/unit: not a regular file");
}

/* ---- deterministic mutation fuzzing ---- */

static uint64_t
xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static void
test_fuzz_mutated_configs_never_crash(void **state)
{
	static const char base[] =
	    "# sample\n"
	    "relocation-server = yes\n"
	    "relocation-port = 8002   # trailing\n"
	    "relocation-address = ''\n"
	    "relocation-hosts-allow = '^localhost$ 10.0.0.0/8 fd00::/8 ^(a|b)[0-9]+\\.x$'\n"
	    "control-socket = \"/run/xmig/xmigd.sock\"\n"
	    "state-dir = /var/lib/xmig\n"
	    "backend = sim\n"
	    "sim-root = /run/xmig/sim\n"
	    "sim-memory = 16GiB\n"
	    "host-name = 'h # 1'\n"
	    "log-level = verbose\n"
	    "migration-downtime-ms = 300\n"
	    "migration-max-rounds = 30\n"
	    "migration-max-factor = 2.5\n"
	    "max-incoming = 4\n";
	static const char specials[] = { '\0', '\n', '\r', '"', '\'', '#', '=', ' ', '\\', '/',
		'[', '(', ')', '*', '\xff', '0', '9' };
	const size_t blen = sizeof(base) - 1;
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	unsigned iter, ok = 0, failed = 0;

	for (iter = 0; iter < 5000; iter++) {
		size_t len = blen, cap = blen + 64, nmut, m;
		char *buf = malloc(cap);
		char *exact;
		char err[96];
		struct conf c;
		int r;

		assert_non_null(buf);
		memcpy(buf, base, blen);
		nmut = 1 + xorshift(&seed) % 4;
		for (m = 0; m < nmut && len > 0; m++) {
			size_t pos = xorshift(&seed) % len;

			switch (xorshift(&seed) % 6) {
			case 0: /* bit flip */
				buf[pos] ^= (char)(1u << (xorshift(&seed) % 8));
				break;
			case 1: /* random byte */
				buf[pos] = (char)xorshift(&seed);
				break;
			case 2: /* special byte */
				buf[pos] = specials[xorshift(&seed) % sizeof(specials)];
				break;
			case 3: /* truncate */
				len = pos;
				break;
			case 4: /* insert a special byte */
				if (len < cap) {
					memmove(buf + pos + 1, buf + pos, len - pos);
					buf[pos] = specials[xorshift(&seed) % sizeof(specials)];
					len++;
				}
				break;
			case 5: /* delete */
				memmove(buf + pos, buf + pos + 1, len - pos - 1);
				len--;
				break;
			}
		}
		/* an exact-size copy, so that any over-read is caught by ASan */
		exact = malloc(len ? len : 1);
		assert_non_null(exact);
		memcpy(exact, buf, len);
		free(buf);
		conf_init(&c);
		memset(err, 'x', sizeof(err));
		r = conf_parse_buffer(&c, "fuzz", exact, len, err, sizeof(err));
		if (r == 0) {
			ok++;
			/* whatever parsed is a valid configuration */
			if (conf_check(&c, err, sizeof(err)) != 0)
				fail_msg("iteration %u: parsed but conf_check says %s", iter, err);
		} else {
			failed++;
			assert_true(r < 0);
			assert_non_null(memchr(err, '\0', sizeof(err)));
			assert_memory_equal(err, "fuzz:", 5);
		}
		free(exact);
	}
	/* the mutations exercise both paths */
	assert_true(ok > 100);
	assert_true(failed > 100);
}

/* The device lists a receiver checks a peer's guests against: each word
 * must have the shape of what it names; the defaults run Xen's two
 * standard scripts and allow no bridge and no disk. */
static void
test_device_lists(void **state)
{
	struct conf c;
	char err[512];

	(void)state;
	conf_init(&c);
	assert_string_equal(c.device_scripts_allow, "vif-bridge block");
	assert_string_equal(c.device_bridges_allow, "");
	assert_string_equal(c.device_disks_allow, "");
	assert_int_equal(c.hotplug_timeout_s, 40);
	assert_int_equal(parse_str(&c, "device-bridges-allow = br0 xenbr1\n"
	    "device-disks-allow = /dev/disk/by-id/ /srv/xen/ iqn.2026-01.com.example:x\n"
	    "device-scripts-allow = vif-bridge block block-iscsi\n", err, sizeof(err)), 0);
	assert_string_equal(c.device_bridges_allow, "br0 xenbr1");
	assert_int_equal(parse_str(&c, "device-bridges-allow = br0 ../x\n", err, sizeof(err)),
	    XMIG_ERR_INVALID);
	assert_non_null(strstr(err, "device-bridges-allow: \"../x\" is not a network "
	    "interface name"));
	assert_int_equal(parse_str(&c, "device-disks-allow = /srv/../etc/\n", err, sizeof(err)),
	    XMIG_ERR_INVALID);
	assert_non_null(strstr(err, "device-disks-allow:"));
	assert_int_equal(parse_str(&c, "device-scripts-allow = /etc/xen/scripts/block\n", err,
	    sizeof(err)), XMIG_ERR_INVALID);
	assert_non_null(strstr(err, "is not a script name"));
	assert_int_equal(parse_str(&c, "device-hotplug-timeout = 0\n", err, sizeof(err)),
	    XMIG_ERR_INVALID);
	/* a refused file changes nothing */
	assert_string_equal(c.device_bridges_allow, "br0 xenbr1");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_device_lists),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_empty_comment_and_blank_lines_keep_defaults),
		cmocka_unit_test(test_every_key_parses),
		cmocka_unit_test(test_value_forms_table),
		cmocka_unit_test(test_quotes_and_trailing_comments),
		cmocka_unit_test(test_errors_give_file_line_and_message),
		cmocka_unit_test(test_nul_byte_and_long_lines_are_errors),
		cmocka_unit_test(test_value_too_long_for_field),
		cmocka_unit_test(test_error_message_is_cut_safely),
		cmocka_unit_test(test_explicitly_empty_hosts_allow_means_any_host),
		cmocka_unit_test(test_conf_check_catches_bad_fields_set_by_code),
		cmocka_unit_test(test_dump_prints_every_key_and_reads_back),
		cmocka_unit_test(test_sample_conf_loads_with_defaults),
		cmocka_unit_test(test_sample_conf_documents_every_key_with_its_default),
		cmocka_unit_test(test_load_missing_file),
		cmocka_unit_test(test_tls_defaults_off_with_port_8003_and_tls13),
		cmocka_unit_test(test_fingerprint_parse_takes_hex_with_or_without_colons),
		cmocka_unit_test(test_tls_keys_parse),
		cmocka_unit_test(test_tls_bad_values_name_the_key),
		cmocka_unit_test(test_tls_check_wants_all_three_readable_files),
		cmocka_unit_test(test_cluster_peers),
		cmocka_unit_test(test_balance_keys),
		cmocka_unit_test(test_fuzz_mutated_configs_never_crash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
