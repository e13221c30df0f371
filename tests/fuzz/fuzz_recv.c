/* fuzz_recv.c - libFuzzer target: the real receiver (xmigd/engine/recv.c)
 * driven through whole connections.
 *
 * Each input is a script (tests/fuzz/fuzz_recv.h) that the harness
 * (tests/recv_harness.c) turns into a client stream: a valid HELLO, an
 * opening (a PREPARE whose fields come from the input, a QUERY, or none),
 * then frames whose type, contents and stated length come from the input,
 * built with the project's encoders and compressors so that the receiver
 * gets past its checks into deep states (pages of several rounds,
 * compressed batches, the commit handshake) and meets a lie only where the
 * input asks for one.  The stream goes through a socketpair into
 * engine_recv_start(), exactly as an accepted connection does, on a daemon
 * with a fake in-memory backend; the harness reads what the receiver sends
 * and waits until its thread has ended.
 *
 * Beyond "does not crash, leak or hang" (the thread must end within 5 s
 * of the stream's end), each connection must leave things consistent
 * (abort() otherwise, which libFuzzer reports as a crash):
 *   - no page written outside the domain that PREPARE accepted;
 *   - every job finished, its thread done, a failed one with an error;
 *   - a job that is DONE has its domain running under its own name and
 *     "committed" on disk; any other job leaves no domain behind and its
 *     record (if any) "aborted", never "building" or "committed";
 *   - the fake holds exactly the domains it had, plus one per DONE job;
 *   - an earlier job's record is never changed (by a PREPARE reusing its
 *     token, say);
 *   - the engine's two paths to the backend (page_write, as on the sim,
 *     and page_dest) agree: a connection that ends DONE on one is served
 *     again on the other and must end DONE with the same memory.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "../recv_harness.h"
#include "fuzz_recv.h"

#include "compress.h"
#include "engine/engine.h"
#include "store/hoststate.h"
#include "store/jobs.h"
#include "proto.h"
#include "xbuf.h"
#include "xerr.h"

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "fuzz_recv: contract broken at %s:%d: %s\n", __FILE__, \
		    __LINE__, #cond); \
		abort(); \
	} \
} while (0)

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct script {
	const uint8_t *p;
	size_t len, off;
};

static uint8_t
next(struct script *s)
{
	return s->off < s->len ? s->p[s->off++] : 0;
}

static bool
more(const struct script *s)
{
	return s->off < s->len;
}

/* One frame with the op's idea of its length. */
static void
emit(struct rh_buf *b, struct script *s, unsigned lie, uint8_t type, const void *pl, size_t n)
{
	uint32_t len = (uint32_t)n;
	uint16_t flags = 0;

	switch (lie) {
	case FR_LEN_PLUS:
		len += 1 + next(s);
		break;
	case FR_LEN_MINUS: {
		uint32_t d = 1u + next(s);

		len = len > d ? len - d : 0;
		break;
	}
	case FR_LEN_ANY:
		len = (uint32_t)next(s) << 8;
		len |= next(s);
		break;
	case FR_LEN_OPTIONAL:
		flags = FRAME_F_OPTIONAL;
		break;
	}
	rh_frame_lie(b, type, flags, len, pl, n);
}

static uint8_t page_buf[PROTO_PAGES_MAX * PROTO_PAGE_SIZE];
static uint8_t z_buf[PROTO_RAW_MAX + 4096];
static uint8_t frame_buf[PAGES_HEAD_LEN + 8 * 64 + 17 * PROTO_PAGE_SIZE];

/* count entries from the script; returns the NORMAL pages' data in
 * page_buf and their number. */
static uint32_t
entries(struct script *s, uint64_t nr_pages, uint64_t *e, uint32_t count)
{
	uint32_t i, normal = 0;
	uint8_t fill;

	for (i = 0; i < count; i++) {
		uint8_t b = next(s);
		uint64_t pfn = (b & 0x7fu) % (nr_pages + 1);

		e[i] = page_entry(pfn, b & 0x80 ? PAGE_ZERO : PAGE_NORMAL);
	}
	fill = next(s);
	for (i = 0; i < count; i++) {
		uint8_t *pg;

		if (page_entry_kind(e[i]) != PAGE_NORMAL)
			continue;
		pg = page_buf + (size_t)normal++ * PROTO_PAGE_SIZE;
		memset(pg, fill, PROTO_PAGE_SIZE);
		be64_put(pg, page_entry_pfn(e[i]));
	}
	return normal;
}

static long
squeeze(int algo, const void *src, size_t n)
{
	struct compressor *c = compressor_new(algo);
	long z;

	if (c == NULL)
		return -1;
	z = compressor_run(c, src, n, z_buf, sizeof(z_buf));
	compressor_free(c);
	return z;
}

static void
op_pages(struct rh_buf *b, struct script *s, unsigned lie, uint64_t nr_pages, bool zipped)
{
	uint64_t e[17];
	uint32_t round = next(s), count = 1 + (next(s) & 15), normal, i, off;
	uint8_t how = 0, algo;
	long zl = 0;

	normal = entries(s, nr_pages, e, count);
	if (!zipped) {
		be32_put(frame_buf, round);
		be32_put(frame_buf + 4, count);
		for (i = 0; i < count; i++)
			be64_put(frame_buf + PAGES_HEAD_LEN + 8 * i, e[i]);
		off = PAGES_HEAD_LEN + 8 * count;
		memcpy(frame_buf + off, page_buf, (size_t)normal * PROTO_PAGE_SIZE);
		emit(b, s, lie, MSG_PAGES, frame_buf, off + (size_t)normal * PROTO_PAGE_SIZE);
		return;
	}
	how = next(s);
	algo = how & 1 ? ZALGO_LZ4 : ZALGO_ZSTD;
	if (normal > 0)
		zl = squeeze(algo, page_buf, (size_t)normal * PROTO_PAGE_SIZE);
	if (zl <= 0) {		/* nothing to compress: a few bytes all the same */
		memset(z_buf, 0x2a, 4);
		zl = 4;
	}
	switch ((how >> 1) & 3) {
	case 1:			/* one more NORMAL entry than the data holds */
		e[count++] = page_entry(0, PAGE_NORMAL);
		break;
	case 2:
		zl = zl > 1 ? zl - 1 : zl;
		break;
	case 3:
		z_buf[next(s) % zl] ^= 0x5a;
		break;
	}
	if (how & 8)
		algo = (uint8_t)(3 + (how >> 4));
	be32_put(frame_buf, round);
	be32_put(frame_buf + 4, count);
	frame_buf[8] = algo;
	frame_buf[9] = frame_buf[10] = frame_buf[11] = 0;
	be32_put(frame_buf + 12, (uint32_t)zl);
	for (i = 0; i < count; i++)
		be64_put(frame_buf + ZPAGES_HEAD_LEN + 8 * i, e[i]);
	off = ZPAGES_HEAD_LEN + 8 * count;
	memcpy(frame_buf + off, z_buf, (size_t)zl);
	emit(b, s, lie, MSG_ZPAGES, frame_buf, off + (size_t)zl);
}

static void
op_zraw(struct rh_buf *b, struct script *s, unsigned lie)
{
	uint32_t raw_len = (next(s) + 1u) * 64, i;
	uint8_t fill = next(s), how = next(s), algo = how & 1 ? ZALGO_LZ4 : ZALGO_ZSTD;
	long zl;

	for (i = 0; i < raw_len; i++)
		page_buf[i] = (uint8_t)(fill + i / 256);
	if ((zl = squeeze(algo, page_buf, raw_len)) <= 0)
		return;
	switch ((how >> 1) & 3) {
	case 1: raw_len++; break;
	case 2: raw_len--; break;
	case 3: raw_len = PROTO_RAW_MAX + 1; break;
	}
	if (how & 8)
		algo = (uint8_t)(3 + (how >> 4));
	zraw_head_encode(frame_buf, algo, raw_len);
	memcpy(frame_buf + ZRAW_HEAD_LEN, z_buf, (size_t)zl);
	emit(b, s, lie, MSG_ZRAW, frame_buf, ZRAW_HEAD_LEN + (size_t)zl);
}

static void
op_other(struct rh_buf *b, struct script *s, unsigned lie, const uint8_t token[16])
{
	struct msg_built mb = { .domid = 1 };
	struct msg_done md = { .domid = 1 };
	struct msg_query_reply qr;
	struct msg_dm_physmap pm;
	uint8_t pl[512];
	uint32_t total, off, k, i;
	int n;

	switch (next(s) % 7) {
	case 0:
		emit(b, s, lie, MSG_PREPARE_OK, NULL, 0);
		break;
	case 1:
		if ((n = msg_built_encode(&mb, pl, sizeof(pl))) > 0)
			emit(b, s, lie, MSG_BUILT, pl, (size_t)n);
		break;
	case 2:
		if ((n = msg_done_encode(&md, pl, sizeof(pl))) > 0)
			emit(b, s, lie, MSG_DONE, pl, (size_t)n);
		break;
	case 3:
		emit(b, s, lie, MSG_HOST_INFO, NULL, 0);
		break;
	case 4:
		memset(&qr, 0, sizeof(qr));
		memcpy(qr.token, token, 16);
		qr.outcome = OUTCOME_COMMITTED;
		if ((n = msg_query_reply_encode(&qr, pl, sizeof(pl))) > 0)
			emit(b, s, lie, MSG_QUERY_REPLY, pl, (size_t)n);
		break;
	case 5:			/* a valid DM_PHYSMAP of 1..4 entries */
		memset(&pm, 0, sizeof(pm));
		pm.count = 1 + (next(s) & 3);
		for (i = 0; i < pm.count; i++) {
			pm.ents[i].phys_offset = (0xf0000ull + i * 0x1000 + next(s)) << 12;
			pm.ents[i].start_addr = (0xe0000ull + next(s)) << 12;
			pm.ents[i].size = (1ull + next(s)) << 12;
			snprintf(pm.ents[i].name, sizeof(pm.ents[i].name), "vga.vram%u", i);
		}
		if ((n = msg_dm_physmap_encode(&pm, pl, sizeof(pl))) > 0)
			emit(b, s, lie, MSG_DM_PHYSMAP, pl, (size_t)n);
		break;
	default:		/* a DM_STATE chunk: total, offset, length in 16s */
		total = (next(s) + 1u) * 16;
		off = next(s) * 16u;
		k = (next(s) % 24 + 1u) * 16;
		dm_state_head_encode(pl, total, off);
		memset(pl + DM_STATE_HEAD_LEN, next(s), k);
		emit(b, s, lie, MSG_DM_STATE, pl, DM_STATE_HEAD_LEN + k);
		break;
	}
}

static void
query(struct rh_buf *b, struct script *s, unsigned lie, const uint8_t token[16])
{
	struct msg_query q;
	uint8_t pl[64];
	int n;

	memcpy(q.token, token, 16);
	if ((n = msg_query_encode(&q, pl, sizeof(pl))) > 0)
		emit(b, s, lie, MSG_QUERY, pl, (size_t)n);
}

static void
op(struct rh_buf *b, struct script *s, const struct msg_prepare *mp)
{
	static uint8_t big[PROTO_RAW_MAX];
	uint8_t o = next(s), pl[1024];
	unsigned lie = o >> 4, n, i;
	struct msg_reason m;
	struct msg_round_end re;
	uint8_t t, f, tok[16];
	int k;

	switch ((enum fr_op)(o & 15)) {
	case FR_OP_PAGES:
	case FR_OP_ZPAGES:
		op_pages(b, s, lie, mp->nr_pages, (o & 15) == FR_OP_ZPAGES);
		break;
	case FR_OP_ZRAW:
		op_zraw(b, s, lie);
		break;
	case FR_OP_RAW:
	case FR_OP_CONTEXT:
		n = next(s);
		if ((o & 15) == FR_OP_RAW)
			n *= 16;
		memset(frame_buf, next(s), n);
		emit(b, s, lie, (o & 15) == FR_OP_RAW ? MSG_RAW : MSG_CONTEXT, frame_buf, n);
		break;
	case FR_OP_ROUND_END:
		re.round = next(s);
		re.pages = 3;
		re.dirty = 1;
		if ((k = msg_round_end_encode(&re, pl, sizeof(pl))) > 0)
			emit(b, s, lie, MSG_ROUND_END, pl, (size_t)k);
		break;
	case FR_OP_STREAM_END:
		emit(b, s, lie, MSG_STREAM_END, NULL, 0);
		break;
	case FR_OP_GO:
		emit(b, s, lie, MSG_GO, NULL, 0);
		break;
	case FR_OP_ABORT:
		memset(&m, 0, sizeof(m));
		m.code = next(s);
		n = next(s) % (PROTO_REASON_MAX - 1);
		for (i = 0; i < n; i++)
			m.text[i] = (char)((t = next(s) % 27) == 26 ? ' ' : 'a' + t);
		if ((k = msg_reason_encode(&m, pl, sizeof(pl))) > 0)
			emit(b, s, lie, MSG_ABORT, pl, (size_t)k);
		break;
	case FR_OP_FRAME:
		t = next(s);
		f = next(s);
		n = next(s);
		for (i = 0; i < n; i++)
			pl[i] = next(s);
		rh_frame_lie(b, t, f & 1 ? FRAME_F_OPTIONAL : (uint16_t)(f << 8), n, pl, n);
		break;
	case FR_OP_BYTES:
		n = next(s);
		for (i = 0; i < n; i++)
			pl[i] = next(s);
		rh_put(b, pl, n);
		break;
	case FR_OP_HELLO:
		rh_hello(b);
		break;
	case FR_OP_PREPARE:
		rh_prepare(b, mp);
		break;
	case FR_OP_QUERY:
		memcpy(tok, mp->token, 16);
		tok[0] = next(s);
		query(b, s, lie, tok);
		break;
	case FR_OP_OTHER:
		op_other(b, s, lie, mp->token);
		break;
	case FR_OP_BIG:
		t = next(s);
		n = t >= 64 ? PROTO_RAW_MAX : (t + 1u) * 65536;
		emit(b, s, lie, MSG_RAW, big, n);
		break;
	}
}

static void
fuzz_rh_fini(void)
{
	rh_fini();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];

	if (rh_init(err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_recv: %s\n", err);
		exit(1);
	}
	atexit(fuzz_rh_fini);
	return 0;
}

/* Every job finished, its thread done, a failed one with its error;
 * returns how many are DONE, and in *mine the state of the job that owns
 * token (-1: none). */
static unsigned
check_jobs(const uint8_t token[16], int *mine)
{
	struct rh_job jobs[16];
	unsigned n = rh_jobs(jobs, 16), i, done = 0;

	*mine = -1;
	for (i = 0; i < n; i++) {
		CHECK(jobs[i].finished && jobs[i].thread_done);
		if (jobs[i].state == JOB_DONE)
			done++;
		else
			CHECK(jobs[i].error[0] != '\0');
		if (memcmp(jobs[i].token, token, 16) == 0)
			*mine = jobs[i].state;
	}
	return done;
}

/* One input's host before its connection: what the setup says exists. */
struct host {
	struct msg_prepare mp;
	bool clash, leftover, maintenance, same_peer, dm;
	const char *record;	/* the token's record beforehand, or NULL */
	unsigned before;	/* domains there already */
};

static void
host_prepare(struct host *h, bool page_write)
{
	rh_reset();
	rh_set_page_write(page_write);
	rh_set_device_model(h->dm);
	h->before = 0;
	if (h->clash)
		h->before += rh_add_domain(h->mp.name, 1) == 0;
	if (h->leftover) {
		char n2[HV_NAME_MAX];

		snprintf(n2, sizeof(n2), "%s--incoming", h->mp.name);
		h->before += rh_add_domain(n2, 1) == 0;
	}
	if (h->record != NULL)
		CHECK(rh_set_record(h->mp.token, h->record, h->mp.name, h->same_peer) == 0);
	CHECK(hoststate_set(h->maintenance ? HOST_MAINTENANCE : HOST_ACTIVE, NULL) == 0);
}

/* Serve the stream on the given engine path and check the outcome; for a
 * DONE job, *mem gets a copy of its domain's memory (caller frees). */
static enum job_state
serve(const struct rh_buf *b, struct host *h, bool page_write, uint8_t **mem)
{
	const struct msg_prepare *mp = &h->mp;
	enum job_state js = JOB_FAILED;
	struct rh_stats st;
	int mine;
	unsigned done;
	char rec[32];
	const char *o;

	host_prepare(h, page_write);
	CHECK(rh_serve(b->p, b->len, NULL, 5000) == 0);	/* the thread has ended */
	st = rh_stats();
	CHECK(st.out_of_range == 0);
	done = check_jobs(mp->token, &mine);
	CHECK(rh_domains(NULL, 0, NULL) == h->before + done);
	if (mine >= 0)
		js = (enum job_state)mine;
	o = rh_record(mp->token, rec, sizeof(rec));
	if (mine >= 0 && js == JOB_DONE) {
		char name[HV_NAME_MAX];
		bool running = false;
		const uint8_t *m;
		uint64_t np;

		CHECK(o != NULL && strcmp(o, "committed") == 0);
		CHECK((m = rh_domain_mem(mp->name, &np)) != NULL && np == mp->nr_pages);
		if (h->before == 0) {
			CHECK(rh_domains(name, sizeof(name), &running) == 1);
			CHECK(running && strcmp(name, mp->name) == 0);
		}
		if (mem != NULL && (*mem = malloc(np * PROTO_PAGE_SIZE)) != NULL)
			memcpy(*mem, m, np * PROTO_PAGE_SIZE);
	} else if (mine >= 0) {
		CHECK(o == NULL || strcmp(o, "aborted") == 0 ||
		    (h->record != NULL && strcmp(o, h->record) == 0));
	}
	/* An earlier job's record stays: a sender still asking about that
	 * job must never hear anything else. */
	if (h->record != NULL)
		CHECK(o != NULL && strcmp(o, h->record) == 0);
	return js;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t cfg[] = "fuzz";
	struct script s = { .p = data, .len = size };
	struct host h;
	struct msg_prepare *mp = &h.mp;
	struct rh_buf b = { 0 };
	uint8_t s0, s1, s2, s3, *mem = NULL, *mem2 = NULL;
	unsigned opening, ops = 0;
	bool pw;

	if (size < FR_SETUP_LEN)
		return 0;
	s0 = next(&s);
	s1 = next(&s);
	s2 = next(&s);
	s3 = next(&s);

	memset(&h, 0, sizeof(h));
	mp->token[0] = s3;
	mp->token[15] = 0xf2;
	snprintf(mp->name, sizeof(mp->name), "vm%u", s2 >> 5);
	mp->uuid[0] = 0x5a;
	mp->nr_pages = s0 & FR_S_BIG ? (s1 >= 0xf0 ? 1ull << (25 + (s1 & 15)) : 8 * (s1 + 1u))
	    : s1 + 1u;
	mp->max_pages = mp->nr_pages;
	mp->vcpus = (s2 & 7) == 7 ? 100 : (s2 & 7) + 1u;	/* 100: the fake says no */
	mp->dom_type = (s2 >> 3) & 3;
	mp->live = !!(s0 & FR_S_LIVE);
	mp->cfg = cfg;
	mp->cfg_len = sizeof(cfg) - 1;
	h.clash = (s0 & FR_S_CLASH) != 0;
	h.leftover = (s0 & FR_S_LEFTOVER) != 0;
	if (s0 & FR_S_RECORD)
		h.record = s3 & 1 ? "aborted" : "committed";
	h.same_peer = !(s3 & 2);
	h.dm = (s3 & 4) != 0;
	rh_set_device_model(h.dm);
	h.maintenance = (s2 >> 5) == 7;

	rh_hello(&b);
	opening = (s0 >> FR_S_OPEN_SHIFT) & 3;
	if (opening == FR_OPEN_QUERY)
		query(&b, &s, 0, mp->token);
	else if (opening != FR_OPEN_NONE)
		rh_prepare(&b, mp);
	while (more(&s) && !b.failed && ops++ < 256)
		op(&b, &s, mp);
	CHECK(!b.failed || b.len > 0);

	/* The two paths to the backend must agree: a migration that succeeds
	 * on one leaves the same memory when served again on the other. */
	pw = (s0 & FR_S_PAGE_WRITE) != 0;
	if (serve(&b, &h, pw, &mem) == JOB_DONE && mem != NULL) {
		CHECK(serve(&b, &h, !pw, &mem2) == JOB_DONE);
		CHECK(mem2 != NULL && memcmp(mem, mem2, mp->nr_pages * PROTO_PAGE_SIZE) == 0);
	}
	free(mem);
	free(mem2);
	rh_buf_free(&b);
	return 0;
}
