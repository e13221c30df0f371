/* daemon.h - what every part of xmigd shares: the configuration, the
 * backend, the allow-list and the stop flag. */
#ifndef XMIG_DAEMON_H
#define XMIG_DAEMON_H

#include <stdatomic.h>
#include <stdbool.h>

#include "allow.h"
#include "conf.h"
#include "hv.h"

#define XMIG_VERSION "0.1.0"

struct xmigd {
	struct conf conf;
	struct hv *hv;
	struct allow_list *allow;
	char host_name[256];
	atomic_bool stopping;
};

#endif
