/* conf.c - xmigd.conf: "key = value" lines.
 *
 * One table (conf_keys[]) holds every key with its type, field, default and
 * a line of help: conf_init() sets the defaults by parsing the default text
 * through the same setters as the file, conf_check() re-validates every
 * field the same way, and conf_dump() prints every key.
 *
 * The parser takes untrusted bytes (it is fuzzed): it works on a bounded
 * copy of each line, refuses NUL and control bytes, and changes *c only
 * when the whole buffer parsed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "allow.h"
#include "compress.h"
#include "ctlmsg.h"
#include "conf.h"
#include "devpolicy.h"
#include "log.h"
#include "util.h"
#include "xerr.h"

#define CONF_LINE_MAX 4096
#define CONF_FILE_MAX (1024 * 1024)
/* How much of a bad key or value is quoted in a message. */
#define CONF_QUOTE_MAX 64
#define MSG_MAX 512

#define STR_(x) #x
#define STR(x) STR_(x)

enum conf_type {
	CT_BOOL,	/* yes/no */
	CT_UINT,	/* unsigned in [min, max] */
	CT_PORT,	/* uint16_t in [1, 65535] */
	CT_STRING,	/* char[size] */
	CT_PATH,	/* char[size], absolute */
	CT_ALLOW,	/* char[size], compiles with allow_compile */
	CT_BACKEND,	/* enum conf_backend */
	CT_SIZE,	/* uint64_t bytes, "16G" */
	CT_LOGLEVEL,	/* int, enum log_level */
	CT_FACTOR,	/* double in [min, max] */
	CT_COMPRESS,	/* int, enum compress_mode */
	CT_OPTPATH,	/* char[size], absolute or "" (unset) */
	CT_PINS,	/* char[size], space-separated SHA-256 fingerprints */
	CT_PEERS,	/* char[size], space-separated HOST or HOST:PORT */
	CT_TLSVER,	/* int, 12 or 13, written "1.2" / "1.3" */
	CT_POLICY,	/* int, enum conf_balance_policy: even / power-saving */
	CT_IFNAMES,	/* char[size], space-separated network interface names */
	CT_DISKS,	/* char[size], space-separated disk paths, prefixes (ending in /) */
	CT_SCRIPTS,	/* char[size], space-separated hotplug script names */
};

struct conf_key {
	const char *name;
	enum conf_type type;
	size_t off;		/* offsetof(struct conf, field) */
	size_t size;		/* sizeof the field */
	unsigned min, max;	/* CT_UINT, CT_FACTOR */
	const char *def;	/* default, as it would be written in the file */
	const char *help;
};

#define FIELD(f) offsetof(struct conf, f), sizeof(((struct conf *)0)->f)

static const struct conf_key conf_keys[] = {
	{ "relocation-server", CT_BOOL, FIELD(relocation_server), 0, 0, "yes",
	  "accept incoming migrations on the relocation port (yes/no)" },
	{ "relocation-port", CT_PORT, FIELD(relocation_port), 1, 65535, STR(CONF_DEFAULT_PORT),
	  "TCP port of the relocation server" },
	{ "relocation-address", CT_STRING, FIELD(relocation_address), 0, 0, "",
	  "address (or interface) to listen on; empty = all addresses" },
	{ "relocation-hosts-allow", CT_ALLOW, FIELD(relocation_hosts_allow), 0, 0,
	  CONF_DEFAULT_HOSTS_ALLOW,
	  "peers allowed to connect: CIDRs, addresses and anchored regexes; empty = any host" },
	{ "relocation-hosts-lookup-timeout-ms", CT_UINT, FIELD(lookup_timeout_ms), 100, 10000,
	  STR(CONF_DEFAULT_LOOKUP_TIMEOUT_MS),
	  "time budget of a peer's host name lookup (for host name entries of "
	  "relocation-hosts-allow); a peer whose lookup takes longer is refused" },
	{ "relocation-ssl-server", CT_BOOL, FIELD(relocation_ssl_server), 0, 0, "no",
	  "accept incoming migrations over mutual TLS on relocation-ssl-port (yes/no)" },
	{ "relocation-ssl-port", CT_PORT, FIELD(relocation_ssl_port), 1, 65535,
	  STR(CONF_DEFAULT_SSL_PORT), "TCP port of the TLS relocation server" },
	{ "ssl-key-file", CT_OPTPATH, FIELD(ssl_key_file), 0, 0, "",
	  "this host's private key (PEM)" },
	{ "ssl-cert-file", CT_OPTPATH, FIELD(ssl_cert_file), 0, 0, "",
	  "this host's certificate (PEM), shown to peers both ways" },
	{ "ssl-ca-file", CT_OPTPATH, FIELD(ssl_ca_file), 0, 0, "",
	  "CA certificate(s) (PEM) the peers' certificates must chain to" },
	{ "ssl-peer-fingerprints", CT_PINS, FIELD(ssl_peer_fingerprints), 0, 0, "",
	  "if set, only peers whose certificate has one of these SHA-256 fingerprints" },
	{ "ssl-min-version", CT_TLSVER, FIELD(ssl_min_version), 0, 0, "1.3",
	  "lowest TLS version accepted: 1.2 or 1.3" },
	{ "control-socket", CT_PATH, FIELD(control_socket), 0, 0, CONF_DEFAULT_CONTROL_SOCKET,
	  "Unix socket for the xmig command" },
	{ "control-socket-group", CT_STRING, FIELD(control_socket_group), 0, 0, "",
	  "group whose members may also use the control socket (mode 0660); "
	  "empty = only root (mode 0600)" },
	{ "state-dir", CT_PATH, FIELD(state_dir), 0, 0, CONF_DEFAULT_STATE_DIR,
	  "directory for the daemon's state" },
	{ "backend", CT_BACKEND, FIELD(backend), 0, 0, "auto",
	  "hypervisor backend: auto, xen or sim" },
	{ "sim-root", CT_PATH, FIELD(sim_root), 0, 0, CONF_DEFAULT_SIM_ROOT,
	  "directory of the simulated hypervisor (backend sim)" },
	{ "sim-memory", CT_SIZE, FIELD(sim_memory), 0, 0, "0",
	  "memory of the simulated host, e.g. 16G; 0 = physical RAM" },
	{ "host-name", CT_STRING, FIELD(host_name), 0, 0, "",
	  "name this host gives its peers; empty = the system's host name" },
	{ "log-level", CT_LOGLEVEL, FIELD(log_level), 0, 0, "info",
	  "error, warn, info, verbose or debug" },
	{ "migration-downtime-ms", CT_UINT, FIELD(downtime_ms), CTL_DOWNTIME_MS_MIN,
	  CTL_DOWNTIME_MS_MAX,
	  STR(CONF_DEFAULT_DOWNTIME_MS),
	  "target pause of the final stop-and-copy, in milliseconds" },
	{ "migration-max-rounds", CT_UINT, FIELD(max_rounds), CTL_MAX_ROUNDS_MIN,
	  CTL_MAX_ROUNDS_MAX,
	  STR(CONF_DEFAULT_MAX_ROUNDS),
	  "most live copy rounds before the final stop-and-copy" },
	{ "migration-max-factor", CT_FACTOR, FIELD(max_factor), (unsigned)CTL_MAX_FACTOR_MIN,
	  (unsigned)CTL_MAX_FACTOR_MAX,
	  STR(CONF_DEFAULT_MAX_FACTOR),
	  "stop copying live after sending this many times the guest's RAM" },
	{ "max-incoming", CT_UINT, FIELD(max_incoming), 1, 64, STR(CONF_DEFAULT_MAX_INCOMING),
	  "most incoming migrations at once" },
	{ "max-connections", CT_UINT, FIELD(max_connections), 1, 1024,
	  STR(CONF_DEFAULT_MAX_CONNECTIONS),
	  "most relocation connections open at once (handshakes, queries, migrations); "
	  "more are closed at accept" },
	{ "prepare-timeout", CT_UINT, FIELD(prepare_timeout_s), 1, 86400,
	  STR(CONF_DEFAULT_PREPARE_TIMEOUT_S),
	  "seconds a sender waits from PREPARE for the receiver to accept (PREPARE_OK)" },
	{ "stream-idle-timeout", CT_UINT, FIELD(stream_timeout_s), 1, 3600,
	  STR(CONF_DEFAULT_STREAM_TIMEOUT_S),
	  "seconds within which each frame of the memory stream must arrive whole (and "
	  "a blocked write must move); a slower peer is given up on" },
	{ "build-timeout", CT_UINT, FIELD(build_timeout_s), 1, 86400,
	  STR(CONF_DEFAULT_BUILD_TIMEOUT_S),
	  "seconds a sender waits from STREAM_END for the receiver to build the domain "
	  "(BUILT), its copy suspended; then it resumes it" },
	{ "devices-ready-timeout", CT_UINT, FIELD(devices_ready_timeout_s), 1, 86400,
	  STR(CONF_DEFAULT_DEVICES_READY_TIMEOUT_S),
	  "seconds a sender streams, from the receiver's acceptance, waiting for it to say "
	  "the domain's devices are up before it suspends the domain; then it gives up and "
	  "the domain runs on" },
	{ "commit-timeout", CT_UINT, FIELD(commit_timeout_s), 1, 3600,
	  STR(CONF_DEFAULT_COMMIT_TIMEOUT_S),
	  "seconds a receiver waits from BUILT for GO, and a sender from GO for DONE" },
	{ "migration-bandwidth-mbit", CT_UINT, FIELD(bandwidth_mbit), 0, CTL_BANDWIDTH_MBIT_MAX, "0",
	  "cap on the migration stream in Mbit/s (xm migrate -r); 0 = no cap" },
	{ "migration-compress", CT_COMPRESS, FIELD(compress), 0, 0, "none",
	  "compress page data: none, zstd, lz4, or auto (only when the link is slower "
	  "than the compressor)" },
	{ "migration-auto-converge", CT_BOOL, FIELD(auto_converge), 0, 0, "no",
	  "throttle a guest whose pre-copy makes no progress (yes/no)" },
	{ "cluster-peers", CT_PEERS, FIELD(cluster_peers), 0, 0, "",
	  "hosts this one may evacuate to (xmig maintenance): HOST or HOST:PORT, space-separated" },
	{ "cluster-incoming-per-peer", CT_UINT, FIELD(cluster_incoming), 1, 64, "1",
	  "xmig maintenance and balance: most migrations sent to one peer at once" },
	{ "cluster-ssl", CT_BOOL, FIELD(cluster_ssl), 0, 0, "no",
	  "talk to cluster-peers over mutual TLS (host info, evacuation and balance "
	  "migrations); their default port is then relocation-ssl-port" },
	{ "host-vcpus", CT_UINT, FIELD(host_vcpus), 0, 1048576, "0",
	  "vCPUs this host runs at most, for placement's vCPU load; 0 = its online CPUs" },
	{ "balance-high-percent", CT_UINT, FIELD(balance_high_pct), 1, 100, "80",
	  "xmig balance: memory and vCPU load a host should stay at or under" },
	{ "balance-low-percent", CT_UINT, FIELD(balance_low_pct), 0, 99, "20",
	  "xmig balance --policy power-saving: hosts under this load are emptied" },
	{ "balance-interval", CT_UINT, FIELD(balance_interval), 0, 604800, "0",
	  "run balance-policy every this many seconds; 0 = never" },
	{ "device-bridges-allow", CT_IFNAMES, FIELD(device_bridges_allow), 0, 0, "",
	  "bridges an incoming guest's network interfaces may be attached to, "
	  "space-separated; a guest naming another is refused; empty = none" },
	{ "device-disks-allow", CT_DISKS, FIELD(device_disks_allow), 0, 0, "",
	  "disks an incoming guest may use (its params: a path, or what a block-* script "
	  "takes), space-separated; an entry ending in / allows everything under it, any "
	  "other only itself; empty = none" },
	{ "device-scripts-allow", CT_SCRIPTS, FIELD(device_scripts_allow), 0, 0,
	  "vif-bridge block",
	  "hotplug scripts (in /etc/xen/scripts) an incoming guest's devices may run" },
	{ "domain-kernels-allow", CT_DISKS, FIELD(domain_kernels_allow), 0, 0,
	  "/boot/ /var/lib/xen/",
	  "kernels and initrds an incoming guest's configuration may name, for its reboots "
	  "here; entries as in device-disks-allow" },
	{ "device-hotplug-timeout", CT_UINT, FIELD(hotplug_timeout_s), 1, 600, "40",
	  "seconds a hotplug script and the backend it sets up may take (libxl's 40)" },
	{ "balance-policy", CT_POLICY, FIELD(balance_policy), 0, 0, "even",
	  "the policy balance-interval runs: even or power-saving" },
};

#define NKEYS (sizeof(conf_keys) / sizeof(conf_keys[0]))

static const char *const backend_names[] = {
	[CONF_BACKEND_AUTO] = "auto",
	[CONF_BACKEND_XEN] = "xen",
	[CONF_BACKEND_SIM] = "sim",
};

const char *
conf_backend_name(enum conf_backend b)
{
	if ((unsigned)b >= sizeof(backend_names) / sizeof(backend_names[0]))
		return "unknown";
	return backend_names[b];
}

/* Quote s (at most n bytes) for a message: "...", with control bytes,
 * quotes and backslashes escaped and long text cut. */
static void
quote(char *dst, size_t dstlen, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, i;

	if (dstlen < 8) {
		if (dstlen > 0)
			dst[0] = '\0';
		return;
	}
	dst[o++] = '"';
	for (i = 0; i < n && s[i] != '\0'; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (i >= CONF_QUOTE_MAX || o + 8 >= dstlen) {
			memcpy(dst + o, "...", 3);
			o += 3;
			break;
		}
		if (ch < 0x20 || ch == 0x7f) {
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[ch >> 4];
			dst[o++] = hex[ch & 0xf];
		} else {
			if (ch == '"' || ch == '\\')
				dst[o++] = '\\';
			dst[o++] = (char)ch;
		}
	}
	dst[o++] = '"';
	dst[o] = '\0';
}

static bool
ieq(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++) {
		char x = *a, y = *b;

		if (x >= 'A' && x <= 'Z')
			x = (char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (char)(y - 'A' + 'a');
		if (x != y)
			return false;
	}
	return *a == *b;
}

static int
parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (ieq(v, yes[i])) {
			*out = true;
			return 0;
		}
		if (ieq(v, no[i])) {
			*out = false;
			return 0;
		}
	}
	return XMIG_ERR_INVALID;
}

/* "3", "2.5", "1.25": digits with an optional fraction, no sign or exponent
 * (strtod depends on the locale and takes hex, inf and nan). */
static int
parse_factor(const char *v, double *out)
{
	const char *p = v;
	size_t digits = 0, fd = 0;

	/* Check the plain-decimal syntax here (no sign, exponent, hex, inf or
	 * nan, which strtod would take); let strtod do the conversion, since it
	 * rounds correctly and conf_dump relies on that to write a value that
	 * reads back exactly. */
	for (; *p >= '0' && *p <= '9'; p++)
		digits++;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++)
			fd++;
		if (fd == 0)
			return XMIG_ERR_INVALID;
	}
	if (digits == 0 || digits > 15 || fd > 17 || *p != '\0')
		return XMIG_ERR_INVALID;
	*out = strtod(v, NULL);
	return 0;
}

static int
hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

int
conf_fingerprint_parse(const char *s, size_t len, uint8_t out[32])
{
	size_t i, step = len == 64 ? 2 : len == 95 ? 3 : 0;

	if (step == 0)
		return XMIG_ERR_INVALID;
	for (i = 0; i < 32; i++) {
		const char *p = s + i * step;
		int hi = hexval(p[0]), lo = hexval(p[1]);

		if (hi < 0 || lo < 0 || (step == 3 && i < 31 && p[2] != ':'))
			return XMIG_ERR_INVALID;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* Every space-separated word of v must be a fingerprint. */
static int
pins_check(const struct conf_key *k, const char *v, char *msg, size_t msglen)
{
	char q[CONF_QUOTE_MAX * 4 + 16];
	uint8_t fp[32];

	while (*v != '\0') {
		size_t n;

		while (*v == ' ' || *v == '\t')
			v++;
		n = strcspn(v, " \t");
		if (n > 0 && conf_fingerprint_parse(v, n, fp) != 0) {
			quote(q, sizeof(q), v, n);
			snprintf(msg, msglen, "%s: %s is not a SHA-256 fingerprint (64 hex digits, "
			    "colons between pairs allowed)", k->name, q);
			return XMIG_ERR_INVALID;
		}
		v += n;
	}
	return 0;
}

/* Every space-separated word of v must be HOST or HOST:PORT. */
static int
peers_check(const struct conf_key *k, const char *v, char *msg, size_t msglen)
{
	char q[CONF_QUOTE_MAX * 4 + 16], word[300], host[256];
	const char *w;
	uint16_t port;
	size_t n;

	while (w = next_word(&v, &n), n > 0) {
		snprintf(word, sizeof(word), "%.*s", (int)n, w);
		if (n >= sizeof(word) || parse_hostport(word, host, sizeof(host), &port) != 0) {
			quote(q, sizeof(q), w, n);
			snprintf(msg, msglen, "%s: %s is not HOST or HOST:PORT", k->name, q);
			return XMIG_ERR_INVALID;
		}
	}
	return 0;
}

/* Every word of a device list has the shape of what it names. */
static int
devwords_check(const struct conf_key *k, const char *v, char *msg, size_t msglen)
{
	char q[CONF_QUOTE_MAX * 4 + 16];
	const char *bad = NULL;
	size_t badlen = 0;
	bool ok = k->type == CT_IFNAMES ? dp_words_ok(v, dp_ifname_ok, &bad, &badlen) :
	    k->type == CT_SCRIPTS ? dp_words_ok(v, dp_script_ok, &bad, &badlen) :
	    dp_words_ok(v, dp_params_ok, &bad, &badlen);

	if (ok)
		return 0;
	quote(q, sizeof(q), bad, badlen);
	snprintf(msg, msglen, "%s: %s is not %s", k->name, q,
	    k->type == CT_IFNAMES ? "a network interface name" : k->type == CT_SCRIPTS ?
	    "a script name (no /)" : "a disk (an absolute path without . or .. "
	    "components, or a block-* script's parameter, no spaces)");
	return XMIG_ERR_INVALID;
}

/* Set key k of c from text v.  On error writes "key: what is wrong" to msg. */
static int
key_set(struct conf *c, const struct conf_key *k, const char *v, char *msg, size_t msglen)
{
	char *field = (char *)c + k->off;
	char q[CONF_QUOTE_MAX * 4 + 16];
	size_t vlen = strlen(v);
	uint64_t u;
	double d;
	int r;

	quote(q, sizeof(q), v, vlen);
	switch (k->type) {
	case CT_BOOL: {
		bool b;

		if (parse_bool(v, &b) != 0) {
			snprintf(msg, msglen, "%s: %s is not yes or no "
			    "(also accepted: true/false, on/off, 1/0)", k->name, q);
			return XMIG_ERR_INVALID;
		}
		*(bool *)(void *)field = b;
		return 0;
	}
	case CT_PORT:
		if (parse_u64(v, 1, 65535, &u) != 0) {
			snprintf(msg, msglen, "%s: %s is not a port number (1-65535)", k->name, q);
			return XMIG_ERR_INVALID;
		}
		*(uint16_t *)(void *)field = (uint16_t)u;
		return 0;
	case CT_UINT:
		if (parse_u64(v, k->min, k->max, &u) != 0) {
			snprintf(msg, msglen, "%s: %s is not a number from %u to %u", k->name, q,
			    k->min, k->max);
			return XMIG_ERR_INVALID;
		}
		*(unsigned *)(void *)field = (unsigned)u;
		return 0;
	case CT_FACTOR:
		if (parse_factor(v, &d) != 0 || d < k->min || d > k->max) {
			snprintf(msg, msglen, "%s: %s is not a number from %u.0 to %u", k->name, q,
			    k->min, k->max);
			return XMIG_ERR_INVALID;
		}
		*(double *)(void *)field = d;
		return 0;
	case CT_SIZE:
		if ((r = parse_size(v, &u)) != 0) {
			snprintf(msg, msglen, "%s: %s is not a size (a number of bytes with an "
			    "optional K, M, G or T suffix, e.g. 16G; 0 = physical RAM)%s", k->name, q,
			    r == XMIG_ERR_TOO_LONG ? ": too large" : "");
			return XMIG_ERR_INVALID;
		}
		*(uint64_t *)(void *)field = u;
		return 0;
	case CT_BACKEND: {
		size_t i;

		for (i = 0; i < sizeof(backend_names) / sizeof(backend_names[0]); i++) {
			if (strcmp(v, backend_names[i]) == 0) {
				*(enum conf_backend *)(void *)field = (enum conf_backend)i;
				return 0;
			}
		}
		snprintf(msg, msglen, "%s: %s is not auto, xen or sim", k->name, q);
		return XMIG_ERR_INVALID;
	}
	case CT_COMPRESS:
		if ((r = compress_mode_parse(v)) < 0) {
			snprintf(msg, msglen, "%s: %s is not none, zstd, lz4 or auto", k->name, q);
			return XMIG_ERR_INVALID;
		}
		*(int *)(void *)field = r;
		return 0;
	case CT_LOGLEVEL:
		if ((r = log_level_parse(v)) < 0) {
			snprintf(msg, msglen, "%s: %s is not error, warn, info, verbose or debug",
			    k->name, q);
			return XMIG_ERR_INVALID;
		}
		*(int *)(void *)field = r;
		return 0;
	case CT_TLSVER:
		if (strcmp(v, "1.2") != 0 && strcmp(v, "1.3") != 0) {
			snprintf(msg, msglen, "%s: %s is not 1.2 or 1.3", k->name, q);
			return XMIG_ERR_INVALID;
		}
		*(int *)(void *)field = v[2] == '2' ? 12 : 13;
		return 0;
	case CT_POLICY:
		if (strcmp(v, "even") != 0 && strcmp(v, "power-saving") != 0) {
			snprintf(msg, msglen, "%s: %s is not even or power-saving", k->name, q);
			return XMIG_ERR_INVALID;
		}
		*(int *)(void *)field = v[0] == 'e' ? CONF_BALANCE_EVEN : CONF_BALANCE_POWER_SAVING;
		return 0;
	case CT_OPTPATH:
	case CT_PATH:
		if (v[0] != '/' && !(k->type == CT_OPTPATH && v[0] == '\0')) {
			snprintf(msg, msglen, "%s: %s is not an absolute path", k->name, q);
			return XMIG_ERR_INVALID;
		}
		/* fall through */
	case CT_STRING:
	case CT_ALLOW:
	case CT_PINS:
	case CT_PEERS:
	case CT_IFNAMES:
	case CT_DISKS:
	case CT_SCRIPTS:
		if (vlen >= k->size) {
			snprintf(msg, msglen, "%s: value is %zu bytes long, at most %zu allowed%s",
			    k->name, vlen, k->size - 1,
			    k->off == offsetof(struct conf, control_socket) ?
			    " (the size of a Unix socket address)" : "");
			return XMIG_ERR_TOO_LONG;
		}
		if (k->type == CT_ALLOW) {
			char aerr[MSG_MAX / 2];

			if ((r = allow_compile(v, NULL, aerr, sizeof(aerr))) != 0) {
				snprintf(msg, msglen, "%s: %s", k->name, aerr);
				return r;
			}
		}
		if (k->type == CT_PINS && (r = pins_check(k, v, msg, msglen)) != 0)
			return r;
		if (k->type == CT_PEERS && (r = peers_check(k, v, msg, msglen)) != 0)
			return r;
		if ((k->type == CT_IFNAMES || k->type == CT_DISKS || k->type == CT_SCRIPTS) &&
		    (r = devwords_check(k, v, msg, msglen)) != 0)
			return r;
		memcpy(field, v, vlen + 1);
		return 0;
	}
	snprintf(msg, msglen, "%s: internal error: unknown key type", k->name);
	return XMIG_ERR_INVALID;
}

void
conf_init(struct conf *c)
{
	char msg[MSG_MAX];
	size_t i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < NKEYS; i++)
		(void)key_set(c, &conf_keys[i], conf_keys[i].def, msg, sizeof(msg));
}

static const struct conf_key *
key_find(const char *name)
{
	size_t i;

	for (i = 0; i < NKEYS; i++)
		if (strcmp(conf_keys[i].name, name) == 0)
			return &conf_keys[i];
	return NULL;
}

bool
conf_has_key(const char *name)
{
	return key_find(name) != NULL;
}

/* Optimal string alignment distance (Levenshtein plus transpositions),
 * case-insensitive, with '_' taken as '-'. */
#define DIST_MAX_LEN 64
static size_t
key_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t d[DIST_MAX_LEN + 1][DIST_MAX_LEN + 1];
	char x[DIST_MAX_LEN], y[DIST_MAX_LEN];

	if (la > DIST_MAX_LEN || lb > DIST_MAX_LEN)
		return SIZE_MAX;
	for (i = 0; i < la; i++) {
		x[i] = (a[i] >= 'A' && a[i] <= 'Z') ? (char)(a[i] - 'A' + 'a') : a[i];
		if (x[i] == '_')
			x[i] = '-';
	}
	for (j = 0; j < lb; j++)
		y[j] = b[j];
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			size_t cost = x[i - 1] == y[j - 1] ? 0 : 1;
			size_t best = d[i - 1][j - 1] + cost;

			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && x[i - 1] == y[j - 2] && x[i - 2] == y[j - 1] &&
			    d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb];
}

/* The known key closest to name, or NULL when none is close. */
static const char *
key_suggest(const char *name)
{
	const char *best = NULL;
	size_t bestd = SIZE_MAX, len = strlen(name), limit, i;

	limit = len >= 12 ? 3 : len >= 5 ? 2 : 1;
	for (i = 0; i < NKEYS; i++) {
		size_t dd = key_distance(name, conf_keys[i].name);

		if (dd < bestd) {
			bestd = dd;
			best = conf_keys[i].name;
		}
	}
	return bestd <= limit ? best : NULL;
}

static void
unknown_key_msg(char *msg, size_t msglen, const char *key)
{
	char q[CONF_QUOTE_MAX * 4 + 16];
	const char *sugg;

	quote(q, sizeof(q), key, strlen(key));
	if (strncmp(key, "xend-", 5) == 0 && (sugg = key_suggest(key + 5)) != NULL)
		snprintf(msg, msglen, "unknown key %s (did you mean \"%s\"? xmigd.conf keys "
		    "have no \"xend-\" prefix)", q, sugg);
	else if ((sugg = key_suggest(key)) != NULL)
		snprintf(msg, msglen, "unknown key %s (did you mean \"%s\"?)", q, sugg);
	else
		snprintf(msg, msglen, "unknown key %s", q);
}

static bool
is_space(char ch)
{
	return ch == ' ' || ch == '\t';
}

/* Parse one NUL-terminated line (no newline).  seen[] holds the line each
 * key was set on.  On error writes the message (without FILE:LINE). */
static int
parse_line(struct conf *c, char *line, unsigned seen[], unsigned lineno, char *msg,
    size_t msglen)
{
	char q[CONF_QUOTE_MAX * 4 + 16];
	char *p = line, *key, *kend, *eq, *v, *vend;
	const struct conf_key *k;
	size_t i;

	for (i = 0; line[i] != '\0'; i++) {
		unsigned char ch = (unsigned char)line[i];

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
			snprintf(msg, msglen, "control character 0x%02x in line", ch);
			return XMIG_ERR_INVALID;
		}
	}
	while (is_space(*p))
		p++;
	if (*p == '\0' || *p == '#')
		return 0;
	eq = strpbrk(p, "=#");
	if (eq == NULL || *eq != '=') {
		quote(q, sizeof(q), p, strlen(p));
		if (*p == '(')
			snprintf(msg, msglen, "%s: expected \"key = value\" (this looks like "
			    "xend-config.sxp syntax)", q);
		else
			snprintf(msg, msglen, "%s: expected \"key = value\"", q);
		return XMIG_ERR_INVALID;
	}
	key = p;
	for (kend = eq; kend > key && is_space(kend[-1]); kend--)
		;
	if (kend == key) {
		snprintf(msg, msglen, "missing key before \"=\"");
		return XMIG_ERR_INVALID;
	}
	*kend = '\0';
	if ((k = key_find(key)) == NULL) {
		unknown_key_msg(msg, msglen, key);
		return XMIG_ERR_INVALID;
	}
	if (seen[k - conf_keys] != 0) {
		snprintf(msg, msglen, "duplicate key \"%s\" (already set on line %u)", k->name,
		    seen[k - conf_keys]);
		return XMIG_ERR_EXISTS;
	}
	seen[k - conf_keys] = lineno;

	for (v = eq + 1; is_space(*v); v++)
		;
	if (*v == '"' || *v == '\'') {
		char qc = *v;
		char *rest;

		if ((vend = strchr(v + 1, qc)) == NULL) {
			snprintf(msg, msglen, "%s: unterminated quote (no closing %c)", k->name, qc);
			return XMIG_ERR_INVALID;
		}
		for (rest = vend + 1; is_space(*rest); rest++)
			;
		if (*rest != '\0' && *rest != '#') {
			quote(q, sizeof(q), rest, strlen(rest));
			snprintf(msg, msglen, "%s: unexpected %s after the closing quote", k->name, q);
			return XMIG_ERR_INVALID;
		}
		v++;
	} else {
		if ((vend = strchr(v, '#')) == NULL)
			vend = v + strlen(v);
		while (vend > v && is_space(vend[-1]))
			vend--;
	}
	*vend = '\0';
	return key_set(c, k, v, msg, msglen);
}

static void
set_err(char *err, size_t errlen, const char *name, unsigned lineno, const char *msg)
{
	if (err == NULL || errlen == 0)
		return;
	if (lineno > 0)
		snprintf(err, errlen, "%s:%u: %s", name, lineno, msg);
	else
		snprintf(err, errlen, "%s: %s", name, msg);
}

/* The balance thresholds only make sense together. */
static int
balance_check(const struct conf *c, char *msg, size_t msglen)
{
	if (c->balance_low_pct < c->balance_high_pct)
		return 0;
	snprintf(msg, msglen, "balance-low-percent (%u) must be below balance-high-percent (%u)",
	    c->balance_low_pct, c->balance_high_pct);
	return XMIG_ERR_INVALID;
}

int
conf_parse_buffer(struct conf *c, const char *name, const char *buf, size_t len,
    char *err, size_t errlen)
{
	struct conf *tmp = NULL;
	unsigned seen[NKEYS] = { 0 };
	char *line = NULL;
	char msg[MSG_MAX];
	size_t pos = 0;
	unsigned lineno = 0;
	int r = XMIG_ERR_NOMEM;

	if (name == NULL)
		name = "(config)";
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	snprintf(msg, sizeof(msg), "out of memory");
	if ((tmp = malloc(sizeof(*tmp))) == NULL || (line = malloc(CONF_LINE_MAX + 1)) == NULL)
		goto out;
	*tmp = *c;
	if (buf == NULL)
		len = 0;
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		pos = 3; /* UTF-8 byte order mark */
	while (pos < len) {
		const char *start = buf + pos;
		const char *nl = memchr(start, '\n', len - pos);
		size_t n = nl != NULL ? (size_t)(nl - start) : len - pos;

		lineno++;
		pos += n + (nl != NULL ? 1 : 0);
		if (n > 0 && start[n - 1] == '\r')
			n--;
		if (memchr(start, '\0', n) != NULL) {
			snprintf(msg, sizeof(msg), "NUL byte in line");
			r = XMIG_ERR_INVALID;
			goto out;
		}
		if (n > CONF_LINE_MAX) {
			snprintf(msg, sizeof(msg), "line is longer than %d bytes", CONF_LINE_MAX);
			r = XMIG_ERR_TOO_LONG;
			goto out;
		}
		memcpy(line, start, n);
		line[n] = '\0';
		if ((r = parse_line(tmp, line, seen, lineno, msg, sizeof(msg))) != 0)
			goto out;
	}
	/* Checked once both are known, on the line of the later one. */
	if ((r = balance_check(tmp, msg, sizeof(msg))) != 0) {
		unsigned lo = seen[key_find("balance-low-percent") - conf_keys];
		unsigned hi = seen[key_find("balance-high-percent") - conf_keys];

		lineno = lo > hi ? lo : hi;
		goto out;
	}
	*c = *tmp;
	r = 0;
out:
	if (r != 0)
		set_err(err, errlen, name, lineno, msg);
	free(tmp);
	free(line);
	return r;
}

int
conf_load(struct conf *c, const char *path, char *err, size_t errlen)
{
	char msg[MSG_MAX];
	char *buf = NULL;
	size_t len = 0;
	struct stat st;
	int fd = -1, r, saved;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		saved = errno;
		snprintf(msg, sizeof(msg), "cannot open: %s", strerror(saved));
		r = XMIG_ERR_SYSTEM;
		goto fail;
	}
	if (fstat(fd, &st) != 0) {
		saved = errno;
		snprintf(msg, sizeof(msg), "cannot stat: %s", strerror(saved));
		r = XMIG_ERR_SYSTEM;
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		saved = EINVAL;
		snprintf(msg, sizeof(msg), "not a regular file");
		r = XMIG_ERR_INVALID;
		goto fail;
	}
	if ((buf = malloc(CONF_FILE_MAX + 1)) == NULL) {
		saved = ENOMEM;
		snprintf(msg, sizeof(msg), "out of memory");
		r = XMIG_ERR_NOMEM;
		goto fail;
	}
	while (len <= CONF_FILE_MAX) {
		ssize_t n = read(fd, buf + len, CONF_FILE_MAX + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			saved = errno;
			snprintf(msg, sizeof(msg), "read error: %s", strerror(saved));
			r = XMIG_ERR_SYSTEM;
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > CONF_FILE_MAX) {
		saved = EFBIG;
		snprintf(msg, sizeof(msg), "file is larger than %d bytes", CONF_FILE_MAX);
		r = XMIG_ERR_TOO_LONG;
		goto fail;
	}
	close(fd);
	r = conf_parse_buffer(c, path, buf, len, err, errlen);
	free(buf);
	return r;
fail:
	set_err(err, errlen, path, 0, msg);
	free(buf);
	if (fd >= 0)
		close(fd);
	errno = saved;
	return r;
}

/* Text of key k's value in c, as conf_dump writes it (before quoting). */
static void
key_format(const struct conf *c, const struct conf_key *k, char *out, size_t outlen)
{
	const char *field = (const char *)c + k->off;

	switch (k->type) {
	case CT_BOOL:
		snprintf(out, outlen, "%s", *(const bool *)(const void *)field ? "yes" : "no");
		break;
	case CT_PORT:
		snprintf(out, outlen, "%u", (unsigned)*(const uint16_t *)(const void *)field);
		break;
	case CT_UINT:
		snprintf(out, outlen, "%u", *(const unsigned *)(const void *)field);
		break;
	case CT_FACTOR: {
		double d = *(const double *)(const void *)field;
		char *e;

		int prec;

		/* The shortest text that reads back as the same double (never
		 * longer than what was parsed, since that text reads back too). */
		for (prec = 0; prec <= 17; prec++) {
			snprintf(out, outlen, "%.*f", prec, d);
			if (strtod(out, &e) == d)
				break;
		}
		break;
	}
	case CT_SIZE: {
		static const char sfx[] = "KMGT";
		uint64_t v = *(const uint64_t *)(const void *)field;
		int i = -1;

		while (v != 0 && (v & 1023) == 0 && i < 3) {
			v >>= 10;
			i++;
		}
		if (i >= 0)
			snprintf(out, outlen, "%llu%c", (unsigned long long)v, sfx[i]);
		else
			snprintf(out, outlen, "%llu", (unsigned long long)v);
		break;
	}
	case CT_BACKEND:
		snprintf(out, outlen, "%s", conf_backend_name(*(const enum conf_backend *)(const void *)field));
		break;
	case CT_COMPRESS:
		snprintf(out, outlen, "%s", compress_mode_name(*(const int *)(const void *)field));
		break;
	case CT_LOGLEVEL:
		snprintf(out, outlen, "%s", log_level_name((enum log_level)*(const int *)(const void *)field));
		break;
	case CT_TLSVER:
		snprintf(out, outlen, "1.%d", *(const int *)(const void *)field - 10);
		break;
	case CT_POLICY:
		snprintf(out, outlen, "%s", *(const int *)(const void *)field ==
		    CONF_BALANCE_POWER_SAVING ? "power-saving" : "even");
		break;
	case CT_PATH:
	case CT_OPTPATH:
	case CT_PINS:
	case CT_PEERS:
	case CT_IFNAMES:
	case CT_DISKS:
	case CT_SCRIPTS:
	case CT_STRING:
	case CT_ALLOW:
		snprintf(out, outlen, "%.*s", (int)strnlen(field, k->size), field);
		break;
	}
}

bool
conf_tls_configured(const struct conf *c)
{
	return c->ssl_key_file[0] != '\0' || c->ssl_cert_file[0] != '\0' ||
	    c->ssl_ca_file[0] != '\0';
}

/* The TLS files go together, and must be readable regular files: checked
 * here so that "xmigd -n" names the key at fault. */
static int
check_tls(const struct conf *c, char *msg, size_t msglen)
{
	const struct { const char *key, *path; } f[] = {
		{ "ssl-key-file", c->ssl_key_file },
		{ "ssl-cert-file", c->ssl_cert_file },
		{ "ssl-ca-file", c->ssl_ca_file },
	};
	size_t i;

	if (c->relocation_ssl_server && c->relocation_server &&
	    c->relocation_ssl_port == c->relocation_port) {
		snprintf(msg, msglen, "relocation-ssl-port: %u is also relocation-port",
		    c->relocation_ssl_port);
		return XMIG_ERR_INVALID;
	}
	if (c->cluster_ssl && !conf_tls_configured(c)) {
		snprintf(msg, msglen, "cluster-ssl = yes needs ssl-key-file, ssl-cert-file and "
		    "ssl-ca-file");
		return XMIG_ERR_INVALID;
	}
	if (!c->relocation_ssl_server && !conf_tls_configured(c))
		return 0;
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		struct stat st;
		int fd;

		if (f[i].path[0] == '\0') {
			snprintf(msg, msglen, "%s is required %s", f[i].key, c->relocation_ssl_server ?
			    "when relocation-ssl-server = yes" :
			    "with the other ssl-*-file keys (set all three or none)");
			return XMIG_ERR_INVALID;
		}
		if ((fd = open(f[i].path, O_RDONLY | O_CLOEXEC)) < 0) {
			snprintf(msg, msglen, "%s: cannot read %s: %s", f[i].key, f[i].path,
			    strerror(errno));
			return XMIG_ERR_SYSTEM;
		}
		if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
			close(fd);
			snprintf(msg, msglen, "%s: %s is not a regular file", f[i].key, f[i].path);
			return XMIG_ERR_INVALID;
		}
		close(fd);
	}
	return 0;
}

int
conf_check(const struct conf *c, char *err, size_t errlen)
{
	struct conf *scratch;
	char *val, msg[MSG_MAX];
	size_t i;
	int r = 0;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	scratch = malloc(sizeof(*scratch));
	val = malloc(CONF_STR_MAX + 64);
	if (scratch == NULL || val == NULL) {
		set_err(err, errlen, "configuration", 0, "out of memory");
		r = XMIG_ERR_NOMEM;
		goto out;
	}
	/* Every value must read back through its own setter: this checks the
	 * ranges of values set by code and compiles the allow-list. */
	for (i = 0; i < NKEYS; i++) {
		key_format(c, &conf_keys[i], val, CONF_STR_MAX + 64);
		if ((r = key_set(scratch, &conf_keys[i], val, msg, sizeof(msg))) != 0) {
			if (err != NULL && errlen > 0)
				snprintf(err, errlen, "%s", msg);
			goto out;
		}
	}
	if ((r = check_tls(c, msg, sizeof(msg))) != 0 && err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", msg);
	if (r == 0 && (r = balance_check(c, msg, sizeof(msg))) != 0 && err != NULL && errlen > 0)
		snprintf(err, errlen, "%s", msg);
out:
	free(scratch);
	free(val);
	return r;
}

/* Write v so that the parser reads back exactly v. */
static void
dump_value(FILE *out, const char *v)
{
	size_t n = strlen(v);
	bool plain = n > 0 && strchr(v, '#') == NULL && v[0] != '"' && v[0] != '\'' &&
	    !is_space(v[0]) && !is_space(v[n - 1]);

	if (plain || (strchr(v, '"') != NULL && strchr(v, '\'') != NULL))
		fprintf(out, "%s\n", v);
	else if (strchr(v, '"') == NULL)
		fprintf(out, "\"%s\"\n", v);
	else
		fprintf(out, "'%s'\n", v);
}

void
conf_dump(const struct conf *c, FILE *out)
{
	char *val = malloc(CONF_STR_MAX + 64);
	size_t i;

	if (val == NULL)
		return;
	for (i = 0; i < NKEYS; i++) {
		const struct conf_key *k = &conf_keys[i];

		key_format(c, k, val, CONF_STR_MAX + 64);
		fprintf(out, "# %s (default: %s)\n%s = ", k->help,
		    k->def[0] != '\0' ? k->def : "\"\"", k->name);
		dump_value(out, val);
	}
	free(val);
}
