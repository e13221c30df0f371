/* engine/send.c - the sending end of a migration.
 *
 * send_job() runs the phases in order (greet, prepare, stream, await
 * BUILT, commit); each says what is left to do by the state the source is
 * in: never touched, to be resumed, past the point of no return (GO sent)
 * with the outcome learnt from the receiver, or committed.  See docs/protocol.md for the handshake.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/engine.h"
#include "compress.h"
#include "engine/engine_int.h"
#include "fault.h"
#include "log.h"
#include "engine/policy.h"
#include "engine/outgoing.h"
#include "util.h"
#include "xbuf.h"
#include "xerr.h"

struct send_ctx {
	struct hv_save_io io;	/* first: the backend's callbacks get &io */
	struct xmigd *d;
	struct job *j;
	struct send_req req;
	struct xconn c;
	struct hv_dominfo dom;
	struct policy_cfg pcfg;
	struct policy_state pst;
	unsigned throttle_applied;	/* guest throttle now in force, % */
	uint32_t page_size;
	uint64_t nr_pages;
	/* per-round measurements */
	uint64_t round_t0_us, round_tx0;
	uint64_t policy_t_us;	/* the last policy decision (or the stream's start) */
	uint64_t bw_t0_us, bw_bytes0;	/* the last bandwidth sample (job lock) */
	uint64_t round_pages0;	/* j->pages_sent when the round began */
	double bandwidth;	/* bytes/s, smoothed */
	/* one PAGES frame */
	uint8_t head[FRAME_HDR_LEN + ZPAGES_HEAD_LEN];
	uint64_t entries[PROTO_PAGES_MAX];
	struct iovec iov[PROTO_PAGES_MAX + 2];
	/* compression (ZPAGES) */
	int compress;			/* enum compress_mode, resolved */
	int compress_algo;		/* COMPRESS_ZSTD or COMPRESS_LZ4 when compressing */
	struct compressor *comp;
	uint8_t *stage, *zbuf;		/* PROTO_PAGES_MAX pages each */
	unsigned batches;
	unsigned sample_every;		/* auto: batches between samples */
	double c_speed, c_ratio;	/* compressor input bytes/s, output/input */
	uint64_t wire_bytes, wire_us;	/* page frames: bytes and time in writev */
	/* the destination's devices (HELLO_F_DEVICES_READY on both sides) */
	bool devs_frame;		/* the receiver sends DEVICES_READY */
	atomic_bool devs_up;		/* ... and it came (read by the writer, the
					 * policy may run in another thread: Xen) */
	uint64_t devs_deadline_us;	/* a live stream waits for it until then */
	uint64_t devs_wait_t0;		/* the policy first held the stop back (policy's thread) */
	uint64_t devs_nap_end;		/* when its last round began (the last wait's end) */
	bool devs_timed_out;		/* the policy gave up on them */
	bool dm;			/* both HELLOs: HELLO_F_DEVICE_MODEL */
};

/* While the policy holds the stop back for the destination's devices,
 * each of its rounds lasts at least this: an idle guest's rounds are
 * empty, and the wait should not spin. */
#define SEND_DEVICES_NAP_MS 20

#define SEND_PREFETCH 8	/* pages ahead the zero check loads */

static bool
page_is_zero(const uint8_t *p, size_t len)
{
	const uint64_t *w = (const uint64_t *)(const void *)p;
	size_t i, n = len / 8;

	/* Eight words at a time: random pages fail on the first block. */
	for (i = 0; i < n; i += 8)
		if ((w[i] | w[i + 1] | w[i + 2] | w[i + 3] | w[i + 4] | w[i + 5] | w[i + 6] |
		    w[i + 7]) != 0)
			return false;
	return true;
}

/* Should this batch of `raw` bytes be compressed?  Forced modes always;
 * auto when compressing and sending the result is expected to beat sending
 * it as it is, from measured compressor speed and ratio and the link's own
 * speed (time spent in writev), re-sampling every 16th batch. */
static bool
send_should_compress(struct send_ctx *s, uint64_t raw)
{
	double link, plain, packed;

	if (s->comp == NULL || raw == 0)
		return false;
	if (s->compress != COMPRESS_AUTO)
		return true;
	if (s->c_speed <= 0 || s->wire_us == 0)
		return true;
	link = (double)s->wire_bytes * 1e6 / (double)s->wire_us;
	plain = (double)raw / link;
	packed = (double)raw / s->c_speed + (double)raw * s->c_ratio / link;
	if (packed < 0.95 * plain) {
		s->sample_every = 16;
		return true;
	}
	/* Not paying: re-sample now and then, less often while it keeps not
	 * paying (a sample of incompressible data on a fast link is costly). */
	if (s->batches % s->sample_every == 0) {
		if (s->sample_every < 1024)
			s->sample_every *= 2;
		return true;
	}
	return false;
}

/* Compress src[0..raw) into s->zbuf (raw <= its PROTO_PAGES_MAX pages),
 * timing it for auto; the compressed length, or 0 when it does not shrink. */
static long
send_compress_run(struct send_ctx *s, const uint8_t *src, uint64_t raw)
{
	uint64_t t0 = now_us();
	long z;
	double speed, ratio;

	z = compressor_run(s->comp, src, raw, s->zbuf, raw - 1);
	speed = (double)raw * 1e6 / (double)(now_us() - t0 + 1);
	ratio = z > 0 ? (double)z / (double)raw : 1.0;
	s->c_speed = s->c_speed > 0 ? 0.8 * s->c_speed + 0.2 * speed : speed;
	s->c_ratio = s->c_ratio > 0 ? 0.8 * s->c_ratio + 0.2 * ratio : ratio;
	return z;
}

/* Gather the batch's normal pages and compress them; returns the
 * compressed length, or 0 when it does not pay (then they go as PAGES). */
static long
send_compress(struct send_ctx *s, unsigned normal)
{
	unsigned i;

	for (i = 0; i < normal; i++)
		memcpy(s->stage + (size_t)i * s->page_size, s->iov[2 + i].iov_base, s->page_size);
	return send_compress_run(s, s->stage, (uint64_t)normal * s->page_size);
}

static int
send_frame_pages(struct send_ctx *s, unsigned round, const uint64_t *pfns, unsigned n,
    const uint8_t *base)
{
	unsigned i, normal = 0, iovcnt = 2;
	uint32_t len, hlen = FRAME_HDR_LEN + PAGES_HEAD_LEN;
	uint64_t t0;
	long z = 0;
	int r;

	for (i = 0; i < n; i++) {
		const uint8_t *p = base + pfns[i] * s->page_size;

		/* Each page is new to the cache: start loading a few ahead, the
		 * hardware prefetcher does not cross a page boundary. */
		if (i + SEND_PREFETCH < n)
			__builtin_prefetch(base + pfns[i + SEND_PREFETCH] * s->page_size);
		if (page_is_zero(p, s->page_size)) {
			be64_put((uint8_t *)&s->entries[i], page_entry(pfns[i], PAGE_ZERO));
		} else {
			be64_put((uint8_t *)&s->entries[i], page_entry(pfns[i], PAGE_NORMAL));
			s->iov[iovcnt].iov_base = (void *)p;
			s->iov[iovcnt].iov_len = s->page_size;
			iovcnt++;
			normal++;
		}
	}
	s->batches++;
	if (send_should_compress(s, (uint64_t)normal * s->page_size) &&
	    (z = send_compress(s, normal)) < 0)
		return (int)z;
	if (z > 0) {
		len = ZPAGES_HEAD_LEN + 8 * n + (uint32_t)z;
		hlen = FRAME_HDR_LEN + ZPAGES_HEAD_LEN;
		frame_hdr_encode(s->head, MSG_ZPAGES, 0, len);
		be32_put(s->head + FRAME_HDR_LEN, round);
		be32_put(s->head + FRAME_HDR_LEN + 4, n);
		s->head[FRAME_HDR_LEN + 8] = (uint8_t)s->compress_algo;
		memset(s->head + FRAME_HDR_LEN + 9, 0, 3);
		be32_put(s->head + FRAME_HDR_LEN + 12, (uint32_t)z);
		s->iov[2].iov_base = s->zbuf;
		s->iov[2].iov_len = (size_t)z;
		iovcnt = 3;
	} else {
		len = PAGES_HEAD_LEN + 8 * n + normal * s->page_size;
		frame_hdr_encode(s->head, MSG_PAGES, 0, len);
		be32_put(s->head + FRAME_HDR_LEN, round);
		be32_put(s->head + FRAME_HDR_LEN + 4, n);
	}
	s->iov[0].iov_base = s->head;
	s->iov[0].iov_len = hlen;
	s->iov[1].iov_base = s->entries;
	s->iov[1].iov_len = 8 * n;
	t0 = now_us();
	if ((r = xconn_writev_all(&s->c, s->iov, (int)iovcnt)) != 0)
		return r;
	s->wire_us += now_us() - t0;
	s->wire_bytes += FRAME_HDR_LEN + len;
	job_lock();
	s->j->pages_sent += n;
	s->j->zero_pages += n - normal;
	s->j->normal_pages += normal;
	s->j->bytes_sent = s->c.tx_bytes;
	s->j->remaining_pages = s->j->remaining_pages > n ? s->j->remaining_pages - n : 0;
	if (z > 0) {
		s->j->compressed_bytes += (uint64_t)normal * s->page_size;
		s->j->compressed_wire += (uint64_t)z;
	}
	job_unlock();
	return 0;
}

static int
io_pages(struct hv_save_io *io, unsigned round, const uint64_t *pfns, unsigned n,
    const uint8_t *base)
{
	struct send_ctx *s = (struct send_ctx *)io;
	int r;

	while (n > 0) {
		unsigned k = n < PROTO_PAGES_MAX ? n : PROTO_PAGES_MAX;

		if ((r = send_frame_pages(s, round, pfns, k, base)) != 0)
			return r;
		pfns += k;
		n -= k;
	}
	/* Pre-copy only: after the suspend the round number is the last one. */
	return s->j->t_pause_us == 0 ? fault_round("send", round) : 0;
}

/* The link's speed, smoothed, from what the job has sent since the last
 * sample; taken at a round's end and when the policy is asked, whichever
 * comes first: on Xen the policy runs in libxenguest's thread before the
 * pump has posted the round's end, and must not decide on the guess of
 * an unmeasured link.  Only samples big enough to time say anything about
 * the link.  Caller holds the job lock. */
static void
send_sample_bandwidth_locked(struct send_ctx *s, uint64_t now)
{
	uint64_t bytes = s->j->bytes_sent - s->bw_bytes0, dt = now - s->bw_t0_us;
	double bw;

	if (bytes < (1u << 20) || dt < 2000)
		return;
	bw = (double)bytes * 1e6 / (double)dt;
	s->bandwidth = s->bandwidth > 0 ? 0.5 * s->bandwidth + 0.5 * bw : bw;
	s->bw_bytes0 = s->j->bytes_sent;
	s->bw_t0_us = now;
}

static int
io_round_end(struct hv_save_io *io, unsigned round, uint64_t sent, uint64_t dirty)
{
	struct send_ctx *s = (struct send_ctx *)io;
	struct msg_round_end m = { .round = round, .pages = sent, .dirty = dirty };
	uint64_t now = now_us(), dt = now - s->round_t0_us, bytes = s->c.tx_bytes - s->round_tx0;
	uint8_t buf[32];
	int n;

	job_lock();
	s->j->bytes_sent = s->c.tx_bytes;
	send_sample_bandwidth_locked(s, now);
	/* A backend that streams raw (Xen: libxenguest sends the pages) never
	 * passed through the page counters: count the round's pages here. */
	if (s->j->pages_sent == s->round_pages0)
		s->j->pages_sent += sent;
	s->round_pages0 = s->j->pages_sent;
	s->j->iteration = round + 1;
	s->j->remaining_pages = dirty;
	if (dt > 0)
		s->j->dirty_rate = dirty * 1000000ull / dt;
	s->j->throughput = (uint64_t)s->bandwidth;
	s->j->expected_downtime_ms = policy_expected_downtime_ms(dirty, s->page_size,
	    s->bandwidth);
	{
		struct job_round jr = { .round = round, .pages = sent, .bytes = bytes,
			.dirty = dirty, .ms = dt / 1000 };

		job_add_round_locked(s->j, &jr);
	}
	job_unlock();
	jlog(LOG_LVL_VERBOSE, s->j->id, "round %u: %llu pages sent, %llu dirty, %.0f MiB/s",
	    round, (unsigned long long)sent, (unsigned long long)dirty,
	    (double)s->j->throughput / (1 << 20));
	s->round_t0_us = now;
	s->round_tx0 = s->c.tx_bytes;
	if ((n = msg_round_end_encode(&m, buf, sizeof(buf))) < 0)
		return n;
	return xconn_send_frame(&s->c, MSG_ROUND_END, buf, (uint32_t)n);
}

static void
io_suspending(struct hv_save_io *io)
{
	struct send_ctx *s = (struct send_ctx *)io;

	job_lock();
	/* Offline, the suspension is asked for as the stream starts: whatever
	 * the saver does before it is part of the downtime, never pre-copy. */
	s->j->t_suspend_us = s->req.live ? now_us() : s->j->t_stream_us;
	s->j->queued_at_suspend = s->req.live ? xconn_unsent(&s->c) : 0;
	job_unlock();
}

static void
io_suspended(struct hv_save_io *io)
{
	struct send_ctx *s = (struct send_ctx *)io;

	job_lock();
	s->j->t_pause_us = now_us();
	s->j->precopy_ms = s->req.live ? (s->j->t_pause_us - s->j->t_stream_us) / 1000 : 0;
	s->j->pause_pages0 = s->j->pages_sent;
	s->j->pause_tx0 = s->c.tx_bytes;
	job_unlock();
	job_set_state(s->j, JOB_PRECOPY, JOB_STOPCOPY);
	if (fault_at("send-exit-after-suspend")) {
		log_error("fault injection: exiting after suspend");
		_exit(99);
	}
}

/* What a restarted daemon needs to settle this job's source copy. */
static void
send_record(struct send_ctx *s, const char *phase)
{
	struct outgoing_rec rec;
	int r;

	memset(&rec, 0, sizeof(rec));
	memcpy(rec.token, s->j->token, 16);
	strlcpy_x(rec.phase, phase, sizeof(rec.phase));
	strlcpy_x(rec.host, s->req.host, sizeof(rec.host));
	rec.port = s->req.port;
	rec.ssl = s->req.ssl;
	rec.domid = s->dom.id;
	strlcpy_x(rec.name, s->dom.name, sizeof(rec.name));
	if ((r = outgoing_record(&rec)) != 0)
		jlog(LOG_LVL_WARN, s->j->id, "cannot write the job record: %s", xmig_strerror(r));
}

static int
io_context(struct hv_save_io *io, const void *blob, size_t len)
{
	struct send_ctx *s = (struct send_ctx *)io;

	if (len > PROTO_CONTEXT_MAX)
		return XMIG_ERR_TOO_LONG;
	return xconn_send_frame(&s->c, MSG_CONTEXT, blob, (uint32_t)len);
}

/* The backend's own stream (Xen: libxenguest's), in RAW frames, or with
 * compression in ZRAW frames where that shrinks a chunk (zero pages among
 * them cost a few bytes then), decided as for pages. */
static int
io_raw(struct hv_save_io *io, const void *buf, size_t len)
{
	struct send_ctx *s = (struct send_ctx *)io;
	const uint8_t *p = buf;
	int r;

	while (len > 0) {
		size_t k = len < PROTO_RAW_MAX ? len : PROTO_RAW_MAX;
		uint64_t tx0 = s->c.tx_bytes, t0;
		long z = 0;

		if (s->comp != NULL) {
			if (k > (size_t)PROTO_PAGES_MAX * PROTO_PAGE_SIZE)	/* zbuf's size */
				k = (size_t)PROTO_PAGES_MAX * PROTO_PAGE_SIZE;
			s->batches++;
			if (send_should_compress(s, k) && (z = send_compress_run(s, p, k)) < 0)
				return (int)z;
		}
		t0 = now_us();
		if (z > 0) {
			uint8_t head[FRAME_HDR_LEN + ZRAW_HEAD_LEN];
			struct iovec iov[2] = {
				{ .iov_base = head, .iov_len = sizeof(head) },
				{ .iov_base = s->zbuf, .iov_len = (size_t)z },
			};

			frame_hdr_encode(head, MSG_ZRAW, 0, ZRAW_HEAD_LEN + (uint32_t)z);
			zraw_head_encode(head + FRAME_HDR_LEN, (uint8_t)s->compress_algo, (uint32_t)k);
			r = xconn_writev_all(&s->c, iov, 2);
		} else {
			r = xconn_send_frame(&s->c, MSG_RAW, p, (uint32_t)k);
		}
		if (r != 0)
			return r;
		s->wire_us += now_us() - t0;
		s->wire_bytes += s->c.tx_bytes - tx0;
		job_lock();
		s->j->bytes_sent = s->c.tx_bytes;
		if (z > 0) {
			s->j->compressed_bytes += k;
			s->j->compressed_wire += (uint64_t)z;
		}
		job_unlock();
		p += k;
		len -= k;
	}
	return 0;
}

/* The device model's physmap, one DM_PHYSMAP frame. */
static int
io_dm_physmap(struct hv_save_io *io, const struct msg_dm_physmap *m)
{
	struct send_ctx *s = (struct send_ctx *)io;
	uint32_t cap = proto_max_len(MSG_DM_PHYSMAP);
	uint8_t *buf = malloc(cap);
	int n, r;

	if (buf == NULL)
		return XMIG_ERR_NOMEM;
	n = msg_dm_physmap_encode(m, buf, cap);
	r = n < 0 ? n : xconn_send_frame(&s->c, MSG_DM_PHYSMAP, buf, (uint32_t)n);
	free(buf);
	return r;
}

/* The device model's saved state, in DM_STATE chunks. */
static int
io_dm_state(struct hv_save_io *io, const void *state, size_t len)
{
	struct send_ctx *s = (struct send_ctx *)io;
	const uint8_t *p = state;
	uint32_t off = 0;
	int r;

	if (len == 0 || len > PROTO_DM_STATE_MAX)
		return XMIG_ERR_TOO_LONG;
	while (off < len) {
		uint32_t k = len - off < PROTO_DM_CHUNK_MAX ? (uint32_t)(len - off) :
		    PROTO_DM_CHUNK_MAX;
		uint8_t head[FRAME_HDR_LEN + DM_STATE_HEAD_LEN];
		struct iovec iov[2] = {
			{ .iov_base = head, .iov_len = sizeof(head) },
			{ .iov_base = (void *)(p + off), .iov_len = k },
		};

		frame_hdr_encode(head, MSG_DM_STATE, 0, DM_STATE_HEAD_LEN + k);
		dm_state_head_encode(head + FRAME_HDR_LEN, (uint32_t)len, off);
		if ((r = xconn_writev_all(&s->c, iov, 2)) != 0)
			return r;
		off += k;
	}
	job_lock();
	s->j->bytes_sent = s->c.tx_bytes;
	job_unlock();
	return 0;
}

static bool
io_cancelled(struct hv_save_io *io)
{
	struct send_ctx *s = (struct send_ctx *)io;

	return atomic_load(&s->j->cancel) || atomic_load(&s->d->stopping);
}

/* DEVICES_READY read, here or in send_expect. */
static void
send_devices_up(struct send_ctx *s)
{
	atomic_store(&s->devs_up, true);
	jlog(LOG_LVL_VERBOSE, s->j->id, "%s says the devices of %s are up", s->req.host,
	    s->dom.name);
}

/* A frame the receiver sent while we stream: DEVICES_READY once, or ABORT
 * with its reason; anything else is a protocol error. */
static int
send_peer_frame(struct send_ctx *s, const struct frame_hdr *fh, const uint8_t *payload)
{
	struct msg_reason m;

	if (fh->type == MSG_DEVICES_READY && s->devs_frame && !atomic_load(&s->devs_up) &&
	    msg_empty_decode(payload, fh->len) == 0) {
		send_devices_up(s);
		return 0;
	}
	if (fh->type == MSG_ABORT) {
		if (msg_reason_decode(payload, fh->len, &m) == 0)
			job_set_error(s->j, "%s aborted: %s", s->req.host, m.text);
		else
			job_set_error(s->j, "%s aborted the migration", s->req.host);
		return XMIG_ERR_PEER_ABORT;
	}
	job_set_error(s->j, "protocol error: %s sent %s%s during the memory stream", s->req.host,
	    fh->type == MSG_DEVICES_READY && atomic_load(&s->devs_up) ? "a second " : "",
	    proto_type_str(fh->type));
	return XMIG_ERR_UNEXPECTED;
}

/* hv_save_io.poll_peer: between writes, on the writing thread, what the
 * receiver sent meanwhile, without waiting when it sent nothing.  A frame
 * that has begun to come is read whole (the receiver writes each with one
 * call), within stream-idle-timeout. */
static int
io_poll_peer(struct hv_save_io *io)
{
	struct send_ctx *s = (struct send_ctx *)io;
	uint8_t hdr[FRAME_HDR_LEN], payload[PROTO_REASON_MAX + 8];
	uint64_t saved = s->c.deadline_us;
	struct frame_hdr fh;
	unsigned i;
	int r = 0;

	/* A few at most: DEVICES_READY, then perhaps ABORT (and OPTIONAL
	 * frames of a later revision, skipped); the rest waits for the next
	 * call, so the stream is not held up. */
	for (i = 0; i < 4 && r == 0 && xconn_readable(&s->c); i++) {
		s->c.deadline_us = now_us() + s->d->conf.stream_timeout_s * 1000000ull;
		if ((r = xconn_read_exact(&s->c, hdr, sizeof(hdr))) != 0)
			break;
		if ((r = frame_hdr_decode(hdr, &fh)) != 0) {
			job_set_error(s->j, "protocol error: %s sent a bad frame header during the "
			    "memory stream: %s", s->req.host, xmig_strerror(r));
			break;
		}
		if (fh.type < 1 || fh.type > MSG_TYPE_MAX) {
			r = xconn_skip(&s->c, fh.len);	/* unknown OPTIONAL */
			continue;
		}
		if (fh.len > sizeof(payload)) {
			job_set_error(s->j, "protocol error: %s sent %s (%u bytes) during the memory "
			    "stream", s->req.host, proto_type_str(fh.type), fh.len);
			r = XMIG_ERR_UNEXPECTED;
			break;
		}
		if ((r = xconn_read_exact(&s->c, payload, fh.len)) == 0)
			r = send_peer_frame(s, &fh, payload);
	}
	s->c.deadline_us = saved;
	return r;
}

static uint64_t
io_unsent(struct hv_save_io *io)
{
	return xconn_unsent(&((struct send_ctx *)io)->c);
}

static int
send_policy(struct hv_precopy_stats st, void *opaque)
{
	struct send_ctx *s = opaque;
	struct policy_input in = {
		.iteration = st.iteration,
		.total_pages = st.total_written,
		.dirty_pages = st.dirty_count,
		.mem_pages = s->nr_pages,
		.page_size = s->page_size,
		.cancelled = io_cancelled(&s->io),
		/* a live stream's suspend waits for the destination's devices */
		.devices_pending = s->devs_frame && s->req.live && !atomic_load(&s->devs_up),
	};
	enum policy_why why;
	enum policy_decision dec;
	struct hv *hv = s->d->hv;
	uint64_t now = now_us();
	unsigned extra = s->pst.extra_rounds;

	/* (libxenguest asks once before round 0 as well: that resets the clock) */
	in.round_ms = (now - s->policy_t_us) / 1000;
	in.devices_overdue = now >= s->devs_deadline_us;
	s->policy_t_us = now;
	job_lock();
	send_sample_bandwidth_locked(s, now);
	in.bandwidth = s->bandwidth;
	job_unlock();
	dec = policy_decide(&s->pcfg, &s->pst, &in, &why);
	if (s->devs_wait_t0 != 0) {
		/* From the first stop held back to now: while it lasts, and then
		 * (the devices up, or given up on) for good. */
		job_lock();
		s->j->devices_wait_ms = (now - s->devs_wait_t0) / 1000;
		job_unlock();
		if (!in.devices_pending)
			s->devs_wait_t0 = 0;
	}
	if (why == WHY_DEVICES_WAIT) {
		if (s->devs_wait_t0 == 0) {
			s->devs_wait_t0 = now;
			jlog(LOG_LVL_VERBOSE, s->j->id, "ready to stop after %u rounds, but the "
			    "devices of %s on %s are not up yet: pre-copy goes on", st.iteration,
			    s->dom.name, s->req.host);
		}
		/* (round_ms would count the last nap as part of the round) */
		if (s->devs_nap_end != 0 && now - s->devs_nap_end < SEND_DEVICES_NAP_MS * 1000ull)
			usleep((useconds_t)(SEND_DEVICES_NAP_MS * 1000ull - (now - s->devs_nap_end)));
		s->devs_nap_end = now_us();
	} else if (why == WHY_DEVICES_TIMEOUT) {
		s->devs_timed_out = true;
		job_set_error(s->j, "the destination's devices were not up after %u s (%s did "
		    "not say so within devices-ready-timeout)", s->d->conf.devices_ready_timeout_s,
		    s->req.host);
	}
	if (s->pst.extra_rounds != extra)
		jlog(LOG_LVL_VERBOSE, s->j->id, "converged with %ld pages dirty, one more round "
		    "pays (%u of at most %u)", st.dirty_count, s->pst.extra_rounds, POLICY_EXTRA_MAX);

	if (dec == POLICY_CONTINUE && s->pst.throttle_pct != s->throttle_applied) {
		int r = hv->ops->throttle(hv, s->dom.id, s->pst.throttle_pct);

		if (r == 0) {
			s->throttle_applied = s->pst.throttle_pct;
			jlog(LOG_LVL_VERBOSE, s->j->id, "auto-converge: guest throttled to %u %%",
			    s->throttle_applied);
		} else {
			jlog(LOG_LVL_WARN, s->j->id, "auto-converge: cannot throttle %s: %s",
			    s->dom.name, xmig_strerror(r));
		}
	}
	job_lock();
	s->j->throttle_pct = s->throttle_applied;
	s->j->target_ms = s->pst.target_ms;
	s->j->extra_rounds = s->pst.extra_rounds;
	job_unlock();

	if (dec == POLICY_STOP) {
		job_lock();
		strlcpy_x(s->j->stop_reason, policy_why_str(why), sizeof(s->j->stop_reason));
		job_unlock();
		jlog(LOG_LVL_VERBOSE, s->j->id, "stop-and-copy after %u rounds (%s), %ld dirty",
		    st.iteration, policy_why_str(why), st.dirty_count);
	}
	return dec == POLICY_ABORT ? HV_POLICY_ABORT
	    : dec == POLICY_STOP ? HV_POLICY_STOP_AND_COPY : HV_POLICY_CONTINUE;
}

/* Read one frame expecting `want`; ABORT/REFUSE from the peer become its
 * reason in the job's error. */
static int
send_expect(struct send_ctx *s, uint8_t want, uint8_t *buf, size_t cap, uint32_t *len,
    int timeout_ms)
{
	struct frame_hdr fh;
	int r;

	/* A deadline on the clock, not on the frames: frames the peer may send
	 * meanwhile (an unknown OPTIONAL one, say) do not extend the wait. */
	s->c.timeout_ms = timeout_ms;
	s->c.deadline_us = now_us() + (uint64_t)timeout_ms * 1000;
	/* DEVICES_READY may come before BUILT: offline (no policy to wait
	 * for it), or a stream too short for a poll between its writes; never
	 * before PREPARE_OK. */
	while ((r = xconn_recv_frame(&s->c, &fh, buf, cap)) == 0 && fh.type == MSG_DEVICES_READY &&
	    want != MSG_PREPARE_OK && s->devs_frame && !atomic_load(&s->devs_up) && fh.len == 0)
		send_devices_up(s);
	s->c.deadline_us = 0;
	if (r != 0)
		return r;
	if (fh.type == want) {
		*len = fh.len;
		return 0;
	}
	if (fh.type == MSG_ABORT || fh.type == MSG_REFUSE) {
		struct msg_reason m;

		if (msg_reason_decode(buf, fh.len, &m) == 0)
			job_set_error(s->j, "%s refused: %s", s->req.host, m.text);
		else
			job_set_error(s->j, "%s aborted the migration", s->req.host);
		return XMIG_ERR_PEER_ABORT;
	}
	job_set_error(s->j, "%s sent %s while %s was expected", s->req.host,
	    proto_type_str(fh.type), proto_type_str(want));
	return XMIG_ERR_UNEXPECTED;
}

/* A write failed mid-stream: the receiver may have said why before closing. */
static void
send_fetch_peer_reason(struct send_ctx *s)
{
	uint8_t buf[PROTO_REASON_MAX + 8];
	uint32_t len;
	int saved = s->c.err;

	s->c.err = 0;
	if (send_expect(s, MSG_ABORT, buf, sizeof(buf), &len, 500) == 0) {
		struct msg_reason m;

		if (msg_reason_decode(buf, len, &m) == 0)
			job_set_error(s->j, "%s aborted: %s", s->req.host, m.text);
	}
	s->c.err = saved;
}

/* Put the source back as it was: original name, running (or paused if it
 * was paused), log-dirty off. */
static void
send_restore_source(struct send_ctx *s, bool renamed)
{
	struct hv *hv = s->d->hv;
	int r;

	if (renamed && (r = hv->ops->rename(hv, s->dom.id, s->dom.name)) != 0)
		jlog(LOG_LVL_ERROR, s->j->id, "cannot rename domain %u back to %s: %s",
		    s->dom.id, s->dom.name, xmig_strerror(r));
	if ((r = hv->ops->resume(hv, s->dom.id)) != 0)
		jlog(LOG_LVL_ERROR, s->j->id, "cannot resume domain %s: %s", s->dom.name,
		    xmig_strerror(r));
	else if (s->dom.state == HV_PAUSED)
		hv->ops->pause(hv, s->dom.id);
	else
		jlog(LOG_LVL_INFO, s->j->id, "domain %s resumed on this host", s->dom.name);
}

/* What the next step of send_job may still do, named by the state of the
 * source copy. */
enum send_step {
	STEP_ON,		/* go on to the next phase */
	STEP_FAILED,		/* the source was never touched */
	STEP_RESUME,		/* the source must be resumed */
	STEP_AMBIGUOUS,		/* past GO, outcome unknown: the record stays */
	STEP_COMMITTED,		/* the destination runs the domain */
};

#define SEND_BUF_LEN (PROTO_CFG_MAX + 4096)

/* 1. Connect and greet: nothing has touched the domain yet. */
static enum send_step
send_greet(struct send_ctx *s)
{
	struct job *j = s->j;
	struct msg_hello ours, peer;
	char why[512];
	int r, n;

	if ((r = engine_connect(s->d, &s->c, s->req.host, s->req.port, s->req.ssl,
	    ENGINE_CONNECT_TIMEOUT_MS, why, sizeof(why))) != 0) {
		job_set_error(j, "%s", why);
		return STEP_FAILED;
	}
	s->c.timeout_ms = ENGINE_HELLO_TIMEOUT_MS;
	if (s->req.set.bandwidth_mbit)
		xconn_set_rate(&s->c, (uint64_t)s->req.set.bandwidth_mbit * 1000000 / 8);
	if ((r = engine_build_hello(s->d, &ours)) != 0 ||
	    (r = engine_send_hello(&s->c, &ours)) != 0) {
		job_set_error(j, "cannot greet %s: %s", s->req.host, xmig_strerror(r));
		return STEP_FAILED;
	}
	fault_kill_at("send-exit-at-hello");
	if ((r = engine_recv_hello(&s->c, &peer, why, sizeof(why))) != 0) {
		job_set_error(j, "%s", why);
		return STEP_FAILED;
	}
	if ((n = engine_check_hello(&ours, &peer, why, sizeof(why))) != 0) {
		job_set_error(j, "%s", why);
		engine_send_reason(&s->c, MSG_ABORT, (uint16_t)n, why);
		return STEP_FAILED;
	}
	s->devs_frame = (hello_common_features(&ours, &peer) & HELLO_F_DEVICES_READY) != 0;
	s->dm = (hello_common_features(&ours, &peer) & HELLO_F_DEVICE_MODEL) != 0;
	/* An HVM guest's QEMU must move with it: refused, untouched, when
	 * the peer cannot take it. */
	if (s->dom.type == HV_TYPE_HVM && !s->dm) {
		snprintf(why, sizeof(why), "%s is an HVM guest: its QEMU device model would "
		    "have to move too, which %s cannot take (PV and PVH guests can be "
		    "migrated)", s->dom.name, s->req.host);
		job_set_error(j, "%s", why);
		engine_send_reason(&s->c, MSG_ABORT, REASON_INCOMPATIBLE, why);
		return STEP_FAILED;
	}
	job_set_state(j, JOB_CONNECTING, JOB_PREPARE);
	return STEP_ON;
}

/* 2. Prepare: the receiver checks capacity, clashes, compatibility and
 * builds an empty domain. */
static enum send_step
send_prepare(struct send_ctx *s, uint8_t *buf)
{
	struct hv *hv = s->d->hv;
	struct job *j = s->j;
	struct msg_prepare mp;
	void *cfg = NULL;
	size_t cfg_len = 0;
	uint32_t len;
	int r, n;

	if ((r = hv->ops->get_config(hv, s->dom.id, &cfg, &cfg_len)) != 0) {
		job_set_error(j, "cannot read the configuration of %s: %s", s->dom.name,
		    xmig_strerror(r));
		return STEP_FAILED;
	}
	memset(&mp, 0, sizeof(mp));
	random_bytes(mp.token, sizeof(mp.token));
	memcpy(j->token, mp.token, 16);
	strlcpy_x(mp.name, s->dom.name, sizeof(mp.name));
	memcpy(mp.uuid, s->dom.uuid, 16);
	mp.nr_pages = s->nr_pages;
	mp.max_pages = s->dom.maxmem / s->page_size;
	if (mp.max_pages < mp.nr_pages)
		mp.max_pages = mp.nr_pages;
	mp.vcpus = s->dom.vcpus;
	mp.dom_type = (uint8_t)s->dom.type;
	mp.live = s->req.live;
	mp.cfg = cfg;
	mp.cfg_len = (uint32_t)cfg_len;
	job_lock();
	j->t_prepare_us = now_us();
	job_unlock();
	n = msg_prepare_encode(&mp, buf, SEND_BUF_LEN);
	free(cfg);
	if (n < 0 || (r = xconn_send_frame(&s->c, MSG_PREPARE, buf, (uint32_t)n)) != 0) {
		job_set_error(j, "cannot send PREPARE to %s: %s", s->req.host,
		    xmig_strerror(n < 0 ? n : r));
		return STEP_FAILED;
	}
	if ((r = send_expect(s, MSG_PREPARE_OK, buf, 4096, &len,
	    (int)s->d->conf.prepare_timeout_s * 1000)) != 0) {
		job_set_error(j, "%s did not accept %s: %s", s->req.host, s->dom.name,
		    xmig_strerror(r));
		return STEP_FAILED;
	}
	fault_kill_at("send-exit-at-prepare");	/* the receiver holds an empty domain */
	return STEP_ON;
}

/* 3. The memory: from here on the source must be resumed on failure, also
 * by a restarted daemon, which finds the "streaming" record. */
static enum send_step
send_stream(struct send_ctx *s)
{
	struct hv *hv = s->d->hv;
	struct job *j = s->j;
	struct hv_save_opts so;
	int r;

	send_record(s, "streaming");
	job_lock();
	j->t_stream_us = now_us();
	j->setup_ms = (j->t_stream_us - j->t_start_us) / 1000;
	s->devs_deadline_us = j->t_stream_us + s->d->conf.devices_ready_timeout_s * 1000000ull;
	j->remaining_pages = s->nr_pages;
	job_unlock();
	job_set_state(j, JOB_PREPARE, JOB_PRECOPY);
	s->c.timeout_ms = (int)s->d->conf.stream_timeout_s * 1000;
	/* Re-arm the pacer: the setup time must not become a burst. */
	if (s->req.set.bandwidth_mbit)
		xconn_set_rate(&s->c, (uint64_t)s->req.set.bandwidth_mbit * 1000000 / 8);
	s->round_t0_us = now_us();
	s->policy_t_us = s->round_t0_us;
	job_lock();
	s->bw_t0_us = s->round_t0_us;
	s->bw_bytes0 = j->bytes_sent;
	job_unlock();
	s->round_tx0 = s->c.tx_bytes;
	so.live = s->req.live;
	so.device_model = s->dm;
	so.policy = send_policy;
	so.policy_opaque = s;
	r = hv->ops->save(hv, s->dom.id, &s->io, &so);
	/* Auto-converge's throttle ends with the save, whatever its outcome:
	 * a resumed source runs at full speed again (with the cap it had). */
	if (s->throttle_applied != 0) {
		int tr = hv->ops->throttle(hv, s->dom.id, 0);

		if (tr != 0 && r != 0)
			jlog(LOG_LVL_WARN, j->id, "auto-converge: cannot lift the throttle of %s: %s",
			    s->dom.name, xmig_strerror(tr));
		s->throttle_applied = 0;
	}
	if (r != 0) {
		if (s->devs_timed_out) {
			/* the policy's line is the job's error */
			engine_send_reason(&s->c, MSG_ABORT, REASON_TIMEOUT, j->error);
		} else if (r == XMIG_ERR_PEER_ABORT) {
			/* read between writes (io_poll_peer): the job has its reason */
		} else if (r == XMIG_ERR_INTERRUPTED) {
			job_set_error(j, "cancelled");
			engine_send_reason(&s->c, MSG_ABORT, REASON_CANCELLED, "cancelled by the "
			    "operator on the source");
		} else {
			if (s->c.err)
				send_fetch_peer_reason(s);
			job_set_error(j, "sending %s to %s failed: %s", s->dom.name, s->req.host,
			    s->io.why[0] != '\0' ? s->io.why : xmig_strerror(r));
			engine_send_reason(&s->c, MSG_ABORT, r == XMIG_ERR_UNEXPECTED ?
			    REASON_PROTOCOL : REASON_BACKEND, j->error);
		}
		return STEP_RESUME;
	}
	if ((r = xconn_send_frame(&s->c, MSG_STREAM_END, NULL, 0)) != 0) {
		job_set_error(j, "sending to %s failed: %s", s->req.host, xmig_strerror(r));
		return STEP_RESUME;
	}
	job_lock();
	j->t_end_us = now_us();
	j->stream_ms = (j->t_end_us - j->t_stream_us) / 1000;
	j->final_pages = j->pages_sent - j->pause_pages0;
	j->final_bytes = s->c.tx_bytes - j->pause_tx0;
	job_unlock();
	job_set_state(j, JOB_STOPCOPY, JOB_COMMITTING);
	return STEP_ON;
}

/* The destination has built the domain (BUILT); the source's devices are
 * quiesced: nothing the guest wrote may still be on its way to its disks
 * once the destination can run it. */
static enum send_step
send_await_built(struct send_ctx *s, uint8_t *buf, uint32_t *domid)
{
	struct hv *hv = s->d->hv;
	struct job *j = s->j;
	struct msg_built mb;
	char why[512];
	uint32_t len;
	int r;

	if ((r = send_expect(s, MSG_BUILT, buf, 4096, &len,
	    (int)s->d->conf.build_timeout_s * 1000)) != 0 ||
	    (r = msg_built_decode(buf, len, &mb)) != 0) {
		if (r == XMIG_ERR_TIMEOUT)
			job_set_error(j, "%s did not build %s within build-timeout (%u s)",
			    s->req.host, s->dom.name, s->d->conf.build_timeout_s);
		else
			job_set_error(j, "%s did not build %s: %s", s->req.host, s->dom.name,
			    xmig_strerror(r));
		return STEP_RESUME;
	}
	*domid = mb.domid;
	job_lock();
	j->t_built_us = now_us();
	job_unlock();
	if (atomic_load(&j->cancel)) {
		job_set_error(j, "cancelled");
		engine_send_reason(&s->c, MSG_ABORT, REASON_CANCELLED, "cancelled");
		return STEP_RESUME;
	}
	fault_kill_at("send-exit-after-built");
	if ((r = hv->ops->quiesce(hv, s->dom.id, why, sizeof(why))) != 0) {
		job_set_error(j, "%s cannot be handed over: %s", s->dom.name, why);
		engine_send_reason(&s->c, MSG_ABORT, REASON_BACKEND, j->error);
		return STEP_RESUME;
	}
	job_lock();
	j->t_quiesced_us = now_us();
	job_unlock();
	return STEP_ON;
}

/* 4. Commit.  Rename first, so the copy left here, paused, can be told
 * apart while the outcome is unknown.  Sending GO is the point of no
 * return: after it, a lost DONE is settled by asking the receiver. */
static enum send_step
send_commit(struct send_ctx *s, uint8_t *buf, uint32_t *domid, bool *renamed)
{
	struct hv *hv = s->d->hv;
	struct job *j = s->j;
	struct msg_done md;
	char away[HV_NAME_MAX];
	uint32_t len;
	bool reached;
	int r, outcome;

	engine_decorate(away, sizeof(away), s->dom.name, SUFFIX_MIGRATED);
	if ((r = hv->ops->rename(hv, s->dom.id, away)) != 0)
		jlog(LOG_LVL_WARN, j->id, "cannot rename %s to %s: %s", s->dom.name, away,
		    xmig_strerror(r));
	else
		*renamed = true;
	send_record(s, "go");
	fault_hold("send-hold-before-go");
	r = xconn_send_frame(&s->c, MSG_GO, NULL, 0);
	if (r == 0 && fault_at("send-exit-after-go")) {
		log_error("fault injection: exiting after GO");
		_exit(99);
	}
	if (r == 0 &&
	    (r = send_expect(s, MSG_DONE, buf, 4096, &len,
	    (int)s->d->conf.commit_timeout_s * 1000)) == 0 &&
	    (r = msg_done_decode(buf, len, &md)) == 0) {
		*domid = md.domid;
		job_lock();
		j->unpause_us = md.unpause_us;
		job_unlock();
		return STEP_COMMITTED;
	}
	if (r == XMIG_ERR_PEER_ABORT)
		return STEP_RESUME;	/* the receiver refused GO: it destroyed its copy */
	jlog(LOG_LVL_WARN, j->id, "lost %s after GO (%s): asking it for the outcome",
	    s->req.host, xmig_strerror(r));
	xconn_close(&s->c);
	outcome = engine_query_outcome(s->d, s->req.host, s->req.port, s->req.ssl,
	    j->token, s->dom.name, s->dom.uuid, 8, &reached);
	if (outcome == OUTCOME_COMMITTED)
		return STEP_COMMITTED;
	if (outcome == OUTCOME_ABORTED) {
		job_set_error(j, "%s did not commit %s", s->req.host, s->dom.name);
		return STEP_RESUME;
	}
	job_set_error(j, "%s %s after the go-ahead; %s is left paused "
	    "here as %s until the outcome is known: xmigd keeps asking %s and settles "
	    "it when it answers, or check 'xmig list' on %s, then destroy or unpause "
	    "this copy", reached ? "no record of the migration on" : "lost contact with",
	    s->req.host, s->dom.name, *renamed ? away : s->dom.name, s->req.host,
	    s->req.host);
	job_set_state(j, -1, JOB_AMBIGUOUS);
	return STEP_AMBIGUOUS;
}

/* The destination runs it: the source copy goes. */
static void
send_finish(struct send_ctx *s, uint32_t domid)
{
	struct hv *hv = s->d->hv;
	struct job *j = s->j;
	int r;

	job_lock();
	j->t_done_us = now_us();
	/* from the suspend request: the guest stops serving as it handles it */
	j->downtime_ms = (j->t_done_us - (j->t_suspend_us && j->t_suspend_us <= j->t_pause_us ?
	    j->t_suspend_us : j->t_pause_us)) / 1000;
	j->dest_domid = domid;
	j->remaining_pages = 0;
	job_unlock();
	if ((r = hv->ops->destroy(hv, s->dom.id)) != 0)
		jlog(LOG_LVL_ERROR, j->id, "%s runs on %s but the source copy could not be "
		    "destroyed: %s", s->dom.name, s->req.host, xmig_strerror(r));
	outgoing_forget(j->token);
	job_set_state(j, -1, JOB_DONE);
	jlog(LOG_LVL_INFO, j->id, "%s migrated %s to %s: %llu ms, downtime %llu ms, "
	    "%u rounds, %llu bytes", s->dom.name, s->req.live ? "live" : "offline", s->req.host,
	    (unsigned long long)j->total_ms, (unsigned long long)j->downtime_ms, j->iteration,
	    (unsigned long long)j->bytes_sent);
}

static void
send_job(struct send_ctx *s)
{
	struct job *j = s->j;
	enum send_step st = STEP_ON;
	uint8_t *buf;
	uint32_t domid = 0;
	bool renamed = false;

	if ((buf = malloc(SEND_BUF_LEN)) == NULL) {
		job_set_error(j, "out of memory");
		st = STEP_FAILED;
	}
	if (st == STEP_ON)
		st = send_greet(s);
	if (st == STEP_ON)
		st = send_prepare(s, buf);
	if (st == STEP_ON)
		st = send_stream(s);
	if (st == STEP_ON)
		st = send_await_built(s, buf, &domid);
	if (st == STEP_ON)
		st = send_commit(s, buf, &domid, &renamed);
	switch (st) {
	case STEP_COMMITTED:
		send_finish(s, domid);
		break;
	case STEP_RESUME:
		send_restore_source(s, renamed);
		outgoing_forget(j->token);
		/* fall through */
	case STEP_ON:
	case STEP_FAILED:
		job_set_state(j, -1, atomic_load(&j->cancel) ? JOB_CANCELLED : JOB_FAILED);
		break;
	case STEP_AMBIGUOUS:
		break;	/* the record stays: the daemon keeps asking */
	}
	xconn_close(&s->c);
	free(buf);
}

static void
send_ctx_free(struct send_ctx *s)
{
	if (s == NULL)
		return;
	compressor_free(s->comp);
	free(s->stage);
	free(s->zbuf);
	free(s);
}

/* Set up the request's compression. */
static int
send_setup_compress(struct send_ctx *s, const struct send_req *req, char *err, size_t errlen)
{
	s->compress = req->set.compress;
	if (s->compress == COMPRESS_NONE)
		return 0;
	/* auto uses lz4: the cheapest to try on data that may not compress. */
	s->compress_algo = s->compress == COMPRESS_AUTO ? COMPRESS_LZ4 : s->compress;
	s->sample_every = 16;
	s->comp = compressor_new(s->compress_algo);
	s->stage = malloc((size_t)PROTO_PAGES_MAX * PROTO_PAGE_SIZE);
	s->zbuf = malloc((size_t)PROTO_PAGES_MAX * PROTO_PAGE_SIZE);
	if (s->comp == NULL || s->stage == NULL || s->zbuf == NULL) {
		snprintf(err, errlen, "cannot set up %s compression",
		    compress_mode_name(s->compress));
		return XMIG_ERR_NOMEM;
	}
	return 0;
}

static void *
send_thread(void *arg)
{
	struct send_ctx *s = arg;
	struct job *j = s->j;

	send_job(s);
	send_ctx_free(s);
	job_thread_exit(j);	/* the thread's reference */
	return NULL;
}

void
send_req_init(struct send_req *sr, const struct ctl_migrate_req *rq, const struct conf *c)
{
	memset(sr, 0, sizeof(*sr));
	strlcpy_x(sr->domain, rq->domain, sizeof(sr->domain));
	strlcpy_x(sr->host, rq->host, sizeof(sr->host));
	sr->ssl = rq->ssl;
	sr->port = rq->port != CTL_UNSET ? (uint16_t)rq->port : rq->ssl ? CONF_DEFAULT_SSL_PORT :
	    CONF_DEFAULT_PORT;
	sr->live = rq->live;
	ctl_migrate_resolve(rq, c, &sr->set);
}

struct job *
engine_send_start(struct xmigd *d, const struct send_req *req, char *err, size_t errlen)
{
	struct hv_host_info hi;
	struct send_ctx *s;
	struct job *j;
	char warning[256] = "";
	pthread_t t;
	pthread_attr_t attr;
	int r;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->d = d;
	s->req = *req;
	xconn_init(&s->c, -1, -1);
	if ((r = d->hv->ops->lookup(d->hv, req->domain, &s->dom)) != 0) {
		snprintf(err, errlen, r == XMIG_ERR_NOT_FOUND ? "no domain '%s' on this host"
		    : "cannot look up domain '%s': %s", req->domain, xmig_strerror(r));
		goto fail;
	}
	if (s->dom.state != HV_RUNNING && s->dom.state != HV_PAUSED) {
		snprintf(err, errlen, "domain %s is %s; only running or paused domains can be "
		    "migrated", s->dom.name, hv_state_name(s->dom.state));
		goto fail;
	}
	if (strstr(s->dom.name, SUFFIX_MIGRATED) || strstr(s->dom.name, SUFFIX_INCOMING)) {
		snprintf(err, errlen, "domain %s is the leftover of a migration, not a domain "
		    "to migrate", s->dom.name);
		goto fail;
	}
	if (strlen(s->dom.name) >= PROTO_NAME_MAX) {
		snprintf(err, errlen, "domain name %s is longer than the %d characters the "
		    "relocation protocol carries", s->dom.name, PROTO_NAME_MAX - 1);
		goto fail;
	}
	if (d->hv->ops->check_outgoing(d->hv, &s->dom, req->live, err, errlen) != 0)
		goto fail;
	if (job_domain_busy(s->dom.id)) {
		snprintf(err, errlen, "domain %s is already being migrated", s->dom.name);
		goto fail;
	}
	if (req->ssl && d->tls_client == NULL) {
		snprintf(err, errlen, "--ssl needs TLS set up on this host: ssl-key-file, "
		    "ssl-cert-file and ssl-ca-file in xmigd.conf");
		goto fail;
	}
	if ((r = d->hv->ops->host_info(d->hv, &hi)) != 0) {
		snprintf(err, errlen, "cannot read host facts: %s", xmig_strerror(r));
		goto fail;
	}
	s->page_size = hi.page_size;
	s->nr_pages = s->dom.memory / hi.page_size;
	s->pcfg.downtime_ms = req->set.downtime_ms;
	s->pcfg.max_rounds = req->set.max_rounds;
	s->pcfg.max_factor = req->set.max_factor;
	s->pcfg.auto_converge = req->set.auto_converge;
	policy_state_init(&s->pst, &s->pcfg);
	s->io.pages = io_pages;
	s->io.round_end = io_round_end;
	s->io.suspending = io_suspending;
	s->io.suspended = io_suspended;
	s->io.context = io_context;
	s->io.raw = io_raw;
	s->io.cancelled = io_cancelled;
	s->io.poll_peer = io_poll_peer;
	s->io.unsent = io_unsent;
	s->io.dm_physmap = io_dm_physmap;
	s->io.dm_state = io_dm_state;
	atomic_init(&s->devs_up, false);
	if (send_setup_compress(s, req, err, errlen) != 0)
		goto fail;
	if (d->hv->ops->warn_outgoing != NULL)
		d->hv->ops->warn_outgoing(d->hv, &s->dom, warning, sizeof(warning));
	if ((j = job_new(false)) == NULL) {
		snprintf(err, errlen, "too many jobs");
		goto fail;
	}
	s->j = j;
	job_lock();
	strlcpy_x(j->domain, s->dom.name, sizeof(j->domain));
	snprintf(j->peer, sizeof(j->peer), strchr(req->host, ':') ? "[%s]:%u" : "%s:%u",
	    req->host, req->port);
	j->live = req->live;
	j->domid = s->dom.id;
	j->memory_bytes = s->dom.memory;
	strlcpy_x(j->warning, warning, sizeof(j->warning));
	job_unlock();
	jlog(LOG_LVL_INFO, j->id, "migrating %s (%s) to %s", s->dom.name,
	    req->live ? "live" : "offline", j->peer);
	if (j->warning[0] != '\0')
		jlog(LOG_LVL_WARN, j->id, "%s", j->warning);
	job_hold(j);	/* job_new's reference is the thread's; this one, the caller's */
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, send_thread, s) != 0) {
		pthread_attr_destroy(&attr);
		job_set_error(j, "cannot start a thread");
		job_set_state(j, -1, JOB_FAILED);
		job_thread_exit(j);
		send_ctx_free(s);
		return j;
	}
	pthread_attr_destroy(&attr);
	return j;
fail:
	send_ctx_free(s);
	return NULL;
}
