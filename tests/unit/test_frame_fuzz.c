/* test_frame_fuzz.c - deterministic mutation of one valid frame of each type.
 *
 * Each mutant (1-bit flips, 1-byte replacements, truncation from either end,
 * rewrites of every 16- and 32-bit field that could be a length or count,
 * and seeded random multi-byte damage) is fed to frame_hdr_decode and then,
 * as the receiver would, to the decoder of the type the (mutated) header
 * names and to the decoder of the original type.  Payloads are handed over
 * in heap blocks of exactly their length so that ASan catches any over-read;
 * build with SAN=1 to get that.  Beyond "never crashes", every accepted
 * mutant must satisfy the decoder's contract: values in range, strings
 * terminated, and (the encoding being canonical) re-encoding it gives back
 * the very same bytes, bar string bytes sanitized to '?'.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto.h"
#include "xbuf.h"
#include "xerr.h"

#define NR_PAGES 64		/* the receiving domain's size, for PAGES */
#define RANDOM_ROUNDS 4000

struct stats {
	unsigned long fed, hdr_ok, payload_ok;
};

static uint64_t rng_state;

static uint64_t
rng(void)
{
	/* xorshift64*: deterministic, seeded per frame type */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static uint8_t *
exact_copy(const uint8_t *p, size_t n)
{
	uint8_t *q = malloc(n ? n : 1);

	assert_non_null(q);
	if (n)
		memcpy(q, p, n);
	return q;
}

static bool
terminated(const char *s, size_t size)
{
	return strnlen(s, size) < size;
}

/* Decode p[0..n) as `type`; check the contract of an accepted payload.
 * frame_len is the header's length (PAGES is checked against it, as the
 * receiver does, before its data is read).  Returns the decoder's result. */
static int
decode_as(uint8_t type, const uint8_t *src, size_t n, uint32_t frame_len)
{
	uint8_t *p = exact_copy(src, n);
	uint8_t re[1024];
	int r = 0, m = -1;

	switch (type) {
	case MSG_HELLO: {
		struct msg_hello h;

		if ((r = msg_hello_decode(p, n, &h)) == 0) {
			assert_true(terminated(h.arch, sizeof(h.arch)) && h.arch[0] != '\0');
			assert_true(terminated(h.hv, sizeof(h.hv)) && h.hv[0] != '\0');
			assert_true(terminated(h.hv_version, sizeof(h.hv_version)));
			assert_true(terminated(h.host, sizeof(h.host)) && h.host[0] != '\0');
			assert_true(h.proto_min >= 1 && h.proto_min <= h.proto_max);
			assert_true(h.page_size >= 4096 && h.page_size <= (1u << 20) &&
			    (h.page_size & (h.page_size - 1)) == 0);
			m = msg_hello_encode(&h, re, sizeof(re));
		} else {
			assert_int_equal(h.arch[0], '\0');
		}
		break;
	}
	case MSG_PREPARE: {
		struct msg_prepare pr;
		size_t i;

		if ((r = msg_prepare_decode(p, n, &pr)) == 0) {
			assert_true(terminated(pr.name, sizeof(pr.name)) && pr.name[0] != '\0');
			for (i = 0; pr.name[i] != '\0'; i++)
				assert_non_null(strchr("abcdefghijklmnopqrstuvwxyz"
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", pr.name[i]));
			assert_true(strcmp(pr.name, ".") != 0 && strcmp(pr.name, "..") != 0);
			assert_true(pr.nr_pages >= 1 && pr.nr_pages <= pr.max_pages &&
			    pr.max_pages <= (1ull << 40));
			assert_true(pr.vcpus >= 1 && pr.vcpus <= 4096);
			assert_true(pr.dom_type <= DOMTYPE_HVM && pr.live <= 1);
			assert_true(pr.cfg_len <= PROTO_CFG_MAX);
			/* The blob lies inside the payload. */
			if (pr.cfg_len > 0)
				assert_true(pr.cfg >= p && pr.cfg + pr.cfg_len <= p + n);
			m = msg_prepare_encode(&pr, re, sizeof(re));
		}
		break;
	}
	case MSG_REFUSE:
	case MSG_ABORT: {
		struct msg_reason rs;

		if ((r = msg_reason_decode(p, n, &rs)) == 0) {
			assert_true(terminated(rs.text, sizeof(rs.text)));
			assert_non_null(proto_reason_str(rs.code));
			m = msg_reason_encode(&rs, re, sizeof(re));
		}
		break;
	}
	case MSG_ROUND_END: {
		struct msg_round_end x;

		if ((r = msg_round_end_decode(p, n, &x)) == 0)
			m = msg_round_end_encode(&x, re, sizeof(re));
		break;
	}
	case MSG_BUILT: {
		struct msg_built x;

		if ((r = msg_built_decode(p, n, &x)) == 0)
			m = msg_built_encode(&x, re, sizeof(re));
		break;
	}
	case MSG_DONE: {
		struct msg_done x;

		if ((r = msg_done_decode(p, n, &x)) == 0)
			m = msg_done_encode(&x, re, sizeof(re));
		break;
	}
	case MSG_QUERY: {
		struct msg_query x;

		if ((r = msg_query_decode(p, n, &x)) == 0)
			m = msg_query_encode(&x, re, sizeof(re));
		break;
	}
	case MSG_QUERY_REPLY: {
		struct msg_query_reply x;

		if ((r = msg_query_reply_decode(p, n, &x)) == 0) {
			assert_true(x.outcome <= OUTCOME_ABORTED);
			m = msg_query_reply_encode(&x, re, sizeof(re));
		}
		break;
	}
	case MSG_HOST_INFO_REPLY: {
		struct msg_host_info_reply *x = calloc(1, sizeof(*x));
		uint8_t *big = malloc(proto_max_len(MSG_HOST_INFO_REPLY));
		uint32_t i;
		int k;

		assert_non_null(x);
		assert_non_null(big);
		if ((r = msg_host_info_reply_decode(p, n, x)) == 0) {
			assert_true(x->state <= HOSTSTATE_MAINTENANCE && x->mem_free <= x->mem_total);
			assert_true(x->ndoms <= PROTO_HOST_INFO_DOMS_MAX);
			for (i = 0; i < x->ndoms; i++) {
				assert_true(terminated(x->doms[i].name, sizeof(x->doms[i].name)) &&
				    x->doms[i].name[0] != '\0');
				assert_true((x->doms[i].flags & ~HOST_INFO_F_PINNED) == 0);
			}
			/* Canonical, checked here: the reply may exceed re[]. */
			k = msg_host_info_reply_encode(x, big, proto_max_len(MSG_HOST_INFO_REPLY));
			assert_int_equal(k, (int)n);
			assert_memory_equal(big, p, n);
		} else {
			assert_int_equal(x->ndoms, 0);
		}
		free(big);
		free(x);
		break;
	}
	case MSG_HOST_INFO:
	case MSG_PREPARE_OK:
	case MSG_STREAM_END:
	case MSG_GO:
	case MSG_DEVICES_READY:
		if ((r = msg_empty_decode(p, n)) == 0)
			assert_int_equal(n, 0);
		break;
	case MSG_PAGES: {
		uint32_t round, count, n_normal, i;
		uint64_t e[PROTO_PAGES_MAX];

		/* As the receiver: head, entries, check; then the page data.
		 * Bytes the stream does not have would be EOF. */
		if (n < PAGES_HEAD_LEN) {
			r = XMIG_ERR_EOF;
			break;
		}
		if ((r = pages_head_decode(p, frame_len, &round, &count)) != 0)
			break;
		assert_true(count >= 1 && count <= PROTO_PAGES_MAX);
		assert_true(PAGES_HEAD_LEN + 8ull * count <= frame_len);
		if (PAGES_HEAD_LEN + 8ull * count > n) {
			r = XMIG_ERR_EOF;
			break;
		}
		for (i = 0; i < count; i++)
			e[i] = be64_get(p + PAGES_HEAD_LEN + 8 * i);
		if ((r = pages_entries_check(e, count, frame_len, NR_PAGES, &n_normal)) != 0)
			break;
		assert_true(n_normal <= count);
		assert_true(PAGES_HEAD_LEN + 8ull * count + (uint64_t)n_normal * PROTO_PAGE_SIZE ==
		    frame_len);
		if (frame_len > n)
			r = XMIG_ERR_EOF;
		for (i = 0; i < count; i++) {
			assert_true(page_entry_pfn(e[i]) < NR_PAGES);
			assert_true(page_entry_kind(e[i]) <= PAGE_ZERO);
		}
		break;
	}
	case MSG_DM_PHYSMAP: {
		struct msg_dm_physmap *x = calloc(1, sizeof(*x));
		uint8_t *big = malloc(proto_max_len(MSG_DM_PHYSMAP));
		uint32_t i, j;
		size_t c;

		assert_non_null(x);
		assert_non_null(big);
		if ((r = msg_dm_physmap_decode(p, n, x)) == 0) {
			assert_true(x->count >= 1 && x->count <= PROTO_DM_PHYSMAP_MAX);
			for (i = 0; i < x->count; i++) {
				const struct msg_dm_physmap_ent *e = &x->ents[i];

				assert_true(e->phys_offset % 4096 == 0 && e->start_addr % 4096 == 0 &&
				    e->size % 4096 == 0 && e->size > 0);
				assert_true(e->start_addr + e->size <= PROTO_DM_ADDR_LIMIT &&
				    e->phys_offset + e->size <= PROTO_DM_ADDR_LIMIT);
				assert_true(terminated(e->name, sizeof(e->name)) && e->name[0] != '\0');
				for (c = 0; e->name[c] != '\0'; c++)
					assert_non_null(strchr("abcdefghijklmnopqrstuvwxyz"
					    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:/-", e->name[c]));
				for (j = 0; j < i; j++)
					assert_true(x->ents[j].phys_offset != e->phys_offset);
			}
			/* Canonical, checked here: the payload may exceed re[]. */
			assert_int_equal(msg_dm_physmap_encode(x, big, proto_max_len(MSG_DM_PHYSMAP)),
			    (int)n);
			assert_memory_equal(big, p, n);
		} else {
			assert_int_equal(x->count, 0);
		}
		free(big);
		free(x);
		break;
	}
	case MSG_DM_STATE: {
		struct dm_state_acc acc;
		uint32_t total, off;

		/* As the receiver: the head against the frame's length, then
		 * the whole payload into an accumulator. */
		if (n < DM_STATE_HEAD_LEN) {
			r = XMIG_ERR_EOF;
			break;
		}
		if ((r = dm_state_head_decode(p, frame_len, &total, &off)) != 0) {
			assert_true(total == 0 && off == 0);
			break;
		}
		assert_true(total >= 1 && total <= PROTO_DM_STATE_MAX);
		assert_true(frame_len > DM_STATE_HEAD_LEN &&
		    (uint64_t)off + frame_len - DM_STATE_HEAD_LEN <= total);
		if (frame_len > n) {
			r = XMIG_ERR_EOF;
			break;
		}
		dm_state_acc_init(&acc);
		/* A first chunk must start at 0. */
		assert_int_equal(dm_state_acc_add(&acc, p, (uint32_t)n), off == 0 ? 0 :
		    XMIG_ERR_INVALID);
		if (off == 0) {
			assert_int_equal(acc.got, n - DM_STATE_HEAD_LEN);
			assert_true(acc.cap <= total);
			assert_memory_equal(acc.data, p + DM_STATE_HEAD_LEN, acc.got);
			assert_int_equal(dm_state_acc_complete(&acc), acc.got == total);
		}
		dm_state_acc_free(&acc);
		break;
	}
	default:
		/* CONTEXT, RAW: opaque to the protocol layer; nothing to decode. */
		break;
	}
	if (m != -1) {
		/* Canonical encoding: an accepted payload re-encodes to itself,
		 * but for the bytes of its strings that were not valid UTF-8 text
		 * (xbuf_get_str makes them '?', one for one). */
		size_t k;

		assert_int_equal(m, (int)n);
		for (k = 0; k < n; k++)
			assert_true(re[k] == p[k] || re[k] == '?');
	}
	free(p);
	return r;
}

/* One mutant, as bytes off the wire: header, then what follows. */
static void
feed(const uint8_t *f, size_t n, uint8_t orig_type, struct stats *st)
{
	struct frame_hdr h;
	size_t avail, plen;
	uint8_t hdr[FRAME_HDR_LEN];
	int r;

	st->fed++;
	if (n < FRAME_HDR_LEN)
		return;		/* the reader would see EOF */
	memcpy(hdr, f, FRAME_HDR_LEN);
	r = frame_hdr_decode(hdr, &h);
	avail = n - FRAME_HDR_LEN;
	/* The decoder of the original type sees whatever payload is there. */
	decode_as(orig_type, f + FRAME_HDR_LEN, avail, (uint32_t)avail);
	if (r != 0)
		return;
	st->hdr_ok++;
	if (h.type < 1 || h.type > MSG_TYPE_MAX) {
		/* Unknown optional frame: the reader skips h.len bytes. */
		assert_true(h.flags & FRAME_F_OPTIONAL);
		assert_true(h.len <= FRAME_MAX);
		return;
	}
	assert_true(h.len <= proto_max_len(h.type));
	/* The reader reads exactly h.len bytes; fewer available means EOF, but
	 * feed what there is anyway: the decoder must cope. */
	plen = h.len < avail ? h.len : avail;
	if (decode_as(h.type, f + FRAME_HDR_LEN, plen, h.len) == 0)
		st->payload_ok++;
}

/* ---- one valid frame of each type ---- */

struct frame {
	uint8_t type;
	uint8_t *d;
	size_t len;
};

static void
make_frame(struct frame *fr, uint8_t type)
{
	uint8_t pl[2 * 4096 + 256];
	int n = 0;

	memset(pl, 0, sizeof(pl));
	switch (type) {
	case MSG_HELLO: {
		struct msg_hello h = { .proto_min = 1, .proto_max = 1, .arch = "x86_64",
			.hv = "xen", .hv_version = "4.17", .page_size = 4096,
			.mem_total = 1ull << 36, .mem_free = 1ull << 34, .host = "dom0-b" };

		n = msg_hello_encode(&h, pl, sizeof(pl));
		break;
	}
	case MSG_PREPARE: {
		static const uint8_t cfg[12] = "name=vm1;x=1";
		struct msg_prepare m = { .token = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
			16 }, .name = "vm1.test", .uuid = { 0xde, 0xad }, .nr_pages = NR_PAGES,
			.max_pages = 128, .vcpus = 2, .dom_type = DOMTYPE_PV, .live = 1,
			.cfg = cfg, .cfg_len = sizeof(cfg) };

		n = msg_prepare_encode(&m, pl, sizeof(pl));
		break;
	}
	case MSG_REFUSE:
	case MSG_ABORT: {
		struct msg_reason m = { .code = REASON_BUSY, .text = "too many migrations" };

		n = msg_reason_encode(&m, pl, sizeof(pl));
		break;
	}
	case MSG_PAGES: {
		/* 3 entries, 2 NORMAL: 8 + 24 + 8192 bytes. */
		be32_put(pl, 1);
		be32_put(pl + 4, 3);
		be64_put(pl + 8, page_entry(5, PAGE_NORMAL));
		be64_put(pl + 16, page_entry(6, PAGE_ZERO));
		be64_put(pl + 24, page_entry(NR_PAGES - 1, PAGE_NORMAL));
		memset(pl + 32, 0xab, 2 * PROTO_PAGE_SIZE);
		n = 32 + 2 * PROTO_PAGE_SIZE;
		break;
	}
	case MSG_ROUND_END: {
		struct msg_round_end m = { 2, 1000, 50 };

		n = msg_round_end_encode(&m, pl, sizeof(pl));
		break;
	}
	case MSG_CONTEXT:
	case MSG_RAW:
		memset(pl, 0x11, 40);
		n = 40;
		break;
	case MSG_BUILT: {
		struct msg_built m = { 7 };

		n = msg_built_encode(&m, pl, sizeof(pl));
		break;
	}
	case MSG_DONE: {
		struct msg_done m = { .domid = 7 };

		n = msg_done_encode(&m, pl, sizeof(pl));
		break;
	}
	case MSG_QUERY: {
		struct msg_query m = { { 0x42, 0x43 } };

		n = msg_query_encode(&m, pl, sizeof(pl));
		break;
	}
	case MSG_HOST_INFO_REPLY: {
		static struct msg_host_info_reply m = { .state = HOSTSTATE_ACTIVE,
			.mem_total = 1ull << 34, .mem_free = 1ull << 33, .vcpus_total = 16,
			.vcpus_used = 3, .ndoms = 2, .doms = { { "vm1", 1ull << 28, 2, 0 },
			{ "vm-2.x", 1ull << 29, 1, HOST_INFO_F_PINNED } } };

		n = msg_host_info_reply_encode(&m, pl, sizeof(pl));
		break;
	}
	case MSG_QUERY_REPLY: {
		struct msg_query_reply m = { { 0x42 }, OUTCOME_COMMITTED, "vm-1", { 0x24 } };

		n = msg_query_reply_encode(&m, pl, sizeof(pl));
		break;
	}
	case MSG_DM_PHYSMAP: {
		static struct msg_dm_physmap m = { .count = 2, .ents = {
			{ 0xf0000000, 0xf0000000, 0x800000, "vga.vram" },
			{ 0x100000000, 0xf1000000, 0x1000, "qxl.vram" } } };

		n = msg_dm_physmap_encode(&m, pl, sizeof(pl));
		break;
	}
	case MSG_DM_STATE:
		/* the first 40 bytes of a 100-byte state */
		dm_state_head_encode(pl, 100, 0);
		memset(pl + DM_STATE_HEAD_LEN, 0x51, 40);
		n = DM_STATE_HEAD_LEN + 40;
		break;
	default:	/* PREPARE_OK, STREAM_END, GO, DEVICES_READY */
		n = 0;
		break;
	}
	assert_true(n >= 0);
	fr->type = type;
	fr->len = FRAME_HDR_LEN + (size_t)n;
	fr->d = malloc(fr->len);
	assert_non_null(fr->d);
	frame_hdr_encode(fr->d, type, 0, (uint32_t)n);
	memcpy(fr->d + FRAME_HDR_LEN, pl, (size_t)n);
}

/* ---- mutators ---- */

static void
bit_flips(const struct frame *fr, uint8_t *m, struct stats *st)
{
	size_t i;
	unsigned b;

	for (i = 0; i < fr->len; i++)
		for (b = 0; b < 8; b++) {
			memcpy(m, fr->d, fr->len);
			m[i] ^= (uint8_t)(1u << b);
			feed(m, fr->len, fr->type, st);
		}
}

static void
byte_replacements(const struct frame *fr, uint8_t *m, struct stats *st)
{
	static const uint8_t vals[] = { 0x00, 0x01, 0x2f, 0x7f, 0x80, 0xfe, 0xff };
	size_t i;
	unsigned k;

	for (i = 0; i < fr->len; i++) {
		for (k = 0; k < sizeof(vals); k++) {
			memcpy(m, fr->d, fr->len);
			m[i] = vals[k];
			feed(m, fr->len, fr->type, st);
		}
		memcpy(m, fr->d, fr->len);
		m[i] = (uint8_t)rng();
		feed(m, fr->len, fr->type, st);
	}
}

static void
truncations(const struct frame *fr, struct stats *st)
{
	size_t k;

	/* From the end: every prefix, with the header still claiming the full
	 * length; from the start: the stream lost k bytes. */
	for (k = 0; k <= fr->len; k++) {
		feed(fr->d, fr->len - k, fr->type, st);
		feed(fr->d + k, fr->len - k, fr->type, st);
	}
}

static void
length_rewrites(const struct frame *fr, uint8_t *m, struct stats *st)
{
	uint32_t plen = (uint32_t)(fr->len - FRAME_HDR_LEN), max = proto_max_len(fr->type);
	const uint32_t hlens[] = { 0, 1, plen - 1, plen + 1, max, max + 1, FRAME_MAX,
		FRAME_MAX + 1, 0x7fffffffu, 0xffffffffu };
	size_t i, lim;
	unsigned k;

	/* The header's length field. */
	for (k = 0; k < sizeof(hlens) / sizeof(hlens[0]); k++) {
		memcpy(m, fr->d, fr->len);
		be32_put(m + 8, hlens[k]);
		feed(m, fr->len, fr->type, st);
	}
	/* Every 16- and 32-bit window of the payload, as if it were a length or
	 * count (string lengths, the cfg blob length, the PAGES count).  PAGES
	 * data is uniform: only its head and entries are rewritten. */
	lim = fr->type == MSG_PAGES ? FRAME_HDR_LEN + 32 : fr->len;
	for (i = FRAME_HDR_LEN; i + 2 <= lim; i++) {
		uint16_t cur = be16_get(fr->d + i);
		const uint16_t v16[] = { 0, 1, (uint16_t)(cur - 1), (uint16_t)(cur + 1), 0x7fff,
			0xffff };

		for (k = 0; k < sizeof(v16) / sizeof(v16[0]); k++) {
			memcpy(m, fr->d, fr->len);
			be16_put(m + i, v16[k]);
			feed(m, fr->len, fr->type, st);
		}
		if (i + 4 > lim)
			continue;
		{
			uint32_t c32 = be32_get(fr->d + i);
			const uint32_t v32[] = { 0, 1, c32 - 1, c32 + 1, PROTO_PAGES_MAX,
				PROTO_PAGES_MAX + 1, PROTO_CFG_MAX, PROTO_CFG_MAX + 1, 0x80000000u,
				0xffffffffu };

			for (k = 0; k < sizeof(v32) / sizeof(v32[0]); k++) {
				memcpy(m, fr->d, fr->len);
				be32_put(m + i, v32[k]);
				feed(m, fr->len, fr->type, st);
			}
		}
	}
}

static void
random_damage(const struct frame *fr, uint8_t *m, struct stats *st)
{
	unsigned it, k, nmut;

	for (it = 0; it < RANDOM_ROUNDS; it++) {
		size_t len = fr->len;

		memcpy(m, fr->d, fr->len);
		nmut = 1 + (unsigned)(rng() % 8);
		for (k = 0; k < nmut; k++) {
			/* Bias towards the header and the start of the payload,
			 * where the structure is. */
			size_t span = (rng() & 1) ? (len < 64 ? len : 64) : len;
			size_t pos = (size_t)(rng() % span);

			m[pos] = (uint8_t)rng();
		}
		if (rng() % 4 == 0)
			len = (size_t)(rng() % (fr->len + 1));
		feed(m, len, fr->type, st);
	}
}

static void
fuzz_type(uint8_t type)
{
	struct frame fr;
	struct stats st = { 0, 0, 0 };
	uint8_t *m;

	rng_state = 0x9e3779b97f4a7c15ull ^ type;
	make_frame(&fr, type);
	m = malloc(fr.len);
	assert_non_null(m);

	/* The unmutated frame is accepted. */
	feed(fr.d, fr.len, type, &st);
	assert_int_equal(st.hdr_ok, 1);
	if (type != MSG_CONTEXT && type != MSG_RAW)
		assert_int_equal(st.payload_ok, 1);

	bit_flips(&fr, m, &st);
	byte_replacements(&fr, m, &st);
	truncations(&fr, &st);
	length_rewrites(&fr, m, &st);
	random_damage(&fr, m, &st);

	/* Mutants must have been refused: a decoder that accepted everything
	 * would pass the checks above. */
	assert_true(st.payload_ok < st.fed);
	print_message("%-12s %6zu bytes: %7lu mutants, %7lu headers accepted, %7lu payloads "
	    "accepted\n", proto_type_str(type), fr.len, st.fed, st.hdr_ok, st.payload_ok);
	free(m);
	free(fr.d);
}

#define FUZZ(T) static void test_fuzz_##T(void **state) { fuzz_type(MSG_##T); }
FUZZ(HELLO)
FUZZ(PREPARE)
FUZZ(PREPARE_OK)
FUZZ(REFUSE)
FUZZ(PAGES)
FUZZ(ROUND_END)
FUZZ(CONTEXT)
FUZZ(RAW)
FUZZ(STREAM_END)
FUZZ(BUILT)
FUZZ(GO)
FUZZ(DONE)
FUZZ(ABORT)
FUZZ(QUERY)
FUZZ(QUERY_REPLY)
FUZZ(HOST_INFO)
FUZZ(HOST_INFO_REPLY)
FUZZ(DM_PHYSMAP)
FUZZ(DM_STATE)

/* Raw header bytes: every value of the type and version bytes, with and
 * without OPTIONAL, against a few lengths. */
static void
test_fuzz_header_space(void **state)
{
	static const uint32_t lens[] = { 0, 1, 20, 4096, FRAME_MAX, FRAME_MAX + 1, 0xffffffffu };
	uint8_t h[FRAME_HDR_LEN];
	struct frame_hdr fh;
	unsigned v, t, f, l;

	for (v = 0; v < 256; v++)
		for (t = 0; t < 256; t++)
			for (f = 0; f < 2; f++)
				for (l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
					bool known = t >= 1 && t <= MSG_TYPE_MAX;
					int r, want;

					frame_hdr_encode(h, (uint8_t)t, f ? FRAME_F_OPTIONAL : 0,
					    lens[l]);
					h[4] = (uint8_t)v;
					r = frame_hdr_decode(h, &fh);
					if (v != PROTO_VERSION)
						want = XMIG_ERR_VERSION;
					else if (!known && !f)
						want = XMIG_ERR_BAD_TYPE;
					else if (lens[l] > (known ? proto_max_len((uint8_t)t) :
					    FRAME_MAX))
						want = XMIG_ERR_TOO_LONG;
					else
						want = 0;
					assert_int_equal(r, want);
				}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fuzz_HELLO),
		cmocka_unit_test(test_fuzz_PREPARE),
		cmocka_unit_test(test_fuzz_PREPARE_OK),
		cmocka_unit_test(test_fuzz_REFUSE),
		cmocka_unit_test(test_fuzz_PAGES),
		cmocka_unit_test(test_fuzz_ROUND_END),
		cmocka_unit_test(test_fuzz_CONTEXT),
		cmocka_unit_test(test_fuzz_RAW),
		cmocka_unit_test(test_fuzz_STREAM_END),
		cmocka_unit_test(test_fuzz_BUILT),
		cmocka_unit_test(test_fuzz_GO),
		cmocka_unit_test(test_fuzz_DONE),
		cmocka_unit_test(test_fuzz_ABORT),
		cmocka_unit_test(test_fuzz_QUERY),
		cmocka_unit_test(test_fuzz_QUERY_REPLY),
		cmocka_unit_test(test_fuzz_HOST_INFO),
		cmocka_unit_test(test_fuzz_HOST_INFO_REPLY),
		cmocka_unit_test(test_fuzz_DM_PHYSMAP),
		cmocka_unit_test(test_fuzz_DM_STATE),
		cmocka_unit_test(test_fuzz_header_space),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
