/* compress.h - page-batch compression for the memory stream (zstd, lz4).
 *
 * Only non-zero pages are compressed (zero pages cost 8 bytes anyway), a
 * batch at a time.  "auto" compresses only when it pays: when the time to
 * compress plus the time to send the smaller result beats sending the
 * pages as they are, from the measured compressor speed, ratio and link
 * bandwidth.
 */
#ifndef XMIG_COMPRESS_H
#define XMIG_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

enum compress_mode { COMPRESS_NONE = 0, COMPRESS_ZSTD = 1, COMPRESS_LZ4 = 2, COMPRESS_AUTO = 3 };

/* "none", "zstd", "lz4", "auto" -> mode, or -1. */
int compress_mode_parse(const char *s);
const char *compress_mode_name(int mode);

struct compressor;

/* A compressor for `algo` (COMPRESS_ZSTD or COMPRESS_LZ4); NULL on failure. */
struct compressor *compressor_new(int algo);
void compressor_free(struct compressor *c);
/* Compress n bytes into dst (cap bytes).  Returns the compressed length,
 * 0 when it would not fit in cap (i.e. it does not shrink enough), or a
 * negative XMIG_ERR_*. */
long compressor_run(struct compressor *c, const void *src, size_t n, void *dst, size_t cap);
/* Decompress exactly `want` bytes; anything else is an error. */
int decompress_exact(int algo, const void *src, size_t n, void *dst, size_t want);

#endif
