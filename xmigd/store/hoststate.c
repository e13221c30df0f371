/* store/hoststate.c - maintenance state and pins, kept in the state directory.
 *
 * Small and rarely written, so every change rewrites the whole file under
 * the mutex; readers take the mutex for a copy.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/hoststate.h"
#include "util.h"
#include "xerr.h"

static pthread_mutex_t hs_lock = PTHREAD_MUTEX_INITIALIZER;
static char hs_state_path[1100], hs_pins_path[1100];
static enum host_state hs_state = HOST_ACTIVE;
static char hs_reason[HOSTSTATE_REASON_MAX];
static struct pin *hs_pins;
static size_t hs_npins;

const char *
hoststate_str(enum host_state s)
{
	switch (s) {
	case HOST_ACTIVE: return "active";
	case HOST_PREPARING: return "preparing-for-maintenance";
	case HOST_MAINTENANCE: return "maintenance";
	}
	return "unknown";
}

int
hoststate_parse(const char *s, enum host_state *out)
{
	enum host_state v;

	for (v = HOST_ACTIVE; v <= HOST_MAINTENANCE; v++)
		if (strcmp(s, hoststate_str(v)) == 0) {
			*out = v;
			return 0;
		}
	return XMIG_ERR_INVALID;
}

const char *
pin_mode_str(enum pin_mode m)
{
	return m == PIN_AUTO ? "auto" : m == PIN_ALL ? "all" : NULL;
}

int
pin_line_parse(const char *line, struct pin *out)
{
	char name[80], uuid[40], mode[8], extra[2];

	memset(out, 0, sizeof(*out));
	if (sscanf(line, "%79s %39s %7s %1s", name, uuid, mode, extra) != 3)
		return XMIG_ERR_INVALID;
	if (strlen(name) >= sizeof(out->name) || uuid_parse(uuid, out->uuid) != 0)
		return XMIG_ERR_INVALID;
	if (strcmp(mode, "auto") == 0)
		out->mode = PIN_AUTO;
	else if (strcmp(mode, "all") == 0)
		out->mode = PIN_ALL;
	else
		return XMIG_ERR_INVALID;
	strlcpy_x(out->name, name, sizeof(out->name));
	return 0;
}

int
hoststate_line_parse(const char *line, enum host_state *st, char *reason, size_t rlen)
{
	char word[40];
	int off = 0;
	size_t n;

	if (sscanf(line, "%39s%n", word, &off) != 1 || hoststate_parse(word, st) != 0)
		return XMIG_ERR_INVALID;
	line += off;
	line += strspn(line, " \t");
	strlcpy_x(reason, line, rlen);
	n = strlen(reason);
	while (n > 0 && (reason[n - 1] == '\n' || reason[n - 1] == '\r'))
		reason[--n] = '\0';
	return 0;
}

int
hoststate_init(const char *state_dir, char *err, size_t errlen)
{
	char line[400];
	FILE *f;

	free(hs_pins);	/* a second init reloads from disk */
	hs_pins = NULL;
	hs_npins = 0;
	hs_state = HOST_ACTIVE;
	hs_reason[0] = '\0';
	snprintf(hs_state_path, sizeof(hs_state_path), "%s/host-state", state_dir);
	snprintf(hs_pins_path, sizeof(hs_pins_path), "%s/pins", state_dir);
	if ((f = fopen(hs_state_path, "re")) != NULL) {
		if (fgets(line, sizeof(line), f) == NULL ||
		    hoststate_line_parse(line, &hs_state, hs_reason, sizeof(hs_reason)) != 0) {
			fclose(f);
			snprintf(err, errlen, "%s: not a host state", hs_state_path);
			return XMIG_ERR_INVALID;
		}
		fclose(f);
	}
	if ((f = fopen(hs_pins_path, "re")) != NULL) {
		unsigned lineno = 0;

		while (fgets(line, sizeof(line), f) != NULL) {
			struct pin p, *np;

			lineno++;
			if (line[0] == '#' || line[strspn(line, " \t\n")] == '\0')
				continue;
			if (pin_line_parse(line, &p) != 0) {
				snprintf(err, errlen, "%s:%u: expected NAME UUID auto|all",
				    hs_pins_path, lineno);
				fclose(f);
				return XMIG_ERR_INVALID;
			}
			if (hs_npins >= HOSTSTATE_PINS_MAX ||
			    (np = realloc(hs_pins, (hs_npins + 1) * sizeof(*np))) == NULL) {
				snprintf(err, errlen, "%s: too many pins", hs_pins_path);
				fclose(f);
				return XMIG_ERR_NO_SPACE;
			}
			hs_pins = np;
			hs_pins[hs_npins++] = p;
		}
		fclose(f);
	}
	return 0;
}

enum host_state
hoststate_get(char *reason, size_t rlen)
{
	enum host_state s;

	pthread_mutex_lock(&hs_lock);
	s = hs_state;
	if (reason != NULL)
		strlcpy_x(reason, hs_reason, rlen);
	pthread_mutex_unlock(&hs_lock);
	return s;
}

int
hoststate_set(enum host_state s, const char *reason)
{
	char line[HOSTSTATE_REASON_MAX + 64], clean[HOSTSTATE_REASON_MAX];
	size_t i;
	int r;

	/* One line on disk: control characters become spaces. */
	strlcpy_x(clean, reason ? reason : "", sizeof(clean));
	for (i = 0; clean[i]; i++)
		if ((unsigned char)clean[i] < 0x20)
			clean[i] = ' ';
	snprintf(line, sizeof(line), "%s%s%s\n", hoststate_str(s), clean[0] ? " " : "", clean);
	pthread_mutex_lock(&hs_lock);
	if ((r = write_file_atomic(hs_state_path, line)) == 0) {
		hs_state = s;
		strlcpy_x(hs_reason, clean, sizeof(hs_reason));
	}
	pthread_mutex_unlock(&hs_lock);
	return r;
}

static const uint8_t hs_nil_uuid[16];

static ssize_t
pins_find(const char *name, const uint8_t uuid[16])
{
	size_t i;

	if (uuid != NULL && memcmp(uuid, hs_nil_uuid, 16) != 0)
		for (i = 0; i < hs_npins; i++)
			if (memcmp(hs_pins[i].uuid, uuid, 16) == 0)
				return (ssize_t)i;
	for (i = 0; i < hs_npins; i++)
		if (strcmp(hs_pins[i].name, name) == 0)
			return (ssize_t)i;
	return -1;
}

enum pin_mode
pins_lookup(const char *name, const uint8_t uuid[16])
{
	enum pin_mode m;
	ssize_t k;

	pthread_mutex_lock(&hs_lock);
	k = pins_find(name, uuid);
	m = k < 0 ? PIN_NONE : hs_pins[k].mode;
	pthread_mutex_unlock(&hs_lock);
	return m;
}

static int
pins_save(void)
{
	size_t i, cap = 64 + hs_npins * 128, len = 0;
	char *text = malloc(cap), uuid[37];
	int r;

	if (text == NULL)
		return XMIG_ERR_NOMEM;
	len += (size_t)snprintf(text, cap, "# NAME UUID auto|all (written by xmigd)\n");
	for (i = 0; i < hs_npins; i++) {
		uuid_format(hs_pins[i].uuid, uuid);
		len += (size_t)snprintf(text + len, cap - len, "%s %s %s\n", hs_pins[i].name,
		    uuid, pin_mode_str(hs_pins[i].mode));
	}
	r = write_file_atomic(hs_pins_path, text);
	free(text);
	return r;
}

int
pins_set(const char *name, const uint8_t uuid[16], enum pin_mode mode)
{
	struct pin old, *np;
	ssize_t k;
	int r = 0;

	if (strlen(name) >= sizeof(old.name))
		return XMIG_ERR_INVALID;
	pthread_mutex_lock(&hs_lock);
	k = pins_find(name, uuid);
	if (mode == PIN_NONE) {
		if (k < 0) {
			r = XMIG_ERR_NOT_FOUND;
		} else {
			old = hs_pins[k];
			hs_pins[k] = hs_pins[--hs_npins];
			if ((r = pins_save()) != 0)
				hs_pins[hs_npins++] = old;	/* memory still holds it */
		}
	} else if (k >= 0) {
		old = hs_pins[k];
		strlcpy_x(hs_pins[k].name, name, sizeof(hs_pins[k].name));
		memcpy(hs_pins[k].uuid, uuid, 16);
		hs_pins[k].mode = mode;
		if ((r = pins_save()) != 0)
			hs_pins[k] = old;
	} else if (hs_npins >= HOSTSTATE_PINS_MAX) {
		r = XMIG_ERR_NO_SPACE;
	} else if ((np = realloc(hs_pins, (hs_npins + 1) * sizeof(*np))) == NULL) {
		r = XMIG_ERR_NOMEM;
	} else {
		hs_pins = np;
		memset(&hs_pins[hs_npins], 0, sizeof(hs_pins[0]));
		strlcpy_x(hs_pins[hs_npins].name, name, sizeof(hs_pins[0].name));
		memcpy(hs_pins[hs_npins].uuid, uuid, 16);
		hs_pins[hs_npins].mode = mode;
		hs_npins++;
		if ((r = pins_save()) != 0)
			hs_npins--;
	}
	pthread_mutex_unlock(&hs_lock);
	return r;
}
