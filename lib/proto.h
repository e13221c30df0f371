/* proto.h - the xmig relocation protocol, version 1 (docs/protocol.md).
 *
 * Every frame is a 12-byte header followed by a payload:
 *
 *   u32 magic "XMIG"  u8 version  u8 type  u16 flags  u32 length
 *
 * all big-endian.  The header is validated before anything is allocated:
 * the magic, the version, a known type (or an unknown one flagged
 * OPTIONAL, which the reader skips), and a length within that type's
 * maximum.  Payloads are encoded field by field (xbuf), never as raw
 * structs.  PAGES frames are special: their page data is read straight into
 * guest memory after the entry list has been validated, so the decoder
 * exposes the entry list and the data length separately.
 */
#ifndef XMIG_PROTO_H
#define XMIG_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROTO_MAGIC 0x584d4947u	/* "XMIG" */
#define PROTO_VERSION 1
#define FRAME_HDR_LEN 12
#define FRAME_F_OPTIONAL 0x0001	/* receiver may skip it if it does not know the type */
/* HELLO feature bits.  A peer acts on a bit only when both HELLOs set it. */

#define PROTO_PAGE_SIZE 4096u
#define PROTO_PAGES_MAX 512u		/* pages per PAGES frame */
#define PROTO_NAME_MAX 64		/* domain names, incl. NUL */
#define PROTO_HOST_MAX 256
#define PROTO_REASON_MAX 512
#define PROTO_CFG_MAX (64u << 10)	/* backend config blob in PREPARE */
#define PROTO_CONTEXT_MAX (1u << 20)	/* vCPU/device context */
#define PROTO_RAW_MAX (4u << 20)	/* opaque backend stream chunk (Xen) */
/* Above every per-type maximum: a header claiming more is refused outright. */
#define FRAME_MAX (PROTO_RAW_MAX + 64u)

enum msg_type {
	MSG_HELLO = 1,		/* both ways, first frame */
	MSG_PREPARE = 2,	/* S->R: the domain to be received */
	MSG_PREPARE_OK = 3,	/* R->S */
	MSG_REFUSE = 4,		/* R->S: prepare refused, with reason */
	MSG_PAGES = 5,		/* S->R: a batch of pages */
	MSG_ROUND_END = 6,	/* S->R: end of a pre-copy round (optional) */
	MSG_CONTEXT = 7,	/* S->R: vCPU context, after the last pages */
	MSG_RAW = 8,		/* S->R: opaque backend stream chunk */
	MSG_STREAM_END = 9,	/* S->R: everything sent, build the domain */
	MSG_BUILT = 10,		/* R->S: domain built, paused */
	MSG_GO = 11,		/* S->R: commit: unpause it (point of no return) */
	MSG_DONE = 12,		/* R->S: running on the destination */
	MSG_ABORT = 13,		/* either way: give up, with reason */
	MSG_QUERY = 14,		/* S->R: outcome of an earlier job (by token) */
	MSG_QUERY_REPLY = 15,	/* R->S */
	MSG_ZPAGES = 16,	/* S->R: a batch of pages, page data compressed */
	MSG_HOST_INFO = 17,	/* S->R: the receiver's facts, for placement (empty) */
	MSG_HOST_INFO_REPLY = 18, /* R->S */
	MSG_ZRAW = 19,		/* S->R: an opaque backend stream chunk, compressed */
	MSG_DM_PHYSMAP = 20,	/* S->R: the device model's physmap entries (HELLO_F_DEVICE_MODEL) */
	MSG_DM_STATE = 21,	/* S->R: a chunk of the device model's saved state (idem) */
	MSG_DEVICES_READY = 22,	/* R->S: the new domain's devices are up (HELLO_F_DEVICES_READY; empty) */
	MSG_TYPE_MAX = 22,
};

/* Reason codes in REFUSE and ABORT. */
enum proto_reason {
	REASON_OTHER = 0,
	REASON_VERSION = 1,	/* protocol version */
	REASON_INCOMPATIBLE = 2, /* arch, hypervisor, page size, guest type */
	REASON_NO_MEMORY = 3,
	REASON_NAME_CLASH = 4,
	REASON_UUID_CLASH = 5,
	REASON_BUSY = 6,	/* too many incoming migrations */
	REASON_CANCELLED = 7,
	REASON_PROTOCOL = 8,	/* malformed or unexpected frame */
	REASON_BACKEND = 9,	/* hypervisor operation failed */
	REASON_TIMEOUT = 10,
	REASON_SHUTDOWN = 11,	/* daemon stopping */
	REASON_MAINTENANCE = 12,
};

/* Outcome in QUERY_REPLY. */
enum proto_outcome { OUTCOME_UNKNOWN = 0, OUTCOME_IN_PROGRESS = 1, OUTCOME_COMMITTED = 2,
	OUTCOME_ABORTED = 3 };

/* Page kinds in PAGES entries (top 4 bits of each u64 entry). */
enum page_kind { PAGE_NORMAL = 0, PAGE_ZERO = 1 };
#define PAGE_ENTRY_PFN_MASK ((1ull << 60) - 1)

struct frame_hdr {
	uint8_t version;
	uint8_t type;
	uint16_t flags;
	uint32_t len;
};

struct msg_hello {
	uint16_t proto_min, proto_max;
	char arch[32];		/* "x86_64" */
	char hv[16];		/* "sim" or "xen" */
	char hv_version[32];
	uint32_t page_size;
	uint64_t mem_total, mem_free;
	uint32_t features;	/* HELLO_F_*; unknown bits are ignored */
	char host[PROTO_HOST_MAX];
};

/* HELLO features.  A capability is used only when both HELLOs carry it. */
#define HELLO_F_DEVICE_MODEL 0x00000001u	/* can carry a device model: DM_PHYSMAP, DM_STATE */
#define HELLO_F_DONE_UNPAUSE 0x00000002u	/* DONE carries the receiver's unpause time */
/* the receiver sends DEVICES_READY once its devices are up; the sender
 * does not suspend the guest before it has read it */
#define HELLO_F_DEVICES_READY 0x00000004u
#define HELLO_F_KNOWN (HELLO_F_DEVICE_MODEL | HELLO_F_DONE_UNPAUSE | HELLO_F_DEVICES_READY)
static inline uint32_t hello_common_features(const struct msg_hello *a, const struct msg_hello *b)
{ return a->features & b->features & HELLO_F_KNOWN; }

enum proto_dom_type { DOMTYPE_SIM = 0, DOMTYPE_PV = 1, DOMTYPE_PVH = 2, DOMTYPE_HVM = 3 };

struct msg_prepare {
	uint8_t token[16];	/* random job identity, for QUERY */
	char name[PROTO_NAME_MAX];
	uint8_t uuid[16];
	uint64_t nr_pages;
	uint64_t max_pages;
	uint32_t vcpus;
	uint8_t dom_type;	/* enum proto_dom_type */
	uint8_t live;
	const uint8_t *cfg;	/* backend config, points into the payload */
	uint32_t cfg_len;
};

struct msg_reason {		/* REFUSE and ABORT */
	uint16_t code;		/* enum proto_reason */
	char text[PROTO_REASON_MAX];
};

struct msg_round_end {
	uint32_t round;
	uint64_t pages;		/* pages sent in the round */
	uint64_t dirty;		/* pages dirty at its end */
};

struct msg_built {
	uint32_t domid;		/* destination's id of the new domain */
};

struct msg_done {
	uint32_t domid;
	/* with HELLO_F_DONE_UNPAUSE on both sides: how long the backend's
	 * unpause of the new domain took, so that the sender can split its
	 * commit phase (older receivers send the domid alone) */
	bool has_unpause;
	uint32_t unpause_us;
};

struct msg_query {
	uint8_t token[16];
};

/* The reply names the domain the token's record is about ("" and a zero
 * uuid when the outcome is unknown): the sender acts on it only when both
 * are those of its own copy. */
struct msg_query_reply {
	uint8_t token[16];
	uint8_t outcome;	/* enum proto_outcome */
	char name[PROTO_NAME_MAX];
	uint8_t uuid[16];
};

/* HOST_INFO_REPLY: what a peer needs to place domains on this host. */
#define PROTO_HOST_INFO_DOMS_MAX 256u
#define HOST_INFO_F_PINNED 0x01	/* domain flag: pinned (no automatic migration) */
enum proto_host_state { HOSTSTATE_ACTIVE = 0, HOSTSTATE_PREPARING = 1,
	HOSTSTATE_MAINTENANCE = 2 };

struct msg_host_info_dom {
	char name[PROTO_NAME_MAX];
	uint64_t mem;		/* bytes */
	uint32_t vcpus;
	uint8_t flags;		/* HOST_INFO_F_* */
};

struct msg_host_info_reply {
	uint8_t state;		/* enum proto_host_state */
	uint64_t mem_total, mem_free;	/* bytes; free <= total */
	uint32_t vcpus_total;	/* vCPUs the host will run (0 = unknown) */
	uint32_t vcpus_used;
	uint32_t ndoms;		/* <= PROTO_HOST_INFO_DOMS_MAX */
	struct msg_host_info_dom doms[PROTO_HOST_INFO_DOMS_MAX];
};

/* The fixed part of a PAGES payload: u32 round, u32 count, then count u64
 * entries ((kind << 60) | pfn), then PROTO_PAGE_SIZE bytes per NORMAL entry
 * in entry order. */
#define PAGES_HEAD_LEN 8

/* ZPAGES: u32 round, u32 count, u8 algo (enum zpages_algo), 3 zero bytes,
 * u32 zlen, then count u64 entries as in PAGES, then zlen bytes that
 * decompress to exactly PROTO_PAGE_SIZE bytes per NORMAL entry.  A sender
 * uses it only when the data shrinks, so zlen < the raw size and a ZPAGES
 * frame is never longer than the PAGES frame it replaces. */
#define ZPAGES_HEAD_LEN 16
enum zpages_algo { ZALGO_ZSTD = 1, ZALGO_LZ4 = 2 };

/* ZRAW: u8 algo (enum zpages_algo), 3 zero bytes, u32 raw_len, then the
 * rest of the frame, which decompresses to exactly raw_len bytes of the
 * backend's stream (1 <= raw_len <= PROTO_RAW_MAX).  Sent only when it
 * shrinks the chunk: the compressed part is shorter than raw_len. */
#define ZRAW_HEAD_LEN 8

/* The device model of an HVM guest (QEMU), sent after the guest is
 * suspended and before STREAM_END, only when both HELLOs carry
 * HELLO_F_DEVICE_MODEL.
 *
 * DM_PHYSMAP: what QEMU registered under libxl's device-model/<domid>/
 * physmap/<phys_offset>/{start_addr,size,name} (hex numbers, a name), as
 * numbers, so that the receiver writes back only text it formats itself:
 * u16 count (1..PROTO_DM_PHYSMAP_MAX), then per entry u64 phys_offset,
 * u64 start_addr, u64 size, str name.  Addresses and sizes are multiples
 * of PROTO_PAGE_SIZE, size >= 1 page, each range below 2^52 (x86's
 * physical address width); no phys_offset twice (it is the xenstore key);
 * a name is 1..63 bytes of [A-Za-z0-9._:/-]. */
#define PROTO_DM_PHYSMAP_MAX 32u
#define PROTO_DM_NAME_MAX 64		/* physmap names, incl. NUL */
#define PROTO_DM_ADDR_LIMIT (1ull << 52)

struct msg_dm_physmap_ent {
	uint64_t phys_offset;	/* the xenstore key: where QEMU allocated the region */
	uint64_t start_addr;	/* where the guest sees it */
	uint64_t size;
	char name[PROTO_DM_NAME_MAX];
};

struct msg_dm_physmap {
	uint32_t count;		/* <= PROTO_DM_PHYSMAP_MAX */
	struct msg_dm_physmap_ent ents[PROTO_DM_PHYSMAP_MAX];
};

/* DM_STATE: u32 total, u32 offset, then the chunk: bytes [offset, offset +
 * n) of QEMU's saved device state (xen-save-devices-state's file), n =
 * length - 8 >= 1.  1 <= total <= PROTO_DM_STATE_MAX, the same in every
 * chunk; chunks come in order (offset = the bytes sent before it) and end
 * exactly at total. */
#define DM_STATE_HEAD_LEN 8
#define PROTO_DM_CHUNK_MAX (4u << 20)	/* state bytes per frame */
#define PROTO_DM_STATE_MAX (64u << 20)	/* the whole state */

/* The receiver's side of DM_STATE: the chunks gathered into one buffer
 * that grows with the bytes received (never beyond total, and at most
 * twice what arrived), so a peer's claim of a large total costs nothing
 * until the bytes come. */
struct dm_state_acc {
	uint8_t *data;
	uint32_t total;		/* 0 until the first chunk */
	uint32_t got;
	uint32_t cap;
};

/* Frame header.  decode returns 0, or XMIG_ERR_BAD_MAGIC / _VERSION /
 * _BAD_TYPE (unknown and not optional) / _TOO_LONG. */
void frame_hdr_encode(uint8_t out[FRAME_HDR_LEN], uint8_t type, uint16_t flags, uint32_t len);
int frame_hdr_decode(const uint8_t in[FRAME_HDR_LEN], struct frame_hdr *h);
/* Maximum payload length of a type (0 for unknown). */
uint32_t proto_max_len(uint8_t type);
const char *proto_type_str(uint8_t type);
const char *proto_reason_str(uint16_t code);

/* Each encoder writes the payload (not the header) into buf and returns its
 * length, or a negative XMIG_ERR_*.  Each decoder validates everything and
 * consumes the payload exactly (XMIG_ERR_TRAILING on leftovers). */
int msg_hello_encode(const struct msg_hello *m, uint8_t *buf, size_t cap);
int msg_hello_decode(const uint8_t *p, size_t len, struct msg_hello *m);
int msg_prepare_encode(const struct msg_prepare *m, uint8_t *buf, size_t cap);
int msg_prepare_decode(const uint8_t *p, size_t len, struct msg_prepare *m);
int msg_reason_encode(const struct msg_reason *m, uint8_t *buf, size_t cap);
int msg_reason_decode(const uint8_t *p, size_t len, struct msg_reason *m);
int msg_round_end_encode(const struct msg_round_end *m, uint8_t *buf, size_t cap);
int msg_round_end_decode(const uint8_t *p, size_t len, struct msg_round_end *m);
int msg_built_encode(const struct msg_built *m, uint8_t *buf, size_t cap);
int msg_built_decode(const uint8_t *p, size_t len, struct msg_built *m);
int msg_done_encode(const struct msg_done *m, uint8_t *buf, size_t cap);
int msg_done_decode(const uint8_t *p, size_t len, struct msg_done *m);
int msg_query_encode(const struct msg_query *m, uint8_t *buf, size_t cap);
int msg_query_decode(const uint8_t *p, size_t len, struct msg_query *m);
int msg_query_reply_encode(const struct msg_query_reply *m, uint8_t *buf, size_t cap);
int msg_query_reply_decode(const uint8_t *p, size_t len, struct msg_query_reply *m);
int msg_host_info_reply_encode(const struct msg_host_info_reply *m, uint8_t *buf, size_t cap);
int msg_host_info_reply_decode(const uint8_t *p, size_t len, struct msg_host_info_reply *m);
/* Empty payloads (STREAM_END, GO, PREPARE_OK, HOST_INFO, DEVICES_READY): decode
 * checks len == 0. */
int msg_empty_decode(const uint8_t *p, size_t len);

/* PAGES.  pages_head_decode checks the frame length against count first
 * (8 + 8 * count <= len, count <= PROTO_PAGES_MAX); pages_entries_check then
 * validates every entry (known kind, pfn < nr_pages) and that the frame
 * length equals head + entries + data exactly, returning the number of
 * NORMAL pages in *n_normal. */
int pages_head_decode(const uint8_t head[PAGES_HEAD_LEN], uint32_t frame_len,
    uint32_t *round, uint32_t *count);
int pages_entries_check(const uint64_t *entries /* host order */, uint32_t count,
    uint32_t frame_len, uint64_t nr_pages, uint32_t *n_normal);
/* ZPAGES: head checks (count, algo, padding, exact frame length); the
 * entries check validates kinds and pfns and that zlen < the raw size. */
int zpages_head_decode(const uint8_t head[ZPAGES_HEAD_LEN], uint32_t frame_len,
    uint32_t *round, uint32_t *count, uint8_t *algo, uint32_t *zlen);
int zpages_entries_check(const uint64_t *entries, uint32_t count, uint64_t nr_pages,
    uint32_t zlen, uint32_t *n_normal);
void zraw_head_encode(uint8_t head[ZRAW_HEAD_LEN], uint8_t algo, uint32_t raw_len);
/* ZRAW: head checks (algo, padding, raw_len bounds, a compressed part that
 * is not empty and shorter than raw_len).  0 or XMIG_ERR_*; on error
 * *algo and *raw_len are 0. */
int zraw_head_decode(const uint8_t head[ZRAW_HEAD_LEN], uint32_t frame_len, uint8_t *algo,
    uint32_t *raw_len);
/* DM_PHYSMAP.  dm_physmap_add is the sender's: one entry from the text
 * QEMU wrote under physmap/ (key, start_addr and size in hex, as
 * dm_hex_parse takes them; name), checked as the decoder will: 0, or
 * XMIG_ERR_INVALID, _TOO_LONG (a name, or one entry too many), _EXISTS (a
 * key already added); m is unchanged on error. */
int msg_dm_physmap_encode(const struct msg_dm_physmap *m, uint8_t *buf, size_t cap);
int msg_dm_physmap_decode(const uint8_t *p, size_t len, struct msg_dm_physmap *m);
int dm_physmap_add(struct msg_dm_physmap *m, const char *key, const char *start_addr,
    const char *size, const char *name);
/* 1..16 hex digits, nothing else (no "0x", sign or space): xenstore's
 * text of a number QEMU wrote with PRIx64.  0 or XMIG_ERR_INVALID. */
int dm_hex_parse(const char *s, uint64_t *v);
/* DM_STATE.  head_decode checks a chunk against its frame: 1 <= total <=
 * PROTO_DM_STATE_MAX, at least one byte, offset + bytes <= total.  0 or
 * XMIG_ERR_*; on error *total and *offset are 0. */
void dm_state_head_encode(uint8_t head[DM_STATE_HEAD_LEN], uint32_t total, uint32_t offset);
int dm_state_head_decode(const uint8_t head[DM_STATE_HEAD_LEN], uint32_t frame_len,
    uint32_t *total, uint32_t *offset);
void dm_state_acc_init(struct dm_state_acc *a);
/* One DM_STATE payload (head and chunk, len bytes): checked by
 * head_decode, then against the chunks before it (the same total, offset
 * = the bytes gathered), then copied.  XMIG_ERR_INVALID for a chunk out
 * of order or of another total, _NOMEM; the accumulator is left as it was. */
int dm_state_acc_add(struct dm_state_acc *a, const uint8_t *payload, uint32_t len);
/* True when every byte of a state has come (and at least one chunk). */
bool dm_state_acc_complete(const struct dm_state_acc *a);
void dm_state_acc_free(struct dm_state_acc *a);

static inline uint64_t page_entry(uint64_t pfn, unsigned kind)
{ return ((uint64_t)kind << 60) | (pfn & PAGE_ENTRY_PFN_MASK); }
static inline uint64_t page_entry_pfn(uint64_t e) { return e & PAGE_ENTRY_PFN_MASK; }
static inline unsigned page_entry_kind(uint64_t e) { return (unsigned)(e >> 60); }

#endif
