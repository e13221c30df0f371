/* cluster/cluster.c - the cluster-peers, their HOST_INFO facts and the placement
 * picture built from them (see cluster/cluster.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster/cluster.h"
#include "engine/engine.h"
#include "engine/engine_int.h"
#include "store/hoststate.h"
#include "log.h"
#include "util.h"
#include "xerr.h"

#define CLUSTER_INFO_TIMEOUT_MS 3000

uint16_t
cluster_default_port(const struct xmigd *d)
{
	return d->conf.cluster_ssl ? d->conf.relocation_ssl_port : d->conf.relocation_port;
}

int
cluster_peers_parse(const char *conf_peers, uint16_t def_port, struct cluster_peer *peers,
    size_t *npeers, char *err, size_t errlen)
{
	const char *v = conf_peers, *w;
	size_t n;

	*npeers = 0;
	while (w = next_word(&v, &n), n > 0) {
		struct cluster_peer *p = &peers[*npeers];

		if (*npeers == CLUSTER_PEERS_MAX) {
			snprintf(err, errlen, "more than %d cluster-peers", CLUSTER_PEERS_MAX);
			return XMIG_ERR_TOO_LONG;
		}
		memset(p, 0, sizeof(*p));
		snprintf(p->name, sizeof(p->name), "%.*s", (int)(n < 299 ? n : 299), w);
		p->port = def_port;
		if (parse_hostport(p->name, p->host, sizeof(p->host), &p->port) != 0) {
			snprintf(err, errlen, "bad cluster-peers entry %s", p->name);
			return XMIG_ERR_INVALID;
		}
		p->allowed = true;
		(*npeers)++;
	}
	return 0;
}

int
cluster_peers_restrict(struct cluster_peer *peers, size_t npeers, const char *to, char *err,
    size_t errlen)
{
	size_t i;

	for (i = 0; i < npeers; i++)
		peers[i].allowed = false;
	while (*to != '\0') {
		size_t n = strcspn(to, ",");
		bool found = false;

		for (i = 0; i < npeers; i++)
			if ((strlen(peers[i].name) == n && strncmp(peers[i].name, to, n) == 0) ||
			    (strlen(peers[i].host) == n && strncmp(peers[i].host, to, n) == 0)) {
				peers[i].allowed = true;
				found = true;
			}
		if (n > 0 && !found) {
			snprintf(err, errlen, "--to: %.*s is not one of cluster-peers", (int)n, to);
			return XMIG_ERR_INVALID;
		}
		to += n + (to[n] == ',');
	}
	return 0;
}

int
cluster_peer_info(struct xmigd *d, const char *host, uint16_t port,
    struct msg_host_info_reply *m, char *why, size_t whylen)
{
	uint32_t cap = proto_max_len(MSG_HOST_INFO_REPLY);
	struct msg_hello ours, peer;
	struct frame_hdr fh;
	struct xconn c;
	uint8_t *buf;
	int r;

	memset(m, 0, sizeof(*m));
	if ((buf = malloc(cap > 1024 ? cap : 1024)) == NULL) {
		snprintf(why, whylen, "out of memory");
		return XMIG_ERR_NOMEM;
	}
	if ((r = engine_connect(d, &c, host, port, d->conf.cluster_ssl, CLUSTER_INFO_TIMEOUT_MS,
	    why, whylen)) != 0) {
		free(buf);
		return r;
	}
	c.timeout_ms = CLUSTER_INFO_TIMEOUT_MS;
	c.deadline_us = now_us() + CLUSTER_INFO_TIMEOUT_MS * 1000ull;
	if ((r = engine_build_hello(d, &ours)) != 0 || (r = engine_send_hello(&c, &ours)) != 0 ||
	    (r = engine_recv_hello(&c, &peer, why, whylen)) != 0 ||
	    (r = xconn_send_frame(&c, MSG_HOST_INFO, NULL, 0)) != 0 ||
	    (r = xconn_recv_frame(&c, &fh, buf, cap > 1024 ? cap : 1024)) != 0) {
		if (why[0] == '\0')
			snprintf(why, whylen, "%s", xmig_strerror(r));
	} else if (fh.type == MSG_REFUSE || fh.type == MSG_ABORT) {
		struct msg_reason mr;

		r = XMIG_ERR_PEER_ABORT;
		if (msg_reason_decode(buf, fh.len, &mr) == 0)
			snprintf(why, whylen, "%s", mr.text);
		else
			snprintf(why, whylen, "refused");
	} else if (fh.type != MSG_HOST_INFO_REPLY) {
		r = XMIG_ERR_UNEXPECTED;
		snprintf(why, whylen, "answered HOST_INFO with %s", proto_type_str(fh.type));
	} else if ((r = msg_host_info_reply_decode(buf, fh.len, m)) != 0) {
		snprintf(why, whylen, "malformed HOST_INFO_REPLY: %s", xmig_strerror(r));
	}
	xconn_close(&c);
	free(buf);
	return r;
}

void
cluster_picture_free(struct cluster_picture *p)
{
	free(p->c.hosts);
	free(p->c.doms);
	free(p->dom_of);
	memset(p, 0, sizeof(*p));
}

static void
cluster_host_from(struct placement_host *h, const char *name, const struct msg_host_info_reply *m,
    unsigned incoming)
{
	memset(h, 0, sizeof(*h));
	strlcpy_x(h->name, name, sizeof(h->name));
	h->mem_total = m->mem_total / CLUSTER_MIB;
	h->mem_free = m->mem_free / CLUSTER_MIB;
	/* Keep 1/32 of each destination free: dom0 and the hypervisor need room. */
	h->reserve = h->mem_total / 32;
	h->vcpus_total = m->vcpus_total;
	h->vcpus_used = m->vcpus_used;
	h->state = m->state == HOSTSTATE_ACTIVE ? PLACEMENT_ACTIVE :
	    m->state == HOSTSTATE_PREPARING ? PLACEMENT_PREPARING : PLACEMENT_MAINTENANCE;
	h->reachable = true;
	h->max_incoming = incoming;	/* cluster-incoming-per-peer, default 1 */
}

/* Host h's reported domains appended to p->c.doms (room for them made by
 * the caller).  A domain half-way through a migration (NAME--incoming,
 * NAME--migratedaway) is not the caller's to move. */
static void
cluster_add_doms(struct cluster_picture *p, size_t h, const struct msg_host_info_reply *m)
{
	size_t i, sl = strlen(SUFFIX_INCOMING), ml = strlen(SUFFIX_MIGRATED);

	for (i = 0; i < m->ndoms; i++) {
		struct placement_domain *pd = &p->c.doms[p->c.ndoms++];
		const char *name = m->doms[i].name;
		size_t n = strlen(name);

		memset(pd, 0, sizeof(*pd));
		strlcpy_x(pd->name, name, sizeof(pd->name));
		pd->host = h;
		pd->mem = (m->doms[i].mem + CLUSTER_MIB - 1) / CLUSTER_MIB;
		pd->vcpus = m->doms[i].vcpus;
		pd->pinned = (m->doms[i].flags & HOST_INFO_F_PINNED) != 0;
		pd->migratable = !((n > sl && strcmp(name + n - sl, SUFFIX_INCOMING) == 0) ||
		    (n > ml && strcmp(name + n - ml, SUFFIX_MIGRATED) == 0));
	}
}

int
cluster_picture_build(struct xmigd *d, const struct cluster_peer *peers, size_t npeers,
    bool all_doms, struct cluster_picture *p, char *err, size_t errlen)
{
	struct msg_host_info_reply *m = calloc(1, sizeof(*m));
	size_t i;

	memset(p, 0, sizeof(*p));
	if (m == NULL || (p->c.hosts = calloc(npeers + 1, sizeof(*p->c.hosts))) == NULL ||
	    (all_doms && (p->c.doms = calloc((npeers + 1) * PROTO_HOST_INFO_DOMS_MAX,
	    sizeof(*p->c.doms))) == NULL)) {
		free(m);
		cluster_picture_free(p);
		snprintf(err, errlen, "out of memory");
		return XMIG_ERR_NOMEM;
	}
	p->c.nhosts = npeers + 1;
	if (engine_host_info_build(d, m) != 0) {
		free(m);
		cluster_picture_free(p);
		snprintf(err, errlen, "cannot read this host's facts from the backend");
		return XMIG_ERR_BACKEND;
	}
	cluster_host_from(&p->c.hosts[0], d->host_name, m, d->conf.cluster_incoming);
	if (all_doms)
		cluster_add_doms(p, 0, m);
	for (i = 0; i < npeers; i++) {
		char why[300] = "";

		if (cluster_peer_info(d, peers[i].host, peers[i].port, m, why, sizeof(why)) == 0) {
			cluster_host_from(&p->c.hosts[i + 1], peers[i].name, m,
			    d->conf.cluster_incoming);
			if (all_doms)
				cluster_add_doms(p, i + 1, m);
		} else {
			strlcpy_x(p->c.hosts[i + 1].name, peers[i].name, sizeof(p->c.hosts[0].name));
			p->c.hosts[i + 1].reachable = false;
			log_debug("cluster: peer %s: %s", peers[i].name, why);
		}
	}
	free(m);
	return 0;
}
