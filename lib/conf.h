/* conf.h - xmigd.conf: "key = value" lines.
 *
 * '#' starts a comment (outside quotes); values may be quoted with "..." or
 * '...'.  Unknown keys, duplicate keys and bad values are errors reported as
 * "FILE:LINE: message".  Keys follow xend's relocation settings without the
 * "xend-" prefix.
 */
#ifndef XMIG_CONF_H
#define XMIG_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CONF_DEFAULT_PORT 8002
#define CONF_DEFAULT_SSL_PORT 8003
#define CONF_DEFAULT_CONTROL_SOCKET "/run/xmig/xmigd.sock"
#define CONF_DEFAULT_STATE_DIR "/var/lib/xmig"
#define CONF_DEFAULT_SIM_ROOT "/run/xmig/sim"
#define CONF_DEFAULT_HOSTS_ALLOW "^localhost$ 127.0.0.0/8 ::1"
#define CONF_DEFAULT_DOWNTIME_MS 300
#define CONF_DEFAULT_MAX_ROUNDS 30
#define CONF_DEFAULT_MAX_FACTOR 3.0
#define CONF_DEFAULT_MAX_INCOMING 4
#define CONF_STR_MAX 4096

enum conf_backend { CONF_BACKEND_AUTO = 0, CONF_BACKEND_XEN, CONF_BACKEND_SIM };

struct conf {
	bool relocation_server;			/* relocation-server, default yes */
	uint16_t relocation_port;		/* relocation-port, default 8002 */
	char relocation_address[256];		/* relocation-address, "" = all */
	char relocation_hosts_allow[CONF_STR_MAX]; /* relocation-hosts-allow */
	char control_socket[108];		/* control-socket */
	char state_dir[1024];			/* state-dir */
	enum conf_backend backend;		/* backend = auto|xen|sim */
	char sim_root[1024];			/* sim-root */
	uint64_t sim_memory;			/* sim-memory: sim host RAM bytes, 0 = physical RAM */
	char host_name[256];			/* host-name: name in hello, "" = uname */
	int log_level;				/* log-level (enum log_level) */
	unsigned downtime_ms;			/* migration-downtime-ms, default 300 */
	unsigned max_rounds;			/* migration-max-rounds, default 30 */
	double max_factor;			/* migration-max-factor: total bytes cap / RAM, default 3 */
	unsigned max_incoming;			/* max-incoming: concurrent incoming migrations, default 4 */
};

/* Fill defaults. */
void conf_init(struct conf *c);
/* Parse `path` over the defaults already in *c.  On error returns a negative
 * XMIG_ERR_* and writes "FILE:LINE: what is wrong" into err. */
int conf_load(struct conf *c, const char *path, char *err, size_t errlen);
/* Same, from a memory buffer; `name` is used in messages (the fuzzer uses this). */
int conf_parse_buffer(struct conf *c, const char *name, const char *buf, size_t len,
    char *err, size_t errlen);
/* Cross-field checks after loading (e.g. the allow-list compiles). */
int conf_check(const struct conf *c, char *err, size_t errlen);
/* Write the effective configuration as "key = value" lines. */
void conf_dump(const struct conf *c, FILE *out);
const char *conf_backend_name(enum conf_backend b);

#endif
