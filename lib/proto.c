/* proto.c - frames of the xmig relocation protocol, version 1.
 *
 * docs/protocol.md is the specification; this file implements its field
 * tables.  Every decoder treats its input as hostile: fields are consumed in
 * order through xbuf (which bounds every length before use), then every
 * value is checked against the set or range the specification allows, and
 * the payload must be consumed exactly.  Encoders apply the same checks, so
 * a sender fails locally instead of sending what its peer would refuse.
 */
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "xbuf.h"
#include "xerr.h"

/* Encoded size of a string field holding at most size - 1 bytes. */
#define STR_MAX(size) (2u + (uint32_t)(size) - 1u)

#define HELLO_LEN_MAX (2u + 2u + STR_MAX(32) + STR_MAX(16) + STR_MAX(32) + 4u + 8u + 8u + 4u + \
	STR_MAX(PROTO_HOST_MAX))
#define PREPARE_LEN_MAX (16u + STR_MAX(PROTO_NAME_MAX) + 16u + 8u + 8u + 4u + 1u + 1u + 4u + \
	PROTO_CFG_MAX)
#define REASON_LEN_MAX (2u + 2u + PROTO_REASON_MAX)
#define ROUND_END_LEN 20u
#define DOMID_LEN 4u
#define DONE_LEN_MAX (DOMID_LEN + 4u)	/* domid, unpause_us */
#define QUERY_LEN 16u
#define QUERY_REPLY_LEN_MAX (16u + 1u + STR_MAX(PROTO_NAME_MAX) + 16u)
#define HOST_INFO_DOM_LEN_MAX (STR_MAX(PROTO_NAME_MAX) + 8u + 4u + 1u)
#define HOST_INFO_REPLY_LEN_MAX (1u + 8u + 8u + 4u + 4u + 2u + \
	PROTO_HOST_INFO_DOMS_MAX * HOST_INFO_DOM_LEN_MAX)
#define PAGES_LEN_MAX (PAGES_HEAD_LEN + PROTO_PAGES_MAX * (8u + PROTO_PAGE_SIZE))
#define DM_PHYSMAP_ENT_LEN_MAX (8u + 8u + 8u + STR_MAX(PROTO_DM_NAME_MAX))
#define DM_PHYSMAP_LEN_MAX (2u + PROTO_DM_PHYSMAP_MAX * DM_PHYSMAP_ENT_LEN_MAX)
#define DM_STATE_LEN_MAX (DM_STATE_HEAD_LEN + PROTO_DM_CHUNK_MAX)

#define PROTO_MAX_PAGES_LIMIT (1ull << 40)	/* max_pages: 4 PiB of 4 KiB pages */
#define PROTO_VCPUS_MAX 4096u
#define PAGE_SIZE_MIN 4096u
#define PAGE_SIZE_MAX (1u << 20)

_Static_assert(sizeof(((struct msg_hello *)0)->arch) == 32, "HELLO_LEN_MAX assumes arch[32]");
_Static_assert(sizeof(((struct msg_hello *)0)->hv) == 16, "HELLO_LEN_MAX assumes hv[16]");
_Static_assert(sizeof(((struct msg_hello *)0)->hv_version) == 32,
    "HELLO_LEN_MAX assumes hv_version[32]");
_Static_assert(PAGES_LEN_MAX < FRAME_MAX && PREPARE_LEN_MAX < FRAME_MAX &&
    HOST_INFO_REPLY_LEN_MAX < FRAME_MAX &&
    PROTO_CONTEXT_MAX < FRAME_MAX && ZRAW_HEAD_LEN + PROTO_RAW_MAX < FRAME_MAX &&
    DM_PHYSMAP_LEN_MAX < FRAME_MAX && DM_STATE_LEN_MAX < FRAME_MAX,
    "FRAME_MAX is above all");
_Static_assert(PROTO_DM_PHYSMAP_MAX < 65536 && PROTO_DM_STATE_MAX <= UINT32_MAX / 2,
    "DM_PHYSMAP's count is a u16; DM_STATE's sizes are u32 and may double");
_Static_assert(PROTO_REASON_MAX < 65536 && PROTO_HOST_MAX < 65536 && PROTO_NAME_MAX < 65536,
    "strings have a u16 length");

/* ---- header ---- */

void
frame_hdr_encode(uint8_t out[FRAME_HDR_LEN], uint8_t type, uint16_t flags, uint32_t len)
{
	be32_put(out, PROTO_MAGIC);
	out[4] = PROTO_VERSION;
	out[5] = type;
	be16_put(out + 6, flags);
	be32_put(out + 8, len);
}

uint32_t
proto_max_len(uint8_t type)
{
	switch (type) {
	case MSG_HELLO: return HELLO_LEN_MAX;
	case MSG_PREPARE: return PREPARE_LEN_MAX;
	case MSG_PREPARE_OK: return 0;
	case MSG_REFUSE: return REASON_LEN_MAX;
	case MSG_PAGES: return PAGES_LEN_MAX;
	case MSG_ROUND_END: return ROUND_END_LEN;
	case MSG_CONTEXT: return PROTO_CONTEXT_MAX;
	case MSG_RAW: return PROTO_RAW_MAX;
	case MSG_STREAM_END: return 0;
	case MSG_BUILT: return DOMID_LEN;
	case MSG_GO: return 0;
	case MSG_DONE: return DONE_LEN_MAX;
	case MSG_ABORT: return REASON_LEN_MAX;
	case MSG_QUERY: return QUERY_LEN;
	case MSG_QUERY_REPLY: return QUERY_REPLY_LEN_MAX;
	case MSG_ZPAGES: return PAGES_LEN_MAX;
	case MSG_HOST_INFO: return 0;
	case MSG_HOST_INFO_REPLY: return HOST_INFO_REPLY_LEN_MAX;
	case MSG_ZRAW: return ZRAW_HEAD_LEN + PROTO_RAW_MAX;
	case MSG_DM_PHYSMAP: return DM_PHYSMAP_LEN_MAX;
	case MSG_DM_STATE: return DM_STATE_LEN_MAX;
	case MSG_DEVICES_READY: return 0;
	default: return 0;
	}
}

int
frame_hdr_decode(const uint8_t in[FRAME_HDR_LEN], struct frame_hdr *h)
{
	bool known;

	/* Filled first so that a caller can log what it refused. */
	h->version = in[4];
	h->type = in[5];
	h->flags = be16_get(in + 6);
	h->len = be32_get(in + 8);
	if (be32_get(in) != PROTO_MAGIC)
		return XMIG_ERR_BAD_MAGIC;
	if (h->version != PROTO_VERSION)
		return XMIG_ERR_VERSION;
	if ((h->flags & ~FRAME_F_OPTIONAL) != 0)
		return XMIG_ERR_INVALID;
	known = h->type >= 1 && h->type <= MSG_TYPE_MAX;
	if (!known && !(h->flags & FRAME_F_OPTIONAL))
		return XMIG_ERR_BAD_TYPE;
	if (h->len > (known ? proto_max_len(h->type) : FRAME_MAX))
		return XMIG_ERR_TOO_LONG;
	return 0;
}

const char *
proto_type_str(uint8_t type)
{
	static const char *const names[] = {
		[MSG_HELLO] = "HELLO", [MSG_PREPARE] = "PREPARE",
		[MSG_PREPARE_OK] = "PREPARE_OK", [MSG_REFUSE] = "REFUSE",
		[MSG_PAGES] = "PAGES", [MSG_ROUND_END] = "ROUND_END",
		[MSG_CONTEXT] = "CONTEXT", [MSG_RAW] = "RAW",
		[MSG_STREAM_END] = "STREAM_END", [MSG_BUILT] = "BUILT", [MSG_GO] = "GO",
		[MSG_DONE] = "DONE", [MSG_ABORT] = "ABORT", [MSG_QUERY] = "QUERY",
		[MSG_QUERY_REPLY] = "QUERY_REPLY", [MSG_ZPAGES] = "ZPAGES", [MSG_ZRAW] = "ZRAW",
		[MSG_HOST_INFO] = "HOST_INFO", [MSG_HOST_INFO_REPLY] = "HOST_INFO_REPLY",
		[MSG_DM_PHYSMAP] = "DM_PHYSMAP", [MSG_DM_STATE] = "DM_STATE",
		[MSG_DEVICES_READY] = "DEVICES_READY",
	};

	if (type < sizeof(names) / sizeof(names[0]) && names[type] != NULL)
		return names[type];
	return "UNKNOWN";
}

const char *
proto_reason_str(uint16_t code)
{
	switch (code) {
	case REASON_OTHER: return "other";
	case REASON_VERSION: return "protocol version mismatch";
	case REASON_INCOMPATIBLE: return "incompatible host or guest";
	case REASON_NO_MEMORY: return "not enough memory";
	case REASON_NAME_CLASH: return "domain name in use";
	case REASON_UUID_CLASH: return "domain uuid in use";
	case REASON_BUSY: return "busy";
	case REASON_CANCELLED: return "cancelled";
	case REASON_PROTOCOL: return "protocol error";
	case REASON_BACKEND: return "hypervisor operation failed";
	case REASON_TIMEOUT: return "timed out";
	case REASON_SHUTDOWN: return "daemon shutting down";
	case REASON_MAINTENANCE: return "host in maintenance";
	default: return "unknown reason";
	}
}

/* ---- helpers ---- */

static int
enc_result(const struct xbuf *b)
{
	return b->err != 0 ? b->err : (int)b->len;
}

/* A fixed-size char array from a struct: must be terminated within it. */
static bool
fstr_ok(const char *s, size_t size)
{
	return strnlen(s, size) < size;
}

/* A domain name becomes a file name and a xenstore/hypervisor name on the
 * receiver: non-empty, [A-Za-z0-9._-] only, not "." or "..", and not
 * starting with '-' (it would read as an option to tools). */
static bool
name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n >= PROTO_NAME_MAX || s[0] == '-' || strcmp(s, ".") == 0 ||
	    strcmp(s, "..") == 0)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* ---- HELLO ---- */

static int
hello_check(const struct msg_hello *m)
{
	if (m->proto_min == 0 || m->proto_min > m->proto_max)
		return XMIG_ERR_INVALID;
	if (m->page_size < PAGE_SIZE_MIN || m->page_size > PAGE_SIZE_MAX ||
	    (m->page_size & (m->page_size - 1)) != 0)
		return XMIG_ERR_INVALID;
	if (m->arch[0] == '\0' || m->hv[0] == '\0' || m->host[0] == '\0')
		return XMIG_ERR_INVALID;
	return 0;
}

int
msg_hello_encode(const struct msg_hello *m, uint8_t *buf, size_t cap)
{
	struct xbuf b;
	int r;

	if (!fstr_ok(m->arch, sizeof(m->arch)) || !fstr_ok(m->hv, sizeof(m->hv)) ||
	    !fstr_ok(m->hv_version, sizeof(m->hv_version)) || !fstr_ok(m->host, sizeof(m->host)))
		return XMIG_ERR_TOO_LONG;
	if ((r = hello_check(m)) != 0)
		return r;
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
	return enc_result(&b);
}

int
msg_hello_decode(const uint8_t *p, size_t len, struct msg_hello *m)
{
	struct xbuf b;
	int r;

	memset(m, 0, sizeof(*m));
	xbuf_reader(&b, p, len);
	xbuf_get_u16(&b, &m->proto_min);
	xbuf_get_u16(&b, &m->proto_max);
	xbuf_get_str(&b, m->arch, sizeof(m->arch));
	xbuf_get_str(&b, m->hv, sizeof(m->hv));
	xbuf_get_str(&b, m->hv_version, sizeof(m->hv_version));
	xbuf_get_u32(&b, &m->page_size);
	xbuf_get_u64(&b, &m->mem_total);
	xbuf_get_u64(&b, &m->mem_free);
	xbuf_get_u32(&b, &m->features);	/* unknown bits are ignored */
	xbuf_get_str(&b, m->host, sizeof(m->host));
	if ((r = xbuf_get_end(&b)) == 0)
		r = hello_check(m);
	if (r != 0)
		memset(m, 0, sizeof(*m));
	return r;
}

/* ---- PREPARE ---- */

static int
prepare_check(const struct msg_prepare *m)
{
	if (!name_ok(m->name))
		return XMIG_ERR_INVALID;
	if (m->max_pages > PROTO_MAX_PAGES_LIMIT)
		return XMIG_ERR_TOO_LONG;
	if (m->nr_pages < 1 || m->nr_pages > m->max_pages)
		return XMIG_ERR_INVALID;
	if (m->vcpus < 1 || m->vcpus > PROTO_VCPUS_MAX)
		return XMIG_ERR_INVALID;
	if (m->dom_type > DOMTYPE_HVM || m->live > 1)
		return XMIG_ERR_INVALID;
	return 0;
}

int
msg_prepare_encode(const struct msg_prepare *m, uint8_t *buf, size_t cap)
{
	struct xbuf b;
	int r;

	if (!fstr_ok(m->name, sizeof(m->name)) || m->cfg_len > PROTO_CFG_MAX)
		return XMIG_ERR_TOO_LONG;
	if (m->cfg_len > 0 && m->cfg == NULL)
		return XMIG_ERR_INVALID;
	if ((r = prepare_check(m)) != 0)
		return r;
	xbuf_writer(&b, buf, cap);
	xbuf_put_bytes(&b, m->token, sizeof(m->token));
	xbuf_put_str(&b, m->name);
	xbuf_put_bytes(&b, m->uuid, sizeof(m->uuid));
	xbuf_put_u64(&b, m->nr_pages);
	xbuf_put_u64(&b, m->max_pages);
	xbuf_put_u32(&b, m->vcpus);
	xbuf_put_u8(&b, m->dom_type);
	xbuf_put_u8(&b, m->live);
	xbuf_put_blob(&b, m->cfg, m->cfg_len);
	return enc_result(&b);
}

int
msg_prepare_decode(const uint8_t *p, size_t len, struct msg_prepare *m)
{
	struct xbuf b;
	int r;

	memset(m, 0, sizeof(*m));
	xbuf_reader(&b, p, len);
	xbuf_get_bytes(&b, m->token, sizeof(m->token));
	xbuf_get_str(&b, m->name, sizeof(m->name));
	xbuf_get_bytes(&b, m->uuid, sizeof(m->uuid));
	xbuf_get_u64(&b, &m->nr_pages);
	xbuf_get_u64(&b, &m->max_pages);
	xbuf_get_u32(&b, &m->vcpus);
	xbuf_get_u8(&b, &m->dom_type);
	xbuf_get_u8(&b, &m->live);
	xbuf_get_blob(&b, &m->cfg, &m->cfg_len, PROTO_CFG_MAX);
	if ((r = xbuf_get_end(&b)) == 0)
		r = prepare_check(m);
	if (r != 0)
		memset(m, 0, sizeof(*m));
	return r;
}

/* ---- REFUSE, ABORT ---- */

int
msg_reason_encode(const struct msg_reason *m, uint8_t *buf, size_t cap)
{
	struct xbuf b;

	/* Never truncated: a text that does not fit is the caller's bug. */
	if (!fstr_ok(m->text, sizeof(m->text)))
		return XMIG_ERR_TOO_LONG;
	xbuf_writer(&b, buf, cap);
	xbuf_put_u16(&b, m->code);
	xbuf_put_str(&b, m->text);
	return enc_result(&b);
}

int
msg_reason_decode(const uint8_t *p, size_t len, struct msg_reason *m)
{
	struct xbuf b;
	int r;

	memset(m, 0, sizeof(*m));
	xbuf_reader(&b, p, len);
	xbuf_get_u16(&b, &m->code);	/* unknown codes are kept: "unknown reason" */
	xbuf_get_str(&b, m->text, sizeof(m->text));
	if ((r = xbuf_get_end(&b)) != 0)
		memset(m, 0, sizeof(*m));
	return r;
}

/* ---- ROUND_END ---- */

int
msg_round_end_encode(const struct msg_round_end *m, uint8_t *buf, size_t cap)
{
	struct xbuf b;

	xbuf_writer(&b, buf, cap);
	xbuf_put_u32(&b, m->round);
	xbuf_put_u64(&b, m->pages);
	xbuf_put_u64(&b, m->dirty);
	return enc_result(&b);
}

int
msg_round_end_decode(const uint8_t *p, size_t len, struct msg_round_end *m)
{
	struct xbuf b;
	int r;

	memset(m, 0, sizeof(*m));
	xbuf_reader(&b, p, len);
	xbuf_get_u32(&b, &m->round);
	xbuf_get_u64(&b, &m->pages);
	xbuf_get_u64(&b, &m->dirty);
	if ((r = xbuf_get_end(&b)) != 0)
		memset(m, 0, sizeof(*m));
	return r;
}

/* ---- BUILT, DONE ---- */

static int
domid_encode(uint32_t domid, uint8_t *buf, size_t cap)
{
	struct xbuf b;

	xbuf_writer(&b, buf, cap);
	xbuf_put_u32(&b, domid);
	return enc_result(&b);
}

static int
domid_decode(const uint8_t *p, size_t len, uint32_t *domid)
{
	struct xbuf b;
	int r;

	xbuf_reader(&b, p, len);
	xbuf_get_u32(&b, domid);
	if ((r = xbuf_get_end(&b)) != 0)
		*domid = 0;
	return r;
}

int
msg_built_encode(const struct msg_built *m, uint8_t *buf, size_t cap)
{
	return domid_encode(m->domid, buf, cap);
}

int
msg_built_decode(const uint8_t *p, size_t len, struct msg_built *m)
{
	memset(m, 0, sizeof(*m));
	return domid_decode(p, len, &m->domid);
}

int
msg_done_encode(const struct msg_done *m, uint8_t *buf, size_t cap)
{
	struct xbuf b;

	if (!m->has_unpause)
		return domid_encode(m->domid, buf, cap);
	xbuf_writer(&b, buf, cap);
	xbuf_put_u32(&b, m->domid);
	xbuf_put_u32(&b, m->unpause_us);
	return enc_result(&b);
}

/* The domid alone (every receiver), or with the unpause time (a receiver
 * that saw HELLO_F_DONE_UNPAUSE in the sender's HELLO). */
int
msg_done_decode(const uint8_t *p, size_t len, struct msg_done *m)
{
	struct xbuf b;
	int r;

	memset(m, 0, sizeof(*m));
	if (len != DONE_LEN_MAX)
		return domid_decode(p, len, &m->domid);
	xbuf_reader(&b, p, len);
	xbuf_get_u32(&b, &m->domid);
	xbuf_get_u32(&b, &m->unpause_us);
	if ((r = xbuf_get_end(&b)) != 0) {
		memset(m, 0, sizeof(*m));
		return r;
	}
	m->has_unpause = true;
	return 0;
}

/* ---- QUERY, QUERY_REPLY ---- */

int
msg_query_encode(const struct msg_query *m, uint8_t *buf, size_t cap)
{
	struct xbuf b;

	xbuf_writer(&b, buf, cap);
	xbuf_put_bytes(&b, m->token, sizeof(m->token));
	return enc_result(&b);
}

int
msg_query_decode(const uint8_t *p, size_t len, struct msg_query *m)
{
	struct xbuf b;
	int r;

	memset(m, 0, sizeof(*m));
	xbuf_reader(&b, p, len);
	xbuf_get_bytes(&b, m->token, sizeof(m->token));
	if ((r = xbuf_get_end(&b)) != 0)
		memset(m, 0, sizeof(*m));
	return r;
}

int
msg_query_reply_encode(const struct msg_query_reply *m, uint8_t *buf, size_t cap)
{
	struct xbuf b;

	if (m->outcome > OUTCOME_ABORTED)
		return XMIG_ERR_INVALID;
	if (!fstr_ok(m->name, sizeof(m->name)))
		return XMIG_ERR_TOO_LONG;
	xbuf_writer(&b, buf, cap);
	xbuf_put_bytes(&b, m->token, sizeof(m->token));
	xbuf_put_u8(&b, m->outcome);
	xbuf_put_str(&b, m->name);
	xbuf_put_bytes(&b, m->uuid, sizeof(m->uuid));
	return enc_result(&b);
}

int
msg_query_reply_decode(const uint8_t *p, size_t len, struct msg_query_reply *m)
{
	struct xbuf b;
	int r;

	memset(m, 0, sizeof(*m));
	xbuf_reader(&b, p, len);
	xbuf_get_bytes(&b, m->token, sizeof(m->token));
	xbuf_get_u8(&b, &m->outcome);
	xbuf_get_str(&b, m->name, sizeof(m->name));
	xbuf_get_bytes(&b, m->uuid, sizeof(m->uuid));
	/* A name, when there is one, is a domain name like PREPARE's. */
	if ((r = xbuf_get_end(&b)) == 0 && (m->outcome > OUTCOME_ABORTED ||
	    (m->name[0] != '\0' && !name_ok(m->name))))
		r = XMIG_ERR_INVALID;
	if (r != 0)
		memset(m, 0, sizeof(*m));
	return r;
}

/* ---- HOST_INFO_REPLY ---- */

static int
host_info_check(const struct msg_host_info_reply *m)
{
	uint32_t i;

	if (m->state > HOSTSTATE_MAINTENANCE || m->mem_free > m->mem_total)
		return XMIG_ERR_INVALID;
	if (m->ndoms > PROTO_HOST_INFO_DOMS_MAX)
		return XMIG_ERR_TOO_LONG;
	for (i = 0; i < m->ndoms; i++)
		if (!name_ok(m->doms[i].name) || m->doms[i].vcpus > PROTO_VCPUS_MAX ||
		    (m->doms[i].flags & ~HOST_INFO_F_PINNED) != 0)
			return XMIG_ERR_INVALID;
	return 0;
}

int
msg_host_info_reply_encode(const struct msg_host_info_reply *m, uint8_t *buf, size_t cap)
{
	struct xbuf b;
	uint32_t i;
	int r;

	for (i = 0; i < m->ndoms && i < PROTO_HOST_INFO_DOMS_MAX; i++)
		if (!fstr_ok(m->doms[i].name, sizeof(m->doms[i].name)))
			return XMIG_ERR_TOO_LONG;
	if ((r = host_info_check(m)) != 0)
		return r;
	xbuf_writer(&b, buf, cap);
	xbuf_put_u8(&b, m->state);
	xbuf_put_u64(&b, m->mem_total);
	xbuf_put_u64(&b, m->mem_free);
	xbuf_put_u32(&b, m->vcpus_total);
	xbuf_put_u32(&b, m->vcpus_used);
	xbuf_put_u16(&b, (uint16_t)m->ndoms);
	for (i = 0; i < m->ndoms; i++) {
		xbuf_put_str(&b, m->doms[i].name);
		xbuf_put_u64(&b, m->doms[i].mem);
		xbuf_put_u32(&b, m->doms[i].vcpus);
		xbuf_put_u8(&b, m->doms[i].flags);
	}
	return enc_result(&b);
}

int
msg_host_info_reply_decode(const uint8_t *p, size_t len, struct msg_host_info_reply *m)
{
	struct xbuf b;
	uint16_t n = 0;
	uint32_t i;
	int r;

	memset(m, 0, sizeof(*m));
	xbuf_reader(&b, p, len);
	xbuf_get_u8(&b, &m->state);
	xbuf_get_u64(&b, &m->mem_total);
	xbuf_get_u64(&b, &m->mem_free);
	xbuf_get_u32(&b, &m->vcpus_total);
	xbuf_get_u32(&b, &m->vcpus_used);
	xbuf_get_u16(&b, &n);
	/* The count is bounded before a single entry is read. */
	if (b.err == 0 && n > PROTO_HOST_INFO_DOMS_MAX) {
		memset(m, 0, sizeof(*m));
		return XMIG_ERR_TOO_LONG;
	}
	m->ndoms = n;
	for (i = 0; i < m->ndoms && b.err == 0; i++) {
		xbuf_get_str(&b, m->doms[i].name, sizeof(m->doms[i].name));
		xbuf_get_u64(&b, &m->doms[i].mem);
		xbuf_get_u32(&b, &m->doms[i].vcpus);
		xbuf_get_u8(&b, &m->doms[i].flags);
	}
	if ((r = xbuf_get_end(&b)) == 0)
		r = host_info_check(m);
	if (r != 0)
		memset(m, 0, sizeof(*m));
	return r;
}

/* ---- empty payloads ---- */

int
msg_empty_decode(const uint8_t *p, size_t len)
{
	(void)p;
	return len != 0 ? XMIG_ERR_TRAILING : 0;
}

/* ---- PAGES ---- */

int
pages_head_decode(const uint8_t head[PAGES_HEAD_LEN], uint32_t frame_len, uint32_t *round,
    uint32_t *count)
{
	uint32_t rd, n;

	*round = 0;
	*count = 0;
	if (frame_len > PAGES_LEN_MAX)
		return XMIG_ERR_TOO_LONG;
	if (frame_len < PAGES_HEAD_LEN)
		return XMIG_ERR_TRUNCATED;
	rd = be32_get(head);
	n = be32_get(head + 4);
	if (n > PROTO_PAGES_MAX)
		return XMIG_ERR_TOO_LONG;
	if (n == 0)
		return XMIG_ERR_INVALID;
	if ((uint64_t)PAGES_HEAD_LEN + 8ull * n > frame_len)
		return XMIG_ERR_TRUNCATED;
	*round = rd;
	*count = n;
	return 0;
}

/* Kinds and pfns of a PAGES/ZPAGES entry list; counts the NORMAL pages. */
static int
pages_entries_validate(const uint64_t *entries, uint32_t count, uint64_t nr_pages,
    uint32_t *n_normal)
{
	uint32_t i, normal = 0;

	*n_normal = 0;
	if (count > PROTO_PAGES_MAX)
		return XMIG_ERR_TOO_LONG;
	if (count == 0)
		return XMIG_ERR_INVALID;
	for (i = 0; i < count; i++) {
		unsigned kind = page_entry_kind(entries[i]);

		if (kind != PAGE_NORMAL && kind != PAGE_ZERO)
			return XMIG_ERR_INVALID;
		if (page_entry_pfn(entries[i]) >= nr_pages)
			return XMIG_ERR_INVALID;
		if (kind == PAGE_NORMAL)
			normal++;
	}
	*n_normal = normal;
	return 0;
}

int
pages_entries_check(const uint64_t *entries, uint32_t count, uint32_t frame_len,
    uint64_t nr_pages, uint32_t *n_normal)
{
	uint64_t want;
	uint32_t normal;
	int r;

	*n_normal = 0;
	if ((r = pages_entries_validate(entries, count, nr_pages, &normal)) != 0)
		return r;
	want = (uint64_t)PAGES_HEAD_LEN + 8ull * count + (uint64_t)normal * PROTO_PAGE_SIZE;
	if (frame_len < want)
		return XMIG_ERR_TRUNCATED;
	if (frame_len > want)
		return XMIG_ERR_TRAILING;
	*n_normal = normal;
	return 0;
}

void
zraw_head_encode(uint8_t head[ZRAW_HEAD_LEN], uint8_t algo, uint32_t raw_len)
{
	head[0] = algo;
	head[1] = head[2] = head[3] = 0;
	be32_put(head + 4, raw_len);
}

int
zraw_head_decode(const uint8_t head[ZRAW_HEAD_LEN], uint32_t frame_len, uint8_t *algo,
    uint32_t *raw_len)
{
	uint32_t n;

	*algo = 0;
	*raw_len = 0;
	if (frame_len > ZRAW_HEAD_LEN + PROTO_RAW_MAX)
		return XMIG_ERR_TOO_LONG;
	if (frame_len <= ZRAW_HEAD_LEN)
		return XMIG_ERR_TRUNCATED;
	n = be32_get(head + 4);
	if ((head[0] != ZALGO_ZSTD && head[0] != ZALGO_LZ4) || head[1] != 0 || head[2] != 0 ||
	    head[3] != 0 || n == 0 || n > PROTO_RAW_MAX || frame_len - ZRAW_HEAD_LEN >= n)
		return XMIG_ERR_INVALID;
	*algo = head[0];
	*raw_len = n;
	return 0;
}

int
zpages_head_decode(const uint8_t head[ZPAGES_HEAD_LEN], uint32_t frame_len, uint32_t *round,
    uint32_t *count, uint8_t *algo, uint32_t *zlen)
{
	uint32_t n, z;

	*round = *count = *zlen = 0;
	*algo = 0;
	if (frame_len > PAGES_LEN_MAX)
		return XMIG_ERR_TOO_LONG;
	if (frame_len < ZPAGES_HEAD_LEN)
		return XMIG_ERR_TRUNCATED;
	n = be32_get(head + 4);
	z = be32_get(head + 12);
	if (n > PROTO_PAGES_MAX)
		return XMIG_ERR_TOO_LONG;
	if (n == 0 || z == 0 || (head[8] != ZALGO_ZSTD && head[8] != ZALGO_LZ4) ||
	    head[9] != 0 || head[10] != 0 || head[11] != 0)
		return XMIG_ERR_INVALID;
	if ((uint64_t)ZPAGES_HEAD_LEN + 8ull * n + z != frame_len)
		return (uint64_t)ZPAGES_HEAD_LEN + 8ull * n + z > frame_len ? XMIG_ERR_TRUNCATED
		    : XMIG_ERR_TRAILING;
	*round = be32_get(head);
	*count = n;
	*algo = head[8];
	*zlen = z;
	return 0;
}

int
zpages_entries_check(const uint64_t *entries, uint32_t count, uint64_t nr_pages,
    uint32_t zlen, uint32_t *n_normal)
{
	uint32_t normal;
	int r;

	*n_normal = 0;
	if ((r = pages_entries_validate(entries, count, nr_pages, &normal)) != 0)
		return r;
	if (normal == 0 || (uint64_t)zlen >= (uint64_t)normal * PROTO_PAGE_SIZE)
		return XMIG_ERR_INVALID;
	*n_normal = normal;
	return 0;
}

/* ---- DM_PHYSMAP ---- */

/* A physmap name is QEMU's name of a memory region ("vga.vram"); it goes
 * back into xenstore on the receiver, so only plain characters. */
static bool
dm_name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n >= PROTO_DM_NAME_MAX)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '_' || c == ':' || c == '/' || c == '-'))
			return false;
	}
	return true;
}

static int
dm_physmap_ent_check(const struct msg_dm_physmap_ent *e)
{
	if (!dm_name_ok(e->name))
		return XMIG_ERR_INVALID;
	if (e->phys_offset % PROTO_PAGE_SIZE != 0 || e->start_addr % PROTO_PAGE_SIZE != 0 ||
	    e->size % PROTO_PAGE_SIZE != 0 || e->size == 0)
		return XMIG_ERR_INVALID;
	/* Written so that nothing wraps: each bound before the sum. */
	if (e->size > PROTO_DM_ADDR_LIMIT || e->start_addr > PROTO_DM_ADDR_LIMIT - e->size ||
	    e->phys_offset > PROTO_DM_ADDR_LIMIT - e->size)
		return XMIG_ERR_INVALID;
	return 0;
}

/* Entry i against those before it: phys_offset is the xenstore key. */
static bool
dm_physmap_dup(const struct msg_dm_physmap *m, uint32_t i, uint64_t phys_offset)
{
	uint32_t j;

	for (j = 0; j < i; j++)
		if (m->ents[j].phys_offset == phys_offset)
			return true;
	return false;
}

static int
dm_physmap_check(const struct msg_dm_physmap *m)
{
	uint32_t i;
	int r;

	if (m->count > PROTO_DM_PHYSMAP_MAX)
		return XMIG_ERR_TOO_LONG;
	if (m->count == 0)
		return XMIG_ERR_INVALID;
	for (i = 0; i < m->count; i++) {
		if ((r = dm_physmap_ent_check(&m->ents[i])) != 0)
			return r;
		if (dm_physmap_dup(m, i, m->ents[i].phys_offset))
			return XMIG_ERR_INVALID;
	}
	return 0;
}

int
msg_dm_physmap_encode(const struct msg_dm_physmap *m, uint8_t *buf, size_t cap)
{
	struct xbuf b;
	uint32_t i;
	int r;

	for (i = 0; i < m->count && i < PROTO_DM_PHYSMAP_MAX; i++)
		if (!fstr_ok(m->ents[i].name, sizeof(m->ents[i].name)))
			return XMIG_ERR_TOO_LONG;
	if ((r = dm_physmap_check(m)) != 0)
		return r;
	xbuf_writer(&b, buf, cap);
	xbuf_put_u16(&b, (uint16_t)m->count);
	for (i = 0; i < m->count; i++) {
		xbuf_put_u64(&b, m->ents[i].phys_offset);
		xbuf_put_u64(&b, m->ents[i].start_addr);
		xbuf_put_u64(&b, m->ents[i].size);
		xbuf_put_str(&b, m->ents[i].name);
	}
	return enc_result(&b);
}

int
msg_dm_physmap_decode(const uint8_t *p, size_t len, struct msg_dm_physmap *m)
{
	struct xbuf b;
	uint16_t n = 0;
	uint32_t i;
	int r;

	memset(m, 0, sizeof(*m));
	xbuf_reader(&b, p, len);
	xbuf_get_u16(&b, &n);
	/* The count is bounded before a single entry is read. */
	if (b.err == 0 && n > PROTO_DM_PHYSMAP_MAX)
		return XMIG_ERR_TOO_LONG;
	m->count = n;
	for (i = 0; i < m->count && b.err == 0; i++) {
		xbuf_get_u64(&b, &m->ents[i].phys_offset);
		xbuf_get_u64(&b, &m->ents[i].start_addr);
		xbuf_get_u64(&b, &m->ents[i].size);
		xbuf_get_str(&b, m->ents[i].name, sizeof(m->ents[i].name));
	}
	if ((r = xbuf_get_end(&b)) == 0)
		r = dm_physmap_check(m);
	if (r != 0)
		memset(m, 0, sizeof(*m));
	return r;
}

int
dm_hex_parse(const char *s, uint64_t *v)
{
	uint64_t x = 0;
	size_t i, n;

	*v = 0;
	if (s == NULL || (n = strnlen(s, 17)) == 0 || n > 16)
		return XMIG_ERR_INVALID;
	for (i = 0; i < n; i++) {
		char c = s[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return XMIG_ERR_INVALID;
		x = x << 4 | d;
	}
	*v = x;
	return 0;
}

int
dm_physmap_add(struct msg_dm_physmap *m, const char *key, const char *start_addr,
    const char *size, const char *name)
{
	struct msg_dm_physmap_ent e;
	int r;

	memset(&e, 0, sizeof(e));
	if (m->count >= PROTO_DM_PHYSMAP_MAX)
		return XMIG_ERR_TOO_LONG;
	if (name == NULL || strnlen(name, PROTO_DM_NAME_MAX) >= PROTO_DM_NAME_MAX)
		return name == NULL ? XMIG_ERR_INVALID : XMIG_ERR_TOO_LONG;
	if ((r = dm_hex_parse(key, &e.phys_offset)) != 0 ||
	    (r = dm_hex_parse(start_addr, &e.start_addr)) != 0 ||
	    (r = dm_hex_parse(size, &e.size)) != 0)
		return r;
	memcpy(e.name, name, strlen(name) + 1);
	if ((r = dm_physmap_ent_check(&e)) != 0)
		return r;
	if (dm_physmap_dup(m, m->count, e.phys_offset))
		return XMIG_ERR_EXISTS;
	m->ents[m->count++] = e;
	return 0;
}

/* ---- DM_STATE ---- */

void
dm_state_head_encode(uint8_t head[DM_STATE_HEAD_LEN], uint32_t total, uint32_t offset)
{
	be32_put(head, total);
	be32_put(head + 4, offset);
}

int
dm_state_head_decode(const uint8_t head[DM_STATE_HEAD_LEN], uint32_t frame_len,
    uint32_t *total, uint32_t *offset)
{
	uint32_t t, o;

	*total = *offset = 0;
	if (frame_len > DM_STATE_LEN_MAX)
		return XMIG_ERR_TOO_LONG;
	if (frame_len <= DM_STATE_HEAD_LEN)
		return XMIG_ERR_TRUNCATED;
	t = be32_get(head);
	o = be32_get(head + 4);
	if (t > PROTO_DM_STATE_MAX)
		return XMIG_ERR_TOO_LONG;
	if (t == 0 || (uint64_t)o + (frame_len - DM_STATE_HEAD_LEN) > t)
		return XMIG_ERR_INVALID;
	*total = t;
	*offset = o;
	return 0;
}

void
dm_state_acc_init(struct dm_state_acc *a)
{
	memset(a, 0, sizeof(*a));
}

int
dm_state_acc_add(struct dm_state_acc *a, const uint8_t *payload, uint32_t len)
{
	uint32_t t, o, n;
	uint64_t cap;
	uint8_t *d;
	int r;

	if (len < DM_STATE_HEAD_LEN)
		return XMIG_ERR_TRUNCATED;
	if ((r = dm_state_head_decode(payload, len, &t, &o)) != 0)
		return r;
	if ((a->total != 0 && t != a->total) || o != a->got)
		return XMIG_ERR_INVALID;
	n = len - DM_STATE_HEAD_LEN;
	/* Grown by doubling, never past total: the memory follows the bytes
	 * that came, not the total a peer announced. */
	if ((uint64_t)a->got + n > a->cap) {
		cap = (uint64_t)a->cap * 2;
		if (cap < (uint64_t)a->got + n)
			cap = (uint64_t)a->got + n;
		if (cap > t)
			cap = t;
		if ((d = realloc(a->data, cap)) == NULL)
			return XMIG_ERR_NOMEM;
		a->data = d;
		a->cap = (uint32_t)cap;
	}
	memcpy(a->data + a->got, payload + DM_STATE_HEAD_LEN, n);
	a->got += n;
	a->total = t;
	return 0;
}

bool
dm_state_acc_complete(const struct dm_state_acc *a)
{
	return a->total != 0 && a->got == a->total;
}

void
dm_state_acc_free(struct dm_state_acc *a)
{
	free(a->data);
	dm_state_acc_init(a);
}
