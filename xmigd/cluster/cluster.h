/* cluster/cluster.h - what this host knows of its cluster: the cluster-peers, each
 * one's facts (HOST_INFO), and the picture placement works on.  Shared by
 * maintenance (cluster/maint.c) and balance (cluster/balance.c); also answers HOST_INFO for
 * the peers (engine/recv.c). */
#ifndef XMIG_CLUSTER_H
#define XMIG_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon.h"
#include "placement.h"
#include "proto.h"

#define CLUSTER_PEERS_MAX 64
#define CLUSTER_MIB (1024ull * 1024ull)

struct cluster_peer {
	char name[300];		/* as written in cluster-peers */
	char host[256];
	uint16_t port;
	bool allowed;		/* a destination (maintenance --to) */
};

/* The port of a cluster peer named without one: relocation-ssl-port when
 * cluster-ssl = yes, else relocation-port. */
uint16_t cluster_default_port(const struct xmigd *d);
/* cluster-peers ("HOST HOST:PORT ...") into peers[CLUSTER_PEERS_MAX], every
 * one allowed.  0 (maybe with *npeers 0) or an error with err set. */
int cluster_peers_parse(const char *conf_peers, uint16_t def_port, struct cluster_peer *peers,
    size_t *npeers, char *err, size_t errlen);
/* Only the peers named in to ("A,B", names as in cluster-peers or their
 * host part) stay allowed.  0 or an error naming the unknown one. */
int cluster_peers_restrict(struct cluster_peer *peers, size_t npeers, const char *to,
    char *err, size_t errlen);

/* Ask host:port for its HOST_INFO_REPLY.  0, or an error with a one-line why. */
int cluster_peer_info(struct xmigd *d, const char *host, uint16_t port,
    struct msg_host_info_reply *m, char *why, size_t whylen);

/* The picture: host 0 is this host, host i + 1 is peers[i] (unreachable
 * when it did not answer).  Each host keeps 1/32 of its memory in reserve
 * and takes one incoming migration at a time.  dom_of maps picture domains
 * to the caller's own records (cluster_picture_doms leaves it NULL). */
struct cluster_picture {
	struct placement_cluster c;
	size_t *dom_of;
};

/* Ask every peer (network: call without locks).  Domains are left out; the
 * caller adds its own (or calls with all_doms to get every domain each host
 * reported, pinned flags included).  0 or an error with err set. */
int cluster_picture_build(struct xmigd *d, const struct cluster_peer *peers, size_t npeers,
    bool all_doms, struct cluster_picture *p, char *err, size_t errlen);
void cluster_picture_free(struct cluster_picture *p);

#endif
