/* state.c - what the receiving side must remember across a crash.
 *
 * One small file per incoming job, STATE_DIR/incoming/<token>, holding
 * "outcome domid name".  "committed" is written (and synced) before the new
 * domain is unpaused, so the sender's QUERY never hears "unknown" about a
 * guest that already ran here.  Settled records (committed, aborted) are
 * kept STATE_KEEP_DAYS, long enough for any sender's reconcile to ask, then
 * removed at start-up and every STATE_PRUNE_EVERY records.
 */
#include <dirent.h>
#include <stdatomic.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "engine_int.h"
#include "log.h"
#include "util.h"
#include "xerr.h"

#define STATE_KEEP_DAYS 30
#define STATE_PRUNE_EVERY 256

static char state_incoming[1100];
static atomic_uint state_writes;

static int state_read(const char *path, char *outcome, size_t olen, uint32_t *domid,
    char *name, size_t nlen);

/* Remove settled records older than max_age seconds; "building" ones stay
 * (a crash left them: start-up reconcile turns them into "aborted"). */
static void
state_prune(time_t max_age)
{
	time_t now = time(NULL);
	struct dirent *de;
	unsigned n = 0;
	DIR *dir;

	if ((dir = opendir(state_incoming)) == NULL)
		return;
	while ((de = readdir(dir)) != NULL) {
		char path[1400], outcome[16], name[80];
		struct stat st;
		uint32_t domid;

		if (strlen(de->d_name) != 32)
			continue;
		snprintf(path, sizeof(path), "%s/%s", state_incoming, de->d_name);
		if (stat(path, &st) != 0 || now - st.st_mtime < max_age ||
		    state_read(path, outcome, sizeof(outcome), &domid, name, sizeof(name)) != 0 ||
		    strcmp(outcome, "building") == 0)
			continue;
		if (unlink(path) == 0)
			n++;
	}
	closedir(dir);
	if (n > 0)
		log_verbose("removed %u incoming records older than %d days", n, STATE_KEEP_DAYS);
}

int
state_init(const char *state_dir, char *err, size_t errlen)
{
	snprintf(state_incoming, sizeof(state_incoming), "%s/incoming", state_dir);
	if (mkdir_p(state_incoming, 0700) != 0) {
		snprintf(err, errlen, "state-dir %s: %s", state_dir, strerror(errno));
		return XMIG_ERR_SYSTEM;
	}
	return 0;
}

void
state_token_hex(const uint8_t token[16], char hex[33])
{
	int i;

	for (i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", token[i]);
}

int
state_token_parse(const char *hex, uint8_t token[16])
{
	int k;

	if (strlen(hex) != 32)
		return XMIG_ERR_INVALID;
	for (k = 0; k < 16; k++) {
		unsigned v;

		if (sscanf(hex + 2 * k, "%2x", &v) != 1)
			return XMIG_ERR_INVALID;
		token[k] = (uint8_t)v;
	}
	return 0;
}

static void
state_path(const uint8_t token[16], char *out, size_t outlen)
{
	char hex[33];

	state_token_hex(token, hex);
	snprintf(out, outlen, "%s/%s", state_incoming, hex);
}

int
state_write_line(const char *dir, const uint8_t token[16], const char *line)
{
	char hex[33], path[1200];

	state_token_hex(token, hex);
	snprintf(path, sizeof(path), "%s/%s", dir, hex);
	return write_file_atomic(path, line);
}

int
state_record(const uint8_t token[16], const char *outcome, uint32_t domid, const char *name)
{
	char line[160];

	snprintf(line, sizeof(line), "%s %u %s\n", outcome, domid, name);
	if ((atomic_fetch_add(&state_writes, 1) + 1) % STATE_PRUNE_EVERY == 0)
		state_prune((time_t)STATE_KEEP_DAYS * 86400);
	return state_write_line(state_incoming, token, line);
}

static int
state_read(const char *path, char *outcome, size_t olen, uint32_t *domid, char *name,
    size_t nlen)
{
	char line[160], o[16], n[80];
	unsigned id;
	FILE *f = fopen(path, "re");
	int ok;

	if (f == NULL)
		return XMIG_ERR_NOT_FOUND;
	ok = fgets(line, sizeof(line), f) != NULL &&
	    sscanf(line, "%15s %u %79s", o, &id, n) == 3;
	fclose(f);
	if (!ok)
		return XMIG_ERR_INVALID;
	strlcpy_x(outcome, o, olen);
	*domid = id;
	strlcpy_x(name, n, nlen);
	return 0;
}

const char *
state_lookup(const uint8_t token[16], char *buf, size_t buflen)
{
	char path[1200], name[80];
	uint32_t domid;

	state_path(token, path, sizeof(path));
	if (state_read(path, buf, buflen, &domid, name, sizeof(name)) != 0)
		return NULL;
	return buf;
}

/* Receiving side after a crash: a committed domain still paused is started,
 * a half-built one is destroyed, and nothing named *--incoming survives
 * without a record that says it was committed. */
void
state_reconcile(struct xmigd *d)
{
	struct hv *hv = d->hv;
	struct hv_dominfo *doms = NULL;
	struct dirent *de;
	size_t n = 0, i;
	DIR *dir;

	state_prune((time_t)STATE_KEEP_DAYS * 86400);
	if ((dir = opendir(state_incoming)) != NULL) {
		while ((de = readdir(dir)) != NULL) {
			char path[1400], outcome[16], name[80];
			struct hv_dominfo di;
			uint32_t domid;
			char id[16];

			if (strlen(de->d_name) != 32)
				continue;
			snprintf(path, sizeof(path), "%s/%s", state_incoming, de->d_name);
			if (state_read(path, outcome, sizeof(outcome), &domid, name,
			    sizeof(name)) != 0 || domid == 0)
				continue;
			snprintf(id, sizeof(id), "%u", domid);
			if (hv->ops->lookup(hv, id, &di) != 0)
				continue;
			if (strcmp(outcome, "committed") == 0 &&
			    (di.state == HV_PAUSED || di.state == HV_SUSPENDED)) {
				log_warn("reconcile: %s (id %u) was committed but left paused: "
				    "starting it", name, domid);
				if (strcmp(di.name, name) != 0)
					hv->ops->rename(hv, domid, name);
				hv->ops->unpause(hv, domid);
			} else if (strcmp(outcome, "building") == 0 &&
			    strstr(di.name, SUFFIX_INCOMING) != NULL) {
				log_warn("reconcile: destroying %s (id %u), an interrupted "
				    "incoming migration", di.name, domid);
				hv->ops->destroy(hv, domid);
				/* The record keeps the name; the outcome is what counts. */
				{
					uint8_t tok[16];

					if (state_token_parse(de->d_name, tok) == 0)
						state_record(tok, "aborted", domid, name);
				}
			}
		}
		closedir(dir);
	}
	if (hv->ops->list(hv, &doms, &n) != 0)
		return;
	for (i = 0; i < n; i++) {
		if (strstr(doms[i].name, SUFFIX_INCOMING) != NULL &&
		    doms[i].state != HV_RUNNING) {
			log_warn("reconcile: destroying %s (id %u), left by an interrupted "
			    "incoming migration", doms[i].name, doms[i].id);
			hv->ops->destroy(hv, doms[i].id);
		} else if (strstr(doms[i].name, SUFFIX_MIGRATED) != NULL) {
			log_warn("domain %s (id %u) is the paused source copy of a migration "
			    "whose outcome this host did not learn: check the destination, then "
			    "destroy or rename and unpause it", doms[i].name, doms[i].id);
		}
	}
	free(doms);
}
