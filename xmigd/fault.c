/* fault.c - XMIG_FAULT parsing. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "log.h"

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
