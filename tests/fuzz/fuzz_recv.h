/* fuzz_recv.h - the script format of fuzz_recv (tests/fuzz/fuzz_recv.c),
 * shared with gen_seeds.c, which writes its seeds.
 *
 * An input is a 4-byte setup followed by operations, each an op byte and
 * its argument bytes (an input that ends early reads zeros).  The harness
 * always sends a valid HELLO first, made with the project's encoders, then
 * the opening the setup names, then each operation's frame(s), then closes
 * its side; it reads what the receiver sends meanwhile.
 *
 * setup[0]  bit 0: the engine writes through page_write (else page_dest)
 *           bits 1-2: opening: 0, 1 PREPARE; 2 QUERY; 3 none (the ops say)
 *           bit 3: PREPARE's live flag
 *           bit 4: a domain named like the incoming one exists already
 *           bit 5: a NAME--incoming domain exists already
 *           bit 6: nr_pages is 8 times bigger (over the fake's limit)
 *           bit 7: the token has a record beforehand: "committed" when
 *           setup[3] is even, "aborted" when odd; from this peer unless
 *           setup[3] has bit 1 set (then QUERY does not answer it)
 * setup[1]  nr_pages - 1 (1..256); with bit 6, 8 * (setup[1] + 1) when
 *           setup[1] < 0xf0, else 2^(25 + setup[1] % 16) (up to the
 *           protocol's 2^40: 4 PiB)
 * setup[2]  bits 0-2: vcpus - 1 (7: 100 vCPUs, which the fake refuses);
 *           bits 3-4: dom_type; bits 5-7: name "vm<n>" (7: and the host
 *           is in maintenance)
 * setup[3]  the token's first byte; bit 2: both HELLOs offer
 *           DEVICE_MODEL (DM_PHYSMAP and DM_STATE reach the backend)
 *
 * op byte: low 4 bits the operation (FR_OP_*), high 4 bits how the frame's
 * header tells its length (FR_LEN_*: mostly the truth).
 */
#ifndef XMIG_FUZZ_RECV_H
#define XMIG_FUZZ_RECV_H

#define FR_SETUP_LEN 4

#define FR_S_PAGE_WRITE 0x01
#define FR_S_OPEN_SHIFT 1
#define FR_OPEN_PREPARE 0
#define FR_OPEN_QUERY 2
#define FR_OPEN_NONE 3
#define FR_S_LIVE 0x08
#define FR_S_CLASH 0x10
#define FR_S_LEFTOVER 0x20
#define FR_S_BIG 0x40
#define FR_S_RECORD 0x80

enum fr_op {
	/* round, count-1 (0..15), count entry bytes (bit 7: ZERO; bits 0-6:
	 * pfn, taken modulo nr_pages + 1 so that nr_pages itself, one past
	 * the end, comes up), fill byte */
	FR_OP_PAGES = 0,
	/* as PAGES, then a byte: bit 0 lz4 (else zstd); bits 1-2: 0 as is,
	 * 1 one NORMAL entry more than the data holds, 2 the data cut by a
	 * byte, 3 a byte of it flipped (at the next byte's offset); bit 3: an
	 * unknown algorithm (3 + bits 4-7) */
	FR_OP_ZPAGES = 1,
	/* length byte (raw_len = (n + 1) * 64), fill byte, then a byte: bit 0
	 * lz4; bits 1-2: 0 as is, 1 raw_len + 1, 2 raw_len - 1, 3 raw_len =
	 * PROTO_RAW_MAX + 1; bit 3: an unknown algorithm */
	FR_OP_ZRAW = 2,
	FR_OP_RAW = 3,		/* length byte (n * 16), fill byte */
	FR_OP_CONTEXT = 4,	/* length byte, fill byte */
	FR_OP_ROUND_END = 5,	/* round byte */
	FR_OP_STREAM_END = 6,
	FR_OP_GO = 7,
	FR_OP_ABORT = 8,	/* code byte, length byte, text bytes (% 27: a-z, space) */
	FR_OP_FRAME = 9,	/* type, flags byte (bit 0 OPTIONAL), length, payload */
	FR_OP_BYTES = 10,	/* length, bytes: straight onto the wire */
	FR_OP_HELLO = 11,
	FR_OP_PREPARE = 12,	/* the setup's PREPARE again */
	FR_OP_QUERY = 13,	/* token byte */
	/* byte % 7: PREPARE_OK, BUILT, DONE, HOST_INFO, QUERY_REPLY; 5: a
	 * DM_PHYSMAP (byte: count - 1 in bits 0-1, then 3 bytes an entry); 6:
	 * a DM_STATE chunk (bytes: total / 16 - 1, offset / 16, length / 16
	 * - 1 modulo 24, fill) */
	FR_OP_OTHER = 14,
	FR_OP_BIG = 15,		/* byte: RAW of (b % 64 + 1) * 64 KiB; b >= 64: PROTO_RAW_MAX */
};

/* High nibble of the op byte. */
#define FR_LEN_PLUS 10		/* header says 1 + next byte more */
#define FR_LEN_MINUS 11		/* 1 + next byte less (not below 0) */
#define FR_LEN_ANY 12		/* next two bytes, big-endian */
#define FR_LEN_OPTIONAL 13	/* true length, OPTIONAL flag set */
#define FR_OP(op, len) ((uint8_t)((op) | ((len) << 4)))

#endif
