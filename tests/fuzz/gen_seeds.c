/* gen_seeds.c - write the seed corpus of fuzz_frame: one small valid frame
 * of each type (made with the encoders), and a few valid streams as a
 * receiver sees them; with a second directory, the scripts of fuzz_recv
 * (tests/fuzz/fuzz_recv.h): whole migrations, plain and compressed, an
 * ABORT with its text, QUERY and HOST_INFO connections, and a few hostile
 * ones.  Usage: gen_seeds FRAME_DIR [RECV_DIR].  `make fuzz-seeds` runs it
 * into tests/fuzz/corpus/frame and tests/fuzz/corpus/recv; the files are
 * committed, so this only needs running again when the protocol (or the
 * script format) changes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compress.h"
#include "fuzz_recv.h"
#include "proto.h"
#include "xbuf.h"

#define NR_PAGES 64	/* fuzz_frame's nr_pages before any PREPARE */

static const char *dir;
static uint8_t stream[64 << 10];
static size_t stream_len;

static void
die(const char *what)
{
	fprintf(stderr, "gen_seeds: %s\n", what);
	exit(1);
}

static void
write_file(const char *name, const uint8_t *d, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL || fwrite(d, 1, n, f) != n || fclose(f) != 0)
		die(path);
}

/* Append a frame to the stream, and write it alone as seed `name` (if any). */
static void
frame(const char *name, uint8_t type, uint16_t flags, const uint8_t *pl, int n)
{
	uint8_t f[FRAME_HDR_LEN + 3 * 4096 + 256];

	if (n < 0 || (size_t)n + FRAME_HDR_LEN > sizeof(f))
		die("encoder failed");
	frame_hdr_encode(f, type, flags, (uint32_t)n);
	memcpy(f + FRAME_HDR_LEN, pl, (size_t)n);
	if (name != NULL)
		write_file(name, f, FRAME_HDR_LEN + (size_t)n);
	if (stream_len + FRAME_HDR_LEN + (size_t)n > sizeof(stream))
		die("stream too long");
	memcpy(stream + stream_len, f, FRAME_HDR_LEN + (size_t)n);
	stream_len += FRAME_HDR_LEN + (size_t)n;
}

/* Compress src[0..n) with algo (enum zpages_algo, the same values as
 * COMPRESS_ZSTD/LZ4) into dst, as the sender does: the compressor the
 * engine uses, and only output shorter than the input is accepted. */
static long
squeeze(int algo, const uint8_t *src, size_t n, uint8_t *dst, size_t cap)
{
	struct compressor *c = compressor_new(algo);
	long z;

	if (c == NULL)
		die("compressor_new");
	z = compressor_run(c, src, n, dst, cap < n - 1 ? cap : n - 1);
	compressor_free(c);
	if (z <= 0)
		die("compressor_run: no gain");
	return z;
}

/* A seed the receiver would reject is no seed: each ZPAGES payload must
 * pass the receiver's checks and decompress to exactly its pages. */
static void
zpages_check(const uint8_t *p, uint32_t len, const uint64_t *e, const uint8_t *data,
    unsigned normal)
{
	static uint8_t out[3 * 4096];
	uint32_t round, count, zlen, n_normal;
	uint8_t algo;

	if (zpages_head_decode(p, len, &round, &count, &algo, &zlen) != 0 ||
	    zpages_entries_check(e, count, NR_PAGES, zlen, &n_normal) != 0 ||
	    n_normal != normal ||
	    decompress_exact(algo, p + ZPAGES_HEAD_LEN + 8 * count, zlen, out,
	    (size_t)normal * 4096) != 0 ||
	    memcmp(out, data, (size_t)normal * 4096) != 0)
		die("a ZPAGES seed the receiver would not accept");
}

/* A ZPAGES payload as engine/send.c writes one: round, count, algo, 3 zero
 * bytes, zlen, the entries, then the compressed data of the NORMAL pages
 * (`normal` pages of data at data).  Returns its length. */
static int
zpages(uint8_t *out, size_t cap, uint32_t round, const uint64_t *e, uint32_t count, int algo,
    const uint8_t *data, unsigned normal)
{
	size_t off = ZPAGES_HEAD_LEN + 8 * (size_t)count;
	long z;
	uint32_t i;

	if (off >= cap)
		die("zpages: no room");
	z = squeeze(algo, data, (size_t)normal * 4096, out + off, cap - off);
	be32_put(out, round);
	be32_put(out + 4, count);
	out[8] = (uint8_t)algo;
	memset(out + 9, 0, 3);
	be32_put(out + 12, (uint32_t)z);
	for (i = 0; i < count; i++)
		be64_put(out + ZPAGES_HEAD_LEN + 8 * i, e[i]);
	zpages_check(out, (uint32_t)(off + (size_t)z), e, data, normal);
	return (int)(off + (size_t)z);
}

/* A ZRAW payload: zraw_head_encode, then raw[0..n) compressed. */
static int
zraw(uint8_t *out, size_t cap, int algo, const uint8_t *raw, size_t n)
{
	long z = squeeze(algo, raw, n, out + ZRAW_HEAD_LEN, cap - ZRAW_HEAD_LEN);

	static uint8_t back[PROTO_RAW_MAX];
	uint32_t raw_len;
	uint8_t a;

	zraw_head_encode(out, (uint8_t)algo, (uint32_t)n);
	if (zraw_head_decode(out, (uint32_t)(ZRAW_HEAD_LEN + (size_t)z), &a, &raw_len) != 0 ||
	    raw_len != n || decompress_exact(a, out + ZRAW_HEAD_LEN, (size_t)z, back, n) != 0 ||
	    memcmp(back, raw, n) != 0)
		die("a ZRAW seed the receiver would not accept");
	return (int)(ZRAW_HEAD_LEN + (size_t)z);
}

static void
stream_flush(const char *name)
{
	write_file(name, stream, stream_len);
	stream_len = 0;
}

/* ---- fuzz_recv's scripts ---- */

static uint8_t script[4096];
static size_t script_len;

static void
sc_bytes(const int *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (script_len == sizeof(script))
			die("script too long");
		script[script_len++] = (uint8_t)b[i];
	}
}

/* SC(op, args...): append those bytes to the script. */
#define SC(...) sc_bytes((const int[]){ __VA_ARGS__ }, \
	sizeof((const int[]){ __VA_ARGS__ }) / sizeof(int))

/* The setup: flags, nr_pages, vcpus/type/name, token byte. */
static void
sc_setup(uint8_t flags, unsigned nr_pages, uint8_t token)
{
	script_len = 0;
	SC(flags, (int)(nr_pages - 1), 0, token);
}

static void
sc_text(const char *t)
{
	SC((int)strlen(t));
	for (; *t; t++)
		SC(*t >= 'a' && *t <= 'z' ? *t - 'a' : 26);
}

/* The end of a migration: CONTEXT, STREAM_END, GO. */
static void
sc_commit(void)
{
	SC(FR_OP_CONTEXT, 32, 0x11);
	SC(FR_OP_STREAM_END, FR_OP_GO);
}

static void
sc_flush(const char *rdir, const char *name)
{
	const char *saved = dir;

	dir = rdir;
	write_file(name, script, script_len);
	dir = saved;
}

static void
recv_seeds(const char *rdir)
{
	const uint8_t prep = FR_OPEN_PREPARE << FR_S_OPEN_SHIFT;

	/* A live migration of 8 pages: two rounds (NORMAL and ZERO pages,
	 * page 0 written then zeroed), each engine path to the backend. */
	sc_setup(FR_S_PAGE_WRITE | prep | FR_S_LIVE, 8, 1);
	SC(FR_OP_PAGES, 0, 2, 0x00, 0x81, 0x07, 0xa5);
	SC(FR_OP_ROUND_END, 0);
	SC(FR_OP_PAGES, 1, 1, 0x80, 0x03, 0x5c);
	SC(FR_OP_ROUND_END, 1);
	sc_commit();
	sc_flush(rdir, "migrate_page_write");
	script[0] &= (uint8_t)~FR_S_PAGE_WRITE;
	sc_flush(rdir, "migrate_page_dest");
	/* Offline, with RAW chunks as the Xen backend sends them. */
	sc_setup(FR_S_PAGE_WRITE | prep, 4, 2);
	SC(FR_OP_RAW, 16, 0x42);
	SC(FR_OP_PAGES, 0, 1, 0x00, 0x03, 0x77);
	SC(FR_OP_RAW, 4, 0x43);
	sc_commit();
	sc_flush(rdir, "migrate_raw");
	/* Compressed: ZPAGES with zstd, then lz4 (pages 2, 5 and a ZERO one). */
	sc_setup(FR_S_PAGE_WRITE | prep | FR_S_LIVE, 16, 3);
	SC(FR_OP_ZPAGES, 0, 2, 0x02, 0x85, 0x05, 0x33, 0x00);
	SC(FR_OP_ZPAGES, 1, 2, 0x02, 0x00, 0x0f, 0x34, 0x01);
	sc_commit();
	sc_flush(rdir, "migrate_zpages");
	script[0] &= (uint8_t)~FR_S_PAGE_WRITE;
	sc_flush(rdir, "migrate_zpages_page_dest");
	/* ZRAW chunks, lz4 and zstd, among the pages. */
	sc_setup(FR_S_PAGE_WRITE | prep, 8, 4);
	SC(FR_OP_ZRAW, 63, 0x10, 0x01);
	SC(FR_OP_PAGES, 0, 0, 0x01, 0x61);
	SC(FR_OP_ZRAW, 15, 0x20, 0x00);
	sc_commit();
	sc_flush(rdir, "migrate_zraw");
	/* Hostile compressed heads: entries promising a page more than the
	 * data holds; a ZRAW over PROTO_RAW_MAX; an unknown algorithm; a
	 * ZRAW that decompresses to a byte less than it says. */
	sc_setup(FR_S_PAGE_WRITE | prep, 8, 5);
	SC(FR_OP_ZPAGES, 0, 1, 0x01, 0x02, 0x44, 0x02);
	sc_commit();
	sc_flush(rdir, "zpages_promise_more");
	sc_setup(FR_S_PAGE_WRITE | prep, 8, 6);
	SC(FR_OP_ZRAW, 10, 0x30, 0x06);
	sc_commit();
	sc_flush(rdir, "zraw_over_max");
	sc_setup(FR_S_PAGE_WRITE | prep, 8, 6);
	SC(FR_OP_ZRAW, 10, 0x30, 0x05);
	sc_commit();
	sc_flush(rdir, "zraw_short");
	sc_setup(FR_S_PAGE_WRITE | prep, 8, 6);
	SC(FR_OP_ZPAGES, 0, 1, 0x01, 0x02, 0x44, 0x08);
	sc_commit();
	sc_flush(rdir, "zpages_unknown_algo");
	/* A ZPAGES whose header says a length other than its own. */
	sc_setup(FR_S_PAGE_WRITE | prep, 8, 7);
	SC(FR_OP(FR_OP_ZPAGES, FR_LEN_MINUS), 0, 1, 0x01, 0x02, 0x44, 0x00, 5);
	sc_commit();
	sc_flush(rdir, "zpages_short_length");
	/* The sender gives up, with a reason: mid-stream, then after BUILT. */
	sc_setup(FR_S_PAGE_WRITE | prep | FR_S_LIVE, 8, 8);
	SC(FR_OP_PAGES, 0, 0, 0x02, 0x12);
	SC(FR_OP_ABORT, REASON_CANCELLED);
	sc_text("cancelled by the operator");
	sc_flush(rdir, "abort_in_stream");
	sc_setup(FR_S_PAGE_WRITE | prep, 8, 9);
	SC(FR_OP_CONTEXT, 32, 0x11);
	SC(FR_OP_STREAM_END);
	SC(FR_OP_ABORT, REASON_TIMEOUT);
	sc_text("no built in time");
	sc_flush(rdir, "abort_after_built");
	/* QUERY: a token recorded committed, one recorded aborted (both sent
	 * by this peer), one that another host sent (not answered), and an
	 * unknown one. */
	sc_setup((FR_OPEN_QUERY << FR_S_OPEN_SHIFT) | FR_S_RECORD, 8, 0x20);
	sc_flush(rdir, "query_committed");
	sc_setup((FR_OPEN_QUERY << FR_S_OPEN_SHIFT) | FR_S_RECORD, 8, 0x21);
	sc_flush(rdir, "query_aborted");
	sc_setup((FR_OPEN_QUERY << FR_S_OPEN_SHIFT) | FR_S_RECORD, 8, 0x22);
	sc_flush(rdir, "query_other_peer");
	sc_setup(FR_OPEN_QUERY << FR_S_OPEN_SHIFT, 8, 11);
	sc_flush(rdir, "query_unknown");
	/* HOST_INFO (with a domain here), and a PREPARE after the ops start. */
	sc_setup((FR_OPEN_NONE << FR_S_OPEN_SHIFT) | FR_S_CLASH, 8, 12);
	SC(FR_OP_OTHER, 3);
	sc_flush(rdir, "host_info");
	sc_setup(FR_OPEN_NONE << FR_S_OPEN_SHIFT, 8, 13);
	SC(FR_OP_PREPARE);
	SC(FR_OP_PAGES, 0, 0, 0x00, 0x01);
	sc_commit();
	sc_flush(rdir, "late_prepare");
	/* Refusals: the name exists, a leftover --incoming, too big for the
	 * backend, bigger than the host (the protocol's maximum), the host in
	 * maintenance, more vCPUs than the backend takes. */
	sc_setup(prep | FR_S_CLASH, 8, 14);
	sc_commit();
	sc_flush(rdir, "refused_name_clash");
	sc_setup(prep | FR_S_LEFTOVER, 8, 15);
	sc_commit();
	sc_flush(rdir, "refused_leftover");
	sc_setup(prep | FR_S_BIG, 200, 16);		/* 1600 pages: the fake's limit */
	sc_commit();
	sc_flush(rdir, "refused_too_big");
	sc_setup(prep | FR_S_BIG, 256, 16);		/* 2^40 pages: the host's size */
	sc_commit();
	sc_flush(rdir, "refused_huge");
	sc_setup(prep, 8, 20);
	script[2] = 7 << 5;				/* the host in maintenance */
	sc_commit();
	sc_flush(rdir, "refused_maintenance");
	sc_setup(prep, 8, 21);
	script[2] = 7;					/* 100 vCPUs */
	sc_commit();
	sc_flush(rdir, "refused_vcpus");
	/* A page named twice in a batch, NORMAL then ZERO, on the page_dest
	 * path (it must end zero, as on the page_write path). */
	sc_setup(prep, 8, 19);
	SC(FR_OP_PAGES, 0, 1, 0x03, 0x83, 0x44);
	sc_commit();
	sc_flush(rdir, "page_named_twice");
	/* A PREPARE with the token of a job committed here, then an ABORT. */
	sc_setup(FR_S_PAGE_WRITE | prep | FR_S_RECORD, 8, 18);
	SC(FR_OP_PAGES, 0, 0, 0x01, 0x61);
	SC(FR_OP_ABORT, REASON_CANCELLED);
	sc_text("again");
	sc_flush(rdir, "refused_reused_token");
	/* Frames out of place: GO before the stream ends, a BUILT from the
	 * sender, an unknown OPTIONAL frame (skipped). */
	sc_setup(FR_S_PAGE_WRITE | prep, 8, 17);
	SC(FR_OP_FRAME, 200, 1, 3, 1, 2, 3);
	SC(FR_OP_OTHER, 1);
	SC(FR_OP_GO);
	sc_flush(rdir, "out_of_place");
	/* An HVM guest's device model, both HELLOs offering DEVICE_MODEL
	 * (token byte bit 2): a physmap of two entries and a state of 64
	 * bytes in two chunks; then the same frames unasked (refused). */
	sc_setup(FR_S_PAGE_WRITE | prep, 8, 0x24);
	SC(FR_OP_PAGES, 0, 0, 0x01, 0x33);
	SC(FR_OP_OTHER, 5, 1, 0x10, 0x20, 0x7f, 0x11, 0x21, 0x00);
	SC(FR_OP_OTHER, 6, 3, 0, 1, 0x41);
	SC(FR_OP_OTHER, 6, 3, 2, 1, 0x42);
	sc_commit();
	sc_flush(rdir, "device_model");
	sc_setup(FR_S_PAGE_WRITE | prep, 8, 0x28);
	SC(FR_OP_OTHER, 5, 0, 0x10, 0x20, 0x7f);
	sc_commit();
	sc_flush(rdir, "device_model_unasked");
}

int
main(int argc, char **argv)
{
	static const uint8_t cfg[] = "name=vm1 memory=16M vcpus=2";
	static uint8_t pl[3 * 4096 + 64], data[2 * 4096];
	uint64_t e[3];
	struct msg_hello hs = { .proto_min = 1, .proto_max = 1, .arch = "x86_64", .hv = "sim",
		.hv_version = "1", .page_size = 4096, .mem_total = 1ull << 34,
		.mem_free = 1ull << 33, .host = "host-a" };
	struct msg_hello hr = hs;
	struct msg_prepare pr = { .token = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
		16 }, .name = "vm1", .uuid = { 0x5a, 0x1e }, .nr_pages = NR_PAGES,
		.max_pages = NR_PAGES, .vcpus = 2, .dom_type = DOMTYPE_SIM, .live = 1,
		.cfg = cfg, .cfg_len = sizeof(cfg) - 1 };
	struct msg_reason refuse = { .code = REASON_NAME_CLASH, .text = "domain vm1 exists" };
	struct msg_reason abort_ = { .code = REASON_PROTOCOL, .text = "unexpected frame" };
	struct msg_round_end re = { .round = 0, .pages = 3, .dirty = 1 };
	struct msg_built built = { .domid = 7 };
	struct msg_done done = { .domid = 7 };
	struct msg_query q = { .token = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
		16 } };
	struct msg_query_reply qr = { .token = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
		15, 16 }, .outcome = OUTCOME_COMMITTED, .name = "vm1", .uuid = { 0xde, 0xad, 0xbe,
		0xef } };
	/* A standard VGA's VRAM as QEMU registers it, and a second region. */
	struct msg_dm_physmap pm = { .count = 2, .ents = {
		{ 0xf0000000, 0xf0000000, 0x800000, "vga.vram" },
		{ 0x100000000, 0xf1000000, 0x1000, "0000:00:02.0/qxl.vram" } } };
	int n;

	if (argc != 2 && argc != 3)
		die("usage: gen_seeds FRAME_DIR [RECV_DIR]");
	if (argc == 3)
		recv_seeds(argv[2]);
	dir = argv[1];
	snprintf(hr.host, sizeof(hr.host), "host-b");

	/* One frame of each type. */
	frame("hello", MSG_HELLO, 0, pl, msg_hello_encode(&hs, pl, sizeof(pl)));
	frame("prepare", MSG_PREPARE, 0, pl, msg_prepare_encode(&pr, pl, sizeof(pl)));
	frame("prepare_ok", MSG_PREPARE_OK, 0, pl, 0);
	frame("refuse", MSG_REFUSE, 0, pl, msg_reason_encode(&refuse, pl, sizeof(pl)));
	/* PAGES: one NORMAL page, two ZERO pages. */
	be32_put(pl, 0);
	be32_put(pl + 4, 3);
	be64_put(pl + 8, page_entry(0, PAGE_NORMAL));
	be64_put(pl + 16, page_entry(1, PAGE_ZERO));
	be64_put(pl + 24, page_entry(NR_PAGES - 1, PAGE_ZERO));
	for (n = 0; n < 4096; n++)
		pl[32 + n] = (uint8_t)(n * 7);
	frame("pages", MSG_PAGES, 0, pl, 32 + 4096);
	/* PAGES: ZERO pages only (small). */
	be32_put(pl, 1);
	be32_put(pl + 4, 2);
	be64_put(pl + 8, page_entry(2, PAGE_ZERO));
	be64_put(pl + 16, page_entry(3, PAGE_ZERO));
	frame("pages_zero", MSG_PAGES, 0, pl, 24);
	frame("round_end", MSG_ROUND_END, 0, pl, msg_round_end_encode(&re, pl, sizeof(pl)));
	memset(pl, 0xc7, 64);
	frame("context", MSG_CONTEXT, 0, pl, 64);
	frame("raw", MSG_RAW, 0, pl, 64);
	/* ZPAGES: two NORMAL pages of compressible data and a ZERO page, with
	 * each algorithm; the data decompresses to exactly two pages. */
	for (n = 0; n < (int)sizeof(data); n++)
		data[n] = (uint8_t)(n % 61 < 40 ? 0x5a : n / 97);
	e[0] = page_entry(0, PAGE_NORMAL);
	e[1] = page_entry(1, PAGE_ZERO);
	e[2] = page_entry(NR_PAGES - 1, PAGE_NORMAL);
	frame("zpages_zstd", MSG_ZPAGES, 0, pl, zpages(pl, sizeof(pl), 0, e, 3, ZALGO_ZSTD, data, 2));
	frame("zpages_lz4", MSG_ZPAGES, 0, pl, zpages(pl, sizeof(pl), 1, e, 3, ZALGO_LZ4, data, 2));
	/* ZRAW: a backend stream chunk, compressed with each algorithm. */
	frame("zraw", MSG_ZRAW, 0, pl, zraw(pl, sizeof(pl), ZALGO_LZ4, data, 4096));
	frame("zraw_zstd", MSG_ZRAW, 0, pl, zraw(pl, sizeof(pl), ZALGO_ZSTD, data + 100, 3000));
	frame("stream_end", MSG_STREAM_END, 0, pl, 0);
	frame("built", MSG_BUILT, 0, pl, msg_built_encode(&built, pl, sizeof(pl)));
	frame("go", MSG_GO, 0, pl, 0);
	frame("devices_ready", MSG_DEVICES_READY, 0, pl, 0);
	frame("done", MSG_DONE, 0, pl, msg_done_encode(&done, pl, sizeof(pl)));
	frame("abort", MSG_ABORT, 0, pl, msg_reason_encode(&abort_, pl, sizeof(pl)));
	frame("query", MSG_QUERY, 0, pl, msg_query_encode(&q, pl, sizeof(pl)));
	frame("query_reply", MSG_QUERY_REPLY, 0, pl,
	    msg_query_reply_encode(&qr, pl, sizeof(pl)));
	frame("dm_physmap", MSG_DM_PHYSMAP, 0, pl, msg_dm_physmap_encode(&pm, pl, sizeof(pl)));
	/* DM_STATE: a whole state of 64 bytes in one chunk, and the first
	 * chunk of a larger one. */
	dm_state_head_encode(pl, 64, 0);
	memset(pl + DM_STATE_HEAD_LEN, 0x51, 64);
	frame("dm_state", MSG_DM_STATE, 0, pl, DM_STATE_HEAD_LEN + 64);
	dm_state_head_encode(pl, 1u << 20, 0);
	frame("dm_state_first", MSG_DM_STATE, 0, pl, DM_STATE_HEAD_LEN + 64);
	/* An unknown type flagged OPTIONAL: skipped by the reader. */
	memset(pl, 0x3c, 16);
	frame("optional_unknown", 200, FRAME_F_OPTIONAL, pl, 16);
	stream_len = 0;

	/* What R reads from S in a migration: HELLO, PREPARE, pages of two
	 * rounds (the second after an OPTIONAL frame), CONTEXT, STREAM_END, GO. */
	pr.nr_pages = pr.max_pages = 8;
	frame(NULL, MSG_HELLO, 0, pl, msg_hello_encode(&hs, pl, sizeof(pl)));
	frame(NULL, MSG_PREPARE, 0, pl, msg_prepare_encode(&pr, pl, sizeof(pl)));
	be32_put(pl, 0);
	be32_put(pl + 4, 2);
	be64_put(pl + 8, page_entry(0, PAGE_ZERO));
	be64_put(pl + 16, page_entry(7, PAGE_NORMAL));
	memset(pl + 24, 0xa5, 4096);
	frame(NULL, MSG_PAGES, 0, pl, 24 + 4096);
	frame(NULL, MSG_ROUND_END, 0, pl, msg_round_end_encode(&re, pl, sizeof(pl)));
	memset(pl, 0, 8);
	frame(NULL, 99, FRAME_F_OPTIONAL, pl, 8);
	be32_put(pl, 1);
	be32_put(pl + 4, 1);
	be64_put(pl + 8, page_entry(5, PAGE_ZERO));
	frame(NULL, MSG_PAGES, 0, pl, 16);
	memset(pl, 0x11, 32);
	frame(NULL, MSG_CONTEXT, 0, pl, 32);
	frame(NULL, MSG_STREAM_END, 0, pl, 0);
	frame(NULL, MSG_GO, 0, pl, 0);
	stream_flush("stream_receiver");

	/* The same with --compress: round 0 as ZPAGES, the backend's stream
	 * as ZRAW, then CONTEXT, STREAM_END, GO. */
	frame(NULL, MSG_HELLO, 0, pl, msg_hello_encode(&hs, pl, sizeof(pl)));
	frame(NULL, MSG_PREPARE, 0, pl, msg_prepare_encode(&pr, pl, sizeof(pl)));
	e[0] = page_entry(0, PAGE_ZERO);
	e[1] = page_entry(3, PAGE_NORMAL);
	e[2] = page_entry(7, PAGE_NORMAL);
	frame(NULL, MSG_ZPAGES, 0, pl, zpages(pl, sizeof(pl), 0, e, 3, ZALGO_ZSTD, data, 2));
	frame(NULL, MSG_ROUND_END, 0, pl, msg_round_end_encode(&re, pl, sizeof(pl)));
	frame(NULL, MSG_ZRAW, 0, pl, zraw(pl, sizeof(pl), ZALGO_LZ4, data, 2048));
	memset(pl, 0x11, 32);
	frame(NULL, MSG_CONTEXT, 0, pl, 32);
	frame(NULL, MSG_STREAM_END, 0, pl, 0);
	frame(NULL, MSG_GO, 0, pl, 0);
	stream_flush("stream_receiver_compressed");

	/* An HVM guest's end of the stream with DEVICE_MODEL: RAW, then the
	 * physmap and the device state in three chunks, STREAM_END, GO. */
	hs.features = HELLO_F_DEVICE_MODEL;
	frame(NULL, MSG_HELLO, 0, pl, msg_hello_encode(&hs, pl, sizeof(pl)));
	hs.features = 0;
	pr.dom_type = DOMTYPE_HVM;
	frame(NULL, MSG_PREPARE, 0, pl, msg_prepare_encode(&pr, pl, sizeof(pl)));
	pr.dom_type = DOMTYPE_SIM;
	memset(pl, 0x42, 64);
	frame(NULL, MSG_RAW, 0, pl, 64);
	frame(NULL, MSG_DM_PHYSMAP, 0, pl, msg_dm_physmap_encode(&pm, pl, sizeof(pl)));
	for (n = 0; n < 300; n += 100) {
		dm_state_head_encode(pl, 300, (uint32_t)n);
		memset(pl + DM_STATE_HEAD_LEN, 0x60 + n / 100, 100);
		frame(NULL, MSG_DM_STATE, 0, pl, DM_STATE_HEAD_LEN + 100);
	}
	frame(NULL, MSG_STREAM_END, 0, pl, 0);
	frame(NULL, MSG_GO, 0, pl, 0);
	stream_flush("stream_receiver_device_model");

	/* What S reads from R: HELLO, PREPARE_OK, BUILT, DONE. */
	frame(NULL, MSG_HELLO, 0, pl, msg_hello_encode(&hr, pl, sizeof(pl)));
	frame(NULL, MSG_PREPARE_OK, 0, pl, 0);
	frame(NULL, MSG_BUILT, 0, pl, msg_built_encode(&built, pl, sizeof(pl)));
	frame(NULL, MSG_DONE, 0, pl, msg_done_encode(&done, pl, sizeof(pl)));
	stream_flush("stream_sender");

	/* The QUERY connection, both directions. */
	frame(NULL, MSG_HELLO, 0, pl, msg_hello_encode(&hs, pl, sizeof(pl)));
	frame(NULL, MSG_QUERY, 0, pl, msg_query_encode(&q, pl, sizeof(pl)));
	frame(NULL, MSG_HELLO, 0, pl, msg_hello_encode(&hr, pl, sizeof(pl)));
	frame(NULL, MSG_QUERY_REPLY, 0, pl, msg_query_reply_encode(&qr, pl, sizeof(pl)));
	stream_flush("stream_query");
	return 0;
}
