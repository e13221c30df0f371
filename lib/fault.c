/* fault.c - XMIG_FAULT parsing and the actions of the injection points. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fault.h"
#include "log.h"
#include "xerr.h"

static pthread_once_t fault_once = PTHREAD_ONCE_INIT;
static const char *fault_spec;

static void
fault_init(void)
{
	const char *s = getenv("XMIG_FAULT");

	if (s != NULL && *s) {
		fault_spec = s;
		log_warn("fault injection active: %s", s);
	}
}

bool
fault_at(const char *point)
{
	size_t n = strlen(point);
	const char *p;

	pthread_once(&fault_once, fault_init);
	for (p = fault_spec; p != NULL && (p = strstr(p, point)) != NULL; p += n)
		if ((p == fault_spec || p[-1] == ',') && (p[n] == '\0' || p[n] == ','))
			return true;
	return false;
}

long
fault_value(const char *point)
{
	size_t n = strlen(point);
	const char *p;

	pthread_once(&fault_once, fault_init);
	for (p = fault_spec; p != NULL && (p = strstr(p, point)) != NULL; p += n) {
		char *end;
		long v;

		if ((p != fault_spec && p[-1] != ',') || p[n] != '=' || p[n + 1] < '0' ||
		    p[n + 1] > '9')
			continue;
		errno = 0;
		v = strtol(p + n + 1, &end, 10);
		if (errno == 0 && (*end == '\0' || *end == ','))
			return v;
	}
	return -1;
}

void
fault_kill_at(const char *point)
{
	if (!fault_at(point))
		return;
	log_error("fault injection: killed at %s", point);
	raise(SIGKILL);
}

void
fault_hold(const char *point)
{
	const char *dir = getenv("XMIG_FAULT_DIR");
	char path[1024];
	int fd, i;

	if (!fault_at(point))
		return;
	snprintf(path, sizeof(path), "%s/%s", dir != NULL && *dir ? dir : "/tmp", point);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0) {
		log_error("fault injection: cannot create %s: %s", path, strerror(errno));
		return;
	}
	close(fd);
	log_warn("fault injection: holding at %s until %s is removed", point, path);
	for (i = 0; i < 3000 && access(path, F_OK) == 0; i++)
		usleep(100000);
	log_warn("fault injection: released at %s", point);
}

bool
fault_armed(const char *point)
{
	const char *dir = getenv("XMIG_FAULT_DIR");
	char path[1024];

	if (!fault_at(point))
		return false;
	snprintf(path, sizeof(path), "%s/%s", dir != NULL && *dir ? dir : "/tmp", point);
	if (unlink(path) != 0)
		return false;
	log_warn("fault injection: %s (armed by %s)", point, path);
	return true;
}

int
fault_round(const char *side, unsigned round)
{
	char point[64];

	pthread_once(&fault_once, fault_init);
	if (fault_spec == NULL)
		return 0;	/* the common case: no formatting per batch */
	snprintf(point, sizeof(point), "%s-exit-in-first-round", side);
	if (round == 0)
		fault_kill_at(point);
	snprintf(point, sizeof(point), "%s-exit-in-later-round", side);
	if (round == 2)
		fault_kill_at(point);
	snprintf(point, sizeof(point), "%s-nomem-in-first-round", side);
	if (round == 0 && fault_at(point)) {
		log_error("fault injection: out of memory at %s", point);
		return XMIG_ERR_NOMEM;
	}
	return 0;
}
