/* util.h - small helpers shared by every program. */
#ifndef XMIG_UTIL_H
#define XMIG_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Monotonic clock in microseconds / milliseconds. */
uint64_t now_us(void);
uint64_t now_ms(void);
/* Wall clock in milliseconds since the epoch. */
uint64_t wall_ms(void);
/* Parse a size such as "256M", "1G", "4096", "16MiB", "1g" into bytes
 * (suffixes K, M, G, T with optional "iB"/"B"; powers of 1024). */
int parse_size(const char *s, uint64_t *out);
/* Parse an unsigned decimal with range check. */
int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* Split "host", "host:port", "[v6]:port" or "v6" into host and port
 * (port left unchanged when absent). */
int parse_hostport(const char *s, char *host, size_t hostlen, uint16_t *port);
/* The next space- or tab-separated word of *s: returns its start and sets
 * *n to its length (0 when none is left); *s moves past it. */
const char *next_word(const char **s, size_t *n);
/* Snprintf that never overflows and always terminates. */
size_t strlcpy_x(char *dst, const char *src, size_t size);
/* UTF-8 for text that came from outside (a peer's reason, host or domain
 * name): jansson refuses invalid UTF-8 and logs must not carry raw bytes.
 * utf8_seq_len: the length (1-4) of the valid, shortest-form sequence at s,
 * 0 for an invalid one (a stray continuation byte, an overlong form, a
 * surrogate, beyond U+10FFFF, cut short) or at the end of s. */
size_t utf8_seq_len(const char *s);
/* In place, the length kept: every byte of an invalid sequence and of a
 * control character (C0, DEL, C1) becomes '?'.  Returns how many bytes
 * were replaced. */
size_t utf8_sanitize(char *s);
/* True when utf8_sanitize would leave s unchanged. */
bool utf8_valid(const char *s);
/* Copy as strlcpy_x, but cut so that no multibyte sequence is split, and
 * sanitized as utf8_sanitize.  Returns strlen(dst). */
size_t strlcpy_utf8(char *dst, const char *src, size_t size);
/* Format a UUID (16 bytes) as 8-4-4-4-12 text into out[37]. */
void uuid_format(const uint8_t uuid[16], char out[37]);
int uuid_parse(const char *s, uint8_t uuid[16]);
/* A new random (version 4, RFC 4122 variant) UUID; 0 or XMIG_ERR_SYSTEM. */
int uuid_random(uint8_t uuid[16]);
/* Random bytes from getrandom(). */
int random_bytes(void *buf, size_t len);
/* Replace the file at path with text atomically and durably (write a
 * temporary file, fsync, rename, fsync the directory; mode 0600).  errno is
 * kept on failure; a failing directory fsync is a failure too, although the
 * new text may then already be in place. */
int write_file_atomic(const char *path, const char *text);
/* The same with len bytes of data. */
int write_file_atomic_bytes(const char *path, const void *data, size_t len);
/* The same for a file that must not exist yet: XMIG_ERR_EXISTS when it
 * does (also when another writer creates it at the same moment). */
int write_file_new(const char *path, const char *text);
/* Create a directory and its parents (mode 0755), ok if it exists. */
int mkdir_p(const char *path, unsigned mode);

#endif
