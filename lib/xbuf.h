/* xbuf.h - bounded big-endian encoding and decoding of untrusted bytes.
 *
 * A reader consumes fields in order; every getter checks the bytes left
 * before touching them, so a short or hostile payload fails with
 * XMIG_ERR_TRUNCATED and never reads past the end.  A writer fills a
 * caller-provided buffer and fails with XMIG_ERR_TOO_LONG instead of
 * overflowing.  Errors are sticky: after the first failure every call fails,
 * so an encoder can check once at the end.
 */
#ifndef XMIG_XBUF_H
#define XMIG_XBUF_H

#include <stddef.h>
#include <stdint.h>

struct xbuf {
	uint8_t *d;
	size_t len;	/* reader: bytes available; writer: bytes written */
	size_t off;	/* reader: next byte to consume */
	size_t cap;	/* writer: capacity */
	int err;	/* first error, sticky */
};

void xbuf_reader(struct xbuf *b, const void *data, size_t len);
void xbuf_writer(struct xbuf *b, void *mem, size_t cap);
size_t xbuf_left(const struct xbuf *b);

int xbuf_get_u8(struct xbuf *b, uint8_t *v);
int xbuf_get_u16(struct xbuf *b, uint16_t *v);
int xbuf_get_u32(struct xbuf *b, uint32_t *v);
int xbuf_get_u64(struct xbuf *b, uint64_t *v);
int xbuf_get_bytes(struct xbuf *b, void *dst, size_t n);
/* A string: u16 length then bytes, no NUL inside, must fit dst with its
 * terminator (XMIG_ERR_TOO_LONG otherwise). */
int xbuf_get_str(struct xbuf *b, char *dst, size_t dstsize);
/* A blob: u32 length (<= max) then bytes; *p points into the buffer. */
int xbuf_get_blob(struct xbuf *b, const uint8_t **p, uint32_t *len, uint32_t max);
/* XMIG_ERR_TRAILING when bytes are left, else the sticky error. */
int xbuf_get_end(const struct xbuf *b);

int xbuf_put_u8(struct xbuf *b, uint8_t v);
int xbuf_put_u16(struct xbuf *b, uint16_t v);
int xbuf_put_u32(struct xbuf *b, uint32_t v);
int xbuf_put_u64(struct xbuf *b, uint64_t v);
int xbuf_put_bytes(struct xbuf *b, const void *src, size_t n);
int xbuf_put_str(struct xbuf *b, const char *s);	/* strlen must be < 65536 */
int xbuf_put_blob(struct xbuf *b, const void *p, uint32_t len);

/* Raw big-endian helpers for fixed headers. */
static inline void be32_put(uint8_t *p, uint32_t v)
{ p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v; }
static inline uint32_t be32_get(const uint8_t *p)
{ return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static inline void be16_put(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v; }
static inline uint16_t be16_get(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline void be64_put(uint8_t *p, uint64_t v)
{ be32_put(p, v >> 32); be32_put(p + 4, (uint32_t)v); }
static inline uint64_t be64_get(const uint8_t *p)
{ return (uint64_t)be32_get(p) << 32 | be32_get(p + 4); }

#endif
