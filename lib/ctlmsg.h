/* ctlmsg.h - the control protocol between xmig and xmigd, typed.
 *
 * Every request and reply of the control socket (lib/ctl.c carries them as
 * length-prefixed JSON objects) has a C struct here, an encoder and a
 * validating decoder; nothing else in the tree knows the JSON keys.  The
 * decoders refuse an unknown key, a value of the wrong type, a number out
 * of range and a string too long, each with one line of text.
 *
 * Requests: {"cmd": NAME, ...}.  Replies: {"ok": true, ...} or
 * {"ok": false, "error": LINE}.  "migrate" (with watch) and "watch" follow
 * their reply with events {"event": "progress"|"done", "job": {...}};
 * "maintenance enter" and "balance" (with watch) with
 * {"event": ..., "evacuation"|"balance": {...}}.  docs/protocol.md, "The
 * control protocol", describes them all.
 *
 * Unset: a request field whose default comes from xmigd.conf holds
 * CTL_UNSET (-1) when the client did not give it; the encoder leaves it
 * out, the decoder sets it for a missing (or null) key, and
 * ctl_migrate_resolve() is the one place that replaces it with the
 * configuration's value.  Any other value given, 0 and "off" included,
 * wins over the configuration.  A missing optional field without a
 * configured default gets its fixed default (below) from the decoder.  In
 * replies, a field shown as optional is left out when it holds CTL_UNSET
 * (numbers) or "" (text).
 */
#ifndef XMIG_CTLMSG_H
#define XMIG_CTLMSG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"

#define CTL_UNSET (-1)

/* ---- limits: the CLI, xmigd and xmigd.conf use these alone ---- */

#define CTL_DOWNTIME_MS_MIN 1
#define CTL_DOWNTIME_MS_MAX 600000
#define CTL_MAX_ROUNDS_MIN 1
#define CTL_MAX_ROUNDS_MAX 100000
#define CTL_BANDWIDTH_MBIT_MAX 10000000	/* 0 = no cap */
#define CTL_MAX_FACTOR_MIN 1.0
#define CTL_MAX_FACTOR_MAX 100.0
#define CTL_PARALLEL_MIN 1
#define CTL_PARALLEL_MAX 64
#define CTL_PARALLEL_DEFAULT 2
#define CTL_MAX_MOVES_MAX 100000	/* 0 = no limit */
#define CTL_HISTORY_MAX 1000		/* records kept, and the most one request lists */
#define CTL_HISTORY_DEFAULT 50
#define CTL_PORT_MAX 65535

/* String sizes, NUL included: a longer string is refused, never cut. */
#define CTL_NAME_MAX 64		/* domain and host names of the cluster */
#define CTL_HOST_MAX 256	/* a migration's destination */
#define CTL_PEER_MAX 300	/* host:port */
#define CTL_WORD_MAX 32		/* states, modes, policies, actions */
#define CTL_UUID_MAX 37
#define CTL_TEXT_MAX 1024	/* errors, reasons, notes; --to's list */
/* The most elements of one array a decoder takes (the 1 MiB message cap
 * bounds them first). */
#define CTL_ARRAY_MAX 200000

/* ---- requests ---- */

enum ctl_cmd {
	CTL_MIGRATE, CTL_LIST, CTL_JOBS, CTL_JOB, CTL_WATCH, CTL_CANCEL, CTL_STATUS,
	CTL_HISTORY, CTL_PIN, CTL_UNPIN, CTL_MAINTENANCE, CTL_BALANCE,
	CTL_NCMDS
};

struct ctl_migrate_req {
	char domain[CTL_NAME_MAX];	/* required */
	char host[CTL_HOST_MAX];	/* required */
	int64_t port;			/* 1-65535; unset: 8002, or 8003 with ssl */
	bool ssl, live, watch, force;
	/* From xmigd.conf when unset (ctl_migrate_resolve). */
	int64_t downtime_ms;		/* 1-600000 */
	int64_t max_rounds;		/* 1-100000 */
	int64_t bandwidth_mbit;		/* 0-10000000, 0 = no cap */
	double max_factor;		/* 1-100 */
	int auto_converge;		/* 0, 1 */
	char compress[CTL_WORD_MAX];	/* none, zstd, lz4, auto; "" = unset */
};

struct ctl_job_req {			/* job, watch, cancel */
	int64_t id;			/* required, 1-2^63-1 */
};

struct ctl_history_req {
	int64_t limit;			/* 1-1000, default 50 */
};

struct ctl_pin_req {			/* pin, unpin */
	char domain[CTL_NAME_MAX];	/* required */
	bool manual_too;
};

enum ctl_maint_action { CTL_MAINT_ENTER, CTL_MAINT_EXIT, CTL_MAINT_STATUS };

struct ctl_maint_req {
	enum ctl_maint_action action;	/* required: "enter", "exit", "status" */
	char to[CTL_TEXT_MAX];		/* enter: peers, comma-separated; "" = any */
	int64_t parallel;		/* enter: 1-64, default 2 */
	bool live;			/* enter: default true */
	bool shutdown_pinned;
	char reason[CTL_TEXT_MAX];
	bool watch;
};

struct ctl_balance_req {
	char policy[CTL_WORD_MAX];	/* "even" (default) or "power-saving" */
	bool dry_run;
	int64_t max_moves;		/* 0-100000, default 0 = no limit */
	bool watch;
};

/* A decoded request: cmd says which member is filled (none for list,
 * jobs and status). */
struct ctl_request {
	enum ctl_cmd cmd;
	union {
		struct ctl_migrate_req migrate;
		struct ctl_job_req job;
		struct ctl_history_req history;
		struct ctl_pin_req pin;
		struct ctl_maint_req maint;
		struct ctl_balance_req balance;
	} u;
};

/* Fill a request with its defaults (unset fields CTL_UNSET). */
void ctl_request_init(struct ctl_request *rq, enum ctl_cmd cmd);
/* The request as a JSON object (new reference), or NULL. */
json_t *ctl_request_encode(const struct ctl_request *rq);
/* The request's command name ("migrate", ...), NULL when o has no string
 * "cmd"; and the command of a name (-1 if unknown). */
const char *ctl_request_name(const json_t *o);
const char *ctl_cmd_name(enum ctl_cmd cmd);
int ctl_cmd_lookup(const char *name);
/* Decode o as a request of cmd (whose "cmd" the caller has looked up).
 * 0, or -1 with one line in err. */
int ctl_request_decode(const json_t *o, enum ctl_cmd cmd, struct ctl_request *rq, char *err,
    size_t errlen);

/* What a migration uses, every default resolved. */
struct ctl_migrate_settings {
	unsigned downtime_ms, max_rounds, bandwidth_mbit;	/* bandwidth 0 = no cap */
	double max_factor;
	bool auto_converge;
	int compress;			/* enum compress_mode */
};

/* The one place a migrate request meets xmigd.conf: each unset field takes
 * the configuration's value, every given one (0, false, "none" included)
 * stays. */
void ctl_migrate_resolve(const struct ctl_migrate_req *rq, const struct conf *c,
    struct ctl_migrate_settings *out);

/* ---- replies ---- */

/* {"ok": false, "error": ...}: one line (control characters and invalid
 * UTF-8 made harmless). */
json_t *ctl_reply_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* {"ok": true} */
json_t *ctl_reply_ok(void);
/* 1 when o is {"ok": true, ...}; 0 when "ok" is false, with its error in
 * err; -1 when o is no reply at all. */
int ctl_reply_status(const json_t *o, char *err, size_t errlen);

/* One pre-copy round of a job. */
struct ctl_round {
	int64_t round, pages, bytes, dirty, ms;
};

/* Where a finished outgoing migration's time went (ms).  suspend_ms,
 * devices_ms and unpause_ms came later: 0 in older records. */
struct ctl_phases {
	int64_t connect_ms, destination_build_ms, precopy_ms, final_round_ms, restore_ms,
	    commit_ms;
	int64_t suspend_ms, devices_ms, unpause_ms;
};

/* A job, as "job", "jobs", events and xmig history's records carry it.
 * Records written by older versions lack some fields: a job decodes with
 * any field missing (zero, "" or none). */
struct ctl_job {
	int64_t id;
	char direction[CTL_WORD_MAX];	/* "in", "out" */
	char domain[CTL_NAME_MAX];
	char peer[CTL_PEER_MAX];
	char mode[CTL_WORD_MAX];	/* "live", "offline" */
	char state[CTL_WORD_MAX];
	char result[CTL_WORD_MAX];	/* null while running: "" */
	char error[CTL_TEXT_MAX];	/* null: "" */
	int64_t iteration, bytes_sent, pages_sent, zero_pages, normal_pages, memory_bytes,
	    remaining_pages, dirty_rate, throughput_bps, total_ms, downtime_ms, setup_ms,
	    expected_downtime_ms, started, dest_domid, domid;
	char stop_reason[CTL_WORD_MAX];
	char (*warnings)[CTL_TEXT_MAX];
	size_t nwarnings;
	/* QEMU query-migrate style names, for tools that know those */
	int64_t transferred_bytes, remaining_bytes, total_bytes;
	int64_t throttle_pct, downtime_target_ms, extra_rounds, compressed_bytes,
	    compressed_wire_bytes, precopy_ms, stream_ms, final_pages, final_bytes;
	/* outgoing: pre-copy the sender went on with only because the
	 * destination's devices were not up yet (HELLO_F_DEVICES_READY) */
	int64_t devices_wait_ms;
	/* outgoing, live: pre-copy bytes not yet sent (the socket's queue)
	 * when the suspension was asked for: they cross during the downtime */
	int64_t queued_at_suspend_bytes;
	struct ctl_round *rounds;
	size_t nrounds;
	bool has_phases;		/* outgoing, finished */
	struct ctl_phases phases;
};

struct ctl_job_list {
	struct ctl_job *jobs;
	size_t njobs;
	/* Oldest records xmigd left out so the reply fits CTL_MSG_MAX
	 * (a job keeps up to JOB_ROUNDS_KEPT rounds: 1000 can be megabytes). */
	int64_t left_out;
};

struct ctl_domain {
	int64_t id;
	char name[CTL_NAME_MAX];
	char uuid[CTL_UUID_MAX];
	int64_t memory_bytes, vcpus;
	char state[CTL_WORD_MAX], type[CTL_WORD_MAX];
	char pinned[CTL_WORD_MAX];	/* "auto", "all"; null: "" */
};

struct ctl_domain_list {
	struct ctl_domain *domains;
	size_t ndomains;
};

struct ctl_status {
	char host[CTL_HOST_MAX];
	char host_state[CTL_WORD_MAX];
	char host_state_reason[CTL_TEXT_MAX];
	char backend[CTL_WORD_MAX];
	char version[CTL_WORD_MAX];
	int64_t relocation_port;
	bool relocation_server;
	int64_t relocation_ssl_port;
	bool relocation_ssl_server;
	bool tls;
	int64_t pid;
};

struct ctl_pin_reply {
	char domain[CTL_NAME_MAX];
	char pinned[CTL_WORD_MAX];	/* null: "" */
};

/* A batch's figures (cluster/mover.c), at the top of an evacuation or a
 * balance object. */
struct ctl_batch {
	char state[CTL_WORD_MAX];	/* "running", "finished" */
	int64_t started_wall_ms, elapsed_ms, total, moved, migrating, failed, pending, parallel;
	bool live;
	char error[CTL_TEXT_MAX];	/* optional */
	int64_t shut_down;		/* optional */
};

struct ctl_evac_item {
	char name[CTL_NAME_MAX];
	int64_t mem_mib, vcpus;
	char status[CTL_WORD_MAX];
	char dest[CTL_PEER_MAX];	/* optional */
	char why[CTL_TEXT_MAX];		/* optional */
	int64_t elapsed_ms;
	int64_t job;			/* optional */
};

struct ctl_evac {
	struct ctl_batch batch;
	char host_state[CTL_WORD_MAX];
	struct ctl_evac_item *domains;
	size_t ndomains;
};

/* "maintenance" replies: status, exit, and enter's first reply. */
struct ctl_maint_status {
	char state[CTL_WORD_MAX];
	char reason[CTL_TEXT_MAX];
	bool has_evacuation;
	struct ctl_evac evacuation;
};

struct ctl_balance_move {
	char domain[CTL_NAME_MAX], from[CTL_NAME_MAX], to[CTL_NAME_MAX];
	char why[CTL_TEXT_MAX];
	int64_t mem_mib, vcpus;
	char status[CTL_WORD_MAX];
	char reason[CTL_TEXT_MAX];	/* optional */
	int64_t job, elapsed_ms;	/* optional */
};

struct ctl_balance_host {
	char name[CTL_NAME_MAX];
	char state[CTL_WORD_MAX];
	bool reachable;
	int64_t mem_total_mib;
	double mem_percent, vcpu_percent, mem_percent_after, vcpu_percent_after;
};

struct ctl_balance {
	bool has_batch;			/* not in a dry run */
	struct ctl_batch batch;
	char policy[CTL_WORD_MAX];
	bool dry_run, periodic;
	int64_t high_percent, low_percent, max_moves, planned, here, other_hosts, held;
	struct ctl_balance_move *moves;
	size_t nmoves;
	struct ctl_balance_host *hosts;
	size_t nhosts;
	char (*left)[CTL_TEXT_MAX];
	size_t nleft;
	char (*emptied)[CTL_NAME_MAX];
	size_t nemptied;
};

/* Each payload as a bare object (what xmig --json prints), as its reply,
 * and decoded from its reply (0, or -1 with one line in err; the caller
 * has checked "ok" with ctl_reply_status).  Decoded arrays are the
 * caller's: free them with the matching _free. */
json_t *ctl_job_encode(const struct ctl_job *j);
json_t *ctl_job_reply(const struct ctl_job *j);
int ctl_job_decode(const json_t *o, struct ctl_job *j, char *err, size_t errlen);
int ctl_job_reply_decode(const json_t *o, struct ctl_job *j, char *err, size_t errlen);
void ctl_job_free(struct ctl_job *j);
/* The job as xmig migrate --json prints it: the headline fields first
 * (with "iterations" for "iteration"), then the rest. */
json_t *ctl_job_result_encode(const struct ctl_job *j);

/* "jobs" and "history": {"ok": true, "jobs": [...]} */
json_t *ctl_job_list_encode(const struct ctl_job_list *l);
json_t *ctl_job_list_reply(const struct ctl_job_list *l);
int ctl_job_list_reply_decode(const json_t *o, struct ctl_job_list *l, char *err, size_t errlen);
void ctl_job_list_free(struct ctl_job_list *l);

/* "list": {"ok": true, "domains": [...]} */
json_t *ctl_domain_list_encode(const struct ctl_domain_list *l);
json_t *ctl_domain_list_reply(const struct ctl_domain_list *l);
int ctl_domain_list_reply_decode(const json_t *o, struct ctl_domain_list *l, char *err,
    size_t errlen);
void ctl_domain_list_free(struct ctl_domain_list *l);

/* "status": {"ok": true, "host": ..., ...} */
json_t *ctl_status_encode(const struct ctl_status *s);
json_t *ctl_status_reply(const struct ctl_status *s);
int ctl_status_reply_decode(const json_t *o, struct ctl_status *s, char *err, size_t errlen);

/* "pin", "unpin": {"ok": true, "domain": ..., "pinned": ...} */
json_t *ctl_pin_reply(const struct ctl_pin_reply *p);
int ctl_pin_reply_decode(const json_t *o, struct ctl_pin_reply *p, char *err, size_t errlen);

/* "maintenance": {"ok": true, "state": ..., "reason": ..., "evacuation"?} */
json_t *ctl_maint_status_encode(const struct ctl_maint_status *m);
json_t *ctl_maint_status_reply(const struct ctl_maint_status *m);
int ctl_maint_status_reply_decode(const json_t *o, struct ctl_maint_status *m, char *err,
    size_t errlen);
void ctl_maint_status_free(struct ctl_maint_status *m);
json_t *ctl_evac_encode(const struct ctl_evac *e);
void ctl_evac_free(struct ctl_evac *e);

/* "balance": {"ok": true, "balance": {...}} */
json_t *ctl_balance_encode(const struct ctl_balance *b);
json_t *ctl_balance_reply(const struct ctl_balance *b);
int ctl_balance_reply_decode(const json_t *o, struct ctl_balance *b, char *err, size_t errlen);
void ctl_balance_free(struct ctl_balance *b);

/* ---- events ---- */

enum ctl_event_kind { CTL_EVENT_JOB, CTL_EVENT_EVACUATION, CTL_EVENT_BALANCE };

/* {"event": "progress"|"done", KIND: payload}; payload is a struct
 * ctl_job, ctl_evac or ctl_balance as kind says. */
json_t *ctl_event_encode(enum ctl_event_kind kind, bool done, const void *payload);
/* Decode an event of kind into payload (freed with its _free).  0, or -1
 * with one line in err. */
int ctl_event_decode(const json_t *o, enum ctl_event_kind kind, bool *done, void *payload,
    char *err, size_t errlen);

#endif
