/* log.h - logging for xmigd, xmig and simhv.
 *
 * Output goes to stderr until log_init() is told to use syslog (the daemon
 * without -f).  error/info/verbose/debug levels; a job-scoped form prefixes
 * "job N: " so every line of a migration can be found with grep.
 */
#ifndef XMIG_LOG_H
#define XMIG_LOG_H

#include <stdbool.h>

enum log_level { LOG_LVL_ERROR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_VERBOSE, LOG_LVL_DEBUG };

/* ident: program name; use_syslog: false = stderr. */
void log_init(const char *ident, bool use_syslog, enum log_level level);
void log_set_level(enum log_level level);
/* Prefix stderr lines with the wall-clock time (HH:MM:SS.mmm), for a
 * daemon in the foreground; syslog stamps its own. */
void log_set_timestamps(bool on);
enum log_level log_get_level(void);
/* Parses "error|warn|info|verbose|debug"; returns -1 when unknown. */
int log_level_parse(const char *s);
/* "error", "warn", "info", "verbose" or "debug" ("unknown" out of range). */
const char *log_level_name(enum log_level lvl);

void log_msg(enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_verbose(...) log_msg(LOG_LVL_VERBOSE, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

/* Same, for messages that belong to a migration job. */
#define jlog(lvl, jobid, fmt, ...) \
	log_msg(lvl, "job %llu: " fmt, (unsigned long long)(jobid), ##__VA_ARGS__)

/* Rate-limited variant for flood-prone events (refused peers): at most
 * `burst` messages per 10 s window per call site `state`. */
struct log_ratelimit { long window_start; unsigned count; unsigned suppressed; };
void log_ratelimited(struct log_ratelimit *rl, unsigned burst, enum log_level lvl,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
