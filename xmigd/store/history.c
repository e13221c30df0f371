/* store/history.c - records of finished jobs in STATE_DIR/jobs (see store/history.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/history.h"
#include "log.h"
#include "util.h"
#include "xerr.h"

static pthread_mutex_t history_mu = PTHREAD_MUTEX_INITIALIZER;
static char history_dir[1100];

int
history_init(const char *state_dir, char *err, size_t errlen)
{
	char dir[sizeof(history_dir)];

	if ((size_t)snprintf(dir, sizeof(dir), "%s/jobs", state_dir) >= sizeof(dir)) {
		snprintf(err, errlen, "state-dir %s: path too long for the job history", state_dir);
		return XMIG_ERR_TOO_LONG;
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s for the job history: %s", dir,
		    strerror(errno));
		return XMIG_ERR_SYSTEM;
	}
	pthread_mutex_lock(&history_mu);
	strlcpy_x(history_dir, dir, sizeof(history_dir));
	pthread_mutex_unlock(&history_mu);
	return 0;
}

static bool
history_name_ok(const char *name)
{
	size_t n = strlen(name);

	return n > 5 && n < 64 && strcmp(name + n - 5, ".json") == 0 && name[0] >= '0' &&
	    name[0] <= '9';
}

static int
history_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The record names in dir, sorted (oldest first: names start with the
 * zero-padded start time).  Caller holds history_mu. */
static char **
history_names(const char *dir, size_t *count)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;

	*count = 0;
	if (d == NULL)
		return NULL;
	while ((de = readdir(d)) != NULL) {
		if (!history_name_ok(de->d_name))
			continue;
		if (n == cap) {
			char **nn = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof(*names));

			if (nn == NULL)
				break;
			names = nn;
		}
		if ((names[n] = strdup(de->d_name)) == NULL)
			break;
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), history_cmp);
	*count = n;
	return names;
}

static void
history_free_names(char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

void
history_record(uint64_t id, uint64_t started_wall_ms, json_t *o)
{
	char path[sizeof(history_dir) + 64], tmp[sizeof(path) + 8];
	char **names;
	size_t n, i;
	int fd = -1, r;

	pthread_mutex_lock(&history_mu);
	if (history_dir[0] == '\0')
		goto out;
	if (o == NULL)
		goto out;
	snprintf(path, sizeof(path), "%s/%013llu-%llu.json", history_dir,
	    (unsigned long long)started_wall_ms, (unsigned long long)id);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0 ||
	    json_dumpfd(o, fd, JSON_COMPACT) != 0 || write(fd, "\n", 1) != 1 ||
	    fsync(fd) != 0) {
		r = errno;
		jlog(LOG_LVL_WARN, id, "cannot write the job record %s: %s", tmp, strerror(r));
		if (fd >= 0)
			close(fd);
		unlink(tmp);
		goto out;
	}
	close(fd);
	if (rename(tmp, path) != 0) {
		jlog(LOG_LVL_WARN, id, "cannot write the job record %s: %s", path,
		    strerror(errno));
		unlink(tmp);
		goto out;
	}
	/* Keep the most recent HISTORY_KEEP. */
	names = history_names(history_dir, &n);
	for (i = 0; n > HISTORY_KEEP && i < n - HISTORY_KEEP; i++) {
		snprintf(path, sizeof(path), "%s/%s", history_dir, names[i]);
		unlink(path);
	}
	history_free_names(names, n);
out:
	pthread_mutex_unlock(&history_mu);
}

json_t *
history_list(size_t max)
{
	char path[sizeof(history_dir) + 64];
	json_t *a = json_array();
	char **names;
	size_t n, i;

	if (a == NULL)
		return NULL;
	pthread_mutex_lock(&history_mu);
	if (history_dir[0] == '\0') {
		pthread_mutex_unlock(&history_mu);
		return a;
	}
	names = history_names(history_dir, &n);
	for (i = n > max ? n - max : 0; i < n; i++) {
		json_error_t je;
		json_t *o;
		FILE *f;

		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", history_dir, names[i]);
		/* A record is ours, but bound what a damaged file can cost. */
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > HISTORY_RECORD_MAX ||
		    (f = fopen(path, "re")) == NULL)
			continue;
		o = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
		if (o != NULL && json_is_object(o))
			json_array_append_new(a, o);
		else
			json_decref(o);
		fclose(f);
	}
	history_free_names(names, n);
	pthread_mutex_unlock(&history_mu);
	return a;
}
