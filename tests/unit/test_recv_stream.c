/* test_recv_stream.c - hostile compressed frames through the real receive
 * loop (xmigd/engine/recv.c on a socketpair, tests/recv_harness.c).
 *
 * A valid HELLO and PREPARE open each connection, a valid PAGES batch
 * writes page 0, then one hostile ZPAGES or ZRAW frame follows: entries
 * that promise more pages than the data holds, a zlen beyond the frame, a
 * raw_len over PROTO_RAW_MAX, data that decompresses to another size, an
 * unknown algorithm.  Each must fail the job (FAILED, an error naming the
 * protocol or decompression problem, "aborted" on disk, an ABORT to the
 * sender), write no page beyond the valid batch and none outside the
 * domain, leave no domain behind, and end the receiver's thread; a full
 * migration afterwards shows the daemon still serves.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../recv_harness.h"

#include "compress.h"
#include "engine/engine.h"
#include "store/jobs.h"
#include "proto.h"
#include "xbuf.h"

#define NR_PAGES 8
#define TIMEOUT_MS 20000

static uint8_t token_byte = 1;

static int
setup(void **state)
{
	char err[256];

	assert_int_equal(rh_init(err, sizeof(err)), 0);
	return 0;
}

static int
teardown(void **state)
{
	rh_fini();
	return 0;
}

static int
each(void **state)
{
	rh_reset();
	return 0;
}

/* HELLO, PREPARE (vm1, NR_PAGES, a fresh token), a PAGES batch writing
 * page 0 (0x5a) and zeroing page 1. */
static void
open_stream(struct rh_buf *b, uint8_t token[16])
{
	static const uint8_t cfg[] = "fake";
	struct msg_prepare m = { .name = "vm1", .nr_pages = NR_PAGES, .max_pages = NR_PAGES,
		.vcpus = 1, .dom_type = DOMTYPE_SIM, .live = 1, .cfg = cfg, .cfg_len = 4 };
	uint8_t pl[PAGES_HEAD_LEN + 16 + PROTO_PAGE_SIZE];

	memset(token, 0, 16);
	token[0] = token_byte++;
	token[15] = 0x7e;
	memcpy(m.token, token, 16);
	rh_hello(b);
	rh_prepare(b, &m);
	be32_put(pl, 0);
	be32_put(pl + 4, 2);
	be64_put(pl + 8, page_entry(0, PAGE_NORMAL));
	be64_put(pl + 16, page_entry(1, PAGE_ZERO));
	memset(pl + 24, 0x5a, PROTO_PAGE_SIZE);
	rh_frame(b, MSG_PAGES, pl, sizeof(pl));
}

/* A ZPAGES frame: entries as given, z as the data, zlen in the head. */
static void
zpages(struct rh_buf *b, const uint64_t *entries, uint32_t count, uint8_t algo,
    uint32_t head_zlen, const uint8_t *z, uint32_t zlen)
{
	uint8_t head[ZPAGES_HEAD_LEN];
	uint32_t i, len = ZPAGES_HEAD_LEN + 8 * count + head_zlen;

	be32_put(head, 1);
	be32_put(head + 4, count);
	head[8] = algo;
	head[9] = head[10] = head[11] = 0;
	be32_put(head + 12, head_zlen);
	rh_frame_lie(b, MSG_ZPAGES, 0, len, head, sizeof(head));
	for (i = 0; i < count; i++) {
		uint8_t e[8];

		be64_put(e, entries[i]);
		rh_put(b, e, 8);
	}
	rh_put(b, z, zlen);
}

static void
zraw(struct rh_buf *b, uint8_t algo, uint32_t raw_len, const uint8_t *z, uint32_t zlen)
{
	uint8_t head[ZRAW_HEAD_LEN];

	zraw_head_encode(head, algo, raw_len);
	rh_frame_lie(b, MSG_ZRAW, 0, ZRAW_HEAD_LEN + zlen, head, sizeof(head));
	rh_put(b, z, zlen);
}

/* n bytes of a compressible pattern, compressed; returns the length. */
static uint32_t
squeeze(int algo, size_t n, uint8_t *out, size_t cap)
{
	struct compressor *c = compressor_new(algo);
	uint8_t *src = malloc(n);
	long z;
	size_t i;

	assert_non_null(c);
	assert_non_null(src);
	for (i = 0; i < n; i++)
		src[i] = (uint8_t)(i / 64);
	z = compressor_run(c, src, n, out, cap);
	assert_true(z > 0);
	compressor_free(c);
	free(src);
	return (uint32_t)z;
}

/* Serve b and check that the job failed cleanly with an error containing
 * `want`, and that only page 0 (from open_stream) was written. */
static void
expect_failed_at(struct rh_buf *b, const uint8_t token[16], const char *want, bool built)
{
	struct rh_reply rep;
	struct rh_stats st;
	struct rh_job j;
	char err[512], rec[32];
	const char *o;
	enum job_state js;
	struct msg_reason m;
	const uint8_t *pl = NULL;
	uint32_t plen = 0;
	int i, t, last = -1;

	assert_false(b->failed);
	assert_int_equal(rh_serve(b->p, b->len, &rep, TIMEOUT_MS), 0);
	assert_int_equal(engine_recv_open(), 0);	/* its thread has ended */
	assert_true(rh_last_job(&j));
	assert_memory_equal(j.token, token, 16);
	js = (enum job_state)j.state;
	memcpy(err, j.error, sizeof(err));
	assert_true(j.thread_done);
	assert_string_equal(job_state_name(js), job_state_name(JOB_FAILED));
	if (strstr(err, want) == NULL)
		fail_msg("job error \"%s\" does not say \"%s\"", err, want);
	o = rh_record(token, rec, sizeof(rec));
	assert_non_null(o);
	assert_string_equal(o, "aborted");
	st = rh_stats();
	assert_int_equal(st.restores, 1);
	assert_int_equal(st.restored, built);	/* and if built, destroyed: */
	assert_int_equal(st.destroyed, built);
	assert_int_equal(st.out_of_range, 0);
	/* the valid batch only: page 0 written (page 1 was never written, so
	 * its ZERO entry costs nothing), or both mapped through page_dest */
	if (rh_page_write())
		assert_true(st.pages_written == 1 && st.pages_mapped == 0);
	else
		assert_true(st.pages_written == 0 && st.pages_mapped == 2);
	assert_int_equal(rh_domains(NULL, 0, NULL), 0);	/* the partial domain is gone */
	/* HELLO, PREPARE_OK, then the receiver's ABORT */
	assert_int_equal(rh_reply_frame(&rep, 0, NULL, NULL), MSG_HELLO);
	assert_int_equal(rh_reply_frame(&rep, 1, NULL, NULL), MSG_PREPARE_OK);
	for (i = 0; (t = rh_reply_frame(&rep, (unsigned)i, &pl, &plen)) >= 0; i++)
		last = t;
	assert_int_equal(last, MSG_ABORT);
	rh_reply_frame(&rep, (unsigned)i - 1, &pl, &plen);
	assert_int_equal(msg_reason_decode(pl, plen, &m), 0);
	assert_int_equal(m.code, REASON_PROTOCOL);
	assert_string_equal(m.text, err);
	free(rep.p);
	rh_buf_free(b);
	rh_reset();
}

static void
expect_failed(struct rh_buf *b, const uint8_t token[16], const char *want)
{
	expect_failed_at(b, token, want, false);
}

static void
both_modes(void (*fn)(void))
{
	rh_set_page_write(true);
	fn();
	rh_reset();
	rh_set_page_write(false);
	fn();
}

static void
zpages_promise_more_pages(void)
{
	static uint8_t z[3 * PROTO_PAGE_SIZE];
	uint64_t e[4] = { page_entry(2, PAGE_NORMAL), page_entry(3, PAGE_NORMAL),
		page_entry(4, PAGE_ZERO), page_entry(5, PAGE_NORMAL) };
	struct rh_buf b = { 0 };
	uint8_t token[16];
	uint32_t zl;

	/* three NORMAL entries, data for two (each algorithm) */
	open_stream(&b, token);
	zl = squeeze(COMPRESS_ZSTD, 2 * PROTO_PAGE_SIZE, z, sizeof(z));
	zpages(&b, e, 4, ZALGO_ZSTD, zl, z, zl);
	expect_failed(&b, token, "does not decompress");
	open_stream(&b, token);
	zl = squeeze(COMPRESS_LZ4, 2 * PROTO_PAGE_SIZE, z, sizeof(z));
	zpages(&b, e, 4, ZALGO_LZ4, zl, z, zl);
	expect_failed(&b, token, "does not decompress");
	/* and the other way: data for four */
	open_stream(&b, token);
	zl = squeeze(COMPRESS_LZ4, 4 * PROTO_PAGE_SIZE, z, sizeof(z));
	zpages(&b, e, 4, ZALGO_LZ4, zl, z, zl);
	expect_failed(&b, token, "does not decompress");
}

static void
test_zpages_entries_promise_more_pages_than_the_data_holds(void **state)
{
	both_modes(zpages_promise_more_pages);
}

static void
zpages_zlen_beyond_frame(void)
{
	static uint8_t z[2 * PROTO_PAGE_SIZE];
	uint64_t e[2] = { page_entry(2, PAGE_NORMAL), page_entry(3, PAGE_NORMAL) };
	struct rh_buf b = { 0 };
	uint8_t head[ZPAGES_HEAD_LEN], token[16];
	uint32_t zl = squeeze(COMPRESS_ZSTD, 2 * PROTO_PAGE_SIZE, z, sizeof(z));

	/* the head's zlen is 100 more than the frame holds */
	open_stream(&b, token);
	be32_put(head, 1);
	be32_put(head + 4, 2);
	head[8] = ZALGO_ZSTD;
	head[9] = head[10] = head[11] = 0;
	be32_put(head + 12, zl + 100);
	rh_frame_lie(&b, MSG_ZPAGES, 0, ZPAGES_HEAD_LEN + 16 + zl, head, sizeof(head));
	be64_put(head, e[0]);
	rh_put(&b, head, 8);
	be64_put(head, e[1]);
	rh_put(&b, head, 8);
	rh_put(&b, z, zl);
	rh_context(&b);		/* what follows must not be taken for data */
	rh_frame(&b, MSG_STREAM_END, NULL, 0);
	expect_failed(&b, token, "ZPAGES");
	/* a zlen as big as the raw pages (never sent: it does not shrink) */
	open_stream(&b, token);
	zpages(&b, e, 2, ZALGO_ZSTD, 2 * PROTO_PAGE_SIZE, z, 2 * PROTO_PAGE_SIZE);
	expect_failed(&b, token, "ZPAGES");
}

static void
test_zpages_zlen_larger_than_the_frame(void **state)
{
	both_modes(zpages_zlen_beyond_frame);
}

static void
test_zraw_raw_len_over_the_maximum(void **state)
{
	static uint8_t z[8192];
	struct rh_buf b = { 0 };
	uint8_t token[16];
	uint32_t zl = squeeze(COMPRESS_ZSTD, 65536, z, sizeof(z));

	open_stream(&b, token);
	zraw(&b, ZALGO_ZSTD, PROTO_RAW_MAX + 1, z, zl);
	expect_failed(&b, token, "ZRAW");
	open_stream(&b, token);
	zraw(&b, ZALGO_LZ4, UINT32_MAX, z, zl);
	expect_failed(&b, token, "ZRAW");
}

static void
test_zraw_data_decompresses_to_another_size(void **state)
{
	static uint8_t z[8192];
	struct rh_buf b = { 0 };
	uint8_t token[16];
	uint32_t zl;
	int algo;

	for (algo = COMPRESS_ZSTD; algo <= COMPRESS_LZ4; algo++) {
		zl = squeeze(algo, 65536, z, sizeof(z));
		open_stream(&b, token);
		zraw(&b, (uint8_t)algo, 65537, z, zl);		/* more than it holds */
		expect_failed(&b, token, "does not decompress");
		open_stream(&b, token);
		zraw(&b, (uint8_t)algo, 65535, z, zl);		/* less */
		expect_failed(&b, token, "does not decompress");
		open_stream(&b, token);
		zraw(&b, (uint8_t)algo, 65536, z, zl - 1);	/* cut short */
		expect_failed(&b, token, "does not decompress");
		/* (a flipped byte may still decompress to the right size: the
		 * stream has no checksum of its own; TCP's or TLS's covers it) */
	}
}

static void
test_unknown_algorithm(void **state)
{
	static uint8_t z[2 * PROTO_PAGE_SIZE];
	uint64_t e[2] = { page_entry(2, PAGE_NORMAL), page_entry(3, PAGE_NORMAL) };
	struct rh_buf b = { 0 };
	uint8_t token[16];
	uint32_t zl = squeeze(COMPRESS_ZSTD, 2 * PROTO_PAGE_SIZE, z, sizeof(z));
	uint8_t algos[] = { 0, 3, 0xff };
	unsigned i;

	for (i = 0; i < sizeof(algos); i++) {
		open_stream(&b, token);
		zpages(&b, e, 2, algos[i], zl, z, zl);
		expect_failed(&b, token, "ZPAGES");
		open_stream(&b, token);
		zraw(&b, algos[i], 2 * PROTO_PAGE_SIZE, z, zl);
		expect_failed(&b, token, "ZRAW");
	}
}

/* Frames out of place: one the sender never sends, in the stream; one
 * other than GO after BUILT (then the built copy is destroyed).  Both are
 * answered with ABORT(PROTOCOL), as docs/protocol.md's state table says. */
static void
test_frames_out_of_place(void **state)
{
	static const uint8_t built[4] = { 0, 0, 0, 9 };
	struct rh_buf b = { 0 };
	uint8_t token[16];

	open_stream(&b, token);
	rh_frame(&b, MSG_BUILT, built, sizeof(built));
	expect_failed(&b, token, "protocol error: BUILT during the memory stream");
	open_stream(&b, token);
	rh_context(&b);
	rh_frame(&b, MSG_STREAM_END, NULL, 0);
	rh_context(&b);		/* instead of GO */
	expect_failed_at(&b, token, "no go-ahead", true);
	open_stream(&b, token);
	rh_context(&b);
	rh_frame(&b, MSG_STREAM_END, NULL, 0);
	rh_frame_lie(&b, MSG_GO, 0, 4, built, sizeof(built));	/* GO, not empty */
	expect_failed_at(&b, token, "no go-ahead", true);
}

/* The device model's frames, from a sender this host did not offer
 * HELLO_F_DEVICE_MODEL: refused with ABORT(PROTOCOL) and a reason that
 * says so, valid as they are. */
static void
test_device_model_frames_unasked(void **state)
{
	struct msg_dm_physmap pm = { .count = 1, .ents = { { .phys_offset = 0xf0000000,
		.start_addr = 0xf0000000, .size = 0x800000, .name = "vga.vram" } } };
	uint8_t pl[256], chunk[DM_STATE_HEAD_LEN + 64];
	struct rh_buf b = { 0 };
	uint8_t token[16];
	int n;

	open_stream(&b, token);
	n = msg_dm_physmap_encode(&pm, pl, sizeof(pl));
	assert_true(n > 0);
	rh_frame(&b, MSG_DM_PHYSMAP, pl, (uint32_t)n);
	expect_failed(&b, token, "protocol error: DM_PHYSMAP (a device model's state) from a "
	    "sender that was not offered to carry a device model");
	open_stream(&b, token);
	dm_state_head_encode(chunk, 64, 0);
	memset(chunk + DM_STATE_HEAD_LEN, 0x51, 64);
	rh_frame(&b, MSG_DM_STATE, chunk, sizeof(chunk));
	rh_context(&b);
	rh_frame(&b, MSG_STREAM_END, NULL, 0);
	expect_failed(&b, token, "protocol error: DM_STATE (a device model's state) from a "
	    "sender that was not offered to carry a device model");
}

/* With HELLO_F_DEVICE_MODEL on both sides the frames reach the backend:
 * the physmap as it came, the state whole, from its chunks; a physmap
 * after the state began, or a chunk out of order, is a malformed frame. */
static void
test_device_model_frames_offered(void **state)
{
	struct msg_dm_physmap pm = { .count = 1, .ents = { { .phys_offset = 0xf0000000,
		.start_addr = 0xf0000000, .size = 0x800000, .name = "vga.vram" } } };
	uint8_t pl[256], c1[DM_STATE_HEAD_LEN + 60], c2[DM_STATE_HEAD_LEN + 40];
	struct rh_buf b = { 0 };
	struct rh_reply rep;
	struct rh_stats st;
	struct rh_job j;
	uint8_t token[16];
	int n;

	rh_set_device_model(true);
	open_stream(&b, token);
	n = msg_dm_physmap_encode(&pm, pl, sizeof(pl));
	assert_true(n > 0);
	rh_frame(&b, MSG_DM_PHYSMAP, pl, (uint32_t)n);
	dm_state_head_encode(c1, 100, 0);
	memset(c1 + DM_STATE_HEAD_LEN, 1, 60);
	dm_state_head_encode(c2, 100, 60);
	memset(c2 + DM_STATE_HEAD_LEN, 2, 40);
	rh_frame(&b, MSG_DM_STATE, c1, sizeof(c1));
	rh_frame(&b, MSG_DM_STATE, c2, sizeof(c2));
	rh_context(&b);
	rh_frame(&b, MSG_STREAM_END, NULL, 0);
	rh_frame(&b, MSG_GO, NULL, 0);
	assert_false(b.failed);
	assert_int_equal(rh_serve(b.p, b.len, &rep, TIMEOUT_MS), 0);
	free(rep.p);
	assert_true(rh_last_job(&j));
	assert_int_equal(j.state, JOB_DONE);
	st = rh_stats();
	assert_int_equal(st.dm_physmaps, 1);
	assert_int_equal(st.dm_physmap_entries, 1);
	assert_int_equal(st.dm_states, 1);
	assert_int_equal(st.dm_state_len, 100);
	assert_int_equal(st.dm_state_sum, 60 * 1 + 40 * 2);
	rh_buf_free(&b);
	rh_reset();

	rh_set_device_model(true);
	open_stream(&b, token);
	rh_frame(&b, MSG_DM_STATE, c1, sizeof(c1));
	rh_frame(&b, MSG_DM_PHYSMAP, pl, (uint32_t)n);
	expect_failed(&b, token, "protocol error: malformed DM_PHYSMAP frame");
	rh_set_device_model(true);
	open_stream(&b, token);
	rh_frame(&b, MSG_DM_STATE, c2, sizeof(c2));
	expect_failed(&b, token, "protocol error: malformed DM_STATE frame");
}

/* A PREPARE for a domain bigger than the host (here up to the protocol's
 * 2^40 pages) is refused before anything is sized by it: the receiver
 * used to calloc a bitmap of nr_pages bits first (128 GiB for 2^40). */
static void
test_prepare_bigger_than_the_host(void **state)
{
	struct msg_prepare m = { .name = "huge", .nr_pages = 1ull << 40,
		.max_pages = 1ull << 40, .vcpus = 1, .dom_type = DOMTYPE_SIM };
	struct rh_buf b = { 0 };
	struct rh_reply rep;
	struct msg_reason r;
	const uint8_t *pl;
	uint32_t plen;
	struct rh_job j;

	m.token[0] = 0xb1;
	rh_hello(&b);
	rh_prepare(&b, &m);
	rh_context(&b);
	rh_frame(&b, MSG_STREAM_END, NULL, 0);
	rh_frame(&b, MSG_GO, NULL, 0);
	assert_false(b.failed);
	assert_int_equal(rh_serve(b.p, b.len, &rep, TIMEOUT_MS), 0);
	assert_int_equal(rh_reply_frame(&rep, 0, NULL, NULL), MSG_HELLO);
	assert_int_equal(rh_reply_frame(&rep, 1, &pl, &plen), MSG_REFUSE);
	assert_int_equal(msg_reason_decode(pl, plen, &r), 0);
	assert_int_equal(r.code, REASON_NO_MEMORY);
	assert_non_null(strstr(r.text, "do not fit in receiver's 1024 MiB"));
	assert_true(rh_last_job(&j));
	assert_int_equal(j.state, JOB_FAILED);
	assert_int_equal(rh_stats().restores, 0);
	free(rep.p);
	rh_buf_free(&b);
}

/* A PREPARE reusing the token of a job committed here is refused: it
 * used to overwrite the record ("building", then "aborted" when it
 * failed), so that the first job's sender, still asking with QUERY (the
 * ambiguous case), would have heard ABORTED and resumed its copy while
 * this one runs. */
static void
test_prepare_reusing_a_committed_token(void **state)
{
	struct rh_buf b = { 0 };
	struct rh_reply rep;
	struct msg_reason r;
	const uint8_t *pl;
	uint32_t plen;
	uint8_t token[16];
	char rec[32];
	const char *o;

	open_stream(&b, token);
	assert_int_equal(rh_set_record(token, "committed", "vm1", true), 0);
	rh_frame(&b, MSG_ABORT, NULL, 0);	/* it would fail anyway */
	assert_int_equal(rh_serve(b.p, b.len, &rep, TIMEOUT_MS), 0);
	assert_int_equal(rh_reply_frame(&rep, 1, &pl, &plen), MSG_REFUSE);
	assert_int_equal(msg_reason_decode(pl, plen, &r), 0);
	assert_int_equal(r.code, REASON_PROTOCOL);
	assert_non_null(strstr(r.text, "token"));
	assert_non_null(o = rh_record(token, rec, sizeof(rec)));
	assert_string_equal(o, "committed");
	assert_int_equal(rh_stats().restores, 0);
	free(rep.p);
	rh_buf_free(&b);
}

/* A batch that names a page twice (which protocol.md forbids a sender,
 * letting R keep either version) must not leave R's bookkeeping wrong: a
 * later frame's entry for the page replaces it.  The page_dest path
 * cleared page 3 for its ZERO entry before the NORMAL entry's data was
 * read into it, and marked it unwritten, so the later frame's ZERO for
 * page 3 was skipped and the page kept data the sender had replaced by
 * zeroes.  Both paths now apply entries in order: page 3 is zero after
 * the first frame already, page 4 (ZERO then NORMAL) has its data, page 5
 * (NORMAL, ZERO, then NORMAL and ZERO in later frames) is zero. */
static void
repeated_pages(void)
{
	static uint8_t pl[PAGES_HEAD_LEN + 6 * 8 + 3 * PROTO_PAGE_SIZE];
	uint64_t e[6] = { page_entry(3, PAGE_NORMAL), page_entry(3, PAGE_ZERO),
		page_entry(4, PAGE_ZERO), page_entry(4, PAGE_NORMAL),
		page_entry(5, PAGE_NORMAL), page_entry(5, PAGE_ZERO) };
	struct rh_buf b = { 0 };
	struct rh_job j;
	const uint8_t *mem;
	uint64_t np = 0;
	uint8_t token[16];
	unsigned i;

	open_stream(&b, token);
	be32_put(pl, 0);
	be32_put(pl + 4, 6);
	for (i = 0; i < 6; i++)
		be64_put(pl + PAGES_HEAD_LEN + 8 * i, e[i]);
	for (i = 0; i < 3; i++)
		memset(pl + PAGES_HEAD_LEN + 48 + i * PROTO_PAGE_SIZE, 0x31 + (int)i,
		    PROTO_PAGE_SIZE);
	rh_frame(&b, MSG_PAGES, pl, sizeof(pl));
	/* page 5 again: NORMAL, then (next batch) ZERO */
	be32_put(pl, 1);
	be32_put(pl + 4, 1);
	be64_put(pl + PAGES_HEAD_LEN, page_entry(5, PAGE_NORMAL));
	memset(pl + PAGES_HEAD_LEN + 8, 0x55, PROTO_PAGE_SIZE);
	rh_frame(&b, MSG_PAGES, pl, PAGES_HEAD_LEN + 8 + PROTO_PAGE_SIZE);
	be64_put(pl + PAGES_HEAD_LEN, page_entry(5, PAGE_ZERO));
	rh_frame(&b, MSG_PAGES, pl, PAGES_HEAD_LEN + 8);
	be64_put(pl + PAGES_HEAD_LEN, page_entry(3, PAGE_ZERO));
	rh_frame(&b, MSG_PAGES, pl, PAGES_HEAD_LEN + 8);
	rh_context(&b);
	rh_frame(&b, MSG_STREAM_END, NULL, 0);
	rh_frame(&b, MSG_GO, NULL, 0);
	assert_int_equal(rh_serve(b.p, b.len, NULL, TIMEOUT_MS), 0);
	assert_true(rh_last_job(&j));
	assert_memory_equal(j.token, token, 16);
	assert_int_equal(j.state, JOB_DONE);
	assert_non_null(mem = rh_domain_mem("vm1", &np));
	for (i = 0; i < PROTO_PAGE_SIZE; i++) {
		assert_int_equal(mem[3 * PROTO_PAGE_SIZE + i], 0);
		assert_int_equal(mem[4 * PROTO_PAGE_SIZE + i], 0x32);
		assert_int_equal(mem[5 * PROTO_PAGE_SIZE + i], 0);
	}
	rh_buf_free(&b);
}

static void
test_a_page_named_twice_in_a_batch(void **state)
{
	both_modes(repeated_pages);
}

/* After all that, a whole migration with both compressed frames works and
 * the pages land where the entries say. */
static void
full_migration(void)
{
	static uint8_t z[3 * PROTO_PAGE_SIZE];
	uint64_t e[3] = { page_entry(2, PAGE_NORMAL), page_entry(0, PAGE_ZERO),
		page_entry(7, PAGE_NORMAL) };
	struct rh_buf b = { 0 };
	struct rh_reply rep;
	struct rh_job j;
	uint8_t token[16], raw[2 * PROTO_PAGE_SIZE];
	const uint8_t *mem;
	uint64_t np = 0;
	char rec[32], name[64];
	const char *o;
	bool running = false;
	uint32_t zl;
	size_t i;

	open_stream(&b, token);
	for (i = 0; i < sizeof(raw); i++)
		raw[i] = (uint8_t)(i / 64);
	zl = squeeze(COMPRESS_ZSTD, sizeof(raw), z, sizeof(z));
	zpages(&b, e, 3, ZALGO_ZSTD, zl, z, zl);
	zl = squeeze(COMPRESS_LZ4, 65536, z, sizeof(z));
	zraw(&b, ZALGO_LZ4, 65536, z, zl);
	rh_context(&b);
	rh_frame(&b, MSG_STREAM_END, NULL, 0);
	rh_frame(&b, MSG_GO, NULL, 0);
	assert_false(b.failed);
	assert_int_equal(rh_serve(b.p, b.len, &rep, TIMEOUT_MS), 0);
	assert_int_equal(rh_reply_frame(&rep, 0, NULL, NULL), MSG_HELLO);
	assert_int_equal(rh_reply_frame(&rep, 1, NULL, NULL), MSG_PREPARE_OK);
	assert_int_equal(rh_reply_frame(&rep, 2, NULL, NULL), MSG_BUILT);
	assert_int_equal(rh_reply_frame(&rep, 3, NULL, NULL), MSG_DONE);
	free(rep.p);
	assert_true(rh_last_job(&j));
	assert_memory_equal(j.token, token, 16);
	assert_int_equal(j.state, JOB_DONE);
	assert_string_equal(j.error, "");
	o = rh_record(token, rec, sizeof(rec));
	assert_non_null(o);
	assert_string_equal(o, "committed");
	assert_int_equal(rh_domains(name, sizeof(name), &running), 1);
	assert_string_equal(name, "vm1");
	assert_true(running);
	assert_non_null(mem = rh_domain_mem("vm1", &np));
	assert_int_equal(np, NR_PAGES);
	for (i = 0; i < PROTO_PAGE_SIZE; i++)	/* written, then zeroed by ZPAGES */
		assert_int_equal(mem[i], 0);
	assert_memory_equal(mem + 2 * PROTO_PAGE_SIZE, raw, PROTO_PAGE_SIZE);
	assert_memory_equal(mem + 7 * PROTO_PAGE_SIZE, raw + PROTO_PAGE_SIZE, PROTO_PAGE_SIZE);
	assert_int_equal(rh_stats().out_of_range, 0);
	rh_buf_free(&b);
}

static void
test_full_migration_after_hostile_streams(void **state)
{
	both_modes(full_migration);
}

/* DEVICES_READY goes out once, after PREPARE_OK and before BUILT, only
 * when both HELLOs offer it: at once from a backend whose devices are up
 * before ready(), and before BUILT from one that never said so (a built
 * domain has its devices). */
static void
devices_ready_order(enum rh_devs mode)
{
	struct rh_buf b = { 0 };
	struct rh_reply rep;
	struct rh_job j;
	uint8_t token[16];
	unsigned k = 2;

	rh_set_devices(mode);
	open_stream(&b, token);
	rh_context(&b);
	rh_frame(&b, MSG_STREAM_END, NULL, 0);
	rh_frame(&b, MSG_GO, NULL, 0);
	assert_false(b.failed);
	assert_int_equal(rh_serve(b.p, b.len, &rep, TIMEOUT_MS), 0);
	assert_int_equal(rh_reply_frame(&rep, 0, NULL, NULL), MSG_HELLO);
	assert_int_equal(rh_reply_frame(&rep, 1, NULL, NULL), MSG_PREPARE_OK);
	if (mode != RH_DEVS_OFF)
		assert_int_equal(rh_reply_frame(&rep, k++, NULL, NULL), MSG_DEVICES_READY);
	assert_int_equal(rh_reply_frame(&rep, k++, NULL, NULL), MSG_BUILT);
	assert_int_equal(rh_reply_frame(&rep, k++, NULL, NULL), MSG_DONE);
	assert_int_equal(rh_reply_frame(&rep, k, NULL, NULL), -1);
	free(rep.p);
	assert_true(rh_last_job(&j));
	assert_int_equal(j.state, JOB_DONE);
	rh_buf_free(&b);
	rh_reset();
}

static void
test_devices_ready_once_after_prepare_ok_and_before_built(void **state)
{
	devices_ready_order(RH_DEVS_AT_ONCE);
	devices_ready_order(RH_DEVS_NEVER);
	devices_ready_order(RH_DEVS_OFF);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_full_migration_after_hostile_streams, each),
		cmocka_unit_test_setup(test_devices_ready_once_after_prepare_ok_and_before_built, each),
		cmocka_unit_test_setup(test_zpages_entries_promise_more_pages_than_the_data_holds,
		    each),
		cmocka_unit_test_setup(test_zpages_zlen_larger_than_the_frame, each),
		cmocka_unit_test_setup(test_zraw_raw_len_over_the_maximum, each),
		cmocka_unit_test_setup(test_zraw_data_decompresses_to_another_size, each),
		cmocka_unit_test_setup(test_unknown_algorithm, each),
		cmocka_unit_test_setup(test_frames_out_of_place, each),
		cmocka_unit_test_setup(test_device_model_frames_unasked, each),
		cmocka_unit_test_setup(test_device_model_frames_offered, each),
		cmocka_unit_test_setup(test_prepare_bigger_than_the_host, each),
		cmocka_unit_test_setup(test_prepare_reusing_a_committed_token, each),
		cmocka_unit_test_setup(test_a_page_named_twice_in_a_batch, each),
		cmocka_unit_test_setup(test_full_migration_after_hostile_streams, each),
		cmocka_unit_test_setup(test_devices_ready_once_after_prepare_ok_and_before_built, each),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
