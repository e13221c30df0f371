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
#define CONF_DEFAULT_MAX_CONNECTIONS 32
/* Deadlines of a migration's phases, in seconds, counted on the clock
 * (not reset by frames that arrive): docs/protocol.md. */
#define CONF_DEFAULT_PREPARE_TIMEOUT_S 120
#define CONF_DEFAULT_STREAM_TIMEOUT_S 30
#define CONF_DEFAULT_BUILD_TIMEOUT_S 120
#define CONF_DEFAULT_DEVICES_READY_TIMEOUT_S 120
#define CONF_DEFAULT_COMMIT_TIMEOUT_S 30
#define CONF_DEFAULT_LOOKUP_TIMEOUT_MS 3000
#define CONF_STR_MAX 4096

enum conf_backend { CONF_BACKEND_AUTO = 0, CONF_BACKEND_XEN, CONF_BACKEND_SIM };
/* The values of enum placement_policy (lib/placement.h). */
enum conf_balance_policy { CONF_BALANCE_EVEN = 0, CONF_BALANCE_POWER_SAVING = 1 };

struct conf {
	bool relocation_server;			/* relocation-server, default yes */
	uint16_t relocation_port;		/* relocation-port, default 8002 */
	char relocation_address[256];		/* relocation-address, "" = all */
	char relocation_hosts_allow[CONF_STR_MAX]; /* relocation-hosts-allow */
	unsigned lookup_timeout_ms;		/* relocation-hosts-lookup-timeout-ms, default 3000 */
	char control_socket[108];		/* control-socket */
	char control_socket_group[64];		/* control-socket-group: "" = root only */
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
	unsigned max_connections;		/* max-connections: open relocation connections, default 32 */
	unsigned prepare_timeout_s;		/* prepare-timeout: PREPARE -> PREPARE_OK */
	unsigned stream_timeout_s;		/* stream-idle-timeout: each stream frame whole */
	unsigned build_timeout_s;		/* build-timeout: STREAM_END -> BUILT */
	unsigned devices_ready_timeout_s;	/* devices-ready-timeout: PREPARE_OK -> DEVICES_READY */
	unsigned commit_timeout_s;		/* commit-timeout: BUILT -> GO, GO -> DONE */
	/* TLS (mutual, OpenSSL): see etc/xmigd.conf */
	bool relocation_ssl_server;		/* relocation-ssl-server, default no */
	uint16_t relocation_ssl_port;		/* relocation-ssl-port, default 8003 */
	char ssl_key_file[1024];		/* ssl-key-file, "" = none */
	char ssl_cert_file[1024];		/* ssl-cert-file */
	char ssl_ca_file[1024];			/* ssl-ca-file: the peers' CA */
	char ssl_peer_fingerprints[CONF_STR_MAX]; /* ssl-peer-fingerprints: SHA-256 pins */
	int ssl_min_version;			/* ssl-min-version: 12 or 13 (TLS 1.x) */
	unsigned bandwidth_mbit;		/* migration-bandwidth-mbit: stream cap, 0 = none */
	int compress;				/* migration-compress: enum compress_mode */
	bool auto_converge;			/* migration-auto-converge */
	char cluster_peers[CONF_STR_MAX];	/* cluster-peers: HOST[:PORT] ... (maintenance) */
	bool cluster_ssl;			/* cluster-ssl: peers over TLS, default no */
	unsigned cluster_incoming;		/* cluster-incoming-per-peer, default 1 */
	unsigned host_vcpus;			/* host-vcpus: vCPUs placement counts, 0 = online CPUs */
	unsigned balance_high_pct;		/* balance-high-percent, default 80 */
	unsigned balance_low_pct;		/* balance-low-percent, default 20 */
	unsigned balance_interval;		/* balance-interval: seconds, 0 = off (default) */
	int balance_policy;			/* balance-policy: CONF_BALANCE_* */
	/* What an incoming guest's devices may name (devpolicy.h) */
	char device_bridges_allow[CONF_STR_MAX];	/* device-bridges-allow */
	char device_disks_allow[CONF_STR_MAX];		/* device-disks-allow */
	char device_scripts_allow[CONF_STR_MAX];	/* device-scripts-allow */
	char domain_kernels_allow[CONF_STR_MAX];	/* domain-kernels-allow */
	unsigned hotplug_timeout_s;		/* device-hotplug-timeout, default 40 */
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
/* Whether any of ssl-key-file, ssl-cert-file, ssl-ca-file is set (then all
 * are, after conf_check): this host can dial peers over TLS. */
bool conf_tls_configured(const struct conf *c);
/* One SHA-256 fingerprint, 64 hex digits with or without colons between
 * the pairs (as "openssl x509 -fingerprint -sha256" prints it). */
int conf_fingerprint_parse(const char *s, size_t len, uint8_t out[32]);
/* True when xmigd.conf has a key of this name (the xend importer writes
 * keys that later versions add, such as the TLS ones, only when known). */
bool conf_has_key(const char *name);

#endif
