/* util.c - small helpers shared by every program. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "util.h"
#include "xerr.h"

static uint64_t
clock_us(clockid_t id)
{
	struct timespec ts;

	if (clock_gettime(id, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t
now_us(void)
{
	return clock_us(CLOCK_MONOTONIC);
}

uint64_t
now_ms(void)
{
	return clock_us(CLOCK_MONOTONIC) / 1000u;
}

uint64_t
wall_ms(void)
{
	return clock_us(CLOCK_REALTIME) / 1000u;
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static char
lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Leading decimal digits of s into *out; *end set past them.  Fails on no
 * digits or overflow. */
static int
parse_digits(const char *s, uint64_t *out, const char **end)
{
	uint64_t v = 0;
	const char *p = s;

	if (!is_digit(*p))
		return XMIG_ERR_INVALID;
	for (; is_digit(*p); p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return XMIG_ERR_TOO_LONG;
		v = v * 10 + d;
	}
	*out = v;
	*end = p;
	return 0;
}

int
parse_size(const char *s, uint64_t *out)
{
	uint64_t v;
	const char *p;
	unsigned shift = 0;
	int r;

	if (s == NULL || out == NULL)
		return XMIG_ERR_INVALID;
	if ((r = parse_digits(s, &v, &p)) != 0)
		return r;
	switch (lower(*p)) {
	case 'k': shift = 10; p++; break;
	case 'm': shift = 20; p++; break;
	case 'g': shift = 30; p++; break;
	case 't': shift = 40; p++; break;
	default: break;
	}
	/* Optional "iB" (only after a multiplier) or "B". */
	if (shift != 0 && lower(p[0]) == 'i' && lower(p[1]) == 'b')
		p += 2;
	else if (lower(p[0]) == 'b')
		p++;
	if (*p != '\0')
		return XMIG_ERR_INVALID;
	if (shift != 0 && v > (UINT64_MAX >> shift))
		return XMIG_ERR_TOO_LONG;
	*out = v << shift;
	return 0;
}

int
parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v;
	const char *p;
	int r;

	if (s == NULL || out == NULL)
		return XMIG_ERR_INVALID;
	if ((r = parse_digits(s, &v, &p)) != 0)
		return XMIG_ERR_INVALID;
	if (*p != '\0' || v < min || v > max)
		return XMIG_ERR_INVALID;
	*out = v;
	return 0;
}

/* A host part: non-empty, no whitespace, controls or brackets. */
static int
copy_host(const char *s, size_t n, char *host, size_t hostlen)
{
	size_t i;

	if (n == 0)
		return XMIG_ERR_INVALID;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= ' ' || c == 0x7f || c == '[' || c == ']')
			return XMIG_ERR_INVALID;
	}
	if (host == NULL || n >= hostlen)
		return XMIG_ERR_TOO_LONG;
	memcpy(host, s, n);
	host[n] = '\0';
	return 0;
}

static int
parse_port(const char *s, uint16_t *port)
{
	uint64_t v;

	if (parse_u64(s, 1, 65535, &v) != 0)
		return XMIG_ERR_INVALID;
	*port = (uint16_t)v;
	return 0;
}

const char *
next_word(const char **s, size_t *n)
{
	const char *w = *s + strspn(*s, " \t");

	*n = strcspn(w, " \t");
	*s = w + *n;
	return w;
}

int
parse_hostport(const char *s, char *host, size_t hostlen, uint16_t *port)
{
	const char *colon, *close;
	uint16_t p = 0;
	bool have_port = false;
	int r;

	if (s == NULL)
		return XMIG_ERR_INVALID;
	if (s[0] == '[') {
		/* "[v6]" or "[v6]:port" */
		if ((close = strchr(s + 1, ']')) == NULL)
			return XMIG_ERR_INVALID;
		if (close[1] == ':') {
			if ((r = parse_port(close + 2, &p)) != 0)
				return r;
			have_port = true;
		} else if (close[1] != '\0')
			return XMIG_ERR_INVALID;
		if ((r = copy_host(s + 1, (size_t)(close - s - 1), host, hostlen)) != 0)
			return r;
	} else if ((colon = strchr(s, ':')) != NULL && strchr(colon + 1, ':') == NULL) {
		/* exactly one colon: "host:port" */
		if ((r = parse_port(colon + 1, &p)) != 0)
			return r;
		have_port = true;
		if ((r = copy_host(s, (size_t)(colon - s), host, hostlen)) != 0)
			return r;
	} else {
		/* "host", or a bare IPv6 address (two or more colons) */
		if ((r = copy_host(s, strlen(s), host, hostlen)) != 0)
			return r;
	}
	if (have_port && port != NULL)
		*port = p;
	return 0;
}

size_t
strlcpy_x(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (size > 0) {
		size_t c = n < size - 1 ? n : size - 1;

		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}

/* ---- UTF-8 (RFC 3629) ---- */

size_t
utf8_seq_len(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (c < 0x80)
		return c == '\0' ? 0 : 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;	/* a continuation byte, an overlong C0/C1 lead, or F5..FF */
	/* The second byte's range excludes overlong forms (E0, F0), UTF-16
	 * surrogates (ED) and code points beyond U+10FFFF (F4). */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;	/* also stops at the terminating NUL */
	return n;
}

/* A control character: C0, DEL, or C1 (U+0080..U+009F, C2 80..C2 9F). */
static bool
utf8_is_control(const unsigned char *p, size_t n)
{
	return (n == 1 && (p[0] < 0x20 || p[0] == 0x7f)) || (n == 2 && p[0] == 0xc2 && p[1] < 0xa0);
}

size_t
utf8_sanitize(char *s)
{
	unsigned char *p = (unsigned char *)s;
	size_t fixed = 0, n, i;

	/* Byte for byte, so the length stays: a decoded message re-encodes to
	 * as many bytes as it came in. */
	while (*p != '\0') {
		n = utf8_seq_len((const char *)p);
		if (n != 0 && !utf8_is_control(p, n)) {
			p += n;
			continue;
		}
		if (n == 0)
			n = 1;
		for (i = 0; i < n; i++)
			p[i] = '?';
		p += n;
		fixed += n;
	}
	return fixed;
}

bool
utf8_valid(const char *s)
{
	size_t n;

	for (; *s != '\0'; s += n)
		if ((n = utf8_seq_len(s)) == 0 || utf8_is_control((const unsigned char *)s, n))
			return false;
	return true;
}

size_t
strlcpy_utf8(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src), c, back;

	if (size == 0)
		return 0;
	c = n < size - 1 ? n : size - 1;
	/* Cut before a sequence that would not fit whole: back off over at most
	 * three continuation bytes to its lead. */
	for (back = 0; c < n && c > 0 && back < 3 && ((unsigned char)src[c] & 0xc0) == 0x80;
	    back++)
		c--;
	memcpy(dst, src, c);
	dst[c] = '\0';
	utf8_sanitize(dst);
	return strlen(dst);
}

void
uuid_format(const uint8_t uuid[16], char out[37])
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[uuid[i] >> 4];
		out[o++] = hex[uuid[i] & 0xf];
	}
	out[o] = '\0';
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
uuid_parse(const char *s, uint8_t uuid[16])
{
	uint8_t tmp[16];
	size_t i, b = 0;

	if (s == NULL)
		return XMIG_ERR_INVALID;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return XMIG_ERR_INVALID;
			continue;
		}
		int hi = hexval(s[i]), lo;

		if (hi < 0)
			return XMIG_ERR_INVALID;
		i++;
		if ((lo = hexval(s[i])) < 0)
			return XMIG_ERR_INVALID;
		tmp[b++] = (uint8_t)(hi << 4 | lo);
	}
	if (s[36] != '\0')
		return XMIG_ERR_INVALID;
	memcpy(uuid, tmp, sizeof(tmp));
	return 0;
}

int
uuid_random(uint8_t uuid[16])
{
	int r;

	if ((r = random_bytes(uuid, 16)) != 0)
		return r;
	uuid[6] = (uint8_t)((uuid[6] & 0x0f) | 0x40);	/* version 4 */
	uuid[8] = (uint8_t)((uuid[8] & 0x3f) | 0x80);	/* RFC 4122 variant */
	return 0;
}

int
random_bytes(void *buf, size_t len)
{
	unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return XMIG_ERR_SYSTEM;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
mkdir_one(const char *path, unsigned mode)
{
	struct stat st;

	if (mkdir(path, (mode_t)mode) == 0)
		return 0;
	if (errno != EEXIST)
		return XMIG_ERR_SYSTEM;
	if (stat(path, &st) != 0)
		return XMIG_ERR_SYSTEM;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return XMIG_ERR_SYSTEM;
	}
	return 0;
}

int
mkdir_p(const char *path, unsigned mode)
{
	char buf[PATH_MAX];
	size_t n, i;
	int r;

	if (path == NULL || path[0] == '\0') {
		errno = EINVAL;
		return XMIG_ERR_INVALID;
	}
	if ((n = strlen(path)) >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return XMIG_ERR_TOO_LONG;
	}
	memcpy(buf, path, n + 1);
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
	for (i = 1; i < n; i++) {
		if (buf[i] != '/' || buf[i - 1] == '/')
			continue;
		buf[i] = '\0';
		r = mkdir_one(buf, mode);
		buf[i] = '/';
		if (r != 0)
			return r;
	}
	return mkdir_one(buf, mode);
}

/* fsync the directory that holds path ("." when path has no '/'). */
static int
fsync_parent_dir(const char *path)
{
	char dir[4200];
	const char *slash = strrchr(path, '/');
	size_t n = slash == NULL ? 1 : slash == path ? 1 : (size_t)(slash - path);
	int fd, saved;

	if (n >= sizeof(dir)) {
		errno = ENAMETOOLONG;
		return XMIG_ERR_SYSTEM;
	}
	memcpy(dir, slash == NULL ? "." : path, n);
	dir[n] = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return XMIG_ERR_SYSTEM;
	if (fsync(fd) != 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return XMIG_ERR_SYSTEM;
	}
	close(fd);
	return 0;
}

/* Write text into the new temporary file tmp (open as fd), fsync and
 * close it; on failure tmp is removed and errno kept. */
static int
write_temp(int fd, const char *tmp, const void *text, size_t len)
{
	int saved;

	if (write(fd, text, len) != (ssize_t)len || fsync(fd) != 0) {
		saved = errno;
		close(fd);
		unlink(tmp);
		errno = saved;
		return XMIG_ERR_SYSTEM;
	}
	close(fd);
	return 0;
}

int
write_file_atomic(const char *path, const char *text)
{
	return write_file_atomic_bytes(path, text, strlen(text));
}

int
write_file_atomic_bytes(const char *path, const void *data, size_t len)
{
	char tmp[4200];
	int fd, r;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return XMIG_ERR_SYSTEM;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		return XMIG_ERR_SYSTEM;
	if ((r = write_temp(fd, tmp, data, len)) != 0)
		return r;
	if (rename(tmp, path) != 0)
		return XMIG_ERR_SYSTEM;
	/* The rename is durable only once the directory is: without this a
	 * power cut can bring back the old file (or none). */
	return fsync_parent_dir(path);
}

int
write_file_new(const char *path, const char *text)
{
	char tmp[4200];
	int fd, r, saved;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return XMIG_ERR_SYSTEM;
	}
	/* A temporary name of our own, then link(): of two writers exactly one
	 * gets the name, and an existing file is never replaced. */
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)
		return XMIG_ERR_SYSTEM;
	if ((r = write_temp(fd, tmp, text, strlen(text))) != 0)
		return r;
	r = link(tmp, path) == 0 ? 0 : errno == EEXIST ? XMIG_ERR_EXISTS : XMIG_ERR_SYSTEM;
	saved = errno;
	unlink(tmp);
	errno = saved;
	return r != 0 ? r : fsync_parent_dir(path);
}
