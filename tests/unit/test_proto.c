/* test_proto.c - protocol v1 frames: round trips, maxima, hostile input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto.h"
#include "util.h"
#include "xbuf.h"
#include "xerr.h"

/* ---- helpers ---- */

/* A heap copy of exactly n bytes (plus `extra` bytes of junk), so that ASan
 * sees any read past what the decoder was given. */
static uint8_t *
exact_copy(const void *p, size_t n, size_t extra)
{
	uint8_t *q = malloc(n + extra ? n + extra : 1);

	assert_non_null(q);
	if (n)
		memcpy(q, p, n);
	memset(q + n, 0x5a, extra);
	return q;
}

static const uint8_t cfg_sample[] = { 'c', 'f', 'g', 0, 1, 2, 0xff };

static void
mk_hello(struct msg_hello *h)
{
	memset(h, 0, sizeof(*h));
	h->proto_min = 1;
	h->proto_max = 1;
	strcpy(h->arch, "x86_64");
	strcpy(h->hv, "sim");
	strcpy(h->hv_version, "4.17.2");
	h->page_size = 4096;
	h->mem_total = 64ull << 30;
	h->mem_free = 17ull << 30;
	h->features = 0;
	strcpy(h->host, "dom0-a.example.org");
}

static void
mk_prepare(struct msg_prepare *m)
{
	unsigned i;

	memset(m, 0, sizeof(*m));
	for (i = 0; i < 16; i++) {
		m->token[i] = (uint8_t)(0xa0 + i);
		m->uuid[i] = (uint8_t)(0x10 * i + 1);
	}
	strcpy(m->name, "web-01.prod_eu");
	m->nr_pages = 262144;
	m->max_pages = 524288;
	m->vcpus = 4;
	m->dom_type = DOMTYPE_PVH;
	m->live = 1;
	m->cfg = cfg_sample;
	m->cfg_len = sizeof(cfg_sample);
}

/* Unchecked encoders, to produce what a hostile peer could send. */
static size_t
raw_hello(const struct msg_hello *m, uint8_t *buf, size_t cap)
{
	struct xbuf b;

	xbuf_writer(&b, buf, cap);
	xbuf_put_u16(&b, m->proto_min);
	xbuf_put_u16(&b, m->proto_max);
	xbuf_put_str(&b, m->arch);
	xbuf_put_str(&b, m->hv);
	xbuf_put_str(&b, m->hv_version);
	xbuf_put_u32(&b, m->page_size);
	xbuf_put_u64(&b, m->mem_total);
	xbuf_put_u64(&b, m->mem_free);
	xbuf_put_u32(&b, m->features);
	xbuf_put_str(&b, m->host);
	assert_int_equal(b.err, 0);
	return b.len;
}

static size_t
raw_prepare_named(const struct msg_prepare *m, const char *name, uint8_t *buf, size_t cap)
{
	struct xbuf b;

	xbuf_writer(&b, buf, cap);
	xbuf_put_bytes(&b, m->token, 16);
	xbuf_put_str(&b, name);
	xbuf_put_bytes(&b, m->uuid, 16);
	xbuf_put_u64(&b, m->nr_pages);
	xbuf_put_u64(&b, m->max_pages);
	xbuf_put_u32(&b, m->vcpus);
	xbuf_put_u8(&b, m->dom_type);
	xbuf_put_u8(&b, m->live);
	xbuf_put_blob(&b, m->cfg, m->cfg_len);
	assert_int_equal(b.err, 0);
	return b.len;
}

static size_t
raw_prepare(const struct msg_prepare *m, uint8_t *buf, size_t cap)
{
	return raw_prepare_named(m, m->name, buf, cap);
}

static int
dec_prepare_copy(const uint8_t *p, size_t n)
{
	struct msg_prepare m;
	uint8_t *q = exact_copy(p, n, 0);
	int r = msg_prepare_decode(q, n, &m);

	free(q);
	return r;
}

static int
dec_hello_copy(const uint8_t *p, size_t n)
{
	struct msg_hello m;
	uint8_t *q = exact_copy(p, n, 0);
	int r = msg_hello_decode(q, n, &m);

	free(q);
	return r;
}

/* Decoder wrappers with one signature, for the table-driven tests. */
static int dec_hello(const uint8_t *p, size_t n)
{ struct msg_hello m; return msg_hello_decode(p, n, &m); }
static int dec_prepare(const uint8_t *p, size_t n)
{ struct msg_prepare m; return msg_prepare_decode(p, n, &m); }
static int dec_reason(const uint8_t *p, size_t n)
{ struct msg_reason m; return msg_reason_decode(p, n, &m); }
static int dec_round_end(const uint8_t *p, size_t n)
{ struct msg_round_end m; return msg_round_end_decode(p, n, &m); }
static int dec_built(const uint8_t *p, size_t n)
{ struct msg_built m; return msg_built_decode(p, n, &m); }
static int dec_done(const uint8_t *p, size_t n)
{ struct msg_done m; return msg_done_decode(p, n, &m); }
static int dec_query(const uint8_t *p, size_t n)
{ struct msg_query m; return msg_query_decode(p, n, &m); }
static int dec_query_reply(const uint8_t *p, size_t n)
{ struct msg_query_reply m; return msg_query_reply_decode(p, n, &m); }
static int dec_dm_physmap(const uint8_t *p, size_t n)
{ struct msg_dm_physmap m; return msg_dm_physmap_decode(p, n, &m); }

/* Two entries as QEMU registers them for a standard VGA: its VRAM where
 * it was allocated and where the guest's BAR maps it, and a second. */
static void
mk_physmap(struct msg_dm_physmap *m)
{
	memset(m, 0, sizeof(*m));
	m->count = 2;
	m->ents[0].phys_offset = 0xf0000000;
	m->ents[0].start_addr = 0xf0000000;
	m->ents[0].size = 0x800000;
	strcpy(m->ents[0].name, "vga.vram");
	m->ents[1].phys_offset = 0x100000000;
	m->ents[1].start_addr = 0xf1000000;
	m->ents[1].size = 0x1000;
	strcpy(m->ents[1].name, "0000:00:02.0/qxl.vram");
}

struct sample {
	const char *name;
	uint8_t type;
	int (*dec)(const uint8_t *, size_t);
	uint8_t buf[1024];
	size_t len;
};

#define NSAMPLES 11

static void
build_samples(struct sample *s)
{
	struct msg_hello h;
	struct msg_prepare p;
	struct msg_reason re = { .code = REASON_NAME_CLASH, .text = "domain web-01 exists" };
	struct msg_reason empty = { .code = REASON_OTHER, .text = "" };
	struct msg_round_end rd = { .round = 3, .pages = 1000, .dirty = 17 };
	struct msg_built b = { .domid = 42 };
	struct msg_done d = { .domid = 42 };
	struct msg_query q = { .token = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 } };
	struct msg_query_reply qr = { .token = { 9, 9, 9 }, .outcome = OUTCOME_COMMITTED };
	struct msg_dm_physmap pm;
	int n, i = 0;

	mk_hello(&h);
	mk_prepare(&p);
	mk_physmap(&pm);
#define ADD(nm, t, d, call) do { \
		s[i].name = nm; s[i].type = t; s[i].dec = d; \
		n = call; assert_true(n > 0); s[i].len = (size_t)n; i++; \
	} while (0)
	ADD("HELLO", MSG_HELLO, dec_hello, msg_hello_encode(&h, s[i].buf, sizeof(s[i].buf)));
	ADD("PREPARE", MSG_PREPARE, dec_prepare,
	    msg_prepare_encode(&p, s[i].buf, sizeof(s[i].buf)));
	ADD("REFUSE", MSG_REFUSE, dec_reason, msg_reason_encode(&re, s[i].buf, sizeof(s[i].buf)));
	ADD("ABORT(empty text)", MSG_ABORT, dec_reason,
	    msg_reason_encode(&empty, s[i].buf, sizeof(s[i].buf)));
	ADD("ROUND_END", MSG_ROUND_END, dec_round_end,
	    msg_round_end_encode(&rd, s[i].buf, sizeof(s[i].buf)));
	ADD("BUILT", MSG_BUILT, dec_built, msg_built_encode(&b, s[i].buf, sizeof(s[i].buf)));
	ADD("DONE", MSG_DONE, dec_done, msg_done_encode(&d, s[i].buf, sizeof(s[i].buf)));
	ADD("QUERY", MSG_QUERY, dec_query, msg_query_encode(&q, s[i].buf, sizeof(s[i].buf)));
	ADD("QUERY_REPLY", MSG_QUERY_REPLY, dec_query_reply,
	    msg_query_reply_encode(&qr, s[i].buf, sizeof(s[i].buf)));
	p.cfg = NULL;
	p.cfg_len = 0;
	ADD("PREPARE(no cfg)", MSG_PREPARE, dec_prepare,
	    msg_prepare_encode(&p, s[i].buf, sizeof(s[i].buf)));
	ADD("DM_PHYSMAP", MSG_DM_PHYSMAP, dec_dm_physmap,
	    msg_dm_physmap_encode(&pm, s[i].buf, sizeof(s[i].buf)));
#undef ADD
	assert_int_equal(i, NSAMPLES);
}

/* ---- round trips ---- */

/* ZRAW's head: what encode writes decodes; a head that lies about the
 * algorithm, padding or size, or a compressed part that is empty or not
 * shorter than the chunk it stands for, is refused and leaves nothing. */
static void
test_zraw_head_round_trip_and_refusals(void **state)
{
	uint8_t h[ZRAW_HEAD_LEN], bad[ZRAW_HEAD_LEN], algo = 9;
	uint32_t raw = 9;

	(void)state;
	zraw_head_encode(h, ZALGO_LZ4, 1u << 20);
	assert_int_equal(zraw_head_decode(h, ZRAW_HEAD_LEN + 1000, &algo, &raw), 0);
	assert_int_equal(algo, ZALGO_LZ4);
	assert_int_equal(raw, 1u << 20);
	zraw_head_encode(h, ZALGO_ZSTD, PROTO_RAW_MAX);
	assert_int_equal(zraw_head_decode(h, ZRAW_HEAD_LEN + PROTO_RAW_MAX - 1, &algo, &raw), 0);
	/* the compressed part as long as the chunk: it did not shrink */
	assert_int_equal(zraw_head_decode(h, ZRAW_HEAD_LEN + PROTO_RAW_MAX, &algo, &raw),
	    XMIG_ERR_INVALID);
	assert_true(algo == 0 && raw == 0);
	assert_int_equal(zraw_head_decode(h, ZRAW_HEAD_LEN + PROTO_RAW_MAX + 1, &algo, &raw),
	    XMIG_ERR_TOO_LONG);
	assert_int_equal(zraw_head_decode(h, ZRAW_HEAD_LEN, &algo, &raw), XMIG_ERR_TRUNCATED);
	zraw_head_encode(bad, 3, 4096);			/* no such algorithm */
	assert_int_equal(zraw_head_decode(bad, ZRAW_HEAD_LEN + 10, &algo, &raw), XMIG_ERR_INVALID);
	zraw_head_encode(bad, ZALGO_LZ4, 4096);
	bad[2] = 1;					/* padding */
	assert_int_equal(zraw_head_decode(bad, ZRAW_HEAD_LEN + 10, &algo, &raw), XMIG_ERR_INVALID);
	zraw_head_encode(bad, ZALGO_LZ4, 0);		/* an empty chunk */
	assert_int_equal(zraw_head_decode(bad, ZRAW_HEAD_LEN + 10, &algo, &raw), XMIG_ERR_INVALID);
	zraw_head_encode(bad, ZALGO_LZ4, PROTO_RAW_MAX + 1);	/* a chunk too big */
	assert_int_equal(zraw_head_decode(bad, ZRAW_HEAD_LEN + 10, &algo, &raw), XMIG_ERR_INVALID);
	assert_true(algo == 0 && raw == 0);
	/* the frame header allows exactly a full compressed part */
	assert_int_equal(proto_max_len(MSG_ZRAW), ZRAW_HEAD_LEN + PROTO_RAW_MAX);
	assert_string_equal(proto_type_str(MSG_ZRAW), "ZRAW");
}

static void
test_hello_round_trip(void **state)
{
	struct msg_hello in, out;
	uint8_t buf[1024];
	int n;

	mk_hello(&in);
	in.proto_max = 3;
	in.features = 0x80000001u;
	n = msg_hello_encode(&in, buf, sizeof(buf));
	assert_true(n > 0);
	assert_true((uint32_t)n <= proto_max_len(MSG_HELLO));
	assert_int_equal(msg_hello_decode(buf, (size_t)n, &out), 0);
	assert_int_equal(out.proto_min, 1);
	assert_int_equal(out.proto_max, 3);
	assert_string_equal(out.arch, in.arch);
	assert_string_equal(out.hv, in.hv);
	assert_string_equal(out.hv_version, in.hv_version);
	assert_int_equal(out.page_size, 4096);
	assert_true(out.mem_total == in.mem_total);
	assert_true(out.mem_free == in.mem_free);
	assert_int_equal(out.features, 0x80000001u);
	assert_string_equal(out.host, in.host);
}

static void
test_hello_largest_is_exactly_the_type_maximum(void **state)
{
	struct msg_hello in, out;
	uint8_t buf[2048];
	int n;

	mk_hello(&in);
	memset(in.arch, 'a', sizeof(in.arch) - 1);
	memset(in.hv, 'h', sizeof(in.hv) - 1);
	memset(in.hv_version, 'v', sizeof(in.hv_version) - 1);
	memset(in.host, 'n', sizeof(in.host) - 1);
	n = msg_hello_encode(&in, buf, sizeof(buf));
	assert_int_equal(n, (int)proto_max_len(MSG_HELLO));
	assert_int_equal(msg_hello_decode(buf, (size_t)n, &out), 0);
	assert_memory_equal(&in, &out, sizeof(in));
}

static void
test_prepare_round_trip(void **state)
{
	struct msg_prepare in, out;
	uint8_t buf[1024];
	int n;

	mk_prepare(&in);
	n = msg_prepare_encode(&in, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(msg_prepare_decode(buf, (size_t)n, &out), 0);
	assert_memory_equal(out.token, in.token, 16);
	assert_string_equal(out.name, in.name);
	assert_memory_equal(out.uuid, in.uuid, 16);
	assert_true(out.nr_pages == in.nr_pages);
	assert_true(out.max_pages == in.max_pages);
	assert_int_equal(out.vcpus, 4);
	assert_int_equal(out.dom_type, DOMTYPE_PVH);
	assert_int_equal(out.live, 1);
	assert_int_equal(out.cfg_len, sizeof(cfg_sample));
	/* The blob points into the payload, not at the sender's memory. */
	assert_true(out.cfg >= buf && out.cfg + out.cfg_len == buf + n);
	assert_memory_equal(out.cfg, cfg_sample, sizeof(cfg_sample));
}

static void
test_prepare_largest_is_exactly_the_type_maximum(void **state)
{
	struct msg_prepare in, out;
	uint8_t *cfg = malloc(PROTO_CFG_MAX), *buf = malloc(PROTO_CFG_MAX + 4096);
	int n;

	assert_non_null(cfg);
	assert_non_null(buf);
	memset(cfg, 0x77, PROTO_CFG_MAX);
	mk_prepare(&in);
	memset(in.name, 'x', sizeof(in.name) - 1);
	in.name[sizeof(in.name) - 1] = '\0';
	in.cfg = cfg;
	in.cfg_len = PROTO_CFG_MAX;
	n = msg_prepare_encode(&in, buf, PROTO_CFG_MAX + 4096);
	assert_int_equal(n, (int)proto_max_len(MSG_PREPARE));
	assert_int_equal(msg_prepare_decode(buf, (size_t)n, &out), 0);
	assert_int_equal(strlen(out.name), PROTO_NAME_MAX - 1);
	assert_int_equal(out.cfg_len, PROTO_CFG_MAX);
	/* One byte short of room: the encoder refuses, it never overflows. */
	assert_int_equal(msg_prepare_encode(&in, buf, (size_t)n - 1), XMIG_ERR_TOO_LONG);
	free(cfg);
	free(buf);
}

static void
test_prepare_all_dom_types_round_trip(void **state)
{
	struct msg_prepare in, out;
	uint8_t buf[1024];
	unsigned t, live;
	int n;

	mk_prepare(&in);
	for (t = DOMTYPE_SIM; t <= DOMTYPE_HVM; t++)
		for (live = 0; live <= 1; live++) {
			in.dom_type = (uint8_t)t;
			in.live = (uint8_t)live;
			n = msg_prepare_encode(&in, buf, sizeof(buf));
			assert_true(n > 0);
			assert_int_equal(msg_prepare_decode(buf, (size_t)n, &out), 0);
			assert_int_equal(out.dom_type, t);
			assert_int_equal(out.live, live);
		}
}

static void
test_reason_round_trip_including_empty_and_longest_text(void **state)
{
	struct msg_reason in, out;
	uint8_t buf[1024];
	int n;

	memset(&in, 0, sizeof(in));
	in.code = REASON_NO_MEMORY;
	strcpy(in.text, "need 4096 MiB, 1024 MiB free");
	n = msg_reason_encode(&in, buf, sizeof(buf));
	assert_int_equal(n, 2 + 2 + (int)strlen(in.text));
	assert_int_equal(msg_reason_decode(buf, (size_t)n, &out), 0);
	assert_int_equal(out.code, REASON_NO_MEMORY);
	assert_string_equal(out.text, in.text);

	in.text[0] = '\0';
	n = msg_reason_encode(&in, buf, sizeof(buf));
	assert_int_equal(n, 4);
	assert_int_equal(msg_reason_decode(buf, (size_t)n, &out), 0);
	assert_string_equal(out.text, "");

	memset(in.text, 't', sizeof(in.text) - 1);
	in.text[sizeof(in.text) - 1] = '\0';
	n = msg_reason_encode(&in, buf, sizeof(buf));
	assert_int_equal(n, 2 + 2 + PROTO_REASON_MAX - 1);
	assert_true((uint32_t)n <= proto_max_len(MSG_REFUSE));
	assert_true((uint32_t)n <= proto_max_len(MSG_ABORT));
	assert_int_equal(msg_reason_decode(buf, (size_t)n, &out), 0);
	assert_string_equal(out.text, in.text);
}

static void
test_round_end_round_trip(void **state)
{
	struct msg_round_end in = { .round = 0xfffffffeu, .pages = 1ull << 40, .dirty = ~0ull }, out;
	uint8_t buf[64];
	int n = msg_round_end_encode(&in, buf, sizeof(buf));

	assert_int_equal(n, (int)proto_max_len(MSG_ROUND_END));
	assert_int_equal(msg_round_end_decode(buf, (size_t)n, &out), 0);
	assert_int_equal(out.round, in.round);
	assert_true(out.pages == in.pages);
	assert_true(out.dirty == in.dirty);
}

static void
test_built_and_done_round_trip(void **state)
{
	struct msg_built b = { .domid = 0x7ff0 }, bo;
	struct msg_done d = { .domid = 0xffffffffu }, dd;
	uint8_t buf[8];
	int n;

	n = msg_built_encode(&b, buf, sizeof(buf));
	assert_int_equal(n, (int)proto_max_len(MSG_BUILT));
	assert_int_equal(msg_built_decode(buf, (size_t)n, &bo), 0);
	assert_int_equal(bo.domid, 0x7ff0);
	/* DONE as every receiver sends it: the domid alone */
	n = msg_done_encode(&d, buf, sizeof(buf));
	assert_int_equal(n, 4);
	assert_int_equal(msg_done_decode(buf, (size_t)n, &dd), 0);
	assert_int_equal(dd.domid, 0xffffffffu);
	assert_false(dd.has_unpause);
	/* ... and with the unpause time, to a sender that asked for it */
	d.has_unpause = true;
	d.unpause_us = 0x01020304u;
	n = msg_done_encode(&d, buf, sizeof(buf));
	assert_int_equal(n, (int)proto_max_len(MSG_DONE));
	assert_int_equal(msg_done_decode(buf, (size_t)n, &dd), 0);
	assert_int_equal(dd.domid, 0xffffffffu);
	assert_true(dd.has_unpause);
	assert_int_equal(dd.unpause_us, 0x01020304u);
	/* any other length is refused, and leaves nothing behind */
	assert_int_not_equal(msg_done_decode(buf, 6, &dd), 0);
	assert_int_equal(dd.domid, 0);
	assert_false(dd.has_unpause);
	assert_int_not_equal(msg_done_decode(buf, 3, &dd), 0);
	assert_int_equal(msg_done_encode(&d, buf, 7), XMIG_ERR_TOO_LONG);
	assert_int_equal(msg_built_encode(&b, buf, 3), XMIG_ERR_TOO_LONG);
}

static void
test_query_and_reply_round_trip_every_outcome(void **state)
{
	struct msg_query q, qo;
	struct msg_query_reply r, ro;
	uint8_t buf[128];
	unsigned i;
	int n;

	for (i = 0; i < 16; i++)
		q.token[i] = (uint8_t)(255 - i);
	n = msg_query_encode(&q, buf, sizeof(buf));
	assert_int_equal(n, (int)proto_max_len(MSG_QUERY));
	assert_int_equal(msg_query_decode(buf, (size_t)n, &qo), 0);
	assert_memory_equal(qo.token, q.token, 16);

	memset(&r, 0, sizeof(r));
	memcpy(r.token, q.token, 16);
	strcpy(r.name, "web-01.example");
	for (i = 0; i < 16; i++)
		r.uuid[i] = (uint8_t)(i * 7 + 1);
	for (i = OUTCOME_UNKNOWN; i <= OUTCOME_ABORTED; i++) {
		r.outcome = (uint8_t)i;
		n = msg_query_reply_encode(&r, buf, sizeof(buf));
		assert_int_equal(n, 16 + 1 + 2 + (int)strlen(r.name) + 16);
		assert_true(n <= (int)proto_max_len(MSG_QUERY_REPLY));
		assert_int_equal(msg_query_reply_decode(buf, (size_t)n, &ro), 0);
		assert_memory_equal(ro.token, q.token, 16);
		assert_int_equal(ro.outcome, i);
		assert_string_equal(ro.name, r.name);
		assert_memory_equal(ro.uuid, r.uuid, 16);
	}
}

/* The reply names a domain the sender compares with its own: a name that
 * is no domain name, or a reply without name and uuid (the format before
 * they were added), is refused rather than read as "no name". */
static void
test_query_reply_refuses_bad_name_and_short_format(void **state)
{
	struct msg_query_reply r, ro;
	uint8_t buf[128];
	int n;

	memset(&r, 0, sizeof(r));
	r.outcome = OUTCOME_COMMITTED;
	strcpy(r.name, "vm1");
	n = msg_query_reply_encode(&r, buf, sizeof(buf));
	assert_true(n > 0);
	buf[16 + 1 + 2] = '-';	/* "-m1": reads as an option */
	assert_int_equal(msg_query_reply_decode(buf, (size_t)n, &ro), XMIG_ERR_INVALID);
	buf[16 + 1 + 2] = 0xff;
	assert_int_equal(msg_query_reply_decode(buf, (size_t)n, &ro), XMIG_ERR_INVALID);
	assert_int_equal(ro.name[0], '\0');
	assert_int_not_equal(msg_query_reply_decode(buf, 17, &ro), 0);
	assert_int_not_equal(msg_query_reply_decode(buf, (size_t)n - 1, &ro), 0);
}

static void
test_empty_payloads(void **state)
{
	uint8_t one = 0;

	assert_int_equal(msg_empty_decode(NULL, 0), 0);
	assert_int_equal(msg_empty_decode(&one, 0), 0);
	assert_int_equal(msg_empty_decode(&one, 1), XMIG_ERR_TRAILING);
	assert_int_equal(proto_max_len(MSG_PREPARE_OK), 0);
	assert_int_equal(proto_max_len(MSG_STREAM_END), 0);
	assert_int_equal(proto_max_len(MSG_GO), 0);
}

/* ---- every decoder, generic hostile input ---- */

static void
test_every_decoder_rejects_truncation_at_every_length(void **state)
{
	struct sample *s = calloc(NSAMPLES, sizeof(*s));
	unsigned i;
	size_t l;

	assert_non_null(s);
	build_samples(s);
	for (i = 0; i < NSAMPLES; i++) {
		uint8_t *full = exact_copy(s[i].buf, s[i].len, 0);

		assert_int_equal(s[i].dec(full, s[i].len), 0);
		free(full);
		for (l = 0; l < s[i].len; l++) {
			uint8_t *p = exact_copy(s[i].buf, l, 0);
			int r = s[i].dec(p, l);

			if (r != XMIG_ERR_TRUNCATED)
				fail_msg("%s cut to %zu/%zu bytes: %d", s[i].name, l, s[i].len, r);
			free(p);
		}
	}
	free(s);
}

static void
test_every_decoder_rejects_trailing_bytes(void **state)
{
	struct sample *s = calloc(NSAMPLES, sizeof(*s));
	static const size_t extra[] = { 1, 2, 7, 4096 };
	unsigned i, k;

	assert_non_null(s);
	build_samples(s);
	for (i = 0; i < NSAMPLES; i++)
		for (k = 0; k < sizeof(extra) / sizeof(extra[0]); k++) {
			uint8_t *p = exact_copy(s[i].buf, s[i].len, extra[k]);
			int r = s[i].dec(p, s[i].len + extra[k]);

			if (r != XMIG_ERR_TRAILING)
				fail_msg("%s + %zu bytes: %d", s[i].name, extra[k], r);
			free(p);
		}
	free(s);
}

static void
test_every_encoder_refuses_a_short_buffer(void **state)
{
	struct sample *s = calloc(NSAMPLES, sizeof(*s));
	struct msg_hello h;
	struct msg_prepare p;
	struct msg_reason re = { .code = 1, .text = "x" };
	struct msg_round_end rd = { 0 };
	struct msg_query q = { { 0 } };
	struct msg_query_reply qr = { .outcome = 0 };
	struct msg_dm_physmap pm;
	uint8_t buf[1024];

	mk_physmap(&pm);
	mk_hello(&h);
	mk_prepare(&p);
	assert_non_null(s);
	build_samples(s);
	assert_int_equal(msg_hello_encode(&h, buf, s[0].len - 1), XMIG_ERR_TOO_LONG);
	assert_int_equal(msg_prepare_encode(&p, buf, s[1].len - 1), XMIG_ERR_TOO_LONG);
	assert_int_equal(msg_reason_encode(&re, buf, 4), XMIG_ERR_TOO_LONG);
	assert_int_equal(msg_round_end_encode(&rd, buf, 19), XMIG_ERR_TOO_LONG);
	assert_int_equal(msg_query_encode(&q, buf, 15), XMIG_ERR_TOO_LONG);
	assert_int_equal(msg_query_reply_encode(&qr, buf, 16), XMIG_ERR_TOO_LONG);
	assert_int_equal(msg_hello_encode(&h, NULL, 0), XMIG_ERR_TOO_LONG);
	assert_int_equal(msg_dm_physmap_encode(&pm, buf, s[10].len - 1), XMIG_ERR_TOO_LONG);
	free(s);
}

/* ---- HELLO, hostile ---- */

static void
test_hello_rejects_huge_string_length(void **state)
{
	struct msg_hello h;
	uint8_t buf[1024];
	size_t n;

	mk_hello(&h);
	n = raw_hello(&h, buf, sizeof(buf));
	be16_put(buf + 4, 0xffff);	/* arch length */
	assert_int_equal(dec_hello_copy(buf, n), XMIG_ERR_TOO_LONG);
	be16_put(buf + 4, 32);		/* one more than arch[32] can hold */
	assert_int_equal(dec_hello_copy(buf, n), XMIG_ERR_TOO_LONG);
}

static void
test_hello_rejects_embedded_nul(void **state)
{
	struct msg_hello h, out;
	uint8_t buf[1024];
	size_t n;

	mk_hello(&h);
	n = raw_hello(&h, buf, sizeof(buf));
	buf[4 + 2 + 3] = 0;		/* "x86\0_64" */
	assert_int_equal(dec_hello_copy(buf, n), XMIG_ERR_INVALID);
	n = raw_hello(&h, buf, sizeof(buf));
	buf[n - 1] = 0;			/* last byte of host */
	assert_int_equal(msg_hello_decode(buf, n, &out), XMIG_ERR_INVALID);
	/* A failed decode leaves nothing half-filled behind. */
	assert_string_equal(out.arch, "");
}

static void
test_hello_rejects_bad_version_range(void **state)
{
	struct msg_hello h;
	uint8_t buf[1024];

	mk_hello(&h);
	h.proto_min = 2;
	h.proto_max = 1;
	assert_int_equal(dec_hello_copy(buf, raw_hello(&h, buf, sizeof(buf))), XMIG_ERR_INVALID);
	assert_int_equal(msg_hello_encode(&h, buf, sizeof(buf)), XMIG_ERR_INVALID);
	h.proto_min = 0;
	h.proto_max = 0;
	assert_int_equal(dec_hello_copy(buf, raw_hello(&h, buf, sizeof(buf))), XMIG_ERR_INVALID);
	h.proto_min = 1;
	h.proto_max = 0xffff;	/* a wide range is fine; overlap is the engine's check */
	assert_int_equal(dec_hello_copy(buf, raw_hello(&h, buf, sizeof(buf))), 0);
}

static void
test_hello_rejects_bad_page_size(void **state)
{
	static const uint32_t bad[] = { 0, 1, 2048, 4095, 4097, 6144, 2u << 20, 0x80000000u,
		0xffffffffu };
	static const uint32_t good[] = { 4096, 8192, 65536, 1u << 20 };
	struct msg_hello h;
	uint8_t buf[1024];
	unsigned i;

	mk_hello(&h);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		h.page_size = bad[i];
		assert_int_equal(dec_hello_copy(buf, raw_hello(&h, buf, sizeof(buf))),
		    XMIG_ERR_INVALID);
		assert_int_equal(msg_hello_encode(&h, buf, sizeof(buf)), XMIG_ERR_INVALID);
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		h.page_size = good[i];
		assert_int_equal(dec_hello_copy(buf, raw_hello(&h, buf, sizeof(buf))), 0);
	}
}

static void
test_hello_rejects_empty_arch_hv_host(void **state)
{
	struct msg_hello h;
	uint8_t buf[1024];

	mk_hello(&h);
	h.arch[0] = '\0';
	assert_int_equal(dec_hello_copy(buf, raw_hello(&h, buf, sizeof(buf))), XMIG_ERR_INVALID);
	mk_hello(&h);
	h.hv[0] = '\0';
	assert_int_equal(dec_hello_copy(buf, raw_hello(&h, buf, sizeof(buf))), XMIG_ERR_INVALID);
	mk_hello(&h);
	h.host[0] = '\0';
	assert_int_equal(dec_hello_copy(buf, raw_hello(&h, buf, sizeof(buf))), XMIG_ERR_INVALID);
	assert_int_equal(msg_hello_encode(&h, buf, sizeof(buf)), XMIG_ERR_INVALID);
	mk_hello(&h);
	h.hv_version[0] = '\0';	/* optional */
	assert_int_equal(dec_hello_copy(buf, raw_hello(&h, buf, sizeof(buf))), 0);
}

static void
test_hello_encode_refuses_unterminated_strings(void **state)
{
	struct msg_hello h;
	uint8_t buf[2048];

	mk_hello(&h);
	memset(h.host, 'n', sizeof(h.host));
	assert_int_equal(msg_hello_encode(&h, buf, sizeof(buf)), XMIG_ERR_TOO_LONG);
	mk_hello(&h);
	memset(h.hv, 'h', sizeof(h.hv));
	assert_int_equal(msg_hello_encode(&h, buf, sizeof(buf)), XMIG_ERR_TOO_LONG);
}

/* ---- PREPARE, hostile ---- */

static void
test_prepare_rejects_bad_names(void **state)
{
	static const char *const bad[] = { "", "../x", "..", ".", "a/b", "/etc/passwd", "-rf",
		"a b", "a\tb", "a\nb", "a:b", "a\\b", "web;reboot", "caf\xc3\xa9", "a*", "$x",
		"\x7f", "vm\xff", "\xc2\x9b" "31m", "vm\xed\xa0\x80" };
	static const char *const good[] = { "a", "web-01", "A.b_c-9", "...", ".hidden",
		"x--incoming", "0" };
	struct msg_prepare m, out;
	uint8_t buf[1024];
	unsigned i;

	mk_prepare(&m);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = dec_prepare_copy(buf, raw_prepare_named(&m, bad[i], buf, sizeof(buf)));

		if (r != XMIG_ERR_INVALID)
			fail_msg("name \"%s\" accepted or wrong error: %d", bad[i], r);
		strcpy(m.name, bad[i]);
		assert_int_equal(msg_prepare_encode(&m, buf, sizeof(buf)), XMIG_ERR_INVALID);
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		size_t n = raw_prepare_named(&m, good[i], buf, sizeof(buf));

		assert_int_equal(msg_prepare_decode(buf, n, &out), 0);
		assert_string_equal(out.name, good[i]);
	}
}

static void
test_prepare_rejects_name_too_long_or_with_nul(void **state)
{
	struct msg_prepare m;
	char name[PROTO_NAME_MAX + 1];
	uint8_t buf[1024];
	size_t n;

	mk_prepare(&m);
	memset(name, 'n', sizeof(name));
	name[PROTO_NAME_MAX] = '\0';	/* 64 characters: no room for the NUL */
	assert_int_equal(dec_prepare_copy(buf, raw_prepare_named(&m, name, buf, sizeof(buf))),
	    XMIG_ERR_TOO_LONG);
	name[PROTO_NAME_MAX - 1] = '\0';	/* 63: fits */
	assert_int_equal(dec_prepare_copy(buf, raw_prepare_named(&m, name, buf, sizeof(buf))), 0);

	n = raw_prepare_named(&m, "ab", buf, sizeof(buf));
	buf[16 + 2 + 1] = 0;		/* "a\0" */
	assert_int_equal(dec_prepare_copy(buf, n), XMIG_ERR_INVALID);
	be16_put(buf + 16, 0xffff);	/* name length */
	assert_int_equal(dec_prepare_copy(buf, n), XMIG_ERR_TOO_LONG);
	/* The encoder refuses an unterminated name rather than truncate it. */
	memset(m.name, 'n', sizeof(m.name));
	assert_int_equal(msg_prepare_encode(&m, buf, sizeof(buf)), XMIG_ERR_TOO_LONG);
}

static void
test_prepare_rejects_bad_page_counts(void **state)
{
	struct msg_prepare m;
	uint8_t buf[1024];

	mk_prepare(&m);
	m.nr_pages = 0;
	assert_int_equal(dec_prepare_copy(buf, raw_prepare(&m, buf, sizeof(buf))), XMIG_ERR_INVALID);
	assert_int_equal(msg_prepare_encode(&m, buf, sizeof(buf)), XMIG_ERR_INVALID);
	m.nr_pages = m.max_pages + 1;
	assert_int_equal(dec_prepare_copy(buf, raw_prepare(&m, buf, sizeof(buf))), XMIG_ERR_INVALID);
	m.nr_pages = 1;
	m.max_pages = 1;
	assert_int_equal(dec_prepare_copy(buf, raw_prepare(&m, buf, sizeof(buf))), 0);
	m.nr_pages = 1ull << 40;
	m.max_pages = 1ull << 40;
	assert_int_equal(dec_prepare_copy(buf, raw_prepare(&m, buf, sizeof(buf))), 0);
	m.max_pages = (1ull << 40) + 1;
	assert_int_equal(dec_prepare_copy(buf, raw_prepare(&m, buf, sizeof(buf))), XMIG_ERR_TOO_LONG);
	m.nr_pages = ~0ull;
	m.max_pages = ~0ull;
	assert_int_equal(dec_prepare_copy(buf, raw_prepare(&m, buf, sizeof(buf))), XMIG_ERR_TOO_LONG);
	assert_int_equal(msg_prepare_encode(&m, buf, sizeof(buf)), XMIG_ERR_TOO_LONG);
}

static void
test_prepare_rejects_bad_vcpus(void **state)
{
	static const uint32_t bad[] = { 0, 4097, 65536, 0xffffffffu };
	static const uint32_t good[] = { 1, 2, 4096 };
	struct msg_prepare m;
	uint8_t buf[1024];
	unsigned i;

	mk_prepare(&m);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		m.vcpus = bad[i];
		assert_int_equal(dec_prepare_copy(buf, raw_prepare(&m, buf, sizeof(buf))),
		    XMIG_ERR_INVALID);
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		m.vcpus = good[i];
		assert_int_equal(dec_prepare_copy(buf, raw_prepare(&m, buf, sizeof(buf))), 0);
	}
}

static void
test_prepare_rejects_bad_enums(void **state)
{
	struct msg_prepare m;
	uint8_t buf[1024];
	unsigned v;

	mk_prepare(&m);
	for (v = DOMTYPE_HVM + 1; v < 256; v++) {
		m.dom_type = (uint8_t)v;
		assert_int_equal(dec_prepare_copy(buf, raw_prepare(&m, buf, sizeof(buf))),
		    XMIG_ERR_INVALID);
	}
	assert_int_equal(msg_prepare_encode(&m, buf, sizeof(buf)), XMIG_ERR_INVALID);
	mk_prepare(&m);
	for (v = 2; v < 256; v++) {
		m.live = (uint8_t)v;
		assert_int_equal(dec_prepare_copy(buf, raw_prepare(&m, buf, sizeof(buf))),
		    XMIG_ERR_INVALID);
	}
}

static void
test_prepare_rejects_oversize_cfg(void **state)
{
	struct msg_prepare m;
	uint8_t *buf = malloc(PROTO_CFG_MAX + 4096), *cfg = calloc(1, PROTO_CFG_MAX + 1);
	size_t n;

	assert_non_null(buf);
	assert_non_null(cfg);
	mk_prepare(&m);
	m.cfg = cfg;
	m.cfg_len = PROTO_CFG_MAX + 1;
	n = raw_prepare(&m, buf, PROTO_CFG_MAX + 4096);
	/* All the bytes are there: it is the bound that refuses it. */
	assert_int_equal(dec_prepare_copy(buf, n), XMIG_ERR_TOO_LONG);
	assert_int_equal(msg_prepare_encode(&m, buf, PROTO_CFG_MAX + 4096), XMIG_ERR_TOO_LONG);
	m.cfg_len = PROTO_CFG_MAX;
	n = raw_prepare(&m, buf, PROTO_CFG_MAX + 4096);
	assert_int_equal(dec_prepare_copy(buf, n), 0);
	/* A length of 4 GiB - 1 with a short payload. */
	m.cfg_len = 1;
	n = raw_prepare(&m, buf, PROTO_CFG_MAX + 4096);
	be32_put(buf + n - 5, 0xffffffffu);
	assert_int_equal(dec_prepare_copy(buf, n), XMIG_ERR_TOO_LONG);
	/* A cfg length with no bytes behind it. */
	be32_put(buf + n - 5, 2);
	assert_int_equal(dec_prepare_copy(buf, n), XMIG_ERR_TRUNCATED);
	m.cfg = NULL;
	m.cfg_len = 3;
	assert_int_equal(msg_prepare_encode(&m, buf, PROTO_CFG_MAX + 4096), XMIG_ERR_INVALID);
	free(buf);
	free(cfg);
}

/* ---- REFUSE/ABORT, QUERY_REPLY, hostile ---- */

static void
test_reason_rejects_text_that_does_not_fit(void **state)
{
	struct msg_reason m;
	uint8_t *buf = calloc(1, 4 + 65535);
	uint8_t *p;

	assert_non_null(buf);
	be16_put(buf, REASON_OTHER);
	be16_put(buf + 2, PROTO_REASON_MAX);		/* 512 bytes: no room for the NUL */
	memset(buf + 4, 'z', PROTO_REASON_MAX);
	p = exact_copy(buf, 4 + PROTO_REASON_MAX, 0);
	assert_int_equal(msg_reason_decode(p, 4 + PROTO_REASON_MAX, &m), XMIG_ERR_TOO_LONG);
	free(p);
	be16_put(buf + 2, PROTO_REASON_MAX - 1);
	p = exact_copy(buf, 4 + PROTO_REASON_MAX - 1, 0);
	assert_int_equal(msg_reason_decode(p, 4 + PROTO_REASON_MAX - 1, &m), 0);
	free(p);
	be16_put(buf + 2, 0xffff);
	memset(buf + 4, 'z', 65535);
	assert_int_equal(msg_reason_decode(buf, 4 + 65535, &m), XMIG_ERR_TOO_LONG);
	assert_int_equal(msg_reason_decode(buf, 4, &m), XMIG_ERR_TOO_LONG);
	free(buf);
}

static void
test_reason_rejects_embedded_nul(void **state)
{
	static const uint8_t b[] = { 0, 8, 0, 3, 'a', 0, 'b' };
	struct msg_reason m;

	assert_int_equal(msg_reason_decode(b, sizeof(b), &m), XMIG_ERR_INVALID);
	assert_string_equal(m.text, "");
}

static void
test_reason_encode_never_truncates(void **state)
{
	struct msg_reason m;
	uint8_t buf[1024];

	m.code = REASON_OTHER;
	memset(m.text, 'q', sizeof(m.text));	/* no terminator */
	assert_int_equal(msg_reason_encode(&m, buf, sizeof(buf)), XMIG_ERR_TOO_LONG);
}

/* A hostile peer's reason or host name in bytes that are not UTF-8 text
 * comes out of the decoder valid (jansson and the log take it), the
 * invalid bytes and controls replaced one for one. */
static void
test_reason_and_hello_host_from_a_peer_become_valid_utf8(void **state)
{
	static const char evil[] = "no \xff\xfe room \xc3\xa9t\xc3\x1b[2J\xed\xa0\x80";
	struct msg_reason out;
	struct msg_hello h, hout;
	struct xbuf b;
	uint8_t buf[1024];
	size_t n;

	xbuf_writer(&b, buf, sizeof(buf));
	xbuf_put_u16(&b, REASON_NO_MEMORY);
	xbuf_put_str(&b, evil);
	assert_int_equal(b.err, 0);
	assert_int_equal(msg_reason_decode(buf, b.len, &out), 0);
	assert_int_equal(out.code, REASON_NO_MEMORY);
	assert_true(utf8_valid(out.text));
	assert_string_equal(out.text, "no ?? room \xc3\xa9t??[2J???");

	mk_hello(&h);
	strcpy(h.host, "dom0\xff\n-b");
	n = raw_hello(&h, buf, sizeof(buf));
	assert_int_equal(msg_hello_decode(buf, n, &hout), 0);
	assert_string_equal(hout.host, "dom0?" "?-b");
}

static void
test_reason_keeps_unknown_codes(void **state)
{
	struct msg_reason in = { .code = 9999, .text = "future" }, out;
	uint8_t buf[64];
	int n = msg_reason_encode(&in, buf, sizeof(buf));

	assert_true(n > 0);
	assert_int_equal(msg_reason_decode(buf, (size_t)n, &out), 0);
	assert_int_equal(out.code, 9999);
	assert_string_equal(proto_reason_str(out.code), "unknown reason");
	assert_string_equal(proto_reason_str(REASON_NAME_CLASH), "domain name in use");
}

static void
test_query_reply_rejects_unknown_outcome(void **state)
{
	struct msg_query_reply m = { .outcome = OUTCOME_ABORTED + 1 }, out;
	uint8_t buf[35];
	unsigned v;

	assert_int_equal(msg_query_reply_encode(&m, buf, sizeof(buf)), XMIG_ERR_INVALID);
	/* token, outcome, an empty name, a uuid */
	memset(buf, 7, sizeof(buf));
	buf[17] = buf[18] = 0;
	for (v = OUTCOME_ABORTED + 1; v < 256; v++) {
		buf[16] = (uint8_t)v;
		assert_int_equal(msg_query_reply_decode(buf, sizeof(buf), &out), XMIG_ERR_INVALID);
		assert_int_equal(out.outcome, 0);
	}
	buf[16] = OUTCOME_ABORTED;
	assert_int_equal(msg_query_reply_decode(buf, sizeof(buf), &out), 0);
}

/* ---- header ---- */

static void
test_header_round_trip(void **state)
{
	uint8_t h[FRAME_HDR_LEN];
	struct frame_hdr fh;

	frame_hdr_encode(h, MSG_PAGES, 0, 4104);
	assert_memory_equal(h, "XMIG\x01\x05\x00\x00\x00\x00\x10\x08", FRAME_HDR_LEN);
	assert_int_equal(frame_hdr_decode(h, &fh), 0);
	assert_int_equal(fh.version, PROTO_VERSION);
	assert_int_equal(fh.type, MSG_PAGES);
	assert_int_equal(fh.flags, 0);
	assert_int_equal(fh.len, 4104);
	frame_hdr_encode(h, MSG_ROUND_END, FRAME_F_OPTIONAL, 20);
	assert_int_equal(frame_hdr_decode(h, &fh), 0);
	assert_int_equal(fh.flags, FRAME_F_OPTIONAL);
}

static void
test_header_rejects_bad_magic(void **state)
{
	uint8_t h[FRAME_HDR_LEN];
	struct frame_hdr fh;
	unsigned i;

	for (i = 0; i < 4; i++) {
		frame_hdr_encode(h, MSG_HELLO, 0, 10);
		h[i] ^= 0x20;
		assert_int_equal(frame_hdr_decode(h, &fh), XMIG_ERR_BAD_MAGIC);
	}
	memcpy(h, "GET / HTTP/1", FRAME_HDR_LEN);
	assert_int_equal(frame_hdr_decode(h, &fh), XMIG_ERR_BAD_MAGIC);
	memset(h, 0, sizeof(h));
	assert_int_equal(frame_hdr_decode(h, &fh), XMIG_ERR_BAD_MAGIC);
}

static void
test_header_rejects_bad_version(void **state)
{
	static const uint8_t bad[] = { 0, 2, 3, 0x81, 0xff };
	uint8_t h[FRAME_HDR_LEN];
	struct frame_hdr fh;
	unsigned i;

	for (i = 0; i < sizeof(bad); i++) {
		frame_hdr_encode(h, MSG_HELLO, 0, 10);
		h[4] = bad[i];
		assert_int_equal(frame_hdr_decode(h, &fh), XMIG_ERR_VERSION);
		assert_int_equal(fh.version, bad[i]);	/* filled in for the log */
	}
}

static void
test_header_unknown_type_without_optional_is_refused(void **state)
{
	static const uint8_t types[] = { 0, MSG_TYPE_MAX + 1, 100, 255 };
	uint8_t h[FRAME_HDR_LEN];
	struct frame_hdr fh;
	unsigned i;

	for (i = 0; i < sizeof(types); i++) {
		frame_hdr_encode(h, types[i], 0, 0);
		assert_int_equal(frame_hdr_decode(h, &fh), XMIG_ERR_BAD_TYPE);
	}
}

static void
test_header_unknown_type_with_optional_is_skippable(void **state)
{
	static const uint8_t types[] = { 0, MSG_TYPE_MAX + 1, 100, 255 };
	uint8_t h[FRAME_HDR_LEN];
	struct frame_hdr fh;
	unsigned i;

	for (i = 0; i < sizeof(types); i++) {
		frame_hdr_encode(h, types[i], FRAME_F_OPTIONAL, 1000);
		assert_int_equal(frame_hdr_decode(h, &fh), 0);
		assert_int_equal(fh.type, types[i]);
		assert_int_equal(fh.len, 1000);
		frame_hdr_encode(h, types[i], FRAME_F_OPTIONAL, FRAME_MAX);
		assert_int_equal(frame_hdr_decode(h, &fh), 0);
		frame_hdr_encode(h, types[i], FRAME_F_OPTIONAL, FRAME_MAX + 1);
		assert_int_equal(frame_hdr_decode(h, &fh), XMIG_ERR_TOO_LONG);
		frame_hdr_encode(h, types[i], FRAME_F_OPTIONAL, 0xffffffffu);
		assert_int_equal(frame_hdr_decode(h, &fh), XMIG_ERR_TOO_LONG);
	}
	assert_int_equal(proto_max_len(MSG_TYPE_MAX + 1), 0);
	assert_string_equal(proto_type_str(MSG_TYPE_MAX + 1), "UNKNOWN");
	assert_string_equal(proto_type_str(0), "UNKNOWN");
}

static void
test_header_rejects_undefined_flags(void **state)
{
	static const uint16_t bad[] = { 0x0002, 0x0003, 0x0100, 0x8000, 0xffff };
	uint8_t h[FRAME_HDR_LEN];
	struct frame_hdr fh;
	unsigned i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		frame_hdr_encode(h, MSG_GO, bad[i], 0);
		assert_int_equal(frame_hdr_decode(h, &fh), XMIG_ERR_INVALID);
		frame_hdr_encode(h, 200, bad[i], 0);
		assert_int_equal(frame_hdr_decode(h, &fh), XMIG_ERR_INVALID);
	}
}

static void
test_header_rejects_oversize_len_for_each_type(void **state)
{
	uint8_t h[FRAME_HDR_LEN];
	struct frame_hdr fh;
	unsigned t;

	for (t = 1; t <= MSG_TYPE_MAX; t++) {
		uint32_t max = proto_max_len((uint8_t)t);

		assert_true(max <= FRAME_MAX);
		assert_string_not_equal(proto_type_str((uint8_t)t), "UNKNOWN");
		frame_hdr_encode(h, (uint8_t)t, 0, max);
		assert_int_equal(frame_hdr_decode(h, &fh), 0);
		frame_hdr_encode(h, (uint8_t)t, 0, max + 1);
		if (frame_hdr_decode(h, &fh) != XMIG_ERR_TOO_LONG)
			fail_msg("%s accepts len %u", proto_type_str((uint8_t)t), max + 1);
		/* OPTIONAL on a known type does not lift its maximum. */
		frame_hdr_encode(h, (uint8_t)t, FRAME_F_OPTIONAL, max + 1);
		assert_int_equal(frame_hdr_decode(h, &fh), XMIG_ERR_TOO_LONG);
		frame_hdr_encode(h, (uint8_t)t, 0, 0xffffffffu);
		assert_int_equal(frame_hdr_decode(h, &fh), XMIG_ERR_TOO_LONG);
	}
}

static void
test_type_maxima_are_as_specified(void **state)
{
	assert_int_equal(proto_max_len(MSG_PREPARE_OK), 0);
	assert_int_equal(proto_max_len(MSG_STREAM_END), 0);
	assert_int_equal(proto_max_len(MSG_GO), 0);
	assert_int_equal(proto_max_len(MSG_REFUSE), 2 + 2 + PROTO_REASON_MAX);
	assert_int_equal(proto_max_len(MSG_ABORT), 2 + 2 + PROTO_REASON_MAX);
	assert_int_equal(proto_max_len(MSG_ROUND_END), 20);
	assert_int_equal(proto_max_len(MSG_BUILT), 4);
	assert_int_equal(proto_max_len(MSG_DONE), 8);	/* domid, unpause_us */
	assert_int_equal(proto_max_len(MSG_QUERY), 16);
	assert_int_equal(proto_max_len(MSG_QUERY_REPLY), 16 + 1 + 2 + PROTO_NAME_MAX - 1 + 16);
	assert_int_equal(proto_max_len(MSG_CONTEXT), PROTO_CONTEXT_MAX);
	assert_int_equal(proto_max_len(MSG_RAW), PROTO_RAW_MAX);
	assert_int_equal(proto_max_len(MSG_PAGES),
	    PAGES_HEAD_LEN + PROTO_PAGES_MAX * (8 + PROTO_PAGE_SIZE));
	assert_true(proto_max_len(MSG_HELLO) <= 1024);
	assert_true(proto_max_len(MSG_PREPARE) <= PROTO_CFG_MAX + 4096);
	assert_int_equal(proto_max_len(MSG_DM_PHYSMAP), 2 + 32 * (8 + 8 + 8 + 2 + 63));
	assert_int_equal(proto_max_len(MSG_DM_PHYSMAP), 2850);
	assert_int_equal(proto_max_len(MSG_DM_STATE), 8 + (4u << 20));
	assert_string_equal(proto_type_str(MSG_DM_PHYSMAP), "DM_PHYSMAP");
	assert_string_equal(proto_type_str(MSG_DM_STATE), "DM_STATE");
	assert_int_equal(proto_max_len(MSG_DEVICES_READY), 0);
}

/* ---- HELLO features ---- */

static void
test_hello_features_round_trip_and_are_used_only_when_both_have_them(void **state)
{
	struct msg_hello a, b, out;
	uint8_t buf[1024];
	int n;

	mk_hello(&a);
	mk_hello(&b);
	a.features = HELLO_F_DEVICE_MODEL;
	n = msg_hello_encode(&a, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(msg_hello_decode(buf, (size_t)n, &out), 0);
	assert_int_equal(out.features, HELLO_F_DEVICE_MODEL);
	/* An old peer (no bits): nothing in common, both ways. */
	assert_int_equal(hello_common_features(&a, &b), 0);
	assert_int_equal(hello_common_features(&b, &a), 0);
	b.features = HELLO_F_DEVICE_MODEL;
	assert_int_equal(hello_common_features(&a, &b), HELLO_F_DEVICE_MODEL);
	/* Bits this version does not know are ignored, even when both set them. */
	a.features = b.features = ~HELLO_F_KNOWN;
	assert_int_equal(hello_common_features(&a, &b), 0);
	/* The known ones are kept, each on its own. */
	a.features = b.features = 0xffffffffu;
	assert_int_equal(hello_common_features(&a, &b), HELLO_F_DEVICE_MODEL | HELLO_F_DONE_UNPAUSE |
	    HELLO_F_DEVICES_READY);
}

/* ---- DEVICES_READY ---- */

static void
test_devices_ready_is_bit_2_and_an_empty_frame(void **state)
{
	struct msg_hello a, b;
	uint8_t h[FRAME_HDR_LEN];
	struct frame_hdr fh;

	assert_int_equal(HELLO_F_DEVICES_READY, 0x4);
	assert_true((HELLO_F_KNOWN & HELLO_F_DEVICES_READY) != 0);
	mk_hello(&a);
	mk_hello(&b);
	/* Used only when both have it: an old peer (features 0, or only the
	 * older bits) is spoken to as before. */
	a.features = HELLO_F_DEVICES_READY | HELLO_F_DONE_UNPAUSE;
	b.features = HELLO_F_DONE_UNPAUSE;
	assert_int_equal(hello_common_features(&a, &b) & HELLO_F_DEVICES_READY, 0);
	b.features |= HELLO_F_DEVICES_READY;
	assert_true((hello_common_features(&a, &b) & HELLO_F_DEVICES_READY) != 0);

	assert_int_equal(MSG_DEVICES_READY, 22);
	assert_int_equal(MSG_TYPE_MAX, MSG_DEVICES_READY);
	assert_string_equal(proto_type_str(MSG_DEVICES_READY), "DEVICES_READY");
	assert_int_equal(proto_max_len(MSG_DEVICES_READY), 0);
	frame_hdr_encode(h, MSG_DEVICES_READY, 0, 0);
	assert_int_equal(frame_hdr_decode(h, &fh), 0);
	assert_int_equal(fh.type, MSG_DEVICES_READY);
	/* Any payload is refused by the header check, before it is read ... */
	frame_hdr_encode(h, MSG_DEVICES_READY, 0, 1);
	assert_int_equal(frame_hdr_decode(h, &fh), XMIG_ERR_TOO_LONG);
	frame_hdr_encode(h, MSG_DEVICES_READY, FRAME_F_OPTIONAL, 4);
	assert_int_equal(frame_hdr_decode(h, &fh), XMIG_ERR_TOO_LONG);
	/* ... and by the payload's own check. */
	assert_int_equal(msg_empty_decode(NULL, 0), 0);
	assert_int_equal(msg_empty_decode(h, 1), XMIG_ERR_TRAILING);
}

/* ---- DM_PHYSMAP ---- */

/* An entry without any check, as a hostile peer could send it. */
struct raw_ent {
	uint64_t off, start, size;
	const char *name;
	int name_len;		/* -1: strlen(name) */
};

static size_t
raw_physmap(uint16_t count, const struct raw_ent *e, unsigned n, uint8_t *buf, size_t cap)
{
	struct xbuf b;
	unsigned i;

	xbuf_writer(&b, buf, cap);
	xbuf_put_u16(&b, count);
	for (i = 0; i < n; i++) {
		size_t len = e[i].name_len < 0 ? strlen(e[i].name) : (size_t)e[i].name_len;

		xbuf_put_u64(&b, e[i].off);
		xbuf_put_u64(&b, e[i].start);
		xbuf_put_u64(&b, e[i].size);
		xbuf_put_u16(&b, (uint16_t)len);
		xbuf_put_bytes(&b, e[i].name, len);
	}
	assert_int_equal(b.err, 0);
	return b.len;
}

static int
dec_physmap_copy(const uint8_t *p, size_t n, struct msg_dm_physmap *m)
{
	uint8_t *q = exact_copy(p, n, 0);
	int r = msg_dm_physmap_decode(q, n, m);

	free(q);
	return r;
}

static void
test_dm_physmap_round_trip_and_largest(void **state)
{
	struct msg_dm_physmap in, *big = calloc(2, sizeof(*big));
	uint8_t *buf = malloc(4096);
	unsigned i;
	int n;

	assert_non_null(big);
	assert_non_null(buf);
	mk_physmap(&in);
	n = msg_dm_physmap_encode(&in, buf, 4096);
	assert_int_equal(n, 2 + 2 * 24 + 2 + 8 + 2 + 21);
	assert_int_equal(dec_physmap_copy(buf, (size_t)n, &big[1]), 0);
	assert_int_equal(big[1].count, 2);
	assert_memory_equal(&big[1].ents[0], &in.ents[0], sizeof(in.ents[0]));
	assert_memory_equal(&big[1].ents[1], &in.ents[1], sizeof(in.ents[1]));
	/* The largest: every entry, every name 63 bytes, the ranges at the
	 * top of the address space. */
	big[0].count = PROTO_DM_PHYSMAP_MAX;
	for (i = 0; i < PROTO_DM_PHYSMAP_MAX; i++) {
		big[0].ents[i].phys_offset = PROTO_DM_ADDR_LIMIT - (i + 1) * 0x1000ull;
		big[0].ents[i].start_addr = PROTO_DM_ADDR_LIMIT - 0x1000;
		big[0].ents[i].size = 0x1000;
		memset(big[0].ents[i].name, 'a' + (int)(i % 26), PROTO_DM_NAME_MAX - 1);
	}
	n = msg_dm_physmap_encode(&big[0], buf, 4096);
	assert_int_equal(n, (int)proto_max_len(MSG_DM_PHYSMAP));
	assert_int_equal(dec_physmap_copy(buf, (size_t)n, &big[1]), 0);
	assert_memory_equal(&big[0], &big[1], sizeof(big[0]));
	free(buf);
	free(big);
}

/* Every field the receiver will use, malformed one at a time. */
static void
test_dm_physmap_rejects_each_malformed_field(void **state)
{
	static const struct {
		const char *what;
		struct raw_ent e;
		int want;
	} bad[] = {
		{ "phys_offset not page-aligned", { 0xf0000800, 0xf0000000, 0x1000, "vga.vram", -1 },
		  XMIG_ERR_INVALID },
		{ "start_addr not page-aligned", { 0xf0000000, 0xf0000001, 0x1000, "vga.vram", -1 },
		  XMIG_ERR_INVALID },
		{ "size not page-aligned", { 0xf0000000, 0xf0000000, 0x1001, "vga.vram", -1 },
		  XMIG_ERR_INVALID },
		{ "size zero", { 0xf0000000, 0xf0000000, 0, "vga.vram", -1 }, XMIG_ERR_INVALID },
		{ "start_addr + size beyond 2^52",
		  { 0xf0000000, (1ull << 52) - 0x1000, 0x2000, "vga.vram", -1 }, XMIG_ERR_INVALID },
		{ "phys_offset + size beyond 2^52",
		  { (1ull << 52) - 0x1000, 0xf0000000, 0x2000, "vga.vram", -1 }, XMIG_ERR_INVALID },
		{ "size beyond 2^52", { 0, 0, (1ull << 52) + 0x1000, "vga.vram", -1 },
		  XMIG_ERR_INVALID },
		{ "start_addr + size wraps", { 0, 0xfffffffffffff000ull, 0x2000, "vga.vram", -1 },
		  XMIG_ERR_INVALID },
		{ "size wraps phys_offset", { 0x1000, 0, 0xfffffffffffff000ull, "x", -1 },
		  XMIG_ERR_INVALID },
		{ "empty name", { 0xf0000000, 0xf0000000, 0x1000, "", -1 }, XMIG_ERR_INVALID },
		{ "name with a space", { 0xf0000000, 0xf0000000, 0x1000, "vga vram", -1 },
		  XMIG_ERR_INVALID },
		{ "name with a backslash", { 0xf0000000, 0xf0000000, 0x1000, "vga\\vram", -1 },
		  XMIG_ERR_INVALID },
		{ "name with a newline", { 0xf0000000, 0xf0000000, 0x1000, "vga\nvram", -1 },
		  XMIG_ERR_INVALID },
		{ "name in UTF-8", { 0xf0000000, 0xf0000000, 0x1000, "vg\xc3\xa4", -1 },
		  XMIG_ERR_INVALID },
		{ "name with a NUL", { 0xf0000000, 0xf0000000, 0x1000, "vga\0vram", 8 },
		  XMIG_ERR_INVALID },
		{ "name of 64 bytes", { 0xf0000000, 0xf0000000, 0x1000,
		  "0123456789012345678901234567890123456789012345678901234567890123", -1 },
		  XMIG_ERR_TOO_LONG },
		{ "name length 65535", { 0xf0000000, 0xf0000000, 0x1000, "x", 0xffff },
		  XMIG_ERR_TOO_LONG },
	};
	static const struct raw_ent good = { 0x1000, 0x2000, 0x1000, "ok", -1 };
	struct msg_dm_physmap m;
	uint8_t buf[512];
	unsigned i;
	size_t n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct raw_ent e[2] = { good, bad[i].e };
		int r;

		/* name_len 0xffff: the length alone, no bytes behind it */
		if (bad[i].e.name_len == 0xffff) {
			n = raw_physmap(2, e, 1, buf, sizeof(buf));
			be64_put(buf + n, e[1].off);
			be64_put(buf + n + 8, e[1].start);
			be64_put(buf + n + 16, e[1].size);
			be16_put(buf + n + 24, 0xffff);
			n += 26;
		} else {
			n = raw_physmap(2, e, 2, buf, sizeof(buf));
		}
		memset(&m, 0x77, sizeof(m));
		r = dec_physmap_copy(buf, n, &m);
		if (r != bad[i].want)
			fail_msg("%s: decoded with %d, want %d", bad[i].what, r, bad[i].want);
		assert_int_equal(m.count, 0);
		assert_int_equal(m.ents[0].phys_offset, 0);
		/* and alone, as the first entry */
		if (bad[i].e.name_len != 0xffff) {
			n = raw_physmap(1, &bad[i].e, 1, buf, sizeof(buf));
			assert_int_equal(dec_physmap_copy(buf, n, &m), bad[i].want);
		}
	}
}

static void
test_dm_physmap_rejects_bad_counts_and_duplicate_keys(void **state)
{
	struct raw_ent e[3] = { { 0x1000, 0x2000, 0x1000, "a", -1 },
		{ 0x3000, 0x4000, 0x1000, "b", -1 }, { 0x1000, 0x8000, 0x1000, "c", -1 } };
	struct msg_dm_physmap m;
	uint8_t buf[512];
	size_t n;

	/* no entries */
	n = raw_physmap(0, e, 0, buf, sizeof(buf));
	assert_int_equal(dec_physmap_copy(buf, n, &m), XMIG_ERR_INVALID);
	/* more than 32, refused on the count before any entry is read (two
	 * bytes only: a decoder reading on would say TRUNCATED) */
	n = raw_physmap(PROTO_DM_PHYSMAP_MAX + 1, e, 0, buf, sizeof(buf));
	assert_int_equal(dec_physmap_copy(buf, n, &m), XMIG_ERR_TOO_LONG);
	n = raw_physmap(0xffff, e, 0, buf, sizeof(buf));
	assert_int_equal(dec_physmap_copy(buf, n, &m), XMIG_ERR_TOO_LONG);
	/* a count of 3 with 2 entries, of 1 with 2 */
	n = raw_physmap(3, e, 2, buf, sizeof(buf));
	assert_int_equal(dec_physmap_copy(buf, n, &m), XMIG_ERR_TRUNCATED);
	n = raw_physmap(1, e, 2, buf, sizeof(buf));
	assert_int_equal(dec_physmap_copy(buf, n, &m), XMIG_ERR_TRAILING);
	/* the same key (phys_offset) twice, anywhere */
	n = raw_physmap(3, e, 3, buf, sizeof(buf));
	assert_int_equal(dec_physmap_copy(buf, n, &m), XMIG_ERR_INVALID);
	assert_int_equal(m.count, 0);
	n = raw_physmap(2, e, 2, buf, sizeof(buf));
	assert_int_equal(dec_physmap_copy(buf, n, &m), 0);
	assert_int_equal(m.count, 2);
}

/* The encoder refuses what the decoder would: a sender fails at home. */
static void
test_dm_physmap_encoder_refuses_what_the_decoder_would(void **state)
{
	struct msg_dm_physmap m;
	uint8_t buf[4096];

	mk_physmap(&m);
	m.count = 0;
	assert_int_equal(msg_dm_physmap_encode(&m, buf, sizeof(buf)), XMIG_ERR_INVALID);
	m.count = PROTO_DM_PHYSMAP_MAX + 1;
	assert_int_equal(msg_dm_physmap_encode(&m, buf, sizeof(buf)), XMIG_ERR_TOO_LONG);
	mk_physmap(&m);
	m.ents[1].phys_offset = m.ents[0].phys_offset;
	assert_int_equal(msg_dm_physmap_encode(&m, buf, sizeof(buf)), XMIG_ERR_INVALID);
	mk_physmap(&m);
	m.ents[1].size = 0x800;
	assert_int_equal(msg_dm_physmap_encode(&m, buf, sizeof(buf)), XMIG_ERR_INVALID);
	mk_physmap(&m);
	strcpy(m.ents[0].name, "vga vram");
	assert_int_equal(msg_dm_physmap_encode(&m, buf, sizeof(buf)), XMIG_ERR_INVALID);
	mk_physmap(&m);
	memset(m.ents[1].name, 'x', sizeof(m.ents[1].name));	/* unterminated */
	assert_int_equal(msg_dm_physmap_encode(&m, buf, sizeof(buf)), XMIG_ERR_TOO_LONG);
}

static void
test_dm_hex_parse(void **state)
{
	static const struct {
		const char *s;
		uint64_t v;
	} good[] = {
		{ "0", 0 }, { "f0000000", 0xf0000000 }, { "F0000000", 0xf0000000 },
		{ "800000", 0x800000 }, { "ffffffffffffffff", UINT64_MAX },
		{ "0000000000001000", 0x1000 },
	};
	static const char *const bad[] = {
		"", "0x1000", "-1", "+1", " 1", "1 ", "1\n", "g", "10000000000000000",
		"12345678901234567", "\xc3\xa4",
	};
	uint64_t v;
	unsigned i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(dm_hex_parse(good[i].s, &v), 0);
		assert_true(v == good[i].v);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 5;
		if (dm_hex_parse(bad[i], &v) != XMIG_ERR_INVALID)
			fail_msg("\"%s\" parsed", bad[i]);
		assert_true(v == 0);
	}
	assert_int_equal(dm_hex_parse(NULL, &v), XMIG_ERR_INVALID);
}

/* The sender's side: entries from QEMU's xenstore text. */
static void
test_dm_physmap_add_from_xenstore_text(void **state)
{
	struct msg_dm_physmap m, before;
	char key[32], name[80];
	uint8_t buf[4096];
	unsigned i;
	int n;

	memset(&m, 0, sizeof(m));
	assert_int_equal(dm_physmap_add(&m, "f0000000", "f0000000", "800000", "vga.vram"), 0);
	assert_int_equal(m.count, 1);
	assert_true(m.ents[0].phys_offset == 0xf0000000 && m.ents[0].size == 0x800000);
	assert_string_equal(m.ents[0].name, "vga.vram");
	before = m;
	/* each refusal leaves m as it was */
	assert_int_equal(dm_physmap_add(&m, "f0000000", "e0000000", "1000", "again"),
	    XMIG_ERR_EXISTS);
	assert_int_equal(dm_physmap_add(&m, "0xe0000000", "e0000000", "1000", "x"),
	    XMIG_ERR_INVALID);
	assert_int_equal(dm_physmap_add(&m, "e0000000", "", "1000", "x"), XMIG_ERR_INVALID);
	assert_int_equal(dm_physmap_add(&m, "e0000000", "e0000000", "1001", "x"),
	    XMIG_ERR_INVALID);
	assert_int_equal(dm_physmap_add(&m, "e0000000", "e0000000", "1000", "a b"),
	    XMIG_ERR_INVALID);
	assert_int_equal(dm_physmap_add(&m, "e0000000", "e0000000", "1000", NULL),
	    XMIG_ERR_INVALID);
	memset(name, 'n', 64);
	name[64] = '\0';
	assert_int_equal(dm_physmap_add(&m, "e0000000", "e0000000", "1000", name),
	    XMIG_ERR_TOO_LONG);
	assert_memory_equal(&m, &before, sizeof(m));
	/* up to the maximum, then one too many */
	for (i = 1; i < PROTO_DM_PHYSMAP_MAX; i++) {
		snprintf(key, sizeof(key), "%x", i * 0x1000);
		assert_int_equal(dm_physmap_add(&m, key, "1000", "1000", "r"), 0);
	}
	assert_int_equal(dm_physmap_add(&m, "ffff000", "1000", "1000", "r"), XMIG_ERR_TOO_LONG);
	assert_int_equal(m.count, PROTO_DM_PHYSMAP_MAX);
	/* and what was added encodes */
	n = msg_dm_physmap_encode(&m, buf, sizeof(buf));
	assert_true(n > 0);
}

/* ---- DM_STATE ---- */

static void
test_dm_state_head_round_trip_and_refusals(void **state)
{
	uint8_t h[DM_STATE_HEAD_LEN];
	uint32_t total = 9, off = 9;

	dm_state_head_encode(h, 100, 40);
	assert_int_equal(dm_state_head_decode(h, DM_STATE_HEAD_LEN + 60, &total, &off), 0);
	assert_true(total == 100 && off == 40);
	/* one byte past the end of the state */
	assert_int_equal(dm_state_head_decode(h, DM_STATE_HEAD_LEN + 61, &total, &off),
	    XMIG_ERR_INVALID);
	assert_true(total == 0 && off == 0);
	/* no bytes at all */
	assert_int_equal(dm_state_head_decode(h, DM_STATE_HEAD_LEN, &total, &off),
	    XMIG_ERR_TRUNCATED);
	assert_int_equal(dm_state_head_decode(h, 3, &total, &off), XMIG_ERR_TRUNCATED);
	/* longer than the type's maximum */
	dm_state_head_encode(h, PROTO_DM_STATE_MAX, 0);
	assert_int_equal(dm_state_head_decode(h, DM_STATE_HEAD_LEN + PROTO_DM_CHUNK_MAX,
	    &total, &off), 0);
	assert_int_equal(dm_state_head_decode(h, DM_STATE_HEAD_LEN + PROTO_DM_CHUNK_MAX + 1,
	    &total, &off), XMIG_ERR_TOO_LONG);
	/* a total of 0, and over 64 MiB */
	dm_state_head_encode(h, 0, 0);
	assert_int_equal(dm_state_head_decode(h, DM_STATE_HEAD_LEN + 1, &total, &off),
	    XMIG_ERR_INVALID);
	dm_state_head_encode(h, PROTO_DM_STATE_MAX + 1, 0);
	assert_int_equal(dm_state_head_decode(h, DM_STATE_HEAD_LEN + 1, &total, &off),
	    XMIG_ERR_TOO_LONG);
	dm_state_head_encode(h, UINT32_MAX, 0);
	assert_int_equal(dm_state_head_decode(h, DM_STATE_HEAD_LEN + 1, &total, &off),
	    XMIG_ERR_TOO_LONG);
	/* an offset that would wrap a 32-bit sum */
	dm_state_head_encode(h, PROTO_DM_STATE_MAX, UINT32_MAX);
	assert_int_equal(dm_state_head_decode(h, DM_STATE_HEAD_LEN + 16, &total, &off),
	    XMIG_ERR_INVALID);
	/* the last byte of the largest state */
	dm_state_head_encode(h, PROTO_DM_STATE_MAX, PROTO_DM_STATE_MAX - 1);
	assert_int_equal(dm_state_head_decode(h, DM_STATE_HEAD_LEN + 1, &total, &off), 0);
}

static uint32_t
chunk(uint8_t *out, uint32_t total, uint32_t off, const uint8_t *data, uint32_t n)
{
	dm_state_head_encode(out, total, off);
	memcpy(out + DM_STATE_HEAD_LEN, data, n);
	return DM_STATE_HEAD_LEN + n;
}

static void
test_dm_state_accumulates_in_order_and_refuses_the_rest(void **state)
{
	static uint8_t st[10001], c[DM_STATE_HEAD_LEN + 10001];	/* a byte more, for "past the end" */
	struct dm_state_acc a, saved;
	uint32_t i, len;

	for (i = 0; i < 10000; i++)
		st[i] = (uint8_t)(i * 13 + i / 256);
	dm_state_acc_init(&a);
	assert_false(dm_state_acc_complete(&a));
	/* a chunk that does not start at 0 cannot come first */
	len = chunk(c, 10000, 4000, st + 4000, 100);
	assert_int_equal(dm_state_acc_add(&a, c, len), XMIG_ERR_INVALID);
	assert_true(a.data == NULL && a.got == 0 && a.total == 0);
	len = chunk(c, 10000, 0, st, 4000);
	assert_int_equal(dm_state_acc_add(&a, c, len), 0);
	assert_false(dm_state_acc_complete(&a));
	saved = a;
	/* out of order: a gap, a repeat, an overlap */
	len = chunk(c, 10000, 4001, st + 4001, 100);
	assert_int_equal(dm_state_acc_add(&a, c, len), XMIG_ERR_INVALID);
	len = chunk(c, 10000, 0, st, 100);
	assert_int_equal(dm_state_acc_add(&a, c, len), XMIG_ERR_INVALID);
	len = chunk(c, 10000, 3999, st + 3999, 100);
	assert_int_equal(dm_state_acc_add(&a, c, len), XMIG_ERR_INVALID);
	/* another total */
	len = chunk(c, 10001, 4000, st + 4000, 100);
	assert_int_equal(dm_state_acc_add(&a, c, len), XMIG_ERR_INVALID);
	/* past the end, and a bare head */
	len = chunk(c, 10000, 4000, st + 4000, 6001);
	assert_int_equal(dm_state_acc_add(&a, c, len), XMIG_ERR_INVALID);
	assert_int_equal(dm_state_acc_add(&a, c, DM_STATE_HEAD_LEN), XMIG_ERR_TRUNCATED);
	assert_int_equal(dm_state_acc_add(&a, c, 5), XMIG_ERR_TRUNCATED);
	assert_memory_equal(&a, &saved, sizeof(a));
	/* the rest, in two chunks */
	len = chunk(c, 10000, 4000, st + 4000, 1);
	assert_int_equal(dm_state_acc_add(&a, c, len), 0);
	len = chunk(c, 10000, 4001, st + 4001, 5999);
	assert_int_equal(dm_state_acc_add(&a, c, len), 0);
	assert_true(dm_state_acc_complete(&a));
	assert_int_equal(a.got, 10000);
	assert_true(a.cap == 10000);
	assert_memory_equal(a.data, st, 10000);
	/* nothing after the end */
	len = chunk(c, 10000, 10000, st, 1);
	assert_int_equal(dm_state_acc_add(&a, c, len), XMIG_ERR_INVALID);
	dm_state_acc_free(&a);
	assert_true(a.data == NULL && a.got == 0 && a.total == 0 && a.cap == 0);
}

/* A peer that announces 64 MiB and sends 100 bytes costs 100 bytes; the
 * buffer follows what arrives (at most twice it), up to a whole 64 MiB
 * state in chunks of the largest size. */
static void
test_dm_state_memory_follows_the_bytes_received(void **state)
{
	uint8_t *c = malloc(DM_STATE_HEAD_LEN + PROTO_DM_CHUNK_MAX);
	struct dm_state_acc a;
	uint32_t off, len;

	assert_non_null(c);
	memset(c + DM_STATE_HEAD_LEN, 0xd7, PROTO_DM_CHUNK_MAX);
	dm_state_acc_init(&a);
	dm_state_head_encode(c, PROTO_DM_STATE_MAX, 0);
	assert_int_equal(dm_state_acc_add(&a, c, DM_STATE_HEAD_LEN + 100), 0);
	assert_int_equal(a.cap, 100);
	dm_state_head_encode(c, PROTO_DM_STATE_MAX, 100);
	assert_int_equal(dm_state_acc_add(&a, c, DM_STATE_HEAD_LEN + 1), 0);
	assert_int_equal(a.cap, 200);
	dm_state_acc_free(&a);
	for (off = 0; off < PROTO_DM_STATE_MAX; off += PROTO_DM_CHUNK_MAX) {
		dm_state_head_encode(c, PROTO_DM_STATE_MAX, off);
		c[DM_STATE_HEAD_LEN] = (uint8_t)(off >> 22);
		len = DM_STATE_HEAD_LEN + PROTO_DM_CHUNK_MAX;
		assert_int_equal(dm_state_acc_add(&a, c, len), 0);
		assert_true(a.cap <= 2ull * a.got && a.cap <= PROTO_DM_STATE_MAX);
	}
	assert_true(dm_state_acc_complete(&a));
	assert_int_equal(a.data[5 * PROTO_DM_CHUNK_MAX], 5);
	assert_int_equal(a.data[5 * PROTO_DM_CHUNK_MAX + 1], 0xd7);
	dm_state_acc_free(&a);
	free(c);
}

/* ---- PAGES ---- */

static void
put_head(uint8_t head[PAGES_HEAD_LEN], uint32_t round, uint32_t count)
{
	be32_put(head, round);
	be32_put(head + 4, count);
}

static uint32_t
pages_len(uint32_t count, uint32_t normal)
{
	return PAGES_HEAD_LEN + 8 * count + normal * PROTO_PAGE_SIZE;
}

static void
test_pages_head_accepts_valid(void **state)
{
	uint8_t head[PAGES_HEAD_LEN];
	uint32_t round, count;

	put_head(head, 7, 3);
	assert_int_equal(pages_head_decode(head, pages_len(3, 2), &round, &count), 0);
	assert_int_equal(round, 7);
	assert_int_equal(count, 3);
	put_head(head, 0, PROTO_PAGES_MAX);
	assert_int_equal(pages_head_decode(head, pages_len(PROTO_PAGES_MAX, PROTO_PAGES_MAX),
	    &round, &count), 0);
	assert_int_equal(count, PROTO_PAGES_MAX);
}

static void
test_pages_head_rejects_count_too_big(void **state)
{
	uint8_t head[PAGES_HEAD_LEN];
	uint32_t round, count;

	put_head(head, 0, PROTO_PAGES_MAX + 1);
	assert_int_equal(pages_head_decode(head, proto_max_len(MSG_PAGES), &round, &count),
	    XMIG_ERR_TOO_LONG);
	assert_int_equal(count, 0);
	/* 8 * count would wrap in 32 bits. */
	put_head(head, 0, 0x20000001u);
	assert_int_equal(pages_head_decode(head, 16, &round, &count), XMIG_ERR_TOO_LONG);
	put_head(head, 0, 0xffffffffu);
	assert_int_equal(pages_head_decode(head, proto_max_len(MSG_PAGES), &round, &count),
	    XMIG_ERR_TOO_LONG);
}

static void
test_pages_head_rejects_zero_count(void **state)
{
	uint8_t head[PAGES_HEAD_LEN];
	uint32_t round, count;

	put_head(head, 0, 0);
	assert_int_equal(pages_head_decode(head, PAGES_HEAD_LEN, &round, &count), XMIG_ERR_INVALID);
}

static void
test_pages_head_rejects_frame_shorter_than_entries(void **state)
{
	uint8_t head[PAGES_HEAD_LEN];
	uint32_t round, count, l;

	put_head(head, 0, 10);
	assert_int_equal(pages_head_decode(head, PAGES_HEAD_LEN + 80, &round, &count), 0);
	for (l = 0; l < PAGES_HEAD_LEN + 80; l++)
		assert_int_equal(pages_head_decode(head, l, &round, &count), XMIG_ERR_TRUNCATED);
	assert_int_equal(pages_head_decode(head, proto_max_len(MSG_PAGES) + 1, &round, &count),
	    XMIG_ERR_TOO_LONG);
}

static void
test_pages_entries_n_normal_correct(void **state)
{
	uint64_t e[6];
	uint32_t n = 99;

	e[0] = page_entry(0, PAGE_NORMAL);
	e[1] = page_entry(5, PAGE_ZERO);
	e[2] = page_entry(99, PAGE_NORMAL);
	e[3] = page_entry(5, PAGE_NORMAL);
	e[4] = page_entry(1, PAGE_ZERO);
	e[5] = page_entry(2, PAGE_ZERO);
	assert_int_equal(pages_entries_check(e, 6, pages_len(6, 3), 100, &n), 0);
	assert_int_equal(n, 3);
	e[0] = page_entry(0, PAGE_ZERO);
	e[2] = page_entry(99, PAGE_ZERO);
	e[3] = page_entry(5, PAGE_ZERO);
	assert_int_equal(pages_entries_check(e, 6, pages_len(6, 0), 100, &n), 0);
	assert_int_equal(n, 0);
}

static void
test_pages_entries_full_frame_is_the_type_maximum(void **state)
{
	uint64_t *e = malloc(PROTO_PAGES_MAX * sizeof(*e));
	uint32_t i, n;

	assert_non_null(e);
	for (i = 0; i < PROTO_PAGES_MAX; i++)
		e[i] = page_entry(i, PAGE_NORMAL);
	assert_int_equal(pages_entries_check(e, PROTO_PAGES_MAX, proto_max_len(MSG_PAGES),
	    PROTO_PAGES_MAX, &n), 0);
	assert_int_equal(n, PROTO_PAGES_MAX);
	free(e);
}

static void
test_pages_entries_rejects_len_mismatch_by_one(void **state)
{
	uint64_t e[3] = { page_entry(1, PAGE_NORMAL), page_entry(2, PAGE_ZERO),
		page_entry(3, PAGE_NORMAL) };
	uint32_t n;

	assert_int_equal(pages_entries_check(e, 3, pages_len(3, 2), 10, &n), 0);
	assert_int_equal(pages_entries_check(e, 3, pages_len(3, 2) - 1, 10, &n),
	    XMIG_ERR_TRUNCATED);
	assert_int_equal(pages_entries_check(e, 3, pages_len(3, 2) + 1, 10, &n),
	    XMIG_ERR_TRAILING);
	assert_int_equal(n, 0);
	assert_int_equal(pages_entries_check(e, 3, 0xffffffffu, 10, &n), XMIG_ERR_TRAILING);
	assert_int_equal(pages_entries_check(e, 3, 0, 10, &n), XMIG_ERR_TRUNCATED);
}

static void
test_pages_entries_rejects_pfn_beyond_domain(void **state)
{
	uint64_t e[2] = { page_entry(0, PAGE_ZERO), page_entry(9, PAGE_ZERO) };
	uint32_t n;

	assert_int_equal(pages_entries_check(e, 2, pages_len(2, 0), 10, &n), 0);
	assert_int_equal(pages_entries_check(e, 2, pages_len(2, 0), 9, &n), XMIG_ERR_INVALID);
	assert_int_equal(pages_entries_check(e, 2, pages_len(2, 0), 0, &n), XMIG_ERR_INVALID);
	e[1] = page_entry(PAGE_ENTRY_PFN_MASK, PAGE_ZERO);
	assert_int_equal(pages_entries_check(e, 2, pages_len(2, 0), 1ull << 40, &n),
	    XMIG_ERR_INVALID);
}

static void
test_pages_entries_rejects_bad_kind(void **state)
{
	uint64_t e[2];
	uint32_t n;
	unsigned kind;

	for (kind = 2; kind < 16; kind++) {
		e[0] = page_entry(0, PAGE_NORMAL);
		e[1] = page_entry(1, kind);
		assert_int_equal(page_entry_kind(e[1]), kind);
		assert_int_equal(pages_entries_check(e, 2, pages_len(2, 1), 10, &n),
		    XMIG_ERR_INVALID);
		assert_int_equal(pages_entries_check(e, 2, pages_len(2, 2), 10, &n),
		    XMIG_ERR_INVALID);
	}
}

static void
test_pages_entries_rejects_count_too_big(void **state)
{
	uint64_t *e = calloc(PROTO_PAGES_MAX + 1, sizeof(*e));
	uint32_t n;

	assert_non_null(e);
	assert_int_equal(pages_entries_check(e, PROTO_PAGES_MAX + 1,
	    pages_len(PROTO_PAGES_MAX + 1, 0), 1, &n), XMIG_ERR_TOO_LONG);
	assert_int_equal(pages_entries_check(e, 0, PAGES_HEAD_LEN, 1, &n), XMIG_ERR_INVALID);
	free(e);
}

/* The receiver's sequence on a wire frame: head, entries (big-endian on the
 * wire), check, then exactly n_normal pages of data. */
static void
test_pages_wire_frame_decodes_like_the_receiver(void **state)
{
	static const uint64_t pfns[4] = { 3, 0, 7, 2 };
	static const unsigned kinds[4] = { PAGE_NORMAL, PAGE_ZERO, PAGE_NORMAL, PAGE_ZERO };
	uint8_t frame[FRAME_HDR_LEN + PAGES_HEAD_LEN + 32];
	uint64_t e[4];
	struct frame_hdr fh;
	uint32_t round, count, n, i, len = pages_len(4, 2);

	frame_hdr_encode(frame, MSG_PAGES, 0, len);
	put_head(frame + FRAME_HDR_LEN, 2, 4);
	for (i = 0; i < 4; i++)
		be64_put(frame + FRAME_HDR_LEN + PAGES_HEAD_LEN + 8 * i, page_entry(pfns[i], kinds[i]));
	assert_int_equal(frame_hdr_decode(frame, &fh), 0);
	assert_int_equal(fh.len, len);
	assert_int_equal(pages_head_decode(frame + FRAME_HDR_LEN, fh.len, &round, &count), 0);
	assert_int_equal(round, 2);
	assert_int_equal(count, 4);
	for (i = 0; i < count; i++)
		e[i] = be64_get(frame + FRAME_HDR_LEN + PAGES_HEAD_LEN + 8 * i);
	assert_int_equal(pages_entries_check(e, count, fh.len, 8, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(fh.len - PAGES_HEAD_LEN - 8 * count, n * PROTO_PAGE_SIZE);
	assert_true(page_entry_pfn(e[2]) == 7);
	assert_int_equal(page_entry_kind(e[1]), PAGE_ZERO);
}

/* ---- HOST_INFO_REPLY ---- */

static struct msg_host_info_reply *
host_info_sample(uint32_t ndoms)
{
	struct msg_host_info_reply *m = calloc(1, sizeof(*m));
	uint32_t i;

	assert_non_null(m);
	m->state = HOSTSTATE_PREPARING;
	m->mem_total = 64ull << 30;
	m->mem_free = 40ull << 30;
	m->vcpus_total = 32;
	m->vcpus_used = 20;
	m->ndoms = ndoms;
	for (i = 0; i < ndoms; i++) {
		/* Longest names, so the largest frame is the type maximum. */
		memset(m->doms[i].name, 'a' + (char)(i % 26), PROTO_NAME_MAX - 1);
		m->doms[i].mem = (uint64_t)(i + 1) << 24;
		m->doms[i].vcpus = 1 + i % 8;
		m->doms[i].flags = i % 3 == 0 ? HOST_INFO_F_PINNED : 0;
	}
	return m;
}

static void
test_host_info_round_trip_and_maximum(void **state)
{
	struct msg_host_info_reply *in = host_info_sample(PROTO_HOST_INFO_DOMS_MAX);
	struct msg_host_info_reply *out = calloc(1, sizeof(*out));
	uint8_t *buf = malloc(proto_max_len(MSG_HOST_INFO_REPLY) + 16);
	int n;

	assert_non_null(out);
	assert_non_null(buf);
	n = msg_host_info_reply_encode(in, buf, proto_max_len(MSG_HOST_INFO_REPLY) + 16);
	assert_int_equal(n, proto_max_len(MSG_HOST_INFO_REPLY));
	assert_int_equal(msg_host_info_reply_decode(buf, (size_t)n, out), 0);
	assert_memory_equal(out, in, sizeof(*in));
	/* Every truncation and a trailing byte are refused, and leave nothing. */
	in->ndoms = 3;
	n = msg_host_info_reply_encode(in, buf, proto_max_len(MSG_HOST_INFO_REPLY));
	assert_true(n > 0);
	for (int k = 0; k < n; k++) {
		assert_int_not_equal(msg_host_info_reply_decode(buf, (size_t)k, out), 0);
		assert_int_equal(out->ndoms, 0);
	}
	buf[n] = 0;
	assert_int_equal(msg_host_info_reply_decode(buf, (size_t)n + 1, out), XMIG_ERR_TRAILING);
	/* A short buffer fails the encoder, not the peer. */
	assert_int_equal(msg_host_info_reply_encode(in, buf, (size_t)n - 1), XMIG_ERR_TOO_LONG);
	/* Empty host. */
	in->ndoms = 0;
	n = msg_host_info_reply_encode(in, buf, 64);
	assert_int_equal(n, 1 + 8 + 8 + 4 + 4 + 2);
	assert_int_equal(msg_host_info_reply_decode(buf, (size_t)n, out), 0);
	assert_int_equal(proto_max_len(MSG_HOST_INFO), 0);
	assert_int_equal(proto_max_len(MSG_HOST_INFO_REPLY), 19995);	/* docs/protocol.md */
	assert_string_equal(proto_type_str(MSG_HOST_INFO_REPLY), "HOST_INFO_REPLY");
	free(buf);
	free(in);
	free(out);
}

static void
test_host_info_rejects_bad_values(void **state)
{
	struct msg_host_info_reply *m = host_info_sample(2), *out = calloc(1, sizeof(*out));
	uint8_t buf[4096];
	int n;

	assert_non_null(out);
	n = msg_host_info_reply_encode(m, buf, sizeof(buf));
	assert_true(n > 0);
	/* Unknown host state. */
	buf[0] = 3;
	assert_int_equal(msg_host_info_reply_decode(buf, (size_t)n, out), XMIG_ERR_INVALID);
	buf[0] = HOSTSTATE_ACTIVE;
	/* A count above the maximum is refused before any entry is read. */
	be16_put(buf + 25, PROTO_HOST_INFO_DOMS_MAX + 1);
	assert_int_equal(msg_host_info_reply_decode(buf, (size_t)n, out), XMIG_ERR_TOO_LONG);
	be16_put(buf + 25, 0xffff);
	assert_int_equal(msg_host_info_reply_decode(buf, (size_t)n, out), XMIG_ERR_TOO_LONG);
	be16_put(buf + 25, 2);
	/* Unknown domain flag (last byte of the last entry). */
	buf[n - 1] = 0x80;
	assert_int_equal(msg_host_info_reply_decode(buf, (size_t)n, out), XMIG_ERR_INVALID);
	buf[n - 1] = 0;
	assert_int_equal(msg_host_info_reply_decode(buf, (size_t)n, out), 0);
	/* Encoder-side checks: free above total, bad names, too many. */
	m->mem_free = m->mem_total + 1;
	assert_int_equal(msg_host_info_reply_encode(m, buf, sizeof(buf)), XMIG_ERR_INVALID);
	m->mem_free = 0;
	strcpy(m->doms[1].name, "../etc");
	assert_int_equal(msg_host_info_reply_encode(m, buf, sizeof(buf)), XMIG_ERR_INVALID);
	strcpy(m->doms[1].name, "");
	assert_int_equal(msg_host_info_reply_encode(m, buf, sizeof(buf)), XMIG_ERR_INVALID);
	strcpy(m->doms[1].name, "ok");
	m->doms[1].vcpus = 4097;	/* above proto.c's 4096 */
	assert_int_equal(msg_host_info_reply_encode(m, buf, sizeof(buf)), XMIG_ERR_INVALID);
	m->doms[1].vcpus = 1;
	m->ndoms = PROTO_HOST_INFO_DOMS_MAX + 1;
	assert_int_equal(msg_host_info_reply_encode(m, buf, sizeof(buf)), XMIG_ERR_TOO_LONG);
	free(m);
	free(out);
}

static void
test_type_and_reason_names(void **state)
{
	unsigned t, c;

	assert_string_equal(proto_type_str(MSG_HELLO), "HELLO");
	assert_string_equal(proto_type_str(MSG_QUERY_REPLY), "QUERY_REPLY");
	for (t = 1; t <= MSG_TYPE_MAX; t++)
		for (c = t + 1; c <= MSG_TYPE_MAX; c++)
			assert_string_not_equal(proto_type_str((uint8_t)t), proto_type_str((uint8_t)c));
	for (c = REASON_OTHER; c <= REASON_MAINTENANCE; c++)
		assert_string_not_equal(proto_reason_str((uint16_t)c), "unknown reason");
	assert_string_equal(proto_reason_str(REASON_MAINTENANCE + 1), "unknown reason");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hello_round_trip),
		cmocka_unit_test(test_devices_ready_is_bit_2_and_an_empty_frame),
		cmocka_unit_test(test_zraw_head_round_trip_and_refusals),
		cmocka_unit_test(test_hello_largest_is_exactly_the_type_maximum),
		cmocka_unit_test(test_prepare_round_trip),
		cmocka_unit_test(test_prepare_largest_is_exactly_the_type_maximum),
		cmocka_unit_test(test_prepare_all_dom_types_round_trip),
		cmocka_unit_test(test_reason_round_trip_including_empty_and_longest_text),
		cmocka_unit_test(test_round_end_round_trip),
		cmocka_unit_test(test_built_and_done_round_trip),
		cmocka_unit_test(test_query_and_reply_round_trip_every_outcome),
		cmocka_unit_test(test_empty_payloads),
		cmocka_unit_test(test_every_decoder_rejects_truncation_at_every_length),
		cmocka_unit_test(test_every_decoder_rejects_trailing_bytes),
		cmocka_unit_test(test_every_encoder_refuses_a_short_buffer),
		cmocka_unit_test(test_hello_rejects_huge_string_length),
		cmocka_unit_test(test_hello_rejects_embedded_nul),
		cmocka_unit_test(test_hello_rejects_bad_version_range),
		cmocka_unit_test(test_hello_rejects_bad_page_size),
		cmocka_unit_test(test_hello_rejects_empty_arch_hv_host),
		cmocka_unit_test(test_hello_encode_refuses_unterminated_strings),
		cmocka_unit_test(test_prepare_rejects_bad_names),
		cmocka_unit_test(test_prepare_rejects_name_too_long_or_with_nul),
		cmocka_unit_test(test_prepare_rejects_bad_page_counts),
		cmocka_unit_test(test_prepare_rejects_bad_vcpus),
		cmocka_unit_test(test_prepare_rejects_bad_enums),
		cmocka_unit_test(test_prepare_rejects_oversize_cfg),
		cmocka_unit_test(test_reason_rejects_text_that_does_not_fit),
		cmocka_unit_test(test_reason_rejects_embedded_nul),
		cmocka_unit_test(test_reason_encode_never_truncates),
		cmocka_unit_test(test_reason_keeps_unknown_codes),
		cmocka_unit_test(test_reason_and_hello_host_from_a_peer_become_valid_utf8),
		cmocka_unit_test(test_query_reply_rejects_unknown_outcome),
		cmocka_unit_test(test_query_reply_refuses_bad_name_and_short_format),
		cmocka_unit_test(test_header_round_trip),
		cmocka_unit_test(test_header_rejects_bad_magic),
		cmocka_unit_test(test_header_rejects_bad_version),
		cmocka_unit_test(test_header_unknown_type_without_optional_is_refused),
		cmocka_unit_test(test_header_unknown_type_with_optional_is_skippable),
		cmocka_unit_test(test_header_rejects_undefined_flags),
		cmocka_unit_test(test_header_rejects_oversize_len_for_each_type),
		cmocka_unit_test(test_type_maxima_are_as_specified),
		cmocka_unit_test(test_hello_features_round_trip_and_are_used_only_when_both_have_them),
		cmocka_unit_test(test_dm_physmap_round_trip_and_largest),
		cmocka_unit_test(test_dm_physmap_rejects_each_malformed_field),
		cmocka_unit_test(test_dm_physmap_rejects_bad_counts_and_duplicate_keys),
		cmocka_unit_test(test_dm_physmap_encoder_refuses_what_the_decoder_would),
		cmocka_unit_test(test_dm_hex_parse),
		cmocka_unit_test(test_dm_physmap_add_from_xenstore_text),
		cmocka_unit_test(test_dm_state_head_round_trip_and_refusals),
		cmocka_unit_test(test_dm_state_accumulates_in_order_and_refuses_the_rest),
		cmocka_unit_test(test_dm_state_memory_follows_the_bytes_received),
		cmocka_unit_test(test_pages_head_accepts_valid),
		cmocka_unit_test(test_pages_head_rejects_count_too_big),
		cmocka_unit_test(test_pages_head_rejects_zero_count),
		cmocka_unit_test(test_pages_head_rejects_frame_shorter_than_entries),
		cmocka_unit_test(test_pages_entries_n_normal_correct),
		cmocka_unit_test(test_pages_entries_full_frame_is_the_type_maximum),
		cmocka_unit_test(test_pages_entries_rejects_len_mismatch_by_one),
		cmocka_unit_test(test_pages_entries_rejects_pfn_beyond_domain),
		cmocka_unit_test(test_pages_entries_rejects_bad_kind),
		cmocka_unit_test(test_pages_entries_rejects_count_too_big),
		cmocka_unit_test(test_pages_wire_frame_decodes_like_the_receiver),
		cmocka_unit_test(test_type_and_reason_names),
		cmocka_unit_test(test_host_info_round_trip_and_maximum),
		cmocka_unit_test(test_host_info_rejects_bad_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
