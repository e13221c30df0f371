/* xbuf.c - bounded big-endian encoding and decoding of untrusted bytes.
 *
 * Every getter checks the bytes left before reading them; every putter
 * checks the capacity left before writing.  Comparisons are written as
 * "n > left" so that no addition can wrap.  The first error sticks: later
 * calls fail with it and leave outputs zeroed, so a decoder may read a run
 * of fields and check once, and an encoder may check once at the end.
 */
#include <string.h>

#include "util.h"
#include "xbuf.h"
#include "xerr.h"

void
xbuf_reader(struct xbuf *b, const void *data, size_t len)
{
	/* The reader never writes through d; cap == len makes any put fail. */
	b->d = (uint8_t *)(uintptr_t)data;
	b->len = data != NULL ? len : 0;
	b->off = 0;
	b->cap = b->len;
	b->err = 0;
}

void
xbuf_writer(struct xbuf *b, void *mem, size_t cap)
{
	b->d = mem;
	b->len = 0;
	b->off = 0;
	b->cap = mem != NULL ? cap : 0;
	b->err = 0;
}

size_t
xbuf_left(const struct xbuf *b)
{
	return b->off <= b->len ? b->len - b->off : 0;
}

static int
fail(struct xbuf *b, int err)
{
	if (b->err == 0)
		b->err = err;
	return b->err;
}

/* Claim n bytes for reading; NULL (and a sticky error) if they are not there. */
static const uint8_t *
take(struct xbuf *b, size_t n)
{
	const uint8_t *p;

	if (b->err != 0)
		return NULL;
	if (n > xbuf_left(b)) {
		fail(b, XMIG_ERR_TRUNCATED);
		return NULL;
	}
	p = b->d + b->off;
	b->off += n;
	return p;
}

int
xbuf_get_u8(struct xbuf *b, uint8_t *v)
{
	const uint8_t *p = take(b, 1);

	*v = p != NULL ? p[0] : 0;
	return b->err;
}

int
xbuf_get_u16(struct xbuf *b, uint16_t *v)
{
	const uint8_t *p = take(b, 2);

	*v = p != NULL ? be16_get(p) : 0;
	return b->err;
}

int
xbuf_get_u32(struct xbuf *b, uint32_t *v)
{
	const uint8_t *p = take(b, 4);

	*v = p != NULL ? be32_get(p) : 0;
	return b->err;
}

int
xbuf_get_u64(struct xbuf *b, uint64_t *v)
{
	const uint8_t *p = take(b, 8);

	*v = p != NULL ? be64_get(p) : 0;
	return b->err;
}

int
xbuf_get_bytes(struct xbuf *b, void *dst, size_t n)
{
	const uint8_t *p = take(b, n);

	if (p == NULL) {
		if (n > 0)
			memset(dst, 0, n);
		return b->err;
	}
	if (n > 0)
		memcpy(dst, p, n);
	return 0;
}

int
xbuf_get_str(struct xbuf *b, char *dst, size_t dstsize)
{
	const uint8_t *p;
	uint16_t n;

	if (dstsize > 0)
		dst[0] = '\0';
	if (xbuf_get_u16(b, &n) != 0)
		return b->err;
	/* Bound the length before looking at the bytes. */
	if ((size_t)n >= dstsize)
		return fail(b, XMIG_ERR_TOO_LONG);
	if ((p = take(b, n)) == NULL)
		return b->err;
	if (n > 0 && memchr(p, '\0', n) != NULL)
		return fail(b, XMIG_ERR_INVALID);
	if (n > 0)
		memcpy(dst, p, n);
	dst[n] = '\0';
	/* Every string a peer sends (reason, host and domain names) is text:
	 * made valid UTF-8 without controls here, the one place they are
	 * decoded, before anything stores, logs or puts it in JSON.  Checks
	 * such as the domain name's charset still refuse what was replaced. */
	utf8_sanitize(dst);
	return 0;
}

int
xbuf_get_blob(struct xbuf *b, const uint8_t **p, uint32_t *len, uint32_t max)
{
	uint32_t n;

	*p = NULL;
	*len = 0;
	if (xbuf_get_u32(b, &n) != 0)
		return b->err;
	if (n > max)
		return fail(b, XMIG_ERR_TOO_LONG);
	if ((*p = take(b, n)) == NULL)
		return b->err;
	*len = n;
	return 0;
}

int
xbuf_get_end(const struct xbuf *b)
{
	if (b->err != 0)
		return b->err;
	return xbuf_left(b) != 0 ? XMIG_ERR_TRAILING : 0;
}

/* Claim n bytes for writing; NULL (and a sticky error) if they do not fit. */
static uint8_t *
room(struct xbuf *b, size_t n)
{
	uint8_t *p;

	if (b->err != 0)
		return NULL;
	if (b->len > b->cap || n > b->cap - b->len) {
		fail(b, XMIG_ERR_TOO_LONG);
		return NULL;
	}
	p = b->d + b->len;
	b->len += n;
	return p;
}

int
xbuf_put_u8(struct xbuf *b, uint8_t v)
{
	uint8_t *p = room(b, 1);

	if (p != NULL)
		p[0] = v;
	return b->err;
}

int
xbuf_put_u16(struct xbuf *b, uint16_t v)
{
	uint8_t *p = room(b, 2);

	if (p != NULL)
		be16_put(p, v);
	return b->err;
}

int
xbuf_put_u32(struct xbuf *b, uint32_t v)
{
	uint8_t *p = room(b, 4);

	if (p != NULL)
		be32_put(p, v);
	return b->err;
}

int
xbuf_put_u64(struct xbuf *b, uint64_t v)
{
	uint8_t *p = room(b, 8);

	if (p != NULL)
		be64_put(p, v);
	return b->err;
}

int
xbuf_put_bytes(struct xbuf *b, const void *src, size_t n)
{
	uint8_t *p;

	if (n > 0 && src == NULL)
		return fail(b, XMIG_ERR_INVALID);
	if ((p = room(b, n)) != NULL && n > 0)
		memcpy(p, src, n);
	return b->err;
}

int
xbuf_put_str(struct xbuf *b, const char *s)
{
	size_t n;

	if (s == NULL)
		return fail(b, XMIG_ERR_INVALID);
	if ((n = strnlen(s, 65536)) > 65535)
		return fail(b, XMIG_ERR_TOO_LONG);
	xbuf_put_u16(b, (uint16_t)n);
	return xbuf_put_bytes(b, s, n);
}

int
xbuf_put_blob(struct xbuf *b, const void *p, uint32_t len)
{
	if (len > 0 && p == NULL)
		return fail(b, XMIG_ERR_INVALID);
	xbuf_put_u32(b, len);
	return xbuf_put_bytes(b, p, len);
}
