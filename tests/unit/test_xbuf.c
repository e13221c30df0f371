/* test_xbuf.c - bounded reader/writer: layout, bounds, sticky errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "xbuf.h"
#include "xerr.h"

/* A heap copy of exactly n bytes, so that ASan sees any read past the end. */
static uint8_t *
exact_copy(const void *p, size_t n)
{
	uint8_t *q = malloc(n ? n : 1);

	assert_non_null(q);
	if (n)
		memcpy(q, p, n);
	return q;
}

static void
test_ints_round_trip_big_endian(void **state)
{
	uint8_t mem[15];
	struct xbuf w, r;
	uint8_t a;
	uint16_t b;
	uint32_t c;
	uint64_t d;
	static const uint8_t want[15] = { 0xa1, 0xb1, 0xb2, 0xc1, 0xc2, 0xc3, 0xc4,
		0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8 };

	xbuf_writer(&w, mem, sizeof(mem));
	assert_int_equal(xbuf_put_u8(&w, 0xa1), 0);
	assert_int_equal(xbuf_put_u16(&w, 0xb1b2), 0);
	assert_int_equal(xbuf_put_u32(&w, 0xc1c2c3c4u), 0);
	assert_int_equal(xbuf_put_u64(&w, 0xd1d2d3d4d5d6d7d8ull), 0);
	assert_int_equal(w.len, sizeof(mem));
	assert_memory_equal(mem, want, sizeof(want));

	xbuf_reader(&r, mem, sizeof(mem));
	assert_int_equal(xbuf_left(&r), 15);
	assert_int_equal(xbuf_get_u8(&r, &a), 0);
	assert_int_equal(xbuf_get_u16(&r, &b), 0);
	assert_int_equal(xbuf_get_u32(&r, &c), 0);
	assert_int_equal(xbuf_get_u64(&r, &d), 0);
	assert_int_equal(a, 0xa1);
	assert_int_equal(b, 0xb1b2);
	assert_int_equal(c, 0xc1c2c3c4u);
	assert_true(d == 0xd1d2d3d4d5d6d7d8ull);
	assert_int_equal(xbuf_left(&r), 0);
	assert_int_equal(xbuf_get_end(&r), 0);
}

static void
test_getters_reject_short_input_and_zero_outputs(void **state)
{
	static const uint8_t src[7] = { 1, 2, 3, 4, 5, 6, 7 };
	size_t n;

	for (n = 0; n < 8; n++) {
		uint8_t *p = exact_copy(src, n);
		struct xbuf r;
		uint16_t v16 = 0xffff;
		uint32_t v32 = 0xffffffff;
		uint64_t v64 = ~0ull;
		uint8_t v8 = 0xff, bytes[7];

		xbuf_reader(&r, p, n);
		assert_int_equal(xbuf_get_u64(&r, &v64), XMIG_ERR_TRUNCATED);
		assert_true(v64 == 0);
		assert_int_equal(r.off, 0);

		xbuf_reader(&r, p, n);
		assert_int_equal(xbuf_get_u32(&r, &v32), n >= 4 ? 0 : XMIG_ERR_TRUNCATED);
		if (n < 4)
			assert_int_equal(v32, 0);

		xbuf_reader(&r, p, n);
		assert_int_equal(xbuf_get_u16(&r, &v16), n >= 2 ? 0 : XMIG_ERR_TRUNCATED);
		if (n < 2)
			assert_int_equal(v16, 0);

		xbuf_reader(&r, p, n);
		assert_int_equal(xbuf_get_u8(&r, &v8), n >= 1 ? 0 : XMIG_ERR_TRUNCATED);

		xbuf_reader(&r, p, n);
		memset(bytes, 0xee, sizeof(bytes));
		assert_int_equal(xbuf_get_bytes(&r, bytes, 7), n >= 7 ? 0 : XMIG_ERR_TRUNCATED);
		if (n < 7)
			assert_int_equal(bytes[0], 0);
		free(p);
	}
}

static void
test_reader_errors_are_sticky(void **state)
{
	static const uint8_t src[3] = { 0, 1, 2 };
	struct xbuf r;
	uint32_t v;
	uint8_t b;

	xbuf_reader(&r, src, sizeof(src));
	assert_int_equal(xbuf_get_u32(&r, &v), XMIG_ERR_TRUNCATED);
	/* One byte would fit, but the reader has failed. */
	assert_int_equal(xbuf_get_u8(&r, &b), XMIG_ERR_TRUNCATED);
	assert_int_equal(b, 0);
	assert_int_equal(xbuf_get_end(&r), XMIG_ERR_TRUNCATED);
}

static void
test_get_end_reports_trailing_bytes(void **state)
{
	static const uint8_t src[3] = { 0, 1, 2 };
	struct xbuf r;
	uint16_t v;

	xbuf_reader(&r, src, sizeof(src));
	assert_int_equal(xbuf_get_u16(&r, &v), 0);
	assert_int_equal(xbuf_get_end(&r), XMIG_ERR_TRAILING);
	xbuf_reader(&r, NULL, 0);
	assert_int_equal(xbuf_get_end(&r), 0);
}

static void
test_str_round_trip_and_exact_fit(void **state)
{
	uint8_t mem[64];
	char out[8];
	struct xbuf w, r;

	xbuf_writer(&w, mem, sizeof(mem));
	assert_int_equal(xbuf_put_str(&w, ""), 0);
	assert_int_equal(xbuf_put_str(&w, "1234567"), 0);	/* 7 + NUL == sizeof(out) */
	assert_int_equal(w.len, 2 + 2 + 7);
	assert_int_equal(mem[2], 0);
	assert_int_equal(mem[3], 7);

	xbuf_reader(&r, mem, w.len);
	memset(out, 'x', sizeof(out));
	assert_int_equal(xbuf_get_str(&r, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_int_equal(xbuf_get_str(&r, out, sizeof(out)), 0);
	assert_string_equal(out, "1234567");
	assert_int_equal(xbuf_get_end(&r), 0);
}

static void
test_str_too_long_for_destination_is_rejected(void **state)
{
	static const uint8_t src[] = { 0, 8, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h' };
	char out[8];
	struct xbuf r;

	xbuf_reader(&r, src, sizeof(src));
	assert_int_equal(xbuf_get_str(&r, out, sizeof(out)), XMIG_ERR_TOO_LONG);
	assert_string_equal(out, "");
	assert_int_equal(xbuf_get_end(&r), XMIG_ERR_TOO_LONG);
}

static void
test_str_huge_length_is_bounded_before_reading(void **state)
{
	static const uint8_t src[] = { 0xff, 0xff, 'a' };
	char small[4], big[70000];
	struct xbuf r;

	xbuf_reader(&r, src, sizeof(src));
	assert_int_equal(xbuf_get_str(&r, small, sizeof(small)), XMIG_ERR_TOO_LONG);
	/* A destination large enough: then the bytes are simply missing. */
	xbuf_reader(&r, src, sizeof(src));
	assert_int_equal(xbuf_get_str(&r, big, sizeof(big)), XMIG_ERR_TRUNCATED);
	assert_string_equal(big, "");
}

static void
test_str_with_embedded_nul_is_rejected(void **state)
{
	static const uint8_t src[] = { 0, 3, 'a', 0, 'b' };
	static const uint8_t src2[] = { 0, 1, 0 };
	char out[8];
	struct xbuf r;

	xbuf_reader(&r, src, sizeof(src));
	assert_int_equal(xbuf_get_str(&r, out, sizeof(out)), XMIG_ERR_INVALID);
	assert_string_equal(out, "");
	xbuf_reader(&r, src2, sizeof(src2));
	assert_int_equal(xbuf_get_str(&r, out, sizeof(out)), XMIG_ERR_INVALID);
}

static void
test_str_truncated_at_every_length(void **state)
{
	static const uint8_t src[] = { 0, 5, 'h', 'e', 'l', 'l', 'o' };
	size_t n;

	for (n = 0; n < sizeof(src); n++) {
		uint8_t *p = exact_copy(src, n);
		char out[16];
		struct xbuf r;

		xbuf_reader(&r, p, n);
		assert_int_equal(xbuf_get_str(&r, out, sizeof(out)), XMIG_ERR_TRUNCATED);
		free(p);
	}
}

static void
test_str_zero_sized_destination_is_rejected(void **state)
{
	static const uint8_t src[] = { 0, 0 };
	char out[1];
	struct xbuf r;

	xbuf_reader(&r, src, sizeof(src));
	assert_int_equal(xbuf_get_str(&r, out, 0), XMIG_ERR_TOO_LONG);
	xbuf_reader(&r, src, sizeof(src));
	assert_int_equal(xbuf_get_str(&r, out, 1), 0);
	assert_string_equal(out, "");
}

static void
test_blob_round_trip_points_into_buffer(void **state)
{
	uint8_t mem[32];
	const uint8_t *p;
	uint32_t n;
	struct xbuf w, r;

	xbuf_writer(&w, mem, sizeof(mem));
	assert_int_equal(xbuf_put_blob(&w, "abcdef", 6), 0);
	assert_int_equal(xbuf_put_blob(&w, NULL, 0), 0);
	assert_int_equal(w.len, 4 + 6 + 4);

	xbuf_reader(&r, mem, w.len);
	assert_int_equal(xbuf_get_blob(&r, &p, &n, 6), 0);
	assert_ptr_equal(p, mem + 4);
	assert_int_equal(n, 6);
	assert_memory_equal(p, "abcdef", 6);
	assert_int_equal(xbuf_get_blob(&r, &p, &n, 6), 0);
	assert_int_equal(n, 0);
	assert_int_equal(xbuf_get_end(&r), 0);
}

static void
test_blob_over_max_or_short_is_rejected(void **state)
{
	static const uint8_t over[] = { 0, 0, 0, 7, 1, 2, 3, 4, 5, 6, 7 };
	static const uint8_t huge[] = { 0xff, 0xff, 0xff, 0xff, 1 };
	static const uint8_t shrt[] = { 0, 0, 0, 7, 1, 2, 3 };
	const uint8_t *p;
	uint32_t n;
	struct xbuf r;

	xbuf_reader(&r, over, sizeof(over));
	assert_int_equal(xbuf_get_blob(&r, &p, &n, 6), XMIG_ERR_TOO_LONG);
	assert_null(p);
	assert_int_equal(n, 0);
	xbuf_reader(&r, huge, sizeof(huge));
	assert_int_equal(xbuf_get_blob(&r, &p, &n, UINT32_MAX - 1), XMIG_ERR_TOO_LONG);
	xbuf_reader(&r, huge, sizeof(huge));
	assert_int_equal(xbuf_get_blob(&r, &p, &n, UINT32_MAX), XMIG_ERR_TRUNCATED);
	xbuf_reader(&r, shrt, sizeof(shrt));
	assert_int_equal(xbuf_get_blob(&r, &p, &n, 100), XMIG_ERR_TRUNCATED);
	assert_null(p);
}

static void
test_writer_never_writes_past_capacity(void **state)
{
	uint8_t mem[8];
	struct xbuf w;

	memset(mem, 0xcc, sizeof(mem));
	xbuf_writer(&w, mem, 5);
	assert_int_equal(xbuf_put_u32(&w, 0x01020304), 0);
	assert_int_equal(xbuf_put_u16(&w, 0x0506), XMIG_ERR_TOO_LONG);
	/* Sticky: one more byte would fit, but the writer has failed. */
	assert_int_equal(xbuf_put_u8(&w, 9), XMIG_ERR_TOO_LONG);
	assert_int_equal(w.len, 4);
	assert_int_equal(mem[4], 0xcc);
	assert_int_equal(mem[5], 0xcc);

	xbuf_writer(&w, mem, 3);
	assert_int_equal(xbuf_put_str(&w, "ab"), XMIG_ERR_TOO_LONG);
	xbuf_writer(&w, mem, 7);
	assert_int_equal(xbuf_put_blob(&w, "abcd", 4), XMIG_ERR_TOO_LONG);
	xbuf_writer(&w, mem, 7);
	assert_int_equal(xbuf_put_u64(&w, 1), XMIG_ERR_TOO_LONG);
	xbuf_writer(&w, NULL, 0);
	assert_int_equal(xbuf_put_u8(&w, 1), XMIG_ERR_TOO_LONG);
}

static void
test_put_str_longer_than_u16_is_rejected(void **state)
{
	size_t n = 65536;
	char *s = malloc(n + 1);
	uint8_t *mem = malloc(n + 16);
	struct xbuf w;

	assert_non_null(s);
	assert_non_null(mem);
	memset(s, 'a', n);
	s[n] = '\0';
	xbuf_writer(&w, mem, n + 16);
	assert_int_equal(xbuf_put_str(&w, s), XMIG_ERR_TOO_LONG);
	assert_int_equal(w.len, 0);
	s[n - 1] = '\0';	/* 65535 bytes: the largest string */
	xbuf_writer(&w, mem, n + 16);
	assert_int_equal(xbuf_put_str(&w, s), 0);
	assert_int_equal(w.len, 2 + 65535);
	free(s);
	free(mem);
}

static void
test_put_null_pointers_are_rejected(void **state)
{
	uint8_t mem[16];
	struct xbuf w;

	xbuf_writer(&w, mem, sizeof(mem));
	assert_int_equal(xbuf_put_str(&w, NULL), XMIG_ERR_INVALID);
	xbuf_writer(&w, mem, sizeof(mem));
	assert_int_equal(xbuf_put_bytes(&w, NULL, 3), XMIG_ERR_INVALID);
	xbuf_writer(&w, mem, sizeof(mem));
	assert_int_equal(xbuf_put_blob(&w, NULL, 3), XMIG_ERR_INVALID);
	assert_int_equal(w.len, 0);
}

static void
test_reader_cannot_be_written(void **state)
{
	static const uint8_t src[4] = { 1, 2, 3, 4 };
	uint8_t copy[4];
	struct xbuf r;

	memcpy(copy, src, 4);
	xbuf_reader(&r, copy, sizeof(copy));
	assert_int_equal(xbuf_put_u8(&r, 9), XMIG_ERR_TOO_LONG);
	assert_memory_equal(copy, src, 4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ints_round_trip_big_endian),
		cmocka_unit_test(test_getters_reject_short_input_and_zero_outputs),
		cmocka_unit_test(test_reader_errors_are_sticky),
		cmocka_unit_test(test_get_end_reports_trailing_bytes),
		cmocka_unit_test(test_str_round_trip_and_exact_fit),
		cmocka_unit_test(test_str_too_long_for_destination_is_rejected),
		cmocka_unit_test(test_str_huge_length_is_bounded_before_reading),
		cmocka_unit_test(test_str_with_embedded_nul_is_rejected),
		cmocka_unit_test(test_str_truncated_at_every_length),
		cmocka_unit_test(test_str_zero_sized_destination_is_rejected),
		cmocka_unit_test(test_blob_round_trip_points_into_buffer),
		cmocka_unit_test(test_blob_over_max_or_short_is_rejected),
		cmocka_unit_test(test_writer_never_writes_past_capacity),
		cmocka_unit_test(test_put_str_longer_than_u16_is_rejected),
		cmocka_unit_test(test_put_null_pointers_are_rejected),
		cmocka_unit_test(test_reader_cannot_be_written),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
