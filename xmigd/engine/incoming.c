/* engine/incoming.c - what the receiving side must remember across a crash.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/incoming.h"
#include "engine/engine_int.h"
#include "log.h"
#include "util.h"
#include "xerr.h"

#define STATE_KEEP_DAYS 30
#define STATE_PRUNE_EVERY 256

static char state_incoming[1100];
static atomic_uint state_writes;

static int state_read(const char *path, struct state_rec *rec);

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
		char path[1400];
		struct state_rec rec;
		struct stat st;

		if (strlen(de->d_name) != 32)
			continue;
		snprintf(path, sizeof(path), "%s/%s", state_incoming, de->d_name);
		if (stat(path, &st) != 0 || now - st.st_mtime < max_age ||
		    state_read(path, &rec) != 0 || strcmp(rec.outcome, "building") == 0)
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

/* The record's one line: outcome domid name uuid peer. */
static int
state_format(const struct state_rec *r, char *line, size_t len)
{
	char uuid[33];
	int n;

	state_token_hex(r->uuid, uuid);
	n = snprintf(line, len, "%s %u %s %s %s\n", r->outcome, r->domid, r->name, uuid,
	    r->peer[0] != '\0' ? r->peer : "-");
	return n < 0 || (size_t)n >= len ? XMIG_ERR_TOO_LONG : 0;
}

static void
state_pruning(void)
{
	if ((atomic_fetch_add(&state_writes, 1) + 1) % STATE_PRUNE_EVERY == 0)
		state_prune((time_t)STATE_KEEP_DAYS * 86400);
}

int
state_create(const uint8_t token[16], const struct state_rec *rec)
{
	char line[STATE_LINE_MAX], path[1200];
	int r;

	if ((r = state_format(rec, line, sizeof(line))) != 0)
		return r;
	state_pruning();
	state_path(token, path, sizeof(path));
	/* Of two PREPAREs with one token exactly one gets the record, and an
	 * existing record (in any state) is never replaced. */
	return write_file_new(path, line);
}

int
state_update(const uint8_t token[16], const struct state_rec *rec)
{
	char line[STATE_LINE_MAX];
	int r;

	if ((r = state_format(rec, line, sizeof(line))) != 0)
		return r;
	state_pruning();
	return state_write_line(state_incoming, token, line);
}

/* Records written before uuid and peer were kept have three fields; they
 * read back with a zero uuid and no peer, which no QUERY matches. */
static int
state_read(const char *path, struct state_rec *rec)
{
	char line[STATE_LINE_MAX], o[16], n[PROTO_NAME_MAX], u[33] = "", p[STATE_PEER_MAX] = "";
	unsigned id;
	FILE *f = fopen(path, "re");
	int k = 0;

	memset(rec, 0, sizeof(*rec));
	if (f == NULL)
		return XMIG_ERR_NOT_FOUND;
	if (fgets(line, sizeof(line), f) != NULL)
		k = sscanf(line, "%15s %u %63s %32s %199s", o, &id, n, u, p);
	fclose(f);
	if (k != 3 && k != 5)
		return XMIG_ERR_INVALID;
	if (k == 5 && (state_token_parse(u, rec->uuid) != 0))
		return XMIG_ERR_INVALID;
	strlcpy_x(rec->outcome, o, sizeof(rec->outcome));
	rec->domid = id;
	strlcpy_x(rec->name, n, sizeof(rec->name));
	if (k == 5 && strcmp(p, "-") != 0)
		strlcpy_x(rec->peer, p, sizeof(rec->peer));
	return 0;
}

int
state_lookup(const uint8_t token[16], struct state_rec *rec)
{
	char path[1200];

	state_path(token, path, sizeof(path));
	return state_read(path, rec);
}

/* Receiving side after a crash.  Only domains a record names are touched:
 * a committed one still paused is started, a half-built one (the record
 * says building, the domain still carries the incoming suffix and the
 * record's uuid) is destroyed.  A domain that merely looks like a leftover
 * is reported, never destroyed: its name proves nothing. */
void
state_reconcile(struct xmigd *d)
{
	struct hv *hv = d->hv;
	struct hv_dominfo *doms = NULL;
	struct dirent *de;
	size_t n = 0, i;
	DIR *dir;

	state_prune((time_t)STATE_KEEP_DAYS * 86400);
	if (hv->ops->list(hv, &doms, &n) != 0)
		return;
	if ((dir = opendir(state_incoming)) != NULL) {
		while ((de = readdir(dir)) != NULL) {
			char path[1400], incoming[HV_NAME_MAX];
			struct state_rec rec;
			uint8_t tok[16];
			bool building;

			if (strlen(de->d_name) != 32 || state_token_parse(de->d_name, tok) != 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s", state_incoming, de->d_name);
			if (state_read(path, &rec) != 0)
				continue;
			building = strcmp(rec.outcome, "building") == 0;
			if (!building && strcmp(rec.outcome, "committed") != 0)
				continue;
			engine_decorate(incoming, sizeof(incoming), rec.name, SUFFIX_INCOMING);
			for (i = 0; i < n; i++) {
				struct hv_dominfo *di = &doms[i];

				/* The record's domain: its uuid, and its id once the
				 * record has one (Xen reuses ids). */
				if (memcmp(di->uuid, rec.uuid, 16) != 0 ||
				    (rec.domid != 0 && di->id != rec.domid))
					continue;
				if (!building && (di->state == HV_PAUSED ||
				    di->state == HV_SUSPENDED)) {
					log_warn("reconcile: %s (id %u) was committed but left "
					    "paused: starting it", rec.name, di->id);
					if (strcmp(di->name, rec.name) != 0 &&
					    hv->ops->rename(hv, di->id, rec.name) == 0)
						strlcpy_x(di->name, rec.name, sizeof(di->name));
					hv->ops->unpause(hv, di->id);
				} else if (building && strcmp(di->name, incoming) == 0 &&
				    di->state != HV_RUNNING) {
					log_warn("reconcile: destroying %s (id %u), an interrupted "
					    "incoming migration", di->name, di->id);
					hv->ops->destroy(hv, di->id);
					di->name[0] = '\0';	/* gone: not reported below */
				}
			}
			if (building) {
				/* Whatever was built is gone now: the sender's QUERY
				 * learns "aborted". */
				strlcpy_x(rec.outcome, "aborted", sizeof(rec.outcome));
				state_update(tok, &rec);
			}
		}
		closedir(dir);
	}
	for (i = 0; i < n; i++) {
		if (strstr(doms[i].name, SUFFIX_INCOMING) != NULL && doms[i].state != HV_RUNNING)
			log_warn("domain %s (id %u) looks like a leftover incoming migration, but "
			    "no record of this host names it: left alone; destroy it if it is one",
			    doms[i].name, doms[i].id);
		else if (strstr(doms[i].name, SUFFIX_MIGRATED) != NULL)
			log_warn("domain %s (id %u) is the paused source copy of a migration "
			    "whose outcome this host did not learn: check the destination, then "
			    "destroy or rename and unpause it", doms[i].name, doms[i].id);
	}
	free(doms);
}
