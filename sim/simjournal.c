/* simjournal.c - the sim's journal of domain state changes (simjournal.h)
 * and the check that no two copies of a guest ever ran at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "simjournal.h"
#include "util.h"

/* ---- writing ---- */

void
simjournal_open(struct simjournal *j, const char *root)
{
	char path[PATH_MAX + 16];

	j->fd = -1;
	/* The real path: two names of one root are one host. */
	if (realpath(root, j->root) == NULL)
		strlcpy_x(j->root, root, sizeof(j->root));
	if (strchr(j->root, '\n') != NULL)
		return;		/* would break the line format */
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", j->root, SIMJOURNAL_FILE) >= sizeof(path))
		return;
	j->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
}

void
simjournal_close(struct simjournal *j)
{
	int e = errno;

	if (j->fd >= 0)
		close(j->fd);
	j->fd = -1;
	errno = e;
}

uint64_t
simjournal_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int
simjournal_append(struct simjournal *j, uint64_t ts, const char *event,
    const uint8_t uuid[16], uint32_t domid, const char *name, const char *extra)
{
	char line[PATH_MAX + 512], u[37], nm[80];
	size_t i;
	ssize_t w;
	int n, e = errno;

	if (j->fd < 0)
		return -1;
	uuid_format(uuid, u);
	/* The name may be read while a rename writes it: keep it one word. */
	for (i = 0; i + 1 < sizeof(nm) && name[i] != '\0' && i < 63; i++)
		nm[i] = (name[i] > ' ' && name[i] < 0x7f) ? name[i] : '?';
	nm[i] = '\0';
	if (i == 0)
		strcpy(nm, "?");
	n = snprintf(line, sizeof(line), "%" PRIu64 " %s uuid=%s id=%u pid=%d name=%s%s%s root=%s\n",
	    ts, event, u, domid, (int)getpid(), nm, extra ? " " : "", extra ? extra : "", j->root);
	if (n < 0 || (size_t)n >= sizeof(line))
		return -1;
	/* One write to an O_APPEND file: the line lands whole, after every
	 * other writer's.  No retry on a short write: a retried tail could
	 * land after another writer's line. */
	w = write(j->fd, line, (size_t)n);
	errno = e;
	return w == n ? 0 : -1;
}

/* ---- checking ---- */

enum jev_kind { JEV_INFO, JEV_RUN, JEV_STOP };

struct jev {
	uint64_t ts;
	size_t file, line;	/* for a stable order of equal timestamps */
	enum jev_kind kind;
	char event[16];
	char uuid[37];
	uint32_t domid;
	char name[64];
	char *root;		/* owned */
};

struct jcopy {
	const char *root;
	const char *uuid;	/* of its first event */
	uint32_t domid;
	bool running;
	size_t run_ev;		/* the event that opened the running interval */
};

struct jint {
	const struct jev *start, *end;	/* end NULL: still running */
	size_t copy;
};

struct jstate {
	struct jev *ev;
	size_t nev, capev;
	struct jcopy *copies;
	size_t ncopies, capcopies;
	struct jint *ints;
	size_t nints, capints;
};

static bool
jgrow(void **v, size_t *cap, size_t n, size_t size)
{
	size_t c;
	void *p;

	if (n < *cap)
		return true;
	c = *cap ? *cap * 2 : 64;
	if ((p = realloc(*v, c * size)) == NULL)
		return false;
	*v = p;
	*cap = c;
	return true;
}

/* Copy the value of "KEY=" at *p (one word) into out; advance *p. */
static bool
jfield(char **p, const char *key, char *out, size_t outlen)
{
	size_t kl = strlen(key), n;
	char *s = *p;

	if (strncmp(s, key, kl) != 0)
		return false;
	s += kl;
	n = strcspn(s, " ");
	if (n == 0 || n >= outlen)
		return false;
	memcpy(out, s, n);
	out[n] = '\0';
	*p = s + n + (s[n] == ' ');
	return true;
}

static bool
jparse(char *line, struct jev *e)
{
	static const char *const run[] = { "run" };
	static const char *const stop[] = { "pause", "suspend", "shutdown", "exit", "destroy" };
	static const char *const info[] = { "create", "boot" };
	char num[24], *p = line, *end;
	uint64_t v;
	size_t i;

	memset(e, 0, sizeof(*e));
	if (!jfield(&p, "", num, sizeof(num)))
		return false;
	errno = 0;
	e->ts = strtoull(num, &end, 10);
	if (*end != '\0' || errno != 0 || num[0] < '0' || num[0] > '9')
		return false;
	if (!jfield(&p, "", e->event, sizeof(e->event)))
		return false;
	e->kind = (enum jev_kind)-1;
	for (i = 0; i < sizeof(run) / sizeof(run[0]); i++)
		if (strcmp(e->event, run[i]) == 0)
			e->kind = JEV_RUN;
	for (i = 0; i < sizeof(stop) / sizeof(stop[0]); i++)
		if (strcmp(e->event, stop[i]) == 0)
			e->kind = JEV_STOP;
	for (i = 0; i < sizeof(info) / sizeof(info[0]); i++)
		if (strcmp(e->event, info[i]) == 0)
			e->kind = JEV_INFO;
	if ((int)e->kind == -1)
		return false;
	if (!jfield(&p, "uuid=", e->uuid, sizeof(e->uuid)) || strlen(e->uuid) != 36 ||
	    !jfield(&p, "id=", num, sizeof(num)) || parse_u64(num, 0, UINT32_MAX, &v) != 0 ||
	    !jfield(&p, "pid=", num, sizeof(num)) || !jfield(&p, "name=", e->name, sizeof(e->name)))
		return false;
	e->domid = (uint32_t)v;
	/* Other KEY=VALUE words, then root= and the rest of the line. */
	while (strncmp(p, "root=", 5) != 0) {
		size_t n = strcspn(p, " ");

		if (p[n] != ' ' || memchr(p, '=', n) == NULL)
			return false;
		p += n + 1;
	}
	p += 5;
	if (*p == '\0' || (e->root = strdup(p)) == NULL)
		return false;
	return true;
}

static int
jread(struct jstate *s, const char *path, size_t fileno, FILE *out)
{
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t n;
	int r = 0;
	FILE *f;

	if ((f = fopen(path, "re")) == NULL) {
		fprintf(out, "journal-check: %s: %s\n", path, strerror(errno));
		return 2;
	}
	while ((n = getline(&line, &cap, f)) >= 0) {
		lineno++;
		if (n == 0 || line[n - 1] != '\n') {
			fprintf(out, "journal-check: %s:%zu: incomplete last line\n", path, lineno);
			r = 2;
			break;
		}
		line[n - 1] = '\0';
		if (!jgrow((void **)&s->ev, &s->capev, s->nev, sizeof(*s->ev))) {
			fprintf(out, "journal-check: out of memory\n");
			r = 2;
			break;
		}
		if (!jparse(line, &s->ev[s->nev])) {
			fprintf(out, "journal-check: %s:%zu: malformed line: %s\n", path, lineno, line);
			free(s->ev[s->nev].root);
			r = 2;
			break;
		}
		s->ev[s->nev].file = fileno;
		s->ev[s->nev].line = lineno;
		s->nev++;
	}
	if (r == 0 && ferror(f)) {
		fprintf(out, "journal-check: %s: %s\n", path, strerror(errno));
		r = 2;
	}
	free(line);
	fclose(f);
	return r;
}

static int
jev_cmp(const void *a, const void *b)
{
	const struct jev *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

static size_t
jcopy_of(struct jstate *s, const struct jev *e)
{
	size_t i;

	for (i = 0; i < s->ncopies; i++)
		if (s->copies[i].domid == e->domid && strcmp(s->copies[i].root, e->root) == 0)
			return i;
	if (!jgrow((void **)&s->copies, &s->capcopies, s->ncopies, sizeof(*s->copies)))
		return SIZE_MAX;
	s->copies[i].root = e->root;
	s->copies[i].uuid = e->uuid;
	s->copies[i].domid = e->domid;
	s->copies[i].running = false;
	s->ncopies++;
	return i;
}

static bool
jint_add(struct jstate *s, size_t copy, const struct jev *start, const struct jev *end)
{
	if (!jgrow((void **)&s->ints, &s->capints, s->nints, sizeof(*s->ints)))
		return false;
	s->ints[s->nints].start = start;
	s->ints[s->nints].end = end;
	s->ints[s->nints].copy = copy;
	s->nints++;
	return true;
}

/* By start, then by uuid: the pair loop stops at the first interval that
 * starts after the current one ended. */
static int
jint_cmp(const void *a, const void *b)
{
	const struct jint *x = a, *y = b;

	if (x->start->ts != y->start->ts)
		return x->start->ts < y->start->ts ? -1 : 1;
	return jev_cmp(x->start, y->start);
}

static void
jprint_int(FILE *out, const struct jint *in, uint64_t t0)
{
	const struct jev *a = in->start, *b = in->end;

	fprintf(out, "  copy id %u (%s) on %s: running from %.6f s (%" PRIu64 ", run)",
	    a->domid, a->name, a->root, (double)(a->ts - t0) / 1e9, a->ts);
	if (b != NULL)
		fprintf(out, " to %.6f s (%" PRIu64 ", %s)\n", (double)(b->ts - t0) / 1e9, b->ts,
		    b->event);
	else
		fprintf(out, " to the end of the journal (still running)\n");
}

int
simjournal_check(const char *const *paths, size_t n, FILE *out)
{
	struct jstate s;
	size_t i, k, overlaps = 0, guests = 0;
	uint64_t t0;
	int r = 0;

	memset(&s, 0, sizeof(s));
	for (i = 0; i < n && r == 0; i++)
		r = jread(&s, paths[i], i, out);
	if (r != 0)
		goto out;
	if (s.nev > 1)
		qsort(s.ev, s.nev, sizeof(*s.ev), jev_cmp);
	t0 = s.nev ? s.ev[0].ts : 0;
	/* The running intervals of every copy, in time order. */
	for (i = 0; i < s.nev && r == 0; i++) {
		const struct jev *e = &s.ev[i];
		size_t c = jcopy_of(&s, e);

		if (c == SIZE_MAX) {
			r = 2;
			break;
		}
		if (e->kind == JEV_RUN && !s.copies[c].running) {
			s.copies[c].running = true;
			s.copies[c].run_ev = i;
		} else if (e->kind == JEV_STOP && s.copies[c].running) {
			s.copies[c].running = false;
			if (!jint_add(&s, c, &s.ev[s.copies[c].run_ev], e))
				r = 2;
		}
	}
	for (k = 0; k < s.ncopies && r == 0; k++)
		if (s.copies[k].running && !jint_add(&s, k, &s.ev[s.copies[k].run_ev], NULL))
			r = 2;
	if (r != 0) {
		fprintf(out, "journal-check: out of memory\n");
		goto out;
	}
	/* Every pair of intervals of one guest, of different copies, that
	 * overlap: by start, so b starts no earlier than a and they overlap
	 * when b starts before a ends. */
	if (s.nints > 1)
		qsort(s.ints, s.nints, sizeof(*s.ints), jint_cmp);
	for (i = 0; i < s.nints; i++) {
		const struct jint *a = &s.ints[i];
		uint64_t ae = a->end ? a->end->ts : UINT64_MAX;

		for (k = i + 1; k < s.nints && s.ints[k].start->ts < ae; k++) {
			const struct jint *b = &s.ints[k];
			uint64_t be = b->end ? b->end->ts : UINT64_MAX, from, to;

			if (a->copy == b->copy || strcmp(a->start->uuid, b->start->uuid) != 0)
				continue;
			from = a->start->ts > b->start->ts ? a->start->ts : b->start->ts;
			to = ae < be ? ae : be;
			fprintf(out, "OVERLAP: two copies of guest %s ran at once, ", a->start->uuid);
			if (to == UINT64_MAX)
				fprintf(out, "from %.6f s to the end of the journal:\n",
				    (double)(from - t0) / 1e9);
			else
				fprintf(out, "for %.3f ms (from %.6f s to %.6f s):\n",
				    (double)(to - from) / 1e6, (double)(from - t0) / 1e9,
				    (double)(to - t0) / 1e9);
			jprint_int(out, a, t0);
			jprint_int(out, b, t0);
			overlaps++;
		}
	}
	for (i = 0; i < s.ncopies; i++) {
		for (k = 0; k < i; k++)
			if (strcmp(s.copies[k].uuid, s.copies[i].uuid) == 0)
				break;
		guests += k == i;
	}
	fprintf(out, "journal-check: %zu events, %zu guests, %zu copies, %zu running intervals: %s\n",
	    s.nev, guests, s.ncopies, s.nints,
	    overlaps ? "OVERLAP (two copies of a guest ran at once)"
	    : "no two copies of a guest ran at once");
	r = overlaps ? 1 : 0;
out:
	for (i = 0; i < s.nev; i++)
		free(s.ev[i].root);
	free(s.ev);
	free(s.copies);
	free(s.ints);
	return r;
}
