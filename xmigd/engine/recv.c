/* engine/recv.c - the receiving end of a migration.
 *
 * One thread per accepted connection.  The frames allowed at each step are
 * exactly the ones read there; anything else ends the job with a protocol
 * error (never the daemon).  Page data is read from the socket straight
 * into the new domain's memory, after the entry list naming the pages has
 * been checked against the size PREPARE accepted.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/incoming.h"
#include "compress.h"
#include "engine/engine_int.h"
#include "store/hoststate.h"
#include "fault.h"
#include "log.h"
#include "util.h"
#include "xbuf.h"
#include "xerr.h"

/* A PREPARE whose token has a record, checked before the capacity checks
 * for a clear reason, and again (atomically) when the record is made. */
#define RECV_TOKEN_USED "the migration token of this PREPARE was already used: refused"
#define RECV_CHUNK 64	/* pages per page_write: 256 KiB, stays in L2 */

struct recv_ctx {
	struct hv_restore_io io;	/* first: the backend's callbacks get &io */
	struct xmigd *d;
	struct job *j;
	struct xconn c;
	uint64_t nr_pages;
	uint32_t page_size;
	uint8_t *buf;			/* CONTEXT / RAW payloads */
	uint64_t *written;		/* pages written by this stream, 1 bit each */
	uint8_t *stage;			/* a decompressed ZPAGES batch */
	uint8_t *unz;			/* a decompressed ZRAW chunk */
	bool accepted;			/* PREPARE_OK sent */
	bool tls;			/* came to the TLS port */
	bool bad_frame;			/* the stream failed on a malformed frame */
	struct state_rec rec;		/* this migration's record (engine/incoming.c) */
	bool query_only;		/* beyond max-connections: no PREPARE */
	char peer_host[PROTO_HOST_MAX];	/* the host name its HELLO gave */
	uint32_t peer_features;		/* its HELLO's PROTO_F_* bits */
	bool devs_frame;		/* both HELLOs have DEVICES_READY: send the frame */
	atomic_bool devs_up;		/* the backend said its devices are up (any thread) */
	bool devs_sent;			/* ... and DEVICES_READY went out */
	bool dm;			/* both HELLOs: HELLO_F_DEVICE_MODEL */
	struct msg_dm_physmap *physmap;	/* the last DM_PHYSMAP (HV_REC_DM_PHYSMAP) */
	struct dm_state_acc dm_state;	/* DM_STATE chunks gathered */
	uint8_t *dm_buf;		/* one DM frame's payload */
	uint32_t domid;			/* the new domain, once restore made it */
	bool built;			/* ... and it is still ours to destroy */
	uint64_t entries[PROTO_PAGES_MAX];
	struct iovec iov[PROTO_PAGES_MAX];
	char why[512];
	/* page data on its way to the backend's page_write */
	_Alignas(64) uint8_t chunk[RECV_CHUNK * PROTO_PAGE_SIZE];
};

static const uint8_t recv_zero_page[PROTO_PAGE_SIZE];

/* recv_store through the backend's page_write: the pages' data is read
 * RECV_CHUNK pages at a time into a buffer small enough to stay in the
 * cache (or taken from the decompressed batch `data`) and handed over in
 * entry order; a zero page that this stream wrote before is cleared. */
static int
recv_store_write(struct recv_ctx *s, uint32_t count, const uint8_t *data)
{
	uint64_t pfns[RECV_CHUNK];
	uint32_t i, k = 0, done = 0;
	int r;

	for (i = 0; i <= count; i++) {
		uint64_t pfn = i < count ? page_entry_pfn(s->entries[i]) : 0;
		uint64_t bit = 1ull << (pfn % 64);
		bool zero = i < count && page_entry_kind(s->entries[i]) == PAGE_ZERO;

		if (zero && !(s->written[pfn / 64] & bit))
			continue;
		/* Pages gathered so far go first: entries apply in order. */
		if (k > 0 && (i == count || zero || k == RECV_CHUNK)) {
			const uint8_t *src = data != NULL ? data + (size_t)done * s->page_size
			    : s->chunk;

			if ((data == NULL && (r = xconn_read_exact(&s->c, s->chunk,
			    (size_t)k * s->page_size)) != 0) ||
			    (r = s->io.page_write(s->io.bctx, pfns, k, src)) != 0)
				return r;
			done += k;
			k = 0;
		}
		if (i == count)
			break;
		if (zero) {
			if ((r = s->io.page_write(s->io.bctx, &pfn, 1, recv_zero_page)) != 0)
				return r;
			s->written[pfn / 64] &= ~bit;
			continue;
		}
		s->written[pfn / 64] |= bit;
		pfns[k++] = pfn;
	}
	return 0;
}

/* Put a batch's pages in place.  Normal pages come from `data` (the
 * decompressed batch) or, when data is NULL, are read from the socket
 * straight into guest memory. */
static int
recv_store(struct recv_ctx *s, uint32_t count, const uint8_t *data)
{
	uint32_t i, k = 0;
	int r;

	if (s->io.page_write != NULL)
		return recv_store_write(s, count, data);
	for (i = 0; i < count; i++) {
		uint64_t pfn = page_entry_pfn(s->entries[i]);
		uint8_t *dst = s->io.page_dest(s->io.bctx, pfn);
		uint64_t bit = 1ull << (pfn % 64);

		if (page_entry_kind(s->entries[i]) == PAGE_ZERO) {
			/* The new domain starts zero: only a page this stream wrote
			 * before needs clearing, so an idle guest's memory is never
			 * touched here. */
			if (s->written[pfn / 64] & bit) {
				/* Entries apply in order: data read for the pages
				 * before it (this one, maybe) lands first. */
				if (data == NULL && k > 0) {
					if ((r = xconn_readv_exact(&s->c, s->iov, (int)k)) != 0)
						return r;
					k = 0;
				}
				memset(dst, 0, s->page_size);
				s->written[pfn / 64] &= ~bit;
			}
			continue;
		}
		s->written[pfn / 64] |= bit;
		if (data != NULL) {
			memcpy(dst, data + (size_t)k * s->page_size, s->page_size);
		} else {
			s->iov[k].iov_base = dst;
			s->iov[k].iov_len = s->page_size;
		}
		k++;
	}
	return data != NULL ? 0 : xconn_readv_exact(&s->c, s->iov, (int)k);
}

static void
recv_count(struct recv_ctx *s, uint32_t round, uint32_t count, uint32_t n_normal)
{
	job_lock();
	s->j->pages_sent += count;
	s->j->zero_pages += count - n_normal;
	s->j->normal_pages += n_normal;
	s->j->bytes_sent = s->c.rx_bytes;
	s->j->iteration = round + 1;
	job_unlock();
}

static int
recv_entries(struct recv_ctx *s, uint32_t count)
{
	uint32_t i;
	int r;

	if ((r = xconn_read_exact(&s->c, s->entries, 8ull * count)) != 0)
		return r;
	for (i = 0; i < count; i++)
		s->entries[i] = be64_get((const uint8_t *)&s->entries[i]);
	return 0;
}

static int
recv_pages(struct recv_ctx *s, const struct frame_hdr *fh, struct hv_rec *rec)
{
	uint8_t head[PAGES_HEAD_LEN];
	uint32_t round, count, n_normal;
	int r;

	if (fh->len < PAGES_HEAD_LEN)
		return XMIG_ERR_TRUNCATED;
	if ((r = xconn_read_exact(&s->c, head, sizeof(head))) != 0 ||
	    (r = pages_head_decode(head, fh->len, &round, &count)) != 0 ||
	    (r = recv_entries(s, count)) != 0 ||
	    (r = pages_entries_check(s->entries, count, fh->len, s->nr_pages, &n_normal)) != 0 ||
	    (r = recv_store(s, count, NULL)) != 0)
		return r;
	recv_count(s, round, count, n_normal);
	rec->type = HV_REC_PAGES;
	rec->count = count;
	return fault_round("recv", round);
}

/* Compressed data must decompress to exactly the size promised; anything
 * else is the sender's error, and the job says so. */
static int
recv_decompress(struct recv_ctx *s, uint8_t type, uint8_t algo, const uint8_t *src, size_t n,
    uint8_t *dst, size_t want)
{
	int r = decompress_exact(algo, src, n, dst, want);

	if (r != 0)
		job_set_error(s->j, "protocol error: %s data (%zu bytes of %s) does not decompress "
		    "to the %zu bytes promised", proto_type_str(type), n,
		    algo == ZALGO_ZSTD ? "zstd" : "lz4", want);
	return r;
}

/* ZPAGES: the compressed data is read whole, checked by decompressing to
 * exactly the size the entries promise, then copied into place. */
static int
recv_zpages(struct recv_ctx *s, const struct frame_hdr *fh, struct hv_rec *rec)
{
	uint8_t head[ZPAGES_HEAD_LEN], algo;
	uint32_t round, count, zlen, n_normal;
	int r;

	if (fh->len < ZPAGES_HEAD_LEN)
		return XMIG_ERR_TRUNCATED;
	if (s->stage == NULL &&
	    (s->stage = malloc((size_t)PROTO_PAGES_MAX * PROTO_PAGE_SIZE)) == NULL)
		return XMIG_ERR_NOMEM;
	if ((r = xconn_read_exact(&s->c, head, sizeof(head))) != 0 ||
	    (r = zpages_head_decode(head, fh->len, &round, &count, &algo, &zlen)) != 0 ||
	    (r = recv_entries(s, count)) != 0 ||
	    (r = zpages_entries_check(s->entries, count, s->nr_pages, zlen, &n_normal)) != 0 ||
	    (r = xconn_read_exact(&s->c, s->buf, zlen)) != 0 ||
	    (r = recv_decompress(s, MSG_ZPAGES, algo, s->buf, zlen, s->stage,
	    (size_t)n_normal * s->page_size)) != 0 ||
	    (r = recv_store(s, count, s->stage)) != 0)
		return r;
	recv_count(s, round, count, n_normal);
	rec->type = HV_REC_PAGES;
	rec->count = count;
	return fault_round("recv", round);
}

/* ZRAW: a chunk of the backend's stream, compressed; handed on as RAW once
 * it has decompressed to exactly the size its head promises. */
static int
recv_zraw(struct recv_ctx *s, const struct frame_hdr *fh, struct hv_rec *rec)
{
	uint8_t head[ZRAW_HEAD_LEN], algo;
	uint32_t raw_len;
	int r;

	if (fh->len <= ZRAW_HEAD_LEN)
		return XMIG_ERR_TRUNCATED;
	if (s->unz == NULL && (s->unz = malloc(PROTO_RAW_MAX)) == NULL)
		return XMIG_ERR_NOMEM;
	/* (the compressed part is shorter than raw_len <= PROTO_RAW_MAX: it
	 * fits s->buf) */
	if ((r = xconn_read_exact(&s->c, head, sizeof(head))) != 0 ||
	    (r = zraw_head_decode(head, fh->len, &algo, &raw_len)) != 0 ||
	    (r = xconn_read_exact(&s->c, s->buf, fh->len - ZRAW_HEAD_LEN)) != 0 ||
	    (r = recv_decompress(s, MSG_ZRAW, algo, s->buf, fh->len - ZRAW_HEAD_LEN, s->unz,
	    raw_len)) != 0)
		return r;
	rec->type = HV_REC_RAW;
	rec->data = s->unz;
	rec->len = raw_len;
	job_lock();
	s->j->bytes_sent = s->c.rx_bytes;
	job_unlock();
	return 0;
}

/* A frame of the stream that failed its checks: the job names it. */
static int
recv_bad_frame(struct recv_ctx *s, const struct frame_hdr *fh, int r)
{
	switch (r) {
	case XMIG_ERR_INVALID:
	case XMIG_ERR_TRUNCATED:
	case XMIG_ERR_TOO_LONG:
	case XMIG_ERR_TRAILING:
		s->bad_frame = true;
		job_set_error(s->j, "protocol error: malformed %s frame (%u bytes): %s",
		    proto_type_str(fh->type), fh->len, xmig_strerror(r));
		break;
	}
	return r;
}

/* The backend's word, from whichever thread set the devices up: only a
 * flag here, the frame goes out from the thread that owns the connection
 * (under TLS one connection must not be written from two threads, nor
 * written while it is read). */
static void
io_devices_ready(struct hv_restore_io *io)
{
	struct recv_ctx *s = (struct recv_ctx *)io;

	atomic_store(&s->devs_up, true);
}

/* DEVICES_READY, once, after PREPARE_OK, when the sender was offered it
 * and the backend has said so.  Called by the connection's thread. */
static int
recv_devices_ready(struct recv_ctx *s)
{
	int r;

	if (!s->devs_frame || s->devs_sent || !s->accepted || !atomic_load(&s->devs_up))
		return 0;
	s->devs_sent = true;
	if ((r = xconn_send_frame(&s->c, MSG_DEVICES_READY, NULL, 0)) != 0)
		return r;
	jlog(LOG_LVL_VERBOSE, s->j->id, "the devices of %s are up: told %s", s->j->domain,
	    s->c.peer);
	return 0;
}

/* DM_PHYSMAP and DM_STATE, negotiated in HELLO: the physmap once, the
 * state in chunks handed on whole (1: a chunk kept, read the next frame). */
static int
recv_dm(struct recv_ctx *s, const struct frame_hdr *fh, struct hv_rec *rec)
{
	int r;

	if (s->dm_buf == NULL && (s->dm_buf = malloc(DM_STATE_HEAD_LEN + PROTO_DM_CHUNK_MAX >
	    proto_max_len(MSG_DM_PHYSMAP) ? DM_STATE_HEAD_LEN + PROTO_DM_CHUNK_MAX :
	    proto_max_len(MSG_DM_PHYSMAP))) == NULL)
		return XMIG_ERR_NOMEM;
	if ((r = xconn_read_exact(&s->c, s->dm_buf, fh->len)) != 0)
		return r;
	if (fh->type == MSG_DM_PHYSMAP) {
		if (s->physmap != NULL || dm_state_acc_complete(&s->dm_state) ||
		    s->dm_state.got != 0)
			return XMIG_ERR_INVALID;	/* once, before the state */
		if ((s->physmap = malloc(sizeof(*s->physmap))) == NULL)
			return XMIG_ERR_NOMEM;
		if ((r = msg_dm_physmap_decode(s->dm_buf, fh->len, s->physmap)) != 0)
			return r;
		rec->type = HV_REC_DM_PHYSMAP;
		rec->data = s->physmap;
		rec->len = sizeof(*s->physmap);
		return 0;
	}
	if (dm_state_acc_complete(&s->dm_state))
		return XMIG_ERR_INVALID;	/* a second state */
	if ((r = dm_state_acc_add(&s->dm_state, s->dm_buf, fh->len)) != 0)
		return r;
	if (!dm_state_acc_complete(&s->dm_state))
		return 1;
	rec->type = HV_REC_DM_STATE;
	rec->data = s->dm_state.data;
	rec->len = s->dm_state.got;
	job_lock();
	s->j->bytes_sent = s->c.rx_bytes;
	job_unlock();
	return 0;
}

static int
io_next(struct hv_restore_io *io, struct hv_rec *rec)
{
	struct recv_ctx *s = (struct recv_ctx *)io;
	struct frame_hdr fh;
	struct msg_reason m;
	struct msg_round_end re;
	int r;

	memset(rec, 0, sizeof(*rec));
	if (atomic_load(&s->j->cancel) || atomic_load(&s->d->stopping))
		return XMIG_ERR_INTERRUPTED;
	/* Before the wait for the next frame: the sender goes on with
	 * pre-copy until it reads this, so its frames keep coming meanwhile. */
	if ((r = recv_devices_ready(s)) != 0)
		return r;
	/* Each frame must arrive whole within stream-idle-timeout, skipped
	 * OPTIONAL frames included: a sender that trickles bytes cannot hold
	 * the job, its max-incoming slot and its memory. */
again:
	s->c.deadline_us = now_us() + s->d->conf.stream_timeout_s * 1000000ull;
	if ((r = xconn_recv_hdr(&s->c, &fh)) != 0)
		return r;
	switch (fh.type) {
	case MSG_PAGES:
		return recv_bad_frame(s, &fh, recv_pages(s, &fh, rec));
	case MSG_ZPAGES:
		return recv_bad_frame(s, &fh, recv_zpages(s, &fh, rec));
	case MSG_ZRAW:
		return recv_bad_frame(s, &fh, recv_zraw(s, &fh, rec));
	case MSG_ROUND_END:
		if ((r = xconn_read_exact(&s->c, s->buf, fh.len)) != 0 ||
		    (r = msg_round_end_decode(s->buf, fh.len, &re)) != 0)
			return recv_bad_frame(s, &fh, r);
		rec->type = HV_REC_ROUND_END;
		return 0;
	case MSG_CONTEXT:
	case MSG_RAW:
		if ((r = xconn_read_exact(&s->c, s->buf, fh.len)) != 0)
			return r;
		if (fh.type == MSG_CONTEXT)	/* sent only once the source is suspended */
			fault_kill_at("recv-exit-at-context");
		rec->type = fh.type == MSG_CONTEXT ? HV_REC_CONTEXT : HV_REC_RAW;
		rec->data = s->buf;
		rec->len = fh.len;
		if (fh.type == MSG_RAW) {
			job_lock();
			s->j->bytes_sent = s->c.rx_bytes;
			job_unlock();
		}
		return 0;
	case MSG_STREAM_END:
		if ((r = msg_empty_decode(NULL, fh.len)) != 0)
			return recv_bad_frame(s, &fh, r);
		rec->type = HV_REC_END;
		return 0;
	case MSG_ABORT:
		if ((r = xconn_read_exact(&s->c, s->buf, fh.len)) == 0 &&
		    msg_reason_decode(s->buf, fh.len, &m) == 0)
			job_set_error(s->j, "sender aborted: %s", m.text);
		return XMIG_ERR_PEER_ABORT;
	case MSG_DM_PHYSMAP:
	case MSG_DM_STATE:
		/* Allowed only after both HELLOs offered HELLO_F_DEVICE_MODEL. */
		if (s->dm) {
			if ((r = recv_dm(s, &fh, rec)) == 1)
				goto again;
			return recv_bad_frame(s, &fh, r);
		}
		job_set_error(s->j, "protocol error: %s (a device model's state) from a sender "
		    "that was not offered to carry a device model", proto_type_str(fh.type));
		s->bad_frame = true;
		return XMIG_ERR_UNEXPECTED;
	default:
		job_set_error(s->j, "protocol error: %s during the memory stream",
		    proto_type_str(fh.type));
		s->bad_frame = true;
		return XMIG_ERR_UNEXPECTED;
	}
}

static int
io_ready(struct hv_restore_io *io)
{
	struct recv_ctx *s = (struct recv_ctx *)io;
	int r;

	fault_kill_at("recv-exit-at-prepare");	/* the new domain exists, paused */
	if ((r = xconn_send_frame(&s->c, MSG_PREPARE_OK, NULL, 0)) != 0)
		return r;
	s->accepted = true;
	job_set_state(s->j, JOB_PREPARE, JOB_PRECOPY);
	/* a backend without devices to set up said so before ready() */
	return recv_devices_ready(s);
}

static void
recv_refuse(struct recv_ctx *s, uint16_t code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
recv_refuse(struct recv_ctx *s, uint16_t code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
	if (s->j != NULL)
		job_set_error(s->j, "refused: %s", s->why);
	else
		log_warn("refused %s: %s", s->c.peer, s->why);
	engine_send_reason(&s->c, MSG_REFUSE, code, s->why);
}

/* QUERY: the outcome of the migration whose PREPARE carried this token,
 * told only to the peer that sent that PREPARE (same address, and same
 * certificate under TLS), with the domain's name and uuid so that the
 * sender can check it is about its own domain. */
static void
recv_query(struct recv_ctx *s, const uint8_t *p, uint32_t len)
{
	struct msg_query q;
	struct msg_query_reply qr;
	struct state_rec rec;
	char who[STATE_PEER_MAX];
	uint8_t buf[128];
	bool known;
	int n;

	if (msg_query_decode(p, len, &q) != 0) {
		recv_refuse(s, REASON_PROTOCOL, "malformed QUERY");
		return;
	}
	memset(&qr, 0, sizeof(qr));
	memcpy(qr.token, q.token, 16);
	qr.outcome = OUTCOME_UNKNOWN;
	known = state_lookup(q.token, &rec) == 0;
	if (known && (xconn_peer_id(&s->c, who, sizeof(who)) != 0 ||
	    strcmp(who, rec.peer) != 0)) {
		log_warn("query from %s about a migration of %s that came from %s: not "
		    "answered", s->c.peer, rec.name, rec.peer[0] ? rec.peer : "an unknown peer");
		known = false;
	}
	if (known) {
		if (strcmp(rec.outcome, "committed") == 0)
			qr.outcome = OUTCOME_COMMITTED;
		else if (job_incoming_active(q.token))
			qr.outcome = OUTCOME_IN_PROGRESS;
		else
			qr.outcome = OUTCOME_ABORTED;	/* aborted, or building when we died */
		strlcpy_x(qr.name, rec.name, sizeof(qr.name));
		memcpy(qr.uuid, rec.uuid, 16);
	}
	log_info("query from %s: outcome %u%s%s", s->c.peer, qr.outcome, known ? " for " : "",
	    known ? rec.name : "");
	if ((n = msg_query_reply_encode(&qr, buf, sizeof(buf))) > 0)
		xconn_send_frame(&s->c, MSG_QUERY_REPLY, buf, (uint32_t)n);
}

/* A peer's placement question: answered from the same facts as PREPARE's
 * checks; the allow-list already admitted the peer at accept time. */
static void
recv_host_info(struct recv_ctx *s, const uint8_t *p, uint32_t len)
{
	struct msg_host_info_reply *m;
	uint32_t cap = proto_max_len(MSG_HOST_INFO_REPLY);
	uint8_t *out;
	int n;

	if (msg_empty_decode(p, len) != 0) {
		recv_refuse(s, REASON_PROTOCOL, "malformed HOST_INFO");
		return;
	}
	m = calloc(1, sizeof(*m));
	out = malloc(cap);
	if (m == NULL || out == NULL || engine_host_info_build(s->d, m) != 0 ||
	    (n = msg_host_info_reply_encode(m, out, cap)) < 0) {
		recv_refuse(s, REASON_BACKEND, "cannot describe this host");
	} else {
		log_debug("host info for %s: %u domains", s->c.peer, m->ndoms);
		xconn_send_frame(&s->c, MSG_HOST_INFO_REPLY, out, (uint32_t)n);
	}
	free(m);
	free(out);
}

static uint16_t
recv_reason_for(int r)
{
	switch (r) {
	case XMIG_ERR_NO_SPACE: return REASON_NO_MEMORY;
	case XMIG_ERR_EXISTS: return REASON_UUID_CLASH;
	case XMIG_ERR_INCOMPATIBLE: return REASON_INCOMPATIBLE;
	default: return REASON_OTHER;
	}
}

/* The TLS handshake of a connection to the TLS port, within the hello
 * deadline.  Every refusal is one line with the peer and the reason. */
static int
recv_tls(struct recv_ctx *s)
{
	struct msg_hello peer;
	char tw[320];
	int r;

	if ((r = xconn_tls_accept(&s->c, s->d->tls_server, tw, sizeof(tw))) == 0) {
		xconn_tls_describe(&s->c, tw, sizeof(tw));
		log_verbose("TLS from %s: %s", s->c.peer, tw);
		return 0;
	}
	log_warn("TLS handshake with %s failed: %s", s->c.peer, tw);
	if (r == XMIG_ERR_UNEXPECTED) {
		/* An xmig sender without --ssl: take its HELLO (so that closing
		 * does not reset the connection), then tell it why, in its own
		 * plaintext. */
		s->c.err = 0;
		if (engine_recv_hello(&s->c, &peer, s->why, sizeof(s->why)) == 0)
			engine_send_reason(&s->c, MSG_ABORT, REASON_PROTOCOL, "this is the TLS "
			    "relocation port: migrate with xmig migrate --ssl");
	}
	return r;
}

/* The migration's record moves on (its name, uuid and peer stay). */
static int
recv_record(struct recv_ctx *s, const uint8_t token[16], const char *outcome, uint32_t domid)
{
	strlcpy_x(s->rec.outcome, outcome, sizeof(s->rec.outcome));
	s->rec.domid = domid;
	return state_update(token, &s->rec);
}

/* What is left to do after a phase of recv_conn. */
enum recv_step {
	RSTEP_ON,		/* go on to the next phase */
	RSTEP_END,		/* the connection is served (or dropped): no job */
	RSTEP_FAILED,		/* the job fails; nothing was built */
	RSTEP_ABORTED,		/* the job fails; the record says aborted, a copy is destroyed */
	RSTEP_DONE,		/* the domain runs here */
};

/* Handshake under a deadline (a silent peer is dropped), then the first
 * frame: QUERY and HOST_INFO are served here, anything but PREPARE is
 * refused, and so is a PREPARE beyond max-connections. */
static enum recv_step
recv_greet(struct recv_ctx *s, struct msg_hello *ours, struct msg_prepare *mp)
{
	struct msg_hello peer;
	struct frame_hdr fh;
	int r, n;

	s->c.timeout_ms = ENGINE_HELLO_TIMEOUT_MS;
	s->c.deadline_us = now_us() + ENGINE_HELLO_TIMEOUT_MS * 1000ull;
	if (s->tls && recv_tls(s) != 0)
		return RSTEP_END;
	if ((r = engine_recv_hello(&s->c, &peer, s->why, sizeof(s->why))) != 0) {
		log_warn("connection from %s dropped: %s", s->c.peer, s->why);
		return RSTEP_END;
	}
	fault_kill_at("recv-exit-at-hello");
	if ((r = engine_build_hello(s->d, ours)) != 0 || engine_send_hello(&s->c, ours) != 0)
		return RSTEP_END;
	if ((n = engine_check_hello(ours, &peer, s->why, sizeof(s->why))) != 0) {
		log_warn("refused %s: %s", s->c.peer, s->why);
		engine_send_reason(&s->c, MSG_ABORT, (uint16_t)n, s->why);
		return RSTEP_END;
	}
	strlcpy_x(s->peer_host, peer.host, sizeof(s->peer_host));
	s->peer_features = peer.features;
	s->devs_frame = (hello_common_features(ours, &peer) & HELLO_F_DEVICES_READY) != 0;
	s->dm = (hello_common_features(ours, &peer) & HELLO_F_DEVICE_MODEL) != 0;
	s->c.deadline_us = now_us() + ENGINE_HELLO_TIMEOUT_MS * 1000ull;
	if ((r = xconn_recv_frame(&s->c, &fh, s->buf, PROTO_CFG_MAX + 4096)) != 0) {
		if (r != XMIG_ERR_EOF)
			log_warn("%s: no PREPARE: %s", s->c.peer, xmig_strerror(r));
		return RSTEP_END;
	}
	s->c.deadline_us = 0;	/* from here each step has its own timeout */
	if (fh.type == MSG_QUERY) {
		recv_query(s, s->buf, fh.len);
		return RSTEP_END;
	}
	if (fh.type == MSG_HOST_INFO) {
		recv_host_info(s, s->buf, fh.len);
		return RSTEP_END;
	}
	if (fh.type != MSG_PREPARE) {
		recv_refuse(s, REASON_PROTOCOL, "expected PREPARE, got %s",
		    proto_type_str(fh.type));
		return RSTEP_END;
	}
	if (s->query_only) {
		recv_refuse(s, REASON_BUSY, "%s has %u relocation connections open "
		    "(max-connections): only queries are served now", s->d->host_name,
		    s->d->conf.max_connections);
		return RSTEP_END;
	}
	if ((r = msg_prepare_decode(s->buf, fh.len, mp)) != 0) {
		recv_refuse(s, REASON_PROTOCOL, "malformed PREPARE: %s", xmig_strerror(r));
		return RSTEP_END;
	}
	return RSTEP_ON;
}

/* PREPARE: the job exists from here on (it shows in 'xmig jobs'); every
 * check comes before anything sized by the peer is allocated, and the
 * token is taken only once its record is this migration's own. */
static enum recv_step
recv_admit(struct recv_ctx *s, const struct msg_hello *ours, const struct msg_prepare *mp,
    struct hv_dom_spec *spec)
{
	struct hv *hv = s->d->hv;
	struct hv_dominfo di;
	struct job *j;
	int r;

	if ((j = job_new(true)) == NULL) {
		recv_refuse(s, REASON_BUSY, "too many jobs");
		return RSTEP_END;
	}
	s->j = j;
	job_lock();
	strlcpy_x(j->domain, mp->name, sizeof(j->domain));
	strlcpy_x(j->peer, s->c.peer, sizeof(j->peer));
	j->live = mp->live;
	j->memory_bytes = mp->nr_pages * ours->page_size;
	j->remaining_pages = mp->nr_pages;
	job_unlock();
	jlog(LOG_LVL_INFO, j->id, "incoming %s migration of %s (%llu MiB) from %s (%s)",
	    mp->live ? "live" : "offline", mp->name,
	    (unsigned long long)(j->memory_bytes >> 20), s->peer_host, s->c.peer);

	memset(spec, 0, sizeof(*spec));
	engine_decorate(spec->name, sizeof(spec->name), mp->name, SUFFIX_INCOMING);
	memcpy(spec->uuid, mp->uuid, 16);
	spec->nr_pages = mp->nr_pages;
	spec->max_pages = mp->max_pages;
	spec->vcpus = mp->vcpus;
	spec->type = (enum hv_dom_type)mp->dom_type;
	spec->cfg = mp->cfg;
	spec->cfg_len = mp->cfg_len;
	spec->device_model = s->dm;
	s->nr_pages = mp->nr_pages;
	s->page_size = ours->page_size;

	/* The names a migration gives its copies while it runs are not names
	 * a domain may arrive with: reconcile and the operator go by them. */
	if (strstr(mp->name, SUFFIX_INCOMING) != NULL || strstr(mp->name, SUFFIX_MIGRATED) != NULL) {
		recv_refuse(s, REASON_NAME_CLASH, "domain names containing \"%s\" or \"%s\" are "
		    "reserved for migrations in progress", SUFFIX_INCOMING, SUFFIX_MIGRATED);
		return RSTEP_FAILED;
	}
	if (state_lookup(mp->token, &s->rec) == 0) {
		recv_refuse(s, REASON_PROTOCOL, "%s", RECV_TOKEN_USED);
		return RSTEP_FAILED;
	}
	if (hoststate_get(NULL, 0) != HOST_ACTIVE) {
		recv_refuse(s, REASON_MAINTENANCE, "%s is %s and takes no incoming migrations",
		    s->d->host_name, hoststate_str(hoststate_get(NULL, 0)));
		return RSTEP_FAILED;
	}
	if (jobs_running_incoming() > s->d->conf.max_incoming) {
		recv_refuse(s, REASON_BUSY, "%s already receives %u migrations (max-incoming)",
		    s->d->host_name, s->d->conf.max_incoming);
		return RSTEP_FAILED;
	}
	if (hv->ops->lookup(hv, mp->name, &di) == 0) {
		recv_refuse(s, REASON_NAME_CLASH, "a domain named %s already exists on %s "
		    "(id %u)", mp->name, s->d->host_name, di.id);
		return RSTEP_FAILED;
	}
	if (hv->ops->lookup(hv, spec->name, &di) == 0) {
		recv_refuse(s, REASON_BUSY, "%s is still here from an earlier migration of %s",
		    spec->name, mp->name);
		return RSTEP_FAILED;
	}
	if ((r = hv->ops->check_incoming(hv, spec, s->why, sizeof(s->why))) != 0) {
		char why[sizeof(s->why)];

		strlcpy_x(why, s->why, sizeof(why));
		recv_refuse(s, recv_reason_for(r), "%s", why);
		return RSTEP_FAILED;
	}
	/* Only now is anything sized by nr_pages (the protocol allows 4 PiB,
	 * and not every backend's check looks at memory). */
	if (ours->mem_total != 0 && mp->nr_pages > ours->mem_total / ours->page_size) {
		recv_refuse(s, REASON_NO_MEMORY, "%llu MiB do not fit in %s's %llu MiB",
		    (unsigned long long)(j->memory_bytes >> 20), s->d->host_name,
		    (unsigned long long)(ours->mem_total >> 20));
		return RSTEP_FAILED;
	}
	if ((s->written = calloc((mp->nr_pages + 63) / 64, sizeof(uint64_t))) == NULL) {
		recv_refuse(s, REASON_NO_MEMORY, "out of memory for %llu pages",
		    (unsigned long long)mp->nr_pages);
		return RSTEP_FAILED;
	}
	/* The token names this migration from now on, bound to the peer that
	 * sent it; one already used, in any state, is never taken again, or a
	 * second PREPARE could rewrite the outcome a sender will act on. */
	memset(&s->rec, 0, sizeof(s->rec));
	strlcpy_x(s->rec.outcome, "building", sizeof(s->rec.outcome));
	strlcpy_x(s->rec.name, mp->name, sizeof(s->rec.name));
	memcpy(s->rec.uuid, mp->uuid, 16);
	if (xconn_peer_id(&s->c, s->rec.peer, sizeof(s->rec.peer)) != 0) {
		recv_refuse(s, REASON_OTHER, "cannot tell who %s is", s->c.peer);
		return RSTEP_FAILED;
	}
	if ((r = state_create(mp->token, &s->rec)) != 0) {
		if (r == XMIG_ERR_EXISTS)
			recv_refuse(s, REASON_PROTOCOL, "%s", RECV_TOKEN_USED);
		else
			recv_refuse(s, REASON_OTHER, "cannot write to the state directory: %s",
			    xmig_strerror(r));
		return RSTEP_FAILED;
	}
	job_lock();
	memcpy(j->token, mp->token, 16);
	job_unlock();
	return RSTEP_ON;
}

/* The memory stream, into a new paused domain (io_ready() accepts the
 * migration once the backend has created it), then BUILT. */
static enum recv_step
recv_build(struct recv_ctx *s, const struct msg_prepare *mp, const struct hv_dom_spec *spec)
{
	struct hv *hv = s->d->hv;
	struct job *j = s->j;
	struct msg_built mb;
	uint8_t small[64];
	int r, n;

	s->c.timeout_ms = (int)s->d->conf.stream_timeout_s * 1000;
	s->io.devices_awaited = s->devs_frame;
	r = hv->ops->restore(hv, spec, &s->io, &s->domid);
	s->c.deadline_us = 0;	/* the last frame's: the steps below have their own */
	if (r != 0) {
		if (!s->accepted) {
			recv_refuse(s, recv_reason_for(r), "cannot create %s here: %s", mp->name,
			    s->io.why[0] != '\0' ? s->io.why : xmig_strerror(r));
			recv_record(s, mp->token, "aborted", 0);
			return RSTEP_FAILED;
		}
		/* A backend that said why after PREPARE_OK (Xen: the devices,
		 * set up while the memory comes) is quoted like a refusal. */
		if (s->io.why[0] != '\0' && r != XMIG_ERR_PEER_ABORT && r != XMIG_ERR_INTERRUPTED)
			job_set_error(j, "cannot create %s here: %s", mp->name, s->io.why);
		else
			job_set_error(j, "receiving %s failed: %s", mp->name, xmig_strerror(r));
		if (r != XMIG_ERR_PEER_ABORT)
			engine_send_reason(&s->c, MSG_ABORT, r == XMIG_ERR_INTERRUPTED ?
			    REASON_CANCELLED : s->bad_frame ? REASON_PROTOCOL : REASON_BACKEND,
			    j->error);
		return RSTEP_ABORTED;
	}
	s->built = true;
	job_lock();
	j->domid = s->domid;
	j->remaining_pages = 0;
	job_unlock();
	/* A built domain has its devices: the frame comes before BUILT even
	 * from a backend that never said so on its own. */
	atomic_store(&s->devs_up, true);
	if (recv_devices_ready(s) != 0) {
		job_set_error(j, "lost %s before the go-ahead", s->c.peer);
		return RSTEP_ABORTED;
	}
	recv_record(s, mp->token, "building", s->domid);
	mb.domid = s->domid;
	job_set_state(j, JOB_PRECOPY, JOB_COMMITTING);
	if ((n = msg_built_encode(&mb, small, sizeof(small))) < 0 ||
	    (r = xconn_send_frame(&s->c, MSG_BUILT, small, (uint32_t)n)) != 0) {
		job_set_error(j, "lost %s before the go-ahead", s->c.peer);
		return RSTEP_ABORTED;
	}
	fault_kill_at("recv-exit-after-built");
	return RSTEP_ON;
}

/* Wait for GO, commit-timeout on the clock (without it the copy here must
 * never run), record the commit, then run the domain and say DONE. */
static enum recv_step
recv_commit(struct recv_ctx *s, const struct msg_prepare *mp, const struct hv_dom_spec *spec)
{
	struct hv *hv = s->d->hv;
	struct job *j = s->j;
	struct frame_hdr fh;
	struct msg_done md;
	uint8_t small[64];
	uint64_t t0;
	int r, n;

	s->c.timeout_ms = (int)s->d->conf.commit_timeout_s * 1000;
	s->c.deadline_us = now_us() + s->d->conf.commit_timeout_s * 1000000ull;
	r = xconn_recv_frame(&s->c, &fh, s->buf, PROTO_REASON_MAX + 8);
	s->c.deadline_us = 0;
	if (r != 0 ||
	    fh.type != MSG_GO || msg_empty_decode(NULL, fh.len) != 0) {
		struct msg_reason m;

		if (r == 0 && fh.type == MSG_ABORT && msg_reason_decode(s->buf, fh.len, &m) == 0)
			job_set_error(j, "sender aborted: %s", m.text);
		else
			job_set_error(j, "no go-ahead from %s: %s", s->c.peer,
			    r ? xmig_strerror(r) : proto_type_str(fh.type));
		if (r == XMIG_ERR_TOO_LONG || (r == 0 && fh.type != MSG_ABORT))
			engine_send_reason(&s->c, MSG_ABORT, REASON_PROTOCOL, j->error);
		return RSTEP_ABORTED;
	}
	if (fault_at("recv-exit-on-go")) {
		log_error("fault injection: exiting on GO");
		_exit(99);
	}
	fault_hold("recv-hold-on-go");
	/* Committed: recorded before the guest runs, so a QUERY after a crash
	 * never makes the source resume a guest that already ran here. */
	if ((r = recv_record(s, mp->token, "committed", s->domid)) != 0) {
		job_set_error(j, "cannot record the commit: %s", xmig_strerror(r));
		engine_send_reason(&s->c, MSG_ABORT, REASON_OTHER, j->error);
		return RSTEP_ABORTED;
	}
	fault_kill_at("recv-exit-after-commit");
	if ((r = hv->ops->rename(hv, s->domid, mp->name)) != 0)
		jlog(LOG_LVL_WARN, j->id, "cannot rename %s to %s: %s", spec->name, mp->name,
		    xmig_strerror(r));
	t0 = now_us();
	if (fault_at("recv-slow-unpause"))
		usleep(100 * 1000);
	if ((r = hv->ops->unpause(hv, s->domid)) != 0) {
		job_set_error(j, "cannot start %s: %s", mp->name, xmig_strerror(r));
		recv_record(s, mp->token, "aborted", s->domid);
		engine_send_reason(&s->c, MSG_ABORT, REASON_BACKEND, j->error);
		return RSTEP_ABORTED;
	}
	memset(&md, 0, sizeof(md));
	md.domid = s->domid;
	/* The sender's downtime ends with DONE: what the unpause took is the
	 * one part of it that only this end can see. */
	if (s->peer_features & HELLO_F_DONE_UNPAUSE) {
		uint64_t dt = now_us() - t0;

		md.has_unpause = true;
		md.unpause_us = dt > UINT32_MAX ? UINT32_MAX : (uint32_t)dt;
	}
	if (fault_at("recv-no-done")) {
		jlog(LOG_LVL_WARN, j->id, "fault injection: closing without DONE");
		job_set_state(j, -1, JOB_DONE);
		return RSTEP_DONE;
	}
	if ((n = msg_done_encode(&md, small, sizeof(small))) > 0)
		xconn_send_frame(&s->c, MSG_DONE, small, (uint32_t)n);
	job_set_state(j, -1, JOB_DONE);
	jlog(LOG_LVL_INFO, j->id, "%s is running here (id %u)", mp->name, s->domid);
	return RSTEP_DONE;
}

static void
recv_conn(struct recv_ctx *s)
{
	struct hv *hv = s->d->hv;
	struct msg_hello ours;
	struct msg_prepare mp;
	struct hv_dom_spec spec;
	enum recv_step st;
	int r;

	st = recv_greet(s, &ours, &mp);
	if (st == RSTEP_ON)
		st = recv_admit(s, &ours, &mp, &spec);
	if (st == RSTEP_ON)
		st = recv_build(s, &mp, &spec);
	if (st == RSTEP_ON)
		st = recv_commit(s, &mp, &spec);
	switch (st) {
	case RSTEP_ON:
	case RSTEP_END:
	case RSTEP_DONE:
		return;
	case RSTEP_ABORTED:
		if (s->built && (r = hv->ops->destroy(hv, s->domid)) != 0)
			jlog(LOG_LVL_ERROR, s->j->id, "cannot destroy the partial copy %s (id %u): "
			    "%s", spec.name, s->domid, xmig_strerror(r));
		recv_record(s, mp.token, "aborted", s->domid);
		/* fall through */
	case RSTEP_FAILED:
		job_set_state(s->j, -1, atomic_load(&s->j->cancel) ? JOB_CANCELLED : JOB_FAILED);
		return;
	}
}

/* Relocation connections open now (accept's max-connections cap). */
static atomic_uint open_conns;

unsigned
engine_recv_open(void)
{
	return atomic_load(&open_conns);
}

static void *
recv_thread(void *arg)
{
	struct recv_ctx *s = arg;

	recv_conn(s);
	job_thread_exit(s->j);	/* the thread's reference (job_new's) */
	xconn_close(&s->c);
	free(s->written);
	free(s->stage);
	free(s->unz);
	free(s->physmap);
	free(s->dm_buf);
	dm_state_acc_free(&s->dm_state);
	free(s->buf);
	free(s);
	atomic_fetch_sub(&open_conns, 1);
	return NULL;
}

void
engine_recv_start(struct xmigd *d, int fd, const char *peer, bool tls, bool query_only)
{
	struct recv_ctx *s = calloc(1, sizeof(*s));
	pthread_attr_t attr;
	pthread_t t;

	if (s != NULL)
		s->buf = malloc(PROTO_RAW_MAX > PROTO_CFG_MAX + 4096 ? PROTO_RAW_MAX
		    : PROTO_CFG_MAX + 4096);
	if (s == NULL || s->buf == NULL) {
		log_error("out of memory for a connection from %s", peer);
		if (s)
			free(s);
		close(fd);
		return;
	}
	s->d = d;
	s->tls = tls;
	s->query_only = query_only;
	xconn_init(&s->c, fd, ENGINE_HELLO_TIMEOUT_MS);
	strlcpy_x(s->c.peer, peer, sizeof(s->c.peer));
	s->io.next = io_next;
	s->io.ready = io_ready;
	s->io.devices_ready = io_devices_ready;
	dm_state_acc_init(&s->dm_state);
	atomic_init(&s->devs_up, false);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	atomic_fetch_add(&open_conns, 1);
	if (pthread_create(&t, &attr, recv_thread, s) != 0) {
		atomic_fetch_sub(&open_conns, 1);
		log_error("cannot start a thread for %s", peer);
		xconn_close(&s->c);
		free(s->buf);
		free(s);
	}
	pthread_attr_destroy(&attr);
}
