/* fuzz_frame.c - libFuzzer target: the relocation protocol's frame decoders.
 *
 * The input is bytes off the wire: a sequence of frames (12-byte header,
 * then payload), read the way a receiver reads them.  Each header goes
 * through frame_hdr_decode; an accepted header's payload (its `length`
 * bytes, or what is left of the input) goes to the decoder of the type the
 * header names: every message decoder, and for PAGES pages_head_decode then
 * pages_entries_check against the nr_pages of the last PREPARE accepted in
 * the same input (64 before any); DM_STATE chunks go through one
 * accumulator per input, as a receiver gathers them.  A header error ends the stream, as it
 * ends a connection.  Every payload is copied into a heap block of exactly
 * its length, so ASan sees any read past it.
 *
 * Beyond "does not crash", each accepted frame must satisfy the decoder's
 * contract (abort() otherwise, which libFuzzer reports as a crash): fields
 * in their ranges, strings terminated, PAGES lengths consistent, and, the
 * encoding being canonical, re-encoding an accepted payload gives back the
 * very same bytes (bar string bytes sanitized to '?').  A rejected payload leaves the output zeroed.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compress.h"
#include "proto.h"
#include "util.h"
#include "xbuf.h"
#include "xerr.h"

#define DEFAULT_NR_PAGES 64

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "fuzz_frame: contract broken at %s:%d: %s\n", __FILE__, \
		    __LINE__, #cond); \
		abort(); \
	} \
} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
terminated(const char *s, size_t size)
{
	return strnlen(s, size) < size;
}

static bool
all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

/* An accepted payload re-encodes to exactly its bytes, but for string
 * bytes that were not valid UTF-8 text: the decoder made those '?', one
 * for one (xbuf_get_str). */
static void
check_canonical(int m, const uint8_t *re, const uint8_t *p, size_t n)
{
	size_t i;

	CHECK(m == (int)n);
	for (i = 0; i < n; i++)
		CHECK(re[i] == p[i] || re[i] == '?');
}

static void
check_hello(const uint8_t *p, size_t n)
{
	struct msg_hello h;
	uint8_t re[1024];

	if (msg_hello_decode(p, n, &h) != 0) {
		CHECK(all_zero(&h, sizeof(h)));
		return;
	}
	CHECK(terminated(h.arch, sizeof(h.arch)) && h.arch[0] != '\0');
	CHECK(terminated(h.hv, sizeof(h.hv)) && h.hv[0] != '\0');
	CHECK(terminated(h.hv_version, sizeof(h.hv_version)));
	CHECK(terminated(h.host, sizeof(h.host)) && h.host[0] != '\0');
	CHECK(h.proto_min >= 1 && h.proto_min <= h.proto_max);
	CHECK(h.page_size >= 4096 && h.page_size <= (1u << 20) &&
	    (h.page_size & (h.page_size - 1)) == 0);
	CHECK(n <= proto_max_len(MSG_HELLO));
	check_canonical(msg_hello_encode(&h, re, sizeof(re)), re, p, n);
}

static void
check_prepare(const uint8_t *p, size_t n, uint64_t *nr_pages)
{
	static uint8_t re[PROTO_CFG_MAX + 1024];
	struct msg_prepare pr;
	size_t i;

	if (msg_prepare_decode(p, n, &pr) != 0) {
		CHECK(all_zero(&pr, sizeof(pr)));
		return;
	}
	CHECK(terminated(pr.name, sizeof(pr.name)) && pr.name[0] != '\0');
	CHECK(pr.name[0] != '-');
	for (i = 0; pr.name[i] != '\0'; i++)
		CHECK(strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
		    pr.name[i]) != NULL);
	CHECK(strcmp(pr.name, ".") != 0 && strcmp(pr.name, "..") != 0);
	CHECK(pr.nr_pages >= 1 && pr.nr_pages <= pr.max_pages && pr.max_pages <= (1ull << 40));
	CHECK(pr.vcpus >= 1 && pr.vcpus <= 4096);
	CHECK(pr.dom_type <= DOMTYPE_HVM && pr.live <= 1);
	CHECK(pr.cfg_len <= PROTO_CFG_MAX);
	if (pr.cfg_len > 0)
		CHECK(pr.cfg >= p && pr.cfg + pr.cfg_len <= p + n);
	CHECK(n <= proto_max_len(MSG_PREPARE));
	check_canonical(msg_prepare_encode(&pr, re, sizeof(re)), re, p, n);
	*nr_pages = pr.nr_pages;
}

static void
check_reason(const uint8_t *p, size_t n)
{
	struct msg_reason rs;
	uint8_t re[1024];

	if (msg_reason_decode(p, n, &rs) != 0) {
		CHECK(all_zero(&rs, sizeof(rs)));
		return;
	}
	CHECK(terminated(rs.text, sizeof(rs.text)));
	CHECK(utf8_valid(rs.text));	/* safe to log and to put in JSON */
	CHECK(proto_reason_str(rs.code) != NULL);
	CHECK(n <= proto_max_len(MSG_REFUSE));
	check_canonical(msg_reason_encode(&rs, re, sizeof(re)), re, p, n);
}

static void
check_pages(const uint8_t *p, size_t n, uint32_t frame_len, uint64_t nr_pages)
{
	static uint64_t e[PROTO_PAGES_MAX];
	uint32_t round, count, n_normal, i, normal = 0;
	int r;

	/* As the receiver: the fixed head, the entry list, the check; only
	 * then would the page data be read.  Bytes the input lacks are EOF. */
	if (n < PAGES_HEAD_LEN)
		return;
	r = pages_head_decode(p, frame_len, &round, &count);
	if (r != 0) {
		CHECK(round == 0 && count == 0);
		return;
	}
	CHECK(count >= 1 && count <= PROTO_PAGES_MAX);
	CHECK(PAGES_HEAD_LEN + 8ull * count <= frame_len);
	CHECK(round == be32_get(p));
	if (PAGES_HEAD_LEN + 8ull * count > n)
		return;
	for (i = 0; i < count; i++)
		e[i] = be64_get(p + PAGES_HEAD_LEN + 8 * i);
	r = pages_entries_check(e, count, frame_len, nr_pages, &n_normal);
	if (r != 0) {
		CHECK(n_normal == 0);
		return;
	}
	for (i = 0; i < count; i++) {
		CHECK(page_entry_pfn(e[i]) < nr_pages);
		CHECK(page_entry_kind(e[i]) == PAGE_NORMAL || page_entry_kind(e[i]) == PAGE_ZERO);
		normal += page_entry_kind(e[i]) == PAGE_NORMAL;
	}
	CHECK(n_normal == normal);
	CHECK(PAGES_HEAD_LEN + 8ull * count + (uint64_t)n_normal * PROTO_PAGE_SIZE == frame_len);
}

/* ZPAGES as the receiver takes it: head, entries, then the compressed
 * data, which must decompress to exactly the promised size. */
static void
check_zpages(const uint8_t *p, size_t n, uint32_t frame_len, uint64_t nr_pages)
{
	static uint64_t e[PROTO_PAGES_MAX];
	static uint8_t out[PROTO_PAGES_MAX * PROTO_PAGE_SIZE];
	uint32_t round, count, zlen, n_normal, i;
	uint8_t algo;
	size_t zoff;
	int r;

	if (n < ZPAGES_HEAD_LEN)
		return;
	r = zpages_head_decode(p, frame_len, &round, &count, &algo, &zlen);
	if (r != 0) {
		CHECK(round == 0 && count == 0 && zlen == 0 && algo == 0);
		return;
	}
	CHECK(count >= 1 && count <= PROTO_PAGES_MAX && zlen >= 1);
	CHECK(algo == ZALGO_ZSTD || algo == ZALGO_LZ4);
	CHECK(ZPAGES_HEAD_LEN + 8ull * count + zlen == frame_len);
	zoff = ZPAGES_HEAD_LEN + 8ull * count;
	if (zoff > n)
		return;
	for (i = 0; i < count; i++)
		e[i] = be64_get(p + ZPAGES_HEAD_LEN + 8 * i);
	r = zpages_entries_check(e, count, nr_pages, zlen, &n_normal);
	if (r != 0) {
		CHECK(n_normal == 0);
		return;
	}
	CHECK(n_normal >= 1 && (uint64_t)zlen < (uint64_t)n_normal * PROTO_PAGE_SIZE);
	if (zoff + zlen > n)
		return;
	/* Hostile compressed data may fail, never overrun. */
	(void)decompress_exact(algo, p + zoff, zlen, out, (size_t)n_normal * PROTO_PAGE_SIZE);
}

/* ZRAW as the receiver takes it: the head, then the compressed part,
 * which must decompress to exactly raw_len bytes. */
static void
check_zraw(const uint8_t *p, size_t n, uint32_t frame_len)
{
	static uint8_t out[PROTO_RAW_MAX];
	uint32_t raw_len;
	uint8_t algo;
	int r;

	if (n < ZRAW_HEAD_LEN)
		return;
	r = zraw_head_decode(p, frame_len, &algo, &raw_len);
	if (r != 0) {
		CHECK(algo == 0 && raw_len == 0);
		return;
	}
	CHECK(algo == ZALGO_ZSTD || algo == ZALGO_LZ4);
	CHECK(raw_len >= 1 && raw_len <= PROTO_RAW_MAX);
	CHECK(frame_len > ZRAW_HEAD_LEN && frame_len - ZRAW_HEAD_LEN < raw_len);
	if (frame_len > n)
		return;
	/* Hostile compressed data may fail, never overrun. */
	(void)decompress_exact(algo, p + ZRAW_HEAD_LEN, frame_len - ZRAW_HEAD_LEN, out, raw_len);
}

static void
check_dm_physmap(const uint8_t *p, size_t n)
{
	static struct msg_dm_physmap x;
	static uint8_t re[4096];
	uint32_t i, j;
	size_t c;

	if (msg_dm_physmap_decode(p, n, &x) != 0) {
		CHECK(all_zero(&x, sizeof(x)));
		return;
	}
	CHECK(x.count >= 1 && x.count <= PROTO_DM_PHYSMAP_MAX);
	for (i = 0; i < x.count; i++) {
		const struct msg_dm_physmap_ent *e = &x.ents[i];

		CHECK(e->phys_offset % PROTO_PAGE_SIZE == 0 && e->start_addr % PROTO_PAGE_SIZE == 0 &&
		    e->size % PROTO_PAGE_SIZE == 0 && e->size >= PROTO_PAGE_SIZE);
		CHECK(e->size <= PROTO_DM_ADDR_LIMIT &&
		    e->start_addr <= PROTO_DM_ADDR_LIMIT - e->size &&
		    e->phys_offset <= PROTO_DM_ADDR_LIMIT - e->size);
		CHECK(terminated(e->name, sizeof(e->name)) && e->name[0] != '\0');
		for (c = 0; e->name[c] != '\0'; c++)
			CHECK(strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
			    "._:/-", e->name[c]) != NULL);
		for (j = 0; j < i; j++)
			CHECK(x.ents[j].phys_offset != e->phys_offset);
	}
	CHECK(n <= proto_max_len(MSG_DM_PHYSMAP));
	/* No string byte is ever replaced: a name of '?' is refused. */
	CHECK(msg_dm_physmap_encode(&x, re, sizeof(re)) == (int)n && memcmp(re, p, n) == 0);
}

/* DM_STATE as the receiver takes it: the head against the frame's length,
 * then the chunk into the input's accumulator, whose contract is checked
 * after each step: in order, never past total, memory within total and
 * at most twice what it holds. */
static void
check_dm_state(const uint8_t *p, size_t n, uint32_t frame_len, struct dm_state_acc *acc)
{
	struct dm_state_acc before = *acc;
	uint32_t total, off;
	int r;

	if (n < DM_STATE_HEAD_LEN)
		return;
	r = dm_state_head_decode(p, frame_len, &total, &off);
	if (r != 0) {
		CHECK(total == 0 && off == 0);
		return;
	}
	CHECK(total >= 1 && total <= PROTO_DM_STATE_MAX);
	CHECK(frame_len > DM_STATE_HEAD_LEN && (uint64_t)off + frame_len - DM_STATE_HEAD_LEN <= total);
	if (frame_len > n)
		return;		/* EOF before the chunk's end */
	r = dm_state_acc_add(acc, p, frame_len);
	if (r != 0) {
		CHECK(r == XMIG_ERR_INVALID || r == XMIG_ERR_NOMEM);
		CHECK(acc->data == before.data && acc->got == before.got &&
		    acc->total == before.total && acc->cap == before.cap);
		CHECK(r == XMIG_ERR_NOMEM || off != before.got ||
		    (before.total != 0 && total != before.total));
		return;
	}
	CHECK(off == before.got && (before.total == 0 || before.total == total));
	CHECK(acc->total == total && acc->got == before.got + frame_len - DM_STATE_HEAD_LEN);
	CHECK(acc->got <= acc->cap && acc->cap <= acc->total && acc->cap <= 2ull * acc->got);
	CHECK(memcmp(acc->data + off, p + DM_STATE_HEAD_LEN, frame_len - DM_STATE_HEAD_LEN) == 0);
	CHECK(dm_state_acc_complete(acc) == (acc->got == acc->total));
}

/* Decode one payload p[0..n) of a frame whose header said `type` and
 * `frame_len` (n < frame_len when the input ended early). */
static void
decode_payload(uint8_t type, const uint8_t *p, size_t n, uint32_t frame_len, uint64_t *nr_pages,
    struct dm_state_acc *acc)
{
	uint8_t re[64];

	switch (type) {
	case MSG_HELLO:
		check_hello(p, n);
		break;
	case MSG_PREPARE:
		check_prepare(p, n, nr_pages);
		break;
	case MSG_REFUSE:
	case MSG_ABORT:
		check_reason(p, n);
		break;
	case MSG_ROUND_END: {
		struct msg_round_end x;

		if (msg_round_end_decode(p, n, &x) == 0)
			check_canonical(msg_round_end_encode(&x, re, sizeof(re)), re, p, n);
		else
			CHECK(all_zero(&x, sizeof(x)));
		break;
	}
	case MSG_BUILT: {
		struct msg_built x;

		if (msg_built_decode(p, n, &x) == 0)
			check_canonical(msg_built_encode(&x, re, sizeof(re)), re, p, n);
		else
			CHECK(x.domid == 0);
		break;
	}
	case MSG_DONE: {
		struct msg_done x;

		if (msg_done_decode(p, n, &x) == 0)
			check_canonical(msg_done_encode(&x, re, sizeof(re)), re, p, n);
		else
			CHECK(x.domid == 0);
		break;
	}
	case MSG_QUERY: {
		struct msg_query x;

		if (msg_query_decode(p, n, &x) == 0)
			check_canonical(msg_query_encode(&x, re, sizeof(re)), re, p, n);
		else
			CHECK(all_zero(&x, sizeof(x)));
		break;
	}
	case MSG_QUERY_REPLY: {
		struct msg_query_reply x;

		if (msg_query_reply_decode(p, n, &x) == 0) {
			CHECK(x.outcome <= OUTCOME_ABORTED);
			check_canonical(msg_query_reply_encode(&x, re, sizeof(re)), re, p, n);
		} else {
			CHECK(all_zero(&x, sizeof(x)));
		}
		break;
	}
	case MSG_HOST_INFO_REPLY: {
		static struct msg_host_info_reply x;
		static uint8_t big[20000];

		if (msg_host_info_reply_decode(p, n, &x) == 0) {
			CHECK(x.state <= HOSTSTATE_MAINTENANCE && x.mem_free <= x.mem_total &&
			    x.ndoms <= PROTO_HOST_INFO_DOMS_MAX);
			check_canonical(msg_host_info_reply_encode(&x, big, sizeof(big)), big, p, n);
		} else {
			CHECK(all_zero(&x, sizeof(x)));
		}
		break;
	}
	case MSG_HOST_INFO:
	case MSG_PREPARE_OK:
	case MSG_STREAM_END:
	case MSG_GO:
	case MSG_DEVICES_READY:
		CHECK((msg_empty_decode(p, n) == 0) == (n == 0));
		break;
	case MSG_PAGES:
		check_pages(p, n, frame_len, *nr_pages);
		break;
	case MSG_ZPAGES:
		check_zpages(p, n, frame_len, *nr_pages);
		break;
	case MSG_ZRAW:
		check_zraw(p, n, frame_len);
		break;
	case MSG_DM_PHYSMAP:
		check_dm_physmap(p, n);
		break;
	case MSG_DM_STATE:
		check_dm_state(p, n, frame_len, acc);
		break;
	default:
		/* CONTEXT, RAW: opaque here; the header check bounded them. */
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t nr_pages = DEFAULT_NR_PAGES;
	struct dm_state_acc acc;
	size_t off = 0;

	dm_state_acc_init(&acc);
	while (size - off >= FRAME_HDR_LEN) {
		struct frame_hdr h;
		size_t avail, plen;
		uint8_t *p;
		int r;

		r = frame_hdr_decode(data + off, &h);
		off += FRAME_HDR_LEN;
		CHECK(h.type == data[off - FRAME_HDR_LEN + 5]);
		if (r != 0) {
			CHECK(r == XMIG_ERR_BAD_MAGIC || r == XMIG_ERR_VERSION ||
			    r == XMIG_ERR_INVALID || r == XMIG_ERR_BAD_TYPE ||
			    r == XMIG_ERR_TOO_LONG);
			break;
		}
		CHECK(h.version == PROTO_VERSION && (h.flags & ~FRAME_F_OPTIONAL) == 0);
		avail = size - off;
		plen = h.len < avail ? h.len : avail;
		if (h.type < 1 || h.type > MSG_TYPE_MAX) {
			/* Unknown OPTIONAL frame: the reader skips its payload. */
			CHECK(h.flags & FRAME_F_OPTIONAL);
			CHECK(h.len <= FRAME_MAX);
			off += plen;
			continue;
		}
		CHECK(h.len <= proto_max_len(h.type));
		CHECK(strcmp(proto_type_str(h.type), "UNKNOWN") != 0);
		p = malloc(plen ? plen : 1);
		CHECK(p != NULL);
		memcpy(p, data + off, plen);
		decode_payload(h.type, p, plen, h.len, &nr_pages, &acc);
		free(p);
		off += plen;
	}
	dm_state_acc_free(&acc);
	return 0;
}
