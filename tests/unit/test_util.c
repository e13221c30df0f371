/* test_util.c - lib/util.c helpers (and the lib/log.c formatting they share
 * the shell with: levels, stderr format, rate limiting). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "util.h"
#include "xerr.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- parse_size ---- */

struct size_case {
	const char *in;
	int rc;		/* 0, or < 0 for any error */
	uint64_t want;
};

static const struct size_case size_cases[] = {
	{ "0", 0, 0 },
	{ "4096", 0, 4096 },
	{ "007", 0, 7 },			/* decimal, not octal */
	{ "1K", 0, 1024 },
	{ "1k", 0, 1024 },
	{ "1KiB", 0, 1024 },
	{ "1kib", 0, 1024 },
	{ "1KB", 0, 1024 },
	{ "256M", 0, 256ull << 20 },
	{ "16MiB", 0, 16ull << 20 },
	{ "16mb", 0, 16ull << 20 },
	{ "1G", 0, 1ull << 30 },
	{ "1g", 0, 1ull << 30 },
	{ "16G", 0, 16ull << 30 },
	{ "2T", 0, 2ull << 40 },
	{ "2TiB", 0, 2ull << 40 },
	{ "100B", 0, 100 },
	{ "100b", 0, 100 },
	{ "18446744073709551615", 0, UINT64_MAX },
	{ "16777215T", 0, 16777215ull << 40 },
	/* overflow */
	{ "18446744073709551616", -1, 0 },
	{ "99999999999999999999999", -1, 0 },
	{ "16777216T", -1, 0 },			/* 2^64 */
	{ "17179869184G", -1, 0 },		/* 2^64 */
	{ "18014398509481984K", -1, 0 },	/* 2^64 */
	/* junk */
	{ "", -1, 0 },
	{ "K", -1, 0 },
	{ "-1", -1, 0 },
	{ "+1", -1, 0 },
	{ " 1", -1, 0 },
	{ "1 ", -1, 0 },
	{ "1 G", -1, 0 },
	{ "1.5G", -1, 0 },
	{ "0x10", -1, 0 },
	{ "1X", -1, 0 },
	{ "1KK", -1, 0 },
	{ "1KiBx", -1, 0 },
	{ "1iB", -1, 0 },
	{ "1Ki", -1, 0 },
	{ "1BB", -1, 0 },
	{ "1e6", -1, 0 },
};

static void
test_parse_size_table(void **state)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(size_cases); i++) {
		const struct size_case *c = &size_cases[i];
		uint64_t v = 12345;
		int r = parse_size(c->in, &v);

		if (c->rc == 0) {
			if (r != 0 || v != c->want)
				fail_msg("parse_size(\"%s\") = %d, %llu; want %llu", c->in, r,
				    (unsigned long long)v, (unsigned long long)c->want);
		} else {
			if (r >= 0)
				fail_msg("parse_size(\"%s\") accepted (%llu)", c->in,
				    (unsigned long long)v);
			assert_int_equal(v, 12345); /* untouched on error */
		}
	}
}

static void
test_parse_size_overflow_is_too_long(void **state)
{
	uint64_t v;

	assert_int_equal(parse_size("16777216T", &v), XMIG_ERR_TOO_LONG);
	assert_int_equal(parse_size("18446744073709551616", &v), XMIG_ERR_TOO_LONG);
	assert_int_equal(parse_size("12abc", &v), XMIG_ERR_INVALID);
	assert_int_equal(parse_size(NULL, &v), XMIG_ERR_INVALID);
}

/* ---- parse_u64 ---- */

static void
test_parse_u64_range_and_junk(void **state)
{
	static const struct {
		const char *in;
		uint64_t min, max;
		int ok;
		uint64_t want;
	} cases[] = {
		{ "1", 1, 65535, 1, 1 },
		{ "65535", 1, 65535, 1, 65535 },
		{ "65536", 1, 65535, 0, 0 },
		{ "0", 1, 65535, 0, 0 },
		{ "18446744073709551615", 0, UINT64_MAX, 1, UINT64_MAX },
		{ "18446744073709551616", 0, UINT64_MAX, 0, 0 },
		{ "", 0, 10, 0, 0 },
		{ "-0", 0, 10, 0, 0 },
		{ "+5", 0, 10, 0, 0 },
		{ "5 ", 0, 10, 0, 0 },
		{ " 5", 0, 10, 0, 0 },
		{ "5x", 0, 10, 0, 0 },
		{ "0x5", 0, 10, 0, 0 },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++) {
		uint64_t v = 777;
		int r = parse_u64(cases[i].in, cases[i].min, cases[i].max, &v);

		if (cases[i].ok && (r != 0 || v != cases[i].want))
			fail_msg("parse_u64(\"%s\") = %d, %llu", cases[i].in, r, (unsigned long long)v);
		if (!cases[i].ok && (r >= 0 || v != 777))
			fail_msg("parse_u64(\"%s\") accepted", cases[i].in);
	}
}

/* ---- parse_hostport ---- */

struct hp_case {
	const char *in;
	int ok;
	const char *host;
	uint16_t port;	/* expected; 9999 = left unchanged */
};

static const struct hp_case hp_cases[] = {
	{ "dst.example.org", 1, "dst.example.org", 9999 },
	{ "dst.example.org:8002", 1, "dst.example.org", 8002 },
	{ "10.0.0.5", 1, "10.0.0.5", 9999 },
	{ "10.0.0.5:1", 1, "10.0.0.5", 1 },
	{ "10.0.0.5:65535", 1, "10.0.0.5", 65535 },
	{ "[fe80::1]:8002", 1, "fe80::1", 8002 },
	{ "[::1]", 1, "::1", 9999 },
	{ "[::ffff:10.1.2.3]:7", 1, "::ffff:10.1.2.3", 7 },
	{ "fe80::1", 1, "fe80::1", 9999 },		/* bare IPv6: no port */
	{ "::1", 1, "::1", 9999 },
	{ "2001:db8::8002", 1, "2001:db8::8002", 9999 },
	{ "fe80::1%eth0", 1, "fe80::1%eth0", 9999 },
	/* errors */
	{ "", 0, NULL, 0 },
	{ ":8002", 0, NULL, 0 },
	{ "host:", 0, NULL, 0 },
	{ "host:0", 0, NULL, 0 },
	{ "host:65536", 0, NULL, 0 },
	{ "host:80x2", 0, NULL, 0 },
	{ "host:-1", 0, NULL, 0 },
	{ "host: 80", 0, NULL, 0 },
	{ "[::1", 0, NULL, 0 },
	{ "[::1]x", 0, NULL, 0 },
	{ "[::1]:", 0, NULL, 0 },
	{ "[]:80", 0, NULL, 0 },
	{ "[a[b]:80", 0, NULL, 0 },
	{ "ho st", 0, NULL, 0 },
	{ "host\n", 0, NULL, 0 },
};

static void
test_parse_hostport_table(void **state)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(hp_cases); i++) {
		const struct hp_case *c = &hp_cases[i];
		char host[64] = "untouched";
		uint16_t port = 9999;
		int r = parse_hostport(c->in, host, sizeof(host), &port);

		if (c->ok) {
			if (r != 0)
				fail_msg("parse_hostport(\"%s\") failed: %d", c->in, r);
			if (strcmp(host, c->host) != 0 || port != c->port)
				fail_msg("parse_hostport(\"%s\") = \"%s\", %u; want \"%s\", %u", c->in,
				    host, port, c->host, c->port);
		} else {
			if (r >= 0)
				fail_msg("parse_hostport(\"%s\") accepted: \"%s\" %u", c->in, host, port);
			assert_int_equal(port, 9999);
		}
	}
}

static void
test_parse_hostport_host_buffer_too_small(void **state)
{
	char host[8];
	uint16_t port = 1;

	assert_int_equal(parse_hostport("1234567", host, sizeof(host), &port), 0);
	assert_string_equal(host, "1234567");
	assert_int_equal(parse_hostport("12345678:80", host, sizeof(host), &port),
	    XMIG_ERR_TOO_LONG);
	assert_int_equal(port, 1);
	/* NULL port: a port in the text is checked but not stored */
	assert_int_equal(parse_hostport("h:80", host, sizeof(host), NULL), 0);
	assert_int_equal(parse_hostport("h:0", host, sizeof(host), NULL), XMIG_ERR_INVALID);
}

/* ---- strlcpy_x ---- */

static void
test_strlcpy_x_truncates_and_terminates(void **state)
{
	char buf[5];

	memset(buf, 'x', sizeof(buf));
	assert_int_equal(strlcpy_x(buf, "abcdefgh", sizeof(buf)), 8);
	assert_string_equal(buf, "abcd");
	assert_int_equal(strlcpy_x(buf, "ab", sizeof(buf)), 2);
	assert_string_equal(buf, "ab");
	buf[0] = 'z';
	assert_int_equal(strlcpy_x(buf, "abc", 0), 3);
	assert_int_equal(buf[0], 'z');
}

/* ---- uuid ---- */

static void
test_uuid_round_trip(void **state)
{
	static const uint8_t u[16] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
		0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };
	uint8_t back[16], rnd[16];
	char text[37];
	int i;

	uuid_format(u, text);
	assert_string_equal(text, "00112233-4455-6677-8899-aabbccddeeff");
	assert_int_equal(uuid_parse(text, back), 0);
	assert_memory_equal(u, back, 16);
	/* upper case is accepted */
	assert_int_equal(uuid_parse("00112233-4455-6677-8899-AABBCCDDEEFF", back), 0);
	assert_memory_equal(u, back, 16);
	for (i = 0; i < 100; i++) {
		assert_int_equal(random_bytes(rnd, sizeof(rnd)), 0);
		uuid_format(rnd, text);
		assert_int_equal(strlen(text), 36);
		assert_int_equal(uuid_parse(text, back), 0);
		assert_memory_equal(rnd, back, 16);
	}
}

static void
test_uuid_parse_rejects_bad_text(void **state)
{
	static const char *const bad[] = {
		"",
		"00112233-4455-6677-8899-aabbccddeef",		/* short */
		"00112233-4455-6677-8899-aabbccddeeff0",	/* long */
		"00112233-4455-6677-8899_aabbccddeeff",		/* wrong separator */
		"001122334-455-6677-8899-aabbccddeeff",		/* hyphen moved */
		"00112233-4455-6677-8899-aabbccddeefg",		/* not hex */
		"0011223344556677-8899aabbccddeeff---",
		"00112233445566778899aabbccddeeff",		/* no hyphens */
		" 0112233-4455-6677-8899-aabbccddeeff",
	};
	uint8_t u[16], before[16];
	size_t i;

	memset(u, 0x5a, sizeof(u));
	memcpy(before, u, sizeof(u));
	for (i = 0; i < ARRAY_LEN(bad); i++) {
		if (uuid_parse(bad[i], u) >= 0)
			fail_msg("uuid_parse accepted \"%s\"", bad[i]);
		assert_memory_equal(u, before, 16);
	}
}

static void
test_random_bytes_fills_buffer(void **state)
{
	uint8_t a[64] = { 0 }, b[64] = { 0 }, zero[64] = { 0 };

	assert_int_equal(random_bytes(a, sizeof(a)), 0);
	assert_int_equal(random_bytes(b, sizeof(b)), 0);
	assert_memory_not_equal(a, zero, sizeof(a));
	assert_memory_not_equal(a, b, sizeof(a));
	assert_int_equal(random_bytes(a, 0), 0);
}

/* ---- clocks ---- */

static void
test_clocks_monotonic(void **state)
{
	uint64_t a = now_us(), b;

	usleep(2000);
	b = now_us();
	assert_true(b >= a + 2000);
	assert_true(now_ms() >= a / 1000);
	assert_true(wall_ms() > 1600000000000ull); /* after 2020 */
}

/* ---- mkdir_p ---- */

/* fsync, as seen by lib/util.c: this definition takes the place of libc's
 * in this program, counts what is synced, and does it. */
static unsigned fsync_files, fsync_dirs;
static ino_t fsync_last_dir;

int
fsync(int fd)
{
	struct stat st;

	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		fsync_dirs++;
		fsync_last_dir = st.st_ino;
	} else {
		fsync_files++;
	}
	return (int)syscall(SYS_fsync, fd);
}

static char *
slurp(const char *path)
{
	static char buf[256];
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* write_file_atomic: replaces the file (mode 0600) durably (the file and
 * then its directory are fsynced: without the directory a power cut can
 * undo the rename), leaves no temporary file, works for a bare name (its
 * directory is "."), and fails with errno kept when the directory is
 * missing. */
static void
test_write_file_atomic_replaces_and_leaves_no_tmp(void **state)
{
	char base[] = "/tmp/xmig-test-wfa-XXXXXX";
	char path[256], tmp[256], cwd[4096];
	struct stat st;

	assert_non_null(mkdtemp(base));
	snprintf(path, sizeof(path), "%s/rec", base);
	snprintf(tmp, sizeof(tmp), "%s/rec.tmp", base);
	fsync_files = fsync_dirs = 0;
	assert_int_equal(write_file_atomic(path, "building 0 vm1\n"), 0);
	assert_int_equal(fsync_files, 1);
	assert_int_equal(fsync_dirs, 1);
	assert_int_equal(stat(base, &st), 0);
	assert_true(fsync_last_dir == st.st_ino);
	assert_string_equal(slurp(path), "building 0 vm1\n");
	assert_int_equal(write_file_atomic(path, "committed 7 vm1\n"), 0);
	assert_string_equal(slurp(path), "committed 7 vm1\n");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(access(tmp, F_OK), -1);

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(base), 0);
	assert_int_equal(write_file_atomic("bare", "x"), 0);
	assert_int_equal(chdir(cwd), 0);
	snprintf(path, sizeof(path), "%s/bare", base);
	assert_string_equal(slurp(path), "x");
	unlink(path);

	snprintf(path, sizeof(path), "%s/missing/rec", base);
	errno = 0;
	assert_int_equal(write_file_atomic(path, "x"), XMIG_ERR_SYSTEM);
	assert_int_equal(errno, ENOENT);

	snprintf(path, sizeof(path), "%s/rec", base);
	unlink(path);
	assert_int_equal(rmdir(base), 0); /* nothing else left behind */
}

/* write_file_new: creates the file durably (file and directory fsynced),
 * and refuses, with XMIG_ERR_EXISTS, a name that exists, leaving its
 * content alone and no temporary file behind. */
static void
test_write_file_new_creates_once(void **state)
{
	char base[] = "/tmp/xmig-test-wfn-XXXXXX";
	char path[256];
	DIR *dir;
	struct dirent *de;
	unsigned n = 0;

	assert_non_null(mkdtemp(base));
	snprintf(path, sizeof(path), "%s/rec", base);
	fsync_files = fsync_dirs = 0;
	assert_int_equal(write_file_new(path, "building 0 vm1\n"), 0);
	assert_int_equal(fsync_files, 1);
	assert_int_equal(fsync_dirs, 1);
	assert_string_equal(slurp(path), "building 0 vm1\n");
	assert_int_equal(write_file_new(path, "aborted 0 vm9\n"), XMIG_ERR_EXISTS);
	assert_string_equal(slurp(path), "building 0 vm1\n");
	assert_non_null(dir = opendir(base));
	while ((de = readdir(dir)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(dir);
	assert_int_equal(n, 1);	/* no temporary file left */
	unlink(path);
	assert_int_equal(rmdir(base), 0);
}

static void
test_mkdir_p_nested_existing_and_file_in_the_way(void **state)
{
	char base[] = "/tmp/xmig-test-mkdir-XXXXXX";
	char path[256], file[256];
	struct stat st;
	int fd;

	assert_non_null(mkdtemp(base));
	snprintf(path, sizeof(path), "%s/a/b//c/", base);
	assert_int_equal(mkdir_p(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/a/b/c", base);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(mkdir_p(path, 0755), 0); /* exists: fine */

	snprintf(file, sizeof(file), "%s/f", base);
	fd = open(file, O_CREAT | O_WRONLY, 0644);
	assert_true(fd >= 0);
	close(fd);
	snprintf(path, sizeof(path), "%s/f/sub", base);
	errno = 0;
	assert_int_equal(mkdir_p(path, 0755), XMIG_ERR_SYSTEM);
	assert_int_equal(errno, ENOTDIR);
	errno = 0;
	assert_int_equal(mkdir_p(file, 0755), XMIG_ERR_SYSTEM);
	assert_int_equal(errno, ENOTDIR);
	assert_true(mkdir_p("", 0755) < 0);

	unlink(file);
	snprintf(path, sizeof(path), "%s/a/b/c", base);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/a/b", base);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/a", base);
	rmdir(path);
	rmdir(base);
}

/* ---- log ---- */

static void
test_log_level_parse_and_name(void **state)
{
	static const struct { const char *s; int want; } cases[] = {
		{ "error", LOG_LVL_ERROR }, { "warn", LOG_LVL_WARN }, { "warning", LOG_LVL_WARN },
		{ "info", LOG_LVL_INFO }, { "verbose", LOG_LVL_VERBOSE }, { "debug", LOG_LVL_DEBUG },
		{ "DEBUG", LOG_LVL_DEBUG }, { "", -1 }, { "debug2", -1 }, { "inf", -1 },
	};
	size_t i;

	for (i = 0; i < ARRAY_LEN(cases); i++)
		assert_int_equal(log_level_parse(cases[i].s), cases[i].want);
	assert_int_equal(log_level_parse(NULL), -1);
	for (i = LOG_LVL_ERROR; i <= LOG_LVL_DEBUG; i++)
		assert_int_equal(log_level_parse(log_level_name((enum log_level)i)), (int)i);
}

/* Run fn with stderr sent to a temporary file; return what was written. */
static char *
capture_stderr(void (*fn)(void *), void *arg)
{
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO);
	char *out = calloc(1, 8192);
	size_t n;

	assert_non_null(tmp);
	assert_non_null(out);
	assert_true(saved >= 0);
	dup2(fileno(tmp), STDERR_FILENO);
	fn(arg);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(tmp);
	n = fread(out, 1, 8191, tmp);
	out[n] = '\0';
	fclose(tmp);
	return out;
}

static void
log_some_levels(void *arg)
{
	log_error("disk %s", "full");
	log_warn("slow peer");
	log_info("started");
	log_verbose("not shown at info");
	jlog(LOG_LVL_INFO, 7, "dom %d -> %s", 3, "dst");
	log_info("peer said \"%s\"", "evil\nxmigd: error: forged");
	/* 64-bit job ids; valid UTF-8 kept, invalid bytes and C1 escaped */
	jlog(LOG_LVL_INFO, 4294967297ull, "caf\xc3\xa9 \xff\xc3(\xc2\x9b");
}

static void
test_log_stderr_format_levels_and_escaping(void **state)
{
	char *out;

	log_init("xmigd-test", false, LOG_LVL_INFO);
	assert_int_equal(log_get_level(), LOG_LVL_INFO);
	out = capture_stderr(log_some_levels, NULL);
	assert_string_equal(out,
	    "xmigd-test: error: disk full\n"
	    "xmigd-test: warning: slow peer\n"
	    "xmigd-test: started\n"
	    "xmigd-test: job 7: dom 3 -> dst\n"
	    "xmigd-test: peer said \"evil\\x0axmigd: error: forged\"\n"
	    "xmigd-test: job 4294967297: caf\xc3\xa9 \\xff\\xc3(\\xc2\\x9b\n");
	free(out);
}

struct rl_arg {
	struct log_ratelimit *rl;
	int n;
};

static void
log_refusals(void *arg)
{
	struct rl_arg *a = arg;
	int i;

	for (i = 0; i < a->n; i++)
		log_ratelimited(a->rl, 3, LOG_LVL_WARN, "refused peer %d", i);
}

static void
test_log_ratelimited_burst_then_suppressed_count(void **state)
{
	struct log_ratelimit rl = { 0 };
	struct rl_arg a = { &rl, 10 };
	char *out;

	log_init("t", false, LOG_LVL_INFO);
	out = capture_stderr(log_refusals, &a);
	assert_string_equal(out,
	    "t: warning: refused peer 0\n"
	    "t: warning: refused peer 1\n"
	    "t: warning: refused peer 2\n");
	free(out);
	assert_int_equal(rl.suppressed, 7);

	/* The window (10 s) has passed: the count of dropped lines comes first. */
	rl.window_start -= 11;
	a.n = 1;
	out = capture_stderr(log_refusals, &a);
	assert_string_equal(out,
	    "t: warning: (7 similar messages suppressed)\n"
	    "t: warning: refused peer 0\n");
	free(out);
	assert_int_equal(rl.suppressed, 0);
	assert_int_equal(rl.count, 1);
}

/* next_word: words split on spaces and tabs only, lengths exact, and the
 * end (also trailing blanks) gives length 0. */
static void
test_next_word_splits_on_blanks(void **state)
{
	const char *s = "\t a  bb:80\tccc ", *w;
	const char *want[] = { "a", "bb:80", "ccc" };
	size_t n, i;

	for (i = 0; i < 3; i++) {
		w = next_word(&s, &n);
		assert_int_equal(n, strlen(want[i]));
		assert_memory_equal(w, want[i], n);
	}
	next_word(&s, &n);
	assert_int_equal(n, 0);
	s = "";
	next_word(&s, &n);
	assert_int_equal(n, 0);
}

/* ---- UTF-8 ---- */

static void
test_utf8_valid_multibyte_is_kept(void **state)
{
	/* 1, 2, 3 and 4 bytes, the largest code point, and the edges of the
	 * ranges next to the forbidden ones */
	static const char *const ok[] = {
		"plain ASCII, tab-free", "caf\xc3\xa9", "\xe2\x82\xac 5", "\xf0\x9f\x98\x80",
		"\xf4\x8f\xbf\xbf", "\xc2\xa0", "\xe0\xa0\x80", "\xed\x9f\xbf",
		"\xee\x80\x80", "\xf0\x90\x80\x80", "",
	};
	char buf[64];
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_true(utf8_valid(ok[i]));
		strlcpy_x(buf, ok[i], sizeof(buf));
		assert_int_equal(utf8_sanitize(buf), 0);
		assert_string_equal(buf, ok[i]);
	}
	assert_int_equal(utf8_seq_len("\xc3\xa9"), 2);
	assert_int_equal(utf8_seq_len("\xe2\x82\xac"), 3);
	assert_int_equal(utf8_seq_len("\xf0\x9f\x98\x80"), 4);
	assert_int_equal(utf8_seq_len(""), 0);
}

static void
test_utf8_invalid_bytes_and_controls_become_question_marks(void **state)
{
	static const struct { const char *in, *out; size_t fixed; } t[] = {
		{ "a\xff" "b", "a?b", 1 },			/* never valid */
		{ "\xfe\xf5", "??", 2 },
		{ "x\x80y", "x?y", 1 },			/* stray continuation */
		{ "\xc3", "?", 1 },				/* cut short at the end */
		{ "\xe2\x82", "??", 2 },
		{ "\xe2\x82z", "??z", 2 },			/* cut short by ASCII */
		{ "\xc0\xaf", "??", 2 },			/* overlong '/' */
		{ "\xc1\xbf", "??", 2 },
		{ "\xe0\x80\xaf", "???", 3 },		/* overlong, 3 bytes */
		{ "\xf0\x80\x80\xaf", "????", 4 },		/* overlong, 4 bytes */
		{ "\xed\xa0\x80", "???", 3 },		/* surrogate U+D800 */
		{ "\xed\xbf\xbf", "???", 3 },		/* surrogate U+DFFF */
		{ "\xf4\x90\x80\x80", "????", 4 },		/* U+110000 */
		{ "l1\nl2\r\t\x1b[2J\x7f", "l1?l2???[2J?", 5 },	/* C0 and DEL */
		{ "\xc2\x9b" "31m", "??31m", 2 },		/* C1 CSI */
		{ "ok \xc3\xa9 \xff \xe2\x82\xac", "ok \xc3\xa9 ? \xe2\x82\xac", 1 },
	};
	char buf[64];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_false(utf8_valid(t[i].in));
		strlcpy_x(buf, t[i].in, sizeof(buf));
		assert_int_equal(utf8_sanitize(buf), t[i].fixed);
		assert_string_equal(buf, t[i].out);
		assert_int_equal(strlen(buf), strlen(t[i].in));	/* in place, same length */
		assert_true(utf8_valid(buf));
	}
}

static void
test_strlcpy_utf8_cuts_at_a_character_boundary(void **state)
{
	/* "ab" then U+20AC (3 bytes) then "c": 6 bytes */
	static const char src[] = "ab\xe2\x82\xac" "c";
	char buf[8];
	size_t size;

	for (size = 1; size <= sizeof(buf); size++) {
		size_t n = strlcpy_utf8(buf, src, size);

		assert_int_equal(n, strlen(buf));
		assert_true(n < size);
		assert_true(utf8_valid(buf));
		/* a prefix of src that ends between characters */
		assert_memory_equal(buf, src, n);
		assert_true(n == 0 || n == 1 || n == 2 || n == 5 || n == 6);
	}
	assert_int_equal(strlcpy_utf8(buf, src, 5), 2);	/* not "ab\xe2\x82" */
	assert_int_equal(strlcpy_utf8(buf, src, 6), 5);
	assert_string_equal(buf, "ab\xe2\x82\xac");
	/* a 4-byte character cut after each of its bytes */
	for (size = 2; size <= 5; size++) {
		assert_int_equal(strlcpy_utf8(buf, "\xf0\x9f\x98\x80", size), size == 5 ? 4 : 0);
		assert_true(utf8_valid(buf));
	}
	/* invalid input is sanitized as it is copied */
	assert_int_equal(strlcpy_utf8(buf, "a\xff\nb", sizeof(buf)), 4);
	assert_string_equal(buf, "a??b");
	assert_int_equal(strlcpy_utf8(buf, "x", 0), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_size_table),
		cmocka_unit_test(test_parse_size_overflow_is_too_long),
		cmocka_unit_test(test_parse_u64_range_and_junk),
		cmocka_unit_test(test_parse_hostport_table),
		cmocka_unit_test(test_next_word_splits_on_blanks),
		cmocka_unit_test(test_parse_hostport_host_buffer_too_small),
		cmocka_unit_test(test_strlcpy_x_truncates_and_terminates),
		cmocka_unit_test(test_uuid_round_trip),
		cmocka_unit_test(test_uuid_parse_rejects_bad_text),
		cmocka_unit_test(test_random_bytes_fills_buffer),
		cmocka_unit_test(test_clocks_monotonic),
		cmocka_unit_test(test_mkdir_p_nested_existing_and_file_in_the_way),
		cmocka_unit_test(test_write_file_atomic_replaces_and_leaves_no_tmp),
		cmocka_unit_test(test_write_file_new_creates_once),
		cmocka_unit_test(test_log_level_parse_and_name),
		cmocka_unit_test(test_log_stderr_format_levels_and_escaping),
		cmocka_unit_test(test_log_ratelimited_burst_then_suppressed_count),
		cmocka_unit_test(test_utf8_valid_multibyte_is_kept),
		cmocka_unit_test(test_utf8_invalid_bytes_and_controls_become_question_marks),
		cmocka_unit_test(test_strlcpy_utf8_cuts_at_a_character_boundary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
