/* log.c - logging to stderr or syslog.
 *
 * Every message is formatted into one buffer and written with a single
 * write(2) (or one syslog(3) call), so lines from different threads never
 * interleave.  Control characters in a message (a peer's host name, text
 * from the wire) are escaped as \xNN so one call is always one line.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define LOG_LINE_MAX 2048
#define LOG_RATELIMIT_WINDOW_S 10

static char log_ident[64];
static atomic_bool log_use_syslog;
static atomic_int log_level = LOG_LVL_INFO;
static pthread_mutex_t log_rl_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {
	[LOG_LVL_ERROR] = "error",
	[LOG_LVL_WARN] = "warn",
	[LOG_LVL_INFO] = "info",
	[LOG_LVL_VERBOSE] = "verbose",
	[LOG_LVL_DEBUG] = "debug",
};

void
log_init(const char *ident, bool use_syslog, enum log_level level)
{
	if (ident == NULL || ident[0] == '\0')
		ident = program_invocation_short_name;
	strlcpy_x(log_ident, ident, sizeof(log_ident));
	if (atomic_load(&log_use_syslog))
		closelog();
	if (use_syslog)
		openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	atomic_store(&log_use_syslog, use_syslog);
	log_set_level(level);
}

void
log_set_level(enum log_level level)
{
	if ((int)level < LOG_LVL_ERROR)
		level = LOG_LVL_ERROR;
	if (level > LOG_LVL_DEBUG)
		level = LOG_LVL_DEBUG;
	atomic_store(&log_level, (int)level);
}

enum log_level
log_get_level(void)
{
	return (enum log_level)atomic_load(&log_level);
}

int
log_level_parse(const char *s)
{
	size_t i;

	if (s == NULL)
		return -1;
	for (i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcasecmp(s, level_names[i]) == 0)
			return (int)i;
	if (strcasecmp(s, "warning") == 0)
		return LOG_LVL_WARN;
	return -1;
}

const char *
log_level_name(enum log_level lvl)
{
	if ((int)lvl < LOG_LVL_ERROR || lvl > LOG_LVL_DEBUG)
		return "unknown";
	return level_names[lvl];
}

static int
syslog_prio(enum log_level lvl)
{
	switch (lvl) {
	case LOG_LVL_ERROR: return LOG_ERR;
	case LOG_LVL_WARN: return LOG_WARNING;
	case LOG_LVL_INFO: return LOG_INFO;
	case LOG_LVL_VERBOSE: return LOG_INFO;
	case LOG_LVL_DEBUG: return LOG_DEBUG;
	}
	return LOG_INFO;
}

/* Append src to dst[*len..size), escaping control bytes and bytes that are
 * not valid UTF-8 (a peer's text may carry anything) as \xNN, and never
 * cutting a character in two; always leaves room for "\n\0". */
static void
append_escaped(char *dst, size_t *len, size_t size, const char *src)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = *len, n;

	for (; *src != '\0'; src += n) {
		unsigned char c = (unsigned char)*src;

		n = utf8_seq_len(src);
		if ((c < 0x20 && c != '\t') || n == 0 ||
		    (n == 2 && c == 0xc2 && (unsigned char)src[1] < 0xa0)) {
			if (c == '\n' && src[1] == '\0')
				break; /* a trailing newline is not part of the text */
			n = 1;	/* a C1 control: both its bytes escaped, one at a time */
			if (o + 4 + 2 > size)
				break;
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[c >> 4];
			dst[o++] = hex[c & 0xf];
		} else {
			if (o + n + 2 > size)
				break;
			if (n == 1)
				dst[o++] = (char)(c == 0x7f ? '?' : c);
			else
				for (size_t i = 0; i < n; i++)
					dst[o++] = src[i];
		}
	}
	dst[o] = '\0';
	*len = o;
}

static atomic_bool log_timestamps;

void
log_set_timestamps(bool on)
{
	atomic_store(&log_timestamps, on);
}

static void
log_emit(enum log_level lvl, const char *msg)
{
	char line[LOG_LINE_MAX + 128];
	size_t len = 0;
	int saved = errno;

	if (atomic_load(&log_use_syslog)) {
		append_escaped(line, &len, sizeof(line), msg);
		syslog(syslog_prio(lvl), "%s", line);
		errno = saved;
		return;
	}
	if (atomic_load(&log_timestamps)) {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		len = strftime(line, sizeof(line), "%H:%M:%S", &tm);
		len += (size_t)snprintf(line + len, sizeof(line) - len, ".%03ld ",
		    ts.tv_nsec / 1000000);
	}
	len += (size_t)snprintf(line + len, sizeof(line) - len, "%s: %s",
	    log_ident[0] != '\0' ? log_ident : program_invocation_short_name,
	    lvl == LOG_LVL_ERROR ? "error: " : lvl == LOG_LVL_WARN ? "warning: " : "");
	if (len >= sizeof(line))
		len = sizeof(line) - 1;
	append_escaped(line, &len, sizeof(line), msg);
	line[len++] = '\n';
	/* One write per line; stderr is unbuffered, so use the fd directly. */
	for (size_t off = 0; off < len;) {
		ssize_t n = write(STDERR_FILENO, line + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	errno = saved;
}

static void
log_vmsg(enum log_level lvl, const char *fmt, va_list ap)
{
	char msg[LOG_LINE_MAX];
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);

	if (n < 0)
		strlcpy_x(msg, fmt, sizeof(msg));
	else if ((size_t)n >= sizeof(msg))
		memcpy(msg + sizeof(msg) - 4, "...", 4);
	log_emit(lvl, msg);
}

void
log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	if ((int)lvl > atomic_load(&log_level))
		return;
	va_start(ap, fmt);
	log_vmsg(lvl, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_ratelimited(struct log_ratelimit *rl, unsigned burst, enum log_level lvl,
    const char *fmt, ...)
{
	va_list ap;
	long now = (long)(now_ms() / 1000u);
	unsigned dropped = 0;
	bool emit;
	int saved = errno;

	if ((int)lvl > atomic_load(&log_level))
		return;
	pthread_mutex_lock(&log_rl_lock);
	if ((rl->count == 0 && rl->suppressed == 0) ||
	    now - rl->window_start >= LOG_RATELIMIT_WINDOW_S || now < rl->window_start) {
		dropped = rl->suppressed;
		rl->window_start = now;
		rl->count = 0;
		rl->suppressed = 0;
	}
	emit = rl->count < burst;
	if (emit)
		rl->count++;
	else
		rl->suppressed++;
	pthread_mutex_unlock(&log_rl_lock);

	if (dropped > 0)
		log_msg(lvl, "(%u similar message%s suppressed)", dropped,
		    dropped == 1 ? "" : "s");
	if (emit) {
		va_start(ap, fmt);
		log_vmsg(lvl, fmt, ap);
		va_end(ap);
	}
	errno = saved;
}
