/* hostinfo.c - this host's answer to HOST_INFO (state, memory, vCPUs,
 * domains and their pins): served by the receiver to cluster peers and read
 * by this host's own cluster operations. */
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#include "engine/engine.h"
#include "store/hoststate.h"
#include "util.h"

static bool
host_info_name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n >= PROTO_NAME_MAX || s[0] == '-' || strcmp(s, ".") == 0 ||
	    strcmp(s, "..") == 0)
		return false;
	for (i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", s[i]))
			return false;
	return true;
}

int
engine_host_info_build(struct xmigd *d, struct msg_host_info_reply *m)
{
	struct hv_host_info hi;
	struct hv_dominfo *doms = NULL;
	size_t n = 0, i;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int r;

	memset(m, 0, sizeof(*m));
	if ((r = d->hv->ops->host_info(d->hv, &hi)) != 0 ||
	    (r = d->hv->ops->list(d->hv, &doms, &n)) != 0)
		return r;
	m->state = (uint8_t)hoststate_get(NULL, 0);
	m->mem_total = hi.mem_total;
	m->mem_free = hi.mem_free < hi.mem_total ? hi.mem_free : hi.mem_total;
	/* host-vcpus, else as many vCPUs as the host has CPUs (no overcommit). */
	m->vcpus_total = d->conf.host_vcpus ? d->conf.host_vcpus : ncpu > 0 ? (uint32_t)ncpu : 0;
	for (i = 0; i < n; i++) {
		struct msg_host_info_dom *o;

		if (doms[i].id == 0)
			continue;	/* dom0 never moves */
		m->vcpus_used += doms[i].vcpus;
		/* Names the protocol cannot carry still count in the totals. */
		if (m->ndoms >= PROTO_HOST_INFO_DOMS_MAX || !host_info_name_ok(doms[i].name))
			continue;
		o = &m->doms[m->ndoms++];
		strlcpy_x(o->name, doms[i].name, sizeof(o->name));
		o->mem = doms[i].memory;
		o->vcpus = doms[i].vcpus > 4096 ? 4096 : doms[i].vcpus;
		o->flags = pins_lookup(doms[i].name, doms[i].uuid) != PIN_NONE ?
		    HOST_INFO_F_PINNED : 0;
	}
	free(doms);
	return 0;
}
