/* compress.c - zstd and lz4 behind one small interface. */
#include <lz4.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "compress.h"
#include "xerr.h"

/* zstd level 1: the fast end, which is what a migration link wants. */
#define COMPRESS_ZSTD_LEVEL 1

struct compressor {
	int algo;
	ZSTD_CCtx *zc;
};

int
compress_mode_parse(const char *s)
{
	if (strcmp(s, "none") == 0)
		return COMPRESS_NONE;
	if (strcmp(s, "zstd") == 0)
		return COMPRESS_ZSTD;
	if (strcmp(s, "lz4") == 0)
		return COMPRESS_LZ4;
	if (strcmp(s, "auto") == 0)
		return COMPRESS_AUTO;
	return -1;
}

const char *
compress_mode_name(int mode)
{
	switch (mode) {
	case COMPRESS_NONE: return "none";
	case COMPRESS_ZSTD: return "zstd";
	case COMPRESS_LZ4: return "lz4";
	case COMPRESS_AUTO: return "auto";
	}
	return "?";
}

struct compressor *
compressor_new(int algo)
{
	struct compressor *c;

	if (algo != COMPRESS_ZSTD && algo != COMPRESS_LZ4)
		return NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->algo = algo;
	if (algo == COMPRESS_ZSTD && (c->zc = ZSTD_createCCtx()) == NULL) {
		free(c);
		return NULL;
	}
	return c;
}

void
compressor_free(struct compressor *c)
{
	if (c == NULL)
		return;
	ZSTD_freeCCtx(c->zc);
	free(c);
}

long
compressor_run(struct compressor *c, const void *src, size_t n, void *dst, size_t cap)
{
	if (c->algo == COMPRESS_ZSTD) {
		size_t z = ZSTD_compressCCtx(c->zc, dst, cap, src, n, COMPRESS_ZSTD_LEVEL);

		if (ZSTD_isError(z))
			return ZSTD_getErrorCode(z) == ZSTD_error_dstSize_tooSmall ? 0
			    : XMIG_ERR_INVALID;
		return (long)z;
	}
	if (n > (size_t)LZ4_MAX_INPUT_SIZE || cap > (size_t)LZ4_MAX_INPUT_SIZE)
		return XMIG_ERR_TOO_LONG;
	/* 0 from LZ4 means "did not fit", which is our "does not shrink". */
	return LZ4_compress_default(src, dst, (int)n, (int)cap);
}

int
decompress_exact(int algo, const void *src, size_t n, void *dst, size_t want)
{
	if (algo == COMPRESS_ZSTD) {
		size_t r = ZSTD_decompress(dst, want, src, n);

		return !ZSTD_isError(r) && r == want ? 0 : XMIG_ERR_INVALID;
	}
	if (algo == COMPRESS_LZ4) {
		int r;

		if (n > (size_t)LZ4_MAX_INPUT_SIZE || want > (size_t)LZ4_MAX_INPUT_SIZE)
			return XMIG_ERR_TOO_LONG;
		r = LZ4_decompress_safe(src, dst, (int)n, (int)want);
		return r >= 0 && (size_t)r == want ? 0 : XMIG_ERR_INVALID;
	}
	return XMIG_ERR_INVALID;
}
