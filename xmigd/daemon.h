/* daemon.h - what every part of xmigd shares: the configuration, the
 * backend, the allow-list and the stop flag. */
#ifndef XMIG_DAEMON_H
#define XMIG_DAEMON_H

#include <stdatomic.h>
#include <stdbool.h>

#include "allow.h"
#include "conf.h"
#include "hv/hv.h"

#define XMIG_VERSION "0.1.0"

struct tls_ctx;

struct xmigd {
	struct conf conf;
	struct hv *hv;
	struct allow_list *allow;
	struct tls_ctx *tls_server;	/* relocation-ssl-server = yes, else NULL */
	struct tls_ctx *tls_client;	/* the ssl-*-file keys are set, else NULL */
	char host_name[256];
	atomic_bool stopping;
};

#endif
