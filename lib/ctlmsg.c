/* ctlmsg.c - the control protocol's messages (ctlmsg.h).
 *
 * Each message is a table of fields (key, type, where in the struct,
 * bounds); one encoder and one decoder walk the tables.  A JSON key is the
 * name of its struct member, so the tables below are the protocol's only
 * list of keys.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compress.h"
#include "ctlmsg.h"
#include "util.h"

/* The keys outside the tables. */
#define K_CMD "cmd"
#define K_OK "ok"
#define K_ERROR "error"
#define K_EVENT "event"

enum ftype {
	FT_STR,		/* char[size] */
	FT_INT,		/* int64_t in [min, max] */
	FT_REAL,	/* double in [dmin, dmax] */
	FT_BOOL,	/* bool */
	FT_TRI,		/* int: CTL_UNSET, 0, 1 */
	FT_ENUM,	/* int: index in names, sent as the name */
	FT_OBJ,		/* embedded struct; aux: its presence flag (bool) or NOAUX */
	FT_INLINE,	/* embedded struct whose keys sit in this object; aux as FT_OBJ */
	FT_ARR,		/* pointer to size-byte structs; aux: the count (size_t) */
	FT_STRARR,	/* pointer to char[size]; aux: the count (size_t) */
};

#define F_REQ 0x1	/* a missing key is an error */
#define F_OPT 0x2	/* unset (CTL_UNSET, "") is left out; missing decodes unset */
#define F_NULL 0x4	/* "" travels as null */
#define F_NONEMPTY 0x8	/* "" is refused */

#define NOAUX ((size_t)-1)
/* The most fields of one message (the job has the most). */
#define CTL_FIELDS_MAX 48

struct mdef;

struct fdef {
	const char *key;
	enum ftype type;
	unsigned flags;
	size_t off;
	size_t size;
	size_t aux;
	long long min, max, def;
	double dmin, dmax;
	const char *sdef;		/* FT_STR default */
	const char *const *names;	/* FT_ENUM names; FT_STR: the values allowed */
	const struct mdef *sub;
	const char *missing, *bad;	/* this field's own messages */
};

struct mdef {
	const char *name;		/* in messages: "migrate request" */
	const struct fdef *f;
	size_t n;
};

#define MEMBER_SIZE(T, m) sizeof(((T *)0)->m)
#define FIELD(T, m, t, fl) .key = #m, .type = t, .flags = fl, .off = offsetof(T, m)
#define F_STR(T, m, fl) { FIELD(T, m, FT_STR, fl), .size = MEMBER_SIZE(T, m) }
#define F_STRV(T, m, fl, d, v) { FIELD(T, m, FT_STR, fl), .size = MEMBER_SIZE(T, m), \
	.sdef = d, .names = v }
#define F_INT(T, m, fl) { FIELD(T, m, FT_INT, fl), .min = 0, .max = INT64_MAX }
#define F_INTR(T, m, fl, lo, hi, d) { FIELD(T, m, FT_INT, fl), .min = lo, .max = hi, .def = d }
#define F_REAL(T, m, fl, lo, hi) { FIELD(T, m, FT_REAL, fl), .dmin = lo, .dmax = hi }
#define F_BOOL(T, m, d) { FIELD(T, m, FT_BOOL, 0), .def = d }
#define F_TRI(T, m) { FIELD(T, m, FT_TRI, F_OPT) }
#define F_ENUM(T, m, fl, v) { FIELD(T, m, FT_ENUM, fl), .names = v }
#define F_OBJ(T, m, fl, has, s) { FIELD(T, m, FT_OBJ, fl), .aux = has, .sub = &s }
#define F_INLINE(T, m, has, s) { FIELD(T, m, FT_INLINE, 0), .aux = has, .sub = &s }
#define F_ARR(T, m, n, s) { FIELD(T, m, FT_ARR, 0), .size = sizeof(*((T *)0)->m), \
	.aux = offsetof(T, n), .sub = &s, .max = CTL_ARRAY_MAX }
#define F_STRARR(T, m, n) { FIELD(T, m, FT_STRARR, 0), .size = sizeof(*((T *)0)->m), \
	.aux = offsetof(T, n), .max = CTL_ARRAY_MAX }
#define MDEF(nm, tbl) { nm, tbl, sizeof(tbl) / sizeof(tbl[0]) }

/* ---- the messages ---- */

static const char *const compress_names[] = { "none", "zstd", "lz4", "auto", NULL };
static const char *const policy_names[] = { "even", "power-saving", NULL };
static const char *const maint_actions[] = { "enter", "exit", "status", NULL };

#define T struct ctl_migrate_req
static const struct fdef migrate_f[] = {
	F_STR(T, domain, F_REQ | F_NONEMPTY),
	F_STR(T, host, F_REQ | F_NONEMPTY),
	F_INTR(T, port, F_OPT, 1, CTL_PORT_MAX, 0),
	F_BOOL(T, ssl, false),
	F_BOOL(T, live, false),
	F_BOOL(T, watch, false),
	F_BOOL(T, force, false),
	F_INTR(T, downtime_ms, F_OPT, CTL_DOWNTIME_MS_MIN, CTL_DOWNTIME_MS_MAX, 0),
	F_INTR(T, max_rounds, F_OPT, CTL_MAX_ROUNDS_MIN, CTL_MAX_ROUNDS_MAX, 0),
	F_INTR(T, bandwidth_mbit, F_OPT, 0, CTL_BANDWIDTH_MBIT_MAX, 0),
	F_REAL(T, max_factor, F_OPT, CTL_MAX_FACTOR_MIN, CTL_MAX_FACTOR_MAX),
	F_TRI(T, auto_converge),
	F_STRV(T, compress, F_OPT, "", compress_names),
};
#undef T

#define T struct ctl_job_req
static const struct fdef jobreq_f[] = {
	{ FIELD(T, id, FT_INT, F_REQ), .min = 1, .max = INT64_MAX, .missing = "missing job id",
	  .bad = "bad job id: a job number is a positive integer" },
};
#undef T

#define T struct ctl_history_req
static const struct fdef history_f[] = {
	F_INTR(T, limit, 0, 1, CTL_HISTORY_MAX, CTL_HISTORY_DEFAULT),
};
#undef T

#define T struct ctl_pin_req
static const struct fdef pin_f[] = {
	F_STR(T, domain, F_REQ | F_NONEMPTY),
	F_BOOL(T, manual_too, false),
};
#undef T

#define T struct ctl_maint_req
static const struct fdef maint_f[] = {
	F_ENUM(T, action, F_REQ, maint_actions),
	F_STR(T, to, 0),
	F_INTR(T, parallel, 0, CTL_PARALLEL_MIN, CTL_PARALLEL_MAX, CTL_PARALLEL_DEFAULT),
	F_BOOL(T, live, true),
	F_BOOL(T, shutdown_pinned, false),
	F_STR(T, reason, 0),
	F_BOOL(T, watch, false),
};
#undef T

#define T struct ctl_balance_req
static const struct fdef balreq_f[] = {
	F_STRV(T, policy, 0, "even", policy_names),
	F_BOOL(T, dry_run, false),
	F_INTR(T, max_moves, 0, 0, CTL_MAX_MOVES_MAX, 0),
	F_BOOL(T, watch, false),
};
#undef T

static const struct fdef none_f[1];

/* Indexed by enum ctl_cmd. */
static const struct {
	const char *name;
	struct mdef def;
} requests[CTL_NCMDS] = {
	[CTL_MIGRATE] = { "migrate", MDEF("migrate request", migrate_f) },
	[CTL_LIST] = { "list", { "list request", none_f, 0 } },
	[CTL_JOBS] = { "jobs", { "jobs request", none_f, 0 } },
	[CTL_JOB] = { "job", MDEF("job request", jobreq_f) },
	[CTL_WATCH] = { "watch", MDEF("watch request", jobreq_f) },
	[CTL_CANCEL] = { "cancel", MDEF("cancel request", jobreq_f) },
	[CTL_STATUS] = { "status", { "status request", none_f, 0 } },
	[CTL_HISTORY] = { "history", MDEF("history request", history_f) },
	[CTL_PIN] = { "pin", MDEF("pin request", pin_f) },
	[CTL_UNPIN] = { "unpin", MDEF("unpin request", pin_f) },
	[CTL_MAINTENANCE] = { "maintenance", MDEF("maintenance request", maint_f) },
	[CTL_BALANCE] = { "balance", MDEF("balance request", balreq_f) },
};

#define T struct ctl_round
static const struct fdef round_f[] = {
	F_INT(T, round, 0), F_INT(T, pages, 0), F_INT(T, bytes, 0), F_INT(T, dirty, 0),
	F_INT(T, ms, 0),
};
#undef T
static const struct mdef round_d = MDEF("round", round_f);

#define T struct ctl_phases
static const struct fdef phases_f[] = {
	F_INT(T, connect_ms, 0), F_INT(T, destination_build_ms, 0), F_INT(T, precopy_ms, 0),
	F_INT(T, final_round_ms, 0), F_INT(T, restore_ms, 0), F_INT(T, commit_ms, 0),
	F_INT(T, suspend_ms, 0), F_INT(T, devices_ms, 0), F_INT(T, unpause_ms, 0),
};
#undef T
static const struct mdef phases_d = MDEF("phases", phases_f);

/* The order is the record's since the first version: keep it. */
#define T struct ctl_job
static const struct fdef job_f[] = {
	F_INT(T, id, 0),
	F_STR(T, direction, 0),
	F_STR(T, domain, 0),
	F_STR(T, peer, 0),
	F_STR(T, mode, 0),
	F_STR(T, state, 0),
	F_STR(T, result, F_NULL),
	F_STR(T, error, F_NULL),
	F_INT(T, iteration, 0), F_INT(T, bytes_sent, 0), F_INT(T, pages_sent, 0),
	F_INT(T, zero_pages, 0), F_INT(T, normal_pages, 0), F_INT(T, memory_bytes, 0),
	F_INT(T, remaining_pages, 0), F_INT(T, dirty_rate, 0), F_INT(T, throughput_bps, 0),
	F_INT(T, total_ms, 0), F_INT(T, downtime_ms, 0), F_INT(T, setup_ms, 0),
	F_INT(T, expected_downtime_ms, 0), F_INT(T, started, 0), F_INT(T, dest_domid, 0),
	F_INT(T, domid, 0),
	F_STR(T, stop_reason, 0),
	F_STRARR(T, warnings, nwarnings),
	F_INT(T, transferred_bytes, 0), F_INT(T, remaining_bytes, 0), F_INT(T, total_bytes, 0),
	F_INT(T, throttle_pct, 0), F_INT(T, downtime_target_ms, 0), F_INT(T, extra_rounds, 0),
	F_INT(T, compressed_bytes, 0), F_INT(T, compressed_wire_bytes, 0),
	F_INT(T, precopy_ms, 0), F_INT(T, stream_ms, 0), F_INT(T, final_pages, 0),
	F_INT(T, final_bytes, 0), F_INT(T, devices_wait_ms, 0),
	F_INT(T, queued_at_suspend_bytes, 0),
	F_ARR(T, rounds, nrounds, round_d),
	F_OBJ(T, phases, 0, offsetof(T, has_phases), phases_d),
};
#undef T
static const struct mdef job_d = MDEF("job", job_f);
_Static_assert(sizeof(job_f) / sizeof(job_f[0]) <= CTL_FIELDS_MAX, "CTL_FIELDS_MAX");

/* Replies whose payload is one key: the struct is the payload itself. */
#define T struct ctl_job
static const struct fdef jobrep_f[] = {
	{ .key = "job", .type = FT_OBJ, .flags = F_REQ, .off = 0, .aux = NOAUX, .sub = &job_d },
};
#undef T
static const struct mdef jobrep_d = MDEF("job reply", jobrep_f);

#define T struct ctl_job_list
static const struct fdef joblist_f[] = {
	{ .key = "jobs", .type = FT_ARR, .flags = F_REQ, .off = offsetof(T, jobs),
	  .size = sizeof(struct ctl_job), .aux = offsetof(T, njobs), .sub = &job_d,
	  .max = CTL_ARRAY_MAX },
	F_INT(T, left_out, F_OPT),
};
#undef T
static const struct mdef joblist_d = MDEF("jobs reply", joblist_f);

#define T struct ctl_domain
static const struct fdef domain_f[] = {
	F_INT(T, id, 0), F_STR(T, name, 0), F_STR(T, uuid, 0), F_INT(T, memory_bytes, 0),
	F_INT(T, vcpus, 0), F_STR(T, state, 0), F_STR(T, type, 0), F_STR(T, pinned, F_NULL),
};
#undef T
static const struct mdef domain_d = MDEF("domain", domain_f);

#define T struct ctl_domain_list
static const struct fdef domlist_f[] = {
	{ .key = "domains", .type = FT_ARR, .flags = F_REQ, .off = offsetof(T, domains),
	  .size = sizeof(struct ctl_domain), .aux = offsetof(T, ndomains), .sub = &domain_d,
	  .max = CTL_ARRAY_MAX },
};
#undef T
static const struct mdef domlist_d = MDEF("list reply", domlist_f);

#define T struct ctl_status
static const struct fdef status_f[] = {
	F_STR(T, host, 0), F_STR(T, host_state, 0), F_STR(T, host_state_reason, 0),
	F_STR(T, backend, 0), F_STR(T, version, 0), F_INT(T, relocation_port, 0),
	F_BOOL(T, relocation_server, false), F_INT(T, relocation_ssl_port, 0),
	F_BOOL(T, relocation_ssl_server, false), F_BOOL(T, tls, false), F_INT(T, pid, 0),
};
#undef T
static const struct mdef status_d = MDEF("status reply", status_f);

#define T struct ctl_pin_reply
static const struct fdef pinrep_f[] = {
	F_STR(T, domain, 0), F_STR(T, pinned, F_NULL),
};
#undef T
static const struct mdef pinrep_d = MDEF("pin reply", pinrep_f);

#define T struct ctl_batch
static const struct fdef batch_f[] = {
	F_STR(T, state, 0), F_INT(T, started_wall_ms, 0), F_INT(T, elapsed_ms, 0),
	F_INT(T, total, 0), F_INT(T, moved, 0), F_INT(T, migrating, 0), F_INT(T, failed, 0),
	F_INT(T, pending, 0), F_INT(T, parallel, 0), F_BOOL(T, live, false),
	F_STR(T, error, F_OPT), F_INT(T, shut_down, F_OPT),
};
#undef T
static const struct mdef batch_d = MDEF("batch", batch_f);

#define T struct ctl_evac_item
static const struct fdef evitem_f[] = {
	F_STR(T, name, 0), F_INT(T, mem_mib, 0), F_INT(T, vcpus, 0), F_STR(T, status, 0),
	F_STR(T, dest, F_OPT), F_STR(T, why, F_OPT), F_INT(T, elapsed_ms, 0),
	F_INT(T, job, F_OPT),
};
#undef T
static const struct mdef evitem_d = MDEF("evacuation domain", evitem_f);

#define T struct ctl_evac
static const struct fdef evac_f[] = {
	F_INLINE(T, batch, NOAUX, batch_d),
	F_STR(T, host_state, 0),
	F_ARR(T, domains, ndomains, evitem_d),
};
#undef T
static const struct mdef evac_d = MDEF("evacuation", evac_f);

#define T struct ctl_maint_status
static const struct fdef mstatus_f[] = {
	F_STR(T, state, 0), F_STR(T, reason, 0),
	F_OBJ(T, evacuation, 0, offsetof(T, has_evacuation), evac_d),
};
#undef T
static const struct mdef mstatus_d = MDEF("maintenance reply", mstatus_f);

#define T struct ctl_balance_move
static const struct fdef bmove_f[] = {
	F_STR(T, domain, 0), F_STR(T, from, 0), F_STR(T, to, 0), F_STR(T, why, 0),
	F_INT(T, mem_mib, 0), F_INT(T, vcpus, 0), F_STR(T, status, 0), F_STR(T, reason, F_OPT),
	F_INT(T, job, F_OPT), F_INT(T, elapsed_ms, F_OPT),
};
#undef T
static const struct mdef bmove_d = MDEF("balance move", bmove_f);

#define T struct ctl_balance_host
static const struct fdef bhost_f[] = {
	F_STR(T, name, 0), F_STR(T, state, 0), F_BOOL(T, reachable, false),
	F_INT(T, mem_total_mib, 0),
	F_REAL(T, mem_percent, 0, -1e9, 1e9), F_REAL(T, vcpu_percent, 0, -1e9, 1e9),
	F_REAL(T, mem_percent_after, 0, -1e9, 1e9), F_REAL(T, vcpu_percent_after, 0, -1e9, 1e9),
};
#undef T
static const struct mdef bhost_d = MDEF("balance host", bhost_f);

#define T struct ctl_balance
static const struct fdef balance_f[] = {
	F_INLINE(T, batch, offsetof(T, has_batch), batch_d),
	F_STR(T, policy, 0), F_BOOL(T, dry_run, false), F_BOOL(T, periodic, false),
	F_INT(T, high_percent, 0), F_INT(T, low_percent, 0), F_INT(T, max_moves, 0),
	F_INT(T, planned, 0), F_INT(T, here, 0), F_INT(T, other_hosts, 0), F_INT(T, held, 0),
	F_ARR(T, moves, nmoves, bmove_d),
	F_ARR(T, hosts, nhosts, bhost_d),
	F_STRARR(T, left, nleft),
	F_STRARR(T, emptied, nemptied),
};
#undef T
static const struct mdef balance_d = MDEF("balance", balance_f);

static const struct fdef balrep_f[] = {
	{ .key = "balance", .type = FT_OBJ, .flags = F_REQ, .off = 0, .aux = NOAUX,
	  .sub = &balance_d },
};
static const struct mdef balrep_d = MDEF("balance reply", balrep_f);

/* Events: the payload's key by kind. */
static const struct {
	const char *key;
	const struct mdef *def;
} event_kinds[] = {
	[CTL_EVENT_JOB] = { "job", &job_d },
	[CTL_EVENT_EVACUATION] = { "evacuation", &evac_d },
	[CTL_EVENT_BALANCE] = { "balance", &balance_d },
};
static const char *const event_names[] = { "progress", "done" };

/* ---- the codec ---- */

static void
seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* One line whatever the key quoted: control characters become '?'. */
static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	size_t i;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	for (i = 0; err[i]; i++)
		if ((unsigned char)err[i] < ' ' || err[i] == 0x7f)
			err[i] = '?';
	utf8_sanitize(err);
}

#define AT(base, off) ((char *)(base) + (off))

static void obj_free(const struct mdef *d, void *p);

static void
obj_init(const struct mdef *d, void *p)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		const struct fdef *f = &d->f[i];
		void *v = AT(p, f->off);

		switch (f->type) {
		case FT_STR:
			strlcpy_x(v, f->sdef ? f->sdef : "", f->size);
			break;
		case FT_INT:
			*(int64_t *)v = f->flags & F_OPT ? CTL_UNSET : f->def;
			break;
		case FT_REAL:
			*(double *)v = f->flags & F_OPT ? CTL_UNSET : 0;
			break;
		case FT_BOOL:
			*(bool *)v = f->def != 0;
			break;
		case FT_TRI:
			*(int *)v = CTL_UNSET;
			break;
		case FT_ENUM:
			*(int *)v = 0;
			break;
		case FT_OBJ:
		case FT_INLINE:
			obj_init(f->sub, v);
			if (f->aux != NOAUX)
				*(bool *)AT(p, f->aux) = false;
			break;
		case FT_ARR:
		case FT_STRARR:
			*(void **)v = NULL;
			*(size_t *)AT(p, f->aux) = 0;
			break;
		}
	}
}

static void
obj_free(const struct mdef *d, void *p)
{
	size_t i, k;

	for (i = 0; i < d->n; i++) {
		const struct fdef *f = &d->f[i];
		void *v = AT(p, f->off);

		switch (f->type) {
		case FT_OBJ:
		case FT_INLINE:
			obj_free(f->sub, v);
			break;
		case FT_ARR:
			for (k = 0; *(void **)v != NULL && k < *(size_t *)AT(p, f->aux); k++)
				obj_free(f->sub, AT(*(void **)v, k * f->size));
			/* fall through */
		case FT_STRARR:
			free(*(void **)v);
			*(void **)v = NULL;
			*(size_t *)AT(p, f->aux) = 0;
			break;
		default:
			break;
		}
	}
}

/* A JSON string of s as it is; only invalid UTF-8 (which JSON cannot
 * carry) is made valid, with '?'. */
static json_t *
enc_text(const char *s)
{
	json_t *o;
	char *c;

	if ((o = json_string(s)) != NULL)
		return o;
	if ((c = strdup(s)) == NULL)
		return NULL;
	utf8_sanitize(c);
	o = json_string(c);
	free(c);
	return o;
}

static int obj_encode(const struct mdef *d, const void *p, json_t *o);

/* Set o[key] = v (stolen); -1 when v is NULL or the set fails. */
static int
put(json_t *o, const char *key, json_t *v)
{
	if (v == NULL)
		return -1;
	return json_object_set_new(o, key, v) == 0 ? 0 : -1;
}

static json_t *
obj_new(const struct mdef *d, const void *p)
{
	json_t *o = json_object();

	if (o != NULL && obj_encode(d, p, o) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int
obj_encode(const struct mdef *d, const void *p, json_t *o)
{
	size_t i, k, n;

	for (i = 0; i < d->n; i++) {
		const struct fdef *f = &d->f[i];
		const void *v = AT(p, f->off);
		json_t *a;
		int r = 0;

		switch (f->type) {
		case FT_STR:
			if (*(const char *)v == '\0' && (f->flags & F_OPT))
				break;
			r = put(o, f->key, *(const char *)v == '\0' && (f->flags & F_NULL) ?
			    json_null() : enc_text(v));
			break;
		case FT_INT:
			if ((f->flags & F_OPT) && *(const int64_t *)v == CTL_UNSET)
				break;
			r = put(o, f->key, json_integer((json_int_t)*(const int64_t *)v));
			break;
		case FT_REAL:
			if ((f->flags & F_OPT) && *(const double *)v == CTL_UNSET)
				break;
			r = put(o, f->key, json_real(*(const double *)v));
			break;
		case FT_BOOL:
			r = put(o, f->key, json_boolean(*(const bool *)v));
			break;
		case FT_TRI:
			if (*(const int *)v != CTL_UNSET)
				r = put(o, f->key, json_boolean(*(const int *)v));
			break;
		case FT_ENUM:
			r = put(o, f->key, json_string(f->names[*(const int *)v]));
			break;
		case FT_OBJ:
			if (f->aux == NOAUX || *(const bool *)AT(p, f->aux))
				r = put(o, f->key, obj_new(f->sub, v));
			break;
		case FT_INLINE:
			if (f->aux == NOAUX || *(const bool *)AT(p, f->aux))
				r = obj_encode(f->sub, v, o);
			break;
		case FT_ARR:
		case FT_STRARR:
			if ((a = json_array()) == NULL)
				return -1;
			n = *(const size_t *)AT(p, f->aux);
			for (k = 0; k < n && r == 0; k++) {
				const void *e = AT(*(void *const *)v, k * f->size);

				json_t *ev = f->type == FT_ARR ? obj_new(f->sub, e) : enc_text(e);

				if (json_array_append_new(a, ev) != 0)
					r = -1;
			}
			if (r == 0)
				r = put(o, f->key, a);
			else
				json_decref(a);
			break;
		}
		if (r != 0)
			return -1;
	}
	return 0;
}

static int obj_decode(const struct mdef *d, const json_t *o, void *p, const char *skip,
    char *err, size_t errlen);

/* The field of key in d (or in one of its inline parts): *base is where
 * its offsets count from. */
static const struct fdef *
field_find(const struct mdef *d, const char *key, void **base, size_t *idx)
{
	size_t i, k;

	for (i = 0; i < d->n; i++) {
		const struct fdef *f = &d->f[i];

		if (f->type == FT_INLINE) {
			for (k = 0; k < f->sub->n; k++)
				if (strcmp(f->sub->f[k].key, key) == 0) {
					if (f->aux != NOAUX)
						*(bool *)AT(*base, f->aux) = true;
					*base = AT(*base, f->off);
					*idx = i;
					return &f->sub->f[k];
				}
		} else if (strcmp(f->key, key) == 0) {
			*idx = i;
			return f;
		}
	}
	return NULL;
}

static int
bad(const struct mdef *d, const struct fdef *f, char *err, size_t errlen, const char *what)
{
	if (f->bad != NULL)
		seterr(err, errlen, "%s", f->bad);
	else
		seterr(err, errlen, "bad \"%s\" in %s: %s", f->key, d->name, what);
	return -1;
}

static int
str_decode(const struct mdef *d, const struct fdef *f, const json_t *v, char *out, size_t size,
    char *err, size_t errlen)
{
	const char *s = json_string_value(v);
	size_t len = json_string_length(v), i;
	char what[200];

	if (s == NULL || strlen(s) != len)
		return bad(d, f, err, errlen, "text expected");
	if (len >= size) {
		snprintf(what, sizeof(what), "too long (at most %zu bytes)", size - 1);
		return bad(d, f, err, errlen, what);
	}
	if (len == 0 && (f->flags & F_NONEMPTY))
		return bad(d, f, err, errlen, "empty");
	if (f->names != NULL && (len > 0 || !(f->flags & F_OPT))) {
		for (i = 0; f->names[i] != NULL && strcmp(f->names[i], s) != 0; i++)
			;
		if (f->names[i] == NULL) {
			size_t n = (size_t)snprintf(what, sizeof(what), "one of");

			for (i = 0; f->names[i] != NULL && n < sizeof(what); i++)
				n += (size_t)snprintf(what + n, sizeof(what) - n, "%s %s",
				    i ? "," : "", f->names[i]);
			return bad(d, f, err, errlen, what);
		}
	}
	memcpy(out, s, len + 1);
	return 0;
}

static int
field_decode(const struct mdef *d, const struct fdef *f, const json_t *v, void *base,
    char *err, size_t errlen)
{
	void *out = AT(base, f->off);
	char what[200];
	size_t n, k;

	switch (f->type) {
	case FT_STR:
		return str_decode(d, f, v, out, f->size, err, errlen);
	case FT_INT:
		if (!json_is_integer(v) || json_integer_value(v) < f->min ||
		    json_integer_value(v) > f->max) {
			if (f->max == INT64_MAX)
				snprintf(what, sizeof(what), "an integer from %lld expected",
				    f->min);
			else
				snprintf(what, sizeof(what), "an integer %lld-%lld expected",
				    f->min, f->max);
			return bad(d, f, err, errlen, what);
		}
		*(int64_t *)out = json_integer_value(v);
		return 0;
	case FT_REAL:
		if (!json_is_number(v) || !(json_number_value(v) >= f->dmin &&
		    json_number_value(v) <= f->dmax)) {
			snprintf(what, sizeof(what), "a number %g-%g expected", f->dmin, f->dmax);
			return bad(d, f, err, errlen, what);
		}
		*(double *)out = json_number_value(v);
		return 0;
	case FT_BOOL:
	case FT_TRI:
		if (!json_is_boolean(v))
			return bad(d, f, err, errlen, "true or false expected");
		if (f->type == FT_BOOL)
			*(bool *)out = json_is_true(v);
		else
			*(int *)out = json_is_true(v);
		return 0;
	case FT_ENUM:
		for (k = 0; json_is_string(v) && f->names[k] != NULL; k++)
			if (strcmp(f->names[k], json_string_value(v)) == 0) {
				*(int *)out = (int)k;
				return 0;
			}
		n = (size_t)snprintf(what, sizeof(what), "one of");
		for (k = 0; f->names[k] != NULL && n < sizeof(what); k++)
			n += (size_t)snprintf(what + n, sizeof(what) - n, "%s %s", k ? "," : "",
			    f->names[k]);
		return bad(d, f, err, errlen, what);
	case FT_OBJ:
		if (!json_is_object(v))
			return bad(d, f, err, errlen, "an object expected");
		if (f->aux != NOAUX)
			*(bool *)AT(base, f->aux) = true;
		return obj_decode(f->sub, v, out, NULL, err, errlen);
	case FT_INLINE:
		return -1;	/* its keys are found one by one */
	case FT_ARR:
	case FT_STRARR:
		if (!json_is_array(v))
			return bad(d, f, err, errlen, "an array expected");
		if ((n = json_array_size(v)) > (size_t)f->max)
			return bad(d, f, err, errlen, "too many elements");
		if ((*(void **)out = calloc(n ? n : 1, f->size)) == NULL)
			return bad(d, f, err, errlen, "out of memory");
		*(size_t *)AT(base, f->aux) = n;
		for (k = 0; k < n; k++) {
			const json_t *e = json_array_get(v, k);
			void *to = AT(*(void **)out, k * f->size);

			if (f->type == FT_STRARR) {
				if (str_decode(d, f, e, to, f->size, err, errlen) != 0)
					return -1;
			} else if (!json_is_object(e)) {
				return bad(d, f, err, errlen, "an array of objects expected");
			} else {
				obj_init(f->sub, to);
				if (obj_decode(f->sub, e, to, NULL, err, errlen) != 0)
					return -1;
			}
		}
		return 0;
	}
	return -1;
}

/* Decode o into p (initialised by the caller), refusing unknown keys; skip
 * is the envelope's key ("cmd", "ok"), or NULL.  On failure p may hold
 * arrays: the caller frees it. */
static int
obj_decode(const struct mdef *d, const json_t *o, void *p, const char *skip, char *err,
    size_t errlen)
{
	bool seen[CTL_FIELDS_MAX];
	const char *key;
	json_t *v;
	size_t i;

	if (d->n > CTL_FIELDS_MAX) {
		seterr(err, errlen, "%s: too many fields", d->name);
		return -1;
	}
	memset(seen, 0, sizeof(seen));
	json_object_foreach((json_t *)o, key, v) {
		const struct fdef *f;
		void *base = p;

		if (skip != NULL && strcmp(key, skip) == 0)
			continue;
		if ((f = field_find(d, key, &base, &i)) == NULL) {
			seterr(err, errlen, "unknown key \"%.64s\" in %s", key, d->name);
			return -1;
		}
		if (json_is_null(v) && !(f->type == FT_STR && (f->flags & F_NULL)))
			continue;	/* null: as if missing */
		if (json_is_null(v)) {
			*(char *)AT(base, f->off) = '\0';
		} else if (field_decode(d, f, v, base, err, errlen) != 0) {
			return -1;
		}
		seen[i] = true;
	}
	for (i = 0; i < d->n; i++)
		if ((d->f[i].flags & F_REQ) && !seen[i]) {
			if (d->f[i].missing != NULL)
				seterr(err, errlen, "%s", d->f[i].missing);
			else
				seterr(err, errlen, "%s without \"%s\"", d->name, d->f[i].key);
			return -1;
		}
	return 0;
}

/* Decode a whole message: initialised, and freed again on failure. */
static int
msg_decode(const struct mdef *d, const json_t *o, void *p, const char *skip, char *err,
    size_t errlen)
{
	obj_init(d, p);
	if (!json_is_object(o)) {
		seterr(err, errlen, "%s: not an object", d->name);
		return -1;
	}
	if (obj_decode(d, o, p, skip, err, errlen) != 0) {
		obj_free(d, p);
		obj_init(d, p);
		return -1;
	}
	return 0;
}

/* {"ok": true, ...p's fields} */
static json_t *
reply_new(const struct mdef *d, const void *p)
{
	json_t *o = json_pack("{s:b}", K_OK, 1);

	if (o != NULL && obj_encode(d, p, o) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* ---- requests ---- */

void
ctl_request_init(struct ctl_request *rq, enum ctl_cmd cmd)
{
	memset(rq, 0, sizeof(*rq));
	rq->cmd = cmd;
	obj_init(&requests[cmd].def, &rq->u);
}

json_t *
ctl_request_encode(const struct ctl_request *rq)
{
	json_t *o;

	if ((unsigned)rq->cmd >= CTL_NCMDS)
		return NULL;
	o = json_pack("{s:s}", K_CMD, requests[rq->cmd].name);
	if (o != NULL && obj_encode(&requests[rq->cmd].def, &rq->u, o) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

const char *
ctl_request_name(const json_t *o)
{
	return json_string_value(json_object_get(o, K_CMD));
}

const char *
ctl_cmd_name(enum ctl_cmd cmd)
{
	return (unsigned)cmd < CTL_NCMDS ? requests[cmd].name : "?";
}

int
ctl_cmd_lookup(const char *name)
{
	int i;

	for (i = 0; name != NULL && i < CTL_NCMDS; i++)
		if (strcmp(requests[i].name, name) == 0)
			return i;
	return -1;
}

int
ctl_request_decode(const json_t *o, enum ctl_cmd cmd, struct ctl_request *rq, char *err,
    size_t errlen)
{
	if ((unsigned)cmd >= CTL_NCMDS) {
		seterr(err, errlen, "unknown command");
		return -1;
	}
	memset(rq, 0, sizeof(*rq));
	rq->cmd = cmd;
	return msg_decode(&requests[cmd].def, o, &rq->u, K_CMD, err, errlen);
}

void
ctl_migrate_resolve(const struct ctl_migrate_req *rq, const struct conf *c,
    struct ctl_migrate_settings *out)
{
	out->downtime_ms = rq->downtime_ms != CTL_UNSET ? (unsigned)rq->downtime_ms :
	    c->downtime_ms;
	out->max_rounds = rq->max_rounds != CTL_UNSET ? (unsigned)rq->max_rounds : c->max_rounds;
	out->bandwidth_mbit = rq->bandwidth_mbit != CTL_UNSET ? (unsigned)rq->bandwidth_mbit :
	    c->bandwidth_mbit;
	out->max_factor = rq->max_factor != CTL_UNSET ? rq->max_factor : c->max_factor;
	out->auto_converge = rq->auto_converge != CTL_UNSET ? rq->auto_converge != 0 :
	    c->auto_converge;
	out->compress = rq->compress[0] != '\0' ? compress_mode_parse(rq->compress) : c->compress;
	if (out->compress < 0)
		out->compress = c->compress;	/* the decoder let no other name through */
}

/* ---- replies ---- */

json_t *
ctl_reply_error(const char *fmt, ...)
{
	char buf[CTL_TEXT_MAX];
	va_list ap;
	size_t i;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	for (i = 0; buf[i]; i++)
		if ((unsigned char)buf[i] < ' ' || buf[i] == 0x7f)
			buf[i] = ' ';
	utf8_sanitize(buf);	/* the cut may split a character; jansson wants UTF-8 */
	return json_pack("{s:b, s:s}", K_OK, 0, K_ERROR, buf);
}

json_t *
ctl_reply_ok(void)
{
	return json_pack("{s:b}", K_OK, 1);
}

int
ctl_reply_status(const json_t *o, char *err, size_t errlen)
{
	json_t *ok = json_object_get(o, K_OK);

	if (errlen > 0)
		err[0] = '\0';
	if (!json_is_boolean(ok))
		return -1;
	if (json_is_true(ok))
		return 1;
	if (json_string_value(json_object_get(o, K_ERROR)) != NULL)
		strlcpy_x(err, json_string_value(json_object_get(o, K_ERROR)), errlen);
	return 0;
}

json_t *
ctl_job_encode(const struct ctl_job *j)
{
	return obj_new(&job_d, j);
}

json_t *
ctl_job_reply(const struct ctl_job *j)
{
	return reply_new(&jobrep_d, j);
}

int
ctl_job_decode(const json_t *o, struct ctl_job *j, char *err, size_t errlen)
{
	return msg_decode(&job_d, o, j, NULL, err, errlen);
}

int
ctl_job_reply_decode(const json_t *o, struct ctl_job *j, char *err, size_t errlen)
{
	return msg_decode(&jobrep_d, o, j, K_OK, err, errlen);
}

void
ctl_job_free(struct ctl_job *j)
{
	obj_free(&job_d, j);
}

json_t *
ctl_job_result_encode(const struct ctl_job *j)
{
	/* The headline, and the key each is printed under. */
	static const char *const head[][2] = {
		{ "result", "result" }, { "domain", "domain" }, { "mode", "mode" },
		{ "total_ms", "total_ms" }, { "downtime_ms", "downtime_ms" },
		{ "iteration", "iterations" }, { "bytes_sent", "bytes_sent" },
		{ "pages_sent", "pages_sent" }, { "memory_bytes", "memory_bytes" },
	};
	json_t *all = ctl_job_encode(j), *o = json_object();
	size_t i;

	if (all == NULL || o == NULL) {
		json_decref(all);
		json_decref(o);
		return NULL;
	}
	for (i = 0; i < sizeof(head) / sizeof(head[0]); i++) {
		json_t *v = json_object_get(all, head[i][0]);

		if (v != NULL)
			json_object_set(o, head[i][1], v);
	}
	json_object_update_missing(o, all);
	json_decref(all);
	return o;
}

json_t *
ctl_job_list_encode(const struct ctl_job_list *l)
{
	json_t *o = obj_new(&joblist_d, l), *a;

	a = json_incref(json_object_get(o, joblist_f[0].key));
	json_decref(o);
	return a;
}

json_t *
ctl_job_list_reply(const struct ctl_job_list *l)
{
	return reply_new(&joblist_d, l);
}

int
ctl_job_list_reply_decode(const json_t *o, struct ctl_job_list *l, char *err, size_t errlen)
{
	return msg_decode(&joblist_d, o, l, K_OK, err, errlen);
}

void
ctl_job_list_free(struct ctl_job_list *l)
{
	obj_free(&joblist_d, l);
}

json_t *
ctl_domain_list_encode(const struct ctl_domain_list *l)
{
	json_t *o = obj_new(&domlist_d, l), *a;

	a = json_incref(json_object_get(o, domlist_f[0].key));
	json_decref(o);
	return a;
}

json_t *
ctl_domain_list_reply(const struct ctl_domain_list *l)
{
	return reply_new(&domlist_d, l);
}

int
ctl_domain_list_reply_decode(const json_t *o, struct ctl_domain_list *l, char *err,
    size_t errlen)
{
	return msg_decode(&domlist_d, o, l, K_OK, err, errlen);
}

void
ctl_domain_list_free(struct ctl_domain_list *l)
{
	obj_free(&domlist_d, l);
}

json_t *
ctl_status_encode(const struct ctl_status *s)
{
	return obj_new(&status_d, s);
}

json_t *
ctl_status_reply(const struct ctl_status *s)
{
	return reply_new(&status_d, s);
}

int
ctl_status_reply_decode(const json_t *o, struct ctl_status *s, char *err, size_t errlen)
{
	return msg_decode(&status_d, o, s, K_OK, err, errlen);
}

json_t *
ctl_pin_reply(const struct ctl_pin_reply *p)
{
	return reply_new(&pinrep_d, p);
}

int
ctl_pin_reply_decode(const json_t *o, struct ctl_pin_reply *p, char *err, size_t errlen)
{
	return msg_decode(&pinrep_d, o, p, K_OK, err, errlen);
}

json_t *
ctl_maint_status_encode(const struct ctl_maint_status *m)
{
	return obj_new(&mstatus_d, m);
}

json_t *
ctl_maint_status_reply(const struct ctl_maint_status *m)
{
	return reply_new(&mstatus_d, m);
}

int
ctl_maint_status_reply_decode(const json_t *o, struct ctl_maint_status *m, char *err,
    size_t errlen)
{
	return msg_decode(&mstatus_d, o, m, K_OK, err, errlen);
}

void
ctl_maint_status_free(struct ctl_maint_status *m)
{
	obj_free(&mstatus_d, m);
}

json_t *
ctl_evac_encode(const struct ctl_evac *e)
{
	return obj_new(&evac_d, e);
}

void
ctl_evac_free(struct ctl_evac *e)
{
	obj_free(&evac_d, e);
}

json_t *
ctl_balance_encode(const struct ctl_balance *b)
{
	return obj_new(&balance_d, b);
}

json_t *
ctl_balance_reply(const struct ctl_balance *b)
{
	return reply_new(&balrep_d, b);
}

int
ctl_balance_reply_decode(const json_t *o, struct ctl_balance *b, char *err, size_t errlen)
{
	return msg_decode(&balrep_d, o, b, K_OK, err, errlen);
}

void
ctl_balance_free(struct ctl_balance *b)
{
	obj_free(&balance_d, b);
}

/* ---- events ---- */

json_t *
ctl_event_encode(enum ctl_event_kind kind, bool done, const void *payload)
{
	json_t *o;

	if ((unsigned)kind >= sizeof(event_kinds) / sizeof(event_kinds[0]))
		return NULL;
	o = json_pack("{s:s}", K_EVENT, event_names[done]);
	if (o != NULL && put(o, event_kinds[kind].key, obj_new(event_kinds[kind].def,
	    payload)) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int
ctl_event_decode(const json_t *o, enum ctl_event_kind kind, bool *done, void *payload,
    char *err, size_t errlen)
{
	const struct mdef *d;
	const char *ev, *key;
	json_t *v;

	if ((unsigned)kind >= sizeof(event_kinds) / sizeof(event_kinds[0]))
		return -1;
	d = event_kinds[kind].def;
	obj_init(d, payload);
	ev = json_string_value(json_object_get(o, K_EVENT));
	if (ev == NULL || (strcmp(ev, event_names[0]) != 0 && strcmp(ev, event_names[1]) != 0)) {
		seterr(err, errlen, "an event without \"%s\": progress or done", K_EVENT);
		return -1;
	}
	json_object_foreach((json_t *)o, key, v)
		if (strcmp(key, K_EVENT) != 0 && strcmp(key, event_kinds[kind].key) != 0) {
			seterr(err, errlen, "unknown key \"%.64s\" in a %s event", key,
			    event_kinds[kind].key);
			return -1;
		}
	*done = strcmp(ev, event_names[1]) == 0;
	if (!json_is_object(v = json_object_get(o, event_kinds[kind].key))) {
		seterr(err, errlen, "an event without \"%s\"", event_kinds[kind].key);
		return -1;
	}
	return msg_decode(d, v, payload, NULL, err, errlen);
}
