/* cluster/balance.h - cluster balance: what the "balance" control request
 * (xmig balance) asks, and the periodic run every balance-interval seconds
 * (issue 6, docs/placement.md).  Nothing here sees the control socket:
 * xmigd/ctlsrv.c replies. */
#ifndef XMIG_BALANCE_H
#define XMIG_BALANCE_H

#include <stdbool.h>

#include "ctlmsg.h"
#include "daemon.h"

struct balance;

/* Plan the cluster's balance as rq asks; a dry run stops there, else the
 * moves this host runs start.  0 with *out the plan (its arrays the
 * caller's, ctl_balance_free) and, unless a dry run, *held the running
 * balance, held for the caller (balance_put); or an error with err set. */
int balance_start(struct xmigd *d, const struct ctl_balance_req *rq, struct balance **held,
    struct ctl_balance *out, char *err, size_t errlen);
/* The balance now (*r -1 when out of memory; ctl_balance_free); true while
 * its moves run. */
bool balance_snapshot(struct balance *b, struct ctl_balance *out, int *r);
void balance_put(struct balance *b);

/* With balance-interval set (and cluster-peers), start the thread that
 * runs balance-policy every balance-interval seconds. */
void balance_timer_start(struct xmigd *d);

#endif
