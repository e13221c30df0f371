/* store/hoststate.h - the host's maintenance state and the domains pinned to it.
 *
 * Both live in small files in the state directory so that they survive a
 * restart: STATE_DIR/host-state ("STATE [REASON...]", one line) and
 * STATE_DIR/pins (one "NAME UUID auto|all" line per pinned domain).  Files
 * are replaced atomically (write, fsync, rename).  The daemon-wide copy is
 * guarded by one mutex; the parse/format helpers are pure (unit tested).
 */
#ifndef XMIG_HOSTSTATE_H
#define XMIG_HOSTSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum host_state {
	HOST_ACTIVE = 0,
	HOST_PREPARING = 1,	/* preparing-for-maintenance: evacuating, no incoming */
	HOST_MAINTENANCE = 2,	/* empty, no incoming */
};

/* What automatic and manual migration may do with a domain. */
enum pin_mode {
	PIN_NONE = 0,
	PIN_AUTO = 1,		/* no automatic migration (maintenance, balance) */
	PIN_ALL = 2,		/* --manual-too: xmig migrate needs --force as well */
};

#define HOSTSTATE_REASON_MAX 200
#define HOSTSTATE_PINS_MAX 4096

struct pin {
	char name[64];
	uint8_t uuid[16];
	enum pin_mode mode;
};

const char *hoststate_str(enum host_state s);
int hoststate_parse(const char *s, enum host_state *out);
const char *pin_mode_str(enum pin_mode m);	/* "auto", "all", NULL for none */

/* One line of the pins file ("NAME UUID auto|all", newline optional).
 * 0 or XMIG_ERR_INVALID. */
int pin_line_parse(const char *line, struct pin *out);
/* The host-state file's line: "STATE [REASON]". */
int hoststate_line_parse(const char *line, enum host_state *st, char *reason, size_t rlen);

/* Load both files (missing = active, no pins).  0 or XMIG_ERR_*, err set. */
int hoststate_init(const char *state_dir, char *err, size_t errlen);
enum host_state hoststate_get(char *reason, size_t rlen);
/* Persist first, then switch: a failed write leaves the old state. */
int hoststate_set(enum host_state s, const char *reason);

/* A domain's pin, by uuid (a renamed domain stays pinned), else by name. */
enum pin_mode pins_lookup(const char *name, const uint8_t uuid[16]);
/* Add or replace (mode PIN_NONE removes).  0, XMIG_ERR_NOT_FOUND on unpin
 * of an unpinned domain, XMIG_ERR_NO_SPACE, or XMIG_ERR_SYSTEM. */
int pins_set(const char *name, const uint8_t uuid[16], enum pin_mode mode);

#endif
