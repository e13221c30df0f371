/* cluster/balance.h - cluster balance: the "balance" control request (xmig
 * balance) and the periodic run every balance-interval seconds (issue 6,
 * docs/placement.md). */
#ifndef XMIG_BALANCE_H
#define XMIG_BALANCE_H

#include <jansson.h>

#include "daemon.h"

/* {"cmd":"balance", "policy":"even"|"power-saving", "dry_run":bool,
 * "max_moves":N, "watch":bool}: replies {"ok":true,"balance":{...}} on fd;
 * with watch (and not dry_run) then progress events until the moves this
 * host runs have ended.  -1 when the client went away, else 0. */
int balance_ctl(struct xmigd *d, int fd, json_t *req);

/* With balance-interval set (and cluster-peers), start the thread that
 * runs balance-policy every balance-interval seconds. */
void balance_timer_start(struct xmigd *d);

#endif
